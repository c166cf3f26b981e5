"""`run.py mutate --db FILE`: the report in SQLite (`sim.read.mutation_db`), read back by
SQL and checked against the JSON report; one transaction, nothing written when stopped;
the progress bar only on a terminal without --json."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from io import StringIO
from pathlib import Path

import attrs
import pytest
from rich.console import Console

import run
from domain.protections.mutants import BUILTIN_MUTANTS
from sim.read import mutation_db
from sim.read.mutation import MutationReport, RunOutcome

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"
HOLDING = LIBRARY / "holding-period-minimum.yaml"
YOUNG_CLOSE = LIBRARY / "whipsaw-young-close.yaml"
RULE = "holding_period.minimum"
TABLES = ("mutation_reports", "mutants", "mutation_runs")


def _json_run(*argv: object, console: Console | None = None) -> tuple[int, dict]:
    out = StringIO()
    with contextlib.redirect_stdout(out):
        code = run.main(
            ["mutate", *map(str, argv), "--json"], console=console or Console(file=StringIO())
        )
    return code, json.loads(out.getvalue())


def _rows(db: Path, sql: str) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_scenarios(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """`mutate HOLDING YOUNG_CLOSE --rule holding_period.minimum --json --db NEW`, in a
    folder holding both files."""
    folder = tmp_path_factory.mktemp("lib")
    for path in (HOLDING, YOUNG_CLOSE):
        (folder / path.name).write_text(path.read_text())
    db = tmp_path_factory.mktemp("out") / "sub" / "mutation.db"
    code, report = _json_run(folder, "--rule", RULE, "--jobs", "2", "--db", db)
    assert code == 0
    return db, report


def test_mutate_cli_when_db_given_then_report_row_matches_the_json(two_scenarios):
    db, report = two_scenarios

    [row] = _rows(db, "SELECT * FROM mutation_reports")

    assert report["db"] == {"path": str(db), "report_id": row["id"]} and row["id"] == 1
    assert (row["scenarios"], row["mutants"], row["killed"]) == (
        len(report["scenarios"]),
        report["total"],
        report["killed"],
    )
    assert row["runs"] == len(report["runs"]) == 2 + 2 * 2
    assert row["score"] == report["killed"] / report["total"] == 1.0
    assert (row["rule"], row["seed"], row["preset"], row["jobs"]) == (RULE, None, None, 2)
    assert (json.loads(row["overrides"]), row["exit_code"]) == ({}, 0)
    assert row["started_at"] == report["started_at"] <= row["finished_at"]


def test_mutate_cli_when_db_given_then_mutants_and_runs_rows_match_the_json(two_scenarios):
    db, report = two_scenarios

    mutants = _rows(db, "SELECT * FROM mutants ORDER BY rowid")
    runs = _rows(db, "SELECT * FROM mutation_runs ORDER BY seq")

    assert [
        (m["mutant_id"], m["rule"], m["description"], m["killed"], m["killed_by"]) for m in mutants
    ] == [
        (m["id"], m["rule"], m["description"], int(bool(m["killed_by"])), len(m["killed_by"]))
        for m in report["mutants"]
    ]
    assert {m["protection"] for m in mutants} == {"holding_period"}
    assert [m["runs"] for m in mutants] == [2, 2]
    assert [
        (r["scenario_path"], r["mutant_id"], r["result"], r["exit_code"], r["killed"]) for r in runs
    ] == [
        (r["path"], r["mutant"], r["result"], r["exit_code"], r["killed"]) for r in report["runs"]
    ]
    assert [json.loads(r["failed_checks"]) for r in runs] == [
        r["failed_checks"] for r in report["runs"]
    ]


def test_mutate_cli_when_db_given_then_killers_by_sql_are_the_json_killed_by(two_scenarios):
    db, report = two_scenarios

    killers = _rows(
        db,
        "SELECT mutant_id, group_concat(scenario_path, '|') AS paths FROM mutation_runs"
        " WHERE report_id = 1 AND killed = 1 GROUP BY mutant_id",
    )
    clean = _rows(db, "SELECT killed FROM mutation_runs WHERE mutant_id IS NULL")

    assert {k["mutant_id"]: k["paths"].split("|") for k in killers} == {
        m["id"]: m["killed_by"] for m in report["mutants"] if m["killed_by"]
    }
    assert clean == [{"killed": None}, {"killed": None}]


def test_mutate_cli_when_db_is_an_event_db_then_reports_added_beside_its_runs(tmp_path):
    db = tmp_path / "runs.db"
    assert run.main([str(HOLDING), "--db", str(db), "--quiet"], Console(file=StringIO())) == 0
    out = StringIO()

    first = run.main(["mutate", str(HOLDING), "--rule", RULE, "--db", str(db)], Console(file=out))
    second, report = _json_run(HOLDING, "--rule", RULE, "--db", db)

    assert (first, second) == (0, 0)
    assert out.getvalue().splitlines()[-1] == (
        f"report 1 written to {db} (tables mutation_reports, mutants, mutation_runs)"
    )
    assert report["db"]["report_id"] == 2
    assert [r["id"] for r in _rows(db, "SELECT id FROM mutation_reports")] == [1, 2]
    assert len(_rows(db, "SELECT run_id FROM runs")) == 1
    assert not list(tmp_path.glob("runs.db-*"))  # no -wal or -shm left behind


def test_mutate_cli_when_db_table_lacks_columns_then_exit_2_and_nothing_runs(tmp_path):
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE mutants (name TEXT)")
    con.close()
    out = StringIO()

    code = run.main(["mutate", str(HOLDING), "--db", str(db)], Console(file=out, width=300))

    assert code == 2
    assert out.getvalue().strip() == (
        f"run.py: --db {db}: has a table 'mutants' without the columns description, killed,"
        " killed_by, mutant_id, protection, report_id, rule, runs"
    )
    assert _rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'") == [{"name": "mutants"}]


def test_mutate_cli_when_db_not_sqlite_then_exit_2_naming_it(tmp_path):
    db = tmp_path / "notes.db"
    db.write_text("not a database\n")
    out = StringIO()

    code = run.main(["mutate", str(HOLDING), "--db", str(db)], Console(file=out, width=300))

    assert code == 2
    assert out.getvalue().strip() == f"run.py: --db {db}: is not an SQLite database"


def _stopped_report() -> MutationReport:
    mutant = next(m for m in BUILTIN_MUTANTS if m.rule == RULE)
    return MutationReport(
        (mutant,),
        (str(HOLDING),),
        (
            RunOutcome(str(HOLDING), None, "passed", 0),
            RunOutcome(str(HOLDING), mutant.id, "interrupted", 130),
        ),
    )


def test_write_report_when_report_stopped_then_nothing_written(tmp_path):
    db = tmp_path / "m.db"

    assert mutation_db.write_report(db, _stopped_report()) is None
    assert not db.exists()


def test_write_report_when_a_write_fails_then_no_row_of_the_report_left(tmp_path, monkeypatch):
    db = tmp_path / "m.db"
    clean, stopped = _stopped_report().runs
    done = attrs.evolve(_stopped_report(), runs=(clean, attrs.evolve(stopped, result="failed")))

    def broken(*_args: object) -> list[dict]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(mutation_db, "run_rows", broken)
    with pytest.raises(sqlite3.OperationalError):
        mutation_db.write_report(db, done)

    assert {
        t: _rows(db, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in TABLES
    } == dict.fromkeys(TABLES, 0)


def test_mutate_cli_when_terminal_and_json_then_no_progress_bar():
    out = StringIO()
    console = Console(file=out, width=200, force_terminal=True)

    code, report = _json_run(HOLDING, "--rule", RULE, console=console)

    assert (code, report["killed"]) == (0, 2)
    assert out.getvalue() == ""


def test_mutate_cli_when_not_a_terminal_then_no_progress_bar():
    out = StringIO()

    code = run.main(["mutate", str(HOLDING), "--rule", RULE], Console(file=out, width=200))

    assert code == 0
    assert "running mutants" not in out.getvalue()
    assert out.getvalue().splitlines()[-1] == "score: 2/2 (100 %)"
