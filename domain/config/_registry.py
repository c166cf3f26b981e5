"""The parameter registry: every configurable parameter with its type, default and range."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

from domain.config._errors import ConfigError, ConfigIssue

ParamType = Literal["bool", "int", "float", "str", "choice"]

TIERS: tuple[str, ...] = ("basic", "intermediate", "advanced", "expert")
"""Disclosure tiers, cumulative: a tier shows its own parameters and those of every lower tier."""

GROUPS: tuple[str, ...] = (
    "trading",
    "selection",
    "buckets",
    "sizing",
    "core_asset",
    "grace",
    "holding",
    "whipsaw",
)
"""Parameter groups in display order."""

GROUP_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "trading": "Time and trading",
        "selection": "Scoring and selection",
        "buckets": "Bucket diversification",
        "sizing": "Position sizing",
        "core_asset": "Core asset protection",
        "grace": "Grace period",
        "holding": "Holding period and regime override",
        "whipsaw": "Whipsaw protection",
    }
)

_TYPES = ("bool", "int", "float", "str", "choice")


@attrs.frozen
class Param:
    """One configurable parameter.

    Attributes:
        name: snake_case registry name (the CLI spells it with dashes).
        type: "bool", "int", "float", "str" or "choice".
        default: the default value (already of the canonical Python type).
        min: inclusive lower bound for numbers, None when unbounded.
        max: inclusive upper bound for numbers, None when unbounded.
        choices: allowed values of a "choice" parameter (empty otherwise).
        tier: the lowest disclosure tier that shows the parameter.
        group: the group the parameter belongs to (one of `GROUPS`).
        help: one-line description.
    """

    name: str
    type: ParamType
    default: Any
    min: float | int | None = None
    max: float | int | None = None
    choices: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    tier: str = "expert"
    group: str = "trading"
    help: str = ""

    def __attrs_post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"{self.name}: unknown type {self.type!r}")
        if self.tier not in TIERS:
            raise ValueError(f"{self.name}: unknown tier {self.tier!r}")
        if self.group not in GROUPS:
            raise ValueError(f"{self.name}: unknown group {self.group!r}")
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"{self.name}: choices are required for, and only for, 'choice'")

    @property
    def cli_flag(self) -> str:
        """The command-line spelling, e.g. `--grace-period-days`."""
        return "--" + self.name.replace("_", "-")

    def range_text(self) -> str:
        """Human-readable allowed values, e.g. "0.1..1", ">= 1", "daily|weekly|monthly"."""
        if self.type == "choice":
            return "|".join(self.choices)
        if self.type == "bool":
            return "true|false"
        if self.min is not None and self.max is not None:
            return f"{_fmt(self.min)}..{_fmt(self.max)}"
        if self.min is not None:
            return f">= {_fmt(self.min)}"
        if self.max is not None:
            return f"<= {_fmt(self.max)}"
        return "any"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _p(
    name: str,
    type_: ParamType,
    default: Any,
    lo: Any,
    hi: Any,
    tier: str,
    group: str,
    help_: str,
    choices: tuple[str, ...] = (),
) -> Param:
    return Param(name, type_, default, lo, hi, choices, tier, group, help_)


_B, _I, _A, _E = TIERS

# Positional: name, type, default, min, max, tier, group, help[, choices].

REGISTRY: tuple[Param, ...] = (
    # -- Time and trading --------------------------------------------------------------------
    _p("rebalance_frequency", "choice", "daily", None, None, _B, "trading",
       "How often the portfolio manager proposes a rebalance (housekeeping runs daily).",
       ("daily", "weekly", "monthly")),
    _p("commission", "float", 0.001, 0.0, 0.1, _I, "trading",
       "Commission as a fraction of traded notional."),
    _p("slippage_bps", "float", 0.0, 0.0, 1000.0, _A, "trading",
       "Slippage in basis points added to buys and taken from sells at the close."),
    _p("min_trade_weight", "float", 0.005, 0.0, 0.1, _E, "trading",
       "A change of target weight smaller than this is not proposed."),
    _p("max_negotiation_rounds", "int", 3, 0, 10, _E, "trading",
       "Re-planning rounds per step after blocks free slots or weight."),
    # -- Scoring and selection ---------------------------------------------------------------
    _p("max_total_positions", "int", 10, 1, 100, _B, "selection",
       "Maximum number of positions in the portfolio."),
    _p("min_score_threshold", "float", 0.6, 0.0, 1.0, _B, "selection",
       "Minimum score to keep a holding."),
    _p("technical_weight", "float", 0.6, 0.0, 1.0, _B, "selection",
       "Weight of the technical score (technical + fundamental weights = 1)."),
    _p("fundamental_weight", "float", 0.4, 0.0, 1.0, _B, "selection",
       "Weight of the fundamental score (technical + fundamental weights = 1)."),
    _p("max_new_positions", "int", 3, 1, 100, _I, "selection",
       "Maximum new positions opened per rebalance."),
    _p("min_score_new_position", "float", 0.65, 0.0, 1.0, _I, "selection",
       "Minimum score to open a new position (and to survive the forced review)."),
    _p("trending_confidence_new", "float", 0.7, 0.0, 1.0, _I, "selection",
       "Trending confidence a non-held asset needs to enter the universe."),
    _p("score_decay_factor", "float", 0.95, 0.5, 1.0, _I, "selection",
       "Ranking-score multiplier per 30 days held (threshold checks use the undecayed score)."),
    _p("trending_confidence_existing", "float", 0.0, 0.0, 1.0, _A, "selection",
       "Trending confidence applied to holdings (0 = always re-scored)."),
    _p("regime_change_aggression", "float", 2.0, 1.0, 10.0, _A, "selection",
       "Multiplier of max_new_positions on a regime change (max_total x 1.2)."),
    _p("portfolio_concentration_limit", "float", 0.7, 0.1, 1.0, _A, "selection",
       "Largest-bucket share of the portfolio above which diversification is forced."),
    _p("position_holding_period_max", "int", 90, 1, 3650, _A, "selection",
       "Days after which a holding gets a forced review against min_score_new_position."),
    _p("high_volatility_threshold", "float", 0.30, 0.01, 5.0, _E, "selection",
       "Annualised 20-day volatility of the equal-weighted market above which max_new halves."),
    # -- Bucket diversification --------------------------------------------------------------
    _p("diversification_mode", "choice", "balanced", None, None, _B, "buckets",
       "strict clamps max_bucket_allocation <= 0.35 and min_buckets_represented >= 2; "
       "aggressive clamps max_bucket_allocation <= 0.7 and bucket_balance_tolerance >= 0.3.",
       ("strict", "balanced", "aggressive")),
    _p("enable_bucket_diversification", "bool", True, None, None, _I, "buckets",
       "Enforce bucket slot, allocation and representation limits."),
    _p("max_positions_per_bucket", "int", 4, 1, 100, _I, "buckets",
       "Maximum positions in any one bucket."),
    _p("max_bucket_allocation", "float", 0.4, 0.1, 1.0, _I, "buckets",
       "Maximum fraction of equity in any one bucket."),
    _p("min_buckets_represented", "int", 2, 1, 100, _I, "buckets",
       "Minimum number of buckets the portfolio must hold."),
    _p("allow_bucket_overflow", "bool", False, None, None, _A, "buckets",
       "When true, holdings are exempt from bucket slot limits (kept above the limit)."),
    _p("correlation_limit", "float", 0.8, 0.0, 1.0, _A, "buckets",
       "Within a bucket, drop a candidate whose |correlation| with a better one exceeds this."),
    _p("correlation_window", "int", 60, 5, 1000, _A, "buckets",
       "Days of returns used for the correlation check."),
    _p("bucket_balance_tolerance", "float", 0.2, 0.0, 0.5, _A, "buckets",
       "Tolerated imbalance between bucket allocations."),
    _p("force_bucket_distribution", "bool", True, None, None, _A, "buckets",
       "Force distribution of positions across buckets."),
    _p("bucket_override_threshold", "float", 0.95, 0.0, 1.0, _A, "buckets",
       "Score at which an asset may exceed its bucket's limits (smart override)."),
    _p("max_bucket_overrides", "int", 2, 0, 100, _A, "buckets",
       "Maximum smart bucket overrides per rebalance."),
    # -- Position sizing ---------------------------------------------------------------------
    _p("position_size_scaling", "choice", "adaptive", None, None, _B, "sizing",
       "How raw weights are derived from scores before caps and normalisation.",
       ("adaptive", "equal_weight", "score_weighted", "fixed")),
    _p("max_single_position_size", "float", 0.2, 0.01, 1.0, _B, "sizing",
       "Cap on any single (non-core) position, as a fraction of equity."),
    _p("base_position_size", "float", 0.1, 0.01, 0.5, _I, "sizing",
       "Base position size (used by fixed scaling)."),
    _p("target_total_allocation", "float", 0.95, 0.8, 1.0, _I, "sizing",
       "Target invested fraction of equity (the rest is cash)."),
    _p("min_position_size", "float", 0.02, 0.0, 0.5, _A, "sizing",
       "Smallest viable position."),
    _p("volatility_position_scaling", "bool", True, None, None, _A, "sizing",
       "Scale raw weights inversely to recent volatility before the caps."),
    _p("drawdown_position_reduction", "float", 0.8, 0.0, 1.0, _A, "sizing",
       "Multiplier applied to targets while portfolio drawdown exceeds drawdown_trigger."),
    _p("drawdown_trigger", "float", 0.10, 0.0, 1.0, _A, "sizing",
       "Portfolio drawdown above which drawdown_position_reduction applies."),
    _p("residual_strategy", "choice", "safe_top_slice", None, None, _A, "sizing",
       "Where unallocated target weight goes.",
       ("safe_top_slice", "proportional", "cash_bucket")),
    _p("size_adjustment_factor", "float", 0.8, 0.1, 1.0, _E, "sizing",
       "Factor to adjust sizes when opening more positions."),
    _p("residual_leftover_threshold", "float", 0.01, 0.0, 0.2, _E, "sizing",
       "Residual below this is left in cash."),
    _p("max_residual_per_asset_pct", "float", 0.05, 0.0, 0.5, _E, "sizing",
       "Largest residual addition to one position, as a fraction of equity."),
    _p("max_residual_position_multiple", "float", 0.5, 0.0, 5.0, _E, "sizing",
       "Largest residual addition to one position, as a multiple of its size."),
    _p("volatility_lookback", "int", 20, 2, 260, _E, "sizing",
       "Days of returns used for volatility scaling."),
    # -- Core asset --------------------------------------------------------------------------
    _p("enable_core_asset_management", "bool", True, None, None, _B, "core_asset",
       "Enable core-asset designation, immunity and lifecycle."),
    _p("core_asset_override_threshold", "float", 0.95, 0.0, 1.0, _I, "core_asset",
       "Score at which a bucket override requests core designation."),
    _p("max_core_assets", "int", 3, 0, 100, _I, "core_asset",
       "Maximum simultaneous core assets (further requests are refused)."),
    _p("core_asset_expiry_days", "int", 90, 1, 3650, _A, "core_asset",
       "Days after which a core designation expires."),
    _p("core_asset_extension_limit", "int", 2, 0, 100, _A, "core_asset",
       "Maximum extensions per core asset."),
    _p("core_asset_underperformance_period", "int", 30, 1, 3650, _A, "core_asset",
       "Days over which a core asset's return is compared with its bucket."),
    _p("core_asset_underperformance_threshold", "float", 0.15, 0.0, 1.0, _A, "core_asset",
       "Underperformance against the bucket average that revokes core status."),
    _p("core_asset_performance_check_frequency", "int", 7, 1, 365, _E, "core_asset",
       "Days between core performance checks."),
    # -- Grace period ------------------------------------------------------------------------
    _p("grace_period_days", "int", 5, 0, 365, _B, "grace",
       "Days a weak non-core holding decays before it is closed (0 = close at once)."),
    _p("grace_period_decay_rate", "float", 0.8, 0.0, 1.0, _A, "grace",
       "Size multiplier per day in grace."),
    _p("min_decay_factor", "float", 0.1, 0.0, 1.0, _A, "grace",
       "Floor of the decayed size, as a fraction of the size at grace start."),
    # -- Holding period ----------------------------------------------------------------------
    _p("position_holding_period_min", "int", 3, 0, 365, _I, "holding",
       "Days before which close, reduce and increase are blocked."),
    _p("regime_override_enabled", "bool", True, None, None, _A, "holding",
       "Let a severe regime change lift holding-period blocks."),
    _p("regime_severity_threshold", "choice", "high", None, None, _A, "holding",
       "Minimum severity of a regime change that lifts holding-period blocks.",
       ("normal", "high", "critical")),
    _p("regime_override_cooldown", "int", 30, 0, 3650, _E, "holding",
       "Days between regime overrides for the same asset."),
    # -- Whipsaw -----------------------------------------------------------------------------
    _p("whipsaw_protection", "bool", True, None, None, _I, "whipsaw",
       "Block rapid open/close cycling."),
    _p("whipsaw_max_cycles", "int", 1, 1, 100, _A, "whipsaw",
       "Completed open->close cycles in the window that block a new open."),
    _p("whipsaw_protection_days", "int", 14, 1, 365, _A, "whipsaw",
       "Window of the cycle count, in days."),
    _p("whipsaw_min_duration_hours", "int", 4, 0, 8760, _E, "whipsaw",
       "A close is blocked while the position is younger than this."),
    _p("regime_override_whipsaw_critical", "bool", True, None, None, _E, "whipsaw",
       "A critical regime change also overrides whipsaw blocks."),
)  # fmt: skip
"""Every parameter, in the documented order: by group (`GROUPS`), then by tier within a group."""

PARAMS: Mapping[str, Param] = MappingProxyType({p.name: p for p in REGISTRY})
"""Registry lookup by name."""

ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "target_portfolio_allocation": "target_total_allocation",
        "max_new_positions_per_rebalance": "max_new_positions",
        "max_allocation_per_bucket": "max_bucket_allocation",
        "max_assets": "max_total_positions",
        "min_score": "min_score_threshold",
        "rebalance_freq": "rebalance_frequency",
        "enable_core_assets": "enable_core_asset_management",
        "core_override_threshold": "core_asset_override_threshold",
        "core_expiry_days": "core_asset_expiry_days",
        "core_extension_limit": "core_asset_extension_limit",
        "core_underperformance_threshold": "core_asset_underperformance_threshold",
        "core_underperformance_period": "core_asset_underperformance_period",
        "core_performance_check_frequency": "core_asset_performance_check_frequency",
        "smart_diversification_overrides": "max_bucket_overrides",
        "whipsaw_min_duration": "whipsaw_min_duration_hours",
    }
)
"""Names the seeds use for registry parameters. They are NOT accepted; errors point to the
registry name."""


def suggest(word: str, candidates: tuple[str, ...] | list[str]) -> str | None:
    """Return the closest candidate to `word` (difflib), or None when nothing is close."""
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def params_for(tier: str | None = None, group: str | None = None) -> tuple[Param, ...]:
    """Parameters shown at `tier` (cumulative) and in `group`, in registry order.

    Args:
        tier: one of `TIERS`; None means every parameter (same as "expert").
        group: one of `GROUPS`; None means every group.

    Raises:
        ConfigError: unknown tier or group (message with a did-you-mean suggestion).
    """
    issues = []
    if tier is not None and tier not in TIERS:
        issues.append(ConfigIssue(("tier",), "unknown_tier", _unknown("tier", tier, TIERS)))
    if group is not None and group not in GROUPS:
        issues.append(ConfigIssue(("group",), "unknown_group", _unknown("group", group, GROUPS)))
    if issues:
        raise ConfigError(issues)
    level = TIERS.index(tier) if tier is not None else len(TIERS) - 1
    return tuple(
        p for p in REGISTRY if TIERS.index(p.tier) <= level and (group is None or p.group == group)
    )


def _unknown(kind: str, value: str, known: tuple[str, ...]) -> str:
    hint = suggest(value, known)
    did = f" (did you mean {hint!r}?)" if hint else ""
    return f"unknown {kind} {value!r}{did}; known: {', '.join(known)}"
