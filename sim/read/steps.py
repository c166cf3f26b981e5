"""One recorded step read back: its holdings, its messages grouped by proposal, and why it
is worth stopping at. The step-through (`sim.read.stepper`) shows what `step_data` returns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sim.read.queries import (
    ROUTINE_NOTICES,
    InspectError,
    equity_row,
    first_payload,
    messages,
    parse_row,
    proposal_chains,
    query,
)

INTERESTING_OUTCOMES: frozenset[str] = frozenset({"blocked", "amended"})
"""Decision outcomes that make a step worth stopping at."""


def holdings(conn: sqlite3.Connection, run_id: str, step: int) -> list[dict[str, Any]]:
    """The holdings after `step` (snapshots), by asset, flags parsed."""
    return [
        parse_row(r)
        for r in query(
            conn,
            "SELECT asset, bucket, quantity, price, value, weight, score, flags FROM snapshots"
            " WHERE run_id = ? AND step = ? ORDER BY asset",
            [run_id, step],
        )
    ]


def step_data(conn: sqlite3.Connection, run_id: str, step: int) -> dict[str, Any]:
    """Everything the step-through shows for one recorded step.

    Returns:
        run_id, step, date, regime (the regime_update payload or None), equity (the equity
        row), holdings, chains (`proposal_chains`), notices, interventions, replans, and
        messages (every message of the step).

    Raises:
        InspectError: the step is not recorded.
    """
    eq = equity_row(conn, run_id, step)
    if eq is None:
        raise InspectError(f"step {step} is not recorded in run {run_id}")
    msgs = messages(conn, run_id, step=step)
    return {
        "run_id": run_id,
        "step": step,
        "date": eq["date"],
        "regime": first_payload(msgs, "regime_update"),
        "equity": eq,
        "holdings": holdings(conn, run_id, step),
        "chains": proposal_chains(msgs),
        "notices": [m for m in msgs if m["kind"] == "notice"],
        "interventions": [m for m in msgs if m["kind"] in ("intervention", "core_request")],
        "replans": [m for m in msgs if m["kind"] == "replan_request"],
        "messages": msgs,
    }


def events_of_interest(data: Mapping[str, Any], asset: str | None = None) -> list[str]:
    """Why a step is worth stopping at: a regime change, a blocked or amended decision, or
    a notice (only those about `asset`, when given; a regime change always counts).

    Args:
        data: a step as returned by `step_data`.
        asset: the followed asset, or None for every asset.

    Returns:
        One short line per event, in message order; empty when there is none.
    """
    out = []
    for m in data["messages"]:
        p = m["payload"]
        if m["kind"] == "regime_update" and p.get("changed"):
            out.append(f"regime change {p.get('previous')} -> {p.get('regime')}")
        elif asset is not None and m["asset"] != asset:
            continue
        elif m["kind"] == "decision" and p.get("outcome") in INTERESTING_OUTCOMES:
            out.append(f"{m['asset']} {p.get('action')} {p['outcome']} by {p.get('decided_by')}")
        elif m["kind"] == "notice" and p.get("event") not in ROUTINE_NOTICES:
            out.append(f"notice {p.get('event')}" + (f" {m['asset']}" if m["asset"] else ""))
    return out
