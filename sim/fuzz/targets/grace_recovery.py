"""Fuzz target of grace_period.recovery: a holding in grace scoring `min_score_threshold`
+- epsilon a few days into grace (recovers at or above the threshold, stays in grace
below it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import LOW, MONDAY, document, signal, trading_days
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target, notice_item, yes_no
from sim.fuzz.targets.selection import KEEP_EPSILONS, thresholds

GRACE_DAYS = 10
"""grace_period_days in these examples: longer than the recovery day, so expiry never
comes first."""
_DAY = dt.timedelta(days=1)


@attrs.frozen
class RecoveryCase:
    """A scores low on the first day (weekday `weekday`: grace starts), then `threshold`
    + `sign` x `epsilon` from trading day `day` on, against `min_score_threshold` =
    `threshold`."""

    threshold: float
    sign: int
    epsilon: float
    day: int
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def back(self) -> dt.date:
        return trading_days(self.start, self.day + 1)[-1]

    @property
    def score(self) -> float:
        return min(max(self.threshold + self.sign * self.epsilon, 0.0), 1.0)


def _cases() -> st.SearchStrategy[RecoveryCase]:
    return st.builds(
        RecoveryCase,
        threshold=thresholds(0.35, 0.8, (0.6, 0.5, 0.7)),
        sign=st.sampled_from((-1, 0, 1)),
        epsilon=st.sampled_from(KEEP_EPSILONS),
        day=st.integers(1, 4),
        weekday=st.integers(0, 4),
    )


def _document(case: RecoveryCase) -> dict[str, Any]:
    fate = yes_no(oracles.recovers(case.score, case.threshold), "recovers", "stays in grace")
    return document(
        f"fuzz-grace-recovery-d{case.day}-w{case.weekday}",
        description=(
            f"A scores {LOW} on {case.start} and starts grace; from {case.back} it scores"
            f" {case.score!r} against min_score_threshold {case.threshold!r} and {fate}."
        ),
        start=case.start,
        days=case.day + 2,
        buckets={"Risk Assets": ["A"]},
        config={
            "min_score_threshold": case.threshold,
            "min_score_new_position": max(case.threshold, 0.65),
            "grace_period_days": GRACE_DAYS,
        },
        scores=[
            signal("A", case.start, LOW, end=case.back - _DAY),
            signal("A", case.back, case.score),
        ],
        trending=[signal("A", case.start, 0.0)],
        portfolio={"A": {"weight": 0.2, "entered": case.start - 60 * _DAY}},
    )


def _check(case: RecoveryCase, ev: Evidence) -> list[Mismatch]:
    if case.start not in ev.notice_days("grace_started", "A"):
        return [
            Mismatch(
                case.start,
                f"setup: grace start of A (score {LOW})",
                "grace_started",
                "none",
                notice_item("grace_started", "A", case.start, present=True),
            )
        ]
    expected = oracles.recovers(case.score, case.threshold)
    seen = ev.notice_days("grace_recovered", "A")
    if seen == ([case.back] if expected else []):
        return []
    return [
        Mismatch(
            case.back,
            f"A in grace scoring {case.score!r}, min_score_threshold {case.threshold!r}",
            yes_no(expected, f"grace_recovered on {case.back}", "no grace_recovered"),
            f"grace_recovered on {', '.join(map(str, seen)) or 'no day'}",
            notice_item("grace_recovered", "A", case.back, present=expected),
        )
    ]


RECOVERY = Target(
    rule="grace_period.recovery",
    boundary="a holding in grace's score: recovers iff >= min_score_threshold",
    cases=_cases,
    examples=tuple(RecoveryCase(0.6, s, 1e-6, 2, 0) for s in (-1, 0, 1)),
    build=_document,
    check=_check,
)
