"""What `inspect` reads from a sweep database (`OUT/sweep.db`, `sim.sweep.store`): its
aggregates (`sim.sweep.report`, the ones `run.py sweep-report` prints) and its runs, one
row each with where its event database is or the command that makes it again.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from sim.read.queries import InspectError
from sim.sweep.report import REPORT_METRICS, SweepReport, build_report
from sim.sweep.store import param_columns, table_frame
from sim.sweep.view import replay_command, replay_line


def _table(conn: sqlite3.Connection, db_path: str | Path) -> pd.DataFrame:
    """The sweep table, by grid point and seed.

    Raises:
        InspectError: the table holds no run yet.
    """
    table = table_frame(conn)
    if table.empty:
        raise InspectError(f"{db_path}: the sweep table holds no run yet")
    return table


def sweep_summary(
    conn: sqlite3.Connection, db_path: str | Path
) -> tuple[SweepReport, dict[str, Any]]:
    """The aggregates of the sweep at `db_path` (open as `conn`) and their JSON-ready data
    (the report of `sweep-report --json`, with the replay line of the first failed run).

    Raises:
        InspectError: the table holds no run yet.
    """
    report = build_report(_table(conn, db_path))
    return report, {**report.as_dict(), "replay": replay_line(report)}


def sweep_runs(conn: sqlite3.Connection, db_path: str | Path) -> dict[str, Any]:
    """The grid parameters (`params`) and every run (`runs`) of the sweep at `db_path`
    (open as `conn`), by grid point and seed, each with its
    key, scenario, grid values, seed, outcome, exit code, failed checks, the headline
    metrics, its kept event database (`event_db`, a path beside `db_path`; None when not
    kept) and the command that replays it.

    Raises:
        InspectError: the table holds no run yet.
    """
    table = _table(conn, db_path)
    params = param_columns(table.columns)
    folder = Path(db_path).parent
    out = []
    for row in table.to_dict("records"):
        run = {name: _plain(row[name]) for name in ("key", "scenario", "path", *params, "seed")}
        run["outcome"] = row["outcome"]
        code = _plain(row["exit_code"])
        run["exit_code"] = None if code is None else int(code)
        run["failed_checks"] = json.loads(row["failed_checks"] or "[]")
        run.update({m: _plain(row[m]) for m in REPORT_METRICS})
        run["event_db"] = str(folder / row["db"]) if row["db"] else None
        run["replay"] = replay_command(row)
        out.append(run)
    return {"params": params, "runs": out}


def _plain(value: Any) -> Any:
    """A pandas or numpy value as plain Python (None for a missing one)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value
