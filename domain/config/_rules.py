"""Diversification-mode clamps, cross-field rules, and the pipeline that applies them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from domain.config._coerce import coerce_or_issue, show, unknown_param_issue
from domain.config._errors import ConfigError, ConfigIssue
from domain.config._registry import PARAMS, REGISTRY

WEIGHT_SUM_TOLERANCE = 1e-9
"""How far technical_weight + fundamental_weight may be from 1."""


# -- diversification-mode clamps -----------------------------------------------------------------

MODE_CLAMPS: Mapping[str, tuple[tuple[str, str, float], ...]] = MappingProxyType(
    {
        "strict": (("max_bucket_allocation", "max", 0.35), ("min_buckets_represented", "min", 2)),
        "aggressive": (
            ("max_bucket_allocation", "max", 0.7),
            ("bucket_balance_tolerance", "min", 0.3),
        ),
    }
)
"""Per diversification_mode: (parameter, "max" = at most / "min" = at least, bound)."""


def apply_mode_clamps(values: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Apply the diversification-mode clamps to canonical values.

    Returns:
        The clamped values (a new dict) and one human-readable line per changed value, e.g.
        "diversification_mode=strict clamps max_bucket_allocation 0.4 -> 0.35".
    """
    out = dict(values)
    mode = out.get("diversification_mode")
    notes: list[str] = []
    for name, kind, bound in MODE_CLAMPS.get(mode, ()):
        old = out[name]
        new = min(old, bound) if kind == "max" else max(old, bound)
        new = int(new) if PARAMS[name].type == "int" else float(new)
        if new != old:
            out[name] = new
            notes.append(f"diversification_mode={mode} clamps {name} {show(old)} -> {show(new)}")
    return out, tuple(notes)


# -- cross-field rules ---------------------------------------------------------------------------


@attrs.frozen
class Rule:
    """A cross-field validation rule.

    Attributes:
        id: short id reported as `ConfigIssue.rule`.
        params: the parameters it reads.
        holds: predicate over the canonical values; True when the configuration is fine.
        describe: builds the error message from the values.
    """

    id: str
    params: tuple[str, ...]
    holds: Callable[[Mapping[str, Any]], bool] = attrs.field(eq=False)
    describe: Callable[[Mapping[str, Any]], str] = attrs.field(eq=False)


def _le(rule_id: str, low: str, high: str) -> Rule:
    return Rule(
        rule_id,
        (low, high),
        lambda v: v[low] <= v[high],
        lambda v: f"{low} ({show(v[low])}) must be <= {high} ({show(v[high])})",
    )


def _weights_sum(v: Mapping[str, Any]) -> bool:
    return abs(v["technical_weight"] + v["fundamental_weight"] - 1.0) <= WEIGHT_SUM_TOLERANCE


RULES: tuple[Rule, ...] = (
    _le("max_new_le_max_total", "max_new_positions", "max_total_positions"),
    _le("bucket_positions_le_max_total", "max_positions_per_bucket", "max_total_positions"),
    _le("min_buckets_le_max_total", "min_buckets_represented", "max_total_positions"),
    _le("max_core_le_max_total", "max_core_assets", "max_total_positions"),
    _le("min_position_le_base", "min_position_size", "base_position_size"),
    _le("base_le_max_single", "base_position_size", "max_single_position_size"),
    _le("max_single_le_target", "max_single_position_size", "target_total_allocation"),
    _le("min_score_le_new", "min_score_threshold", "min_score_new_position"),
    _le("trending_existing_le_new", "trending_confidence_existing", "trending_confidence_new"),
    _le("holding_min_le_max", "position_holding_period_min", "position_holding_period_max"),
    Rule(
        "weights_sum_to_one",
        ("technical_weight", "fundamental_weight"),
        _weights_sum,
        lambda v: (
            f"technical_weight ({show(v['technical_weight'])}) + fundamental_weight "
            f"({show(v['fundamental_weight'])}) must equal 1 "
            f"(sum {v['technical_weight'] + v['fundamental_weight']!r})"
        ),
    ),
)
"""Cross-field rules, checked after the clamps. Single-parameter ranges live in the registry."""


def _check_rules(values: Mapping[str, Any], skip: set[str]) -> list[ConfigIssue]:
    return [
        ConfigIssue(rule.params, rule.id, rule.describe(values))
        for rule in RULES
        if not skip.intersection(rule.params) and not rule.holds(values)
    ]


# -- the pipeline --------------------------------------------------------------------------------


def build_values(layers: tuple[Mapping[str, Any], ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Defaults, then each layer in order; coerce, clamp, validate.

    Returns:
        Every parameter's canonical value in registry order, and the clamp notes.

    Raises:
        ConfigError: every unknown name, bad value and broken cross-field rule.
    """
    values: dict[str, Any] = {p.name: p.default for p in REGISTRY}
    issues: list[ConfigIssue] = []
    bad: set[str] = set()
    for layer in layers:
        for name in sorted(layer, key=str):
            param = PARAMS.get(name) if isinstance(name, str) else None
            if param is None:
                issues.append(unknown_param_issue(name))
                continue
            value, issue = coerce_or_issue(param, layer[name], from_cli=False)
            if issue is not None:
                issues.append(issue)
                bad.add(name)
            else:
                values[name] = value
                bad.discard(name)
    adjustments: tuple[str, ...] = ()
    if "diversification_mode" not in bad:
        values, adjustments = apply_mode_clamps(values)
    issues.extend(_check_rules(values, bad))
    if issues:
        raise ConfigError(issues)
    return values, adjustments
