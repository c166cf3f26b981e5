"""The scenario's manual controls as the portfolio manager's messages (no model)."""

from __future__ import annotations

import datetime as dt

from domain.envelope import BROADCAST
from domain.interventions import intervention_messages
from domain.messages import InterventionApplied, RequestCoreDesignation
from domain.protections.registry import CORE_ASSET
from domain.scenario import Intervention

MONDAY = dt.date(2024, 3, 4)
SATURDAY = dt.date(2024, 3, 2)


def test_intervention_messages_when_set_then_broadcast_with_param_and_value():
    iv = Intervention(MONDAY, "set", param="max_new_positions", value=1, reason="calm")

    ((message, to),) = intervention_messages(iv, MONDAY, core_on=True, score=None)

    assert to == BROADCAST
    assert isinstance(message, InterventionApplied)
    assert (message.action, message.asset) == ("set", None)
    assert dict(message.details) == {"reason": "calm", "param": "max_new_positions", "value": 1}


def test_intervention_messages_when_dated_on_weekend_before_then_rolled_from_recorded():
    iv = Intervention(SATURDAY, "revoke_core", asset="SPY")

    ((message, _),) = intervention_messages(iv, MONDAY, core_on=True, score=None)

    assert message.details["rolled_from"] == "2024-03-02"


def test_intervention_messages_when_extend_core_and_core_asset_on_then_addressed_to_it():
    iv = Intervention(MONDAY, "extend_core", asset="SPY", days=30)

    ((message, to),) = intervention_messages(iv, MONDAY, core_on=True, score=None)

    assert to == CORE_ASSET
    assert dict(message.details) == {"reason": "manual intervention", "days": 30}


def test_intervention_messages_when_extend_core_and_core_asset_off_then_broadcast():
    iv = Intervention(MONDAY, "extend_core", asset="SPY", days=30)

    ((_, to),) = intervention_messages(iv, MONDAY, core_on=False, score=None)

    assert to == BROADCAST


def test_intervention_messages_when_mark_core_and_core_asset_on_then_designation_requested():
    iv = Intervention(MONDAY, "mark_core", asset="SPY", reason="anchor")

    (applied, to_applied), (request, to_request) = intervention_messages(
        iv, MONDAY, core_on=True, score=0.81
    )

    assert (applied.action, to_applied) == ("mark_core", BROADCAST)
    assert to_request == CORE_ASSET
    assert request == RequestCoreDesignation(asset="SPY", score=0.81, reason="anchor")


def test_intervention_messages_when_mark_core_and_core_asset_off_then_only_the_broadcast():
    iv = Intervention(MONDAY, "mark_core", asset="SPY")

    out = intervention_messages(iv, MONDAY, core_on=False, score=0.81)

    assert [(m.kind, to) for m, to in out] == [("intervention", BROADCAST)]
