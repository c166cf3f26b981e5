"""The typed, immutable `Config` (one field per registry parameter), `resolve`, the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from domain.config._errors import ConfigError, ConfigIssue
from domain.config._presets import PRESETS
from domain.config._registry import PARAMS, REGISTRY, suggest
from domain.config._rules import build_values

_NAMES: tuple[str, ...] = tuple(p.name for p in REGISTRY)

RebalanceFrequency = Literal["daily", "weekly", "monthly"]
DiversificationMode = Literal["strict", "balanced", "aggressive"]
PositionSizeScaling = Literal["adaptive", "equal_weight", "score_weighted", "fixed"]
ResidualStrategy = Literal["safe_top_slice", "proportional", "cash_bucket"]
RegimeSeverity = Literal["normal", "high", "critical"]


@attrs.frozen(init=False, repr=False)
class Config:
    """An immutable, always-valid configuration with one typed field per registry parameter.

    `Config(mapping, **values)` starts from the defaults, applies the given values (coerced
    as by `coerce_param`), then the diversification-mode clamps (silently: use `resolve`
    to see them reported), then the cross-field rules. Every value is of its canonical
    type (an int parameter holds an `int`, a float one a `float`), so readers need no casts.
    Equality is by value; instances are hashable.

    The fields mirror `REGISTRY`: same names in the same order, the Python type of
    `Param.type` (a choice is a `Literal` of its choices) and the registry default (a unit
    test checks every one). A field's meaning is its `Param.help` (docs/configuration.md).

    Example:
        >>> cfg = default_config().replace(grace_period_days=7)
        >>> cfg.grace_period_days
        7

    Raises:
        ConfigError: on construction with unknown names or invalid values.
    """

    # -- Time and trading
    rebalance_frequency: RebalanceFrequency = "daily"
    commission: float = 0.001
    slippage_bps: float = 0.0
    min_trade_weight: float = 0.005
    max_negotiation_rounds: int = 3
    # -- Scoring and selection
    max_total_positions: int = 10
    min_score_threshold: float = 0.6
    technical_weight: float = 0.6
    fundamental_weight: float = 0.4
    max_new_positions: int = 3
    min_score_new_position: float = 0.65
    trending_confidence_new: float = 0.7
    score_decay_factor: float = 0.95
    trending_confidence_existing: float = 0.0
    regime_change_aggression: float = 2.0
    portfolio_concentration_limit: float = 0.7
    position_holding_period_max: int = 90
    high_volatility_threshold: float = 0.3
    # -- Bucket diversification
    diversification_mode: DiversificationMode = "balanced"
    enable_bucket_diversification: bool = True
    max_positions_per_bucket: int = 4
    max_bucket_allocation: float = 0.4
    min_buckets_represented: int = 2
    allow_bucket_overflow: bool = False
    correlation_limit: float = 0.8
    correlation_window: int = 60
    bucket_balance_tolerance: float = 0.2
    force_bucket_distribution: bool = True
    bucket_override_threshold: float = 0.95
    max_bucket_overrides: int = 2
    # -- Position sizing
    position_size_scaling: PositionSizeScaling = "adaptive"
    max_single_position_size: float = 0.2
    base_position_size: float = 0.1
    target_total_allocation: float = 0.95
    min_position_size: float = 0.02
    volatility_position_scaling: bool = True
    drawdown_position_reduction: float = 0.8
    drawdown_trigger: float = 0.1
    residual_strategy: ResidualStrategy = "safe_top_slice"
    size_adjustment_factor: float = 0.8
    residual_leftover_threshold: float = 0.01
    max_residual_per_asset_pct: float = 0.05
    max_residual_position_multiple: float = 0.5
    volatility_lookback: int = 20
    # -- Core asset protection
    enable_core_asset_management: bool = True
    core_asset_override_threshold: float = 0.95
    max_core_assets: int = 3
    core_asset_expiry_days: int = 90
    core_asset_extension_limit: int = 2
    core_asset_underperformance_period: int = 30
    core_asset_underperformance_threshold: float = 0.15
    core_asset_performance_check_frequency: int = 7
    # -- Grace period
    grace_period_days: int = 5
    grace_period_decay_rate: float = 0.8
    min_decay_factor: float = 0.1
    # -- Holding period and regime override
    position_holding_period_min: int = 3
    regime_override_enabled: bool = True
    regime_severity_threshold: RegimeSeverity = "high"
    regime_override_cooldown: int = 30
    # -- Whipsaw protection
    whipsaw_protection: bool = True
    whipsaw_max_cycles: int = 1
    whipsaw_protection_days: int = 14
    whipsaw_min_duration_hours: int = 4
    regime_override_whipsaw_critical: bool = True

    def __init__(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        built, _ = build_values(({**(values or {}), **kwargs},))
        self.__attrs_init__(**built)

    @classmethod
    def _trusted(cls, values: Mapping[str, Any]) -> Config:
        """A Config of values `build_values` already checked (no second validation)."""
        obj = object.__new__(cls)
        obj.__attrs_init__(**values)
        return obj

    if not TYPE_CHECKING:  # at run time only: type checkers must still flag unknown names

        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            close = suggest(name, _NAMES)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise AttributeError(f"Config has no parameter {name!r}{hint}")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.non_defaults().items())
        return f"Config({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Config, (self.to_dict(),))

    def __copy__(self) -> Config:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Config:
        return self

    def to_dict(self) -> dict[str, Any]:
        """Every parameter and its value, in registry order."""
        return {name: getattr(self, name) for name in _NAMES}

    def non_defaults(self) -> dict[str, Any]:
        """The parameters whose value differs from the registry default, in registry order."""
        return {
            name: value for name, value in self.to_dict().items() if value != PARAMS[name].default
        }

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes` applied (coerced, mode-clamped and validated).

        Raises:
            ConfigError: every problem with the changes or the resulting combination.
        """
        built, _ = build_values((self.to_dict(), changes))
        return Config._trusted(built)


attrs.resolve_types(Config)
if tuple(f.name for f in attrs.fields(Config)) != _NAMES:  # to_dict's order is the registry's
    raise RuntimeError("Config's fields must be the registry's parameters, in registry order")

_DEFAULT = Config._trusted(build_values(())[0])


def default_config() -> Config:
    """The configuration made of every registry default."""
    return _DEFAULT


@attrs.frozen
class Resolved:
    """The outcome of `resolve`.

    Attributes:
        config: the validated configuration.
        adjustments: human-readable notes of every value the diversification-mode clamps
            changed, e.g. "diversification_mode=strict clamps max_bucket_allocation 0.4 -> 0.35".
        preset: the preset applied, or None.
    """

    config: Config
    adjustments: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    preset: str | None = None


def resolve(preset: str | None = None, overrides: Mapping[str, Any] | None = None) -> Resolved:
    """Build a configuration: defaults, then the preset's values, then `overrides`.

    Each value is coerced (`coerce_param`, strings not parsed as numbers), then the
    diversification-mode clamps are applied and reported, then the cross-field rules
    (`RULES`) are checked. All problems are collected before raising.

    Args:
        preset: a name in `PRESETS`, or None.
        overrides: parameter values that win over the preset.

    Raises:
        ConfigError: unknown preset (with did-you-mean), unknown parameter names, bad
            values, or broken cross-field rules; every issue found.
    """
    layers: list[Mapping[str, Any]] = []
    issues: list[ConfigIssue] = []
    if preset is not None:
        if preset in PRESETS:
            layers.append(PRESETS[preset])
        else:
            close = suggest(str(preset), tuple(PRESETS))
            hint = f" (did you mean {close!r}?)" if close else ""
            message = f"unknown preset {preset!r}{hint}; known: {', '.join(PRESETS)}"
            issues.append(ConfigIssue(("preset",), "unknown_preset", message))
    layers.append(overrides or {})
    try:
        built, adjustments = build_values(tuple(layers))
    except ConfigError as error:
        raise ConfigError((*issues, *error.issues)) from None
    if issues:
        raise ConfigError(issues)
    return Resolved(Config._trusted(built), adjustments, preset)
