"""The protection registry and the tables derived from it."""

from __future__ import annotations

import pytest

from domain.protections.registry import (
    BUILTIN,
    DECIDING_SYSTEMS,
    OVERRIDE_LIFTS,
    PRIORITIES,
    ProtectionRow,
    custom_row,
    flag_labels,
)
from domain.protections.whipsaw import WhipsawProtection
from domain.scenario import BUILTIN_PROTECTIONS
from tests.unit.protection_support import config


def test_builtin_when_read_then_names_by_priority_and_loader_systems_in_table_order():
    assert BUILTIN.names == BUILTIN_PROTECTIONS
    assert BUILTIN_PROTECTIONS == ("core_asset", "grace_period", "holding_period", "whipsaw")
    assert DECIDING_SYSTEMS == (
        "core_asset",
        "regime_override",
        "grace_period",
        "holding_period",
        "whipsaw",
        "orchestrator",
    )
    assert tuple(PRIORITIES) == DECIDING_SYSTEMS[:-1]


def test_lifted_by_when_whipsaw_critical_switch_off_then_whipsaw_kept_out():
    on = BUILTIN.lifted_by("critical", config())
    off = BUILTIN.lifted_by("critical", config(regime_override_whipsaw_critical=False))

    assert on == OVERRIDE_LIFTS["critical"] == {"grace_period", "holding_period", "whipsaw"}
    assert off == {"grace_period", "holding_period"}
    assert BUILTIN.lifted_by("unheard-of", config()) == OVERRIDE_LIFTS["normal"]


def test_build_when_row_has_switch_then_protection_knows_it_and_its_priority():
    whipsaw = BUILTIN.row("whipsaw").build(config(whipsaw_protection=False))

    assert (whipsaw.name, whipsaw.priority, whipsaw.switch) == ("whipsaw", 5, "whipsaw_protection")
    assert whipsaw.switched_on() is False
    assert BUILTIN.row("grace_period").build(config()).switched_on() is True


def test_custom_row_when_added_then_sorted_by_priority_never_lifted_no_switch():
    registry = BUILTIN.with_rows([custom_row("mine", WhipsawProtection, 6, {"k": 1})])
    mine = registry.row("mine").build(config())

    assert registry.names[-1] == "mine" and registry.priorities["mine"] == 6
    assert (mine.name, mine.switch, dict(mine.options)) == ("mine", None, {"k": 1})
    assert all("mine" not in lifted for lifted in registry.override_lifts.values())


def test_registry_when_two_rows_share_a_name_then_refused():
    with pytest.raises(ValueError, match="unique"):
        BUILTIN.with_rows([ProtectionRow(WhipsawProtection, priority=9)])


def test_flag_labels_when_flags_of_every_builtin_then_labels_by_priority():
    flags = {"core": True, "core_until": "2024-03-01", "grace_day": 2, "days_held": 1}

    assert flag_labels({**flags, "whipsaw_cycles": 2}) == [
        "CORE until 2024-03-01",
        "GRACE day 2",
        "HOLD 1 day",
        "WHIPSAW 2 cycles",
    ]
    assert flag_labels({"core": True, "whipsaw_cycles": 0}) == ["CORE"]
    assert flag_labels(None) == []


def test_verdict_when_built_then_every_field_named_from_its_source():
    from domain.messages import AMEND, REDUCE, ProposalReviewed
    from tests.unit.protection_support import proposal

    ws = WhipsawProtection(config(), priority=5)
    got = ws.verdict(proposal("AAA", REDUCE, pid="7:pm:AAA"), AMEND, "why", 0.05, rule="r.x")

    assert got == ProposalReviewed(
        proposal_id="7:pm:AAA",
        asset="AAA",
        system="whipsaw",
        stance=AMEND,
        priority=5,
        reason="why",
        amended_weight=0.05,
        rule="r.x",
    )
