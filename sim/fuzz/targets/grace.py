"""Fuzz targets of the grace schedule: grace_period.recovery (a holding in grace scoring
`min_score_threshold` +- epsilon a few days into grace: recovers at or above it, stays in
grace below) and grace_period.decay (the day `grace_period_decay_rate` ** k reaches
`min_decay_factor`, with the floor at that power +- epsilon)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import LOW, MONDAY, document, signal, span, trading_days
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target, decision_item, notice_item, yes_no
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


# --- grace_period.decay --------------------------------------------------------------

START_WEIGHT = 0.2
DECAY_TOLERANCE = 1e-9


@attrs.frozen
class DecayCase:
    """A (weight 0.2) starts grace on the first day (weekday `weekday`); the decay rate is
    `rate` and `min_decay_factor` is `rate` ** `floor_day` x (1 + `delta`)."""

    rate: float
    floor_day: int
    delta: float
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def floor(self) -> float:
        return self.rate**self.floor_day * (1 + self.delta)

    @property
    def grace_days(self) -> int:
        return self.floor_day + 4


def _decay_cases() -> st.SearchStrategy[DecayCase]:
    return st.builds(
        DecayCase,
        rate=st.one_of(
            st.sampled_from((0.8, 0.5, 0.7)), st.floats(0.3, 0.9).map(lambda x: round(x, 6))
        ),
        floor_day=st.integers(1, 5),
        delta=st.sampled_from((-1e-6, 0.0, 1e-6)),
        weekday=st.integers(0, 4),
    ).filter(lambda c: 0.01 <= c.floor <= 0.9)


def _decay_document(case: DecayCase) -> dict[str, Any]:
    return document(
        f"fuzz-grace-decay-f{case.floor_day}-w{case.weekday}",
        description=(
            f"A starts grace on {case.start} ({case.start:%A}) at weight {START_WEIGHT};"
            f" grace_period_decay_rate {case.rate!r}, min_decay_factor {case.floor!r}: on grace"
            f" day k it is sized {START_WEIGHT} x max(rate ** k, floor), the floor from day"
            f" {case.floor_day} on."
        ),
        start=case.start,
        days=span(case.start, case.start + (case.grace_days - 1) * _DAY),
        buckets={"Risk Assets": ["A"]},
        config={
            "grace_period_decay_rate": case.rate,
            "min_decay_factor": case.floor,
            "grace_period_days": case.grace_days,
        },
        scores=[signal("A", case.start, LOW)],
        trending=[signal("A", case.start, 0.0)],
        portfolio={"A": {"weight": START_WEIGHT, "entered": case.start - 60 * _DAY}},
    )


def _decay_check(case: DecayCase, ev: Evidence) -> list[Mismatch]:
    reduces = {
        d.date: d.to_weight
        for d in ev.decisions_of("A", frozenset({"reduce"}))
        if d.origin == "grace_period"
    }
    out: list[Mismatch] = []
    previous = START_WEIGHT
    for day in ev.days[1:]:
        k = (day - case.start).days
        if k >= case.grace_days:
            break
        want = START_WEIGHT * oracles.grace_factor(case.rate, case.floor, k)
        got = reduces.get(day)
        moved = want < previous - DECAY_TOLERANCE
        previous = want
        if got is None and not moved:
            continue
        if got is not None and abs(got - want) <= DECAY_TOLERANCE:
            continue
        out.append(_decay_mismatch(case, day, k, want, got))
    return out


def _decay_mismatch(
    case: DecayCase, day: dt.date, k: int, want: float, got: float | None
) -> Mismatch:
    sql = (
        "SELECT date, json_extract(payload, '$.to_weight') AS to_weight FROM messages"
        f" WHERE kind = 'proposal' AND asset = 'A' AND date = '{day}' AND sender = 'grace_period'"
        f" AND json_extract(payload, '$.action') = 'reduce'"
        f" AND ABS(json_extract(payload, '$.to_weight') - {want!r}) > {DECAY_TOLERANCE}"
    )
    expect: dict[str, Any] = {
        "sql": {"label": f"A decays to {want:.9f} on grace day {k}", "query": sql}
    }
    if got is None:
        expect = decision_item("A", "reduce", day, present=True, decided_by="grace_period")
    return Mismatch(
        day,
        f"grace day {k} of A, rate {case.rate!r}, min_decay_factor {case.floor!r}",
        f"a reduce to {want:.9f}",
        "no reduce" if got is None else f"a reduce to {got:.9f}",
        expect,
    )


DECAY = Target(
    rule="grace_period.decay",
    boundary="days in grace: sized start x max(rate ** k, min_decay_factor)",
    cases=_decay_cases,
    examples=tuple(DecayCase(0.5, 3, d, 0) for d in (-1e-6, 0.0, 1e-6)),
    build=_decay_document,
    check=_decay_check,
)
