"""The configuration registry: every parameter, presets, validation, YAML/JSON I/O.

Pure domain code. Typical use:

    >>> from domain.config import resolve
    >>> resolved = resolve("crisis", {"grace_period_days": 3})
    >>> resolved.config.grace_period_days
    3

See docs/configuration.md for the parameter reference.
"""

from domain.config._coerce import coerce_param, coerce_value, parse_assignment
from domain.config._config import (
    Config,
    DiversificationMode,
    PositionSizeScaling,
    RebalanceFrequency,
    RegimeSeverity,
    ResidualStrategy,
    Resolved,
    default_config,
    resolve,
)
from domain.config._errors import ConfigError, ConfigIssue
from domain.config._io import (
    StrictYamlLoader,
    config_from_json,
    config_from_yaml,
    config_to_json,
    config_to_yaml,
    load_yaml,
)
from domain.config._presets import PRESETS
from domain.config._registry import (
    ALIASES,
    GROUP_TITLES,
    GROUPS,
    PARAMS,
    REGISTRY,
    TIERS,
    Param,
    params_for,
)
from domain.config._rules import MODE_CLAMPS, RULES, WEIGHT_SUM_TOLERANCE, Rule, apply_mode_clamps

__all__ = [
    "ALIASES",
    "GROUPS",
    "GROUP_TITLES",
    "MODE_CLAMPS",
    "PARAMS",
    "PRESETS",
    "REGISTRY",
    "RULES",
    "TIERS",
    "WEIGHT_SUM_TOLERANCE",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "DiversificationMode",
    "Param",
    "PositionSizeScaling",
    "RebalanceFrequency",
    "RegimeSeverity",
    "ResidualStrategy",
    "Resolved",
    "Rule",
    "StrictYamlLoader",
    "apply_mode_clamps",
    "coerce_param",
    "coerce_value",
    "config_from_json",
    "config_from_yaml",
    "config_to_json",
    "config_to_yaml",
    "default_config",
    "load_yaml",
    "params_for",
    "parse_assignment",
    "resolve",
]
