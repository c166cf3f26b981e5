"""A regime override is spent only when lifting changed the decision."""

from domain.messages import BLOCK, GRANT, ProposalReviewed, ProposeTrade
from domain.resolution import OverrideContext, resolve

PROPOSAL = ProposeTrade("p", "AAA", "close", 0.1, 0.0, 0.5, "score low", "portfolio_manager")
CRITICAL = OverrideContext(
    active=True,
    eligible=True,
    severity="critical",
    lifts=frozenset({"grace_period", "holding_period", "whipsaw"}),
    reason="regime change Goldilocks→Deflation (critical)",
)


def _verdict(system, stance, priority):
    return ProposalReviewed("p", "AAA", system, stance, priority, f"{system} says {stance}")


def test_resolve_when_lift_changes_outcome_then_used():
    res = resolve(PROPOSAL, [_verdict("holding_period", BLOCK, 4)], CRITICAL)
    assert res.used and res.lifted == ("holding_period",)
    assert (res.decision.outcome, res.decision.decided_by) == ("approved", "regime_override")


def test_resolve_when_core_decides_anyway_then_lift_shown_but_not_used():
    verdicts = [_verdict("core_asset", BLOCK, 1), _verdict("holding_period", BLOCK, 4)]
    res = resolve(PROPOSAL, verdicts, CRITICAL)
    assert not res.used
    assert res.decision.decided_by == "core_asset" and res.decision.outcome == "blocked"


def test_resolve_when_custom_block_stands_then_not_used_and_custom_decides():
    verdicts = [_verdict("holding_period", BLOCK, 4), _verdict("liquidity", BLOCK, 6)]
    res = resolve(PROPOSAL, verdicts, CRITICAL)
    assert not res.used
    assert res.decision.decided_by == "liquidity"
    assert "holding_period" in res.decision.overridden


def test_resolve_when_grant_after_lift_then_used_only_if_outcome_differs():
    verdicts = [_verdict("holding_period", BLOCK, 4), _verdict("liquidity", GRANT, 6)]
    res = resolve(PROPOSAL, verdicts, CRITICAL)
    assert res.used and res.decision.outcome == "approved"
