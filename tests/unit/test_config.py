"""The configuration registry: coercion, validation rules, clamps, Config, tiers, YAML/JSON."""

from __future__ import annotations

import copy
import itertools
import json
import pickle
import typing
from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.config import (
    ALIASES,
    GROUPS,
    MODE_CLAMPS,
    PARAMS,
    PRESETS,
    REGISTRY,
    RULES,
    TIERS,
    Config,
    ConfigError,
    ConfigIssue,
    Param,
    Resolved,
    apply_mode_clamps,
    coerce_param,
    coerce_value,
    config_from_json,
    config_from_yaml,
    config_to_json,
    config_to_yaml,
    default_config,
    load_yaml,
    params_for,
    parse_assignment,
    resolve,
)

# Every parameter and default named in behaviour.md and the brief.
SPEC_DEFAULTS = {
    "rebalance_frequency": "daily",
    "slippage_bps": 0.0,
    "commission": 0.001,
    "max_negotiation_rounds": 3,
    "min_trade_weight": 0.005,
    "trending_confidence_new": 0.7,
    "trending_confidence_existing": 0.0,
    "technical_weight": 0.6,
    "fundamental_weight": 0.4,
    "score_decay_factor": 0.95,
    "min_score_threshold": 0.6,
    "min_score_new_position": 0.65,
    "max_total_positions": 10,
    "max_new_positions": 3,
    "regime_change_aggression": 2.0,
    "portfolio_concentration_limit": 0.7,
    "high_volatility_threshold": 0.30,
    "position_holding_period_max": 90,
    "enable_bucket_diversification": True,
    "max_positions_per_bucket": 4,
    "allow_bucket_overflow": False,
    "max_bucket_allocation": 0.4,
    "min_buckets_represented": 2,
    "correlation_limit": 0.8,
    "correlation_window": 60,
    "diversification_mode": "balanced",
    "bucket_balance_tolerance": 0.2,
    "force_bucket_distribution": True,
    "bucket_override_threshold": 0.95,
    "max_bucket_overrides": 2,
    "position_size_scaling": "adaptive",
    "base_position_size": 0.1,
    "max_single_position_size": 0.2,
    "min_position_size": 0.02,
    "size_adjustment_factor": 0.8,
    "target_total_allocation": 0.95,
    "residual_strategy": "safe_top_slice",
    "residual_leftover_threshold": 0.01,
    "max_residual_per_asset_pct": 0.05,
    "max_residual_position_multiple": 0.5,
    "volatility_position_scaling": True,
    "volatility_lookback": 20,
    "drawdown_position_reduction": 0.8,
    "drawdown_trigger": 0.10,
    "enable_core_asset_management": True,
    "core_asset_override_threshold": 0.95,
    "max_core_assets": 3,
    "core_asset_expiry_days": 90,
    "core_asset_extension_limit": 2,
    "core_asset_performance_check_frequency": 7,
    "core_asset_underperformance_period": 30,
    "core_asset_underperformance_threshold": 0.15,
    "grace_period_days": 5,
    "grace_period_decay_rate": 0.8,
    "min_decay_factor": 0.1,
    "position_holding_period_min": 3,
    "regime_override_enabled": True,
    "regime_severity_threshold": "high",
    "regime_override_cooldown": 30,
    "whipsaw_protection": True,
    "whipsaw_max_cycles": 1,
    "whipsaw_protection_days": 14,
    "whipsaw_min_duration_hours": 4,
    "regime_override_whipsaw_critical": True,
}


def _rules_of(error: pytest.ExceptionInfo[ConfigError]) -> set[str]:
    return {issue.rule for issue in error.value.issues}


# -- registry ------------------------------------------------------------------------------------


def test_registry_when_compared_with_spec_then_every_parameter_and_default_present():
    assert {p.name: p.default for p in REGISTRY} == SPEC_DEFAULTS


def test_registry_when_defaults_inspected_then_canonical_types():
    python_type = {"bool": bool, "int": int, "float": float, "choice": str, "str": str}
    for param in REGISTRY:
        assert type(param.default) is python_type[param.type], param.name
        assert coerce_value(param, param.default) == param.default


def test_registry_when_listed_then_names_unique_and_params_maps_them():
    names = [p.name for p in REGISTRY]
    assert len(names) == len(set(names))
    assert list(PARAMS) == names


def test_registry_when_ordered_then_grouped_in_group_order():
    order = [GROUPS.index(p.group) for p in REGISTRY]
    assert order == sorted(order)
    assert {p.group for p in REGISTRY} == set(GROUPS)


def test_param_when_type_unknown_or_choices_missing_then_rejected():
    with pytest.raises(ValueError, match="unknown type"):
        Param("x", "list", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="choices"):
        Param("x", "choice", "a")
    with pytest.raises(ValueError, match="unknown tier"):
        Param("x", "int", 1, tier="novice")


def test_param_when_cli_flag_then_dashes():
    assert PARAMS["grace_period_days"].cli_flag == "--grace-period-days"


def test_range_text_when_bounds_vary_then_readable():
    assert PARAMS["max_bucket_allocation"].range_text() == "0.1..1.0"
    assert PARAMS["diversification_mode"].range_text() == "strict|balanced|aggressive"
    assert PARAMS["whipsaw_protection"].range_text() == "true|false"
    assert Param("x", "int", 1, min=1).range_text() == ">= 1"
    assert Param("x", "float", 1.0, max=2.0).range_text() == "<= 2.0"
    assert Param("x", "str", "a").range_text() == "any"


# -- tiers ---------------------------------------------------------------------------------------


def test_params_for_when_basic_then_about_ten():
    assert 8 <= len(params_for("basic")) <= 12


def test_params_for_when_intermediate_then_about_twenty_five():
    assert 20 <= len(params_for("intermediate")) <= 30


def test_params_for_when_advanced_then_at_least_forty():
    assert len(params_for("advanced")) >= 40


def test_params_for_when_expert_or_none_then_all():
    assert params_for("expert") == REGISTRY
    assert params_for() == REGISTRY


def test_params_for_when_higher_tier_then_superset_of_lower():
    for lower, higher in itertools.pairwise(TIERS):
        assert set(params_for(lower)) < set(params_for(higher))


def test_params_for_when_group_given_then_only_that_group_in_registry_order():
    buckets = params_for(group="buckets")
    assert buckets and all(p.group == "buckets" for p in buckets)
    assert list(buckets) == [p for p in REGISTRY if p.group == "buckets"]
    assert all(p.tier == "basic" for p in params_for("basic", "buckets"))


def test_params_for_when_unknown_tier_or_group_then_error_with_suggestion():
    with pytest.raises(ConfigError, match="did you mean 'advanced'"):
        params_for("advnced")
    with pytest.raises(ConfigError, match="did you mean 'whipsaw'"):
        params_for(group="whipsaws")


# -- coercion ------------------------------------------------------------------------------------


def test_coerce_when_unknown_name_then_did_you_mean():
    with pytest.raises(ConfigError) as error:
        coerce_param("grace_perod_days", 5)
    assert "did you mean 'grace_period_days'" in str(error.value)
    assert error.value.issues == (
        ConfigIssue(
            ("grace_perod_days",),
            "unknown_param",
            "unknown parameter 'grace_perod_days' (did you mean 'grace_period_days'?)",
        ),
    )


def test_coerce_when_seed_alias_then_rejected_naming_registry_name():
    for alias, name in ALIASES.items():
        assert name in PARAMS
        with pytest.raises(ConfigError, match=f"use '{name}'"):
            coerce_param(alias, PARAMS[name].default)


def test_coerce_when_int_param_gets_word_then_expected_integer():
    with pytest.raises(ConfigError, match="grace_period_days: expected an integer, got 'ten'"):
        coerce_param("grace_period_days", "ten")


def test_coerce_when_float_param_gets_word_then_expected_number():
    with pytest.raises(ConfigError, match="commission: expected a number, got 'ten'"):
        coerce_param("commission", "ten")


def test_coerce_when_numeric_string_not_from_cli_then_rejected():
    with pytest.raises(ConfigError, match="expected a number"):
        coerce_param("commission", "0.5")
    with pytest.raises(ConfigError, match="expected an integer"):
        coerce_param("grace_period_days", "7")


def test_coerce_when_numeric_string_from_cli_then_parsed():
    assert coerce_param("correlation_limit", "0.5", from_cli=True) == 0.5
    assert coerce_param("grace_period_days", "7", from_cli=True) == 7
    assert coerce_param("grace_period_days", "7.0", from_cli=True) == 7
    with pytest.raises(ConfigError, match="expected an integer"):
        coerce_param("grace_period_days", "7.5", from_cli=True)
    with pytest.raises(ConfigError, match="expected a number"):
        coerce_param("commission", "cheap", from_cli=True)


def test_coerce_when_int_param_gets_integral_float_then_int():
    value = coerce_param("grace_period_days", 5.0)
    assert value == 5 and type(value) is int


def test_coerce_when_int_param_gets_fraction_then_rejected():
    with pytest.raises(ConfigError, match=r"expected an integer, got 5\.5"):
        coerce_param("grace_period_days", 5.5)


def test_coerce_when_float_param_gets_int_then_float():
    value = coerce_param("regime_change_aggression", 3)
    assert value == 3.0 and type(value) is float


def test_coerce_when_numpy_scalars_then_python_types():
    assert type(coerce_param("grace_period_days", np.int64(6))) is int
    assert type(coerce_param("commission", np.float64(0.002))) is float


def test_coerce_when_number_param_gets_bool_then_rejected():
    with pytest.raises(ConfigError, match="expected an integer, got true"):
        coerce_param("max_total_positions", True)
    with pytest.raises(ConfigError, match="expected a number, got false"):
        coerce_param("commission", False)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_coerce_when_not_finite_then_rejected(value):
    with pytest.raises(ConfigError, match="expected a finite number"):
        coerce_param("commission", value)


@pytest.mark.parametrize("value", ["yes", "no", "on", "off", "y", "n", 1, 0, "1", None])
def test_coerce_when_bool_gets_yaml11_word_or_number_then_rejected(value):
    with pytest.raises(ConfigError, match="whipsaw_protection: expected true or false"):
        coerce_param("whipsaw_protection", value, from_cli=True)


def test_coerce_when_bool_gets_true_false_strings_then_bool():
    assert coerce_param("whipsaw_protection", "true") is True
    assert coerce_param("whipsaw_protection", "FALSE", from_cli=True) is False
    assert coerce_param("whipsaw_protection", False) is False


def test_coerce_when_out_of_range_then_message_names_range():
    with pytest.raises(ConfigError) as error:
        coerce_param("max_bucket_allocation", 1.5)
    assert error.value.issues[0].rule == "out_of_range"
    assert str(error.value) == "max_bucket_allocation: 1.5 is out of range (allowed 0.1..1.0)"


def test_coerce_when_choice_misspelt_then_choices_and_suggestion():
    with pytest.raises(ConfigError) as error:
        coerce_param("diversification_mode", "strcit")
    assert error.value.issues[0].rule == "not_in_choices"
    assert str(error.value) == (
        "diversification_mode: 'strcit' is not one of strict, balanced, aggressive "
        "(did you mean 'strict'?)"
    )


def test_coerce_when_choice_not_string_then_wrong_type():
    with pytest.raises(ConfigError, match=r"expected one of daily\|weekly\|monthly, got 7"):
        coerce_param("rebalance_frequency", 7)


def test_coerce_when_seed_choice_alias_dynamic_then_rejected():
    with pytest.raises(ConfigError, match="not one of adaptive"):
        coerce_param("position_size_scaling", "dynamic")


def test_coerce_value_when_str_param_then_accepts_only_strings():
    param = Param("label", "str", "x")
    assert coerce_value(param, "y") == "y"
    with pytest.raises(ConfigError, match="expected a string, got 3"):
        coerce_value(param, 3)


def test_parse_assignment_when_cli_text_then_name_and_value():
    assert parse_assignment("grace-period-days=7") == ("grace_period_days", 7)
    assert parse_assignment("commission = 0.002") == ("commission", 0.002)
    assert parse_assignment("whipsaw_protection=false") == ("whipsaw_protection", False)


def test_parse_assignment_when_no_equals_or_unknown_then_error():
    with pytest.raises(ConfigError, match="expected name=value"):
        parse_assignment("grace_period_days")
    with pytest.raises(ConfigError, match="did you mean 'commission'"):
        parse_assignment("comission=0.1")


# -- behaviour.md section 8 ranges (each enforced by the registry bounds) ------------------------

SPEC_RANGES = [
    ("min_buckets_represented", 1, None, 0),
    ("max_bucket_allocation", 0.1, 1.0, 0.09),
    ("max_bucket_allocation", 0.1, 1.0, 1.01),
    ("base_position_size", 0.01, 0.5, 0.009),
    ("base_position_size", 0.01, 0.5, 0.51),
    ("target_total_allocation", 0.8, 1.0, 0.79),
    ("target_total_allocation", 0.8, 1.0, 1.01),
    ("score_decay_factor", 0.5, 1.0, 0.49),
    ("score_decay_factor", 0.5, 1.0, 1.01),
    ("bucket_balance_tolerance", 0.0, 0.5, -0.01),
    ("bucket_balance_tolerance", 0.0, 0.5, 0.51),
]


@pytest.mark.parametrize(("name", "low", "high", "bad"), SPEC_RANGES)
def test_resolve_when_spec_range_broken_then_out_of_range(name, low, high, bad):
    with pytest.raises(ConfigError) as error:
        resolve(overrides={name: bad})
    assert error.value.issues[0].params == (name,)
    assert error.value.issues[0].rule == "out_of_range"
    assert coerce_param(name, low) == low
    if high is not None:
        assert coerce_param(name, high) == high


# -- cross-field rules ---------------------------------------------------------------------------

RULE_CASES = {
    "max_new_le_max_total": {"max_new_positions": 12, "max_total_positions": 10},
    "bucket_positions_le_max_total": {"max_positions_per_bucket": 6, "max_total_positions": 5},
    "min_buckets_le_max_total": {
        "min_buckets_represented": 4,
        "max_total_positions": 3,
        "max_new_positions": 3,
        "max_positions_per_bucket": 3,
    },
    "max_core_le_max_total": {
        "max_core_assets": 4,
        "max_total_positions": 3,
        "max_new_positions": 3,
        "max_positions_per_bucket": 3,
    },
    "min_position_le_base": {"min_position_size": 0.15, "base_position_size": 0.1},
    "base_le_max_single": {"base_position_size": 0.25, "max_single_position_size": 0.2},
    "max_single_le_target": {"max_single_position_size": 0.96, "target_total_allocation": 0.95},
    "min_score_le_new": {"min_score_threshold": 0.7, "min_score_new_position": 0.65},
    "trending_existing_le_new": {"trending_confidence_existing": 0.8},
    "holding_min_le_max": {"position_holding_period_min": 100},
    "weights_sum_to_one": {"technical_weight": 0.7, "fundamental_weight": 0.4},
}


def test_rules_when_listed_then_each_has_a_case():
    assert {rule.id for rule in RULES} == set(RULE_CASES)


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_resolve_when_rule_broken_then_only_that_rule_reported(rule_id):
    with pytest.raises(ConfigError) as error:
        resolve(overrides=RULE_CASES[rule_id])
    assert [issue.rule for issue in error.value.issues] == [rule_id]


def test_validate_when_max_new_above_max_total_then_message_names_values():
    with pytest.raises(ConfigError) as error:
        resolve(overrides={"max_new_positions": 12, "max_total_positions": 10})
    (issue,) = error.value.issues
    assert issue.params == ("max_new_positions", "max_total_positions")
    assert issue.message == "max_new_positions (12) must be <= max_total_positions (10)"


def test_validate_when_equal_bounds_then_accepted():
    cfg = resolve(
        overrides={"max_new_positions": 10, "min_score_threshold": 0.65, "min_position_size": 0.1}
    ).config
    assert cfg.max_new_positions == cfg.max_total_positions == 10


def test_validate_when_weights_sum_within_tolerance_then_accepted():
    cfg = resolve(overrides={"technical_weight": 0.7, "fundamental_weight": 0.3}).config
    assert cfg.technical_weight + cfg.fundamental_weight == pytest.approx(1.0)
    with pytest.raises(ConfigError, match=r"must equal 1"):
        resolve(overrides={"technical_weight": 0.7, "fundamental_weight": 0.3 + 1e-8})


def test_validate_when_many_problems_then_all_reported():
    overrides = {
        "max_new_positions": 20,
        "technical_weight": 0.9,
        "commission": "free",
        "grace_perod_days": 3,
        "diversification_mode": "wild",
    }
    with pytest.raises(ConfigError) as error:
        resolve(overrides=overrides)
    assert _rules_of(error) == {
        "max_new_le_max_total",
        "weights_sum_to_one",
        "wrong_type",
        "unknown_param",
        "not_in_choices",
    }


def test_validate_when_param_invalid_then_its_cross_rules_skipped():
    with pytest.raises(ConfigError) as error:
        resolve(overrides={"max_total_positions": 0, "max_new_positions": 12})
    # Comparing 12 with the default 10 would blame a value the user never gave.
    assert _rules_of(error) == {"out_of_range"}


# -- diversification-mode clamps -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "name", "given", "clamped"),
    [
        ("strict", "max_bucket_allocation", 0.5, 0.35),
        ("strict", "min_buckets_represented", 1, 2),
        ("aggressive", "max_bucket_allocation", 0.9, 0.7),
        ("aggressive", "bucket_balance_tolerance", 0.1, 0.3),
    ],
)
def test_resolve_when_mode_clamp_applies_then_value_clamped_and_reported(
    mode, name, given, clamped
):
    resolved = resolve(overrides={"diversification_mode": mode, name: given})
    assert getattr(resolved.config, name) == clamped
    expected = f"diversification_mode={mode} clamps {name} {given!r} -> {clamped!r}"
    assert expected in resolved.adjustments


def test_resolve_when_strict_on_defaults_then_exact_adjustment_text():
    resolved = resolve(overrides={"diversification_mode": "strict"})
    assert resolved.adjustments == (
        "diversification_mode=strict clamps max_bucket_allocation 0.4 -> 0.35",
    )


def test_resolve_when_clamp_already_satisfied_then_nothing_reported():
    resolved = resolve(overrides={"diversification_mode": "strict", "max_bucket_allocation": 0.3})
    assert resolved.adjustments == ()
    assert resolved.config.max_bucket_allocation == 0.3


def test_resolve_when_balanced_then_no_clamps():
    resolved = resolve(overrides={"max_bucket_allocation": 0.9, "bucket_balance_tolerance": 0.0})
    assert resolved.adjustments == ()
    assert resolved.config.max_bucket_allocation == 0.9


def test_clamps_when_mode_table_then_matches_spec():
    assert dict(MODE_CLAMPS) == {
        "strict": (("max_bucket_allocation", "max", 0.35), ("min_buckets_represented", "min", 2)),
        "aggressive": (
            ("max_bucket_allocation", "max", 0.7),
            ("bucket_balance_tolerance", "min", 0.3),
        ),
    }


def test_clamps_when_int_param_clamped_then_stays_int():
    values, notes = apply_mode_clamps(
        {
            **default_config().to_dict(),
            "diversification_mode": "strict",
            "min_buckets_represented": 1,
        }
    )
    assert values["min_buckets_represented"] == 2 and type(values["min_buckets_represented"]) is int
    assert len(notes) == 2


def test_resolve_when_clamp_breaks_cross_rule_then_error():
    overrides = {
        "diversification_mode": "strict",
        "max_total_positions": 1,
        "max_new_positions": 1,
        "max_positions_per_bucket": 1,
        "max_core_assets": 1,
        "min_buckets_represented": 1,
    }
    with pytest.raises(ConfigError) as error:
        resolve(overrides=overrides)
    assert _rules_of(error) == {"min_buckets_le_max_total"}


# -- resolve -------------------------------------------------------------------------------------


def test_resolve_when_nothing_given_then_defaults():
    resolved = resolve()
    assert resolved == Resolved(default_config(), (), None)


def test_resolve_when_preset_and_override_then_override_wins():
    resolved = resolve("crisis", {"max_new_positions": 2, "grace_period_days": 2})
    assert resolved.preset == "crisis"
    assert resolved.config.max_new_positions == 2
    assert resolved.config.max_total_positions == 5
    assert resolved.config.grace_period_days == 2


def test_resolve_when_unknown_preset_then_did_you_mean():
    with pytest.raises(ConfigError) as error:
        resolve("conservativ")
    assert error.value.issues[0].rule == "unknown_preset"
    assert "did you mean 'conservative'" in str(error.value)


def test_resolve_when_unknown_preset_and_bad_override_then_both_reported():
    with pytest.raises(ConfigError) as error:
        resolve("yolo", {"commission": -1.0})
    assert _rules_of(error) == {"unknown_preset", "out_of_range"}


def test_resolve_when_override_is_string_number_then_rejected():
    with pytest.raises(ConfigError, match=r"expected a number, got '0\.5'"):
        resolve(overrides={"correlation_limit": "0.5"})


# -- Config --------------------------------------------------------------------------------------

_PYTHON_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


def test_config_fields_when_compared_with_registry_then_same_names_types_and_defaults():
    fields = attrs.fields(Config)
    assert [f.name for f in fields] == [p.name for p in REGISTRY]
    for field, param in zip(fields, REGISTRY, strict=True):
        if param.type == "choice":
            assert typing.get_origin(field.type) is typing.Literal, param.name
            assert typing.get_args(field.type) == param.choices, param.name
        else:
            assert field.type is _PYTHON_TYPES[param.type], param.name
        assert type(field.default) is type(param.default), param.name
        assert field.default == param.default, param.name


def test_config_when_given_numpy_or_other_numeric_types_then_canonical_python_types():
    cfg = Config(
        grace_period_days=np.int64(7),
        max_total_positions=12.0,
        commission=np.float32(0.0625),
        slippage_bps=3,
        correlation_limit=np.float64(0.5),
    )
    for field in attrs.fields(Config):
        value = getattr(cfg, field.name)
        expected = str if typing.get_origin(field.type) is typing.Literal else field.type
        assert type(value) is expected, field.name
    assert (cfg.grace_period_days, cfg.max_total_positions, cfg.slippage_bps) == (7, 12, 3.0)


def test_config_when_mode_clamps_raise_an_int_then_still_int():
    cfg = Config(diversification_mode="strict", min_buckets_represented=1)
    assert cfg.min_buckets_represented == 2 and type(cfg.min_buckets_represented) is int
    assert type(cfg.max_bucket_allocation) is float


def test_config_when_copied_then_same_instance_and_evolve_validates():
    cfg = Config(grace_period_days=7)
    assert copy.copy(cfg) is cfg and copy.deepcopy(cfg) is cfg
    assert attrs.evolve(cfg, grace_period_days=2.0) == cfg.replace(grace_period_days=2)
    with pytest.raises(ConfigError, match="out of range"):
        attrs.evolve(cfg, grace_period_days=-1)


def test_config_when_default_then_every_attribute_is_default():
    cfg = default_config()
    for param in REGISTRY:
        assert getattr(cfg, param.name) == param.default
    assert cfg == Config()
    assert list(cfg.to_dict()) == [p.name for p in REGISTRY]


def test_config_when_replaced_then_new_value_and_original_unchanged():
    cfg = default_config()
    changed = cfg.replace(grace_period_days=7, commission=0)
    assert changed.grace_period_days == 7
    assert changed.commission == 0.0 and type(changed.commission) is float
    assert cfg.grace_period_days == 5
    assert changed.non_defaults() == {"commission": 0.0, "grace_period_days": 7}


def test_config_when_replace_invalid_then_config_error():
    with pytest.raises(ConfigError) as error:
        default_config().replace(max_new_positions=11)
    assert _rules_of(error) == {"max_new_le_max_total"}
    with pytest.raises(ConfigError, match="unknown parameter"):
        default_config().replace(nonsense=1)


def test_config_when_replace_changes_mode_then_clamps_applied():
    cfg = default_config().replace(diversification_mode="strict")
    assert cfg.max_bucket_allocation == 0.35


def test_config_when_constructed_invalid_then_error():
    with pytest.raises(ConfigError):
        Config(max_total_positions=0)
    with pytest.raises(ConfigError):
        Config({"technical_weight": 1.0})


def test_config_when_assigned_then_frozen():
    cfg = default_config()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cfg.grace_period_days = 9
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del cfg.grace_period_days


def test_config_when_unknown_attribute_then_attribute_error_with_suggestion():
    with pytest.raises(AttributeError, match="did you mean 'grace_period_days'"):
        _ = default_config().grace_period_day


def test_config_when_equal_values_then_equal_and_same_hash():
    a = Config(grace_period_days=7)
    b = default_config().replace(grace_period_days=7.0)
    assert a == b and hash(a) == hash(b)
    assert len({a, b, default_config()}) == 2
    assert a != default_config()
    assert a != a.to_dict()


def test_config_when_pickled_then_round_trips():
    cfg = resolve("aggressive").config
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_config_when_repr_then_shows_non_defaults_only():
    assert repr(default_config()) == "Config()"
    assert repr(Config(grace_period_days=7)) == "Config(grace_period_days=7)"
    assert "grace_period_days" in dir(default_config())


def test_config_error_when_pickled_then_issues_kept():
    error = ConfigError((ConfigIssue(("a",), "r", "m"),))
    again = pickle.loads(pickle.dumps(error))
    assert again.issues == error.issues and again.rules == ("r",)


# -- YAML / JSON ---------------------------------------------------------------------------------


def test_yaml_when_round_tripped_then_equal():
    cfg = Config(commission=1e-05, slippage_bps=0.1 + 0.2, grace_period_days=0)
    assert config_from_yaml(config_to_yaml(cfg)) == cfg


def test_json_when_round_tripped_then_equal():
    cfg = Config(commission=1e-05, slippage_bps=0.1 + 0.2, whipsaw_protection=False)
    assert config_from_json(config_to_json(cfg)) == cfg


def test_yaml_when_exported_then_every_parameter_in_registry_order():
    data = load_yaml(config_to_yaml(default_config()))
    assert list(data) == [p.name for p in REGISTRY]
    assert list(json.loads(config_to_json(default_config()))) == [p.name for p in REGISTRY]


def test_yaml_when_partial_then_on_top_of_defaults():
    cfg = config_from_yaml("grace_period_days: 2\ndiversification_mode: strict\n")
    assert cfg == default_config().replace(grace_period_days=2, diversification_mode="strict")
    assert config_from_yaml("") == default_config()
    assert config_from_json('{"commission": 0}') == Config(commission=0.0)


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "Yes"])
def test_yaml_when_bool_written_as_yaml11_word_then_rejected(word):
    with pytest.raises(ConfigError, match="whipsaw_protection: expected true or false"):
        config_from_yaml(f"whipsaw_protection: {word}\n")


def test_yaml_when_yaml12_scalars_then_numbers_and_bools():
    assert load_yaml("a: 1e-3\nb: True\nc: 010\nd: 1:30\ne: 0x1f\nf: -.5\ng: .inf\n") == {
        "a": 0.001,
        "b": True,
        "c": 10,
        "d": "1:30",
        "e": 31,
        "f": -0.5,
        "g": float("inf"),
    }
    assert config_from_yaml("commission: 1e-4\n").commission == 0.0001


def test_yaml_when_not_a_mapping_or_broken_then_error():
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_from_yaml("- a\n- b\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        config_from_yaml("a: [1, 2\n")
    with pytest.raises(ConfigError, match="invalid JSON"):
        config_from_json("{nope")
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_from_json("[1]")


def test_yaml_when_unknown_key_then_error_with_suggestion():
    with pytest.raises(ConfigError, match="did you mean 'max_core_assets'"):
        config_from_yaml("max_core_asset: 2\n")


def _float_in(param: Param, low: float | None = None, high: float | None = None):
    return st.floats(
        min_value=param.min if low is None else low,
        max_value=param.max if high is None else high,
        allow_nan=False,
        allow_infinity=False,
    )


@st.composite
def valid_configs(draw) -> Config:
    """Random configurations that satisfy every rule (ranges drawn from the registry)."""
    values = {}
    for param in REGISTRY:
        if param.type == "bool":
            values[param.name] = draw(st.booleans())
        elif param.type == "choice":
            values[param.name] = draw(st.sampled_from(param.choices))
        elif param.type == "int":
            values[param.name] = draw(st.integers(param.min, param.max))
        else:
            values[param.name] = draw(_float_in(param))
    v = values
    v["max_total_positions"] = total = draw(st.integers(2, 100))
    for name in ("max_new_positions", "max_positions_per_bucket", "min_buckets_represented"):
        v[name] = draw(st.integers(1, total))
    v["max_core_assets"] = draw(st.integers(0, total))
    v["fundamental_weight"] = 1.0 - v["technical_weight"]
    target = v["target_total_allocation"]
    v["max_single_position_size"] = draw(
        _float_in(PARAMS["max_single_position_size"], 0.01, target)
    )
    v["base_position_size"] = draw(
        _float_in(PARAMS["base_position_size"], 0.01, min(0.5, v["max_single_position_size"]))
    )
    v["min_position_size"] = draw(
        _float_in(PARAMS["min_position_size"], 0.0, v["base_position_size"])
    )
    v["min_score_threshold"] = draw(
        _float_in(PARAMS["min_score_threshold"], 0.0, v["min_score_new_position"])
    )
    v["trending_confidence_existing"] = draw(
        _float_in(PARAMS["trending_confidence_existing"], 0.0, v["trending_confidence_new"])
    )
    v["position_holding_period_min"] = draw(
        st.integers(0, min(365, v["position_holding_period_max"]))
    )
    return Config(v)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs())
def test_yaml_json_when_random_valid_config_then_exact_round_trip(cfg):
    from_yaml = config_from_yaml(config_to_yaml(cfg))
    from_json = config_from_json(config_to_json(cfg))
    assert from_yaml == cfg and from_json == cfg
    for name, value in cfg.to_dict().items():
        assert type(from_yaml.to_dict()[name]) is type(value)


def test_docs_when_reference_read_then_every_parameter_rule_and_preset_documented():
    text = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    missing = [p.name for p in REGISTRY if f"`{p.name}`" not in text]
    missing += [rule.id for rule in RULES if f"`{rule.id}`" not in text]
    missing += [name for name in PRESETS if f"`{name}`" not in text]
    assert missing == []
