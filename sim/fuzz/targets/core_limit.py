"""Fuzz target of core_asset.max_core: designation requests that bring the number of
core assets to `max_core_assets` - 1, exactly it, and one beyond."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import strategies as st

from sim.fuzz import oracles
from sim.fuzz.documents import HIGH, MONDAY, document, signal, trading_days
from sim.fuzz.evidence import Evidence
from sim.fuzz.target import Mismatch, Target, notice_item, yes_no

TICKERS = ("CA", "CB", "CC", "CD", "CE", "CF")
_DAY = dt.timedelta(days=1)


@attrs.frozen
class MaxCoreCase:
    """`already` starting core holdings, then one mark_core a day (from the second day)
    for `requests` other holdings, with `max_core_assets` = `limit`."""

    limit: int
    already: int
    requests: int
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def request_days(self) -> list[dt.date]:
        return trading_days(self.start, self.requests + 1)[1:]


def _cases() -> st.SearchStrategy[MaxCoreCase]:
    def for_limit(k: int) -> st.SearchStrategy[MaxCoreCase]:
        return st.integers(0, k).flatmap(
            lambda s: st.builds(
                MaxCoreCase,
                limit=st.just(k),
                already=st.just(s),
                requests=st.sampled_from(
                    sorted({max(k - s + d, 1) for d in (-1, 0, 1) if k - s + d <= 6 - s} or {1})
                ),
                weekday=st.integers(0, 4),
            )
        )

    return st.integers(0, 4).flatmap(for_limit)


def _document(case: MaxCoreCase) -> dict[str, Any]:
    assets = TICKERS[: case.already + case.requests]
    entered = case.start - 60 * _DAY
    book = {
        a: {"weight": 0.1, "entered": entered, **({"core": True} if i < case.already else {})}
        for i, a in enumerate(assets)
    }
    marks = [
        {"date": day, "action": "mark_core", "asset": a, "reason": "fuzz"}
        for day, a in zip(case.request_days, assets[case.already :], strict=True)
    ]
    return document(
        f"fuzz-core-max-k{case.limit}-s{case.already}-r{case.requests}",
        description=(
            f"{case.already} starting core holdings and {case.requests} mark_core requests,"
            f" one a day, with max_core_assets {case.limit}: a request is granted while fewer"
            f" than {case.limit} assets are core, refused after."
        ),
        start=case.start,
        days=case.requests + 2,
        buckets={"Risk Assets": list(assets)},
        config={"max_core_assets": case.limit},
        scores=[signal(a, case.start, HIGH) for a in assets],
        trending=[signal(a, case.start, 0.0) for a in assets],
        portfolio=book,
        interventions=marks,
    )


def _check(case: MaxCoreCase, ev: Evidence) -> list[Mismatch]:
    out: list[Mismatch] = []
    granted = oracles.core_designations(case.already, case.limit, case.requests)
    assets = TICKERS[case.already : case.already + case.requests]
    for i, (day, asset, grant) in enumerate(zip(case.request_days, assets, granted, strict=True)):
        designated = day in ev.notice_days("core_designated", asset)
        refused = day in ev.notice_days("core_refused", asset)
        if designated == grant and refused != grant:
            continue
        core = case.already + sum(granted[:i])
        out.append(
            Mismatch(
                day,
                f"mark_core of {asset} with {core} core assets, max_core_assets {case.limit}",
                yes_no(grant, "core_designated", "core_refused"),
                yes_no(designated, "core_designated", yes_no(refused, "core_refused", "neither")),
                notice_item(
                    yes_no(grant, "core_designated", "core_refused"), asset, day, present=True
                ),
            )
        )
    return out


MAX_CORE = Target(
    rule="core_asset.max_core",
    boundary="core assets at a designation request: refused iff >= max_core_assets",
    cases=_cases,
    examples=(MaxCoreCase(3, 2, 2, 0), MaxCoreCase(3, 0, 4, 0), MaxCoreCase(1, 1, 1, 2)),
    build=_document,
    check=_check,
)
