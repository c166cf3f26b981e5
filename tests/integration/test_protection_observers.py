"""Which messages a protection agent asks the bus for (`agents.protection`)."""

from __future__ import annotations

import datetime as dt

import mesa

from agents.protection import ProtectionAgent, _kinds_fed
from domain.messages import NoticeIssued, ProposeTrade, RegimeUpdated, TradeFilled
from domain.protections.base import Protection
from domain.protections.core_asset import CoreAssetProtection
from domain.protections.grace_period import GracePeriodProtection
from domain.protections.registry import PRIORITIES
from domain.protections.whipsaw import WhipsawProtection
from sim.run.bus import MessageBus
from tests.unit.protection_support import config


def test_kinds_fed_when_protection_keeps_default_hook_then_none():
    core = CoreAssetProtection(config(), priority=PRIORITIES["core_asset"])
    assert _kinds_fed(core) == frozenset()


def test_kinds_fed_when_protection_declares_observes_then_those_kinds():
    whipsaw = WhipsawProtection(config(), priority=PRIORITIES["whipsaw"])
    assert _kinds_fed(whipsaw) == {"fill"}
    grace = GracePeriodProtection(config(), priority=PRIORITIES["grace_period"])
    assert _kinds_fed(grace) == {"fill", "notice"}


def test_kinds_fed_when_instance_patches_observe_then_every_kind():
    core = CoreAssetProtection(config(), priority=PRIORITIES["core_asset"])
    core.observe = lambda message, day: None
    assert _kinds_fed(core) is None


def test_kinds_fed_when_subclass_overrides_observe_without_observes_then_every_kind():
    class Watcher(WhipsawProtection):
        def observe(self, message, day):
            super().observe(message, day)

    class Narrow(Watcher):
        observes = frozenset({"decision"})

    class Declared(WhipsawProtection):
        observes = frozenset({"decision"})

    assert _kinds_fed(Watcher(config(), priority=6)) is None
    assert _kinds_fed(Narrow(config(), priority=6)) is None  # observes beside no observe
    assert _kinds_fed(Declared(config(), priority=6)) == {"fill"}


def test_kinds_fed_when_custom_protection_defines_observe_then_every_kind():
    class Custom(Protection):
        name = "custom_watch"

        def observe(self, message, day):
            pass

        def review(self, proposal, ctx):
            return self.verdict(proposal, "approve", "ok")

    assert _kinds_fed(Custom(config(), priority=6)) is None


class _World(mesa.Model):
    """The little of the model a protection agent reads when it is built."""

    def __init__(self) -> None:
        super().__init__(rng=0)
        self.bus = MessageBus()
        self.bus.begin_step(0, dt.date(2024, 1, 2))


def _proposal(pid: str) -> ProposeTrade:
    return ProposeTrade(
        proposal_id=pid,
        asset="A",
        action="open",
        from_weight=0.0,
        to_weight=0.1,
        score=0.7,
        reason="r",
        origin="pm",
    )


def test_agent_when_messages_published_then_protection_sees_its_kinds_after_agent_kept_them():
    class Watcher(WhipsawProtection):
        observes = None  # every kind, beside the observe that records them

        def observe(self, message, day):
            seen.append((message.KIND, message.KIND != "proposal" or "p1" in agent._proposals))

    seen: list[tuple[str, bool]] = []
    world = _World()
    agent = ProtectionAgent(world, Watcher(config(), priority=6))
    regime = RegimeUpdated(
        regime="Goldilocks",
        previous=None,
        changed=False,
        severity="normal",
        confidence=1.0,
        stability=1.0,
    )
    world.bus.publish("pm", _proposal("p1"))
    world.bus.publish("rp", regime)
    world.bus.publish("pm", NoticeIssued(event="e"))
    assert seen == [("proposal", True), ("regime_update", True), ("notice", True)]
    assert agent._regime is regime and list(agent._proposals) == ["p1"]


def test_agent_when_protection_declares_fills_then_only_fills_reach_it():
    class FillWatcher(WhipsawProtection):
        observes = frozenset({"fill"})

        def observe(self, message, day):
            seen.append(message.KIND)

    seen: list[str] = []
    world = _World()
    ProtectionAgent(world, FillWatcher(config(), priority=6))
    world.bus.publish("pm", _proposal("p1"))
    world.bus.publish("pm", NoticeIssued(event="e"))
    world.bus.publish(
        "broker",
        TradeFilled(
            proposal_id="p1",
            asset="A",
            side="buy",
            quantity=1.0,
            price=10.0,
            notional=10.0,
            commission=0.0,
            weight_after=0.1,
            requested_quantity=1.0,
        ),
    )
    assert seen == ["fill"]
