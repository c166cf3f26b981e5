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

from domain.buckets import UNKNOWN_BUCKET
from domain.config import Config
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
from domain.rules import Rule

RETAIN = "RETAIN"
MONITOR_CLOSELY = "MONITOR_CLOSELY"
RECOMMEND_REVOKE = "RECOMMEND_REVOKE"
MAX_WARNINGS = 10

_SECTION = "6. Protection managers / Core asset"
_CHECK = (
    "core_asset_performance_check_frequency",
    "core_asset_underperformance_period",
    "core_asset_underperformance_threshold",
)
DESIGNATION = Rule(
    "core_asset.designation",
    ("core_asset_expiry_days",),
    "A starting core holding, a bucket-override request or a mark_core intervention makes"
    " the asset core until its designation day + core_asset_expiry_days",
    _SECTION,
)
ALREADY_CORE = Rule(
    "core_asset.already_core",
    (),
    "A designation of an asset that is already core is refused (an extension prolongs it)",
    _SECTION,
)
MAX_CORE = Rule(
    "core_asset.max_core",
    ("max_core_assets",),
    "A designation beyond max_core_assets core assets is refused, with a reason",
    _SECTION,
)
EXPIRY = Rule(
    "core_asset.expiry",
    ("core_asset_expiry_days",),
    "Core status expires on its expiry day (designation + core_asset_expiry_days)",
    _SECTION,
)
EXTENSION = Rule(
    "core_asset.extension",
    ("core_asset_expiry_days",),
    "An extension moves the expiry days later (core_asset_expiry_days when not given);"
    " refused for an asset that is not core or a non-positive number of days",
    _SECTION,
)
EXTENSION_LIMIT = Rule(
    "core_asset.extension_limit",
    ("core_asset_extension_limit",),
    "An asset may be extended at most core_asset_extension_limit times",
    _SECTION,
)
MANUAL_REVOKE = Rule(
    "core_asset.manual_revoke",
    (),
    "A revoke_core intervention revokes core status; refused for an asset that is not core",
    _SECTION,
)
UNDERPERFORMANCE = Rule(
    "core_asset.underperformance",
    _CHECK,
    "Every check frequency days: underperforming the rest of its bucket by more than the"
    " threshold over the period revokes core status",
    _SECTION,
)
WARNING = Rule(
    "core_asset.warning",
    _CHECK,
    "Underperformance above half the threshold keeps a warning (at most 10) and advises"
    " MONITOR_CLOSELY",
    _SECTION,
)
IMMUNITY = Rule(
    "core_asset.immunity",
    (),
    "While core, close and reduce are blocked (priority 1: not even a regime override lifts it)",
    _SECTION,
)
ENTRY_GRANT = Rule(
    "core_asset.entry_grant",
    (),
    "While core, open and increase are granted (overriding lower-priority blocks)",
    _SECTION,
)
SWITCH_OFF = Rule(
    "core_asset.switch_off",
    ("enable_core_asset_management",),
    "Core management switched off mid-run revokes every core asset that day (not manual)",
    _SECTION,
)


@attrs.frozen
class Refusal:
    """Why a guard refuses a request: the rule and the reason."""

    rule: Rule
    reason: str


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
    rules = (
        DESIGNATION,
        ALREADY_CORE,
        MAX_CORE,
        EXPIRY,
        EXTENSION,
        EXTENSION_LIMIT,
        MANUAL_REVOKE,
        UNDERPERFORMANCE,
        WARNING,
        IMMUNITY,
        ENTRY_GRANT,
        SWITCH_OFF,
    )

    def __init__(self, config: Config, *, priority: int, options: Mapping[str, Any] | None = None):
        super().__init__(config, priority=priority, options=options)
        self._records: dict[str, CoreRecord] = {}

    # --- queries -------------------------------------------------------------------

    def core_assets(self) -> tuple[str, ...]:
        """The current core assets, sorted."""
        return tuple(sorted(self._records))

    def record(self, asset: str) -> CoreRecord | None:
        """The registry record of `asset`, or None when it is not core."""
        return self._records.get(asset)

    def is_core(self, asset: str, day: dt.date) -> bool:
        """Whether `asset` is core on `day` (designated and not yet expired)."""
        rec = self._records.get(asset)
        return rec is not None and day < rec.expiry

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

        Refused when `asset` is already core (an extension is the way to prolong it), or
        when `max_core_assets` are already core.

        Returns:
            One notice: core_designated or core_refused.
        """
        refusal = self._check_already_core(asset) or self._check_max_core()
        if refusal is not None:
            return [
                self._notice(
                    "core_refused",
                    asset,
                    refusal.rule,
                    reason=refusal.reason,
                    requested_reason=reason,
                    score=score,
                    max_core_assets=self.config.max_core_assets,
                )
            ]
        expiry = day + dt.timedelta(days=self.config.core_asset_expiry_days)
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
                DESIGNATION,
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
        add = self.config.core_asset_expiry_days if days is None else int(days)
        refusal = (
            self._check_extended_is_core(asset)
            or self._check_extension_limit(asset)
            or self._check_extension_days(add)
        )
        if refusal is not None:
            return [
                self._notice(
                    "core_extension_refused",
                    asset,
                    refusal.rule,
                    reason=refusal.reason,
                    requested_reason=reason,
                )
            ]
        assert rec is not None
        new_expiry = rec.expiry + dt.timedelta(days=add)
        self._records[asset] = attrs.evolve(rec, expiry=new_expiry, extensions=rec.extensions + 1)
        return [
            self._notice(
                "core_extended",
                asset,
                EXTENSION,
                reason=reason,
                days=add,
                previous_expiry=rec.expiry,
                expiry=new_expiry,
                extensions=rec.extensions + 1,
                extension_limit=self.config.core_asset_extension_limit,
            )
        ]

    # --- guards ------------------------------------------------------------------------

    def _check_already_core(self, asset: str) -> Refusal | None:
        """core_asset.already_core: no second designation of a core asset."""
        rec = self._records.get(asset)
        if rec is None:
            return None
        return Refusal(
            ALREADY_CORE,
            f"{asset} is already core until {rec.expiry.isoformat()} (use an extension)",
        )

    def _check_max_core(self) -> Refusal | None:
        """core_asset.max_core: no designation once `max_core_assets` are core."""
        if len(self._records) < self.config.max_core_assets:
            return None
        return Refusal(
            MAX_CORE,
            f"max_core_assets ({self.config.max_core_assets}) reached:"
            f" {', '.join(self.core_assets())}",
        )

    def _check_extended_is_core(self, asset: str) -> Refusal | None:
        """core_asset.extension: only a core asset is extended."""
        return None if asset in self._records else Refusal(EXTENSION, f"{asset} is not core")

    @staticmethod
    def _check_extension_days(add: int) -> Refusal | None:
        """core_asset.extension: an extension is by a positive number of days."""
        if add > 0:
            return None
        return Refusal(EXTENSION, f"an extension needs a positive number of days (got {add})")

    def _check_extension_limit(self, asset: str) -> Refusal | None:
        """core_asset.extension_limit: at most `core_asset_extension_limit` extensions."""
        rec = self._records[asset]
        limit = self.config.core_asset_extension_limit
        if rec.extensions < limit:
            return None
        return Refusal(EXTENSION_LIMIT, f"extension limit reached ({rec.extensions} of {limit})")

    def revoke(
        self, asset: str, day: dt.date, *, reason: str, manual: bool = True
    ) -> list[Message]:
        """Revoke the core status of `asset` (by hand, unless `manual` is False: then the
        switch-off revokes it).

        Returns:
            core_revoked, or core_revoke_refused when `asset` is not core.
        """
        rule = MANUAL_REVOKE if manual else SWITCH_OFF
        rec = self._records.pop(asset, None)
        if rec is None:
            return [self._notice("core_revoke_refused", asset, rule, reason=f"{asset} is not core")]
        return [
            self._notice(
                "core_revoked",
                asset,
                rule,
                reason=reason,
                manual=manual,
                recommendation=RECOMMEND_REVOKE,
                designated=rec.designated,
            )
        ]

    def switched_off(self, day: dt.date) -> list[Message]:
        """core_asset.switch_off: switched off (a `set` intervention), every core asset loses
        its status that day, each with a core_revoked notice (manual false)."""
        return [
            message
            for asset in sorted(self._records)
            for message in self.revoke(
                asset, day, reason="core asset management switched off", manual=False
            )
        ]

    def housekeep(self, ctx: DayContext) -> list[Message]:
        """Expire core assets on their expiry day, and run due performance checks."""
        out: list[Message] = []
        for asset in sorted(self._records):
            rec = self._records[asset]
            if rec.bucket is None and asset in ctx.bucket_of:
                rec = attrs.evolve(rec, bucket=ctx.bucket_of[asset])
                self._records[asset] = rec
            expired = self._check_expiry(rec, ctx.date)
            if expired is not None:
                out.append(expired)
                continue
            last = rec.last_check or rec.designated
            if (ctx.date - last).days < self.config.core_asset_performance_check_frequency:
                continue
            out += self._check(rec, ctx)
        return out

    def _check_expiry(self, rec: CoreRecord, day: dt.date) -> NoticeIssued | None:
        """core_asset.expiry: core status ends in the first housekeeping on or after the
        expiry day."""
        if day < rec.expiry:
            return None
        del self._records[rec.asset]
        return self._notice(
            "core_expired",
            rec.asset,
            EXPIRY,
            reason=f"core status expired on {rec.expiry.isoformat()}",
            designated=rec.designated,
            expiry=rec.expiry,
            extensions=rec.extensions,
        )

    def performance(self, asset: str, bucket: str, ctx: DayContext) -> PerformanceCheck | None:
        """Return of `asset` over `core_asset_underperformance_period` calendar days against
        the average of the other assets of `bucket` with prices; None when either is missing.
        """
        period = self.config.core_asset_underperformance_period
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
        details = {
            "asset_return": perf.asset_return,
            "bucket_average": perf.bucket_average,
            "underperformance": perf.underperformance,
            "threshold": self.config.core_asset_underperformance_threshold,
            "period_days": self.config.core_asset_underperformance_period,
            "bucket": bucket,
            "peers": list(perf.peers),
        }
        rec = attrs.evolve(rec, last_check=ctx.date, underperformance=perf.underperformance)
        out = self._check_underperformance(rec, details) or self._check_warning(
            rec, details, ctx.date
        )
        if not out:
            self._records[rec.asset] = attrs.evolve(rec, recommendation=RETAIN)
        return out

    def _check_underperformance(self, rec: CoreRecord, details: dict[str, Any]) -> list[Message]:
        """core_asset.underperformance: more than the threshold behind the bucket revokes."""
        under, threshold, period = (
            details["underperformance"],
            details["threshold"],
            details["period_days"],
        )
        if under <= threshold:
            return []
        del self._records[rec.asset]
        return [
            self._notice(
                "core_revoked",
                rec.asset,
                UNDERPERFORMANCE,
                reason=(
                    f"underperformed its bucket by {under:.1%} over {period} days"
                    f" (threshold {threshold:.1%})"
                ),
                manual=False,
                recommendation=RECOMMEND_REVOKE,
                **details,
            )
        ]

    def _check_warning(
        self, rec: CoreRecord, details: dict[str, Any], day: dt.date
    ) -> list[Message]:
        """core_asset.warning: more than half the threshold behind keeps a warning."""
        under, period = details["underperformance"], details["period_days"]
        if under <= details["threshold"] / 2:
            return []
        warning = f"{day.isoformat()}: underperformed bucket by {under:.1%} over {period} days"
        warnings = (*rec.warnings, warning)[-MAX_WARNINGS:]
        self._records[rec.asset] = attrs.evolve(
            rec, warnings=warnings, recommendation=MONITOR_CLOSELY
        )
        return [
            self._notice(
                "core_warning",
                rec.asset,
                WARNING,
                reason=warning,
                recommendation=MONITOR_CLOSELY,
                warnings=len(warnings),
                **details,
            )
        ]

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
                "extensions_left": max(0, self.config.core_asset_extension_limit - rec.extensions),
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
            return self._check_immunity(proposal, until)
        if proposal.action in ENTRIES:
            return self._check_entry_grant(proposal, until)
        return self.verdict(proposal, ABSTAIN, f"action {proposal.action} not governed")

    def _check_immunity(self, proposal: ProposeTrade, until: str) -> ProposalReviewed:
        """core_asset.immunity: a close or reduce of a core asset is blocked."""
        return self.verdict(
            proposal,
            BLOCK,
            f"core asset immunity: {proposal.asset} is core until {until}",
            rule=IMMUNITY.id,
        )

    def _check_entry_grant(self, proposal: ProposeTrade, until: str) -> ProposalReviewed:
        """core_asset.entry_grant: an open or increase of a core asset is granted."""
        return self.verdict(
            proposal,
            GRANT,
            f"core asset: {proposal.asset} may always be added to (core until {until})",
            rule=ENTRY_GRANT.id,
        )

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"core": True, "core_until": iso date} while `asset` is core."""
        if not self.is_core(asset, day):
            return {}
        return {"core": True, "core_until": self._records[asset].expiry.isoformat()}

    # --- helpers -------------------------------------------------------------------

    def _notice(self, event: str, asset: str, rule: Rule, **details: Any) -> NoticeIssued:
        details["core_assets"] = list(self.core_assets())
        return NoticeIssued(event=event, asset=asset, details=details, rule=rule.id)


def _price(ctx: DayContext, asset: str, day: dt.date) -> float:
    value = ctx.prices.price(asset, day)
    return float("nan") if value is None else float(value)


def _period_return(ctx: DayContext, asset: str, start: dt.date) -> float | None:
    now = _price(ctx, asset, ctx.date)
    then = _price(ctx, asset, start)
    if not (np.isfinite(now) and np.isfinite(then) and then > 0):
        return None
    return now / then - 1.0
