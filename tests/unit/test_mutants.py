"""Mutants: each one really changes its guard's decision, and switches in through the
registry (a replaced class, or two priorities exchanged)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from domain.catalogue import RULES
from domain.messages import (
    CLOSE,
    INCREASE,
    OPEN,
    REDUCE,
    Message,
    NoticeIssued,
    ProposalReviewed,
)
from domain.protections.base import Protection
from domain.protections.core_asset import Refusal
from domain.protections.grace_period import GraceRecord
from domain.protections.mutants import BUILTIN_MUTANTS, Mutant, mutants_of
from domain.protections.registry import BUILTIN, PRIORITIES, custom_row
from domain.protections.whipsaw import WhipsawProtection
from tests.unit.protection_support import (
    FakePrices,
    config,
    day,
    day_ctx,
    fill,
    proposal,
    review_ctx,
)

BY_ID = {m.id: m for m in BUILTIN_MUTANTS}


def build(cls: type[Protection], **overrides: Any) -> Any:
    return cls(config(**overrides), priority=PRIORITIES[cls.name])


def decision(out: Any) -> Any:
    """A guard's output as a comparable value: a verdict's stance and weight, a refusal's
    rule, a date, or each message's kind, event or action, target weight and rule."""
    if isinstance(out, dt.date):
        return out
    if isinstance(out, ProposalReviewed):
        return (out.stance, out.amended_weight)
    if isinstance(out, Refusal):
        return out.rule.id
    if out is None or isinstance(out, Message):
        out = [] if out is None else [out]
    return [
        (
            type(m).__name__,
            getattr(m, "event", None) or m.action,
            getattr(m, "to_weight", None),
            getattr(m, "rule", None),
        )
        for m in out
    ]


def holding_minimum(cls: type, held: int) -> Any:
    hp = build(cls, position_holding_period_min=3)
    return hp._check_minimum(proposal("AAA", CLOSE), held)


def forced_review(cls: type) -> Any:
    hp = build(cls, position_holding_period_max=5)
    return hp._check_forced_review("AAA", day(0), day_ctx(day(5)))


def whipsaw_open(cls: type) -> Any:
    ws = build(cls, whipsaw_max_cycles=1, whipsaw_protection_days=10)
    ws.observe(fill("AAA", "buy", 0.1), day(0))
    ws.observe(fill("AAA", "sell", 0.0), day(1))
    return ws._check_window(proposal("AAA", OPEN, 0.0, 0.1), day(2))


def whipsaw_close(cls: type) -> Any:
    ws = build(cls, whipsaw_min_duration_hours=48)
    return ws._check_min_duration(proposal("AAA", CLOSE), 24)


def grace(cls: type, **overrides: Any) -> Any:
    gp = build(cls, **overrides)
    rec = GraceRecord("AAA", day(0), start_weight=0.05, start_score=0.1)
    gp._records["AAA"] = rec
    return gp, rec


def grace_decay(cls: type) -> Any:
    gp, rec = grace(cls)
    return gp._check_decay(day_ctx(day(1)), rec, 0.05, 0.1, 1)


def grace_decay_floor(cls: type) -> Any:
    gp, rec = grace(cls, grace_period_decay_rate=0.2, min_decay_factor=0.1)
    return gp._check_decay(day_ctx(day(2)), rec, 0.05, 0.1, 2)


def grace_expiry(cls: type, k: int) -> Any:
    gp, rec = grace(cls, grace_period_days=5)
    return gp._check_expiry(day_ctx(day(k)), rec, 0.01, 0.1, k)


def grace_recovery(cls: type) -> Any:
    gp, rec = grace(cls)
    return gp._check_recovery(rec, gp.config.min_score_threshold, day(1))


def grace_ceiling(cls: type) -> Any:
    gp = build(cls, max_single_position_size=0.1)
    rec = GraceRecord("AAA", day(0), start_weight=0.3, start_score=0.1)
    gp._records["AAA"] = rec
    return gp._check_decay(day_ctx(day(1)), rec, 0.3, 0.1, 1)


def grace_amendment(cls: type) -> Any:
    gp, _rec = grace(cls)
    return gp._check_amendment(proposal("AAA", REDUCE, 0.05, 0.0), 0.04, review_ctx(day(1)))


def grace_start(cls: type) -> Any:
    gp = build(cls)
    return gp._check_start("AAA", gp.config.min_score_threshold - 0.1, 0.05, day(0))


def core(cls: type, **overrides: Any) -> Any:
    cp = build(cls, **overrides)
    cp.designate("AAA", day(0), reason="test")
    return cp


def core_expiry(cls: type) -> Any:
    cp = core(cls)
    rec = cp.record("AAA")
    return cp._check_expiry(rec, rec.expiry)


def core_max(cls: type) -> Any:
    return core(cls, max_core_assets=1)._check_max_core()


def core_immunity(cls: type) -> Any:
    return core(cls)._check_immunity(proposal("AAA", REDUCE, 0.1, 0.05), "later")


def core_entry_grant(cls: type) -> Any:
    return core(cls)._check_entry_grant(proposal("AAA", OPEN, 0.0, 0.1), "later")


def core_extension_limit(cls: type) -> Any:
    cp = core(cls, core_asset_extension_limit=1)
    cp.extend("AAA", day(1), reason="test")
    return cp._check_extension_limit("AAA")


def grace_start_at(cls: type) -> Any:
    gp = build(cls)
    return gp._check_start("AAA", gp.config.min_score_threshold, 0.05, day(0))


def grace_bucket_ceiling(cls: type) -> Any:
    gp = build(
        cls,
        enable_bucket_diversification=True,
        max_bucket_allocation=0.1,
        max_single_position_size=0.15,
    )
    for asset in ("AAA", "BBB"):
        gp._records[asset] = GraceRecord(asset, day(0), start_weight=0.08, start_score=0.1)
    gp._weights = {"AAA": 0.08, "BBB": 0.08}
    ctx = day_ctx(day(1), bucket_of={"AAA": "Risk", "BBB": "Risk"})
    return gp._check_decay(ctx, gp._records["AAA"], 0.08, 0.1, 1)


def grace_core_exempt(cls: type) -> Any:
    gp = build(cls)
    gp.observe(NoticeIssued(event="core_designated", asset="AAA", details={}), day(0))
    return gp.housekeep(day_ctx(day(1), holdings={"AAA": 0.05}, scores={"AAA": 0.1}))


def grace_core_in_grace(cls: type) -> Any:
    gp, _rec = grace(cls)
    gp.observe(NoticeIssued(event="core_designated", asset="AAA", details={}), day(1))
    return gp._check_core_exempt("AAA", day(1))


def grace_own_reduce(cls: type) -> Any:
    gp, _rec = grace(cls)
    return gp._check_own_schedule(proposal("AAA", REDUCE, 0.05, 0.04))


def core_entry_increase(cls: type) -> Any:
    return core(cls)._check_entry_grant(proposal("AAA", INCREASE, 0.1, 0.2), "later")


def core_details(under: float) -> dict[str, Any]:
    return {"underperformance": under, "threshold": 0.15, "period_days": 30}


def core_underperformance(cls: type, under: float) -> Any:
    cp = core(cls)
    return cp._check_underperformance(cp.record("AAA"), core_details(under))


def core_underperformance_period(cls: type) -> Any:
    """AAA flat; its peer BBB jumped 77 -> 100 exactly 30 days ago (the 30-day period starts
    at 100, a 31-day one at 77)."""
    cp = core(cls, core_asset_underperformance_period=30)
    closes = {"AAA": {day(0): 100.0}, "BBB": {day(0): 77.0, day(11): 100.0}}
    ctx = day_ctx(day(41), prices=FakePrices(closes, {"Risk": ("AAA", "BBB")}))
    perf = cp.performance("AAA", "Risk", ctx)
    return cp._check_underperformance(cp.record("AAA"), core_details(perf.underperformance))


def core_warning(cls: type, under: float) -> Any:
    cp = core(cls)
    return cp._check_warning(cp.record("AAA"), core_details(under), day(7))


def core_designation(cls: type) -> Any:
    cp = build(cls)
    out = cp.designate("AAA", day(0), reason="test")
    rec = cp.record("AAA")
    return out if rec is None else rec.expiry


def core_already(cls: type, **overrides: Any) -> Any:
    return core(cls, **overrides)._check_already_core("AAA")


def core_extension_days(cls: type) -> Any:
    cp = core(cls)
    cp.extend("AAA", day(1), days=5, reason="test")
    return cp.record("AAA").expiry


def core_manual_revoke(cls: type) -> Any:
    return core(cls).revoke("AAA", day(1), reason="test")


def core_switch_off(cls: type) -> Any:
    return core(cls).switched_off(day(1))


PROBES: dict[str, Callable[[type], Any]] = {
    "holding_period.minimum/off_by_one": lambda cls: holding_minimum(cls, 3),
    "holding_period.minimum/ignored": lambda cls: holding_minimum(cls, 1),
    "holding_period.forced_review/late": forced_review,
    "holding_period.forced_review/skipped": forced_review,
    "whipsaw.window/off_by_one": whipsaw_open,
    "whipsaw.window/ignored": whipsaw_open,
    "whipsaw.window/one_day": whipsaw_open,
    "whipsaw.min_duration/off_by_one": whipsaw_close,
    "whipsaw.min_duration/ignored": whipsaw_close,
    "grace_period.start/skipped": grace_start,
    "grace_period.decay/once_more": grace_decay,
    "grace_period.decay/skipped": grace_decay,
    "grace_period.decay/floor_ignored": grace_decay_floor,
    "grace_period.expiry/late": lambda cls: grace_expiry(cls, 5),
    "grace_period.expiry/early": lambda cls: grace_expiry(cls, 4),
    "grace_period.recovery/ignored": grace_recovery,
    "grace_period.recovery/strict": grace_recovery,
    "grace_period.ceiling/ignored": grace_ceiling,
    "grace_period.amendment/skipped": grace_amendment,
    "grace_period.amendment/closes_only": grace_amendment,
    "core_asset.expiry/late": core_expiry,
    "core_asset.expiry/skipped": core_expiry,
    "core_asset.max_core/off_by_one": core_max,
    "core_asset.max_core/ignored": core_max,
    "core_asset.immunity/ignored": core_immunity,
    "core_asset.immunity/closes_only": core_immunity,
    "core_asset.entry_grant/ignored": core_entry_grant,
    "core_asset.extension_limit/off_by_one": core_extension_limit,
    "core_asset.extension_limit/ignored": core_extension_limit,
    "grace_period.start/at_threshold": grace_start_at,
    "grace_period.ceiling/bucket_ignored": grace_bucket_ceiling,
    "grace_period.core_exempt/not_exempt": grace_core_exempt,
    "grace_period.core_exempt/kept_in_grace": grace_core_in_grace,
    "grace_period.own_schedule/ignored": grace_own_reduce,
    "grace_period.own_schedule/closes_only": grace_own_reduce,
    "core_asset.entry_grant/opens_only": core_entry_increase,
    "core_asset.underperformance/skipped": lambda cls: core_underperformance(cls, 0.2),
    "core_asset.underperformance/at_warning_level": lambda cls: core_underperformance(cls, 0.1),
    "core_asset.underperformance/period_longer": core_underperformance_period,
    "core_asset.warning/skipped": lambda cls: core_warning(cls, 0.1),
    "core_asset.warning/any_underperformance": lambda cls: core_warning(cls, 0.05),
    "core_asset.designation/skipped": core_designation,
    "core_asset.designation/longer": core_designation,
    "core_asset.already_core/ignored": core_already,
    "core_asset.already_core/after_max": lambda cls: core_already(cls, max_core_assets=1),
    "core_asset.extension/days_ignored": core_extension_days,
    "core_asset.extension/from_today": core_extension_days,
    "core_asset.manual_revoke/skipped": core_manual_revoke,
    "core_asset.manual_revoke/refused": core_manual_revoke,
    "core_asset.switch_off/skipped": core_switch_off,
    "core_asset.switch_off/as_manual": core_switch_off,
}


@pytest.mark.parametrize("mutant_id", sorted(PROBES))
def test_guard_when_mutant_switched_in_then_decision_differs_from_the_rule(mutant_id):
    mutant = BY_ID[mutant_id]
    original = BUILTIN.row(str(mutant.protection)).cls

    assert issubclass(mutant.cls, original)
    assert decision(PROBES[mutant_id](mutant.cls)) != decision(PROBES[mutant_id](original))


def test_catalogue_when_listed_then_every_class_mutant_has_a_probe_and_names_a_known_rule():
    with_class = {m.id for m in BUILTIN_MUTANTS if m.cls is not None}  # stages: test_stage_mutants

    assert with_class == set(PROBES)
    assert all(m.rule in RULES and m.id.startswith(f"{m.rule}/") for m in BUILTIN_MUTANTS)
    assert len(BUILTIN_MUTANTS) >= 20
    assert len({m.rule for m in BUILTIN_MUTANTS}) >= 10


def test_apply_when_class_mutant_then_only_its_row_changes_class():
    mutant = BY_ID["holding_period.minimum/ignored"]

    mutated = mutant.apply(BUILTIN)

    assert mutated.row("holding_period").cls is mutant.cls
    assert mutated.priorities == BUILTIN.priorities
    assert [r.cls for r in mutated.rows if r.name != "holding_period"] == [
        r.cls for r in BUILTIN.rows if r.name != "holding_period"
    ]


@pytest.mark.parametrize("mutant", [m for m in BUILTIN_MUTANTS if m.swap], ids=lambda m: m.id)
def test_apply_when_priority_swap_then_the_two_priorities_are_exchanged(mutant):
    before, after = BUILTIN.priorities, mutant.apply(BUILTIN).priorities

    assert after[mutant.protection] == before[mutant.swap]
    assert after[mutant.swap] == before[mutant.protection]
    assert list(after) != list(before)


def test_apply_when_protection_not_in_the_run_then_registry_unchanged():
    registry = BUILTIN.without(["whipsaw"])

    mutant = BY_ID["resolution.priority/swap_holding_period_whipsaw"]

    assert not mutant.applies_to(registry)
    assert mutant.apply(registry) is registry


class Broken(WhipsawProtection):
    """A custom protection's own mutant class."""


class Custom(WhipsawProtection):
    name = "custom_guard"
    mutants = (Mutant("custom_guard.rule/broken", "custom_guard.rule", "broken", cls=Broken),)


def test_mutants_of_when_custom_protection_declares_mutants_then_bound_to_its_row():
    registry = BUILTIN.with_rows([custom_row("my_guard", Custom, 6, {})])

    found = mutants_of(registry)

    own = found[-1]
    assert own.protection == "my_guard"
    assert own.apply(registry).row("my_guard").cls is Broken
    assert found[: len(BUILTIN_MUTANTS)] == BUILTIN_MUTANTS


def test_mutants_of_when_two_share_an_id_then_value_error():
    twice = attrs.evolve(BUILTIN_MUTANTS[0])

    with pytest.raises(ValueError, match="declared twice"):
        mutants_of(BUILTIN, (*BUILTIN_MUTANTS, twice))
