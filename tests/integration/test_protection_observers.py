"""Which messages a protection agent asks the bus for (`agents.protection`)."""

from __future__ import annotations

from agents.protection import _CONTEXT_KINDS, _kinds_observed
from domain.protections.core_asset import CoreAssetProtection
from domain.protections.registry import PRIORITIES
from domain.protections.whipsaw import WhipsawProtection
from tests.unit.protection_support import config


def test_kinds_observed_when_protection_keeps_default_hook_then_only_context_kinds():
    core = CoreAssetProtection(config(), priority=PRIORITIES["core_asset"])
    assert _kinds_observed(core) == _CONTEXT_KINDS
    assert {"proposal", "regime_update", "score_update"} == _CONTEXT_KINDS


def test_kinds_observed_when_protection_has_own_observe_then_every_kind():
    whipsaw = WhipsawProtection(config(), priority=PRIORITIES["whipsaw"])
    assert _kinds_observed(whipsaw) is None


def test_kinds_observed_when_instance_patches_observe_then_every_kind():
    core = CoreAssetProtection(config(), priority=PRIORITIES["core_asset"])
    core.observe = lambda message, day: None
    assert _kinds_observed(core) is None
