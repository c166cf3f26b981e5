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
from domain.scenario import UNKNOWN_BUCKET

EPS = 1e-12
CORE_ADDED = frozenset({"core_designated"})
CORE_REMOVED = frozenset({"core_revoked", "core_expired"})


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

    def __init__(self, config: Any, *, priority: int = 3, options: Mapping[str, Any] | None = None):
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
        return max(
            float(self.config.grace_period_decay_rate) ** k, float(self.config.min_decay_factor)
        )

    def ceiling(self, asset: str, day: dt.date, bucket_of: Mapping[str, str]) -> float:
        """The most `asset` may hold in grace on `day`: `max_single_position_size`, and,
        with bucket diversification, its share of `max_bucket_allocation` when the
        bucket's assets in grace would together hold more (each asset's
        min(schedule, weight, cap), scaled down in proportion). Grace may cut faster than
        the limits, never slower."""
        cap = float(self.config.max_single_position_size)
        if not self.config.enable_bucket_diversification:
            return cap
        bucket = bucket_of.get(asset, UNKNOWN_BUCKET)
        wanted = {
            a: min(self.scheduled_weight(a, day) or 0.0, self._weights.get(a, cap), cap)
            for a in self._records
            if bucket_of.get(a, UNKNOWN_BUCKET) == bucket
        }
        total, limit = sum(wanted.values()), float(self.config.max_bucket_allocation)
        if asset not in wanted or total <= limit:
            return cap
        return wanted[asset] * limit / total

    def scheduled_weight(self, asset: str, day: dt.date) -> float | None:
        """Weight the schedule allows on `day` (0 once grace has expired); None if not in grace."""
        rec = self._records.get(asset)
        if rec is None:
            return None
        k = (day - rec.start).days
        if k >= int(self.config.grace_period_days):
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
        out: list[Message] = []
        due: list[tuple[GraceRecord, float, float, int]] = []
        for asset in sorted(self._records):
            pos = ctx.holdings.get(asset)
            if pos is None or pos.weight <= EPS:
                del self._records[asset]
        threshold = float(self.config.min_score_threshold)
        for asset in sorted(ctx.holdings):
            pos = ctx.holdings[asset]
            if pos.weight <= EPS:
                continue
            rec = self._records.get(asset)
            if self.is_core(asset):
                if rec is not None:
                    del self._records[asset]
                    out.append(
                        _notice(
                            "grace_exempt",
                            asset,
                            reason=f"{asset} is core: exempt from grace",
                            grace_day=(ctx.date - rec.start).days,
                        )
                    )
                continue
            if asset not in ctx.scores:
                continue
            score = float(ctx.scores[asset])
            if rec is None:
                if score < threshold:
                    self._records[asset] = GraceRecord(asset, ctx.date, pos.weight, score)
                    out.append(
                        _notice(
                            "grace_started",
                            asset,
                            score=score,
                            threshold=threshold,
                            start_weight=pos.weight,
                            grace_period_days=int(self.config.grace_period_days),
                        )
                    )
                continue
            k = (ctx.date - rec.start).days
            if score >= threshold:
                del self._records[asset]
                out.append(
                    _notice("grace_recovered", asset, score=score, threshold=threshold, grace_day=k)
                )
                continue
            due.append((rec, pos.weight, score, k))
        # Every record of the day is known before any target: a bucket's grace assets
        # share its limit (`ceiling`).
        self._weights = {a: ctx.holdings[a].weight for a in self._records}
        for rec, weight, score, k in due:
            out += self._schedule(ctx, rec, weight, score, k)
        return out

    def _schedule(
        self, ctx: DayContext, rec: GraceRecord, weight: float, score: float, k: int
    ) -> list[Message]:
        days = int(self.config.grace_period_days)
        pid = f"{ctx.step}:{self.name}:{rec.asset}"
        if k >= days:
            reason = f"grace period expired after {k} days"
            return [
                ProposeTrade(
                    proposal_id=pid,
                    asset=rec.asset,
                    action=CLOSE,
                    from_weight=weight,
                    to_weight=0.0,
                    score=score,
                    reason=reason,
                    origin=self.name,
                    components={"grace_day": k, "start_weight": rec.start_weight},
                ),
                _notice("grace_expired", rec.asset, reason=reason, grace_day=k, score=score),
            ]
        factor = self.factor(k)
        target = min(rec.start_weight * factor, self.ceiling(rec.asset, ctx.date, ctx.bucket_of))
        if target >= weight - EPS:
            return []
        return [
            ProposeTrade(
                proposal_id=pid,
                asset=rec.asset,
                action=REDUCE,
                from_weight=weight,
                to_weight=target,
                score=score,
                reason=f"grace period day {k}: size {factor:.4g} of start weight",
                origin=self.name,
                components={"grace_day": k, "factor": factor, "start_weight": rec.start_weight},
            ),
            _notice(
                "grace_decay",
                rec.asset,
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
            return self.verdict(proposal, GRANT, f"grace period schedule for {proposal.asset}")
        scheduled = self.scheduled_weight(proposal.asset, ctx.date)
        if scheduled is None or proposal.action not in EXITS:
            return self.verdict(proposal, ABSTAIN, f"{proposal.asset} is not in grace")
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
            )
        return self.verdict(proposal, ABSTAIN, "within the grace schedule")

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """{"grace_day": k} while `asset` is in grace."""
        k = self.grace_day(asset, day)
        return {} if k is None else {"grace_day": k}


def _notice(event: str, asset: str, **details: Any) -> NoticeIssued:
    return NoticeIssued(event=event, asset=asset, details=details)
