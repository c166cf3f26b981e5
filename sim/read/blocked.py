"""`inspect blocked [--system S]`: every blocked decision of a run, read back from the
event database, each with its proposal and the other systems that also blocked it."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sim.read.queries import InspectError, query, suggest

_BLOCKED_SQL = (
    "SELECT d.id, d.step, d.date, d.round, d.asset, d.proposal_id, d.payload,"
    " (SELECT group_concat(s, ',') FROM (SELECT json_extract(v.payload, '$.system') AS s"
    "   FROM messages v WHERE v.run_id = d.run_id AND v.proposal_id = d.proposal_id"
    "   AND v.kind = 'verdict' AND json_extract(v.payload, '$.stance') = 'block'"
    "   ORDER BY json_extract(v.payload, '$.priority'), s)) AS blockers,"
    " (SELECT p.payload FROM messages p WHERE p.run_id = d.run_id"
    "   AND p.proposal_id = d.proposal_id AND p.kind = 'proposal') AS proposal"
    " FROM messages d WHERE d.run_id = ? AND d.kind = 'decision'"
    " AND json_extract(d.payload, '$.outcome') = 'blocked'"
)
"""Blocked decisions with their blockers (by priority) and their proposal's payload."""


def systems(conn: sqlite3.Connection, run_id: str) -> list[str]:
    """Every system that gave a verdict or a decision in the run, sorted."""
    rows = query(
        conn,
        "SELECT DISTINCT json_extract(payload, '$.system') AS s FROM messages"
        " WHERE run_id = ? AND kind = 'verdict'"
        " UNION SELECT DISTINCT json_extract(payload, '$.decided_by') FROM messages"
        " WHERE run_id = ? AND kind = 'decision' ORDER BY s",
        [run_id, run_id],
    )
    return [r["s"] for r in rows if r["s"]]


def blocked(conn: sqlite3.Connection, run_id: str, system: str | None = None) -> list[dict]:
    """Every blocked decision of the run (decided by `system`, when given), in order, each
    with the other systems that also blocked it (`also_blocked_by`).

    Raises:
        InspectError: `system` gave no verdict or decision in the run.
    """
    params: list[Any] = [run_id]
    extra = ""
    if system is not None:
        _check_system(conn, run_id, system)
        extra = " AND json_extract(d.payload, '$.decided_by') = ?"
        params.append(system)
    rows = query(conn, _BLOCKED_SQL + extra + " ORDER BY d.id", params)
    return [_blocked_entry(r) for r in rows]


def _check_system(conn: sqlite3.Connection, run_id: str, system: str) -> None:
    known = systems(conn, run_id)
    if system not in known:
        raise InspectError(
            f"unknown system {system!r} in run {run_id}{suggest(system, known)};"
            f" systems: {', '.join(known)}"
        )


def _blocked_entry(row: dict[str, Any]) -> dict[str, Any]:
    """One row of `_BLOCKED_SQL` as the decision's fields, its proposal's target and
    origin, and the systems other than the decider that blocked it."""
    p = json.loads(row.pop("payload"))
    proposal = json.loads(row.pop("proposal") or "{}")
    blockers = [s for s in (row.pop("blockers") or "").split(",") if s]
    return {
        **row,
        "action": p.get("action"),
        "from_weight": p.get("from_weight"),
        "to_weight": proposal.get("to_weight"),
        "origin": proposal.get("origin"),
        "decided_by": p.get("decided_by"),
        "reason": p.get("reason"),
        "also_blocked_by": [s for s in blockers if s != p.get("decided_by")],
    }
