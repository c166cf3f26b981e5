"""Small builders shared by the protection and resolution unit tests."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.config import default_config
from domain.messages import (
    ABSTAIN,
    Message,
    NoticeIssued,
    ProposalReviewed,
    ProposeTrade,
    RegimeUpdated,
    TradeFilled,
)
from domain.protections.base import DayContext, PositionView, ReviewContext

D0 = dt.date(2021, 1, 4)


def day(n: int) -> dt.date:
    """Calendar day `n` after D0 (durations are calendar days)."""
    return D0 + dt.timedelta(days=n)


def config(**overrides: Any) -> Any:
    """The default configuration with `overrides`."""
    cfg = default_config()
    return cfg.replace(**overrides) if overrides else cfg


def regime(
    name: str = "Goldilocks",
    previous: str | None = "Goldilocks",
    *,
    changed: bool = False,
    severity: str = "normal",
) -> RegimeUpdated:
    return RegimeUpdated(
        regime=name,
        previous=previous,
        changed=changed,
        severity=severity,
        confidence=1.0,
        stability=1.0,
    )


class FakePrices:
    """A PriceView over explicit {asset: {date: close}} with on-or-before lookup."""

    def __init__(
        self,
        closes: Mapping[str, Mapping[dt.date, float]],
        buckets: Mapping[str, tuple[str, ...]] | None = None,
    ):
        self._closes = {a: sorted(c.items()) for a, c in closes.items()}
        self._buckets = dict(buckets or {})

    def price(self, asset: str, when: dt.date) -> float | None:
        series = self._closes.get(asset)
        if not series:
            return None
        i = bisect.bisect_right([d for d, _ in series], when)
        return None if i == 0 else series[i - 1][1]

    def bucket_assets(self, bucket: str) -> tuple[str, ...]:
        return self._buckets.get(bucket, ())


NO_PRICES = FakePrices({})


def day_ctx(
    when: dt.date,
    *,
    holdings: Mapping[str, float] | None = None,
    entered: Mapping[str, dt.date] | None = None,
    scores: Mapping[str, float] | None = None,
    bucket_of: Mapping[str, str] | None = None,
    prices: Any = NO_PRICES,
    step: int = 0,
    regime_update: RegimeUpdated | None = None,
) -> DayContext:
    entered = entered or {}
    return DayContext(
        step=step,
        date=when,
        regime=regime_update or regime(),
        scores=dict(scores or {}),
        holdings={
            a: PositionView(asset=a, weight=w, entered=entered.get(a))
            for a, w in (holdings or {}).items()
        },
        bucket_of=dict(bucket_of or {}),
        prices=prices,
    )


def review_ctx(
    when: dt.date,
    position: PositionView | None = None,
    *,
    regime_update: RegimeUpdated | None = None,
) -> ReviewContext:
    return ReviewContext(
        step=0,
        date=when,
        round=0,
        regime=regime_update or regime(),
        position=position,
        bucket_of={},
    )


def proposal(
    asset: str,
    action: str,
    from_weight: float = 0.1,
    to_weight: float = 0.0,
    *,
    origin: str = "portfolio_manager",
    pid: str | None = None,
) -> ProposeTrade:
    return ProposeTrade(
        proposal_id=pid or f"0:{origin}:{asset}",
        asset=asset,
        action=action,
        from_weight=from_weight,
        to_weight=to_weight,
        score=0.5,
        reason="test",
        origin=origin,
    )


def fill(asset: str, side: str, weight_after: float) -> TradeFilled:
    return TradeFilled(
        proposal_id=f"p:{asset}",
        asset=asset,
        side=side,
        quantity=1.0,
        price=100.0,
        notional=100.0,
        commission=0.0,
        weight_after=weight_after,
        requested_quantity=1.0,
    )


def verdict(
    system: str,
    stance: str,
    priority: int,
    *,
    amended_weight: float | None = None,
    asset: str = "AAA",
    reason: str | None = None,
) -> ProposalReviewed:
    return ProposalReviewed(
        proposal_id=f"0:portfolio_manager:{asset}",
        asset=asset,
        system=system,
        stance=stance,
        priority=priority,
        reason=reason or f"{system} says {stance}",
        amended_weight=amended_weight,
    )


def abstain(system: str, priority: int) -> ProposalReviewed:
    return verdict(system, ABSTAIN, priority)


def notices(messages: list[Message], event: str | None = None) -> list[NoticeIssued]:
    """The notices among `messages`, optionally of one event."""
    return [
        m for m in messages if isinstance(m, NoticeIssued) and (event is None or m.event == event)
    ]


def proposals(messages: list[Message]) -> list[ProposeTrade]:
    return [m for m in messages if isinstance(m, ProposeTrade)]


class CurvePrices:
    """A PriceView whose close of `asset` on a day is `curves[asset](days since D0)`."""

    def __init__(self, curves: Mapping[str, Any], buckets: Mapping[str, tuple[str, ...]]):
        self._curves = dict(curves)
        self._buckets = dict(buckets)

    def price(self, asset: str, when: dt.date) -> float | None:
        curve = self._curves.get(asset)
        return None if curve is None else float(curve((when - D0).days))

    def bucket_assets(self, bucket: str) -> tuple[str, ...]:
        return self._buckets.get(bucket, ())
