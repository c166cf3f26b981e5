"""The switch gate: one place reads a protection's switch and acts on its changes."""

from __future__ import annotations

from domain.protections.base import PositionView
from domain.protections.registry import BUILTIN
from domain.protections.switch import SwitchGate
from tests.unit.protection_support import config, day


def core_gate(**overrides):
    core = BUILTIN.row("core_asset").build(config(**overrides))
    return core, SwitchGate(core)


def book() -> dict[str, PositionView]:
    return {"AAA": PositionView("AAA", 0.2, day(-5))}


def test_first_day_when_switch_off_then_gate_closed_and_nothing_said_later():
    _, gate = core_gate(enable_core_asset_management=False)

    assert gate.first_day() is False
    assert gate.today(day(1), book) == [] and gate.on is False


def test_today_when_switch_set_off_then_switched_off_published_once():
    core, gate = core_gate()
    gate.first_day()
    core.designate("AAA", day(0), reason="desk")
    core.reconfigure(config(enable_core_asset_management=False))

    first = gate.today(day(1), book)
    second = gate.today(day(2), book)

    assert [(n.event, n.asset, n.rule) for n in first] == [
        ("core_revoked", "AAA", "core_asset.switch_off")
    ]
    assert second == [] and gate.on is False


def test_today_when_switch_set_on_then_starts_from_the_book_without_core():
    whipsaw = BUILTIN.row("whipsaw").build(config(whipsaw_protection=False))
    gate = SwitchGate(whipsaw)
    gate.first_day()
    whipsaw.reconfigure(config(whipsaw_protection=True))

    out = gate.today(day(3), book)

    assert out == [] and gate.on is True
    assert whipsaw.opened("AAA") == day(-5)


def test_today_when_core_switched_on_mid_run_then_nothing_designated():
    core, gate = core_gate(enable_core_asset_management=False)
    gate.first_day()
    core.reconfigure(config(enable_core_asset_management=True))

    assert gate.today(day(3), book) == [] and gate.on is True
    assert core.core_assets() == ()


def test_today_when_switch_unchanged_then_book_never_asked_for():
    def no_book() -> dict[str, PositionView]:
        raise AssertionError("the book is read only when the switch turns on")

    _, gate = core_gate()
    gate.first_day()

    assert gate.today(day(1), no_book) == [] and gate.on is True
