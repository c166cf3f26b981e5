"""Protection analytics: the orchestrator's decisions counted per protection and per rule
(pure: no database; `sim.read.metrics.run_data` reads the rows).

A decision is counted once, under the system that decided it (`decided_by`: a protection,
`orchestrator` when nothing objected, `regime_override` when every objection was lifted) or
under its `rule`. An objection a decision overrode (a name in its `overridden` list) is
counted under that protection, or under the rule of the verdict it gave.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

PROTECTION, RULE = "protection", "rule"
DIMENSIONS = (PROTECTION, RULE)
"""What a breakdown is counted by."""
NO_RULE = "(none)"
"""The key of a row that names no rule."""
HELD_TOL = 1e-12
"""A decision holds weight back when its final weight is this far from the proposal's."""


@attrs.frozen
class Decision:
    """One decision with the target of the proposal it decided."""

    decided_by: str
    outcome: str  # approved | amended | blocked
    rule: str | None
    final_weight: float
    target: float
    overridden: tuple[str, ...] = ()


@attrs.frozen
class Overruled:
    """A protection's objection that a decision overrode, with the rule of its verdict."""

    protection: str
    rule: str | None


def _key(row: Decision | Overruled, by: str) -> str:
    if by == RULE:
        return row.rule or NO_RULE
    return row.decided_by if isinstance(row, Decision) else row.protection


def outcome_counts(decisions: Iterable[Decision], outcome: str, by: str) -> dict[str, int]:
    """key -> how many decisions had `outcome`, keyed `by` protection or rule."""
    out: dict[str, int] = {}
    for d in decisions:
        if d.outcome == outcome:
            out[_key(d, by)] = out.get(_key(d, by), 0) + 1
    return out


def held_back(decisions: Iterable[Decision], by: str) -> dict[str, float]:
    """key -> the weight blocked or amended decisions kept from their proposals: the sum of
    |proposed target - final weight| over the decisions that moved it by more than 1e-12."""
    out: dict[str, float] = {}
    for d in decisions:
        gap = abs(d.target - d.final_weight)
        if d.outcome in ("blocked", "amended") and gap > HELD_TOL:
            out[_key(d, by)] = out.get(_key(d, by), 0.0) + gap
    return out


def overruled_counts(overruled: Iterable[Overruled], by: str) -> dict[str, int]:
    """key -> how many objections decisions overrode, keyed `by` protection or rule."""
    out: dict[str, int] = {}
    for o in overruled:
        out[_key(o, by)] = out.get(_key(o, by), 0) + 1
    return out
