"""Fuzz targets of the holding period: the minimum (days N-1, N, N+1 since entry, on
weekdays and across weekends) and the forced review (the day the days held reach
`position_holding_period_max`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import HIGH, LOW, MONDAY, document, on_or_after, signal, span
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target, decision_item, notice_item, yes_no

ASSET = "H"
_DAY = dt.timedelta(days=1)
_BLOCKED = {"outcome": "blocked", "decided_by": "holding_period"}


@attrs.frozen
class MinimumCase:
    """H opens on the first day (weekday `weekday`, 0 = Monday) and is wanted out from
    the first trading day on or after entry + `minimum` + `offset` days."""

    minimum: int
    weekday: int
    offset: int

    @property
    def entry(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def drop(self) -> dt.date:
        days = max(self.minimum + self.offset, 1)
        return on_or_after(self.entry + days * _DAY)

    @property
    def close_day(self) -> dt.date:
        """The oracle's day of the approved close: the drop, or the first day held N."""
        return max(self.drop, on_or_after(self.entry + self.minimum * _DAY))


def _minimum_cases() -> st.SearchStrategy[MinimumCase]:
    return st.builds(
        MinimumCase,
        minimum=st.integers(1, 10),
        weekday=st.integers(0, 4),
        offset=st.sampled_from((-1, 0, 1)),
    )


def _minimum_document(case: MinimumCase) -> dict[str, Any]:
    entry, drop = case.entry, case.drop
    return document(
        f"fuzz-holding-minimum-n{case.minimum}-w{case.weekday}-o{case.offset + 1}",
        description=(
            f"H opens on {entry} ({entry:%A}) and is wanted out from {drop} ({drop:%A});"
            f" position_holding_period_min {case.minimum}: its close is blocked while held"
            f" fewer days and approved on {case.close_day}. Grace is off to isolate the rule."
        ),
        start=entry,
        days=span(entry, case.close_day) + 2,
        buckets={"Risk Assets": [ASSET]},
        config={"position_holding_period_min": case.minimum},
        scores=[
            signal(ASSET, entry, HIGH, end=drop - _DAY),
            signal(ASSET, drop, LOW),
        ],
        trending=[signal(ASSET, entry, HIGH)],
        off=("grace_period",),
    )


def _minimum_check(case: MinimumCase, ev: Evidence) -> list[Mismatch]:
    out: list[Mismatch] = []
    if not any(f.asset == ASSET and f.side == "buy" and f.date == case.entry for f in ev.fills):
        out.append(
            Mismatch(case.entry, "setup: the open of H", "a buy fill", "none", _open_item(case))
        )
        return out
    for d in ev.decisions_of(ASSET, oracles.GUARDED_BY_HOLDING):
        held = (d.date - case.entry).days
        expected = oracles.holding_blocks(d.action, held, case.minimum)
        observed = d.outcome == "blocked" and d.decided_by == "holding_period"
        if expected != observed:
            out.append(
                Mismatch(
                    d.date,
                    f"{d.action} of H, held {held} days, minimum {case.minimum}",
                    yes_no(expected, "blocked by holding_period", "not blocked by holding_period"),
                    f"{d.outcome} by {d.decided_by}",
                    decision_item(ASSET, d.action, d.date, present=expected, **_BLOCKED),
                )
            )
    day = case.close_day
    closed = [d for d in ev.decisions_of(ASSET, frozenset({"close"})) if d.outcome == "approved"]
    if not any(d.date == day for d in closed):
        seen = ", ".join(str(d.date) for d in closed) or "none"
        out.append(
            Mismatch(
                day,
                f"close of H, held {(day - case.entry).days} days, minimum {case.minimum}",
                f"approved on {day}",
                f"approved closes: {seen}",
                decision_item(ASSET, "close", day, present=True, outcome="approved"),
            )
        )
    return out


def _open_item(case: MinimumCase) -> dict[str, Any]:
    return decision_item(ASSET, "open", case.entry, present=True, outcome="approved")


MINIMUM = Target(
    rule="holding_period.minimum",
    boundary="days held at a close: blocked iff < position_holding_period_min",
    cases=_minimum_cases,
    examples=tuple(MinimumCase(3, w, o) for w in (0, 3) for o in (-1, 0, 1)),
    build=_minimum_document,
    check=_minimum_check,
)


# --- forced review -------------------------------------------------------------------


@attrs.frozen
class ReviewCase:
    """H, held from the start, reaches `period` days held `lead` calendar days after the
    first day (weekday `weekday`); it scores `min_score_new_position` + `delta`."""

    period: int
    weekday: int
    lead: int
    delta: float

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def entered(self) -> dt.date:
        return self.start + (self.lead - self.period) * _DAY

    @property
    def score(self) -> float:
        return REVIEW_SCORE + self.delta


REVIEW_SCORE = 0.65
"""min_score_new_position in the review examples (the default)."""


def _review_cases() -> st.SearchStrategy[ReviewCase]:
    return st.integers(0, 6).flatmap(
        lambda lead: st.builds(
            ReviewCase,
            period=st.integers(max(lead, 1), 40),
            weekday=st.integers(0, 4),
            lead=st.just(lead),
            delta=st.sampled_from((-1e-6, 0.0, 1e-6)),
        )
    )


def _review_days(case: ReviewCase) -> int:
    return span(case.start, case.start + (case.lead + 4) * _DAY)


def _review_document(case: ReviewCase) -> dict[str, Any]:
    due = case.start + case.lead * _DAY
    return document(
        f"fuzz-holding-review-p{case.period}-w{case.weekday}-l{case.lead}",
        description=(
            f"H was entered on {case.entered}; position_holding_period_max {case.period}"
            f" is reached on {due} ({due:%A}); H scores {case.score!r} against"
            f" min_score_new_position {REVIEW_SCORE}: the forced review"
            f" {yes_no(oracles.review_keeps(case.score, REVIEW_SCORE), 'keeps', 'closes')} it."
        ),
        start=case.start,
        days=_review_days(case),
        buckets={"Risk Assets": [ASSET]},
        config={
            "position_holding_period_max": case.period,
            "position_holding_period_min": 0,
            "min_score_new_position": REVIEW_SCORE,
        },
        scores=[signal(ASSET, case.start, case.score)],
        trending=[signal(ASSET, case.start, 0.0)],
        portfolio={ASSET: {"weight": 0.2, "entered": case.entered}},
    )


def _review_check(case: ReviewCase, ev: Evidence) -> list[Mismatch]:
    out: list[Mismatch] = []
    expected = oracles.forced_review_days(case.entered, case.period, ev.days)
    keeps = oracles.review_keeps(case.score, REVIEW_SCORE)
    if expected and not keeps:
        expected = expected[:1]  # closed at its first review: no further review
    observed = ev.notice_days("holding_review", ASSET)
    for day in sorted(set(expected) ^ set(observed)):
        held = (day - case.entered).days
        due = day in expected
        out.append(
            Mismatch(
                day,
                f"forced review of H, held {held} days, period {case.period}",
                yes_no(due, "a holding_review notice", "no holding_review notice"),
                yes_no(due, "none", "a holding_review notice"),
                notice_item("holding_review", ASSET, day, present=due),
            )
        )
    closes = [
        d.date for d in ev.decisions_of(ASSET, frozenset({"close"})) if d.outcome == "approved"
    ]
    want = [] if keeps or not expected else expected[:1]
    if closes != want:
        day = (want or closes)[0]
        out.append(
            Mismatch(
                day,
                f"close of H at its review, score {case.score!r} vs {REVIEW_SCORE}",
                f"approved closes on {[str(d) for d in want]}",
                f"on {[str(d) for d in closes]}",
                decision_item(ASSET, "close", day, present=bool(want), outcome="approved"),
            )
        )
    return out


FORCED_REVIEW = Target(
    rule="holding_period.forced_review",
    boundary="days held (or since the last review) reach position_holding_period_max",
    cases=_review_cases,
    examples=tuple(ReviewCase(10, w, lead, -1e-6) for w in (0, 4) for lead in (0, 1, 2)),
    build=_review_document,
    check=_review_check,
)
