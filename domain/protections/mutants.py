"""Mutants of the protection rules, and the built-in catalogue of mutants.

A mutant (`domain.mutant.Mutant`, re-exported here) breaks one rule of the catalogue in
one realistic way and is switched in through the registry, never by editing the source.
A protection's mutant is a subclass of the protection overriding one `_check_*` guard,
which replaces the class of the row `protection` (`attrs.evolve(row, cls=cls)`), or a
swap of two rows' priorities; the stages' mutants are in `domain.stage_mutants`.
`BUILTIN_MUTANTS` holds both. `python run.py mutate DIR` runs a scenario library once
clean and once per mutant, and a mutant is killed when some scenario's exit code changes
(docs/stress-testing.md).

A custom protection declares its own mutants as a class attribute `mutants` (a tuple of
`Mutant`, `protection` left None: it is the row of the class), as it declares `rules`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from domain.messages import (
    ABSTAIN,
    APPROVE,
    CLOSE,
    OPEN,
    REDUCE,
    Message,
    NoticeIssued,
    ProposalReviewed,
)
from domain.messages import ProposeTrade as Proposal
from domain.mutant import Mutant
from domain.protections.base import DayContext, Protection, ReviewContext
from domain.protections.core_asset import (
    MANUAL_REVOKE,
    CoreAssetProtection,
    CoreRecord,
    PerformanceCheck,
    Refusal,
)
from domain.protections.grace_period import GracePeriodProtection, GraceRecord
from domain.protections.holding_period import HoldingPeriodProtection
from domain.protections.registry import (
    CORE_ASSET,
    GRACE_PERIOD,
    HOLDING_PERIOD,
    WHIPSAW,
    Registry,
)
from domain.protections.whipsaw import WhipsawProtection
from domain.stage_mutants import STAGE_MUTANTS

__all__ = ["BUILTIN_MUTANTS", "PROTECTION_MUTANTS", "Mutant", "mutants_of"]

_DAY = dt.timedelta(days=1)
_NEVER = 10**9
"""A held time no minimum reaches (the parameter ignored)."""


# --- holding_period -------------------------------------------------------------------


class HoldingMinimumOffByOne(HoldingPeriodProtection):
    """Blocks up to and including day `position_holding_period_min` (`<=` for `<`)."""

    def _check_minimum(self, proposal: Proposal, held: int) -> ProposalReviewed:
        return super()._check_minimum(proposal, held - 1)


class HoldingMinimumIgnored(HoldingPeriodProtection):
    """Never blocks: `position_holding_period_min` ignored."""

    def _check_minimum(self, proposal: Proposal, held: int) -> ProposalReviewed:
        return super()._check_minimum(proposal, _NEVER)


class ForcedReviewLate(HoldingPeriodProtection):
    """The forced review a day late (the days held counted from the day after entry)."""

    def _check_forced_review(
        self, asset: str, entered: dt.date, ctx: DayContext
    ) -> NoticeIssued | None:
        anchor = self._last_review.get(asset, entered)
        if (ctx.date - anchor).days == self.config.position_holding_period_max:
            return None
        return super()._check_forced_review(asset, entered, ctx)


class ForcedReviewSkipped(HoldingPeriodProtection):
    """No forced review ever."""

    def _check_forced_review(
        self, asset: str, entered: dt.date, ctx: DayContext
    ) -> NoticeIssued | None:
        return None


# --- whipsaw --------------------------------------------------------------------------


class WhipsawWindowOffByOne(WhipsawProtection):
    """An open passes at exactly `whipsaw_max_cycles` cycles (`>` for `>=`)."""

    def _check_window(self, proposal: Proposal, day: dt.date) -> ProposalReviewed:
        if self.recent_cycles(proposal.asset, day) == self.config.whipsaw_max_cycles:
            return self.verdict(proposal, APPROVE, "at the limit", rule="whipsaw.window")
        return super()._check_window(proposal, day)


class WhipsawWindowIgnored(WhipsawProtection):
    """Every open passes: the cycle limit ignored."""

    def _check_window(self, proposal: Proposal, day: dt.date) -> ProposalReviewed:
        return self.verdict(proposal, APPROVE, "limit ignored", rule="whipsaw.window")


class WhipsawWindowOneDay(WhipsawProtection):
    """The window a day long: only cycles closed today count."""

    def recent_closes(self, asset: str, day: dt.date) -> list[dt.date]:
        return [c for c in super().recent_closes(asset, day) if c == day]


class WhipsawDurationOffByOne(WhipsawProtection):
    """A position counted a day older than it is (the close allowed a day early)."""

    def _check_min_duration(self, proposal: Proposal, hours: int) -> ProposalReviewed:
        return super()._check_min_duration(proposal, hours + 24)


class WhipsawDurationIgnored(WhipsawProtection):
    """Every close passes: `whipsaw_min_duration_hours` ignored."""

    def _check_min_duration(self, proposal: Proposal, hours: int) -> ProposalReviewed:
        return super()._check_min_duration(proposal, _NEVER)


# --- grace_period ---------------------------------------------------------------------


class GraceDecayOnceMore(GracePeriodProtection):
    """The decay applied once too often (day k sized as day k+1)."""

    def _check_decay(
        self, ctx: DayContext, rec: GraceRecord, weight: float, score: float, k: int
    ) -> list[Message]:
        return super()._check_decay(ctx, rec, weight, score, k + 1)


class GraceDecaySkipped(GracePeriodProtection):
    """No decay: a holding in grace keeps its weight until expiry."""

    def _check_decay(
        self, ctx: DayContext, rec: GraceRecord, weight: float, score: float, k: int
    ) -> list[Message]:
        return []


class GraceDecayFloorIgnored(GracePeriodProtection):
    """The decay has no floor: min_decay_factor ignored."""

    def factor(self, k: int) -> float:
        return self.config.grace_period_decay_rate**k


class GraceExpiryLate(GracePeriodProtection):
    """Expiry a day late (after `grace_period_days` + 1 days)."""

    def _check_expiry(
        self, ctx: DayContext, rec: GraceRecord, weight: float, score: float, k: int
    ) -> list[Message]:
        return super()._check_expiry(ctx, rec, weight, score, k - 1)


class GraceExpiryEarly(GracePeriodProtection):
    """Expiry a day early (after `grace_period_days` - 1 days)."""

    def _check_expiry(
        self, ctx: DayContext, rec: GraceRecord, weight: float, score: float, k: int
    ) -> list[Message]:
        return super()._check_expiry(ctx, rec, weight, score, k + 1)


class GraceRecoveryIgnored(GracePeriodProtection):
    """A score back above the threshold never ends grace."""

    def _check_recovery(self, rec: GraceRecord, score: float, day: dt.date) -> list[Message]:
        return []


class GraceRecoveryStrict(GracePeriodProtection):
    """Recovery needs a score above the threshold (`>` for `>=`)."""

    def _check_recovery(self, rec: GraceRecord, score: float, day: dt.date) -> list[Message]:
        if score <= self.config.min_score_threshold:
            return []
        return super()._check_recovery(rec, score, day)


class GraceCeilingIgnored(GracePeriodProtection):
    """The cap and the bucket's share ignored: grace follows its schedule only."""

    def ceiling(self, asset: str, day: dt.date, bucket_of: Mapping[str, str]) -> float:
        return math.inf


class GraceAmendmentSkipped(GracePeriodProtection):
    """Others' exits of a holding in grace are never amended into the schedule."""

    def _check_amendment(
        self, proposal: Proposal, scheduled: float, ctx: ReviewContext
    ) -> ProposalReviewed:
        return self.verdict(proposal, ABSTAIN, "amendment skipped")


class GraceAmendmentClosesOnly(GracePeriodProtection):
    """Only a close is amended into the schedule, never a reduce."""

    def _check_amendment(
        self, proposal: Proposal, scheduled: float, ctx: ReviewContext
    ) -> ProposalReviewed:
        if proposal.action != CLOSE:
            return self.verdict(proposal, ABSTAIN, "a reduce is not amended")
        return super()._check_amendment(proposal, scheduled, ctx)


class GraceStartSkipped(GracePeriodProtection):
    """A holding scoring below the threshold never enters grace."""

    def _check_start(self, asset: str, score: float, weight: float, day: dt.date) -> list[Message]:
        return []


class GraceStartAtThreshold(GracePeriodProtection):
    """A score exactly at the threshold starts grace (`<=` for `<`)."""

    def _check_start(self, asset: str, score: float, weight: float, day: dt.date) -> list[Message]:
        if score == self.config.min_score_threshold:
            score = math.nextafter(score, -math.inf)
        return super()._check_start(asset, score, weight, day)


class GraceCeilingBucketIgnored(GracePeriodProtection):
    """Only the position cap: the bucket's share of `max_bucket_allocation` ignored."""

    def ceiling(self, asset: str, day: dt.date, bucket_of: Mapping[str, str]) -> float:
        return self.config.max_single_position_size


class GraceCoreNotExempt(GracePeriodProtection):
    """Core holdings are not exempt: a core asset scoring low enters grace."""

    def is_core(self, asset: str) -> bool:
        return False


class GraceCoreExemptKept(GracePeriodProtection):
    """A core asset found in grace is not taken out of it (only paused while core)."""

    def _check_core_exempt(self, asset: str, day: dt.date) -> list[Message]:
        return []


class GraceOwnScheduleIgnored(GracePeriodProtection):
    """Grace's own proposals are not granted (others may block them)."""

    def _check_own_schedule(self, proposal: Proposal) -> ProposalReviewed:
        return self.verdict(proposal, ABSTAIN, "own schedule not granted")


class GraceOwnScheduleClosesOnly(GracePeriodProtection):
    """Only grace's expiry close is granted; its decay reduces are not."""

    def _check_own_schedule(self, proposal: Proposal) -> ProposalReviewed:
        if proposal.action == REDUCE:
            return self.verdict(proposal, ABSTAIN, "a decay reduce is not granted")
        return super()._check_own_schedule(proposal)


# --- core_asset -----------------------------------------------------------------------


class CoreExpiryLate(CoreAssetProtection):
    """Core status ends a day after its expiry day."""

    def _check_expiry(self, rec: CoreRecord, day: dt.date) -> NoticeIssued | None:
        return super()._check_expiry(rec, day - _DAY)


class CoreExpirySkipped(CoreAssetProtection):
    """Core status never expires."""

    def _check_expiry(self, rec: CoreRecord, day: dt.date) -> NoticeIssued | None:
        return None


class CoreMaxOffByOne(CoreAssetProtection):
    """One core asset more than `max_core_assets` is designated."""

    def _check_max_core(self) -> Refusal | None:
        if len(self._records) == self.config.max_core_assets:
            return None
        return super()._check_max_core()


class CoreMaxIgnored(CoreAssetProtection):
    """Any number of core assets: `max_core_assets` ignored."""

    def _check_max_core(self) -> Refusal | None:
        return None


class CoreImmunityIgnored(CoreAssetProtection):
    """A close or reduce of a core asset passes."""

    def _check_immunity(self, proposal: Proposal, until: str) -> ProposalReviewed:
        return self.verdict(proposal, ABSTAIN, "immunity ignored")


class CoreImmunityClosesOnly(CoreAssetProtection):
    """Only a close of a core asset is blocked; a reduce passes."""

    def _check_immunity(self, proposal: Proposal, until: str) -> ProposalReviewed:
        if proposal.action == REDUCE:
            return self.verdict(proposal, ABSTAIN, "a reduce passes")
        return super()._check_immunity(proposal, until)


class CoreEntryGrantIgnored(CoreAssetProtection):
    """An open or increase of a core asset is not granted (others may block it)."""

    def _check_entry_grant(self, proposal: Proposal, until: str) -> ProposalReviewed:
        return self.verdict(proposal, ABSTAIN, "entry grant ignored")


class CoreExtensionLimitOffByOne(CoreAssetProtection):
    """One extension more than `core_asset_extension_limit`."""

    def _check_extension_limit(self, asset: str) -> Refusal | None:
        if self._records[asset].extensions == self.config.core_asset_extension_limit:
            return None
        return super()._check_extension_limit(asset)


class CoreExtensionLimitIgnored(CoreAssetProtection):
    """Any number of extensions."""

    def _check_extension_limit(self, asset: str) -> Refusal | None:
        return None


class CoreEntryGrantOpensOnly(CoreAssetProtection):
    """Only an open of a core asset is granted; an increase is not."""

    def _check_entry_grant(self, proposal: Proposal, until: str) -> ProposalReviewed:
        if proposal.action != OPEN:
            return self.verdict(proposal, ABSTAIN, "an increase is not granted")
        return super()._check_entry_grant(proposal, until)


class CoreUnderperformanceSkipped(CoreAssetProtection):
    """Underperformance never revokes (at most a warning)."""

    def _check_underperformance(self, rec: CoreRecord, details: dict[str, Any]) -> list[Message]:
        return []


class CoreUnderperformanceAtWarningLevel(CoreAssetProtection):
    """Revokes above half the threshold (the warning level taken for the threshold)."""

    def _check_underperformance(self, rec: CoreRecord, details: dict[str, Any]) -> list[Message]:
        return super()._check_underperformance(
            rec, {**details, "threshold": details["threshold"] / 2}
        )


class CoreUnderperformancePeriodLonger(CoreAssetProtection):
    """Returns measured over one calendar day more than `core_asset_underperformance_period`."""

    def performance(self, asset: str, bucket: str, ctx: DayContext) -> PerformanceCheck | None:
        real = self.config
        self.config = real.replace(
            core_asset_underperformance_period=real.core_asset_underperformance_period + 1
        )
        try:
            return super().performance(asset, bucket, ctx)
        finally:
            self.config = real


class CoreWarningSkipped(CoreAssetProtection):
    """No underperformance warning."""

    def _check_warning(
        self, rec: CoreRecord, details: dict[str, Any], day: dt.date
    ) -> list[Message]:
        return []


class CoreWarningAnyUnderperformance(CoreAssetProtection):
    """A warning for any underperformance (the half threshold ignored)."""

    def _check_warning(
        self, rec: CoreRecord, details: dict[str, Any], day: dt.date
    ) -> list[Message]:
        return super()._check_warning(rec, {**details, "threshold": 0.0}, day)


class CoreDesignationSkipped(CoreAssetProtection):
    """No designation takes effect: nothing is ever made core."""

    def designate(
        self,
        asset: str,
        day: dt.date,
        *,
        reason: str,
        score: float | None = None,
        bucket: str | None = None,
    ) -> list[Message]:
        return []


class CoreDesignationLonger(CoreAssetProtection):
    """A designation lasts a day longer than `core_asset_expiry_days`."""

    def designate(
        self,
        asset: str,
        day: dt.date,
        *,
        reason: str,
        score: float | None = None,
        bucket: str | None = None,
    ) -> list[Message]:
        fresh = asset not in self._records
        out = super().designate(asset, day, reason=reason, score=score, bucket=bucket)
        rec = self._records.get(asset)
        if fresh and rec is not None:
            self._records[asset] = attrs.evolve(rec, expiry=rec.expiry + _DAY)
        return out


class CoreAlreadyCoreIgnored(CoreAssetProtection):
    """A core asset may be designated again (its designation starts over)."""

    def _check_already_core(self, asset: str) -> Refusal | None:
        return None


class CoreAlreadyCoreAfterMax(CoreAssetProtection):
    """max_core checked before already_core: at the limit a core asset's re-designation is
    refused as over the limit."""

    def _check_already_core(self, asset: str) -> Refusal | None:
        return self._check_max_core() or super()._check_already_core(asset)


class CoreExtensionDaysIgnored(CoreAssetProtection):
    """An extension always adds `core_asset_expiry_days` (its own days ignored)."""

    def extend(
        self, asset: str, day: dt.date, *, days: int | None = None, reason: str
    ) -> list[Message]:
        return super().extend(asset, day, days=None, reason=reason)


class CoreExtensionFromToday(CoreAssetProtection):
    """An extension counts its days from the day it is granted, not from the expiry."""

    def extend(
        self, asset: str, day: dt.date, *, days: int | None = None, reason: str
    ) -> list[Message]:
        out = super().extend(asset, day, days=days, reason=reason)
        if isinstance(out[0], NoticeIssued) and out[0].event == "core_extended":
            expiry = day + dt.timedelta(days=out[0].details["days"])
            self._records[asset] = attrs.evolve(self._records[asset], expiry=expiry)
        return out


class CoreManualRevokeSkipped(CoreAssetProtection):
    """A revoke_core intervention changes nothing (no notice)."""

    def revoke(
        self, asset: str, day: dt.date, *, reason: str, manual: bool = True
    ) -> list[Message]:
        if manual:
            return []
        return super().revoke(asset, day, reason=reason, manual=manual)


class CoreManualRevokeRefused(CoreAssetProtection):
    """A revoke_core intervention is always refused, as if the asset were not core."""

    def revoke(
        self, asset: str, day: dt.date, *, reason: str, manual: bool = True
    ) -> list[Message]:
        if manual:
            return [self._notice("core_revoke_refused", asset, MANUAL_REVOKE, reason="not core")]
        return super().revoke(asset, day, reason=reason, manual=manual)


class CoreSwitchOffSkipped(CoreAssetProtection):
    """Switched off mid-run, core management keeps its core assets."""

    def switched_off(self, day: dt.date) -> list[Message]:
        return []


class CoreSwitchOffAsManual(CoreAssetProtection):
    """The switch-off's revocations are recorded as manual ones."""

    def switched_off(self, day: dt.date) -> list[Message]:
        return [
            message
            for asset in sorted(self._records)
            for message in self.revoke(asset, day, reason="switched off", manual=True)
        ]


def _swap(a: str, b: str) -> Mutant:
    return Mutant(
        f"resolution.priority/swap_{a}_{b}",
        "resolution.priority",
        f"the priorities of {a} and {b} exchanged",
        protection=a,
        swap=b,
    )


def _sub(rule: str, how: str, protection: str, cls: type[Protection]) -> Mutant:
    return Mutant(f"{rule}/{how}", rule, str(cls.__doc__), protection=protection, cls=cls)


PROTECTION_MUTANTS: tuple[Mutant, ...] = (
    _sub("holding_period.minimum", "off_by_one", HOLDING_PERIOD, HoldingMinimumOffByOne),
    _sub("holding_period.minimum", "ignored", HOLDING_PERIOD, HoldingMinimumIgnored),
    _sub("holding_period.forced_review", "late", HOLDING_PERIOD, ForcedReviewLate),
    _sub("holding_period.forced_review", "skipped", HOLDING_PERIOD, ForcedReviewSkipped),
    _sub("whipsaw.window", "off_by_one", WHIPSAW, WhipsawWindowOffByOne),
    _sub("whipsaw.window", "ignored", WHIPSAW, WhipsawWindowIgnored),
    _sub("whipsaw.window", "one_day", WHIPSAW, WhipsawWindowOneDay),
    _sub("whipsaw.min_duration", "off_by_one", WHIPSAW, WhipsawDurationOffByOne),
    _sub("whipsaw.min_duration", "ignored", WHIPSAW, WhipsawDurationIgnored),
    _sub("grace_period.start", "skipped", GRACE_PERIOD, GraceStartSkipped),
    _sub("grace_period.start", "at_threshold", GRACE_PERIOD, GraceStartAtThreshold),
    _sub("grace_period.decay", "once_more", GRACE_PERIOD, GraceDecayOnceMore),
    _sub("grace_period.decay", "skipped", GRACE_PERIOD, GraceDecaySkipped),
    _sub("grace_period.decay", "floor_ignored", GRACE_PERIOD, GraceDecayFloorIgnored),
    _sub("grace_period.expiry", "late", GRACE_PERIOD, GraceExpiryLate),
    _sub("grace_period.expiry", "early", GRACE_PERIOD, GraceExpiryEarly),
    _sub("grace_period.recovery", "ignored", GRACE_PERIOD, GraceRecoveryIgnored),
    _sub("grace_period.recovery", "strict", GRACE_PERIOD, GraceRecoveryStrict),
    _sub("grace_period.ceiling", "ignored", GRACE_PERIOD, GraceCeilingIgnored),
    _sub("grace_period.ceiling", "bucket_ignored", GRACE_PERIOD, GraceCeilingBucketIgnored),
    _sub("grace_period.core_exempt", "not_exempt", GRACE_PERIOD, GraceCoreNotExempt),
    _sub("grace_period.core_exempt", "kept_in_grace", GRACE_PERIOD, GraceCoreExemptKept),
    _sub("grace_period.own_schedule", "ignored", GRACE_PERIOD, GraceOwnScheduleIgnored),
    _sub("grace_period.own_schedule", "closes_only", GRACE_PERIOD, GraceOwnScheduleClosesOnly),
    _sub("grace_period.amendment", "skipped", GRACE_PERIOD, GraceAmendmentSkipped),
    _sub("grace_period.amendment", "closes_only", GRACE_PERIOD, GraceAmendmentClosesOnly),
    _sub("core_asset.expiry", "late", CORE_ASSET, CoreExpiryLate),
    _sub("core_asset.expiry", "skipped", CORE_ASSET, CoreExpirySkipped),
    _sub("core_asset.max_core", "off_by_one", CORE_ASSET, CoreMaxOffByOne),
    _sub("core_asset.max_core", "ignored", CORE_ASSET, CoreMaxIgnored),
    _sub("core_asset.immunity", "ignored", CORE_ASSET, CoreImmunityIgnored),
    _sub("core_asset.immunity", "closes_only", CORE_ASSET, CoreImmunityClosesOnly),
    _sub("core_asset.entry_grant", "ignored", CORE_ASSET, CoreEntryGrantIgnored),
    _sub("core_asset.entry_grant", "opens_only", CORE_ASSET, CoreEntryGrantOpensOnly),
    _sub("core_asset.extension_limit", "off_by_one", CORE_ASSET, CoreExtensionLimitOffByOne),
    _sub("core_asset.extension_limit", "ignored", CORE_ASSET, CoreExtensionLimitIgnored),
    _sub("core_asset.designation", "skipped", CORE_ASSET, CoreDesignationSkipped),
    _sub("core_asset.designation", "longer", CORE_ASSET, CoreDesignationLonger),
    _sub("core_asset.already_core", "ignored", CORE_ASSET, CoreAlreadyCoreIgnored),
    _sub("core_asset.already_core", "after_max", CORE_ASSET, CoreAlreadyCoreAfterMax),
    _sub("core_asset.extension", "days_ignored", CORE_ASSET, CoreExtensionDaysIgnored),
    _sub("core_asset.extension", "from_today", CORE_ASSET, CoreExtensionFromToday),
    _sub("core_asset.manual_revoke", "skipped", CORE_ASSET, CoreManualRevokeSkipped),
    _sub("core_asset.manual_revoke", "refused", CORE_ASSET, CoreManualRevokeRefused),
    _sub("core_asset.underperformance", "skipped", CORE_ASSET, CoreUnderperformanceSkipped),
    _sub(
        "core_asset.underperformance",
        "at_warning_level",
        CORE_ASSET,
        CoreUnderperformanceAtWarningLevel,
    ),
    _sub(
        "core_asset.underperformance",
        "period_longer",
        CORE_ASSET,
        CoreUnderperformancePeriodLonger,
    ),
    _sub("core_asset.warning", "skipped", CORE_ASSET, CoreWarningSkipped),
    _sub("core_asset.warning", "any_underperformance", CORE_ASSET, CoreWarningAnyUnderperformance),
    _sub("core_asset.switch_off", "skipped", CORE_ASSET, CoreSwitchOffSkipped),
    _sub("core_asset.switch_off", "as_manual", CORE_ASSET, CoreSwitchOffAsManual),
    _swap(CORE_ASSET, GRACE_PERIOD),
    _swap(HOLDING_PERIOD, WHIPSAW),
    _swap(GRACE_PERIOD, HOLDING_PERIOD),
    _swap(CORE_ASSET, HOLDING_PERIOD),
    _swap(CORE_ASSET, WHIPSAW),
    _swap(GRACE_PERIOD, WHIPSAW),
)
"""The mutants of the built-in protections and their priorities, by protection."""

BUILTIN_MUTANTS: tuple[Mutant, ...] = (*PROTECTION_MUTANTS, *STAGE_MUTANTS)
"""The built-in catalogue of mutants: the protections', then the stages'."""


def mutants_of(
    registry: Registry, builtin: Iterable[Mutant] = BUILTIN_MUTANTS
) -> tuple[Mutant, ...]:
    """The mutants of a run's protections: the built-in ones, then those each other row's
    class declares (`mutants`), bound to that row.

    Raises:
        ValueError: two mutants share an id.
    """
    own = [
        attrs.evolve(m, protection=row.name)
        for row in registry.rows
        for m in row.cls.mutants
        if m.protection is None
    ]
    found = (*builtin, *own)
    ids = [m.id for m in found]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"mutant ids declared twice: {', '.join(twice)}")
    return found
