"""`inspect why TICKER DATE`: the chain behind one asset's decision on one day, read back
from the event database (the day's regime, the holding before and after, the score and its
components, every proposal with its verdicts, decision and fills, the notices and requests
naming the asset, the asset's place in the plan, and one line naming the root cause)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sim.read.queries import (
    InspectError,
    check_asset,
    equity_row,
    first_payload,
    messages,
    notable_notices,
    parse_row,
    proposal_chains,
    query,
)

# --- the day a user names ----------------------------------------------------------------


def step_of_date(conn: sqlite3.Connection, run_id: str, when: str) -> tuple[int, str]:
    """The (step, date) a user's DATE names: an ISO date of the run, or a step number.

    Raises:
        InspectError: not a date or step, or no step of the run falls on it.
    """
    bounds = query(
        conn,
        "SELECT MIN(date) AS first, MAX(date) AS last, MAX(step) AS steps FROM equity"
        " WHERE run_id = ?",
        [run_id],
    )[0]
    if when.isascii() and when.isdigit():
        return _step_of_number(conn, run_id, when, bounds)
    return _step_of_day(conn, run_id, when, bounds)


def _step_of_number(
    conn: sqlite3.Connection, run_id: str, when: str, bounds: Mapping[str, Any]
) -> tuple[int, str]:
    # a number beyond any step (or SQLite's INTEGER) is simply not a step of the run
    digits = when.lstrip("0") or "0"
    step = int(digits) if len(digits) <= len(str(bounds["steps"] or 0)) else -1
    row = query(conn, "SELECT step, date FROM equity WHERE run_id = ? AND step = ?", [run_id, step])
    if not row:
        raise InspectError(f"no step {when} in run {run_id} (steps 0..{bounds['steps']})")
    return row[0]["step"], row[0]["date"]


def _step_of_day(
    conn: sqlite3.Connection, run_id: str, when: str, bounds: Mapping[str, Any]
) -> tuple[int, str]:
    try:
        day = dt.date.fromisoformat(when).isoformat()
    except ValueError as err:
        raise InspectError(f"{when!r}: expected a date YYYY-MM-DD or a step number") from err
    row = query(conn, "SELECT step, date FROM equity WHERE run_id = ? AND date = ?", [run_id, day])
    if row:
        return row[0]["step"], row[0]["date"]
    before = query(
        conn,
        "SELECT MAX(date) AS d FROM equity WHERE run_id = ? AND date < ?",
        [run_id, day],
    )[0]["d"]
    after = query(
        conn,
        "SELECT MIN(date) AS d FROM equity WHERE run_id = ? AND date > ?",
        [run_id, day],
    )[0]["d"]
    near = ", ".join(d for d in (before, after) if d)
    raise InspectError(
        f"{day} is not a simulated day of run {run_id} ({bounds['first']} .. {bounds['last']});"
        f" nearest: {near or 'none'}"
    )


# --- the chain of one day ----------------------------------------------------------------


def why(conn: sqlite3.Connection, run_id: str, asset: str, when: str) -> dict[str, Any]:
    """The chain behind one asset's decision on one day.

    Returns:
        run_id, asset, step, date; regime (that day's regime_update payload); equity;
        before and after (the asset's holding after the previous step and after this one, or
        None); score (the day's score: from its proposal, the day's score_update or the
        snapshot); components (the scoring components of the first proposal, or {});
        chains (every proposal about the asset that day, with verdicts, decision, fills);
        notices, related (interventions, core requests, re-plan requests naming the asset);
        root_cause (one line, or None without a decision); nearby (the closest earlier and
        later dates with a decision about the asset, when there is none that day);
        selection (the asset's place in the plan as of that day, `selection_status`).
    """
    asset = check_asset(conn, run_id, asset)
    step, date = step_of_date(conn, run_id, when)
    day = messages(conn, run_id, step=step)
    mine = [m for m in day if m["asset"] == asset]
    chains = proposal_chains(mine)
    after = _holding(conn, run_id, step, asset)
    return {
        "run_id": run_id,
        "asset": asset,
        "step": step,
        "date": date,
        "regime": first_payload(day, "regime_update"),
        "equity": equity_row(conn, run_id, step),
        "before": _holding(conn, run_id, step - 1, asset) if step > 0 else None,
        "after": after,
        "score": _day_score(chains, day, asset, after),
        "components": _components(chains),
        "chains": chains,
        "notices": notable_notices(mine),
        "related": _related(mine, day, asset),
        "root_cause": root_cause(chains),
        "nearby": {} if chains else _nearby_decisions(conn, run_id, asset, step),
        "selection": selection_status(conn, run_id, asset, step),
    }


def _holding(conn: sqlite3.Connection, run_id: str, step: int, asset: str) -> dict | None:
    row = query(
        conn,
        "SELECT step, date, bucket, quantity, price, value, weight, score, flags FROM snapshots"
        " WHERE run_id = ? AND step = ? AND asset = ?",
        [run_id, step, asset],
    )
    return parse_row(row[0]) if row else None


def _day_score(
    chains: Sequence[Mapping[str, Any]],
    day: Sequence[Mapping[str, Any]],
    asset: str,
    after: Mapping[str, Any] | None,
) -> float | None:
    """The first proposal's score, else the day's score_update, else the snapshot's."""
    score = chains[0]["proposal"]["payload"].get("score") if chains else None
    if score is None:
        scores = (first_payload(day, "score_update") or {}).get("scores", {})
        score = scores.get(asset, after["score"] if after else None)
    return score


def _components(chains: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The scoring components of the first proposal, or {}."""
    return dict(chains[0]["proposal"]["payload"].get("components") or {}) if chains else {}


def _related(
    mine: Sequence[Mapping[str, Any]], day: Sequence[Mapping[str, Any]], asset: str
) -> list[Mapping[str, Any]]:
    """The asset's interventions and core requests, then the re-plan requests naming it."""
    replans = [m for m in day if m["kind"] == "replan_request" and _names(m["payload"], asset)]
    return [m for m in mine if m["kind"] in ("intervention", "core_request")] + replans


def _names(payload: Mapping[str, Any], asset: str) -> bool:
    return asset in (payload.get("locked") or {}) or asset in (payload.get("blocked") or [])


def _nearby_decisions(
    conn: sqlite3.Connection, run_id: str, asset: str, step: int
) -> dict[str, str | None]:
    """The dates of the closest decisions about the asset before and after `step`."""
    nearby: dict[str, str | None] = {}
    for name, op, order in (("before", "<", "DESC"), ("after", ">", "ASC")):
        row = query(
            conn,
            f"SELECT date FROM messages WHERE run_id = ? AND asset = ? AND kind = 'decision'"
            f" AND step {op} ? ORDER BY id {order} LIMIT 1",
            [run_id, asset, step],
        )
        nearby[name] = row[0]["date"] if row else None
    return nearby


def root_cause(chains: Sequence[Mapping[str, Any]]) -> str | None:
    """One line naming what decided the day's last decision about an asset: the system,
    its priority and stance, and its reason (and which systems it overrode)."""
    decided = [c for c in chains if c["decision"] is not None]
    if not decided:
        return None
    chain = decided[-1]
    d = chain["decision"]["payload"]
    system = d["decided_by"]
    verdict = next(
        (v["payload"] for v in chain["verdicts"] if v["payload"]["system"] == system), None
    )
    who = f"{system} (priority {verdict['priority']}, {verdict['stance']})" if verdict else system
    line = (
        f"{chain['proposal']['payload']['action']} {d['outcome'].upper()} by {who}:"
        f" {verdict['reason'] if verdict else d['reason']}"
    )
    if d.get("overridden"):
        line += f"; overrode {', '.join(d['overridden'])}"
    return line


def selection_status(
    conn: sqlite3.Connection, run_id: str, asset: str, step: int
) -> dict[str, Any] | None:
    """The asset's place in the plan as of `step`: its latest `selection` notice on or
    before that step (its details, with `since`, the date of that notice), or None."""
    rows = query(
        conn,
        "SELECT date, payload FROM messages WHERE run_id = ? AND asset = ? AND kind = 'notice'"
        " AND json_extract(payload, '$.event') = 'selection' AND step <= ?"
        " ORDER BY id DESC LIMIT 1",
        [run_id, asset, step],
    )
    if not rows:
        return None
    row = parse_row(rows[0])
    return {**row["payload"]["details"], "since": row["date"]}
