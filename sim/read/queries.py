"""Read-only queries over the event database, returning plain data: opening a database
(telling an event database from a sweep's `OUT/sweep.db` by its tables), its runs, a
run's messages and tickers, and the grouping of messages into proposal chains.

Every query is a function over an open `sqlite3.Connection` that returns plain lists and
dicts (payloads parsed from JSON); `sim.read.inspect_view` turns them into rich
renderables. User values are always bound as parameters, never formatted into SQL. A run
recorded as `running` whose writer is gone is reported `crashed` (`sim.run.liveness`).
"""

from __future__ import annotations

import difflib
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from sim.read.summary import summarise
from sim.run.dbfile import DatabaseFileError
from sim.run.dbfile import open_readonly as open_file_readonly
from sim.run.liveness import run_status
from sim.sweep.store import TABLE as SWEEP_TABLE

TABLES: tuple[str, ...] = ("runs", "messages", "snapshots", "equity")
"""The tables of a run, in export order."""

ROUTINE_NOTICES: frozenset[str] = frozenset({"rebalance", "selection"})
"""Notices that mark an ordinary day: the portfolio manager's rebalance record and its
selection changes (`why` shows the latter)."""


class InspectError(Exception):
    """A user error the `inspect` command reports with exit code 2: a bad database path,
    an unknown run, ticker, date or system, bad arguments, or a refused write."""


# --- connection and helpers -------------------------------------------------------------


EVENT_DB, SWEEP_DB = "event", "sweep"
"""The kinds of database `inspect` reads (`database_kind`)."""


def event_db_hint(path: str | Path) -> str:
    """Where a run of the sweep database at `path` has its event database, or how to make
    it again (docs/sweeps.md)."""
    kept = Path(path).parent / "runs" / "<scenario>-s<seed>-<key>.db"
    return (
        f"{kept} when the sweep ran with --keep-dbs (the row's `db` column), or replay the"
        " run: python run.py SCENARIO --seed S [--set NAME=V ...]"
    )


class SweepDatabaseError(InspectError):
    """A sweep database (`run.py sweep`'s OUT/sweep.db) where a run's event database is
    needed; `path` names it."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        super().__init__(
            f"{path} is a sweep database (table {SWEEP_TABLE}: one row per run of"
            f" `run.py sweep`), not a run's event database; a run's event database is"
            f" {event_db_hint(path)}"
        )


def table_names(conn: sqlite3.Connection) -> set[str]:
    """The names of the database's tables."""
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def database_kind(conn: sqlite3.Connection) -> str | None:
    """`EVENT_DB` when the database has every table of a run (`TABLES`), `SWEEP_DB` when
    it has the sweep table (`sim.sweep.store.TABLE`), else None: the one place a database
    is told apart, by its tables (never its file name)."""
    names = table_names(conn)
    if names.issuperset(TABLES):
        return EVENT_DB
    if SWEEP_TABLE in names:
        return SWEEP_DB
    return None


def open_database(path: str | Path) -> tuple[sqlite3.Connection, str]:
    """Open an event or a sweep database read-only (`sim.run.dbfile.open_readonly`);
    the connection and its `database_kind`.

    Raises:
        InspectError: the file does not exist, is not SQLite, needs a recovery this process
            cannot do, or has neither Bulwark's tables nor a sweep table.
    """
    try:
        conn = open_file_readonly(path)
    except DatabaseFileError as err:
        raise InspectError(str(err)) from err
    kind = database_kind(conn)
    if kind is None:
        missing = [t for t in TABLES if t not in table_names(conn)]
        conn.close()
        raise InspectError(f"{path}: not a Bulwark event database (no table {', '.join(missing)})")
    return conn, kind


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """Open an event database read-only (`open_database`).

    Raises:
        SweepDatabaseError: the file is a sweep database.
        InspectError: the file does not exist, is not SQLite, needs a recovery this process
            cannot do, or lacks Bulwark's tables.
    """
    conn, kind = open_database(path)
    if kind == SWEEP_DB:
        conn.close()
        raise SweepDatabaseError(path)
    return conn


def query(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts (independent of the connection's row factory)."""
    cursor = conn.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def parse_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `row` with its JSON columns (payload, flags, config) parsed."""
    row = dict(row)
    for key in ("payload", "flags", "config"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


def suggest(value: str, choices: Iterable[str]) -> str:
    """` (did you mean 'X'?)` for the choice closest to `value`, or empty when none is."""
    choices = list(choices)
    close = difflib.get_close_matches(value, choices, n=1)
    if not close:
        close = [c for c in choices if c.lower() == value.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- runs --------------------------------------------------------------------------------


RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "scenario",
    "seed",
    "status",
    "steps_completed",
    "messages",
    "started_at",
    "finished_at",
    "writer_host",
    "writer_pid",
    "heartbeat_at",
)
"""The columns `list_runs` reports (the writer ones are None in files written before them)."""


def list_runs(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every run of the database, oldest first. `status` is the reported one (`crashed` for a
    `running` run whose writer is gone, `sim.run.liveness`); `recorded_status` is the stored one.
    """
    out = []
    for row in query(conn, "SELECT * FROM runs ORDER BY started_at, rowid"):
        run = {name: row.get(name) for name in RUN_COLUMNS}
        run["recorded_status"] = row["status"]
        run["status"] = run_status(row)
        out.append(run)
    return out


def resolve_run(conn: sqlite3.Connection, run_id: str | None = None) -> str:
    """`run_id` when it is a run of the database, else the latest run when it is None.

    Raises:
        InspectError: the run is unknown, or the database holds no run.
    """
    if run_id is None:
        row = query(conn, "SELECT run_id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1")
        if not row:
            raise InspectError("the database holds no run")
        return row[0]["run_id"]
    if query(conn, "SELECT 1 FROM runs WHERE run_id = ?", [run_id]):
        return run_id
    ids = [r["run_id"] for r in query(conn, "SELECT run_id FROM runs ORDER BY rowid")]
    raise InspectError(f"unknown run {run_id!r}{suggest(run_id, ids)}; runs: {', '.join(ids)}")


def run_summary(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    """The headline figures of a run (`sim.read.summary.summarise`); `status` is the reported
    one (`crashed` for a `running` run whose writer is gone), `recorded_status` the stored
    one."""
    summary = summarise(sqlite_utils.Database(conn, recursive_triggers=False), run_id)
    row = query(conn, "SELECT * FROM runs WHERE run_id = ?", [run_id])[0]
    summary["recorded_status"] = row["status"]
    summary["status"] = run_status(row)
    return summary


def equity_row(conn: sqlite3.Connection, run_id: str, step: int) -> dict[str, Any] | None:
    """The equity row of one step, or None when the step is not recorded."""
    rows = query(conn, "SELECT * FROM equity WHERE run_id = ? AND step = ?", [run_id, step])
    return rows[0] if rows else None


# --- messages ----------------------------------------------------------------------------


def messages(
    conn: sqlite3.Connection,
    run_id: str,
    *,
    step: int | None = None,
    asset: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Messages of a run in order, payloads parsed, filtered by step, asset and kind."""
    clauses, params = ["run_id = ?"], [run_id]
    for column, value in (("step", step), ("asset", asset), ("kind", kind)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return [
        parse_row(r)
        for r in query(
            conn,
            "SELECT id, step, date, round, sender, recipient, kind, asset, proposal_id,"
            f" in_reply_to, payload FROM messages WHERE {' AND '.join(clauses)} ORDER BY id",
            params,
        )
    ]


def first_payload(msgs: Iterable[Mapping[str, Any]], kind: str) -> dict[str, Any] | None:
    """The payload of the first message of `kind`, or None."""
    return next((m["payload"] for m in msgs if m["kind"] == kind), None)


def notable_notices(msgs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The notices among `msgs` that are not `ROUTINE_NOTICES`, in order."""
    return [
        m
        for m in msgs
        if m["kind"] == "notice" and m["payload"].get("event") not in ROUTINE_NOTICES
    ]


def known_assets(conn: sqlite3.Connection, run_id: str) -> list[str]:
    """Every ticker the run's messages or holdings mention, sorted."""
    rows = query(
        conn,
        "SELECT asset FROM messages WHERE run_id = ? AND asset IS NOT NULL"
        " UNION SELECT asset FROM snapshots WHERE run_id = ? ORDER BY asset",
        [run_id, run_id],
    )
    return [r["asset"] for r in rows]


def check_asset(conn: sqlite3.Connection, run_id: str, asset: str) -> str:
    """`asset` when the run knows it.

    Raises:
        InspectError: no message or holding of the run names the asset.
    """
    assets = known_assets(conn, run_id)
    if asset in assets:
        return asset
    raise InspectError(
        f"unknown ticker {asset!r} in run {run_id}{suggest(asset, assets)};"
        f" tickers: {', '.join(assets) or 'none'}"
    )


def timeline(conn: sqlite3.Connection, run_id: str, asset: str) -> list[dict[str, Any]]:
    """Every message about `asset` (its `asset` column), in order."""
    return messages(conn, run_id, asset=check_asset(conn, run_id, asset))


def _sort_verdicts(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(verdicts, key=lambda v: (v["payload"]["priority"], v["payload"]["system"]))


def proposal_chains(msgs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group one step's messages by proposal: each proposal with its verdicts (by priority,
    then system), its decision and its fills, in proposal order.

    Args:
        msgs: messages as returned by `messages` (any subset holding whole proposals).
    """
    chains: dict[str, dict[str, Any]] = {}
    for m in msgs:
        pid = m["proposal_id"]
        if m["kind"] == "proposal":
            chains[pid] = {"proposal": m, "verdicts": [], "decision": None, "fills": []}
        elif pid in chains:
            chain = chains[pid]
            if m["kind"] == "verdict":
                chain["verdicts"].append(m)
            elif m["kind"] == "decision":
                chain["decision"] = m
            elif m["kind"] == "fill":
                chain["fills"].append(m)
    for chain in chains.values():
        chain["verdicts"] = _sort_verdicts(chain["verdicts"])
    return list(chains.values())
