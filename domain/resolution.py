"""Conflict resolution: one decision per proposal from every protection's verdict.

The priority table says who wins (lower number decides first). A regime override
(priority 2) is not a verdict but a lift: on a day the regime changes with enough
severity, the block and amend verdicts of the systems it lifts are dropped before the
decision, at most once per asset per `regime_override_cooldown` days. It never lifts
core immunity or a custom protection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from domain.messages import (
    AMEND,
    AMENDED,
    APPROVED,
    BLOCK,
    BLOCKED,
    DECISIVE_STANCES,
    GRANT,
    ProposalReviewed,
    ProposeTrade,
    RegimeUpdated,
    TradeDecided,
)

CORE_ASSET = "core_asset"
REGIME_OVERRIDE = "regime_override"
GRACE_PERIOD = "grace_period"
HOLDING_PERIOD = "holding_period"
WHIPSAW = "whipsaw"
ORCHESTRATOR = "orchestrator"

PRIORITIES: Mapping[str, int] = MappingProxyType(
    {CORE_ASSET: 1, REGIME_OVERRIDE: 2, GRACE_PERIOD: 3, HOLDING_PERIOD: 4, WHIPSAW: 5}
)
"""The priority table: lower decides first. Custom protections carry their own (>= 6)."""

SEVERITY_RANK: Mapping[str, int] = MappingProxyType({"normal": 0, "high": 1, "critical": 2})

OVERRIDE_LIFTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "normal": frozenset({GRACE_PERIOD, HOLDING_PERIOD}),
        "high": frozenset({GRACE_PERIOD, HOLDING_PERIOD}),
        "critical": frozenset({GRACE_PERIOD, HOLDING_PERIOD, WHIPSAW}),
    }
)
"""Severity -> systems a regime override lifts. "normal" only matters when
`regime_severity_threshold` is normal; whipsaw is lifted only with
`regime_override_whipsaw_critical`. Never core_asset, never a custom protection."""

_STANCE_ORDER: Mapping[str, int] = MappingProxyType({BLOCK: 0, AMEND: 1, GRANT: 2})


class RegimeOverrideLedger:
    """When each asset last had a regime override granted (for the cooldown)."""

    def __init__(self) -> None:
        self._last: dict[str, dt.date] = {}

    def record(self, asset: str, day: dt.date) -> None:
        """Note that a regime override was granted for `asset` on `day`."""
        self._last[asset] = day

    def last(self, asset: str) -> dt.date | None:
        """The day of the last grant for `asset`, or None."""
        return self._last.get(asset)

    def eligible(self, asset: str, day: dt.date, cooldown: int) -> bool:
        """Whether `asset` may use an override on `day`. Grants on the same day are the same
        use, so a second proposal of the asset that day is still eligible."""
        last = self._last.get(asset)
        return last is None or last == day or (day - last).days >= cooldown

    def as_dict(self) -> dict[str, str]:
        """The ledger as {asset: iso date}, sorted by asset."""
        return {asset: self._last[asset].isoformat() for asset in sorted(self._last)}


@attrs.frozen
class OverrideContext:
    """Whether a regime override applies to one asset on one day, and what it lifts.

    Attributes:
        active: the regime changed today with severity at or above the threshold and
            overrides are enabled.
        eligible: the asset is outside its cooldown.
        severity: the change's severity.
        lifts: the systems the override would lift.
        reason: a readable account (regime change and why it is or is not usable).
    """

    active: bool = False
    eligible: bool = False
    severity: str = "normal"
    lifts: frozenset[str] = frozenset()
    reason: str = "no regime override"

    @property
    def lifting(self) -> frozenset[str]:
        """What is lifted for this asset now: `lifts` when active and eligible, else nothing."""
        return self.lifts if self.active and self.eligible else frozenset()


NO_OVERRIDE = OverrideContext()


def severity_rank(severity: str) -> int:
    """Rank of a severity (normal 0 < high 1 < critical 2); unknown severities rank 0."""
    return SEVERITY_RANK.get(severity, 0)


def override_context(
    regime: RegimeUpdated,
    asset: str,
    day: dt.date,
    ledger: RegimeOverrideLedger,
    config: Any,
) -> OverrideContext:
    """The regime override available to proposals of `asset` on `day`."""
    severity = regime.severity
    change = f"{regime.previous}→{regime.regime} ({severity})"
    if not config.regime_override_enabled:
        return OverrideContext(severity=severity, reason="regime override disabled")
    if not regime.changed:
        return OverrideContext(severity=severity, reason="no regime change today")
    threshold = str(config.regime_severity_threshold)
    if severity_rank(severity) < severity_rank(threshold):
        return OverrideContext(
            severity=severity, reason=f"regime change {change} below threshold {threshold}"
        )
    lifts = set(OVERRIDE_LIFTS.get(severity, OVERRIDE_LIFTS["normal"]))
    if not config.regime_override_whipsaw_critical:
        lifts.discard(WHIPSAW)
    cooldown = int(config.regime_override_cooldown)
    eligible = ledger.eligible(asset, day, cooldown)
    if eligible:
        reason = f"regime change {change}"
    else:
        last = ledger.last(asset)
        assert last is not None
        reason = (
            f"regime change {change}, but {asset} had an override on {last.isoformat()}"
            f" (cooldown {cooldown} days)"
        )
    return OverrideContext(
        active=True, eligible=eligible, severity=severity, lifts=frozenset(lifts), reason=reason
    )


@attrs.frozen
class Resolution:
    """The decision on one proposal, the systems a regime override lifted for it, and
    whether lifting them changed the decision (only then is the override spent)."""

    decision: TradeDecided
    lifted: tuple[str, ...] = ()
    used: bool = False


def _priority(verdict: ProposalReviewed) -> int:
    return int(verdict.priority)


def _outcome(verdict: ProposalReviewed, proposal: ProposeTrade) -> tuple[str, float]:
    if verdict.stance == GRANT:
        return APPROVED, proposal.to_weight
    if verdict.stance == AMEND and verdict.amended_weight is not None:
        return AMENDED, float(verdict.amended_weight)
    return BLOCKED, proposal.from_weight


def _sort_key(verdict: ProposalReviewed) -> tuple[int, int, str]:
    stance = verdict.stance
    if stance == AMEND and verdict.amended_weight is None:
        stance = BLOCK  # an amend without a target cannot be applied: the safe reading
    return (_priority(verdict), _STANCE_ORDER[stance], verdict.system)


def resolve(
    proposal: ProposeTrade,
    verdicts: Iterable[ProposalReviewed],
    override: OverrideContext | None = None,
) -> Resolution:
    """Decide one proposal.

    Block and amend verdicts of the systems the override lifts are dropped; then the
    decisive verdict (block, amend, grant) of highest priority decides (ties: block,
    then amend, then grant, then system name). With no decisive verdict the proposal is
    approved, by "regime_override" when something was lifted, else by "orchestrator".
    `overridden` lists the lifted systems and every other decisive verdict whose outcome
    differs from the decision, by priority.

    Args:
        proposal: the proposal.
        verdicts: every protection's verdict on it (any order).
        override: the regime override for the proposal's asset today, if any.

    A lift that does not change the outcome or final weight (a higher-priority system
    decides either way, or another block stands) still shows in the decision, but is not
    a use of the override: `Resolution.used` is then False and the cooldown is not spent.

    Returns:
        The one decision, the lifted systems, and whether the lift changed the decision.
    """
    verdicts = list(verdicts)
    lifting = (override or NO_OVERRIDE).lifting
    result = _resolve(proposal, verdicts, override, lifting)
    if not result.lifted:
        return result
    without = _resolve(proposal, verdicts, None, frozenset()).decision
    used = (result.decision.outcome, result.decision.final_weight) != (
        without.outcome,
        without.final_weight,
    )
    return attrs.evolve(result, used=used)


def _resolve(
    proposal: ProposeTrade,
    verdicts: Iterable[ProposalReviewed],
    override: OverrideContext | None,
    lifting: frozenset[str],
) -> Resolution:
    kept: list[ProposalReviewed] = []
    lifted: dict[str, int] = {}
    for v in sorted(verdicts, key=lambda v: (_priority(v), v.system, v.stance)):
        if v.system in lifting and v.stance in (BLOCK, AMEND):
            lifted.setdefault(v.system, PRIORITIES.get(v.system, _priority(v)))
        else:
            kept.append(v)
    lifted_names = tuple(sorted(lifted, key=lambda s: (lifted[s], s)))
    decisive = sorted((v for v in kept if v.stance in DECISIVE_STANCES), key=_sort_key)

    if decisive:
        decider = decisive[0]
        decided_by = decider.system
        outcome, final = _outcome(decider, proposal)
        why = decider.reason
        if decider.stance == AMEND and decider.amended_weight is None:
            why = f"{why} (amend without a target weight, treated as a block)"
    else:
        decided_by = REGIME_OVERRIDE if lifted_names else ORCHESTRATOR
        outcome, final = APPROVED, proposal.to_weight
        why = "no protection objected" if not lifted_names else "protections lifted"

    losers: dict[str, tuple[int, str]] = {
        s: (p, "lifted by the regime override") for s, p in lifted.items()
    }
    for v in decisive[1:]:
        if _outcome(v, proposal) != (outcome, final) and v.system != decided_by:
            losers.setdefault(v.system, (_priority(v), f"{v.stance}: {v.reason}"))
    overridden = tuple(sorted(losers, key=lambda s: (losers[s][0], s)))

    parts = [f"{outcome} by {decided_by}: {why}"]
    if overridden:
        parts.append("overrode " + "; ".join(f"{s} ({losers[s][1]})" for s in overridden))
    if lifted_names and override is not None:
        parts.append(f"regime override: {override.reason}")
    decision = TradeDecided(
        proposal_id=proposal.proposal_id,
        asset=proposal.asset,
        action=proposal.action,
        outcome=outcome,
        from_weight=proposal.from_weight,
        final_weight=final,
        decided_by=decided_by,
        overridden=overridden,
        reason=" | ".join(parts),
    )
    return Resolution(decision=decision, lifted=lifted_names)
