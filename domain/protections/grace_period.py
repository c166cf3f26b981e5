"""Grace period: a failing holding is wound down on a schedule instead of closed at once.

When a non-core holding's score falls below `min_score_threshold`, it enters grace
with its weight of that day as the start weight. On each later day in grace its
scheduled weight is start_weight x max(`grace_period_decay_rate` ** k,
`min_decay_factor`), k being calendar days since the start; after `grace_period_days`
days it is closed. A score back at or above the threshold ends grace. Core assets are
exempt. A close or reduce proposed by anyone else is amended into the schedule. Grace
never holds a position above `max_single_position_size`, nor a bucket's assets in grace
together above `max_bucket_allocation`: its own targets and its amendments stop there
(grace may cut faster than the limits, never slower; `ceiling`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from domain.buckets import UNKNOWN_BUCKET
from domain.config import Config
from domain.messages import (
    ABSTAIN,
    AMEND,
    CLOSE,
    EXITS,
    GRANT,
    REDUCE,
    Message,
    NoticeIssued,
    ProposalReviewed,
    ProposeTrade,
    TradeFilled,
)
from domain.protections.base import (
    DayContext,
    PositionView,
    Protection,
    ReviewContext,
    StartingHolding,
)
from domain.rules import Rule

EPS = 1e-12
CORE_ADDED = frozenset({"core_designated"})
CORE_REMOVED = frozenset({"core_revoked", "core_expired"})

_SECTION = "6. Protection managers / Grace period"
START = Rule(
    "grace_period.start",
    ("min_score_threshold",),
    "A non-core holding whose score falls below min_score_threshold starts a grace period"
    " (start weight = its weight that day) instead of closing",
    _SECTION,
)
DECAY = Rule(
    "grace_period.decay",
    ("grace_period_decay_rate", "min_decay_factor"),
    "In grace the size is start weight x max(grace_period_decay_rate ** k,"
    " min_decay_factor) on calendar day k",
    _SECTION,
)
CEILING = Rule(
    "grace_period.ceiling",
    ("max_single_position_size", "max_bucket_allocation", "enable_bucket_diversification"),
    "Grace never holds a position above max_single_position_size, nor a bucket's assets in"
    " grace together above max_bucket_allocation",
    _SECTION,
)
EXPIRY = Rule(
    "grace_period.expiry",
    ("grace_period_days",),
    "After grace_period_days days in grace the position is closed",
    _SECTION,
)
RECOVERY = Rule(
    "grace_period.recovery",
    ("min_score_threshold",),
    "A score back at or above min_score_threshold ends grace",
    _SECTION,
)
CORE_EXEMPT = Rule(
    "grace_period.core_exempt",
    (),
    "Core assets are exempt from grace (one found in grace leaves it)",
    _SECTION,
)
OWN_SCHEDULE = Rule(
    "grace_period.own_schedule",
    (),
    "Grace grants its own decay and expiry proposals",
    _SECTION,
)
AMENDMENT = Rule(
    "grace_period.amendment",
    (),
    "A close or reduce of an asset in grace proposed by someone else is amended into the"
    " grace schedule (never upwards)",
    _SECTION,
)


@attrs.frozen
class GraceRecord:
    """One asset in grace: when it started and the weight it had then."""

    asset: str
    start: dt.date
    start_weight: float
    start_score: float


class GracePeriodProtection(Protection):
    """Decays and finally closes holdings whose score fell below the keep threshold."""

    name = "grace_period"
    rules = (START, DECAY, CEILING, EXPIRY, RECOVERY, CORE_EXEMPT, OWN_SCHEDULE, AMENDMENT)
    observes = frozenset({NoticeIssued.KIND, TradeFilled.KIND})

    def __init__(self, config: Config, *, priority: int, options: Mapping[str, Any] | None = None):
        super().__init__(config, priority=priority, options=options)
        self._records: dict[str, GraceRecord] = {}
        # asset -> is core; notices from core_asset override the starting flag.
        self._core: dict[str, bool] = {}
        # asset -> its weight at the last housekeeping (for the bucket ceiling).
        self._weights: dict[str, float] = {}

    # --- queries -------------------------------------------------------------------

    def in_grace(self, asset: str) -> bool:
        """Whether `asset` is in grace."""
        return asset in self._records

    def record(self, asset: str) -> GraceRecord | None:
        """The grace record of `asset`, or None."""
        return self._records.get(asset)

    def is_core(self, asset: str) -> bool:
        """Whether this protection believes `asset` is core (exempt from grace)."""
        return self._core.get(asset, False)

    def grace_day(self, asset: str, day: dt.date) -> int | None:
        """Calendar days since `asset` entered grace, or None when not in grace."""
        rec = self._records.get(asset)
        return None if rec is None else (day - rec.start).days

    def factor(self, k: int) -> float:
        """Size factor on grace day `k`: decay_rate ** k, never below min_decay_factor."""
        return max(self.config.grace_period_decay_rate**k, self.config.min_decay_factor)

    def ceiling(self, asset: str, day: dt.date, bucket_of: Mapping[str, str]) -> float:
        """The most `asset` may hold in grace on `day`: `max_single_position_size`, and,
        with bucket diversification, its share of `max_bucket_allocation` when the
        bucket's assets in grace would together hold more (each asset's
        min(schedule, weight, cap), scaled down in proportion). Grace may cut faster than
        the limits, never slower."""
        cap = self.config.max_single_position_size
        if not self.config.enable_bucket_diversification:
            return cap
        bucket = bucket_of.get(asset, UNKNOWN_BUCKET)
        wanted = {
            a: min(self.scheduled_weight(a, day) or 0.0, self._weights.get(a, cap), cap)
            for a in self._records
            if bucket_of.get(a, UNKNOWN_BUCKET) == bucket
        }
        total, limit = sum(wanted.values()), self.config.max_bucket_allocation
        if asset not in wanted or total <= limit:
            return cap
        return wanted[asset] * limit / total

    def scheduled_weight(self, asset: str, day: dt.date) -> float | None:
        """Weight the schedule allows on `day` (0 once grace has expired); None if not in grace."""
        rec = self._records.get(asset)
        if rec is None:
            return None
        k = (day - rec.start).days
        if k >= self.config.grace_period_days:
            return 0.0
        return rec.start_weight * self.factor(k)

    # --- state ---------------------------------------------------------------------

    def start(self, day: dt.date, holdings: Mapping[str, StartingHolding]) -> list[Message]:
        """Nothing to learn: a starting holding flagged core is core only once the core_asset
        protection designates it (its core_designated notice), so with core management
        switched off nothing is exempt from grace."""
        return []

    def observe(self, message: Message, day: dt.date) -> None:
        """Track core status from core_asset notices and drop records of closed positions."""
        if isinstance(message, NoticeIssued) and message.asset is not None:
            if message.event in CORE_ADDED:
                self._core[message.asset] = True
            elif message.event in CORE_REMOVED:
                self._core[message.asset] = False
            elif message.event == "core_refused":
                self._core[message.asset] = message.asset in tuple(
                    message.details.get("core_assets", ())
                )
        elif isinstance(message, TradeFilled) and message.closes_position:
            self._records.pop(message.asset, None)

    def housekeep(self, ctx: DayContext) -> list[Message]:
        """Start, decay, end or expire grace for each scored non-core holding."""
        for asset in sorted(self._records):
            pos = ctx.holdings.get(asset)
            if pos is None or pos.weight <= EPS:
                del self._records[asset]
        out: list[Message] = []
        due: list[tuple[GraceRecord, float, float, int]] = []
        for asset in sorted(ctx.holdings):
            weight = ctx.holdings[asset].weight
            if weight <= EPS:
                continue
            if self.is_core(asset):
                out += self._check_core_exempt(asset, ctx.date)
                continue
            if asset not in ctx.scores:
                continue  # no score today: left as it is
            score = float(ctx.scores[asset])
            rec = self._records.get(asset)
            if rec is None:
                out += self._check_start(asset, score, weight, ctx.date)
                continue
            recovered = self._check_recovery(rec, score, ctx.date)
            out += recovered
            if not recovered:
                due.append((rec, weight, score, (ctx.date - rec.start).days))
        # Every record of the day is known before any target: a bucket's grace assets
        # share its limit (`ceiling`).
        self._weights = {a: ctx.holdings[a].weight for a in self._records}
        for rec, weight, score, k in due:
            out += self._check_expiry(ctx, rec, weight, score, k) or self._check_decay(
                ctx, rec, weight, score, k
            )
        return out

    def _check_core_exempt(self, asset: str, day: dt.date) -> list[Message]:
        """grace_period.core_exempt: a core asset found in grace leaves it."""
        rec = self._records.pop(asset, None)
        if rec is None:
            return []
        return [
            _notice(
                "grace_exempt",
                asset,
                CORE_EXEMPT,
                reason=f"{asset} is core: exempt from grace",
                grace_day=(day - rec.start).days,
            )
        ]

    def _check_start(self, asset: str, score: float, weight: float, day: dt.date) -> list[Message]:
        """grace_period.start: a holding scoring below `min_score_threshold` enters grace with
        today's weight (no trade that day)."""
        threshold = self.config.min_score_threshold
        if score >= threshold:
            return []
        self._records[asset] = GraceRecord(asset, day, weight, score)
        return [
            _notice(
                "grace_started",
                asset,
                START,
                score=score,
                threshold=threshold,
                start_weight=weight,
                grace_period_days=self.config.grace_period_days,
            )
        ]

    def _check_recovery(self, rec: GraceRecord, score: float, day: dt.date) -> list[Message]:
        """grace_period.recovery: a score back at or above `min_score_threshold` ends grace."""
        threshold = self.config.min_score_threshold
        if score < threshold:
            return []
        del self._records[rec.asset]
        k = (day - rec.start).days
        return [
            _notice(
                "grace_recovered",
                rec.asset,
                RECOVERY,
                score=score,
                threshold=threshold,
                grace_day=k,
            )
        ]

    def _check_expiry(
        self, ctx: DayContext, rec: GraceRecord, weight: float, score: float, k: int
    ) -> list[Message]:
        """grace_period.expiry: after `grace_period_days` days the position is closed."""
        if k < self.config.grace_period_days:
            return []
        reason = f"grace period expired after {k} days"
        return [
            ProposeTrade(
                proposal_id=f"{ctx.step}:{self.name}:{rec.asset}",
                asset=rec.asset,
                action=CLOSE,
                from_weight=weight,
                to_weight=0.0,
                score=score,
                reason=reason,
                origin=self.name,
                components={"grace_day": k, "start_weight": rec.start_weight, "rule": EXPIRY.id},
            ),
            _notice("grace_expired", rec.asset, EXPIRY, reason=reason, grace_day=k, score=score),
        ]

    def _check_decay(
        self, ctx: DayContext, rec: GraceRecord, weight: float, score: float, k: int
    ) -> list[Message]:
        """grace_period.decay: a reduce to the day's scheduled weight, or grace_period.ceiling
        when the cap or the bucket's share is lower still; nothing when already below."""
        factor = self.factor(k)
        scheduled = rec.start_weight * factor
        ceiling = self.ceiling(rec.asset, ctx.date, ctx.bucket_of)
        target = min(scheduled, ceiling)
        if target >= weight - EPS:
            return []
        rule = CEILING if ceiling < scheduled else DECAY
        components = {"grace_day": k, "factor": factor, "start_weight": rec.start_weight}
        return [
            ProposeTrade(
                proposal_id=f"{ctx.step}:{self.name}:{rec.asset}",
                asset=rec.asset,
                action=REDUCE,
                from_weight=weight,
                to_weight=target,
                score=score,
                reason=f"grace period day {k}: size {factor:.4g} of start weight",
                origin=self.name,
                components={**components, "rule": rule.id},
            ),
            _notice(
                "grace_decay",
                rec.asset,
                rule,
                grace_day=k,
                factor=factor,
                start_weight=rec.start_weight,
                target_weight=target,
                score=score,
            ),
        ]

    # --- review --------------------------------------------------------------------

    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Grant own proposals; amend others' exits of an asset in grace into the schedule."""
        if proposal.origin == self.name:
            return self._check_own_schedule(proposal)
        scheduled = self.scheduled_weight(proposal.asset, ctx.date)
        if scheduled is None or proposal.action not in EXITS:
            return self.verdict(proposal, ABSTAIN, f"{proposal.asset} is not in grace")
        return self._check_amendment(proposal, scheduled, ctx)

    def _check_own_schedule(self, proposal: ProposeTrade) -> ProposalReviewed:
        """grace_period.own_schedule: grace's own decay and expiry proposals are granted."""
        return self.verdict(
            proposal,
            GRANT,
            f"grace period schedule for {proposal.asset}",
            rule=OWN_SCHEDULE.id,
        )

    def _check_amendment(
        self, proposal: ProposeTrade, scheduled: float, ctx: ReviewContext
    ) -> ProposalReviewed:
        """grace_period.amendment: an exit below the schedule is amended up to it."""
        # Never amend upwards: a position already below its schedule is held where it is;
        # and never above the cap (grace may cut faster than the limits, never slower).
        ceiling = self.ceiling(proposal.asset, ctx.date, ctx.bucket_of)
        target = min(scheduled, proposal.from_weight, ceiling)
        if proposal.to_weight < target - EPS:
            k = self.grace_day(proposal.asset, ctx.date)
            return self.verdict(
                proposal,
                AMEND,
                f"amended into the grace schedule, day {k}",
                amended_weight=target,
                rule=AMENDMENT.id,
            )
        return self.verdict(proposal, ABSTAIN, "within the grace schedule")

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"grace_day": k} while `asset` is in grace."""
        k = self.grace_day(asset, day)
        return {} if k is None else {"grace_day": k}


def _notice(event: str, asset: str, rule: Rule, **details: Any) -> NoticeIssued:
    return NoticeIssued(event=event, asset=asset, details=details, rule=rule.id)
