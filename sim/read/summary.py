"""What a run did, read back from the event database (pure queries, no presentation)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from sim.read.metrics import MetricValue, metrics_of


def _counts(db: sqlite_utils.Database, run_id: str, kind: str, field: str) -> dict[str, int]:
    """How many messages of `kind` there are per value of payload `field`."""
    return {
        r["k"]: r["n"]
        for r in db.query(
            f"SELECT json_extract(payload,'$.{field}') AS k, COUNT(*) AS n FROM messages"
            " WHERE run_id = ? AND kind = ? GROUP BY k ORDER BY k",
            [run_id, kind],
        )
    }


def breakdowns(values: list[MetricValue]) -> dict[str, dict[str, dict[str, float | None]]]:
    """The per-protection and per-rule rows of `metrics_of` as by -> key -> name -> value."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for m in values:
        if m.by is not None and m.key is not None:
            out.setdefault(m.by, {}).setdefault(m.key, {})[m.name] = m.value
    return out


def summarise(db: sqlite_utils.Database, run_id: str) -> dict[str, Any]:
    """Headline figures of one run: equity, return, drawdown, trades, decisions, notices,
    and every metric: `metrics` (name -> value, None where undefined) and `breakdowns`
    (`protection` and `rule` -> key -> name -> value; `sim.read.metrics.metrics_of`)."""
    run = next(db.query("SELECT * FROM runs WHERE run_id = ?", [run_id]))
    eq = list(
        db.query(
            "SELECT step, date, equity, drawdown, costs FROM equity WHERE run_id = ? ORDER BY step",
            [run_id],
        )
    )
    cash = run["initial_cash"]
    final_equity = eq[-1]["equity"] if eq else None
    fills = next(
        db.query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(json_extract(payload,'$.notional')),0) AS notional,"
            " COALESCE(SUM(json_extract(payload,'$.commission')),0) AS commission"
            " FROM messages WHERE run_id = ? AND kind = 'fill'",
            [run_id],
        )
    )
    outcomes = _counts(db, run_id, "decision", "outcome")
    deciders = _counts(db, run_id, "decision", "decided_by")
    notices = _counts(db, run_id, "notice", "event")
    messages = next(db.query("SELECT COUNT(*) AS n FROM messages WHERE run_id = ?", [run_id]))["n"]
    values = metrics_of(db.conn, run_id)
    return {
        "run_id": run_id,
        "scenario": run["scenario"],
        "status": run["status"],
        "seed": run["seed"],
        "steps": run["steps_completed"],
        "first_date": eq[0]["date"] if eq else None,
        "last_date": eq[-1]["date"] if eq else None,
        "initial_cash": cash,
        "final_equity": final_equity,
        "total_return": (final_equity / cash - 1.0) if eq and cash else None,
        "max_drawdown": max((r["drawdown"] for r in eq), default=0.0),
        "trades": fills["n"],
        "traded_notional": fills["notional"],
        "commission": fills["commission"],
        "costs": sum(r["costs"] for r in eq),
        "messages": messages,
        "decisions_by_outcome": outcomes,
        "decisions_by_system": deciders,
        "notices_by_event": notices,
        "metrics": {m.name: m.value for m in values if m.by is None},
        "breakdowns": breakdowns(values),
    }
