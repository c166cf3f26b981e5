"""Strategy presets: every preset validates and carries the seeds' values."""

from __future__ import annotations

import pytest

from domain.config import (
    PRESETS,
    ConfigError,
    config_from_json,
    config_from_yaml,
    config_to_json,
    config_to_yaml,
    default_config,
    resolve,
)

# Seed values (002 presets 1-5; 000 "Conservative Institutional Setup" + 004's institutional
# line; 003's allow_bucket_overflow for the same-named strategies). Documented additions are
# checked separately below.
SEED_VALUES = {
    "conservative": {
        "max_total_positions": 8,
        "max_new_positions": 2,
        "max_positions_per_bucket": 3,
        "min_buckets_represented": 3,
        "max_bucket_allocation": 0.35,
        "position_size_scaling": "equal_weight",
        "base_position_size": 0.12,
        "diversification_mode": "strict",
        "min_score_threshold": 0.65,
        "min_score_new_position": 0.7,
        "allow_bucket_overflow": False,
    },
    "aggressive": {
        "max_total_positions": 12,
        "max_new_positions": 5,
        "max_positions_per_bucket": 6,
        "max_bucket_allocation": 0.6,
        "position_size_scaling": "score_weighted",
        "max_single_position_size": 0.25,
        "regime_change_aggression": 3.0,
        "diversification_mode": "aggressive",
        "min_score_threshold": 0.55,
        "trending_confidence_new": 0.8,
        "allow_bucket_overflow": True,
    },
    "adaptive": {
        "max_total_positions": 10,
        "max_new_positions": 3,
        "max_positions_per_bucket": 4,
        "min_buckets_represented": 2,
        "max_bucket_allocation": 0.4,
        "position_size_scaling": "adaptive",
        "regime_change_aggression": 2.5,
        "diversification_mode": "balanced",
        "volatility_position_scaling": True,
        "bucket_balance_tolerance": 0.15,
    },
    "institutional": {
        "enable_core_asset_management": True,
        "core_asset_override_threshold": 0.97,
        "core_asset_expiry_days": 60,
        "core_asset_underperformance_threshold": 0.10,
        "core_asset_underperformance_period": 21,
        "max_core_assets": 2,
        "core_asset_extension_limit": 1,
        "max_total_positions": 10,
        "rebalance_frequency": "daily",
    },
    "momentum": {
        "max_total_positions": 6,
        "max_new_positions": 4,
        "max_positions_per_bucket": 5,
        "position_size_scaling": "score_weighted",
        "max_single_position_size": 0.3,
        "trending_confidence_new": 0.85,
        "min_score_new_position": 0.75,
        "position_holding_period_min": 7,
        "score_decay_factor": 0.98,
    },
    "crisis": {
        "max_total_positions": 5,
        "max_new_positions": 1,
        "max_positions_per_bucket": 2,
        "min_buckets_represented": 3,
        "position_size_scaling": "equal_weight",
        "base_position_size": 0.18,
        "diversification_mode": "strict",
        "min_score_threshold": 0.7,
        "drawdown_position_reduction": 0.6,
    },
}


def test_presets_when_listed_then_exactly_the_six_spec_names():
    assert set(PRESETS) == {
        "conservative",
        "aggressive",
        "adaptive",
        "institutional",
        "momentum",
        "crisis",
    }


@pytest.mark.parametrize("name", sorted(SEED_VALUES))
def test_resolve_when_preset_then_validates_with_seed_values(name):
    resolved = resolve(name)
    assert resolved.preset == name
    cfg = resolved.config
    for param, value in SEED_VALUES[name].items():
        assert getattr(cfg, param) == value, param


@pytest.mark.parametrize("name", sorted(SEED_VALUES))
def test_preset_when_compared_with_seed_then_only_documented_additions(name):
    additions = set(PRESETS[name]) - set(SEED_VALUES[name])
    assert additions == ({"min_score_new_position"} if name == "crisis" else set())


def test_resolve_when_crisis_then_open_threshold_raised_to_keep_threshold():
    cfg = resolve("crisis").config
    assert cfg.min_score_new_position == cfg.min_score_threshold == 0.7
    with pytest.raises(ConfigError) as error:
        resolve(overrides={**PRESETS["crisis"], "min_score_new_position": 0.65})
    assert [issue.rule for issue in error.value.issues] == ["min_score_le_new"]


def test_resolve_when_crisis_then_strict_clamp_reported():
    resolved = resolve("crisis")
    assert resolved.config.max_bucket_allocation == 0.35
    assert resolved.adjustments == (
        "diversification_mode=strict clamps max_bucket_allocation 0.4 -> 0.35",
    )


def test_resolve_when_aggressive_then_tolerance_clamp_reported():
    resolved = resolve("aggressive")
    assert resolved.config.bucket_balance_tolerance == 0.3
    assert resolved.adjustments == (
        "diversification_mode=aggressive clamps bucket_balance_tolerance 0.2 -> 0.3",
    )


@pytest.mark.parametrize("name", ["conservative", "adaptive", "institutional", "momentum"])
def test_resolve_when_preset_self_consistent_then_no_adjustments(name):
    assert resolve(name).adjustments == ()


@pytest.mark.parametrize("name", sorted(SEED_VALUES))
def test_preset_when_exported_then_round_trips(name):
    cfg = resolve(name).config
    assert config_from_yaml(config_to_yaml(cfg)) == cfg
    assert config_from_json(config_to_json(cfg)) == cfg


def test_presets_when_resolved_then_all_distinct_from_defaults_and_each_other():
    configs = {resolve(name).config for name in PRESETS}
    assert len(configs) == len(PRESETS)
    assert default_config() not in configs


def test_presets_when_mutated_then_refused():
    with pytest.raises(TypeError):
        PRESETS["crisis"]["max_total_positions"] = 50  # type: ignore[index]
    with pytest.raises(TypeError):
        PRESETS["yolo"] = {}  # type: ignore[index]
