"""Fuzz targets of whipsaw: the window (the k-th open-close cycle, and a reopen wished
around the day the cycles leave `whipsaw_protection_days`) and the minimum duration (a
close around `whipsaw_min_duration_hours`, an hour either side of a whole day)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import (
    HIGH,
    LOW,
    MONDAY,
    document,
    on_or_after,
    signal,
    span,
    trading_days,
)
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target, decision_item, yes_no

ASSET = "W"
_DAY = dt.timedelta(days=1)
_BLOCKED = {"outcome": "blocked", "decided_by": "whipsaw"}
_DUST = 1e-12


@attrs.frozen
class WindowCase:
    """`cycles` open-close cycles of W on consecutive trading days from the first day
    (weekday `weekday`), then a reopen wished from `gap` days after the last close, with
    `whipsaw_max_cycles` `max_cycles` and `whipsaw_protection_days` `window`."""

    max_cycles: int
    window: int
    cycles: int
    gap: int
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def schedule(self) -> list[dt.date]:
        """The open and close days of the cycles, in turn."""
        return trading_days(self.start, 2 * self.cycles) if self.cycles else []

    @property
    def reopen(self) -> dt.date:
        if not self.cycles:
            return self.start
        return on_or_after(self.schedule[-1] + self.gap * _DAY)


def _window_cases() -> st.SearchStrategy[WindowCase]:
    def for_limit(k: int) -> st.SearchStrategy[WindowCase]:
        return st.integers(1, 20).flatmap(
            lambda w: st.builds(
                WindowCase,
                max_cycles=st.just(k),
                window=st.just(w),
                cycles=st.sampled_from((k - 1, k)),
                gap=st.integers(1, w + 1),
                weekday=st.integers(0, 4),
            )
        )

    return st.integers(1, 3).flatmap(for_limit)


def _window_scores(case: WindowCase) -> list[dict[str, Any]]:
    days, out = case.schedule, []
    for i in range(case.cycles):
        opened, closed = days[2 * i], days[2 * i + 1]
        out.append(signal(ASSET, opened, HIGH, end=opened))
        last = closed if i < case.cycles - 1 else case.reopen - _DAY
        out.append(signal(ASSET, closed, LOW, end=last))
    out.append(signal(ASSET, case.reopen, HIGH))
    return out


def _window_document(case: WindowCase) -> dict[str, Any]:
    end = case.reopen + (case.window + 2) * _DAY
    return document(
        f"fuzz-whipsaw-window-k{case.max_cycles}-c{case.cycles}-w{case.window}-g{case.gap}",
        description=(
            f"W completes {case.cycles} open-close cycles from {case.start} and is wanted"
            f" back from {case.reopen}; whipsaw_max_cycles {case.max_cycles},"
            f" whipsaw_protection_days {case.window}: each reopen is blocked while"
            f" {case.max_cycles} cycles closed less than {case.window} days before."
            " Grace and the holding minimum are off to isolate the rule."
        ),
        start=case.start,
        days=span(case.start, end),
        buckets={"Risk Assets": [ASSET]},
        config={
            "whipsaw_max_cycles": case.max_cycles,
            "whipsaw_protection_days": case.window,
            "position_holding_period_min": 0,
        },
        scores=_window_scores(case),
        trending=[signal(ASSET, case.start, HIGH)],
        off=("grace_period",),
    )


def _closes(ev: Evidence) -> list[dt.date]:
    return [
        f.date
        for f in ev.fills
        if f.asset == ASSET and f.side == "sell" and f.weight_after <= _DUST
    ]


def _window_check(case: WindowCase, ev: Evidence) -> list[Mismatch]:
    out: list[Mismatch] = []
    closes = _closes(ev)
    before = [c for c in closes if c < case.reopen]
    if len(before) != case.cycles:
        out.append(
            Mismatch(
                case.reopen,
                "setup: the cycles of W before the reopen",
                f"{case.cycles} closes",
                f"{len(before)}",
                {
                    "decision": {
                        "asset": ASSET,
                        "action": "close",
                        "outcome": "approved",
                        "between": [case.start, case.reopen - _DAY],
                        "min": case.cycles,
                        "max": case.cycles,
                    }
                },
            )
        )
        return out
    for d in ev.decisions_of(ASSET, frozenset({"open"})):
        expected = oracles.whipsaw_open_blocked(d.date, closes, case.window, case.max_cycles)
        observed = d.outcome == "blocked" and d.decided_by == "whipsaw"
        if expected != observed:
            counted = sum(1 for c in closes if c <= d.date and (d.date - c).days < case.window)
            out.append(
                Mismatch(
                    d.date,
                    f"open of W with {counted} cycles in the last {case.window} days,"
                    f" limit {case.max_cycles}",
                    yes_no(expected, "blocked by whipsaw", "not blocked by whipsaw"),
                    f"{d.outcome} by {d.decided_by}",
                    decision_item(ASSET, "open", d.date, present=expected, **_BLOCKED),
                )
            )
    return [*out, *_reopen_mismatch(case, ev, before)]


def _reopen_mismatch(case: WindowCase, ev: Evidence, before: list[dt.date]) -> list[Mismatch]:
    """The reopen must be approved on the first day from the wish that the cycles before
    it no longer block."""
    due = next(
        (
            t
            for t in ev.days
            if t >= case.reopen
            and not oracles.whipsaw_open_blocked(t, before, case.window, case.max_cycles)
        ),
        None,
    )
    opened = [
        d.date for d in ev.decisions_of(ASSET, frozenset({"open"})) if d.outcome == "approved"
    ]
    if due is None or due in opened:
        return []
    return [
        Mismatch(
            due,
            "the reopen of W once the cycles have left the window",
            f"approved on {due}",
            f"approved opens: {', '.join(map(str, opened)) or 'none'}",
            decision_item(ASSET, "open", due, present=True, outcome="approved"),
        )
    ]


WINDOW = Target(
    rule="whipsaw.window",
    boundary="cycles closed in the last whipsaw_protection_days: an open blocked iff >= max",
    cases=_window_cases,
    examples=(
        WindowCase(1, 14, 1, 1, 0),
        WindowCase(1, 14, 0, 1, 0),
        WindowCase(2, 5, 2, 1, 3),
        WindowCase(2, 5, 1, 1, 3),
    ),
    build=_window_document,
    check=_window_check,
)


# --- minimum duration ----------------------------------------------------------------


@attrs.frozen
class DurationCase:
    """W opens on the first day (weekday `weekday`) and is wanted out from the next
    trading day; `whipsaw_min_duration_hours` = 24 x `days` + `delta`."""

    days: int
    delta: int
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def hours(self) -> int:
        return max(24 * self.days + self.delta, 0)

    @property
    def close_day(self) -> dt.date:
        return next(
            t
            for t in trading_days(self.start, 2 * self.days + 6)
            if not oracles.whipsaw_close_blocked(t, self.start, self.hours)
        )


def _duration_cases() -> st.SearchStrategy[DurationCase]:
    return st.builds(
        DurationCase,
        days=st.integers(1, 6),
        delta=st.sampled_from((-1, 0, 1)),
        weekday=st.integers(0, 4),
    )


def _duration_document(case: DurationCase) -> dict[str, Any]:
    drop = trading_days(case.start, 2)[1]
    return document(
        f"fuzz-whipsaw-duration-h{case.hours}-w{case.weekday}",
        description=(
            f"W opens on {case.start} ({case.start:%A}) and is wanted out from {drop};"
            f" whipsaw_min_duration_hours {case.hours}: the close is blocked while W is"
            f" younger and approved on {case.close_day}. Grace and the holding minimum are off."
        ),
        start=case.start,
        days=span(case.start, case.close_day) + 2,
        buckets={"Risk Assets": [ASSET]},
        config={"whipsaw_min_duration_hours": case.hours, "position_holding_period_min": 0},
        scores=[signal(ASSET, case.start, HIGH, end=case.start), signal(ASSET, drop, LOW)],
        trending=[signal(ASSET, case.start, HIGH)],
        off=("grace_period",),
    )


def _duration_check(case: DurationCase, ev: Evidence) -> list[Mismatch]:
    out: list[Mismatch] = []
    for d in ev.decisions_of(ASSET, frozenset({"close"})):
        hours = (d.date - case.start).days * 24
        expected = oracles.whipsaw_close_blocked(d.date, case.start, case.hours)
        observed = d.outcome == "blocked" and d.decided_by == "whipsaw"
        if expected != observed:
            out.append(
                Mismatch(
                    d.date,
                    f"close of W at {hours} hours, minimum {case.hours}",
                    yes_no(expected, "blocked by whipsaw", "not blocked by whipsaw"),
                    f"{d.outcome} by {d.decided_by}",
                    decision_item(ASSET, "close", d.date, present=expected, **_BLOCKED),
                )
            )
    day = case.close_day
    closed = [
        d.date for d in ev.decisions_of(ASSET, frozenset({"close"})) if d.outcome == "approved"
    ]
    if day not in closed:
        out.append(
            Mismatch(
                day,
                f"close of W at {(day - case.start).days * 24} hours, minimum {case.hours}",
                f"approved on {day}",
                f"approved closes: {', '.join(map(str, closed)) or 'none'}",
                decision_item(ASSET, "close", day, present=True, outcome="approved"),
            )
        )
    return out


MIN_DURATION = Target(
    rule="whipsaw.min_duration",
    boundary="hours since the open at a close: blocked iff < whipsaw_min_duration_hours",
    cases=_duration_cases,
    examples=tuple(DurationCase(d, delta, 0) for d in (1, 3) for delta in (-1, 0, 1)),
    build=_duration_document,
    check=_duration_check,
)
