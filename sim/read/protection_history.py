"""`inspect protections TICKER`: when an asset was held, core, in grace and
whipsaw-limited, and every protection event about it, read back from the event database.

Periods come from the holdings snapshots (runs of consecutive steps with the flag set);
whipsaw blocks of opens, which happen while the asset is not held, come from the
`whipsaw_blocked` notices, each telling when opens are allowed again.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sim.read.queries import check_asset, messages, notable_notices, parse_row, query

Row = Mapping[str, Any]


def _days_held(row: Row) -> Any:
    return row["flags"].get("days_held", "?") if row["quantity"] > 0 else None


def _core_until(row: Row) -> Any:
    return row["flags"].get("core_until") if row["flags"].get("core") else None


def _grace_day(row: Row) -> Any:
    return row["flags"].get("grace_day")


def _whipsaw_cycles(row: Row) -> Any:
    return row["flags"].get("whipsaw_cycles") or None


HELD, CORE, GRACE, WHIPSAW, WHIPSAW_BLOCKED = "held", "core", "grace", "whipsaw", "whipsaw-blocked"
"""The period states (`periods[].state`): the four snapshot flags and the blocked opens."""

FLAG_STATES: tuple[tuple[str, Callable[[Row], Any], str], ...] = (
    (HELD, _days_held, "day"),
    (CORE, _core_until, "until"),
    (GRACE, _grace_day, "day"),
    (WHIPSAW, _whipsaw_cycles, "cycles"),
)
"""The states read from the snapshots: (state, the step's detail or None, detail unit)."""

EVENT_STANCES: frozenset[str] = frozenset({"block", "amend", "grant"})
"""The verdict stances listed among an asset's protection events."""


def protection_history(conn: sqlite3.Connection, run_id: str, asset: str) -> dict[str, Any]:
    """When the asset was held, core, in grace, and whipsaw-limited, and every protection
    event about it.

    Returns:
        asset, run_id, periods (state, first/last step and date, steps, detail; by first
        step, then state), events (notices about the asset and the block, amend and grant
        verdicts on it, in order).
    """
    asset = check_asset(conn, run_id, asset)
    notices = notable_notices(messages(conn, run_id, asset=asset, kind="notice"))
    periods = [*_flag_periods(_snapshots(conn, run_id, asset)), *_whipsaw_blocks(notices)]
    periods.sort(key=lambda p: (p["first_step"], p["state"]))
    verdicts = [
        v
        for v in messages(conn, run_id, asset=asset, kind="verdict")
        if v["payload"].get("stance") in EVENT_STANCES
    ]
    events = sorted([*notices, *verdicts], key=lambda m: m["id"])
    return {"run_id": run_id, "asset": asset, "periods": periods, "events": events}


def _snapshots(conn: sqlite3.Connection, run_id: str, asset: str) -> list[dict[str, Any]]:
    return [
        parse_row(r)
        for r in query(
            conn,
            "SELECT step, date, quantity, weight, flags FROM snapshots"
            " WHERE run_id = ? AND asset = ? ORDER BY step",
            [run_id, asset],
        )
    ]


def _flag_periods(snaps: Sequence[Row]) -> list[dict[str, Any]]:
    """The periods of every `FLAG_STATES` state, state by state."""
    out = []
    for state, detail_of, unit in FLAG_STATES:
        for p in _periods(snaps, state, detail_of):
            values = p.pop("values")
            p["detail"] = f"core until {values[-1]}" if state == CORE else _span(values, unit)
            out.append(p)
    return out


def _whipsaw_blocks(notices: Sequence[Row]) -> list[dict[str, Any]]:
    """The periods in which whipsaw blocked the asset's opens (`whipsaw_blocked` notices)."""
    blocks = [n for n in notices if n["payload"].get("event") == "whipsaw_blocked"]
    rows = [{"step": n["step"], "date": n["date"], **n["payload"]} for n in _dedupe_steps(blocks)]
    out = []
    for p in _periods(rows, WHIPSAW_BLOCKED, lambda r: r):
        values = p.pop("values")
        allowed = _opens_allowed_from(values[-1])
        p["detail"] = f"opens blocked on {len(values)} day(s)" + (
            f"; opens allowed again from {allowed}" if allowed else ""
        )
        out.append(p)
    return out


def _opens_allowed_from(block: Row) -> str | None:
    """The date a block's `days_until_reset` points at, or None without one."""
    reset = (block.get("details") or {}).get("days_until_reset")
    if not isinstance(reset, int):
        return None
    return (dt.date.fromisoformat(block["date"]) + dt.timedelta(days=reset)).isoformat()


def _periods(
    rows: Sequence[Row], state: str, detail_of: Callable[[Row], Any]
) -> list[dict[str, Any]]:
    """Runs of consecutive steps where `detail_of(row)` is not None."""
    out: list[dict[str, Any]] = []
    for row in rows:
        detail = detail_of(row)
        if detail is None:
            continue
        last = out[-1] if out else None
        if last is not None and last["last_step"] == row["step"] - 1:
            last["last_step"], last["last_date"] = row["step"], row["date"]
            last["steps"] += 1
            last["values"].append(detail)
        else:
            out.append(
                {
                    "state": state,
                    "first_step": row["step"],
                    "first_date": row["date"],
                    "last_step": row["step"],
                    "last_date": row["date"],
                    "steps": 1,
                    "values": [detail],
                }
            )
    return out


def _span(values: list[Any], unit: str) -> str:
    first, last = values[0], values[-1]
    return f"{unit} {first}" if first == last else f"{unit} {first}..{last}"


def _dedupe_steps(msgs: Sequence[Row]) -> list[Row]:
    """The last message of each step (a re-plan may block the same open twice a day)."""
    by_step: dict[int, Row] = {}
    for m in msgs:
        by_step[m["step"]] = m
    return [by_step[s] for s in sorted(by_step)]
