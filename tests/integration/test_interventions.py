"""The scenario's manual controls, through the model: extend, revoke, mark core, set."""

import json

from domain.scenario import Holding, Intervention
from tests.integration.builders import day, make_scenario, messages, notices, run_model


def _core_book(*interventions, days=12):
    return make_scenario(
        assets=["C", "D"],
        days=days,
        portfolio={"C": Holding(0.3, day(-40), core=True)},
        interventions=interventions,
    )


def test_extend_core_when_within_limit_then_expiry_moves_and_beyond_limit_refused():
    scenario = _core_book(
        Intervention(day(1), "extend_core", asset="C", days=10, reason="conviction"),
        Intervention(day(2), "extend_core", asset="C", days=10, reason="again"),
        Intervention(day(3), "extend_core", asset="C", days=10, reason="once too often"),
    )
    _, db = run_model(scenario, core_asset_extension_limit=2, core_asset_expiry_days=30)
    extended = notices(db, "core_extended", asset="C")
    assert len(extended) == 2
    refused = notices(db, "core_extension_refused", asset="C")
    assert len(refused) == 1
    intervention_rows = messages(db, "intervention", asset="C")
    assert [r["action"] for r in intervention_rows] == ["extend_core"] * 3
    assert {r["recipient"] for r in intervention_rows} == {"core_asset"}


def test_revoke_core_when_applied_then_core_revoked_notice_and_flag_gone():
    scenario = _core_book(Intervention(day(2), "revoke_core", asset="C", reason="desk call"))
    _, db = run_model(scenario)
    assert [r["date"] for r in notices(db, "core_revoked", asset="C")] == [day(2).isoformat()]
    flags = {
        r["date"]: json.loads(r["flags"]).get("core", False)
        for r in db.query("SELECT date, flags FROM snapshots WHERE asset='C' ORDER BY step")
    }
    assert flags[day(1).isoformat()] is True and flags[day(2).isoformat()] is False


def test_set_when_applied_then_parameter_changes_from_that_day_and_is_recorded():
    scenario = make_scenario(
        assets=["A", "B"],
        days=8,
        interventions=(Intervention(day(2), "set", param="max_new_positions", value=1),),
    )
    model, db = run_model(scenario, max_new_positions=3)
    assert model.config.max_new_positions == 1
    row = messages(db, "intervention")[0]
    assert row["details"] == {
        "param": "max_new_positions",
        "value": 1,
        "reason": "manual intervention",
    }
    assert row["date"] == day(2).isoformat()


def test_set_when_dated_on_a_weekend_then_applied_next_trading_day_with_rolled_from():
    saturday = day(5)  # MONDAY + 5
    scenario = make_scenario(
        assets=["A", "B"],
        days=8,
        interventions=(Intervention(saturday, "set", param="max_new_positions", value=1),),
    )
    model, db = run_model(scenario, max_new_positions=3)
    assert model.config.max_new_positions == 1
    row = messages(db, "intervention")[0]
    assert row["date"] == day(7).isoformat()  # the Monday after
    assert row["details"]["rolled_from"] == saturday.isoformat()


def test_intervention_when_dated_on_a_trading_day_then_no_rolled_from():
    scenario = _core_book(Intervention(day(2), "revoke_core", asset="C"))
    _, db = run_model(scenario)
    assert "rolled_from" not in messages(db, "intervention", asset="C")[0]["details"]
