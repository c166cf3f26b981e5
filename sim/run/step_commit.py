"""Writing one finished step into an event database: the connection settings, the write
transaction and the step's rows.

Standard library only, so the background writer (`sim.run.step_writer`) runs it in a
process of its own: the recorder commits a step here in-process, or hands the same
`StepBatch` to that process, and both write the same bytes.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from domain.payloads import jsonable, payload_of
from sim.run.canonical import dumps

BUSY_TIMEOUT_S = 30.0
"""How long a writer or reader waits for a lock before SQLite gives up."""


def connect(path: str | Path) -> sqlite3.Connection:
    """A read-write connection with the writers' settings (WAL, busy timeout, NORMAL sync);
    `:memory:` gives an in-memory database with the same transaction handling."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    return conn


@contextlib.contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction holding the write lock from its start (`BEGIN IMMEDIATE`),
    committed on success, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class Statements(NamedTuple):
    """The SQL a step is written with, each taking one row of its `StepBatch` field."""

    messages: str
    snapshots: str
    equity: str
    progress: str


def message_row_values(record: Sequence[Any]) -> tuple[Any, ...]:
    """A message record's `messages` row, its payload as canonical JSON.

    A record is (id, run_id, step, date, round, sender, recipient, in_reply_to, wire,
    values): the envelope's route, the message class's `domain.messages.RecordShape` wire
    (kind, the index of `asset` and of `proposal_id` in `values` or -1, the payload's
    (index, name) pairs) and every field's value in field order.
    """
    id_, run_id, step, date, round_, sender, recipient, in_reply_to, wire, values = record
    kind, asset_at, proposal_at, fields = wire
    return (
        id_,
        run_id,
        step,
        date,
        round_,
        sender,
        recipient,
        kind,
        None if asset_at < 0 else values[asset_at],
        None if proposal_at < 0 else values[proposal_at],
        in_reply_to,
        dumps(payload_of(fields, values)),
    )


class StepBatch(NamedTuple):
    """One finished step's rows, in the column order of their statements.

    Attributes:
        messages: message records (`message_row_values`), or once encoded their
            `messages` rows.
        snapshots: `snapshots` rows; the last value of each is the holding's flags,
            likewise.
        equity: the `equity` row.
        progress: the runs row's `steps_completed`, `messages`, `heartbeat_at`, `run_id`.
        encoded: True when the messages are rows and every flags value JSON text.
    """

    messages: Sequence[tuple[Any, ...]]
    snapshots: Sequence[tuple[Any, ...]]
    equity: tuple[Any, ...]
    progress: tuple[Any, ...]
    encoded: bool = False


def encoded(batch: StepBatch) -> StepBatch:
    """`batch` with its messages as rows and every flags value as canonical JSON."""
    if batch.encoded:
        return batch
    return batch._replace(
        messages=[message_row_values(record) for record in batch.messages],
        snapshots=[(*row[:-1], dumps(row[-1])) for row in batch.snapshots],
        encoded=True,
    )


def json_ready(batch: StepBatch) -> StepBatch:
    """`batch` with every message's payload values JSON-ready (`jsonable`: a date as its ISO
    text, a mapping as a dict with string keys), which gives the same payloads."""
    if batch.encoded:
        return batch
    messages = []
    for record in batch.messages:
        values = list(record[-1])
        for i, _ in record[-2][3]:
            values[i] = jsonable(values[i])
        messages.append((*record[:-1], values))
    return batch._replace(messages=messages)


def commit_step(conn: sqlite3.Connection, statements: Statements, batch: StepBatch) -> None:
    """Write `batch` in one transaction (encoded before the write lock is taken)."""
    commit_steps(conn, statements, (batch,))


def commit_steps(
    conn: sqlite3.Connection, statements: Statements, batches: Sequence[StepBatch]
) -> None:
    """Write whole steps, in order, in one transaction (each encoded before the write lock
    is taken): the writer process commits the steps that wait for it together."""
    batches = [encoded(batch) for batch in batches]
    with immediate_transaction(conn):
        for batch in batches:
            if batch.messages:
                conn.executemany(statements.messages, batch.messages)
            if batch.snapshots:
                conn.executemany(statements.snapshots, batch.snapshots)
            conn.execute(statements.equity, batch.equity)
            conn.execute(statements.progress, batch.progress)
