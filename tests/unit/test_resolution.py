"""Conflict resolution: the priority table pair by pair, regime override lifts and cooldown."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.messages import (
    ABSTAIN,
    AMEND,
    AMENDED,
    APPROVE,
    APPROVED,
    BLOCK,
    BLOCKED,
    CLOSE,
    GRANT,
    INCREASE,
    OPEN,
    REDUCE,
    STANCES,
    TradeDecided,
)
from domain.resolution import (
    NO_OVERRIDE,
    OVERRIDE_LIFTS,
    PRIORITIES,
    OverrideContext,
    RegimeOverrideLedger,
    override_closed,
    override_context,
    resolve,
)
from tests.unit.protection_support import config, day, proposal, regime, verdict

CORE, GRACE, HOLD, WHIP = "core_asset", "grace_period", "holding_period", "whipsaw"


def v(system: str, stance: str, **kw):
    return verdict(system, stance, PRIORITIES.get(system, 6), **kw)


def change(severity: str, **overrides) -> OverrideContext:
    """The override context of a regime change of `severity` for an unused asset."""
    upd = regime("Deflation", "Goldilocks", changed=True, severity=severity)
    return override_context(upd, "AAA", day(0), RegimeOverrideLedger(), config(**overrides))


@pytest.fixture
def high() -> OverrideContext:
    return change("high")


# --- the tables ----------------------------------------------------------------------


def test_priorities_when_read_then_table_matches_rule_book_and_is_read_only():
    assert dict(PRIORITIES) == {
        "core_asset": 1,
        "regime_override": 2,
        "grace_period": 3,
        "holding_period": 4,
        "whipsaw": 5,
    }
    with pytest.raises(TypeError):
        PRIORITIES["whipsaw"] = 0  # type: ignore[index]


def test_override_lifts_when_any_severity_then_never_core_asset():
    assert OVERRIDE_LIFTS["high"] == {GRACE, HOLD}
    assert OVERRIDE_LIFTS["critical"] == {GRACE, HOLD, WHIP}
    assert all(CORE not in lifted for lifted in OVERRIDE_LIFTS.values())


# --- every pair of the priority table --------------------------------------------------


def test_resolve_when_core_blocks_and_critical_override_then_core_wins():
    p = proposal("AAA", CLOSE, 0.2, 0.0)
    verdicts = [v(CORE, BLOCK), v(HOLD, BLOCK), v(WHIP, BLOCK)]

    res = resolve(p, verdicts, change("critical"))

    assert res.decision.outcome == BLOCKED
    assert res.decision.decided_by == CORE
    assert res.decision.final_weight == 0.2
    assert CORE not in res.lifted
    assert res.lifted == (HOLD, WHIP)


def test_resolve_when_core_grants_and_grace_amends_then_core_wins():
    res = resolve(
        proposal("AAA", INCREASE, 0.1, 0.2), [v(GRACE, AMEND, amended_weight=0.05), v(CORE, GRANT)]
    )

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, CORE)
    assert res.decision.final_weight == 0.2
    assert res.decision.overridden == (GRACE,)


def test_resolve_when_core_blocks_and_grace_grants_then_core_wins():
    res = resolve(proposal("AAA", REDUCE, 0.2, 0.1), [v(GRACE, GRANT), v(CORE, BLOCK)])

    assert (res.decision.outcome, res.decision.decided_by) == (BLOCKED, CORE)
    assert res.decision.overridden == (GRACE,)


def test_resolve_when_core_grants_and_holding_blocks_then_core_wins():
    res = resolve(proposal("AAA", INCREASE, 0.1, 0.2), [v(HOLD, BLOCK), v(CORE, GRANT)])

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, CORE)
    assert res.decision.overridden == (HOLD,)
    assert "overrode holding_period" in res.decision.reason


def test_resolve_when_core_grants_and_whipsaw_blocks_open_then_core_wins():
    res = resolve(proposal("AAA", OPEN, 0.0, 0.1), [v(WHIP, BLOCK), v(CORE, GRANT)])

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, CORE)
    assert res.decision.final_weight == 0.1
    assert res.decision.overridden == (WHIP,)


def test_resolve_when_high_override_and_grace_amends_then_override_wins(high):
    res = resolve(proposal("AAA", CLOSE, 0.1, 0.0), [v(GRACE, AMEND, amended_weight=0.06)], high)

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, "regime_override")
    assert res.decision.final_weight == 0.0
    assert res.lifted == (GRACE,)
    assert res.decision.overridden == (GRACE,)


def test_resolve_when_high_override_and_holding_blocks_then_override_wins(high):
    res = resolve(proposal("AAA", CLOSE, 0.1, 0.0), [v(HOLD, BLOCK), v(WHIP, APPROVE)], high)

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, "regime_override")
    assert res.lifted == (HOLD,)
    assert "Goldilocks→Deflation" in res.decision.reason


def test_resolve_when_critical_override_with_flag_and_whipsaw_blocks_then_override_wins():
    ctx = change("critical", regime_override_whipsaw_critical=True)

    res = resolve(proposal("AAA", OPEN, 0.0, 0.1), [v(WHIP, BLOCK)], ctx)

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, "regime_override")
    assert res.lifted == (WHIP,)


def test_resolve_when_critical_override_without_flag_then_whipsaw_block_stands():
    ctx = change("critical", regime_override_whipsaw_critical=False)

    res = resolve(proposal("AAA", OPEN, 0.0, 0.1), [v(WHIP, BLOCK)], ctx)

    assert (res.decision.outcome, res.decision.decided_by) == (BLOCKED, WHIP)
    assert res.lifted == ()


def test_resolve_when_high_override_then_whipsaw_block_stands(high):
    res = resolve(proposal("AAA", OPEN, 0.0, 0.1), [v(WHIP, BLOCK), v(HOLD, BLOCK)], high)

    assert (res.decision.outcome, res.decision.decided_by) == (BLOCKED, WHIP)
    assert res.lifted == (HOLD,)
    assert res.decision.overridden == (HOLD,)


def test_resolve_when_grace_grants_own_close_and_holding_blocks_then_grace_wins():
    p = proposal("AAA", CLOSE, 0.05, 0.0, origin="grace_period")

    res = resolve(p, [v(HOLD, BLOCK), v(GRACE, GRANT)])

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, GRACE)
    assert res.decision.overridden == (HOLD,)


def test_resolve_when_grace_amends_and_whipsaw_blocks_then_grace_wins():
    res = resolve(
        proposal("AAA", CLOSE, 0.1, 0.0), [v(WHIP, BLOCK), v(GRACE, AMEND, amended_weight=0.08)]
    )

    assert (res.decision.outcome, res.decision.decided_by) == (AMENDED, GRACE)
    assert res.decision.final_weight == 0.08
    assert res.decision.overridden == (WHIP,)


def test_resolve_when_holding_and_whipsaw_both_block_then_holding_decides_nobody_overridden():
    res = resolve(proposal("AAA", CLOSE, 0.1, 0.0), [v(WHIP, BLOCK), v(HOLD, BLOCK)])

    assert (res.decision.outcome, res.decision.decided_by) == (BLOCKED, HOLD)
    assert res.decision.overridden == ()


def test_resolve_when_holding_approves_and_whipsaw_blocks_then_whipsaw_decides():
    res = resolve(proposal("AAA", CLOSE, 0.1, 0.0), [v(HOLD, APPROVE), v(WHIP, BLOCK)])

    assert (res.decision.outcome, res.decision.decided_by) == (BLOCKED, WHIP)


# --- lifts, cooldown, defaults ------------------------------------------------------------


def test_resolve_when_custom_protection_blocks_under_critical_override_then_never_lifted():
    ctx = change("critical")

    res = resolve(proposal("AAA", CLOSE), [verdict("no_fridays", BLOCK, 6), v(HOLD, BLOCK)], ctx)

    assert (res.decision.outcome, res.decision.decided_by) == (BLOCKED, "no_fridays")
    assert res.lifted == (HOLD,)


def test_override_context_when_second_change_within_cooldown_then_not_eligible():
    ledger = RegimeOverrideLedger()
    cfg = config(regime_override_cooldown=30)
    upd = regime("Deflation", "Goldilocks", changed=True, severity="critical")
    ledger.record("AAA", day(0))

    same_day = override_context(upd, "AAA", day(0), ledger, cfg)
    within = override_context(upd, "AAA", day(29), ledger, cfg)
    after = override_context(upd, "AAA", day(30), ledger, cfg)
    other = override_context(upd, "BBB", day(29), ledger, cfg)

    assert same_day.eligible and after.eligible and other.eligible
    assert within.active and not within.eligible
    assert within.lifting == frozenset()
    res = resolve(proposal("AAA", CLOSE), [v(HOLD, BLOCK)], within)
    assert (res.decision.outcome, res.decision.decided_by) == (BLOCKED, HOLD)


@pytest.mark.parametrize(
    ("changed", "severity", "overrides"),
    [
        (False, "critical", {}),
        (True, "normal", {"regime_severity_threshold": "high"}),
        (True, "high", {"regime_severity_threshold": "critical"}),
        (True, "critical", {"regime_override_enabled": False}),
    ],
)
def test_override_context_when_no_qualifying_change_then_inactive(changed, severity, overrides):
    upd = regime("Deflation", "Goldilocks", changed=changed, severity=severity)

    ctx = override_context(upd, "AAA", day(0), RegimeOverrideLedger(), config(**overrides))

    assert not ctx.active
    assert ctx.lifting == frozenset()


def test_override_context_when_threshold_normal_and_normal_change_then_grace_and_holding_lifted():
    upd = regime("Reflation", "Goldilocks", changed=True, severity="normal")

    ctx = override_context(
        upd, "AAA", day(0), RegimeOverrideLedger(), config(regime_severity_threshold="normal")
    )

    assert ctx.lifting == {GRACE, HOLD}


def test_resolve_when_no_verdicts_then_approved_by_orchestrator():
    res = resolve(proposal("AAA", OPEN, 0.0, 0.12), [])

    assert res.decision == TradeDecided(
        proposal_id="0:portfolio_manager:AAA",
        asset="AAA",
        action=OPEN,
        outcome=APPROVED,
        from_weight=0.0,
        final_weight=0.12,
        decided_by="orchestrator",
        overridden=(),
        reason=res.decision.reason,
        rule="resolution.priority",
    )
    assert res.lifted == ()


def test_resolve_when_only_approvals_and_abstentions_then_approved_by_orchestrator():
    res = resolve(proposal("AAA", OPEN, 0.0, 0.1), [v(HOLD, ABSTAIN), v(WHIP, APPROVE)])

    assert (res.decision.outcome, res.decision.decided_by) == (APPROVED, "orchestrator")


def test_resolve_when_same_priority_block_amend_grant_then_block_first_then_amend():
    a, b, c = (
        verdict(n, s, 6, amended_weight=0.05 if s == AMEND else None)
        for n, s in (("c1", GRANT), ("c2", AMEND), ("c3", BLOCK))
    )

    assert resolve(proposal("AAA", CLOSE), [a, b, c]).decision.decided_by == "c3"
    assert resolve(proposal("AAA", CLOSE), [a, b]).decision.decided_by == "c2"


def test_resolve_when_amend_has_no_weight_then_treated_as_block():
    res = resolve(proposal("AAA", CLOSE, 0.1, 0.0), [verdict("c1", AMEND, 6)])

    assert res.decision.outcome == BLOCKED
    assert res.decision.final_weight == 0.1


def test_ledger_when_recorded_then_last_date_kept_per_asset():
    ledger = RegimeOverrideLedger()
    ledger.record("BBB", day(3))
    ledger.record("AAA", day(1))

    assert ledger.last("AAA") == day(1)
    assert ledger.as_dict() == {"AAA": day(1).isoformat(), "BBB": day(3).isoformat()}


# --- property: every stance combination yields exactly one consistent decision ------------

SYSTEMS = ((CORE, 1), (GRACE, 3), (HOLD, 4), (WHIP, 5), ("custom_a", 6), ("custom_b", 6))

verdict_sets = st.lists(
    st.tuples(
        st.sampled_from(SYSTEMS),
        st.sampled_from(STANCES),
        st.one_of(st.none(), st.floats(0.0, 0.3)),
    ),
    max_size=8,
    unique_by=lambda t: t[0][0],
)


@settings(max_examples=300, deadline=None)
@given(
    verdict_sets,
    st.sampled_from([None, "high", "critical"]),
    st.sampled_from([OPEN, CLOSE, INCREASE, REDUCE]),
    st.randoms(use_true_random=False),
)
def test_resolve_when_any_verdict_set_then_exactly_one_consistent_decision(
    raw, severity, action, rnd: random.Random
):
    p = proposal("AAA", action, 0.1, 0.0 if action == CLOSE else 0.15)
    verdicts = [
        verdict(name, stance, prio, amended_weight=w if stance == AMEND else None)
        for (name, prio), stance, w in raw
    ]
    ctx = NO_OVERRIDE if severity is None else change(severity)

    res = resolve(p, verdicts, ctx)
    shuffled = list(verdicts)
    rnd.shuffle(shuffled)

    d = res.decision
    assert isinstance(d, TradeDecided)
    assert resolve(p, shuffled, ctx) == res
    assert d.outcome in (APPROVED, BLOCKED, AMENDED)
    lifted = set(ctx.lifting)
    live = [x for x in verdicts if not (x.system in lifted and x.stance in (BLOCK, AMEND))]
    decisive = [x for x in live if x.stance in (BLOCK, AMEND, GRANT)]
    if decisive:
        best = min(x.priority for x in decisive)
        assert d.decided_by in {x.system for x in decisive if x.priority == best}
    else:
        assert d.outcome == APPROVED and d.final_weight == p.to_weight
        assert d.decided_by == ("regime_override" if res.lifted else "orchestrator")
    if d.outcome == BLOCKED:
        assert d.final_weight == p.from_weight
    assert CORE not in res.lifted
    assert set(res.lifted) <= set(d.overridden)
    assert d.decided_by not in d.overridden
    assert list(d.overridden) == sorted(d.overridden, key=lambda s: (PRIORITIES.get(s, 6), s))


def test_override_context_when_run_registry_has_a_liftable_row_then_it_is_lifted():
    from domain.protections.registry import BUILTIN, ProtectionRow
    from tests.integration.no_opens import NoOpensProtection

    extra = ProtectionRow(NoOpensProtection, priority=6, lifted_at=frozenset({"high"}))
    upd = regime("Deflation", "Goldilocks", changed=True, severity="high")
    ctx = override_context(
        upd, "AAA", day(0), RegimeOverrideLedger(), config(), BUILTIN.with_rows([extra])
    )
    assert "no_opens" in ctx.lifts
    assert "no_opens" not in change("high").lifts


def test_resolve_when_one_system_blocks_and_amends_without_target_then_same_decision_any_order():
    # an amend without a target ranks as a block: the exact tie goes by stance name
    p = proposal("AAA", REDUCE, 0.1, 0.05)
    amend = v(HOLD, AMEND, reason="no target")
    block = v(HOLD, BLOCK, reason="too young")

    first = resolve(p, [amend, block], NO_OVERRIDE).decision
    second = resolve(p, [block, amend], NO_OVERRIDE).decision

    assert first == second
    assert first.outcome == BLOCKED and first.reason.startswith("blocked by holding_period: no")


def test_override_closed_when_no_change_or_below_threshold_then_the_context_of_every_asset():
    quiet = regime("Goldilocks", "Goldilocks", changed=False, severity="normal")
    mild = regime("Goldilocks", "Reflation", changed=True, severity="normal")
    high = regime("Deflation", "Goldilocks", changed=True, severity="high")
    ledger = RegimeOverrideLedger()

    for update in (quiet, mild):
        closed = override_closed(update, config())
        assert closed is not None and not closed.lifting
        assert closed == override_context(update, "AAA", day(0), ledger, config())
    assert override_closed(high, config()) is None
    assert override_context(high, "AAA", day(0), ledger, config()).lifting
