"""Core asset immunity: a few designated holdings may not be closed or reduced.

A core asset is designated (a scenario's starting `core: true` holding, a bucket
override, or a manual intervention), lives for `core_asset_expiry_days`, may be
extended at most `core_asset_extension_limit` times, and is checked every
`core_asset_performance_check_frequency` days against the average of the other assets
of its bucket: underperformance above `core_asset_underperformance_threshold` revokes
it, above half of it issues a warning. While core, closes and reduces are blocked and
opens and increases are granted (priority 1: nothing overrides it, not even a regime
override).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from domain.messages import (
    ABSTAIN,
    BLOCK,
    ENTRIES,
    EXITS,
    GRANT,
    Message,
    NoticeIssued,
    ProposalReviewed,
    ProposeTrade,
)
from domain.protections.base import (
    DayContext,
    PositionView,
    Protection,
    ReviewContext,
    StartingHolding,
)

RETAIN = "RETAIN"
MONITOR_CLOSELY = "MONITOR_CLOSELY"
RECOMMEND_REVOKE = "RECOMMEND_REVOKE"
MAX_WARNINGS = 10
UNKNOWN_BUCKET = "Unknown"


@attrs.frozen
class CoreRecord:
    """One core designation as the registry keeps it.

    Attributes:
        asset: the ticker.
        designated: the day it became core.
        expiry: the first day it is no longer core.
        reason: why it was designated.
        bucket: its bucket (None until known).
        extensions: how many extensions were granted.
        warnings: underperformance warnings, oldest first, at most 10.
        last_check: the day of the last completed performance check (designation day at first).
        designation_score: the score that justified the designation, when known.
        recommendation: RETAIN, MONITOR_CLOSELY or RECOMMEND_REVOKE after the last check.
        underperformance: bucket average return minus own return at the last check.
    """

    asset: str
    designated: dt.date
    expiry: dt.date
    reason: str
    bucket: str | None = None
    extensions: int = 0
    warnings: tuple[str, ...] = ()
    last_check: dt.date | None = None
    designation_score: float | None = None
    recommendation: str = RETAIN
    underperformance: float | None = None


@attrs.frozen
class PerformanceCheck:
    """The numbers behind one performance check."""

    asset_return: float
    bucket_average: float
    underperformance: float
    peers: tuple[str, ...]
    start: dt.date


class CoreAssetProtection(Protection):
    """Registry and immunity of core assets (priority 1)."""

    name = "core_asset"

    def __init__(self, config: Any, *, priority: int = 1, options: Mapping[str, Any] | None = None):
        super().__init__(config, priority=priority, options=options)
        self._records: dict[str, CoreRecord] = {}

    # --- queries -------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """Whether core asset management is switched on in the configuration."""
        return bool(self.config.enable_core_asset_management)

    def core_assets(self) -> tuple[str, ...]:
        """The current core assets, sorted."""
        return tuple(sorted(self._records))

    def record(self, asset: str) -> CoreRecord | None:
        """The registry record of `asset`, or None when it is not core."""
        return self._records.get(asset)

    def is_core(self, asset: str, day: dt.date) -> bool:
        """Whether `asset` is core on `day` (designated and not yet expired)."""
        rec = self._records.get(asset)
        return self.enabled and rec is not None and day < rec.expiry

    # --- lifecycle -----------------------------------------------------------------

    def start(self, day: dt.date, holdings: Mapping[str, StartingHolding]) -> list[Message]:
        """Designate the starting holdings flagged core on `day` (sorted order)."""
        out: list[Message] = []
        for asset in sorted(holdings):
            if holdings[asset].core:
                out += self.designate(asset, day, reason="scenario starting core holding")
        return out

    def designate(
        self,
        asset: str,
        day: dt.date,
        *,
        reason: str,
        score: float | None = None,
        bucket: str | None = None,
    ) -> list[Message]:
        """Make `asset` core from `day`, or refuse with a reason.

        Refused when core asset management is off, when `asset` is already core (an
        extension is the way to prolong it), or when `max_core_assets` are already core.

        Returns:
            One notice: core_designated or core_refused.
        """
        refusal = None
        if not self.enabled:
            refusal = "core asset management is disabled"
        elif asset in self._records:
            refusal = (
                f"{asset} is already core until {self._records[asset].expiry.isoformat()}"
                " (use an extension)"
            )
        elif len(self._records) >= self.config.max_core_assets:
            refusal = (
                f"max_core_assets ({self.config.max_core_assets}) reached:"
                f" {', '.join(self.core_assets())}"
            )
        if refusal is not None:
            return [
                self._notice(
                    "core_refused",
                    asset,
                    reason=refusal,
                    requested_reason=reason,
                    score=score,
                    max_core_assets=self.config.max_core_assets,
                )
            ]
        expiry = day + dt.timedelta(days=int(self.config.core_asset_expiry_days))
        self._records[asset] = CoreRecord(
            asset=asset,
            designated=day,
            expiry=expiry,
            reason=reason,
            bucket=bucket,
            last_check=day,
            designation_score=score,
        )
        return [
            self._notice(
                "core_designated",
                asset,
                reason=reason,
                score=score,
                bucket=bucket,
                designated=day,
                expiry=expiry,
            )
        ]

    def extend(
        self, asset: str, day: dt.date, *, days: int | None = None, reason: str
    ) -> list[Message]:
        """Prolong the core status of `asset`: the expiry moves `days` later.

        `days` None means `core_asset_expiry_days`. Refused (core_extension_refused) when
        `asset` is not core or already had `core_asset_extension_limit` extensions.

        Returns:
            One notice: core_extended or core_extension_refused.
        """
        rec = self._records.get(asset)
        limit = int(self.config.core_asset_extension_limit)
        add = int(self.config.core_asset_expiry_days if days is None else days)
        refusal = None
        if rec is None or not self.enabled:
            refusal = f"{asset} is not core"
        elif rec.extensions >= limit:
            refusal = f"extension limit reached ({rec.extensions} of {limit})"
        elif add <= 0:
            refusal = f"an extension needs a positive number of days (got {add})"
        if refusal is not None:
            return [
                self._notice(
                    "core_extension_refused", asset, reason=refusal, requested_reason=reason
                )
            ]
        assert rec is not None
        new_expiry = rec.expiry + dt.timedelta(days=add)
        self._records[asset] = attrs.evolve(rec, expiry=new_expiry, extensions=rec.extensions + 1)
        return [
            self._notice(
                "core_extended",
                asset,
                reason=reason,
                days=add,
                previous_expiry=rec.expiry,
                expiry=new_expiry,
                extensions=rec.extensions + 1,
                extension_limit=limit,
            )
        ]

    def revoke(
        self, asset: str, day: dt.date, *, reason: str, manual: bool = True
    ) -> list[Message]:
        """Revoke the core status of `asset` (by hand, unless `manual` is False).

        Returns:
            core_revoked, or core_revoke_refused when `asset` is not core.
        """
        rec = self._records.pop(asset, None)
        if rec is None:
            return [self._notice("core_revoke_refused", asset, reason=f"{asset} is not core")]
        return [
            self._notice(
                "core_revoked",
                asset,
                reason=reason,
                manual=manual,
                recommendation=RECOMMEND_REVOKE,
                designated=rec.designated,
            )
        ]

    def housekeep(self, ctx: DayContext) -> list[Message]:
        """Expire core assets on their expiry day, and run due performance checks. When core
        asset management has been switched off (a `set` intervention), every core asset
        loses its status that day, each with a core_revoked notice."""
        if not self.enabled:
            return [
                *(
                    message
                    for asset in sorted(self._records)
                    for message in self.revoke(
                        asset, ctx.date, reason="core asset management switched off", manual=False
                    )
                )
            ]
        out: list[Message] = []
        for asset in sorted(self._records):
            rec = self._records[asset]
            if rec.bucket is None and asset in ctx.bucket_of:
                rec = attrs.evolve(rec, bucket=ctx.bucket_of[asset])
                self._records[asset] = rec
            if ctx.date >= rec.expiry:
                del self._records[asset]
                out.append(
                    self._notice(
                        "core_expired",
                        asset,
                        reason=f"core status expired on {rec.expiry.isoformat()}",
                        designated=rec.designated,
                        expiry=rec.expiry,
                        extensions=rec.extensions,
                    )
                )
                continue
            last = rec.last_check or rec.designated
            if (ctx.date - last).days < int(self.config.core_asset_performance_check_frequency):
                continue
            out += self._check(rec, ctx)
        return out

    def performance(self, asset: str, bucket: str, ctx: DayContext) -> PerformanceCheck | None:
        """Return of `asset` over `core_asset_underperformance_period` calendar days against
        the average of the other assets of `bucket` with prices; None when either is missing.
        """
        period = int(self.config.core_asset_underperformance_period)
        start = ctx.date - dt.timedelta(days=period)
        own = _period_return(ctx, asset, start)
        if own is None:
            return None
        peers = tuple(sorted(a for a in ctx.prices.bucket_assets(bucket) if a != asset))
        now = np.array([_price(ctx, a, ctx.date) for a in peers], dtype=float)
        then = np.array([_price(ctx, a, start) for a in peers], dtype=float)
        ok = np.isfinite(now) & np.isfinite(then) & (then > 0)
        if not ok.any():
            return None
        returns = now[ok] / then[ok] - 1.0
        avg = float(returns.mean())
        used = tuple(p for p, good in zip(peers, ok, strict=True) if good)
        return PerformanceCheck(
            asset_return=own,
            bucket_average=avg,
            underperformance=avg - own,
            peers=used,
            start=start,
        )

    def _check(self, rec: CoreRecord, ctx: DayContext) -> list[Message]:
        bucket = rec.bucket or ctx.bucket_of.get(rec.asset, UNKNOWN_BUCKET)
        perf = self.performance(rec.asset, bucket, ctx)
        if perf is None:
            return []  # nothing to compare with: no check, retried the next day
        threshold = float(self.config.core_asset_underperformance_threshold)
        period = int(self.config.core_asset_underperformance_period)
        details = {
            "asset_return": perf.asset_return,
            "bucket_average": perf.bucket_average,
            "underperformance": perf.underperformance,
            "threshold": threshold,
            "period_days": period,
            "bucket": bucket,
            "peers": list(perf.peers),
        }
        rec = attrs.evolve(rec, last_check=ctx.date, underperformance=perf.underperformance)
        if perf.underperformance > threshold:
            del self._records[rec.asset]
            return [
                self._notice(
                    "core_revoked",
                    rec.asset,
                    reason=(
                        f"underperformed its bucket by {perf.underperformance:.1%} over"
                        f" {period} days (threshold {threshold:.1%})"
                    ),
                    manual=False,
                    recommendation=RECOMMEND_REVOKE,
                    **details,
                )
            ]
        if perf.underperformance > threshold / 2:
            warning = (
                f"{ctx.date.isoformat()}: underperformed bucket by"
                f" {perf.underperformance:.1%} over {period} days"
            )
            warnings = (*rec.warnings, warning)[-MAX_WARNINGS:]
            self._records[rec.asset] = attrs.evolve(
                rec, warnings=warnings, recommendation=MONITOR_CLOSELY
            )
            return [
                self._notice(
                    "core_warning",
                    rec.asset,
                    reason=warning,
                    recommendation=MONITOR_CLOSELY,
                    warnings=len(warnings),
                    **details,
                )
            ]
        self._records[rec.asset] = attrs.evolve(rec, recommendation=RETAIN)
        return []

    def report(self, day: dt.date) -> dict[str, dict[str, Any]]:
        """Status of every core asset: designation, expiry, extensions, warnings, advice."""
        out: dict[str, dict[str, Any]] = {}
        for asset in sorted(self._records):
            rec = self._records[asset]
            out[asset] = {
                "designated": rec.designated.isoformat(),
                "expiry": rec.expiry.isoformat(),
                "days_to_expiry": (rec.expiry - day).days,
                "reason": rec.reason,
                "bucket": rec.bucket,
                "extensions": rec.extensions,
                "extensions_left": max(
                    0, int(self.config.core_asset_extension_limit) - rec.extensions
                ),
                "warnings": list(rec.warnings),
                "recommendation": rec.recommendation,
                "underperformance": rec.underperformance,
                "last_check": rec.last_check.isoformat() if rec.last_check else None,
                "designation_score": rec.designation_score,
            }
        return out

    # --- review --------------------------------------------------------------------

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Block exits of a core asset, grant its entries; abstain on anything else."""
        if not self.is_core(proposal.asset, ctx.date):
            return self.verdict(proposal, ABSTAIN, f"{proposal.asset} is not core")
        until = self._records[proposal.asset].expiry.isoformat()
        if proposal.action in EXITS:
            return self.verdict(
                proposal, BLOCK, f"core asset immunity: {proposal.asset} is core until {until}"
            )
        if proposal.action in ENTRIES:
            return self.verdict(
                proposal,
                GRANT,
                f"core asset: {proposal.asset} may always be added to (core until {until})",
            )
        return self.verdict(proposal, ABSTAIN, f"action {proposal.action} not governed")

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"core": True, "core_until": iso date} while `asset` is core."""
        if not self.is_core(asset, day):
            return {}
        return {"core": True, "core_until": self._records[asset].expiry.isoformat()}

    # --- helpers -------------------------------------------------------------------

    def _notice(self, event: str, asset: str, **details: Any) -> NoticeIssued:
        details["core_assets"] = list(self.core_assets())
        return NoticeIssued(event=event, asset=asset, details=details)


def _price(ctx: DayContext, asset: str, day: dt.date) -> float:
    value = ctx.prices.price(asset, day)
    return float("nan") if value is None else float(value)


def _period_return(ctx: DayContext, asset: str, start: dt.date) -> float | None:
    now = _price(ctx, asset, ctx.date)
    then = _price(ctx, asset, start)
    if not (np.isfinite(now) and np.isfinite(then) and then > 0):
        return None
    return now / then - 1.0
