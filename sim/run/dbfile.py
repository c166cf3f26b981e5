"""Opening event database files safely: writers side by side, readers while they write.

Writers use WAL journaling, `synchronous=NORMAL` and a busy timeout, and take the write
lock up front (`BEGIN IMMEDIATE`) in every transaction, so two runs into one file queue
for the lock instead of failing with "database is locked". A new file appears only
complete: it is built under a temporary name and hard-linked into place. Readers open
`mode=ro`; a file a killed writer left unreadable to them is recovered or explained
(`open_readonly`). The rules are in docs/event-db.md, "Concurrency and recovery".
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import sqlite_utils

from sim.run.signals import signals_deferred
from sim.run.step_commit import BUSY_TIMEOUT_S, connect, immediate_transaction

_SQLITE_READONLY = 8


class DatabaseFileError(Exception):
    """An event database cannot be opened; the message says why and what to do."""


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction holding the write lock from its start (`BEGIN IMMEDIATE`),
    committed on success, rolled back on any exception; SIGINT and SIGTERM wait until it
    has ended (`sim.run.signals.signals_deferred`)."""
    with signals_deferred(), immediate_transaction(db.conn):
        yield db


def connect_writer(path: str | Path) -> sqlite_utils.Database:
    """A read-write connection with the writers' settings (WAL, busy timeout, NORMAL sync).

    `:memory:` gives an in-memory database with the same transaction handling.
    """
    return sqlite_utils.Database(connect(path))


def close_writer(db: sqlite_utils.Database) -> None:
    """Copy what the -wal file holds into the database file as far as no reader needs it
    (a passive checkpoint: it never waits), then close the connection. The last connection
    to close also removes the -wal and -shm files."""
    with contextlib.suppress(sqlite3.Error):
        db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    db.close()


def tidy(path: str | Path) -> None:
    """Remove the -wal and -shm files that read-only readers left beside `path`, unless a
    connection still uses them: closing a read-write connection does that when it is the
    last one (SQLite checkpoints first; nothing is lost)."""
    if not Path(path).is_file():
        return
    with contextlib.suppress(sqlite3.Error):
        close_writer(connect_writer(path))


def create_complete(path: Path, build: Callable[[sqlite_utils.Database], None]) -> None:
    """Create `path` with `build` run in one transaction, unless it exists.

    The file is built under a temporary name in the same directory and hard-linked into
    place, so no reader or writer ever sees it without its tables. When another process
    created it first, that file is kept. On a filesystem without hard links nothing is
    linked and the caller creates the tables in place (in one transaction, but the file is
    visible empty for a moment).
    """
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.creating")
    with signals_deferred():
        try:
            db = connect_writer(tmp)
            try:
                with write_transaction(db):
                    build(db)
            finally:
                db.close()  # the last connection: checkpoints and removes -wal, -shm
            with contextlib.suppress(OSError):  # exists already, or no hard links here
                os.link(tmp, path)
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)


# --- readers ---------------------------------------------------------------------------


def table_columns(path: str | Path, tables: Iterable[str]) -> dict[str, set[str]]:
    """Each of `tables`' column names in the database at `path`, read-only (an empty set:
    no such table).

    Raises:
        sqlite3.Error: the file is not a usable SQLite database.
    """
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            name: {row[1] for row in con.execute(f"PRAGMA table_info('{name}')")} for name in tables
        }
    finally:
        con.close()


def recovery_plan(*, hot_journal: bool, wal: bool, writable: bool) -> str:
    """What a reader does when a read-only open reports "attempt to write a readonly
    database" (SQLite needs to write to open the file).

    Args:
        hot_journal: a non-empty `-journal` file lies beside the database (a writer in
            rollback-journal mode stopped inside a transaction).
        wal: a `-wal` file lies beside it.
        writable: the file and its directory are writable by this process.

    Returns:
        "recover": open it read-write once (SQLite rolls the journal back), then read-only;
        "immutable": read it as an unchanging file (a WAL database without -wal in a
        read-only directory: every committed page is in the file and no writer can be
        running, as a writer needs the -wal file); "stuck": say what to do and stop.
    """
    if writable:
        return "recover"
    if not hot_journal and not wal:
        return "immutable"
    return "stuck"


def _connect_ro(file: Path, *, immutable: bool = False) -> sqlite3.Connection:
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(f"{file.resolve().as_uri()}?{flags}", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _writable(file: Path) -> bool:
    return os.access(file, os.W_OK) and os.access(file.resolve().parent, os.W_OK)


def _stuck_message(file: Path, hot_journal: bool, err: sqlite3.Error) -> str:
    if hot_journal:
        return (
            f"{file}: a writer stopped inside a transaction and left {file.name}-journal,"
            " which only a read-write open can roll back, and this process cannot write"
            f" {file.resolve().parent}; run `sqlite3 {file} 'PRAGMA quick_check'` as a user"
            " who can write there (or copy the file with its -journal to a writable"
            " directory), then retry"
        )
    return (
        f"{file}: SQLite cannot open it read-only here ({err}): its directory is not writable"
        f" for the -shm file; copy {file.name} with its -wal and -shm files to a writable"
        " directory and inspect the copy"
    )


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """Open an event database read-only (`mode=ro`), recovering what a killed writer left.

    Raises:
        DatabaseFileError: the file does not exist, is not SQLite, or needs recovery this
            process cannot do (the message says what to do).
    """
    file = Path(path)
    if not file.is_file():
        raise DatabaseFileError(f"no such event database: {path}")
    try:
        return _connect_ro(file)
    except sqlite3.DatabaseError as err:
        if getattr(err, "sqlite_errorcode", 0) & 0xFF != _SQLITE_READONLY:
            raise DatabaseFileError(f"{path}: not an SQLite database ({err})") from err
        first = err
    journal = Path(f"{file}-journal")
    hot = journal.is_file() and journal.stat().st_size > 0
    plan = recovery_plan(
        hot_journal=hot, wal=Path(f"{file}-wal").exists(), writable=_writable(file)
    )
    if plan == "stuck":
        raise DatabaseFileError(_stuck_message(file, hot, first)) from first
    try:
        if plan == "recover":
            rw = sqlite3.connect(str(file), timeout=BUSY_TIMEOUT_S)
            try:
                rw.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # rolls back
            finally:
                rw.close()
            return _connect_ro(file)
        return _connect_ro(file, immutable=True)
    except sqlite3.DatabaseError as err:
        raise DatabaseFileError(f"{path}: cannot be opened read-only: {err}") from err
