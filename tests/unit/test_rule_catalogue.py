"""The rule catalogue: ids, owners, parameters and behaviour.md sections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.catalogue import RULES, catalogue
from domain.config import PARAMS
from domain.protections.registry import BUILTIN, ProtectionRow
from domain.protections.whipsaw import WhipsawProtection
from domain.rules import STAGES, Rule

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "behaviour.md"
ISSUE_EXAMPLES = (
    "holding_period.minimum",
    "holding_period.forced_review",
    "grace_period.decay",
    "grace_period.expiry",
    "grace_period.recovery",
    "whipsaw.window",
    "whipsaw.min_duration",
    "core_asset.expiry",
    "core_asset.extension_limit",
    "core_asset.underperformance",
    "core_asset.max_core",
    "resolution.priority",
    "resolution.regime_override",
    "resolution.override_cooldown",
    "construction.bucket_slots",
    "construction.bucket_allocation",
    "construction.min_buckets",
    "construction.correlation",
    "construction.dynamic_limits",
    "sizing.cap",
    "sizing.residual",
    "execution.sell_before_buy",
)


def test_catalogue_when_listed_then_at_least_30_unique_ids_with_the_issue_examples():
    ids = [rule.id for rule in catalogue()]

    assert len(ids) >= 30 and len(set(ids)) == len(ids)
    assert set(ISSUE_EXAMPLES) <= set(ids)
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", i) for i in ids)


def test_catalogue_when_rules_read_parameters_then_every_name_is_in_the_config_registry():
    unknown = {rule.id: p for rule in catalogue() for p in rule.params if p not in PARAMS}

    assert unknown == {}


def test_catalogue_when_owners_read_then_each_is_a_protection_or_a_stage():
    owners = {rule.owner for rule in catalogue()}

    assert owners <= set(BUILTIN.names) | set(STAGES)
    assert set(BUILTIN.names) <= owners


def test_catalogue_when_protection_declares_rules_then_it_owns_them():
    for row in BUILTIN.rows:
        assert row.cls.rules, f"{row.name} declares no rule"
        assert {rule.owner for rule in row.cls.rules} == {row.name}


def test_catalogue_when_an_id_is_declared_twice_then_refused():
    twin = Rule("sizing.cap", (), "a second cap", "5. Sizing")

    class Twin(WhipsawProtection):
        rules = (twin,)

    with pytest.raises(ValueError, match=r"sizing\.cap"):
        catalogue(BUILTIN.with_rows([ProtectionRow(Twin, priority=7, name="twin")]))


@pytest.mark.skipif(not SPEC.exists(), reason=f"needs {SPEC}")
def test_catalogue_when_sections_read_then_each_names_a_behaviour_md_section():
    text = SPEC.read_text()
    headings = re.findall(r"^## (\d+\. .+)$", text, flags=re.M)
    for rule in RULES.values():
        section, _, part = rule.section.partition(" / ")
        assert section in headings, f"{rule.id}: no section '{section}'"
        body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
        assert not part or f"**{part}**" in body, f"{rule.id}: no '{part}' in '{section}'"
