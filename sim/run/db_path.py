"""Check an event-database path before a run writes anything (`--db`, docs/event-db.md).

A usable path is an existing SQLite database we may read and write, whose event tables
(if it has them) have every column of the event-DB contract (`sim.run.recorder.CONTRACT`; the
recorder adds the other columns to a file an older version wrote), or a new file in a directory we
may create files in (missing parent directories are created by the run, so the nearest
existing one must accept a file). A file or directory without any write permission bit
is read-only by intent and refused even when the user (root) could write through it.
The check creates nothing: the directory test opens an anonymous temporary file that
disappears when closed.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from sim.run.dbfile import table_columns
from sim.run.recorder import CONTRACT, SCHEMA

_SQLITE_HEADER = b"SQLite format 3\x00"


def db_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why the run cannot use `path` as its event database; None when it can."""
    if "\x00" in os.fspath(path):
        return "the path contains a NUL character"
    target = Path(path)
    try:
        if target.is_dir():
            return "is a directory; give a database file"
        if target.exists():
            return _existing_problem(target)
        return _new_file_problem(target)
    except (OSError, ValueError) as exc:
        return f"cannot use it: {exc}"


def _existing_problem(target: Path) -> str | None:
    if not target.is_file():
        return "is not a regular file"
    if not os.access(target, os.R_OK | os.W_OK) or _read_only(target):
        return "is read-only (a run adds to it)"
    with target.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if not header:
        return None  # an empty file is an empty database
    if header != _SQLITE_HEADER:
        return "is not an SQLite database"
    try:
        tables = table_columns(target, SCHEMA)
    except sqlite3.Error as exc:
        return f"is not a usable SQLite database: {exc}"
    for name, columns in tables.items():
        missing = sorted(set(CONTRACT[name]) - columns) if columns else []
        if missing:
            return (
                f"has a table '{name}' without the columns {', '.join(missing)}:"
                " not a Bulwark event database"
            )
    return None


def _new_file_problem(target: Path) -> str | None:
    parent = target.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot be created: {parent} is not a directory"
    if _read_only(parent):
        return f"cannot be created: {parent} is read-only"
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        return f"cannot be created in {parent}: {exc.strerror}"
    return None


def _read_only(path: Path) -> bool:
    """No write permission bit at all: read-only by intent, even for a superuser (who would
    otherwise write through it)."""
    return not path.stat().st_mode & 0o222
