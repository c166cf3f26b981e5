"""Fuzz targets of the core limits: core_asset.max_core (designation requests that bring the
number of core assets to `max_core_assets` - 1, exactly it, and one beyond) and
core_asset.extension_limit (the k-th extension of one core asset around the limit)."""

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


# --- core_asset.extension_limit ------------------------------------------------------


@attrs.frozen
class ExtensionCase:
    """C is a starting core holding; one extend_core a day (from the second day, 5 days
    each) `requests` times, with `core_asset_extension_limit` = `limit`."""

    limit: int
    requests: int
    weekday: int

    @property
    def start(self) -> dt.date:
        return MONDAY + self.weekday * _DAY

    @property
    def request_days(self) -> list[dt.date]:
        return trading_days(self.start, self.requests + 1)[1:]


def _extension_cases() -> st.SearchStrategy[ExtensionCase]:
    return st.integers(0, 3).flatmap(
        lambda k: st.builds(
            ExtensionCase,
            limit=st.just(k),
            requests=st.sampled_from(sorted({max(k + d, 1) for d in (-1, 0, 1)})),
            weekday=st.integers(0, 4),
        )
    )


def _extension_document(case: ExtensionCase) -> dict[str, Any]:
    extends = [
        {"date": day, "action": "extend_core", "asset": "CA", "days": 5, "reason": "fuzz"}
        for day in case.request_days
    ]
    return document(
        f"fuzz-core-extension-k{case.limit}-r{case.requests}",
        description=(
            f"CA is a starting core holding extended {case.requests} times, one a day, with"
            f" core_asset_extension_limit {case.limit}: the first {case.limit} extensions"
            " are granted, the rest refused."
        ),
        start=case.start,
        days=case.requests + 2,
        buckets={"Risk Assets": ["CA"]},
        config={"core_asset_extension_limit": case.limit},
        scores=[signal("CA", case.start, HIGH)],
        trending=[signal("CA", case.start, 0.0)],
        portfolio={"CA": {"weight": 0.2, "entered": case.start - 60 * _DAY, "core": True}},
        interventions=extends,
    )


def _extension_check(case: ExtensionCase, ev: Evidence) -> list[Mismatch]:
    out: list[Mismatch] = []
    granted = oracles.extensions_granted(case.limit, case.requests)
    for i, (day, grant) in enumerate(zip(case.request_days, granted, strict=True)):
        extended = day in ev.notice_days("core_extended", "CA")
        refused = day in ev.notice_days("core_extension_refused", "CA")
        if extended == grant and refused != grant:
            continue
        want = yes_no(grant, "core_extended", "core_extension_refused")
        out.append(
            Mismatch(
                day,
                f"extension {i + 1} of CA, core_asset_extension_limit {case.limit}",
                want,
                yes_no(
                    extended, "core_extended", yes_no(refused, "core_extension_refused", "neither")
                ),
                notice_item(want, "CA", day, present=True),
            )
        )
    return out


EXTENSION_LIMIT = Target(
    rule="core_asset.extension_limit",
    boundary="extensions already granted: refused iff >= core_asset_extension_limit",
    cases=_extension_cases,
    examples=(ExtensionCase(2, 3, 0), ExtensionCase(2, 2, 0), ExtensionCase(1, 1, 3)),
    build=_extension_document,
    check=_extension_check,
)
