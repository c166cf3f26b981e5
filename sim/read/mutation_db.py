"""Writing a mutation report into an SQLite file (`run.py mutate --db FILE`).

Three tables, beside the event tables when the file is an event database (or alone in a new
file): `mutation_reports` (one row per `mutate` invocation), `mutants` (one row per mutant
of a report) and `mutation_runs` (one row per run: a scenario clean or with one mutant).
A report is written in one transaction once every run has finished, through the event
database's writer settings (`sim.run.dbfile`: WAL, busy timeout, `BEGIN IMMEDIATE`, a new
file appears with its tables), so a file never holds part of a report. A report stopped by
SIGINT or SIGTERM is not written at all. The columns are listed in docs/stress-testing.md,
"The report in SQLite".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from sim.read.mutation import MutationReport, mutation_exit_code
from sim.run.dbfile import (
    close_writer,
    connect_writer,
    create_complete,
    table_columns,
    write_transaction,
)
from sim.run.signals import stop_signals_raise

TABLES: Mapping[str, dict[str, Any]] = {
    "mutation_reports": {
        "columns": {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "scenarios": int,
            "mutants": int,
            "runs": int,
            "killed": int,
            "score": float,
            "rule": str,
            "seed": int,
            "preset": str,
            "overrides": str,
            "jobs": int,
            "exit_code": int,
        },
        "pk": "id",
    },
    "mutants": {
        "columns": {
            "report_id": int,
            "mutant_id": str,
            "rule": str,
            "protection": str,
            "description": str,
            "runs": int,
            "killed": int,
            "killed_by": int,
        },
        "pk": ("report_id", "mutant_id"),
    },
    "mutation_runs": {
        "columns": {
            "report_id": int,
            "seq": int,
            "scenario_path": str,
            "mutant_id": str,
            "result": str,
            "exit_code": int,
            "failed_checks": str,
            "killed": int,
        },
        "pk": ("report_id", "seq"),
    },
}
"""Each table's columns (sqlite-utils types) and primary key."""

INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mutation_runs", ("report_id", "mutant_id")),
    ("mutation_runs", ("report_id", "scenario_path")),
)


def schema_problem(path: str | Path) -> str | None:
    """Why `path` cannot take a mutation report: one of its mutation tables lacks a column
    (written by something else). None when it can (or does not exist yet)."""
    if not Path(path).is_file():
        return None
    try:
        found = table_columns(path, TABLES)
    except sqlite3.Error as exc:
        return f"is not a usable SQLite database: {exc}"
    for name, columns in found.items():
        missing = sorted(set(TABLES[name]["columns"]) - columns) if columns else []
        if missing:
            return f"has a table '{name}' without the columns {', '.join(missing)}"
    return None


def _create_tables(db: sqlite_utils.Database) -> None:
    for name, spec in TABLES.items():
        if not db.table(name).exists():
            db.table(name).create(spec["columns"], pk=spec["pk"])
    for name, columns in INDEXES:
        db.table(name).create_index(list(columns), if_not_exists=True)


def report_row(report: MutationReport) -> dict[str, Any]:
    """The `mutation_reports` row of `report` (its `id` is given when it is inserted)."""
    killed, total = report.score
    return {
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "scenarios": len(report.paths),
        "mutants": total,
        "runs": len(report.runs),
        "killed": killed,
        "score": killed / total if total else None,
        "rule": report.rule,
        "seed": report.seed,
        "preset": report.preset,
        "overrides": json.dumps(dict(report.overrides), sort_keys=True),
        "jobs": report.jobs,
        "exit_code": mutation_exit_code(report),
    }


def mutant_rows(report: MutationReport, report_id: int) -> list[dict[str, Any]]:
    """One `mutants` row per mutant of `report`, in its order."""
    ran: dict[str, int] = {}
    for r in report.runs:
        if r.mutant is not None:
            ran[r.mutant] = ran.get(r.mutant, 0) + 1
    return [
        {
            "report_id": report_id,
            "mutant_id": m.id,
            "rule": m.rule,
            "protection": m.protection,
            "description": m.description,
            "runs": ran.get(m.id, 0),
            "killed": int(bool(report.killers(m))),
            "killed_by": len(report.killers(m)),
        }
        for m in report.mutants
    ]


def run_rows(report: MutationReport, report_id: int) -> list[dict[str, Any]]:
    """One `mutation_runs` row per run of `report`, in run order (`seq` from 1); `killed`
    is null for a clean run."""
    return [
        {
            "report_id": report_id,
            "seq": seq,
            "scenario_path": r.path,
            "mutant_id": r.mutant,
            "result": r.result,
            "exit_code": r.exit_code,
            "failed_checks": json.dumps(list(r.failed)),
            "killed": None if r.mutant is None else int(bool(report.killed(r))),
        }
        for seq, r in enumerate(report.runs, start=1)
    ]


def write_report(path: str | Path, report: MutationReport) -> int | None:
    """Add `report` to the SQLite file `path` (created when missing) in one transaction.

    Args:
        path: a new file, or an existing SQLite file (an event database, or one written by
            an earlier `--db`); check it first with `schema_problem` and
            `sim.compose.check_db`.
        report: a finished report; one stopped by a signal is not written.

    Returns:
        The new `mutation_reports.id`, or None when the report was stopped (nothing written).
    """
    if report.stopped is not None:
        return None
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    with stop_signals_raise():  # a signal waits for the transaction's end
        create_complete(file, _create_tables)
        db = connect_writer(file)
        try:
            with write_transaction(db):
                _create_tables(db)  # an existing file without them
                reports = db.table("mutation_reports")
                report_id = int(reports.insert(report_row(report)).last_pk)
                db.table("mutants").insert_all(mutant_rows(report, report_id))
                db.table("mutation_runs").insert_all(run_rows(report, report_id))
        finally:
            close_writer(db)
    return report_id
