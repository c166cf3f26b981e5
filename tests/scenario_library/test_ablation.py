"""Ablation: every built-in protection is needed by the library.

For each built-in protection, every library scenario that passes with all protections on
is run again with that protection switched off; at least one of them must then fail a
check. A protection no scenario misses would be untested by the library. The table
protection -> scenarios that caught it is printed (`pytest -s`) and attached to the test
report as the `caught_by` property.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from domain.scenario import BUILTIN_PROTECTIONS, Protections, Scenario
from sim.load.document import load_scenario, unmet_requirements
from tests.scenario_library.test_library import (
    KNOWN_GAPS,
    SCENARIOS,
    failures,
    prepare,
    run_checked,
)

BUILTIN = BUILTIN_PROTECTIONS

Table = dict[str, dict[str, list[str]]]
"""protection -> scenario -> labels of the checks that failed without it."""


def _without(scenario: Scenario, name: str) -> Scenario:
    """`scenario` with the built-in protection `name` switched off, the rest unchanged."""
    enabled = {p: scenario.protections.is_enabled(p) for p in BUILTIN}
    enabled[name] = False
    return attrs.evolve(
        scenario,
        protections=Protections(enabled=enabled, custom=scenario.protections.custom),
    )


@pytest.fixture(scope="module")
def ablation(tmp_path_factory: pytest.TempPathFactory) -> Table:
    """Run the library once as it is and once per switched-off protection."""
    root = tmp_path_factory.mktemp("ablation")
    usable = [p for p in SCENARIOS if p.stem not in KNOWN_GAPS and not unmet_requirements(p)]
    table: Table = {name: {} for name in BUILTIN}
    for path in usable:
        scenario, config = prepare(path)
        if failures(run_checked(scenario, config, root / f"{path.stem}.db")):
            continue  # a scenario failing with everything on proves nothing here
        for name in BUILTIN:
            if not scenario.protections.is_enabled(name):
                continue
            db = root / f"{path.stem}-without-{name}.db"
            failed = failures(run_checked(_without(scenario, name), config, db))
            if failed:
                table[name][path.stem] = [c.label for c in failed]
    print("\nablation: protection -> scenarios that fail without it")
    for name in BUILTIN:
        print(f"  {name} ({len(table[name])}): {', '.join(sorted(table[name])) or '-'}")
    return table


def test_without_when_protection_switched_off_then_only_it_is_off():
    scenario = load_scenario(next(p for p in SCENARIOS if p.stem == "grace-vs-whipsaw"))

    off = _without(scenario, "whipsaw")

    assert {p: off.protections.is_enabled(p) for p in BUILTIN} == {
        "core_asset": True,
        "grace_period": True,
        "holding_period": True,
        "whipsaw": False,
    }
    assert off.expect == scenario.expect and off.config == scenario.config


@pytest.mark.parametrize("name", BUILTIN)
def test_switch_off_when_protection_removed_then_some_library_scenario_fails(
    name: str, ablation: Table, record_property: Callable[[str, object], None]
):
    caught = ablation[name]
    record_property("caught_by", sorted(caught))

    assert caught, f"no library scenario fails without {name}: the library does not test it"
