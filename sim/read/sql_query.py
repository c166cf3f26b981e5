"""`inspect sql QUERY`: one read-only SQL statement over the event database, under a time
limit, its first rows kept and the rest counted.

The connection is set to `PRAGMA query_only` and given an authorizer that allows only
reading statements and read-only pragmas, and a progress handler stops a statement at its
time limit, so nothing typed at it can change or create a file or hang.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from sim.read.queries import InspectError

SQL_TIMEOUT_S = 10.0
"""`inspect sql --timeout` default: a statement still running after this is stopped."""

SQL_LIMIT = 1000
"""`inspect sql --limit` default: rows shown (the rest are counted, not shown)."""

_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_PRAGMAS_WITH_ARGUMENT = frozenset(
    {
        "table_info",
        "table_xinfo",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
    }
)
"""Read-only pragmas whose argument names what to read (a table, an index, a limit)."""

READ_PRAGMAS = _PRAGMAS_WITH_ARGUMENT | frozenset(
    {
        "table_list",
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
        "encoding",
        "journal_mode",
        "page_count",
        "page_size",
        "freelist_count",
        "schema_version",
        "user_version",
        "application_id",
        "data_version",
    }
)
"""The pragmas `inspect sql` allows; the rest only when read, i.e. without a value."""

SQL_TIMED_OUT = (
    "inspect sql: stopped after {timeout:g} s (--timeout); narrow the query or raise --timeout"
)


def _authorizer(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    """Allow reading (SELECT, WITH, functions) and read-only pragmas; deny everything else:
    every write, ATTACH and DETACH (which can create files; VACUUM INTO attaches), DDL,
    transactions, and every pragma not in READ_PRAGMAS or set to a value."""
    if action in _READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _PRAGMAS_WITH_ARGUMENT or (name in READ_PRAGMAS and arg2 is None):
            return sqlite3.SQLITE_OK
    # SQLite asks for this when a statement first uses an eponymous virtual table such as
    # json_each or pragma_table_info; a real write of sqlite_master needs writable_schema.
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class SqlResult(NamedTuple):
    """What `run_sql` returns: the column names, the first rows, and how many there were."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    total: int


def _refusal(err: sqlite3.DatabaseError) -> InspectError:
    text = str(err)
    if any(word in text for word in ("authoriz", "readonly", "may not be modified")):
        return InspectError(
            f"inspect sql is read-only: {text} (only reading statements and read-only pragmas"
            " are allowed: no writes, ATTACH, DETACH, VACUUM or settings)"
        )
    return InspectError(f"inspect sql: {text}")


def run_sql(
    conn: sqlite3.Connection,
    sql: str,
    params: Sequence[Any] = (),
    *,
    limit: int = SQL_LIMIT,
    timeout: float = SQL_TIMEOUT_S,
) -> SqlResult:
    """Run one read-only statement, at most `timeout` seconds, keeping the first `limit`
    rows (all with 0) and counting the rest.

    The connection is switched to `PRAGMA query_only = ON` and given an authorizer that
    allows only reading and the read-only pragmas (`READ_PRAGMAS`, case-insensitively).

    Raises:
        InspectError: the statement is refused ("inspect sql is read-only: ..."), fails, or
            runs past the time limit.
    """
    conn.execute("PRAGMA query_only = ON")
    conn.set_authorizer(_authorizer)
    deadline = time.monotonic() + timeout
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    rows: list[tuple[Any, ...]] = []
    total = 0
    try:
        cursor = conn.execute(sql, list(params))
        for row in cursor:
            total += 1
            if not limit or total <= limit:
                rows.append(row)
    except sqlite3.OperationalError as err:
        if time.monotonic() > deadline and "interrupt" in str(err):
            raise InspectError(SQL_TIMED_OUT.format(timeout=timeout)) from err
        raise _refusal(err) from err
    except (sqlite3.ProgrammingError, sqlite3.Warning) as err:  # e.g. two statements
        raise InspectError(f"inspect sql: {err}") from err
    except sqlite3.DatabaseError as err:  # the authorizer's refusals
        raise _refusal(err) from err
    finally:
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
    columns = [d[0] for d in cursor.description] if cursor.description else []
    return SqlResult(columns, rows, total)
