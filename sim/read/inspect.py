"""Reading the event database back: read-only queries returning plain data, and the
`inspect` command (`python run.py inspect DB SUBCOMMAND ...`).

Every query is a function over an open `sqlite3.Connection` that returns plain lists and
dicts (payloads parsed from JSON); `sim.read.inspect_view` turns them into rich renderables.
User values are always bound as parameters, never formatted into SQL. The command opens
the database read-only (`mode=ro`, `sim.dbfile.open_readonly`); `sql` also sets
`PRAGMA query_only`, allows only reading statements and read-only pragmas, and stops a
query at its time limit, so nothing typed at it can change or create a file or hang.
A run recorded as `running` whose writer is gone is reported `crashed` (`sim.liveness`).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import difflib
import importlib.util
import json
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import sqlite_utils
from rich.console import Console

from sim.dbfile import DatabaseFileError
from sim.dbfile import open_readonly as open_file_readonly
from sim.liveness import run_status
from sim.read import inspect_view as view
from sim.read.summary import summarise
from sim.recorder import CONTRACT

TABLES: tuple[str, ...] = ("runs", "messages", "snapshots", "equity")
"""The tables of a run, in export order."""

TABLE_ORDER: Mapping[str, str] = {
    "runs": "run_id",
    "messages": "id",
    "snapshots": "step, asset",
    "equity": "step",
}

COMPARED_COLUMNS: tuple[str, ...] = tuple(
    c for c in CONTRACT["messages"] if c not in ("id", "run_id", "in_reply_to")
)
"""The message columns `compare` aligns two runs on (ids and run ids are left out)."""

COMPARED_METRICS: tuple[str, ...] = (
    "final_equity",
    "total_return",
    "max_drawdown",
    "trades",
    "costs",
)

INTERESTING_OUTCOMES: frozenset[str] = frozenset({"blocked", "amended"})
ROUTINE_NOTICES: frozenset[str] = frozenset({"rebalance", "selection"})
"""Notices that mark an ordinary day: the portfolio manager's rebalance record and its
selection changes (`why` shows the latter)."""

EXIT_OK, EXIT_INVALID = 0, 2


class InspectError(Exception):
    """A user error the `inspect` command reports with exit code 2: a bad database path,
    an unknown run, ticker, date or system, bad arguments, or a refused write."""


# --- connection and helpers -------------------------------------------------------------


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """Open an event database read-only (`sim.dbfile.open_readonly`).

    Raises:
        InspectError: the file does not exist, is not SQLite, needs a recovery this process
            cannot do, or lacks Bulwark's tables.
    """
    try:
        conn = open_file_readonly(path)
    except DatabaseFileError as err:
        raise InspectError(str(err)) from err
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in TABLES if t not in names]
    if missing:
        conn.close()
        raise InspectError(f"{path}: not a Bulwark event database (no table {', '.join(missing)})")
    return conn


def query(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts (independent of the connection's row factory)."""
    cursor = conn.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _parse(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for key in ("payload", "flags", "config"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


def _suggest(value: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(value, choices, n=1)
    if not close:
        close = [c for c in choices if c.lower() == value.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- runs --------------------------------------------------------------------------------


RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "scenario",
    "seed",
    "status",
    "steps_completed",
    "messages",
    "started_at",
    "finished_at",
    "writer_host",
    "writer_pid",
    "heartbeat_at",
)
"""The columns `list_runs` reports (the writer ones are None in files written before them)."""


def list_runs(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every run of the database, oldest first. `status` is the reported one (`crashed` for a
    `running` run whose writer is gone, `sim.liveness`); `recorded_status` is the stored one.
    """
    out = []
    for row in query(conn, "SELECT * FROM runs ORDER BY started_at, rowid"):
        run = {name: row.get(name) for name in RUN_COLUMNS}
        run["recorded_status"] = row["status"]
        run["status"] = run_status(row)
        out.append(run)
    return out


def resolve_run(conn: sqlite3.Connection, run_id: str | None = None) -> str:
    """`run_id` when it is a run of the database, else the latest run when it is None.

    Raises:
        InspectError: the run is unknown, or the database holds no run.
    """
    if run_id is None:
        row = query(conn, "SELECT run_id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1")
        if not row:
            raise InspectError("the database holds no run")
        return row[0]["run_id"]
    if query(conn, "SELECT 1 FROM runs WHERE run_id = ?", [run_id]):
        return run_id
    ids = [r["run_id"] for r in query(conn, "SELECT run_id FROM runs ORDER BY rowid")]
    raise InspectError(f"unknown run {run_id!r}{_suggest(run_id, ids)}; runs: {', '.join(ids)}")


def run_summary(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    """The headline figures of a run (`sim.read.summary.summarise`); `status` is the reported one
    (`crashed` for a `running` run whose writer is gone), `recorded_status` the stored one."""
    summary = summarise(sqlite_utils.Database(conn, recursive_triggers=False), run_id)
    row = query(conn, "SELECT * FROM runs WHERE run_id = ?", [run_id])[0]
    summary["recorded_status"] = row["status"]
    summary["status"] = run_status(row)
    return summary


# --- messages ----------------------------------------------------------------------------


def messages(
    conn: sqlite3.Connection,
    run_id: str,
    *,
    step: int | None = None,
    asset: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Messages of a run in order, payloads parsed, filtered by step, asset and kind."""
    clauses, params = ["run_id = ?"], [run_id]
    for column, value in (("step", step), ("asset", asset), ("kind", kind)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return [
        _parse(r)
        for r in query(
            conn,
            "SELECT id, step, date, round, sender, recipient, kind, asset, proposal_id,"
            f" in_reply_to, payload FROM messages WHERE {' AND '.join(clauses)} ORDER BY id",
            params,
        )
    ]


def known_assets(conn: sqlite3.Connection, run_id: str) -> list[str]:
    """Every ticker the run's messages or holdings mention, sorted."""
    rows = query(
        conn,
        "SELECT asset FROM messages WHERE run_id = ? AND asset IS NOT NULL"
        " UNION SELECT asset FROM snapshots WHERE run_id = ? ORDER BY asset",
        [run_id, run_id],
    )
    return [r["asset"] for r in rows]


def check_asset(conn: sqlite3.Connection, run_id: str, asset: str) -> str:
    """`asset` when the run knows it.

    Raises:
        InspectError: no message or holding of the run names the asset.
    """
    assets = known_assets(conn, run_id)
    if asset in assets:
        return asset
    raise InspectError(
        f"unknown ticker {asset!r} in run {run_id}{_suggest(asset, assets)};"
        f" tickers: {', '.join(assets) or 'none'}"
    )


def timeline(conn: sqlite3.Connection, run_id: str, asset: str) -> list[dict[str, Any]]:
    """Every message about `asset` (its `asset` column), in order."""
    return messages(conn, run_id, asset=check_asset(conn, run_id, asset))


def _sort_verdicts(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(verdicts, key=lambda v: (v["payload"]["priority"], v["payload"]["system"]))


def proposal_chains(msgs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group one step's messages by proposal: each proposal with its verdicts (by priority,
    then system), its decision and its fills, in proposal order.

    Args:
        msgs: messages as returned by `messages` (any subset holding whole proposals).
    """
    chains: dict[str, dict[str, Any]] = {}
    for m in msgs:
        pid = m["proposal_id"]
        if m["kind"] == "proposal":
            chains[pid] = {"proposal": m, "verdicts": [], "decision": None, "fills": []}
        elif pid in chains:
            chain = chains[pid]
            if m["kind"] == "verdict":
                chain["verdicts"].append(m)
            elif m["kind"] == "decision":
                chain["decision"] = m
            elif m["kind"] == "fill":
                chain["fills"].append(m)
    for chain in chains.values():
        chain["verdicts"] = _sort_verdicts(chain["verdicts"])
    return list(chains.values())


# --- one step ---------------------------------------------------------------------------


def holdings(conn: sqlite3.Connection, run_id: str, step: int) -> list[dict[str, Any]]:
    """The holdings after `step` (snapshots), by asset, flags parsed."""
    return [
        _parse(r)
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
    eq = query(conn, "SELECT * FROM equity WHERE run_id = ? AND step = ?", [run_id, step])
    if not eq:
        raise InspectError(f"step {step} is not recorded in run {run_id}")
    msgs = messages(conn, run_id, step=step)
    regime = next((m["payload"] for m in msgs if m["kind"] == "regime_update"), None)
    return {
        "run_id": run_id,
        "step": step,
        "date": eq[0]["date"],
        "regime": regime,
        "equity": eq[0],
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


# --- why ---------------------------------------------------------------------------------


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
        # a number beyond any step (or SQLite's INTEGER) is simply not a step of the run
        digits = when.lstrip("0") or "0"
        step = int(digits) if len(digits) <= len(str(bounds["steps"] or 0)) else -1
        row = query(
            conn, "SELECT step, date FROM equity WHERE run_id = ? AND step = ?", [run_id, step]
        )
        if not row:
            raise InspectError(f"no step {when} in run {run_id} (steps 0..{bounds['steps']})")
        return row[0]["step"], row[0]["date"]
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


def _holding(conn: sqlite3.Connection, run_id: str, step: int, asset: str) -> dict | None:
    row = query(
        conn,
        "SELECT step, date, bucket, quantity, price, value, weight, score, flags FROM snapshots"
        " WHERE run_id = ? AND step = ? AND asset = ?",
        [run_id, step, asset],
    )
    return _parse(row[0]) if row else None


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
    regime = next((m["payload"] for m in day if m["kind"] == "regime_update"), None)
    scores = next((m["payload"].get("scores", {}) for m in day if m["kind"] == "score_update"), {})
    after = _holding(conn, run_id, step, asset)
    score = chains[0]["proposal"]["payload"].get("score") if chains else None
    if score is None:
        score = scores.get(asset, after["score"] if after else None)
    related = [m for m in day if m["kind"] == "replan_request" and _names(m["payload"], asset)]
    status = selection_status(conn, run_id, asset, step)
    nearby: dict[str, str | None] = {}
    if not chains:
        for name, op, order in (("before", "<", "DESC"), ("after", ">", "ASC")):
            row = query(
                conn,
                f"SELECT date FROM messages WHERE run_id = ? AND asset = ? AND kind = 'decision'"
                f" AND step {op} ? ORDER BY id {order} LIMIT 1",
                [run_id, asset, step],
            )
            nearby[name] = row[0]["date"] if row else None
    return {
        "run_id": run_id,
        "asset": asset,
        "step": step,
        "date": date,
        "regime": regime,
        "equity": query(conn, "SELECT * FROM equity WHERE run_id = ? AND step = ?", [run_id, step])[
            0
        ],
        "before": _holding(conn, run_id, step - 1, asset) if step > 0 else None,
        "after": after,
        "score": score,
        "components": dict(chains[0]["proposal"]["payload"].get("components") or {})
        if chains
        else {},
        "chains": chains,
        "notices": [
            m
            for m in mine
            if m["kind"] == "notice" and m["payload"].get("event") not in ROUTINE_NOTICES
        ],
        "related": [m for m in mine if m["kind"] in ("intervention", "core_request")] + related,
        "root_cause": root_cause(chains),
        "nearby": nearby,
        "selection": status,
    }


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
    row = _parse(rows[0])
    return {**row["payload"]["details"], "since": row["date"]}


def _names(payload: Mapping[str, Any], asset: str) -> bool:
    return asset in (payload.get("locked") or {}) or asset in (payload.get("blocked") or [])


# --- blocked -----------------------------------------------------------------------------


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
    if system is not None:
        known = systems(conn, run_id)
        if system not in known:
            raise InspectError(
                f"unknown system {system!r} in run {run_id}{_suggest(system, known)};"
                f" systems: {', '.join(known)}"
            )
    params: list[Any] = [run_id]
    extra = ""
    if system is not None:
        extra = " AND json_extract(d.payload, '$.decided_by') = ?"
        params.append(system)
    rows = query(
        conn,
        "SELECT d.id, d.step, d.date, d.round, d.asset, d.proposal_id, d.payload,"
        " (SELECT group_concat(s, ',') FROM (SELECT json_extract(v.payload, '$.system') AS s"
        "   FROM messages v WHERE v.run_id = d.run_id AND v.proposal_id = d.proposal_id"
        "   AND v.kind = 'verdict' AND json_extract(v.payload, '$.stance') = 'block'"
        "   ORDER BY json_extract(v.payload, '$.priority'), s)) AS blockers,"
        " (SELECT p.payload FROM messages p WHERE p.run_id = d.run_id"
        "   AND p.proposal_id = d.proposal_id AND p.kind = 'proposal') AS proposal"
        " FROM messages d WHERE d.run_id = ? AND d.kind = 'decision'"
        " AND json_extract(d.payload, '$.outcome') = 'blocked'" + extra + " ORDER BY d.id",
        params,
    )
    out = []
    for r in rows:
        p = json.loads(r.pop("payload"))
        proposal = json.loads(r.pop("proposal") or "{}")
        blockers = [s for s in (r.pop("blockers") or "").split(",") if s]
        out.append(
            {
                **r,
                "action": p.get("action"),
                "from_weight": p.get("from_weight"),
                "to_weight": proposal.get("to_weight"),
                "origin": proposal.get("origin"),
                "decided_by": p.get("decided_by"),
                "reason": p.get("reason"),
                "also_blocked_by": [s for s in blockers if s != p.get("decided_by")],
            }
        )
    return out


# --- protections --------------------------------------------------------------------------


def _periods(rows: Sequence[Mapping[str, Any]], state: str, detail_of: Any) -> list[dict[str, Any]]:
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


def protection_history(conn: sqlite3.Connection, run_id: str, asset: str) -> dict[str, Any]:
    """When the asset was held, core, in grace, and whipsaw-limited, and every protection
    event about it.

    Periods come from the holdings snapshots (runs of consecutive steps with the flag
    set); whipsaw blocks of opens, which happen while the asset is not held, come from
    the `whipsaw_blocked` notices, each telling when opens are allowed again.

    Returns:
        asset, run_id, periods (state, first/last step and date, steps, detail; by first
        step, then state), events (notices about the asset and the block, amend and grant
        verdicts on it, in order).
    """
    asset = check_asset(conn, run_id, asset)
    snaps = [
        _parse(r)
        for r in query(
            conn,
            "SELECT step, date, quantity, weight, flags FROM snapshots"
            " WHERE run_id = ? AND asset = ? ORDER BY step",
            [run_id, asset],
        )
    ]
    periods = []
    for state, detail_of, unit in (
        ("held", lambda r: r["flags"].get("days_held", "?") if r["quantity"] > 0 else None, "day"),
        (
            "core",
            lambda r: r["flags"].get("core_until") if r["flags"].get("core") else None,
            "until",
        ),
        ("grace", lambda r: r["flags"].get("grace_day"), "day"),
        ("whipsaw", lambda r: r["flags"].get("whipsaw_cycles") or None, "cycles"),
    ):
        for p in _periods(snaps, state, detail_of):
            values = p.pop("values")
            p["detail"] = f"core until {values[-1]}" if state == "core" else _span(values, unit)
            periods.append(p)
    notices = [
        n
        for n in messages(conn, run_id, asset=asset, kind="notice")
        if n["payload"].get("event") not in ROUTINE_NOTICES
    ]
    blocks = [n for n in notices if n["payload"].get("event") == "whipsaw_blocked"]
    for p in _periods(
        [{"step": n["step"], "date": n["date"], **n["payload"]} for n in _dedupe_steps(blocks)],
        "whipsaw-blocked",
        lambda r: r,
    ):
        values = p.pop("values")
        last = values[-1]
        reset = (last.get("details") or {}).get("days_until_reset")
        allowed = (
            (dt.date.fromisoformat(last["date"]) + dt.timedelta(days=reset)).isoformat()
            if isinstance(reset, int)
            else None
        )
        p["detail"] = f"opens blocked on {len(values)} day(s)" + (
            f"; opens allowed again from {allowed}" if allowed else ""
        )
        periods.append(p)
    periods.sort(key=lambda p: (p["first_step"], p["state"]))
    verdicts = [
        v
        for v in messages(conn, run_id, asset=asset, kind="verdict")
        if v["payload"].get("stance") in ("block", "amend", "grant")
    ]
    events = sorted([*notices, *verdicts], key=lambda m: m["id"])
    return {"run_id": run_id, "asset": asset, "periods": periods, "events": events}


def _dedupe_steps(msgs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The last message of each step (a re-plan may block the same open twice a day)."""
    by_step: dict[int, Mapping[str, Any]] = {}
    for m in msgs:
        by_step[m["step"]] = m
    return [by_step[s] for s in sorted(by_step)]


# --- compare ------------------------------------------------------------------------------


def _message_rows(conn: sqlite3.Connection, run_id: str) -> Iterator[tuple[Any, ...]]:
    return conn.execute(
        f"SELECT id, {', '.join(COMPARED_COLUMNS)} FROM messages WHERE run_id = ? ORDER BY id",
        [run_id],
    )


def first_divergence(
    rows_a: Iterable[tuple[Any, ...]], rows_b: Iterable[tuple[Any, ...]]
) -> dict[str, Any] | None:
    """The first rank at which two ordered message tables differ, or None.

    Args:
        rows_a: (id, *COMPARED_COLUMNS) tuples in order (the id is not compared).
        rows_b: the same for the other table.

    Returns:
        index (0-based rank), a and b (the messages, None where a table has no message at
        that rank), fields (the differing columns), payload_keys (the differing payload
        keys); None when the tables are identical.
    """
    for index, (ra, rb) in enumerate(zip_longest(rows_a, rows_b)):
        if ra is not None and rb is not None and ra[1:] == rb[1:]:
            continue
        a, b = _as_message(ra), _as_message(rb)
        fields = (
            [c for c in COMPARED_COLUMNS if a[c] != b[c]] if a is not None and b is not None else []
        )
        keys = []
        if "payload" in fields:
            keys = sorted(
                k
                for k in set(a["payload"]) | set(b["payload"])
                if a["payload"].get(k) != b["payload"].get(k)
            )
        return {"index": index, "a": a, "b": b, "fields": fields, "payload_keys": keys}
    return None


def _as_message(row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(zip(("id", *COMPARED_COLUMNS), row, strict=True))
    out["payload"] = json.loads(out["payload"])
    return out


def compare_runs(
    conn_a: sqlite3.Connection,
    run_a: str,
    conn_b: sqlite3.Connection,
    run_b: str,
) -> dict[str, Any]:
    """Align two runs' messages by their order and find the first difference.

    Messages are compared on (step, date, round, sender, recipient, kind, asset,
    proposal_id, payload); the message ids themselves are not compared.

    Returns:
        run_a, run_b; compared (messages compared up to the divergence, or all);
        divergence (None when identical, else index (0-based rank), a and b (the messages,
        None where a run has no message at that rank), fields (the differing columns),
        payload_keys (the differing payload keys)); metrics (name -> a, b, delta);
        config (parameter -> a, b, for every parameter that differs); summaries.
    """
    divergence = first_divergence(_message_rows(conn_a, run_a), _message_rows(conn_b, run_b))
    compared = (
        divergence["index"]
        if divergence
        else conn_a.execute("SELECT COUNT(*) FROM messages WHERE run_id = ?", [run_a]).fetchone()[0]
    )
    sa, sb = run_summary(conn_a, run_a), run_summary(conn_b, run_b)
    metrics = {}
    for name in COMPARED_METRICS:
        va, vb = sa.get(name), sb.get(name)
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        metrics[name] = {"a": va, "b": vb, "delta": delta}
    config_a = _config(conn_a, run_a)
    config_b = _config(conn_b, run_b)
    config = {
        k: {"a": config_a.get(k), "b": config_b.get(k)}
        for k in sorted(set(config_a) | set(config_b))
        if config_a.get(k) != config_b.get(k)
    }
    return {
        "run_a": run_a,
        "run_b": run_b,
        "compared": compared,
        "divergence": divergence,
        "metrics": metrics,
        "config": config,
        "summaries": {"a": sa, "b": sb},
    }


def _config(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    row = query(conn, "SELECT config FROM runs WHERE run_id = ?", [run_id])
    return json.loads(row[0]["config"] or "{}") if row else {}


# --- sql ---------------------------------------------------------------------------------

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


# --- export -------------------------------------------------------------------------------


def require_package(name: str, why_: str) -> None:
    """Raise InspectError naming `name` when it cannot be imported."""
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InspectError(
            f"{why_} needs the {name} package, which is not installed (pip install {name})"
        )


def export_run(
    conn: sqlite3.Connection, run_id: str, fmt: str, out_dir: str | Path
) -> list[dict[str, Any]]:
    """Write every table of one run (runs, messages, snapshots, equity) to `out_dir`,
    one file per table (`<table>.csv` or `<table>.parquet`), overwriting.

    Returns:
        One entry per table: table, path, rows.

    Raises:
        InspectError: unknown format, or parquet without pyarrow.
    """
    if fmt not in ("csv", "parquet"):
        raise InspectError(f"unknown export format {fmt!r}: csv or parquet")
    if fmt == "parquet":
        require_package("pyarrow", "export --format parquet")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        sql = f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {TABLE_ORDER[table]}"
        path = out / f"{table}.{fmt}"
        if fmt == "csv":
            cursor = conn.execute(sql, [run_id])
            n = 0
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow([d[0] for d in cursor.description])
                for row in cursor:
                    writer.writerow(row)
                    n += 1
        else:
            import pandas as pd

            frame = pd.read_sql_query(sql, conn, params=[run_id])
            frame.to_parquet(path, engine="pyarrow", index=False)
            n = len(frame)
        written.append({"table": table, "path": str(path), "rows": n})
    return written


# --- the command --------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that raises InspectError instead of exiting on a usage error."""

    def error(self, message: str) -> NoReturn:
        raise InspectError(f"{self.prog}: {message}")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The `inspect` argument parser."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the data as JSON")
    one_run = _Parser(add_help=False)
    one_run.add_argument("--run", help="run id (default: the latest run)")
    p = _Parser(
        prog="run.py inspect",
        description="Inspect an event database (opened read-only). The latest run is the"
        " default wherever a run is needed.",
    )
    p.add_argument("db", help="event database, e.g. runs/baseline.db")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("runs", parents=[common], help="every run in the database")
    sub.add_parser("summary", parents=[common, one_run], help="headline figures of a run")
    s = sub.add_parser("timeline", parents=[common, one_run], help="every message about an asset")
    s.add_argument("ticker")
    s = sub.add_parser(
        "why", parents=[common, one_run], help="the chain behind an asset's decision on a day"
    )
    s.add_argument("ticker")
    s.add_argument("date", help="YYYY-MM-DD, or a step number")
    s = sub.add_parser("blocked", parents=[common, one_run], help="every blocked decision")
    s.add_argument("--system", help="only blocks decided by this system")
    s = sub.add_parser(
        "protections",
        parents=[common, one_run],
        help="when an asset was held, core, in grace, whipsaw-limited",
    )
    s.add_argument("ticker")
    s = sub.add_parser(
        "compare", parents=[common], help="first diverging message and metric deltas"
    )
    s.add_argument("run_a")
    s.add_argument("run_b")
    s.add_argument("--db-b", help="database of RUN_B (default: the same database)")
    s = sub.add_parser("sql", parents=[common], help="one read-only SQL statement")
    s.add_argument("query")
    s.add_argument(
        "--limit",
        type=_count,
        default=SQL_LIMIT,
        help=f"show at most N rows, counting the rest (default {SQL_LIMIT}; 0: all)",
    )
    s.add_argument(
        "--timeout",
        type=_seconds,
        default=SQL_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop the statement after this long (default {SQL_TIMEOUT_S:g})",
    )
    s = sub.add_parser("export", parents=[one_run], help="write a run's tables to files")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv")
    s.add_argument("--out", help="directory (default: <db dir>/<run id>)")
    return p


def _emit_json(console: Console, data: Any) -> None:
    console.print(
        json.dumps(data, indent=2, sort_keys=True, default=str),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def inspect_command(argv: Sequence[str], console: Console) -> int:
    """`run.py inspect DB SUBCOMMAND ...`: run one inspection and print it.

    Returns:
        0, or 2 after printing a clear message for a bad database path, an unknown run,
        ticker, date or system, bad arguments, or a refused write.
    """
    try:
        args = build_parser().parse_args(list(argv))
    except InspectError as err:
        console.print(str(err), markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID
    except SystemExit as done:  # --help
        return int(done.code or 0)
    conns: list[sqlite3.Connection] = []
    try:
        conn = open_readonly(args.db)
        conns.append(conn)
        _dispatch(args, conn, conns, console)
    except InspectError as err:
        console.print(str(err), markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID
    finally:
        for c in conns:
            c.close()
    return EXIT_OK


def _dispatch(
    args: argparse.Namespace,
    conn: sqlite3.Connection,
    conns: list[sqlite3.Connection],
    console: Console,
) -> None:
    command = args.command
    as_json = getattr(args, "json", False)
    if command == "runs":
        data: Any = list_runs(conn)
        renderable: Any = view.runs_table(data)
    elif command == "summary":
        data = run_summary(conn, resolve_run(conn, args.run))
        renderable = view.summary_view(data)
    elif command == "timeline":
        run_id = resolve_run(conn, args.run)
        data = timeline(conn, run_id, args.ticker)
        renderable = view.timeline_table(run_id, args.ticker, data)
    elif command == "why":
        data = why(conn, resolve_run(conn, args.run), args.ticker, args.date)
        renderable = view.why_view(data)
    elif command == "blocked":
        run_id = resolve_run(conn, args.run)
        data = blocked(conn, run_id, args.system)
        renderable = view.blocked_table(run_id, args.system, data)
    elif command == "protections":
        data = protection_history(conn, resolve_run(conn, args.run), args.ticker)
        renderable = view.protections_view(data)
    elif command == "compare":
        conn_b = conn
        if args.db_b:
            conn_b = open_readonly(args.db_b)
            conns.append(conn_b)
        data = compare_runs(
            conn, resolve_run(conn, args.run_a), conn_b, resolve_run(conn_b, args.run_b)
        )
        renderable = view.compare_view(data)
    elif command == "sql":
        result = run_sql(conn, args.query, limit=args.limit, timeout=args.timeout)
        data = {
            "columns": result.columns,
            "rows": [list(r) for r in result.rows],
            "total_rows": result.total,
        }
        renderable = view.sql_table(result.columns, result.rows, total=result.total)
    else:  # export
        run_id = resolve_run(conn, args.run)
        out = args.out or str(Path(args.db).parent / run_id)
        data = export_run(conn, run_id, args.format, out)
        renderable = view.export_view(run_id, data)
    if as_json:
        _emit_json(console, data)
    else:
        console.print(renderable)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (`python -m sim.read.inspect DB ...`)."""
    return inspect_command(sys.argv[1:] if argv is None else argv, Console())


if __name__ == "__main__":
    sys.exit(main())
