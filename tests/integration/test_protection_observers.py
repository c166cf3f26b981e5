"""Which messages a protection agent asks the bus for (`agents.protection`)."""

from __future__ import annotations

import datetime as dt

import mesa

from agents.protection import ProtectionAgent, _has_own_observe
from domain.messages import NoticeIssued, ProposeTrade, RegimeUpdated
from domain.protections.core_asset import CoreAssetProtection
from domain.protections.registry import PRIORITIES
from domain.protections.whipsaw import WhipsawProtection
from sim.run.bus import MessageBus
from tests.unit.protection_support import config


def test_has_own_observe_when_protection_keeps_default_hook_then_false():
    core = CoreAssetProtection(config(), priority=PRIORITIES["core_asset"])
    assert not _has_own_observe(core)


def test_has_own_observe_when_protection_has_own_observe_then_true():
    whipsaw = WhipsawProtection(config(), priority=PRIORITIES["whipsaw"])
    assert _has_own_observe(whipsaw)


def test_has_own_observe_when_instance_patches_observe_then_true():
    core = CoreAssetProtection(config(), priority=PRIORITIES["core_asset"])
    core.observe = lambda message, day: None
    assert _has_own_observe(core)


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


def test_agent_when_messages_published_then_protection_sees_each_after_agent_kept_it():
    whipsaw = WhipsawProtection(config(), priority=PRIORITIES["whipsaw"])
    seen: list[tuple[str, bool]] = []
    world = _World()
    agent = ProtectionAgent(world, whipsaw)
    whipsaw.observe = lambda message, day: seen.append(
        (message.KIND, message.KIND != "proposal" or "p1" in agent._proposals)
    )
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
