"""Fuzz targets of selection: the thresholds (a holding scoring `min_score_threshold` +-
epsilon: kept, or proposed for closing and put in grace; an asset not held scoring
`min_score_new_position` +- epsilon, or trending `trending_confidence_new` +- epsilon:
opened or not) and the new-position limit (`max_new_positions` - 1, exactly it, and one
more candidates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import MONDAY, document, signal
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target, decision_item, notice_item, yes_no

EPSILONS = (1e-9, 1e-6, 1e-3)
"""How far a score is put from its threshold: below the 6 places of a published score
(1e-9: the thresholds compare the published score, so it counts as at the threshold), at
that resolution, and well clear."""
KEEP_EPSILONS = EPSILONS
_DAY = dt.timedelta(days=1)
_PM = "portfolio_manager"


def thresholds(lo: float, hi: float, marks: tuple[float, ...]) -> st.SearchStrategy[float]:
    """A threshold: a round value, or any value in [lo, hi] to 6 places."""
    return st.one_of(st.sampled_from(marks), st.floats(lo, hi).map(lambda x: round(x, 6)))


@attrs.frozen
class KeepCase:
    """K, held for 65 days (its ranking score decayed twice), scores `threshold` +
    `sign` x `epsilon` against `min_score_threshold` = `threshold`."""

    threshold: float
    sign: int
    epsilon: float
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def score(self) -> float:
        return min(max(self.threshold + self.sign * self.epsilon, 0.0), 1.0)


def _keep_cases() -> st.SearchStrategy[KeepCase]:
    return st.builds(
        KeepCase,
        threshold=thresholds(0.2, 0.8, (0.6, 0.5, 0.3, 0.7)),
        sign=st.sampled_from((-1, 0, 1)),
        epsilon=st.sampled_from(KEEP_EPSILONS),
        weekday=st.integers(0, 4),
    )


def _keep_document(case: KeepCase) -> dict[str, Any]:
    fate = yes_no(oracles.keeps(case.score, case.threshold), "kept", "closed (grace starts)")
    return document(
        f"fuzz-selection-keep-w{case.weekday}",
        description=(
            f"K scores {case.score!r} against min_score_threshold {case.threshold!r}: it is"
            f" {fate} on {case.start}."
        ),
        start=case.start,
        days=2,
        buckets={"Risk Assets": ["K"]},
        config={
            "min_score_threshold": case.threshold,
            "min_score_new_position": max(case.threshold, 0.65),
        },
        scores=[signal("K", case.start, case.score)],
        trending=[signal("K", case.start, 0.0)],
        portfolio={"K": {"weight": 0.1, "entered": case.start - 65 * _DAY}},
    )


def _keep_check(case: KeepCase, ev: Evidence) -> list[Mismatch]:
    day, out = case.start, []
    kept = oracles.keeps(case.score, case.threshold)
    what = f"K scoring {case.score!r}, min_score_threshold {case.threshold!r}"
    closes = [
        d for d in ev.decisions_of("K", frozenset({"close"})) if d.date == day and d.origin == _PM
    ]
    if bool(closes) == kept:
        out.append(
            Mismatch(
                day,
                what,
                yes_no(kept, "kept (no close proposed)", "a close proposed"),
                yes_no(bool(closes), "a close proposed", "no close proposed"),
                decision_item("K", "close", day, present=not kept),
            )
        )
    started = day in ev.notice_days("grace_started", "K")
    if started == kept:
        out.append(
            Mismatch(
                day,
                what,
                yes_no(kept, "no grace_started", "grace_started"),
                yes_no(started, "grace_started", "no grace_started"),
                notice_item("grace_started", "K", day, present=not kept),
            )
        )
    return out


KEEP = Target(
    rule="selection.keep_threshold",
    boundary="a holding's undecayed score: kept iff >= min_score_threshold",
    cases=_keep_cases,
    examples=tuple(KeepCase(0.6, s, 1e-6, 0) for s in (-1, 0, 1)),
    build=_keep_document,
    check=_keep_check,
)


# --- open threshold ------------------------------------------------------------------


@attrs.frozen
class OpenCase:
    """N, not held, is on the boundary of `on` ("score": min_score_new_position, or
    "trending": trending_confidence_new) by `sign` x `epsilon`; the other quantity is
    0.05 above its threshold."""

    on: str
    new_score: float
    new_trending: float
    sign: int
    epsilon: float
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    def _value(self, quantity: str, threshold: float) -> float:
        moved = self.sign * self.epsilon if self.on == quantity else 0.05
        return min(max(threshold + moved, 0.0), 1.0)

    @property
    def score(self) -> float:
        return self._value("score", self.new_score)

    @property
    def trending(self) -> float:
        return self._value("trending", self.new_trending)


def _open_cases() -> st.SearchStrategy[OpenCase]:
    return st.builds(
        OpenCase,
        on=st.sampled_from(("score", "trending")),
        new_score=thresholds(0.3, 0.9, (0.65, 0.5, 0.8)),
        new_trending=thresholds(0.1, 0.9, (0.7, 0.5, 0.9)),
        sign=st.sampled_from((-1, 0, 1)),
        epsilon=st.sampled_from(EPSILONS),
        weekday=st.integers(0, 4),
    )


def _open_document(case: OpenCase) -> dict[str, Any]:
    opened = oracles.opens(case.score, case.trending, case.new_score, case.new_trending)
    return document(
        f"fuzz-selection-open-{case.on}-w{case.weekday}",
        description=(
            f"N scores {case.score!r} (min_score_new_position {case.new_score!r}) and trends"
            f" {case.trending!r} (trending_confidence_new {case.new_trending!r}): it is"
            f" {yes_no(opened, 'opened', 'not opened')} on {case.start}."
        ),
        start=case.start,
        days=2,
        buckets={"Risk Assets": ["N"]},
        config={
            "min_score_new_position": case.new_score,
            "min_score_threshold": min(0.6, case.new_score),
            "trending_confidence_new": case.new_trending,
        },
        scores=[signal("N", case.start, case.score)],
        trending=[signal("N", case.start, case.trending)],
    )


def _open_check(case: OpenCase, ev: Evidence) -> list[Mismatch]:
    day = case.start
    expected = oracles.opens(case.score, case.trending, case.new_score, case.new_trending)
    opens = [d for d in ev.decisions_of("N", frozenset({"open"})) if d.date == day]
    if bool(opens) == expected:
        return []
    return [
        Mismatch(
            day,
            f"N scoring {case.score!r} vs {case.new_score!r}, trending {case.trending!r}"
            f" vs {case.new_trending!r}",
            yes_no(expected, "an open proposed", "no open proposed"),
            yes_no(bool(opens), "an open proposed", "no open proposed"),
            decision_item("N", "open", day, present=expected),
        )
    ]


OPEN = Target(
    rule="selection.open_threshold",
    boundary="score and trending of an asset not held: opened iff both >= their thresholds",
    cases=_open_cases,
    examples=tuple(
        OpenCase(on, 0.65, 0.7, s, 1e-9, 0) for on in ("score", "trending") for s in (-1, 0, 1)
    ),
    build=_open_document,
    check=_open_check,
)


# --- max new positions ---------------------------------------------------------------

MAX_NEW_TICKERS = ("NA", "NB", "NC", "ND", "NE", "NF")


@attrs.frozen
class MaxNewCase:
    """`candidates` assets not held, all above the open thresholds (scores 0.9, 0.89, ...),
    on the first day (weekday `weekday`) with `max_new_positions` = `limit`."""

    limit: int
    candidates: int
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def assets(self) -> tuple[str, ...]:
        return MAX_NEW_TICKERS[: self.candidates]


def _max_new_cases() -> st.SearchStrategy[MaxNewCase]:
    return st.integers(1, 5).flatmap(
        lambda k: st.builds(
            MaxNewCase,
            limit=st.just(k),
            candidates=st.sampled_from(sorted({max(k + d, 1) for d in (-1, 0, 1)})),
            weekday=st.integers(0, 4),
        )
    )


def _max_new_document(case: MaxNewCase) -> dict[str, Any]:
    return document(
        f"fuzz-selection-max-new-k{case.limit}-c{case.candidates}",
        description=(
            f"{case.candidates} candidates on {case.start}, max_new_positions {case.limit}:"
            f" the best {min(case.limit, case.candidates)} open, the rest wait."
        ),
        start=case.start,
        days=1,
        buckets={"Risk Assets": list(case.assets)},
        config={"max_new_positions": case.limit},
        scores=[signal(a, case.start, 0.9 - 0.01 * i) for i, a in enumerate(case.assets)],
        trending=[signal(a, case.start, 0.9) for a in case.assets],
    )


def _max_new_check(case: MaxNewCase, ev: Evidence) -> list[Mismatch]:
    want = case.assets[: oracles.opens_allowed(case.candidates, case.limit)]
    got = tuple(a for a in case.assets if ev.decisions_of(a, frozenset({"open"})))
    if got == want:
        return []
    day = case.start
    extra = [a for a in got if a not in want]
    missing = [a for a in want if a not in got]
    asset, present = (missing[0], True) if missing else (extra[0], False)
    return [
        Mismatch(
            day,
            f"opens among {case.candidates} candidates, max_new_positions {case.limit}",
            f"opens of {', '.join(want) or 'none'}",
            f"opens of {', '.join(got) or 'none'}",
            decision_item(asset, "open", day, present=present),
        )
    ]


MAX_NEW = Target(
    rule="selection.max_new",
    boundary="candidates against max_new_positions: the best min(n, max) open",
    cases=_max_new_cases,
    examples=(MaxNewCase(3, 2, 0), MaxNewCase(3, 3, 0), MaxNewCase(3, 4, 0)),
    build=_max_new_document,
    check=_max_new_check,
)
