"""The library notices a broken rule: its mutation score is 100 %, and each built-in
protection switched off makes some scenario fail a check.

The default run takes a fast subset: each scenario of `KILLS` must kill the mutants listed
for it (one mutate run per scenario with only those mutants), and a handful of scenarios
ablated must miss every built-in protection. The whole matrix (every library scenario x
every mutant of its run, `sim.mutate.mutate`) and the whole library's ablation are behind
the `slow` marker. The kills and the protections each scenario caught are printed
(`pytest -s`) and attached to the test report as properties.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from domain.protections.mutants import BUILTIN_MUTANTS
from domain.scenario import BUILTIN_PROTECTIONS
from sim.ablate import ablate
from sim.load.document import unmet_requirements
from sim.mutate import mutate
from sim.read.ablation import Ablation
from sim.read.mutation import MutationReport
from tests.scenario_library.test_library import LIBRARY, SCENARIOS

USABLE = [p for p in SCENARIOS if not unmet_requirements(p)]

KILLS: dict[str, tuple[str, ...]] = {
    "adaptive-sizing": ("sizing.raw_weights/adaptive_without_one",),
    "bucket-override-core": ("construction.override_core_request/threshold_ignored",),
    "bucket-trim-small": (
        "trades.bucket_limit/ignored",
        "trades.bucket_limit/slack",
    ),
    "cash-floor-short-cash": (
        "execution.cash_floor/ignored",
        "execution.costs/commission_not_on_buys",
        "holding_period.minimum/ignored",
    ),
    "chop-around-threshold": ("selection.open_threshold/keep_level",),
    "concentration-other-buckets-first": (
        "construction.concentration/ignored",
        "construction.concentration/min_new_one_low",
        "construction.concentration/others_first_ignored",
        "selection.max_new/ignored",
        "selection.max_new/off_by_one",
        "sizing.cap/ignored",
        "trades.cap_trim/ignored",
        "trades.cap_trim/slack",
    ),
    "core-expiry": ("core_asset.expiry/late",),
    "core-extension-limit": (
        "core_asset.expiry/skipped",
        "core_asset.extension/days_ignored",
        "core_asset.extension/from_today",
        "core_asset.extension_limit/ignored",
        "core_asset.extension_limit/off_by_one",
    ),
    "core-switch-off": ("core_asset.switch_off/as_manual",),
    "core-underperformance-revocation": ("core_asset.underperformance/skipped",),
    "core-vs-grace": ("grace_period.core_exempt/kept_in_grace",),
    "core-vs-holding": (
        "core_asset.entry_grant/ignored",
        "core_asset.entry_grant/opens_only",
    ),
    "drawdown-reduction": ("sizing.drawdown/ignored",),
    "dynamic-limits-regime-change": ("construction.dynamic_limits/total_kept",),
    "dynamic-limits-revert-new-candidates": (
        "construction.dynamic_limits/aggression_ignored",
        "construction.dynamic_limits/never_reverts",
        "selection.max_new/budget_not_reduced",
    ),
    "grace-amends-reduce": ("grace_period.amendment/closes_only",),
    "grace-decay-floor": ("grace_period.decay/floor_ignored",),
    "grace-from-above-cap": (
        "core_asset.manual_revoke/refused",
        "core_asset.manual_revoke/skipped",
    ),
    "grace-recovery-vs-expiry": (
        "grace_period.expiry/early",
        "grace_period.recovery/ignored",
        "grace_period.recovery/strict",
        "grace_period.start/at_threshold",
    ),
    "grace-vs-holding": (
        "resolution.priority/swap_grace_period_holding_period",
        "resolution.priority/swap_grace_period_whipsaw",
    ),
    "holding-vs-whipsaw": (
        "resolution.priority/swap_holding_period_whipsaw",
        "whipsaw.min_duration/ignored",
        "whipsaw.min_duration/off_by_one",
    ),
    "max-total-locked": (
        "selection.max_total/ignored",
        "selection.max_total/locked_not_counted",
    ),
    "min-buckets-represented": (
        "construction.min_buckets/one_short",
        "construction.min_buckets/skipped",
    ),
    "min-trade-threshold": ("trades.min_trade/ignored",),
    "prot-core-already-core": (
        "core_asset.already_core/after_max",
        "core_asset.already_core/ignored",
        "core_asset.designation/longer",
        "selection.trending_existing/strict",
    ),
    "prot-core-check-period": (
        "core_asset.underperformance/at_warning_level",
        "core_asset.underperformance/period_longer",
        "core_asset.warning/any_underperformance",
        "core_asset.warning/skipped",
    ),
    "prot-grace-bucket-ceiling": (
        "core_asset.designation/skipped",
        "core_asset.immunity/ignored",
        "core_asset.switch_off/skipped",
        "grace_period.ceiling/bucket_ignored",
        "grace_period.ceiling/ignored",
        "grace_period.core_exempt/not_exempt",
        "grace_period.decay/once_more",
        "grace_period.decay/skipped",
        "grace_period.expiry/late",
        "grace_period.own_schedule/closes_only",
        "grace_period.own_schedule/ignored",
        "grace_period.start/skipped",
        "resolution.priority/swap_core_asset_grace_period",
        "resolution.priority/swap_core_asset_holding_period",
        "resolution.priority/swap_core_asset_whipsaw",
        "trading.rebalance_day/every_day",
    ),
    "regime-override-cooldown": ("resolution.override_cooldown/ignored",),
    "regime-override-cooldown-elapsed": (
        "resolution.override_cooldown/off_by_one",
        "resolution.regime_override/skipped",
    ),
    "regime-shock-normal": ("resolution.regime_override/one_rank_low",),
    "replan-blocked-last": (
        "core_asset.immunity/closes_only",
        "execution.sell_before_buy/blocked_last_ignored",
        "execution.sell_before_buy/first_decision_counts",
        "resolution.replan/skipped",
        "selection.keep_threshold/ignored",
        "sizing.drawdown/inverted",
    ),
    "replan-chain-two-rounds": (
        "holding_period.minimum/off_by_one",
        "resolution.replan/one_round_fewer",
        "whipsaw.window/ignored",
        "whipsaw.window/off_by_one",
        "whipsaw.window/one_day",
    ),
    "replan-withdraws-open": ("sizing.no_room/skipped",),
    "residual-top-slice-limits": (
        "sizing.raw_weights/score_ignored",
        "sizing.residual/multiple_ignored",
        "sizing.residual/per_asset_ignored",
        "sizing.residual/skipped",
    ),
    "score-weighted-sizing": ("sizing.cap/once",),
    "selection-explained": (
        "construction.bucket_allocation/ignored",
        "construction.bucket_override/threshold_ignored",
        "construction.bucket_slots/favored_ignored",
        "construction.correlation/ignored",
        "grace_period.amendment/skipped",
        "selection.open_threshold/trending_ignored",
        "selection.score_decay/early",
        "selection.universe/existing_level",
        "sizing.min_position/ignored",
    ),
    "slippage-fill-prices": (
        "execution.cash_floor/pre_sell_cash",
        "execution.costs/slippage_ignored",
        "execution.costs/slippage_sign_flipped",
    ),
    "slow-bleed": (
        "scoring.score/fundamental_ignored",
        "scoring.score/weights_swapped",
    ),
    "stage-bucket-override-limit": ("construction.bucket_override/one_more",),
    "stage-core-request-once": (
        "construction.bucket_slots/per_bucket_ignored",
        "construction.override_core_request/every_day",
        "core_asset.max_core/ignored",
        "core_asset.max_core/off_by_one",
        "selection.score_decay/ignored",
    ),
    "stage-correlation-at-limit": ("construction.correlation/at_limit",),
    "stage-correlation-mirror": (
        "construction.bucket_allocation/locked_ignored",
        "construction.correlation/signed",
    ),
    "stage-high-vol-floor": (
        "construction.high_volatility/ignored",
        "construction.high_volatility/unfloored",
    ),
    "stage-high-vol-round-down": ("construction.high_volatility/rounded_up",),
    "stage-min-position-at-size": ("sizing.min_position/strict",),
    "stage-min-trade-small-close": (
        "selection.trending_existing/ignored",
        "trades.min_trade/closes_filtered",
    ),
    "stage-rebalance-weekly": (
        "trading.rebalance_day/regime_change_ignored",
        "trading.rebalance_day/weekly_tuesday",
    ),
    "stage-review-at-threshold": (
        "holding_period.forced_review/late",
        "holding_period.forced_review/skipped",
        "selection.keep_threshold/open_level",
        "selection.review_threshold/ignored",
        "selection.review_threshold/strict",
    ),
    "stage-universe-at-trending": ("selection.universe/strict",),
    "volatility-scaling": (
        "sizing.volatility/ignored",
        "sizing.volatility/inverted",
    ),
}
"""The fast subset: a scenario -> the built-in mutants it must kill on its own. A cover of
every built-in mutant by cheap scenarios (greedy, by mutants killed per second of a clean
run, from a whole-library `python run.py mutate scenarios/library --json`); a new mutant
joins the slow test at once and this table by hand."""


MISSED_BY: dict[str, str] = {
    "core_asset": "core-asset-blocks-close",
    "grace_period": "grace-decay-to-expiry",
    "holding_period": "holding-period-minimum",
    "whipsaw": "whipsaw-young-close",
}
"""The fast subset of the ablation: a built-in protection -> a scenario that fails a check
without it."""


def _survivors_text(report: MutationReport) -> str:
    return "; ".join(f"{m.id} ({m.rule})" for m in report.survivors)


def test_kills_when_listed_then_every_mutant_named_once_and_each_scenario_a_library_file():
    named = [m for ids in KILLS.values() for m in ids]
    ids = {m.id for m in BUILTIN_MUTANTS}

    assert len(named) == len(set(named)) and set(named) == ids
    assert all((LIBRARY / f"{name}.yaml").is_file() for name in [*KILLS, *MISSED_BY.values()])


@pytest.mark.parametrize("scenario", sorted(KILLS))
def test_mutate_when_scenario_of_the_fast_subset_then_it_kills_its_listed_mutants(
    scenario: str, record_property: Callable[[str, object], None]
):
    report = mutate([LIBRARY / f"{scenario}.yaml"], only=set(KILLS[scenario]))
    record_property("killed", sorted(m.id for m in report.mutants if report.killers(m)))

    assert sorted(m.id for m in report.mutants) == sorted(KILLS[scenario])
    assert [r.result for r in report.clean.values()] == ["passed"]
    assert not report.survivors, f"{scenario} lets survive: {_survivors_text(report)}"


def _caught(ablations: list[Ablation]) -> dict[str, list[str]]:
    """protection -> the scenarios passing with everything on that fail without it."""
    caught: dict[str, list[str]] = {name: [] for name in BUILTIN_PROTECTIONS}
    for a in ablations:
        if a.baseline.result != "passed":
            continue  # a scenario failing with everything on proves nothing here
        for row in a.runs:
            if row.removed in caught and row.result in ("failed", "crashed"):
                caught[row.removed].append(a.scenario)
    return caught


def test_ablate_when_fast_subset_then_each_protection_missed_by_its_scenario():
    paths = [LIBRARY / f"{name}.yaml" for name in sorted(set(MISSED_BY.values()))]

    caught = _caught(ablate(paths))

    assert {
        name: scenario in caught[name] for name, scenario in MISSED_BY.items()
    } == dict.fromkeys(MISSED_BY, True)


@pytest.mark.slow
def test_mutate_when_whole_library_then_every_mutant_killed(
    record_property: Callable[[str, object], None],
):
    report = mutate(USABLE, jobs=2)
    killed, total = report.score
    record_property("score", f"{killed}/{total}")
    print(f"\nmutation: {killed}/{total} killed over {len(report.runs)} runs")
    for m in report.mutants:
        print(f"  {m.id}: {', '.join(Path(p).stem for p in report.killers(m)) or 'survived'}")

    assert report.stopped is None
    assert {p: r.result for p, r in report.clean.items()} == {str(p): "passed" for p in USABLE}
    assert {m.id for m in BUILTIN_MUTANTS} <= {m.id for m in report.mutants}
    assert killed == total, f"survivors: {_survivors_text(report)}"


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTIN_PROTECTIONS)
def test_switch_off_when_protection_removed_then_some_library_scenario_fails(
    name: str,
    library_ablation: dict[str, list[str]],
    record_property: Callable[[str, object], None],
):
    caught = library_ablation[name]
    record_property("caught_by", sorted(caught))

    assert caught, f"no library scenario fails without {name}: the library does not test it"


@pytest.fixture(scope="module")
def library_ablation() -> dict[str, list[str]]:
    """Every usable library scenario ablated (`sim.ablate`): protection -> the scenarios
    that fail without it."""
    caught = _caught(ablate(USABLE, jobs=2))
    print("\nablation: protection -> scenarios that fail without it")
    for name, scenarios in caught.items():
        print(f"  {name} ({len(scenarios)}): {', '.join(sorted(scenarios)) or '-'}")
    return caught
