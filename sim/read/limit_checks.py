"""The hard-limit invariants read back from the event database: the position cap and the
bucket allocation limit on every rebalance day (docs/architecture.md, "Limits").

A rebalance day is a step with the portfolio manager's `rebalance` notice. On it, every
non-core position must end the day at or below `max_single_position_size`, and every
bucket at or below `max_bucket_allocation` (smart bucket overrides left out), both within
`LIMIT_RTOL` relative (float rounding only). The one allowance is what a protection held
back: when an asset's last decision of the day was blocked, or amended above the proposed
weight, the weight above the proposal's target is the protection's doing, recorded in that
decision, and is not counted.

The limits are the values in force that day: the run's configuration, changed from the
day of each `set` intervention on.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

LIMIT_RTOL = 1e-9
"""Relative tolerance of the cap and bucket invariants: float rounding, nothing more."""
LIMIT_PARAMS = (
    "max_single_position_size",
    "max_bucket_allocation",
    "enable_bucket_diversification",
)


@attrs.frozen
class Breach:
    """One position or bucket above its limit on a rebalance day."""

    step: int
    date: str
    name: str  # the asset (cap) or the bucket
    weight: float  # counted weight (held-back weight left out)
    limit: float


def rebalance_steps(con: sqlite3.Connection, run_id: str) -> list[int]:
    """Steps with the portfolio manager's `rebalance` notice, ascending."""
    rows = con.execute(
        "SELECT DISTINCT step FROM messages WHERE run_id = ? AND kind = 'notice'"
        " AND sender = 'portfolio_manager' AND json_extract(payload,'$.event') = 'rebalance'"
        " ORDER BY step",
        [run_id],
    )
    return [r[0] for r in rows]


def limits_in_force(
    con: sqlite3.Connection, run_id: str, steps: list[int]
) -> dict[int, dict[str, Any]]:
    """step -> the limit parameters in force that day (the start configuration, then every
    `set` intervention from its step on)."""
    config = json.loads(
        con.execute("SELECT config FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    )
    current = {name: config[name] for name in LIMIT_PARAMS}
    sets = con.execute(
        "SELECT step, json_extract(payload,'$.details.param') AS param,"
        " json_extract(payload,'$.details.value') AS value FROM messages"
        " WHERE run_id = ? AND kind = 'intervention' AND json_extract(payload,'$.action') = 'set'"
        " ORDER BY id",
        [run_id],
    ).fetchall()
    out: dict[int, dict[str, Any]] = {}
    i = 0
    for step in steps:
        while i < len(sets) and sets[i][0] <= step:
            if sets[i][1] in current:
                current[sets[i][1]] = sets[i][2]
            i += 1
        out[step] = dict(current)
    return out


def held_back(con: sqlite3.Connection, run_id: str) -> dict[tuple[int, str], float]:
    """(step, asset) -> the proposed target, for every asset whose last decision of the
    step was blocked or amended above that target."""
    rows = con.execute(
        "WITH last AS (SELECT step, asset, MAX(id) AS id FROM messages"
        " WHERE run_id = ? AND kind = 'decision' GROUP BY step, asset)"
        " SELECT d.step, d.asset, json_extract(p.payload,'$.to_weight') AS target"
        " FROM last JOIN messages d ON d.run_id = ? AND d.id = last.id"
        " JOIN messages p ON p.run_id = d.run_id AND p.kind = 'proposal'"
        " AND p.proposal_id = d.proposal_id"
        " WHERE json_extract(d.payload,'$.outcome') = 'blocked'"
        " OR (json_extract(d.payload,'$.outcome') = 'amended'"
        " AND json_extract(d.payload,'$.final_weight') > json_extract(p.payload,'$.to_weight')"
        " + 1e-12)",
        [run_id, run_id],
    )
    return {(r[0], r[1]): float(r[2]) for r in rows}


def override_days(
    con: sqlite3.Connection, run_id: str, steps: list[int]
) -> dict[int, frozenset[str]]:
    """step -> assets holding a smart bucket override that day: those whose latest
    `selection` notice on or before the step says `bucket_override`."""
    rows = con.execute(
        "SELECT step, asset, json_extract(payload,'$.details.reason') FROM messages"
        " WHERE run_id = ? AND kind = 'notice' AND json_extract(payload,'$.event') = 'selection'"
        " ORDER BY id",
        [run_id],
    ).fetchall()
    status: dict[str, str] = {}
    out: dict[int, frozenset[str]] = {}
    i = 0
    for step in steps:
        while i < len(rows) and rows[i][0] <= step:
            status[rows[i][1]] = rows[i][2]
            i += 1
        out[step] = frozenset(a for a, reason in status.items() if reason == "bucket_override")
    return out


def _snapshots(
    con: sqlite3.Connection, run_id: str, steps: list[int]
) -> Iterator[tuple[int, list[sqlite3.Row]]]:
    """The snapshot rows of each of `steps`."""
    by_step: dict[int, list[Any]] = {s: [] for s in steps}
    for row in con.execute(
        "SELECT step, date, asset, bucket, weight, json_extract(flags,'$.core') AS core"
        " FROM snapshots WHERE run_id = ? ORDER BY step, asset",
        [run_id],
    ):
        if row[0] in by_step:
            by_step[row[0]].append(row)
    yield from by_step.items()


def limit_breaches(con: sqlite3.Connection, run_id: str) -> tuple[list[Breach], list[Breach]]:
    """Every cap breach and every bucket breach of the run (see the module docstring)."""
    steps = rebalance_steps(con, run_id)
    limits = limits_in_force(con, run_id, steps)
    holds = held_back(con, run_id)
    overrides = override_days(con, run_id, steps)
    caps: list[Breach] = []
    buckets: list[Breach] = []
    for step, rows in _snapshots(con, run_id, steps):
        cfg = limits[step]
        totals: dict[str, float] = {}
        date = rows[0][1] if rows else ""
        for _, _, asset, bucket, weight, core in rows:
            counted = weight - max(weight - holds.get((step, asset), weight), 0.0)
            cap = float(cfg["max_single_position_size"])
            if not core and counted > cap * (1 + LIMIT_RTOL):
                caps.append(Breach(step, date, asset, counted, cap))
            if asset not in overrides[step]:
                totals[bucket] = totals.get(bucket, 0.0) + counted
        if cfg["enable_bucket_diversification"]:
            limit = float(cfg["max_bucket_allocation"])
            buckets += [
                Breach(step, date, b, w, limit)
                for b, w in sorted(totals.items())
                if w > limit * (1 + LIMIT_RTOL)
            ]
    return caps, buckets


def breach_rows(breaches: list[Breach], key: str) -> list[Mapping[str, Any]]:
    """Breaches as rows for the invariant's evidence template (`key` names the `name`)."""
    return [
        {"step": b.step, "date": b.date, key: b.name, "weight": b.weight, "limit": b.limit}
        for b in breaches
    ]
