"""A stage mutant switched in through the registry reaches every stage of a run: the model
carries it (`Registry.stages`) and the agents take their steps through it."""

from __future__ import annotations

from pathlib import Path

from domain.protections.mutants import BUILTIN_MUTANTS
from domain.stage_mutants import CommissionNotOnBuys
from domain.stages import DEFAULT_STAGES
from sim.compose import build_model, prepare

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
BY_ID = {m.id: m for m in BUILTIN_MUTANTS}


def _run(mutant_id: str | None):
    scenario, config = prepare(BASELINE)
    mutant = None if mutant_id is None else BY_ID[mutant_id]
    model = build_model(scenario, config, mutant=mutant)
    model.run()
    return model


def test_build_model_when_commission_not_on_buys_then_the_broker_charges_sells_only():
    clean = _run(None)
    broken = _run("execution.costs/commission_not_on_buys")

    assert clean.registry.stages is DEFAULT_STAGES
    assert isinstance(broken.registry.stages, CommissionNotOnBuys)
    assert broken.registry.rows == clean.registry.rows
    assert broken.broker.equity() > clean.broker.equity()


def test_build_model_when_replan_skipped_then_no_replan_request_is_published():
    scenario, config = prepare(BASELINE)
    mutant = BY_ID["resolution.replan/skipped"]
    kinds: list[str] = []
    model = build_model(scenario, config, mutant=mutant)
    model.bus.observe(lambda env: kinds.append(env.message.KIND))
    model.run()

    clean_kinds: list[str] = []
    clean = build_model(scenario, config)
    clean.bus.observe(lambda env: clean_kinds.append(env.message.KIND))
    clean.run()

    assert "replan_request" in clean_kinds
    assert "replan_request" not in kinds
