"""Conflict resolution: one decision per proposal from every protection's verdict.

The priority table says who wins (lower number decides first). A regime override
(priority 2) is not a verdict but a lift: on a day the regime changes with enough
severity, the block and amend verdicts of the systems it lifts are dropped before the
decision, at most once per asset per `regime_override_cooldown` days. It never lifts
core immunity or a custom protection. The tables come from the protection registry
(`domain.protections.registry`).

A decision records its rule (`domain.rules`): the deciding verdict's, else
`resolution.priority` (nothing objected) or `resolution.regime_override` (the override
lifted every objection).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

import attrs

from domain.config import Config
from domain.messages import (
    AMEND,
    AMENDED,
    APPROVED,
    BLOCK,
    BLOCKED,
    DECISIVE_STANCES,
    ENTRIES,
    GRANT,
    OPEN,
    SEVERITIES,
    ProposalReviewed,
    ProposeTrade,
    RegimeUpdated,
    RequestReplan,
    TradeDecided,
)
from domain.protections.registry import BUILTIN, ORCHESTRATOR, REGIME_OVERRIDE, Registry
from domain.protections.registry import OVERRIDE_LIFTS as OVERRIDE_LIFTS  # re-exported
from domain.protections.registry import PRIORITIES as PRIORITIES  # re-exported
from domain.rules import OVERRIDE_COOLDOWN, PRIORITY, REPLAN
from domain.rules import REGIME_OVERRIDE as REGIME_OVERRIDE_RULE

if TYPE_CHECKING:
    from domain.stages import Stages

SEVERITY_RANK: Mapping[str, int] = MappingProxyType({s: i for i, s in enumerate(SEVERITIES)})

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
    config: Config,
    registry: Registry = BUILTIN,
) -> OverrideContext:
    """The regime override available to proposals of `asset` on `day`
    (resolution.regime_override, within resolution.override_cooldown); what it lifts comes
    from the run's protection `registry` (each row's `lifted_at`), the severity and cooldown
    checks from its stage rules (`registry.stages`)."""
    closed = override_closed(regime, config, registry)
    if closed is not None:
        return closed
    severity = regime.severity
    eligible, reason = _check_cooldown(regime, asset, day, ledger, config, registry.stages)
    return OverrideContext(
        active=True,
        eligible=eligible,
        severity=severity,
        lifts=registry.lifted_by(severity, config),
        reason=reason,
    )


def override_closed(
    regime: RegimeUpdated, config: Config, registry: Registry = BUILTIN
) -> OverrideContext | None:
    """The override context of every asset when no regime override is available today
    (disabled, no regime change, or a change below the threshold: the same for every
    asset), or None when one is (each asset's cooldown decides: `override_context`)."""
    why_not = (
        _check_override_enabled(config)
        or _check_regime_changed(regime)
        or _check_severity(regime, config, registry.stages)
    )
    return None if why_not is None else OverrideContext(severity=regime.severity, reason=why_not)


def _change(regime: RegimeUpdated) -> str:
    return f"{regime.previous}→{regime.regime} ({regime.severity})"


def _check_override_enabled(config: Config) -> str | None:
    """resolution.regime_override: only with `regime_override_enabled`."""
    return None if config.regime_override_enabled else "regime override disabled"


def _check_regime_changed(regime: RegimeUpdated) -> str | None:
    """resolution.regime_override: only on a day the regime changed."""
    return None if regime.changed else "no regime change today"


def _check_severity(regime: RegimeUpdated, config: Config, stages: Stages) -> str | None:
    """resolution.regime_override: only a change at or above `regime_severity_threshold`."""
    threshold = config.regime_severity_threshold
    if stages.severity_reaches(regime.severity, threshold):
        return None
    return f"regime change {_change(regime)} below threshold {threshold}"


def _check_cooldown(
    regime: RegimeUpdated,
    asset: str,
    day: dt.date,
    ledger: RegimeOverrideLedger,
    config: Config,
    stages: Stages,
) -> tuple[bool, str]:
    """resolution.override_cooldown: at most one override per asset per
    `regime_override_cooldown` days. Returns (eligible, the reason)."""
    cooldown = config.regime_override_cooldown
    if stages.override_eligible(ledger, asset, day, cooldown):
        return True, f"regime change {_change(regime)}"
    last = ledger.last(asset)
    assert last is not None
    return False, (
        f"regime change {_change(regime)}, but {asset} had an override on {last.isoformat()}"
        f" (cooldown {cooldown} days)"
    )


class Resolution(NamedTuple):
    """The decision on one proposal, the systems a regime override lifted for it, and
    whether lifting them changed the decision (only then is the override spent). A named
    tuple: one per proposal."""

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
    return result._replace(used=used)


def _review_order(verdict: ProposalReviewed) -> tuple[int, str, str]:
    return (_priority(verdict), verdict.system, verdict.stance)


def _lift(
    verdicts: Iterable[ProposalReviewed], lifting: frozenset[str]
) -> tuple[list[ProposalReviewed], dict[str, int]]:
    """The verdicts kept, and the systems whose block or amend verdicts the override lifts
    (dropped), with their priorities. Nothing lifted (the common case): every verdict is
    kept, in the order given (`_decisive` orders them)."""
    if not lifting:
        return list(verdicts), {}
    kept: list[ProposalReviewed] = []
    lifted: dict[str, int] = {}
    for v in sorted(verdicts, key=_review_order):
        if v.system in lifting and v.stance in (BLOCK, AMEND):
            lifted.setdefault(v.system, PRIORITIES.get(v.system, _priority(v)))
        else:
            kept.append(v)
    return kept, lifted


def _decisive(kept: Iterable[ProposalReviewed]) -> list[ProposalReviewed]:
    """The decisive verdicts (block, amend, grant), the decider first: by priority, then
    block, amend, grant, then system name (exact ties by priority, system and stance, then
    as given). Zero or one of them (the common case) needs no ordering."""
    decisive = [v for v in kept if v.stance in DECISIVE_STANCES]
    if len(decisive) > 1:
        decisive.sort(key=_review_order)
        decisive.sort(key=_sort_key)
    return decisive


def _resolve(
    proposal: ProposeTrade,
    verdicts: Iterable[ProposalReviewed],
    override: OverrideContext | None,
    lifting: frozenset[str],
) -> Resolution:
    kept, lifted = _lift(verdicts, lifting)
    lifted_names = tuple(sorted(lifted, key=lambda s: (lifted[s], s))) if lifted else ()
    decisive = _decisive(kept)

    if decisive:
        decider = decisive[0]
        decided_by, rule = decider.system, decider.rule
        outcome, final = _outcome(decider, proposal)
        why = decider.reason
        if decider.stance == AMEND and decider.amended_weight is None:
            why = f"{why} (amend without a target weight, treated as a block)"
    elif lifted_names:
        decided_by, rule = REGIME_OVERRIDE, REGIME_OVERRIDE_RULE.id
        outcome, final, why = APPROVED, proposal.to_weight, "protections lifted"
    else:
        decided_by, rule = ORCHESTRATOR, PRIORITY.id
        outcome, final, why = APPROVED, proposal.to_weight, "no protection objected"

    parts = [f"{outcome} by {decided_by}: {why}"]
    overridden: tuple[str, ...] = ()
    if lifted or len(decisive) > 1:  # else nothing was overridden (the common case)
        losers: dict[str, tuple[int, str]] = {
            s: (p, "lifted by the regime override") for s, p in lifted.items()
        }
        for v in decisive[1:]:
            if _outcome(v, proposal) != (outcome, final) and v.system != decided_by:
                losers.setdefault(v.system, (_priority(v), f"{v.stance}: {v.reason}"))
        overridden = tuple(sorted(losers, key=lambda s: (losers[s][0], s)))
        if overridden:
            parts.append("overrode " + "; ".join(f"{s} ({losers[s][1]})" for s in overridden))
    if lifted_names and override is not None:
        parts.append(f"regime override: {override.reason}")
    decision = TradeDecided(  # positional, in field order: a decision per proposal
        proposal.proposal_id,
        proposal.asset,
        proposal.action,
        outcome,
        proposal.from_weight,
        final,
        decided_by,
        overridden,
        " | ".join(parts),
        rule,
        _cooled(override, kept),
    )
    return Resolution(decision, lifted_names)


def _cooled(
    override: OverrideContext | None, verdicts: Iterable[ProposalReviewed]
) -> tuple[str, ...]:
    """(`resolution.override_cooldown`,) when the cooldown alone kept an active override
    from lifting a block or amend of a system it lifts; else ()."""
    if override is None or not override.active or override.eligible:
        return ()
    kept = any(v.system in override.lifts and v.stance in (BLOCK, AMEND) for v in verdicts)
    return (OVERRIDE_COOLDOWN.id,) if kept else ()


# --- the re-plan rule -----------------------------------------------------------------

PLANNER = "portfolio_manager"
"""The system whose proposals a re-plan replaces (every other origin's trade is locked)."""

_HELD_TOL = 1e-12


@attrs.frozen
class HeldBack:
    """What the decisions of one negotiation round held back, and what the day locked.

    Attributes:
        held_back: some decision of the round ends away from its proposal's target.
        locked: asset -> final weight the planner must leave alone for the rest of the
            day: every asset decided on another system's proposal and every asset held
            back, in this round or an earlier one of the day.
        blocked: assets whose open was blocked to nothing today (this round or earlier):
            the planner does not propose them again that day.
        freed_slots: opens of this round blocked to nothing (a slot for another asset).
        freed_weight: weight the round's opens and increases did not get.
    """

    held_back: bool = False
    locked: Mapping[str, float] = attrs.field(factory=dict, converter=MappingProxyType)
    blocked: frozenset[str] = frozenset()
    freed_slots: int = 0
    freed_weight: float = 0.0


def held_back(
    decided: Iterable[tuple[ProposeTrade, TradeDecided]], before: HeldBack | None = None
) -> HeldBack:
    """Apply the re-plan rule to one round's decisions.

    A decision holds its asset back when its final weight differs from the proposal's
    target (by more than 1e-12): the asset is then locked at the final weight; an open
    or increase frees the weight it did not get, and an open blocked to nothing also
    frees its slot and is not proposed again that day. A decision on a proposal of any
    system but the planner locks its asset at the final weight in any case.

    Args:
        decided: the round's (proposal, decision) pairs, in decision order.
        before: what the earlier rounds of the day locked and blocked (None: nothing).

    Returns:
        The round's freed slots and weight, and the day's locks and blocks so far.
    """
    before = before or HeldBack()
    locked = dict(before.locked)
    blocked = set(before.blocked)
    any_held = False
    freed_slots = 0
    freed_weight = 0.0
    for proposal, decision in decided:
        final = decision.final_weight
        if proposal.origin != PLANNER:
            locked[proposal.asset] = final
        if abs(final - proposal.to_weight) <= _HELD_TOL:
            continue
        any_held = True
        locked[proposal.asset] = final
        if proposal.action in ENTRIES:
            freed_weight += max(proposal.to_weight - final, 0.0)
            if proposal.action == OPEN and final <= _HELD_TOL:
                freed_slots += 1
                blocked.add(proposal.asset)
    return HeldBack(any_held, locked, frozenset(blocked), freed_slots, freed_weight)


def replan_request(held: HeldBack, round_: int, max_rounds: int) -> RequestReplan | None:
    """The request to re-plan after round `round_`, or None.

    The planner is asked when the round held something back and the day has rounds
    left (`max_negotiation_rounds` re-plans at most after the first plan).
    """
    if not held.held_back or round_ >= max_rounds:
        return None
    return RequestReplan(
        round=round_ + 1,
        locked=dict(sorted(held.locked.items())),
        freed_slots=held.freed_slots,
        freed_weight=held.freed_weight,
        blocked=tuple(sorted(held.blocked)),
        rule=REPLAN.id,
    )
