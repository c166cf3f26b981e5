"""`run.py sweep`, `sweep-report` and `sim.api.sweep` on a shared LocalCluster: rows equal
separate runs, resumption, failures recorded, bad arguments refused."""

import contextlib
import json
import shutil
import sqlite3
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

import run
from sim.api import load_run, sweep
from sim.run.dbfile import open_readonly
from sim.sweep.report import NOT_COMPLETED, build_report
from sim.sweep.spec import SweepSpec, parse_grid, parse_seeds, plan
from sim.sweep.store import read_table
from sim.sweep.task import message_digest
from tests.integration.dask_cluster import local_client

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "run"
SMALL = DATA / "small.yaml"
GRID = "max_total_positions=4,6"


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of 2 single-threaded worker processes for the module's sweeps."""
    with local_client() as client:
        yield client


def _main(*argv):
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=200))
    return code, out.getvalue()


def _sweep(client, *argv):
    return _main("sweep", *argv, "--scheduler", client.scheduler.address)


@pytest.fixture(scope="module")
def small_sweep(cluster, tmp_path_factory):
    """`run.py sweep small.yaml --seeds 1-2 --grid max_total_positions=3,5 --keep-dbs`."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    code, text = _sweep(
        cluster, SMALL, "--seeds", "1-2", "--grid", GRID, "--out", out, "--keep-dbs"
    )
    return code, text, out


def test_sweep_when_small_grid_then_rows_equal_separate_runs(small_sweep, tmp_path):
    code, text, out = small_sweep
    assert code == 0, text
    table = read_table(out)
    assert len(table) == 4 and set(table["outcome"]) == {"passed"}
    assert sorted(zip(table["seed"], table["max_total_positions"], strict=True)) == [
        (1, 4), (1, 6), (2, 4), (2, 6)
    ]  # fmt: skip
    assert pd.read_parquet(out / "sweep.parquet").equals(table)
    for row in table.to_dict("records"):
        db = tmp_path / f"s{row['seed']}-{row['max_total_positions']}.db"
        setting = f"max_total_positions={row['max_total_positions']}"
        alone, _ = _main(SMALL, "--seed", row["seed"], "--set", setting, "--db", db, "--quiet")
        result = load_run(db)
        assert row["exit_code"] == alone == result.exit_code
        for name, value in result.metrics.items():
            assert (None if pd.isna(row[name]) else row[name]) == value, name
        with contextlib.closing(open_readonly(db)) as con:
            assert (row["messages"], row["messages_sha256"]) == message_digest(con, result.run_id)
        assert json.loads(row["checks"]) == [
            {"label": c.label, "kind": c.kind, "passed": c.passed} for c in result.checks
        ]
        kept = load_run(out / row["db"])
        assert kept.status == "completed" and kept.metrics == result.metrics


def test_sweep_when_run_again_then_no_new_run(small_sweep, cluster):
    _, _, out = small_sweep
    before = read_table(out)
    code, text = _sweep(cluster, SMALL, "--seeds", "1-2", "--grid", GRID, "--out", out)
    assert code == 0, text
    assert "4 runs planned: 0 ran, 4 already in the table" in text
    after = read_table(out)
    assert after.equals(before)
    con = sqlite3.connect(out / "sweep.db")
    assert con.execute("SELECT planned, skipped, ran FROM sweeps ORDER BY id").fetchall() == [
        (4, 0, 4),
        (4, 4, 0),
    ]


def test_sweep_when_seeds_extended_then_only_new_seeds_run(small_sweep, cluster, tmp_path):
    _, _, first = small_sweep
    out = tmp_path / "out"
    shutil.copytree(first, out)
    code, text = _sweep(cluster, SMALL, "--seeds", "1-3", "--grid", GRID, "--out", out)
    assert code == 0, text
    assert "6 runs planned: 2 ran, 4 already in the table" in text
    assert sorted(read_table(out)["seed"]) == [1, 1, 2, 2, 3, 3]


def test_sweep_when_a_run_crashes_or_fails_then_recorded_and_the_rest_go_on(cluster, tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in ("crashes.yaml", "crashing_rule.py", "small.yaml"):
        shutil.copy(DATA / name, scenarios / name)
    strict = SMALL.read_text() + "expect:\n  - never: {action: open, asset: '*'}\n"
    (scenarios / "strict.yaml").write_text(strict.replace("name: small", "name: strict"))
    out = tmp_path / "out"
    code, text = _sweep(cluster, scenarios, "--seeds", "4,5", "--out", out)
    assert code == 1, text
    table = read_table(out).set_index(["scenario", "seed"])
    assert list(table.loc["crashes", "outcome"]) == ["crashed", "crashed"]
    assert all("boom on step 3" in e for e in table.loc["crashes", "error"])
    assert list(table.loc["small", "outcome"]) == ["passed", "passed"]
    assert list(table.loc["strict", "exit_code"]) == [1, 1]
    failures = build_report(read_table(out)).failures.set_index("scenario")
    assert failures.loc["crashes", "check"] == NOT_COMPLETED
    assert failures.loc["crashes", "seeds"] == [4, 5]
    assert failures.loc["strict", "probability"] == 1.0
    assert "never open" in failures.loc["strict", "check"]
    assert "replay a run that did not complete: python run.py" in text
    assert f"{scenarios / 'crashes.yaml'} --seed 4" in text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--grid", "max_total_positions=4,x"], "--grid max_total_positions=4,x: "),
        (["--grid", "no_such_param=1,2"], "--grid no_such_param=1,2: "),
        (["--grid", "max_total_positions"], "--grid max_total_positions: expected NAME=V1,V2"),
        (["--grid", "max_total_positions=4,,5"], "--grid max_total_positions=4,,5: "),
        (["--grid", "total_return=1"], "--grid total_return=1: "),
        (["--seeds", "5-1"], "--seeds 5-1: range 5-1 ends before it starts"),
        (["--seeds", "a"], "--seeds a: "),
        (["--workers", "0"], "--workers: must be in [1, 1024], got 0"),
    ],
)
def test_sweep_when_bad_argument_then_exit_2_one_line_nothing_written(tmp_path, args, said):
    out = tmp_path / "out"
    argv = ["sweep", SMALL, "--seeds", "1-2", "--out", out, *args]
    code, text = _main(*argv)
    assert code == 2
    assert said in text and len(text.strip().splitlines()) == 1, text
    assert not out.exists()


def test_sweep_when_grid_point_refused_by_registry_then_exit_2_naming_the_point(tmp_path):
    out = tmp_path / "out"
    argv = ["sweep", SMALL, "--seeds", "1", "--grid", "max_total_positions=5,3", "--out", out]
    code, text = _main(*argv)
    assert code == 2, text
    assert (
        text.startswith("--grid point max_total_positions=3: ") and "<= max_total_positions" in text
    )
    assert not out.exists()


def test_sweep_report_when_table_exists_then_aggregates_printed_and_files_rewritten(
    small_sweep, capsys
):
    _, _, out = small_sweep
    (out / "sweep.parquet").unlink()
    code, _ = _main("sweep-report", out, "--json")
    assert code == 0
    data = json.loads(capsys.readouterr().out)["report"]
    assert data["runs"] == data["outcomes"]["passed"] == len(read_table(out))
    points = {d["max_total_positions"]: d for d in data["distributions"]}
    assert set(points) == {4, 6} and points[4]["runs"] == 2
    assert {s["metric"] for s in data["sensitivity"]} >= {"total_return", "max_drawdown"}
    assert (out / "sweep.parquet").is_file()
    page = (out / "sweep.html").read_text()
    assert page.count("<svg") == 4 and 'data-charts="4"' in page


def test_sweep_report_when_no_table_then_exit_2(tmp_path):
    code, text = _main("sweep-report", tmp_path)
    assert code == 2 and "no sweep table" in text


def test_api_sweep_when_called_then_dataframe_in_plan_order_like_the_command(small_sweep, cluster):
    _, _, out = small_sweep
    frame = sweep(SMALL, seeds=[1, 2], grid={"max_total_positions": [4, 6]}, scheduler=cluster)
    assert list(zip(frame["max_total_positions"], frame["seed"], strict=True)) == [
        (4, 1), (4, 2), (6, 1), (6, 2)
    ]  # fmt: skip
    table = read_table(out).set_index("key")
    for row in frame.to_dict("records"):
        assert row["messages_sha256"] == table.loc[row["key"], "messages_sha256"]
        assert row["total_return"] == table.loc[row["key"], "total_return"]


def test_plan_when_same_arguments_then_same_keys_and_a_changed_value_changes_the_key():
    spec = SweepSpec((str(SMALL),), parse_seeds("1-2"), parse_grid([GRID]))
    keys = [t.key for t in plan(spec)]
    assert keys == [t.key for t in plan(spec)] and len(set(keys)) == 4
    other = SweepSpec((str(SMALL),), parse_seeds("1-2"), parse_grid(["max_total_positions=4,7"]))
    assert [t.key for t in plan(other)][:2] == keys[:2]
    assert not {t.key for t in plan(other)[2:]} & set(keys)


@pytest.mark.slow  # the client's connect timeout, about 5 s
def test_sweep_when_scheduler_unreachable_then_exit_2_one_line_nothing_written(tmp_path):
    import socket

    import dask
    import distributed  # noqa: F401  (its defaults first: leaving `config.set` restores
    # only the key it set, instead of removing a `distributed` section it saw absent)

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    out = tmp_path / "out"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, text = _main(
            "sweep", SMALL, "--seeds", "1", "--out", out, "--scheduler", f"tcp://127.0.0.1:{port}"
        )
    assert code == 2 and text.startswith(f"--scheduler tcp://127.0.0.1:{port}: cannot reach it")
    assert len(text.strip().splitlines()) == 1 and not out.exists()
