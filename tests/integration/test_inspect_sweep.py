"""`run.py inspect OUT/sweep.db ...`: a sweep database is told from an event database by its
tables; it takes runs, summary (the aggregates `sweep-report` prints), sql (read-only, as
on an event database) and datasette, and refuses the sub-commands that need a run's event
database in one line.

The sweep is written the way `sim.sweep.engine.run_sweep` writes it, without Dask: each
task of the plan run by `sim.sweep.task.run_task` and its row written by
`sim.sweep.store.write_row` (two scenario files, seeds 1-3 and 1-2, two grid values; the
first file's event databases kept, the second's not, and every run of the second fails an
expectation).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.read.datasette import database_name
from sim.read.metrics import METRIC_HELP, METRICS
from sim.sweep.report import NOT_COMPLETED, build_report
from sim.sweep.spec import SweepSpec, parse_grid, parse_seeds, plan
from sim.sweep.store import (
    HEAD,
    LOST,
    RUNS_DIR,
    SWEEPS,
    TABLE,
    finish_sweep,
    open_store,
    read_table,
    start_sweep,
    write_row,
)
from sim.sweep.table_docs import RUN_COLUMN_DOCS, SWEEPS_COLUMN_DOCS
from sim.sweep.task import base_row, run_task
from sim.sweep.view import report_renderable

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "data" / "run" / "small.yaml"
GRID = "max_total_positions=4,6"
NEVER_OPEN = "expect:\n  - never: {action: open, asset: '*'}\n"
EVENT_SUBCOMMANDS = [
    ["timeline", "AAA"],
    ["why", "AAA", "3"],
    ["blocked"],
    ["protections", "AAA"],
    ["compare", "a", "b"],
    ["export"],
]


def _sweep_into(out: Path, path: Path, seeds: str, *, keep: bool) -> None:
    """Run every task of `path` x seeds x GRID and write its row, as the engine does."""
    spec = SweepSpec(
        paths=(str(path),), seeds=parse_seeds(seeds), grid=parse_grid([GRID]), preset=None, sets={}
    )
    tasks = plan(spec, keep=str(out / RUNS_DIR) if keep else None)
    (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    with open_store(out, {name: values[0] for name, values in spec.grid.items()}) as db:
        sweep_id = start_sweep(db, spec.as_dict(), len(tasks), 0)
        for task in tasks:
            assert write_row(db, run_task(task))
        finish_sweep(db, sweep_id, len(tasks), "completed")


@pytest.fixture(scope="module")
def sweep_out(tmp_path_factory) -> Path:
    """OUT of a 10-run sweep: `small` (seeds 1-3, kept) and `strict` (seeds 1-2, failing)."""
    folder = tmp_path_factory.mktemp("sweep-inspect")
    strict = folder / "strict.yaml"
    strict.write_text(SMALL.read_text().replace("name: small", "name: strict") + NEVER_OPEN)
    out = folder / "out"
    _sweep_into(out, SMALL, "1-3", keep=True)
    _sweep_into(out, strict, "1-2", keep=False)
    return out


def inspect(*argv: str | Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run.main(["inspect", *map(str, argv)], console=Console(file=out, width=240))
    return code, out.getvalue()


def inspect_json(*argv: str | Path) -> dict:
    code, out = inspect(*argv, "--json")
    assert code == 0, out
    return json.loads(out)


def rendered(renderable) -> str:
    out = io.StringIO()
    Console(file=out, width=240).print(renderable)
    return out.getvalue()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- summary and runs ---------------------------------------------------------------------


def test_summary_when_sweep_db_then_the_tables_sweep_report_prints(sweep_out):
    code, out = inspect(sweep_out / "sweep.db", "summary")
    assert code == 0, out
    assert out.startswith(
        f"Sweep {sweep_out / 'sweep.db'}: 10 runs (4 failed, 6 passed); grid: max_total_positions"
    )
    tables = rendered(report_renderable(build_report(read_table(sweep_out))))
    assert "Checks that failed" in tables and "Sensitivity" in tables
    assert tables in out
    assert f"replay a run that failed: python run.py {sweep_out.parent / 'strict.yaml'}" in out


def test_summary_when_json_then_the_sweep_report_data_and_replay_line(sweep_out):
    data = inspect_json(sweep_out / "sweep.db", "summary")
    report = build_report(read_table(sweep_out))
    assert {k: v for k, v in data.items() if k != "replay"} == json.loads(
        json.dumps(report.as_dict())
    )
    assert data["outcomes"] == {"failed": 4, "passed": 6}
    strict = [f for f in data["failures"] if f["scenario"] == "strict"]
    assert sorted((f["max_total_positions"], f["seeds"]) for f in strict) == [
        (4, [1, 2]),
        (6, [1, 2]),
    ]
    assert data["replay"].endswith("--seed 1 --set max_total_positions=4")


def test_summary_when_run_given_on_sweep_db_then_exit_2_pointing_at_runs(sweep_out):
    code, out = inspect(sweep_out / "sweep.db", "summary", "--run", "small-s1-001")
    assert code == 2
    assert "is a sweep database; its summary covers every run" in out
    assert len(out.strip().splitlines()) == 1


def test_runs_when_sweep_db_then_each_run_with_its_kept_db_or_its_replay(sweep_out):
    data = inspect_json(sweep_out / "sweep.db", "runs")
    assert data["params"] == ["max_total_positions"]
    runs = data["runs"]
    assert [(r["scenario"], r["max_total_positions"], r["seed"]) for r in runs] == [
        (name, point, seed)
        for name, seeds in (("small", (1, 2, 3)), ("strict", (1, 2)))
        for point in (4, 6)
        for seed in seeds
    ]
    for r in runs:
        if r["scenario"] == "small":
            assert r["outcome"] == "passed" and r["failed_checks"] == []
            summary = inspect_json(r["event_db"], "summary")
            assert (summary["seed"], summary["total_return"]) == (r["seed"], r["total_return"])
        else:
            assert (r["outcome"], r["exit_code"], r["event_db"]) == ("failed", 1, None)
            assert r["failed_checks"] and "never open" in r["failed_checks"][0]
            assert r["replay"] == (
                f"python run.py {sweep_out.parent / 'strict.yaml'} --seed {r['seed']}"
                f" --set max_total_positions={r['max_total_positions']}"
            )


def test_runs_when_rendered_then_kept_db_paths_and_replay_commands_shown(sweep_out):
    code, out = inspect(sweep_out / "sweep.db", "runs")
    assert code == 0, out
    assert "Runs of the sweep (10)" in out
    assert out.count(str(sweep_out / RUNS_DIR / "small-s")) == 6
    assert out.count("python run.py") == 4


# --- sql ------------------------------------------------------------------------------------


def test_sql_when_sweep_db_then_rows_of_the_sweep_table(sweep_out):
    query = f"SELECT scenario, outcome, COUNT(*) AS n FROM {TABLE} GROUP BY 1, 2 ORDER BY 1"
    data = inspect_json(sweep_out / "sweep.db", "sql", query)
    assert data["rows"] == [["small", "passed", 6], ["strict", "failed", 4]]


def test_sql_when_limit_on_sweep_db_then_first_rows_shown_and_rest_counted(sweep_out):
    code, out = inspect(sweep_out / "sweep.db", "sql", f"SELECT seed FROM {TABLE}", "--limit", "3")
    assert code == 0, out
    assert "10 row(s), first 3 shown; 7 more rows not shown (--limit)" in out


def test_sql_when_query_never_ends_on_sweep_db_then_stopped_at_timeout(sweep_out):
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT MAX(i) FROM n"
    code, out = inspect(sweep_out / "sweep.db", "sql", endless, "--timeout", "0.2")
    assert code == 2
    assert out.strip().startswith("inspect sql: stopped after 0.2 s (--timeout)")


@pytest.mark.parametrize(
    "statement",
    [
        f"DELETE FROM {TABLE}",
        f"UPDATE {TABLE} SET outcome = 'passed'",
        f"DROP TABLE {SWEEPS}",
        "ATTACH DATABASE 'other.db' AS other",
        "PRAGMA journal_mode = DELETE",
    ],
)
def test_sql_when_write_attempted_on_sweep_db_then_refused_and_file_unchanged(sweep_out, statement):
    before = digest(sweep_out / "sweep.db")
    code, out = inspect(sweep_out / "sweep.db", "sql", statement)
    assert code == 2
    assert out.startswith("inspect sql is read-only: ")
    assert digest(sweep_out / "sweep.db") == before
    assert not (sweep_out / "other.db").exists()


# --- datasette --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep_metadata(sweep_out) -> dict:
    """`inspect OUT/sweep.db datasette`, its metadata file read back."""
    code, out = inspect(sweep_out / "sweep.db", "datasette")
    assert code == 0, out
    meta = sweep_out / "sweep.datasette.json"
    assert f"datasette {sweep_out / 'sweep.db'} --metadata {meta}" in out
    return json.loads(meta.read_text())


def test_datasette_when_sweep_db_then_every_column_described(sweep_metadata, sweep_out):
    tables = sweep_metadata["databases"]["sweep"]["tables"]
    with sqlite3.connect(sweep_out / "sweep.db") as conn:
        for table in (TABLE, SWEEPS):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            assert list(tables[table]["columns"]) == columns
            assert all(tables[table]["columns"].values()), table
    described = tables[TABLE]["columns"]
    assert described["max_total_positions"].startswith("grid parameter")
    assert METRIC_HELP["total_return"] in described["total_return"]
    assert described["seed"] == RUN_COLUMN_DOCS["seed"]


def test_datasette_when_canned_queries_run_then_failed_runs_with_their_seeds(
    sweep_metadata, sweep_out
):
    queries = sweep_metadata["databases"]["sweep"]["queries"]
    with sqlite3.connect(sweep_out / "sweep.db") as conn:
        conn.row_factory = sqlite3.Row
        failed = [dict(r) for r in conn.execute(queries["failed_runs"]["sql"])]
        checks = [dict(r) for r in conn.execute(queries["check_failures"]["sql"])]
    assert [(r["scenario"], r["max_total_positions"], r["seed"]) for r in failed] == [
        ("strict", 4, 1), ("strict", 4, 2), ("strict", 6, 1), ("strict", 6, 2)
    ]  # fmt: skip
    assert all(r["db"] is None and r["outcome"] == "failed" for r in failed)
    assert [(r["max_total_positions"], r["failures"], r["seeds"]) for r in checks] == [
        (4, 2, "1,2"),
        (6, 2, "1,2"),
    ]
    assert all("never open" in r["check_label"] for r in checks)


def test_datasette_when_served_then_canned_queries_answer_like_sqlite(sweep_metadata, sweep_out):
    datasette_app = pytest.importorskip(
        "datasette.app", reason="datasette is not installed (a test extra: pip install -e .[test])"
    )
    db = sweep_out / "sweep.db"
    name = database_name(db)

    async def serve() -> dict[str, int]:
        ds = datasette_app.Datasette([str(db)], metadata=sweep_metadata)
        counts = {}
        for query in ("failed_runs", "check_failures"):
            response = await ds.client.get(f"/{name}/{query}.json", params={"_shape": "objects"})
            assert response.status_code == 200, response.text
            counts[query] = len(response.json()["rows"])
        return counts

    assert asyncio.run(serve()) == {"failed_runs": 4, "check_failures": 2}


def test_column_docs_when_compared_with_the_store_then_every_fixed_column_described():
    from sim.sweep.store import TAIL

    fixed = [c for c in (*HEAD, *TAIL) if c not in METRICS]
    assert list(RUN_COLUMN_DOCS) == fixed
    assert set(SWEEPS_COLUMN_DOCS) == {
        "id", "started_at", "finished_at", "arguments", "planned", "skipped", "ran", "status"
    }  # fmt: skip


# --- refusals and detection -------------------------------------------------------------


@pytest.mark.parametrize("argv", EVENT_SUBCOMMANDS, ids=lambda a: a[0])
def test_inspect_when_event_subcommand_on_sweep_db_then_one_line_exit_2(sweep_out, argv):
    before = sorted(p.name for p in sweep_out.iterdir())
    code, out = inspect(sweep_out / "sweep.db", *argv)
    assert code == 2
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out
    assert out.startswith(f"inspect {argv[0]}: {sweep_out / 'sweep.db'} is a sweep database")
    assert "on it inspect takes runs, summary, sql, datasette." in out
    assert f"{sweep_out / RUNS_DIR}/<scenario>-s<seed>-<key>.db" in out and "--keep-dbs" in out
    assert "python run.py SCENARIO --seed S" in out
    assert sorted(p.name for p in sweep_out.iterdir()) == before


def test_compare_when_second_db_is_a_sweep_db_then_one_line_exit_2(sweep_out):
    kept = inspect_json(sweep_out / "sweep.db", "runs")["runs"][0]["event_db"]
    run_id = inspect_json(kept, "runs")[0]["run_id"]
    code, out = inspect(kept, "compare", run_id, run_id, "--db-b", sweep_out / "sweep.db")
    assert code == 2
    assert out.startswith(f"inspect compare: {sweep_out / 'sweep.db'} is a sweep database")
    assert len(out.strip().splitlines()) == 1


def test_inspect_when_names_swapped_then_told_apart_by_tables_not_name(sweep_out, tmp_path):
    renamed = tmp_path / "results.db"
    shutil.copy(sweep_out / "sweep.db", renamed)
    assert inspect_json(renamed, "summary")["runs"] == 10
    event = tmp_path / "sweep.db"
    kept = inspect_json(sweep_out / "sweep.db", "runs")["runs"][0]["event_db"]
    shutil.copy(kept, event)
    runs = inspect_json(event, "runs")
    assert len(runs) == 1 and runs[0]["scenario"] == "small"


def test_inspect_when_only_the_sweeps_table_then_todays_not_an_event_db_message(tmp_path):
    other = tmp_path / "sweep.db"
    with sqlite3.connect(other) as conn:
        conn.execute(f"CREATE TABLE {SWEEPS} (id INTEGER)")
    code, out = inspect(other, "summary")
    assert code == 2
    assert out.strip() == (
        f"{other}: not a Bulwark event database (no table runs, messages, snapshots, equity)"
    )


def test_summary_when_sweep_table_has_no_row_then_exit_2(tmp_path):
    with open_store(tmp_path, {"max_total_positions": 4}):
        pass
    code, out = inspect(tmp_path / "sweep.db", "summary")
    assert code == 2
    assert out.strip() == f"{tmp_path / 'sweep.db'}: the sweep table holds no run yet"


def test_runs_when_a_task_was_lost_then_listed_with_no_exit_code_and_its_replay(
    sweep_out, tmp_path
):
    out = tmp_path / "out"
    shutil.copytree(sweep_out, out)
    spec = SweepSpec(paths=(str(SMALL),), seeds=(9,), grid=parse_grid([GRID]), preset=None, sets={})
    task = plan(spec)[0]
    lost = {"exit_code": None, "outcome": LOST, "error": "KilledWorker(...)", "worker": None}
    with open_store(out, {"max_total_positions": 4}) as db:
        assert write_row(db, {**base_row(task), **lost})
    row = next(r for r in inspect_json(out / "sweep.db", "runs")["runs"] if r["seed"] == 9)
    assert (row["outcome"], row["exit_code"], row["total_return"], row["event_db"]) == (
        LOST,
        None,
        None,
        None,
    )
    assert row["replay"].endswith("--seed 9 --set max_total_positions=4")
    failures = inspect_json(out / "sweep.db", "summary")["failures"]
    assert [(f["check"], f["seeds"]) for f in failures if f["kind"] == LOST] == [
        (NOT_COMPLETED, [9])
    ]
