"""Check an `expect: sql` query before a run: exactly one read-only SELECT.

SQLite itself decides: the query is compiled (`EXPLAIN`, never run) against an empty
in-memory event database with the real tables (`sim.run.recorder.open_db(":memory:")`),
under an authorizer that allows only reading and selecting. So `WITH x AS (...) DELETE
...`, `INSERT`, `PRAGMA`, `ATTACH`, a second statement, a syntax error and an unknown
table or column are all found at validation, with the reason.
"""

from __future__ import annotations

import sqlite3

from sim.run.recorder import open_db

#: Authorizer actions a read-only SELECT needs.
_READ_ONLY = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
#: Names of the actions a query may ask for, for the message.
_ACTIONS = {
    getattr(sqlite3, name): name.removeprefix("SQLITE_").replace("_", " ").lower()
    for name in (
        "SQLITE_INSERT",
        "SQLITE_UPDATE",
        "SQLITE_DELETE",
        "SQLITE_CREATE_TABLE",
        "SQLITE_CREATE_TEMP_TABLE",
        "SQLITE_CREATE_VIEW",
        "SQLITE_CREATE_TEMP_VIEW",
        "SQLITE_CREATE_INDEX",
        "SQLITE_CREATE_TRIGGER",
        "SQLITE_DROP_TABLE",
        "SQLITE_DROP_VIEW",
        "SQLITE_DROP_INDEX",
        "SQLITE_DROP_TRIGGER",
        "SQLITE_ALTER_TABLE",
        "SQLITE_PRAGMA",
        "SQLITE_ATTACH",
        "SQLITE_DETACH",
        "SQLITE_TRANSACTION",
        "SQLITE_SAVEPOINT",
        "SQLITE_ANALYZE",
        "SQLITE_REINDEX",
        "SQLITE_CREATE_VTABLE",
        "SQLITE_DROP_VTABLE",
    )
}


def readonly_select_problem(query: str) -> str | None:
    """Why `query` is not one read-only SELECT over the event tables; None when it is.

    Args:
        query: the text of an `expect: sql` query.

    Returns:
        A message such as "expected one read-only SELECT; this statement would delete
        (runs)", "expected one SELECT, got more than one statement", or "does not
        compile: no such table: snapshot"; None for a good query.
    """
    if "\x00" in query:
        return "the query contains a NUL character"
    db = open_db(":memory:")
    conn = db.conn
    denied: list[str] = []

    def authorize(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
        if action in _READ_ONLY:
            return sqlite3.SQLITE_OK
        what = _ACTIONS.get(action, f"do action {action}")
        denied.append(f"{what} ({arg1})" if arg1 else what)
        return sqlite3.SQLITE_DENY

    conn.set_authorizer(authorize)
    try:
        conn.execute(f"EXPLAIN {query}")
    except sqlite3.ProgrammingError as exc:
        if "one statement" in str(exc):
            return "expected one SELECT, got more than one statement"
        return f"does not compile: {exc}"
    except sqlite3.Error as exc:
        if denied:
            return f"expected one read-only SELECT; this statement would {denied[0]}"
        return f"does not compile: {exc}"
    finally:
        conn.set_authorizer(None)
        conn.close()
    return None
