"""The sweep table: `OUT/sweep.db` (SQLite, written by the client only) and
`OUT/sweep.parquet` (rewritten from it whole, never appended).

`sweep_runs` holds one row per run, keyed by the run hash (PRIMARY KEY), each written in
its own transaction, so a task Dask ran twice cannot add a second row, and an interrupted
sweep leaves only whole rows. A row whose outcome is `lost` (Dask gave the task up: its
workers kept dying) is the one kind a later sweep replaces. `sweeps` has one row per
invocation: its arguments, how many runs it planned, skipped and ran.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlite_utils

from sim.compose import InvalidInput
from sim.read.metrics import METRICS
from sim.run.dbfile import DatabaseFileError, open_readonly
from sim.run.signals import signals_deferred
from sim.sweep.spec import RESERVED

DB_NAME, PARQUET_NAME, RUNS_DIR = "sweep.db", "sweep.parquet", "runs"
TABLE, SWEEPS = "sweep_runs", "sweeps"
LOST = "lost"
"""The outcome of a task Dask gave up on (not a result of the run: a later sweep runs it)."""

HEAD: dict[str, type] = {"key": str, "scenario": str, "path": str, "seed": int}
TAIL: dict[str, type] = {
    "exit_code": int,
    "outcome": str,
    "failed_checks": str,
    **dict.fromkeys(METRICS, float),
    "messages": int,
    "messages_sha256": str,
    "steps": int,
    "seconds": float,
    "error": str,
    "checks": str,
    "settings": str,
    "run_id": str,
    "db": str,
    "worker": str,
    "finished_at": str,
}
"""The columns of `sweep_runs` around the grid parameters', in table order."""


def db_path(out: str | os.PathLike[str]) -> Path:
    """The sweep database of the output folder `out`."""
    return Path(out) / DB_NAME


@contextlib.contextmanager
def open_store(out: str | os.PathLike[str], grid: Mapping[str, Any]) -> Iterator[Any]:
    """The sweep database of `out` (created with its folder if new), with a column for
    every parameter of `grid` ({name: a value, for its type}); closed on exit."""
    Path(out).mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(db_path(out))
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # Durable against a crash of this process; a power loss may lose the last rows
        # (never corrupt the file): a later sweep makes those runs again.
        db.execute("PRAGMA synchronous=NORMAL")
        table = db[TABLE]
        params = {name: type(value) for name, value in grid.items()}
        if not table.exists():
            table.create({**HEAD, **params, **TAIL}, pk="key")
        else:
            missing = {k: t for k, t in params.items() if k not in table.columns_dict}
            for name, kind in missing.items():
                table.add_column(name, kind)
        yield db
    finally:
        db.close()


def done_keys(db: Any) -> set[str]:
    """The run hashes that already have a row (a `lost` one does not count)."""
    return {r["key"] for r in db.query(f"SELECT key FROM {TABLE} WHERE outcome != ?", [LOST])}


def existing_keys(out: str | os.PathLike[str]) -> set[str]:
    """`done_keys` of the sweep table of `out`, read without writing (empty when there is
    none yet).

    Raises:
        InvalidInput: `out` is a file, or its sweep.db is not a sweep table.
    """
    problem = out_problem(out)
    if problem is not None:
        raise InvalidInput(f"--out {out}: {problem}")
    path = db_path(out)
    if not path.is_file():
        return set()
    with contextlib.closing(sqlite_utils.Database(open_readonly(path))) as db:
        return done_keys(db) if db[TABLE].exists() else set()


def out_problem(out: str | os.PathLike[str]) -> str | None:
    """Why `out` cannot hold a sweep's files; None when it can (or does not exist yet)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        return "is not a folder"
    path = db_path(out)
    if not path.exists():
        return None
    try:
        with contextlib.closing(open_readonly(path)) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    except (DatabaseFileError, sqlite3.Error) as err:
        return f"{DB_NAME}: {err}"
    if tables and TABLE not in tables:
        return f"{DB_NAME} is not a sweep table (no table {TABLE})"
    return None


def write_row(db: Any, row: Mapping[str, Any]) -> bool:
    """Add one run's row in one transaction, unless its key has a row already (a `lost`
    row is replaced); whether it was added. A column the table lacks is added. SIGINT and
    SIGTERM wait for the commit."""
    with signals_deferred(), db.conn:
        db.execute(f"DELETE FROM {TABLE} WHERE key = ? AND outcome = ?", [row["key"], LOST])
        before = db.conn.total_changes
        db[TABLE].insert(dict(row), pk="key", alter=True, ignore=True)
        return db.conn.total_changes > before


def start_sweep(db: Any, arguments: Mapping[str, Any], planned: int, skipped: int) -> int:
    """Record an invocation; its id."""
    with db.conn:
        table = db[SWEEPS].insert(
            {
                "started_at": _now(),
                "finished_at": None,
                "arguments": json.dumps(arguments, sort_keys=True),
                "planned": planned,
                "skipped": skipped,
                "ran": 0,
                "status": "running",
            },
            pk="id",
        )
    return int(table.last_pk)


def finish_sweep(db: Any, sweep_id: int, ran: int, status: str) -> None:
    """Mark an invocation finished (`completed` or `interrupted`) with how many it ran."""
    with db.conn:
        db[SWEEPS].update(sweep_id, {"finished_at": _now(), "ran": ran, "status": status})


def param_columns(columns: Iterable[str]) -> list[str]:
    """The grid parameters among a sweep table's columns, in table order."""
    return [c for c in columns if c not in RESERVED and c not in METRICS]


def read_table(out: str | os.PathLike[str]) -> pd.DataFrame:
    """Every row of the sweep table of `out`, by scenario, path, grid point, seed.

    Raises:
        FileNotFoundError: `out` has no sweep database.
    """
    path = db_path(out)
    if not path.is_file():
        raise FileNotFoundError(f"{out}: no sweep table ({DB_NAME}) in it")
    with contextlib.closing(sqlite_utils.Database(path)) as db:
        return table_frame(db.conn)


def table_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every row of the sweep table open as `conn` (read-only will do), by scenario, path,
    grid point, seed (what `read_table` returns)."""
    db = sqlite_utils.Database(conn, recursive_triggers=False)
    columns = list(db[TABLE].columns_dict)
    order = ", ".join(f'"{c}"' for c in ["scenario", "path", *param_columns(columns), "seed"])
    rows = list(db.query(f"SELECT * FROM {TABLE} ORDER BY {order}"))
    return pd.DataFrame(rows, columns=columns)


def write_parquet(out: str | os.PathLike[str], frame: pd.DataFrame | None = None) -> Path:
    """Rewrite `OUT/sweep.parquet` from the sweep table (under a temporary name, then
    renamed: a reader sees the old file or the new one); its path."""
    frame = read_table(out) if frame is None else frame
    target = Path(out) / PARQUET_NAME
    tmp = target.with_name(f".{PARQUET_NAME}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, engine="pyarrow", index=False)
    os.replace(tmp, target)
    return target


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
