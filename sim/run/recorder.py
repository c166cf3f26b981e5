"""The event database writer (sqlite-utils): runs, messages, snapshots, equity.

Tables and columns follow ../shared/spec/event-db.md. Every step is written as one
batch in one transaction, so a crash never leaves a half-written step: what was
recorded is complete up to the last finished step, and the run's status says how it
ended (running, completed, failed, interrupted). The runs row names its writer (host,
pid, process start identity) and carries a heartbeat refreshed with every step, so a
reader can tell a live `running` run from one whose writer was killed (`sim.run.liveness`).
Files are opened through `sim.run.dbfile` (WAL, busy timeout, `BEGIN IMMEDIATE`), so several
runs can write into one file at once.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import sqlite_utils

from domain.buckets import UNKNOWN_BUCKET
from domain.envelope import Envelope
from domain.execution import Book
from domain.messages import record_shape
from sim.run.canonical import dumps
from sim.run.dbfile import close_writer, connect_writer, create_complete, write_transaction
from sim.run.liveness import own_identity, this_host
from sim.run.signals import signals_deferred
from sim.run.step_commit import Statements, StepBatch, commit_step, message_row_values
from sim.run.step_writer import RecordingError, StepWriter

RUN_STATUSES = ("running", "completed", "failed", "interrupted")


def message_values(env: Envelope, run_id: str) -> tuple[Any, ...]:
    """The `messages` row of one envelope as values in `MESSAGE_COLUMNS` order, the order
    of `SCHEMA` (payload as canonical JSON)."""
    return message_row_values(message_records([env], run_id)[0])


def message_records(envelopes: Iterable[Envelope], run_id: str) -> list[tuple[Any, ...]]:
    """The step's message records: each envelope's route and its message's field values
    as they are, with its class's `RecordShape` wire (`sim.run.step_commit.message_row_values`
    makes a record its `messages` row). A step's envelopes share their date, so its ISO form
    is computed once."""
    rows = []
    last, iso = None, ""
    for id_, step, date, round_, sender, recipient, in_reply_to, msg in envelopes:
        if date != last:
            last, iso = date, date.isoformat()
        shape = record_shape(type(msg))
        values = shape.read(msg)
        if shape.mapped:  # a read-only mapping goes as a dict of its items: plain to pickle
            values = list(values)
            for i in shape.mapped:
                values[i] = dict(values[i])
        rows.append(
            (id_, run_id, step, iso, round_, sender, recipient, in_reply_to, shape.wire, values)
        )
    return rows


def message_row(env: Envelope, run_id: str) -> dict[str, Any]:
    """The `messages` table row of one envelope (payload as canonical JSON)."""
    return dict(zip(MESSAGE_COLUMNS, message_values(env, run_id), strict=True))


@attrs.frozen
class DayRecord:
    """What a finished step leaves for the `snapshots` and `equity` tables.

    Attributes:
        step: the step's index.
        date: the simulated day.
        book: the book after the day's fills.
        prices: the day's closes (every asset on the book).
        bucket_of: asset -> bucket ("Unknown" for an asset in none).
        scores: asset -> the day's score, or None before any scoring.
        flags: asset -> the protections' status flags of the holding.
        drawdown: the equity's distance below its peak.
        regime: the day's regime.
        turnover: the notional traded that day.
        costs: the day's commissions and slippage.
    """

    step: int
    date: dt.date
    book: Book
    prices: Mapping[str, float]
    bucket_of: Mapping[str, str]
    scores: Mapping[str, float] | None
    flags: Mapping[str, Mapping[str, Any]]
    drawdown: float
    regime: str
    turnover: float
    costs: float


def day_rows(day: DayRecord) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The day's `snapshots` rows (one per position on the book, in asset order) and its
    `equity` row, without the run id."""
    equity = day.book.equity(day.prices)
    date = day.date.isoformat()
    rows = []
    invested = 0.0
    for asset, position in day.book.positions.items():
        price = day.prices[asset]
        value = position.quantity * price
        invested += value
        rows.append(
            {
                "step": day.step,
                "date": date,
                "asset": asset,
                "bucket": day.bucket_of.get(asset, UNKNOWN_BUCKET),
                "quantity": position.quantity,
                "price": price,
                "value": value,
                "weight": value / equity if equity else 0.0,
                "score": None if day.scores is None else day.scores[asset],
                "flags": day.flags.get(asset, {}),
            }
        )
    totals = {
        "step": day.step,
        "date": date,
        "equity": equity,
        "cash": day.book.cash,
        "invested": invested,
        "drawdown": day.drawdown,
        "regime": day.regime,
        "n_positions": len(rows),
        "turnover": day.turnover / equity if equity else 0.0,
        "costs": day.costs,
    }
    return rows, totals


def _file_of(db: sqlite_utils.Database) -> str:
    """The file of `db`'s main database ("" in memory)."""
    return db.execute("PRAGMA database_list").fetchone()[2]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


SCHEMA: dict[str, dict[str, Any]] = {
    "runs": {
        "columns": {
            "run_id": str,
            "scenario": str,
            "scenario_path": str,
            "scenario_sha256": str,
            "seed": int,
            "initial_cash": float,
            "config": str,
            "status": str,
            "steps_completed": int,
            "started_at": str,
            "finished_at": str,
            "error": str,
            "messages": int,
            "writer_host": str,
            "writer_pid": int,
            "writer_started": str,
            "heartbeat_at": str,
        },
        "pk": "run_id",
    },
    "messages": {
        "columns": {
            "id": int,
            "run_id": str,
            "step": int,
            "date": str,
            "round": int,
            "sender": str,
            "recipient": str,
            "kind": str,
            "asset": str,
            "proposal_id": str,
            "in_reply_to": int,
            "payload": str,
        },
        "pk": ("run_id", "id"),
    },
    "snapshots": {
        "columns": {
            "run_id": str,
            "step": int,
            "date": str,
            "asset": str,
            "bucket": str,
            "quantity": float,
            "price": float,
            "value": float,
            "weight": float,
            "score": float,
            "flags": str,
        },
        "pk": ("run_id", "step", "asset"),
    },
    "equity": {
        "columns": {
            "run_id": str,
            "step": int,
            "date": str,
            "equity": float,
            "cash": float,
            "invested": float,
            "drawdown": float,
            "regime": str,
            "n_positions": int,
            "turnover": float,
            "costs": float,
        },
        "pk": ("run_id", "step"),
    },
    "checks": {
        "columns": {
            "run_id": str,
            "seq": int,
            "kind": str,
            "label": str,
            "passed": int,
            "evidence": str,
        },
        "pk": ("run_id", "seq"),
    },
}

CONTRACT: Mapping[str, tuple[str, ...]] = {
    "runs": (
        "run_id",
        "scenario",
        "scenario_path",
        "scenario_sha256",
        "seed",
        "config",
        "status",
        "steps_completed",
        "started_at",
        "finished_at",
    ),
    "messages": (
        "id",
        "run_id",
        "step",
        "date",
        "round",
        "sender",
        "recipient",
        "kind",
        "asset",
        "proposal_id",
        "in_reply_to",
        "payload",
    ),
    "snapshots": (
        "run_id",
        "step",
        "date",
        "asset",
        "bucket",
        "quantity",
        "price",
        "value",
        "weight",
        "score",
        "flags",
    ),
    "equity": (
        "run_id",
        "step",
        "date",
        "equity",
        "cash",
        "invested",
        "drawdown",
        "regime",
        "n_positions",
        "turnover",
        "costs",
    ),
    "checks": ("run_id", "seq", "kind", "label", "passed", "evidence"),
}
"""The columns ../shared/spec/event-db.md promises in each table (and those of `checks`,
a table of ours). A table without one of them is not an event table; any other column of
`SCHEMA` missing from an older file, and the `checks` table, are added when a run next
writes into it."""

INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("messages", ("run_id", "asset", "id")),
    ("messages", ("run_id", "proposal_id")),
    ("messages", ("run_id", "kind", "id")),
    ("messages", ("run_id", "step")),
    ("snapshots", ("run_id", "asset", "step")),
)


def _insert_sql(table: str, columns: Iterable[str]) -> str:
    names = list(columns)
    return (
        f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in names)})"
        f" VALUES ({', '.join('?' * len(names))})"
    )


MESSAGE_COLUMNS: tuple[str, ...] = tuple(SCHEMA["messages"]["columns"])
"""The `messages` columns, in the order `message_values` gives them."""
_SNAPSHOT_FIELDS: tuple[str, ...] = tuple(
    c for c in SCHEMA["snapshots"]["columns"] if c not in ("run_id", "flags")
)
_EQUITY_FIELDS: tuple[str, ...] = tuple(c for c in SCHEMA["equity"]["columns"] if c != "run_id")
STATEMENTS = Statements(
    messages=_insert_sql("messages", MESSAGE_COLUMNS),
    snapshots=_insert_sql("snapshots", ("run_id", *_SNAPSHOT_FIELDS, "flags")),
    equity=_insert_sql("equity", ("run_id", *_EQUITY_FIELDS)),
    progress="UPDATE runs SET steps_completed = ?, messages = ?, heartbeat_at = ? WHERE run_id = ?",
)
"""What `write_step` writes a step with: prepared inserts of its rows (one `executemany`
per table) and the runs row's progress (`sim.run.step_commit.StepBatch`)."""


def _tables_complete(db: sqlite_utils.Database) -> bool:
    for name, spec in SCHEMA.items():
        table = db.table(name)
        if not table.exists() or set(spec["columns"]) - set(table.columns_dict):
            return False
    return True


def _indexes_missing(db: sqlite_utils.Database) -> list[tuple[str, tuple[str, ...]]]:
    have = {(t, tuple(i.columns)) for t in SCHEMA for i in db.table(t).indexes}
    return [index for index in INDEXES if index not in have]


def _create_tables(db: sqlite_utils.Database) -> None:
    """Every table and column (added to a file written by an older version)."""
    for name, spec in SCHEMA.items():
        table = db.table(name)
        if not table.exists():
            table.create(spec["columns"], pk=spec["pk"])
            continue
        for column, kind in spec["columns"].items():
            if column not in table.columns_dict:
                table.add_column(column, kind)


def create_indexes(db: sqlite_utils.Database) -> None:
    """The secondary indexes (`INDEXES`) a file lacks; call inside a write transaction."""
    for name, columns in _indexes_missing(db):
        db.table(name).create_index(list(columns), if_not_exists=True)


def _has_messages(db: sqlite_utils.Database) -> bool:
    return db.execute("SELECT EXISTS (SELECT 1 FROM messages)").fetchone()[0] == 1


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating when needed) an event database with every table.

    A new file appears with all its tables at once (`sim.run.dbfile.create_complete`); an
    older file gets the missing columns, in one transaction. The secondary indexes are
    built when a run finishes (`Recorder.finish`), so a new file's rows are written
    without the cost of keeping them (a run with a writer process creates them when it
    starts one: `Recorder.write_in_background`); a file that holds messages but lacks them
    (its writer was killed) gets them here, before anything else is written.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        create_complete(Path(path), _create_tables)
    db = connect_writer(path)
    if not _tables_complete(db) or (_indexes_missing(db) and _has_messages(db)):
        with write_transaction(db):
            _create_tables(db)
            if _has_messages(db):
                create_indexes(db)
    return db


def run_id_prefix(scenario: str, seed: int) -> str:
    """`<scenario>-s<seed>-`: what every run id of that scenario and seed starts with."""
    return f"{scenario}-s{seed}-"


def allocate_run_id(db: sqlite_utils.Database, prefix: str) -> str:
    """`<prefix><nnn>`, one more than the highest nnn already in the database (001 first).

    Only race-free inside a write transaction that also inserts the runs row.
    """
    rows = db.execute(
        "SELECT substr(run_id, ?) FROM runs WHERE substr(run_id, 1, ?) = ?",
        [len(prefix) + 1, len(prefix), prefix],
    ).fetchall()
    taken = [int(tail) for (tail,) in rows if tail.isdigit()]
    return f"{prefix}{max(taken, default=0) + 1:03d}"


class Recorder:
    """Writes one run into an event database.

    Args:
        db: the database (`open_db`).
        run_id: the run's id, or None to allocate `<scenario>-s<seed>-<nnn>` in
            `start_run`, in the transaction that inserts the runs row.
    """

    def __init__(self, db: sqlite_utils.Database, run_id: str | None = None) -> None:
        self.db = db
        self.run_id = run_id
        self.steps_completed = 0
        self.messages_written = 0
        self._writer: StepWriter | None = None

    def start_run(
        self,
        *,
        scenario: str,
        scenario_path: str | None,
        scenario_sha256: str | None,
        seed: int,
        initial_cash: float,
        config: Mapping[str, Any],
    ) -> None:
        """Insert the run's row (status `running`, its writer, a first heartbeat); the run
        id, when not given, is allocated in the same transaction (`self.run_id` after)."""
        now = _now()
        with write_transaction(self.db):
            if self.run_id is None:
                self.run_id = allocate_run_id(self.db, run_id_prefix(scenario, seed))
            self.db.table("runs").insert(
                {
                    "run_id": self.run_id,
                    "scenario": scenario,
                    "scenario_path": scenario_path,
                    "scenario_sha256": scenario_sha256,
                    "seed": seed,
                    "initial_cash": initial_cash,
                    "config": dumps(dict(config)),
                    "status": "running",
                    "steps_completed": 0,
                    "started_at": now,
                    "finished_at": None,
                    "error": None,
                    "messages": 0,
                    "writer_host": this_host(),
                    "writer_pid": os.getpid(),
                    "writer_started": own_identity(),
                    "heartbeat_at": now,
                }
            )

    def record_step(self, envelopes: Iterable[Envelope], day: DayRecord) -> None:
        """Write one finished step: its messages, and the rows `day_rows` builds."""
        snapshots, equity = day_rows(day)
        self.write_step(envelopes, snapshots, equity)

    def write_step(
        self,
        envelopes: Iterable[Envelope],
        snapshots: Iterable[Mapping[str, Any]],
        equity: Mapping[str, Any],
    ) -> None:
        """Write one finished step (messages, holdings, equity row, the runs row's counts and
        heartbeat) in one transaction: here, or in the writer process when one was
        started (`write_in_background`)."""
        run_id = self.run_id
        with signals_deferred():  # a SIGINT or SIGTERM waits until the step is recorded
            messages = message_records(envelopes, run_id)
            batch = StepBatch(
                messages,
                [(run_id, *(r[c] for c in _SNAPSHOT_FIELDS), dict(r["flags"])) for r in snapshots],
                (run_id, *(equity[c] for c in _EQUITY_FIELDS)),
                (self.steps_completed + 1, self.messages_written + len(messages), _now(), run_id),
            )
            if self._writer is not None:
                self._writer.send(batch)
            else:
                commit_step(self.db.conn, STATEMENTS, batch)
            self.steps_completed += 1
            self.messages_written += len(messages)

    def write_in_background(self) -> bool:
        """Commit the steps from now on in a writer process (`sim.run.step_writer`), on
        another core, in the order written. Not for an in-memory database, nor while a reader
        of this connection needs each step as soon as it is written (`drain` waits for them).

        The secondary indexes the file lacks are created first, so the writer process keeps
        them as it inserts: on its core that costs the run less than building them at
        `finish`.

        Returns:
            Whether the steps now go to a writer process.
        """
        path = _file_of(self.db)
        if self._writer is None and path and sys.executable and os.name == "posix":
            with write_transaction(self.db):
                create_indexes(self.db)
            self._writer = StepWriter(path, STATEMENTS)
        return self._writer is not None

    def drain(self) -> None:
        """Wait until the writer process (if any) has written every step sent, and end it;
        later steps are written here again.

        Raises:
            RecordingError: the writer process failed; the steps it wrote are whole.
        """
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None

    def finish(self, status: str, error: str | None = None) -> str:
        """Mark the run completed, failed or interrupted, and build the secondary indexes
        the file lacks (in the same transaction), once every step is written (`drain`); a
        failed writer process marks the run failed, its reason added to `error`. A SIGINT
        or SIGTERM meanwhile waits until the status is written.

        Returns:
            The status written.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with signals_deferred():
            try:
                self.drain()
            except RecordingError as err:
                status = "failed"
                if str(err) not in (error or ""):
                    error = "\n".join(filter(None, (error, str(err))))
            now = _now()
            with write_transaction(self.db):
                create_indexes(self.db)
                self.db.execute(
                    "UPDATE runs SET status = ?, finished_at = ?, error = ?, heartbeat_at = ?"
                    " WHERE run_id = ?",
                    [status, now, error, now, self.run_id],
                )
        return status


def record_checks(db_path: str | Path, run_id: str, checks: Iterable[Mapping[str, Any]]) -> None:
    """Store a checked run's invariants and expectations in the `checks` table, replacing
    any rows of `run_id` there, in one transaction; the connection is closed again.

    Args:
        db_path: the run's event database.
        run_id: the run.
        checks: in the order they were checked, each with `kind` (invariant or
            expectation), `label`, `passed` and `evidence` (lines of text).
    """
    rows = [
        {
            "run_id": run_id,
            "seq": seq,
            "kind": c["kind"],
            "label": c["label"],
            "passed": int(bool(c["passed"])),
            "evidence": dumps(list(c["evidence"])),
        }
        for seq, c in enumerate(checks, start=1)
    ]
    db = open_db(db_path)
    try:
        with write_transaction(db):
            db.execute("DELETE FROM checks WHERE run_id = ?", [run_id])
            if rows:
                db.table("checks").insert_all(rows)
    finally:
        close_writer(db)
