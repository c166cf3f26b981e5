"""Fuzz targets of the expiries counted in calendar days: grace_period.expiry (the close
`grace_period_days` after grace starts) and core_asset.expiry (core status ending
`core_asset_expiry_days` after designation), each with the boundary day on a weekday or
a weekend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import HIGH, LOW, MONDAY, document, signal, span, trading_days
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target, decision_item, notice_item, yes_no

_DAY = dt.timedelta(days=1)
_LONG_AGO = 60
"""Days before the start the examples' holdings were entered (no holding minimum)."""


def _approved(ev: Evidence, asset: str, action: str) -> list[dt.date]:
    return [d.date for d in ev.decisions_of(asset, frozenset({action})) if d.outcome == "approved"]


def _notice_mismatches(
    ev: Evidence, event: str, asset: str, due: dt.date | None, what: str
) -> list[Mismatch]:
    """The `event` notices on `asset` must be exactly one, on `due` (none when None)."""
    seen = ev.notice_days(event, asset)
    want = [] if due is None else [due]
    if seen == want:
        return []
    day = min([*want, *seen])
    present = day in want
    return [
        Mismatch(
            day,
            what,
            yes_no(bool(want), f"one {event} notice on {due}", f"no {event} notice"),
            f"{event} notices on {', '.join(map(str, seen)) or 'no day'}",
            notice_item(event, asset, day, present=present),
        )
    ]


def _close_mismatches(ev: Evidence, asset: str, due: dt.date | None, what: str) -> list[Mismatch]:
    """The first approved close of `asset` must be on `due` (none when None)."""
    closes = _approved(ev, asset, "close")
    first = closes[0] if closes else None
    if first == due:
        return []
    day = min(d for d in (first, due) if d is not None)
    return [
        Mismatch(
            day,
            what,
            yes_no(due is not None, f"the close approved on {due}", "no approved close"),
            f"first approved close on {first}",
            decision_item(asset, "close", day, present=day == due, outcome="approved"),
        )
    ]


# --- grace_period.expiry -------------------------------------------------------------


@attrs.frozen
class GraceCase:
    """A scores below the keep threshold from trading day `drop` (0 = the first, weekday
    `weekday`), and grace lasts `grace_period_days` = `days`."""

    days: int
    weekday: int
    drop: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def started(self) -> dt.date:
        return trading_days(self.start, self.drop + 1)[-1]


def _grace_cases() -> st.SearchStrategy[GraceCase]:
    return st.builds(
        GraceCase, days=st.integers(1, 10), weekday=st.integers(0, 4), drop=st.integers(0, 4)
    )


def _grace_length(case: GraceCase) -> int:
    return span(case.start, case.started + (case.days + 3) * _DAY)


def _grace_document(case: GraceCase) -> dict[str, Any]:
    scores = [signal("A", case.started, LOW)]
    if case.drop:
        scores.insert(0, signal("A", case.start, HIGH, end=case.started - _DAY))
    return document(
        f"fuzz-grace-expiry-g{case.days}-w{case.weekday}-d{case.drop}",
        description=(
            f"A scores {LOW} from {case.started} ({case.started:%A}) and starts grace;"
            f" grace_period_days {case.days}: it is closed on the first day at least"
            f" {case.days} calendar days later."
        ),
        start=case.start,
        days=_grace_length(case),
        buckets={"Risk Assets": ["A"]},
        config={"grace_period_days": case.days},
        scores=scores,
        trending=[signal("A", case.start, 0.0)],
        portfolio={"A": {"weight": 0.2, "entered": case.start - _LONG_AGO * _DAY}},
    )


def _grace_check(case: GraceCase, ev: Evidence) -> list[Mismatch]:
    out = _notice_mismatches(
        ev, "grace_started", "A", case.started, f"grace start of A (score {LOW})"
    )
    if out:
        return out
    due = oracles.grace_close_day(case.started, case.days, ev.days)
    what = f"close of A, grace since {case.started}, grace_period_days {case.days}"
    return [
        *_notice_mismatches(ev, "grace_expired", "A", due, what),
        *_close_mismatches(ev, "A", due, what),
    ]


GRACE_EXPIRY = Target(
    rule="grace_period.expiry",
    boundary="calendar days in grace: closed on the first day >= grace_period_days",
    cases=_grace_cases,
    examples=tuple(GraceCase(g, w, 0) for g in (4, 5, 6) for w in (0, 2)),
    build=_grace_document,
    check=_grace_check,
)


# --- core_asset.expiry ---------------------------------------------------------------


@attrs.frozen
class CoreExpiryCase:
    """C is a starting core holding (designated on the first day, weekday `weekday`)
    scoring below the keep threshold, with `core_asset_expiry_days` = `days`."""

    days: int
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY


def _core_cases() -> st.SearchStrategy[CoreExpiryCase]:
    return st.builds(CoreExpiryCase, days=st.integers(1, 15), weekday=st.integers(0, 4))


def _core_document(case: CoreExpiryCase) -> dict[str, Any]:
    return document(
        f"fuzz-core-expiry-x{case.days}-w{case.weekday}",
        description=(
            f"C is core from {case.start} ({case.start:%A}) with core_asset_expiry_days"
            f" {case.days} and scores {LOW}: its closes are blocked by core_asset until the"
            " designation expires, then approved. Grace is off to isolate the rule."
        ),
        start=case.start,
        days=span(case.start, case.start + (case.days + 3) * _DAY),
        buckets={"Risk Assets": ["C"]},
        config={"core_asset_expiry_days": case.days},
        scores=[signal("C", case.start, LOW)],
        trending=[signal("C", case.start, 0.0)],
        portfolio={"C": {"weight": 0.2, "entered": case.start - _LONG_AGO * _DAY, "core": True}},
        off=("grace_period",),
    )


def _core_check(case: CoreExpiryCase, ev: Evidence) -> list[Mismatch]:
    due = oracles.core_expiry_day(case.start, case.days, ev.days)
    out: list[Mismatch] = []
    for d in ev.decisions_of("C", frozenset({"close", "reduce"})):
        expected = due is None or d.date < due
        observed = d.outcome == "blocked" and d.decided_by == "core_asset"
        if expected != observed:
            out.append(
                Mismatch(
                    d.date,
                    f"{d.action} of C, {(d.date - case.start).days} days after designation,"
                    f" expiry {case.days} days",
                    yes_no(expected, "blocked by core_asset", "not blocked by core_asset"),
                    f"{d.outcome} by {d.decided_by}",
                    decision_item(
                        "C",
                        d.action,
                        d.date,
                        present=expected,
                        outcome="blocked",
                        decided_by="core_asset",
                    ),
                )
            )
    what = f"expiry of C's designation after {case.days} days"
    return [
        *out,
        *_notice_mismatches(ev, "core_expired", "C", due, what),
        *_close_mismatches(ev, "C", due, what),
    ]


CORE_EXPIRY = Target(
    rule="core_asset.expiry",
    boundary="calendar days since designation: core while < core_asset_expiry_days",
    cases=_core_cases,
    examples=tuple(CoreExpiryCase(x, w) for x in (4, 5, 8) for w in (0, 1)),
    build=_core_document,
    check=_core_check,
)
