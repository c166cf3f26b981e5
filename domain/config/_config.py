"""The immutable `Config`, value coercion, diversification-mode clamps, validation, `resolve`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from domain.config._errors import ConfigError, ConfigIssue
from domain.config._presets import PRESETS
from domain.config._registry import ALIASES, PARAMS, REGISTRY, Param, suggest

_NAMES: tuple[str, ...] = tuple(p.name for p in REGISTRY)
_INDEX: Mapping[str, int] = MappingProxyType({name: i for i, name in enumerate(_NAMES)})

WEIGHT_SUM_TOLERANCE = 1e-9
"""How far technical_weight + fundamental_weight may be from 1."""

_BOOL_STRINGS = {"true": True, "false": False}


# -- coercion ------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return repr(value)


def _unknown_param_issue(name: Any) -> ConfigIssue:
    text = str(name)
    if text in ALIASES:
        hint = f" (the seeds' name for {ALIASES[text]!r}; use {ALIASES[text]!r})"
    else:
        close = suggest(text, _NAMES)
        hint = f" (did you mean {close!r}?)" if close else ""
    return ConfigIssue((text,), "unknown_param", f"unknown parameter {text!r}{hint}")


def _wrong_type(param: Param, expected: str, value: Any) -> ConfigIssue:
    return ConfigIssue(
        (param.name,), "wrong_type", f"{param.name}: expected {expected}, got {_show(value)}"
    )


def _coerce(param: Param, value: Any, from_cli: bool) -> tuple[Any, ConfigIssue | None]:
    """Return (canonical value, None) or (None, issue)."""
    kind = param.type
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.strip().lower() in _BOOL_STRINGS:
            return _BOOL_STRINGS[value.strip().lower()], None
        return None, _wrong_type(param, "true or false", value)
    if kind in ("str", "choice"):
        if not isinstance(value, str):
            expected = "one of " + "|".join(param.choices) if kind == "choice" else "a string"
            return None, _wrong_type(param, expected, value)
        if kind == "choice" and value not in param.choices:
            close = suggest(value, param.choices)
            hint = f" (did you mean {close!r}?)" if close else ""
            message = f"{param.name}: {value!r} is not one of {', '.join(param.choices)}{hint}"
            return None, ConfigIssue((param.name,), "not_in_choices", message)
        return value, None
    number = _number(value, from_cli)
    if number is None:
        expected = "an integer" if kind == "int" else "a number"
        return None, _wrong_type(param, expected, value)
    if not math.isfinite(number):
        return None, _wrong_type(param, "a finite number", value)
    if kind == "int":
        if isinstance(number, float):
            if not number.is_integer():
                return None, _wrong_type(param, "an integer", value)
            number = int(number)
    else:
        number = float(number)
    low, high = param.min, param.max
    if (low is not None and number < low) or (high is not None and number > high):
        return None, ConfigIssue(
            (param.name,),
            "out_of_range",
            f"{param.name}: {_show(number)} is out of range (allowed {param.range_text()})",
        )
    return number, None


def _number(value: Any, from_cli: bool) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if from_cli and isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            return None
    return None


def coerce_value(param: Param, value: Any, *, from_cli: bool = False) -> Any:
    """Check and canonicalise one value for `param` (see `coerce_param`).

    Raises:
        ConfigError: with one issue ("wrong_type", "out_of_range" or "not_in_choices").
    """
    result, issue = _coerce(param, value, from_cli)
    if issue is not None:
        raise ConfigError((issue,))
    return result


def coerce_param(name: str, value: Any, *, from_cli: bool = False) -> Any:
    """Check one parameter value and return it in canonical form.

    Bools accept True/False and the strings "true"/"false" (any case), never "yes"/"on"/1.
    Ints accept integers and integral floats (5.0 -> 5), not 5.5. Floats accept ints and
    floats (returned as float); NaN and infinities are rejected. Strings are parsed as
    numbers only with `from_cli=True` ("0.5" -> 0.5, as typed after `--set name=`).
    Choices must be one of the registry's choices, exactly.

    Args:
        name: registry name.
        value: the value to check.
        from_cli: parse numeric strings (command-line input).

    Returns:
        The canonical value (bool, int, float or str).

    Raises:
        ConfigError: unknown name (with a did-you-mean suggestion), wrong type, out of
            range or not one of the choices; the message names the range or the choices.
    """
    param = PARAMS.get(name) if isinstance(name, str) else None
    if param is None:
        raise ConfigError((_unknown_param_issue(name),))
    return coerce_value(param, value, from_cli=from_cli)


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a command-line `name=value` (as given to `--set`) into (name, coerced value).

    Dashes in the name are read as underscores (`grace-period-days=7` works).

    Raises:
        ConfigError: no "=", unknown name, or a bad value.
    """
    name, sep, raw = text.partition("=")
    if not sep:
        issue = ConfigIssue((text,), "bad_assignment", f"expected name=value, got {text!r}")
        raise ConfigError((issue,))
    name = name.strip().replace("-", "_")
    return name, coerce_param(name, raw.strip(), from_cli=True)


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
            notes.append(f"diversification_mode={mode} clamps {name} {_show(old)} -> {_show(new)}")
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
        lambda v: f"{low} ({_show(v[low])}) must be <= {high} ({_show(v[high])})",
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
            f"technical_weight ({_show(v['technical_weight'])}) + fundamental_weight "
            f"({_show(v['fundamental_weight'])}) must equal 1 "
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


def _pipeline(layers: tuple[Mapping[str, Any], ...]) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """Defaults, then each layer in order; coerce, clamp, validate. Raises ConfigError."""
    values: dict[str, Any] = {p.name: p.default for p in REGISTRY}
    issues: list[ConfigIssue] = []
    bad: set[str] = set()
    for layer in layers:
        for name in sorted(layer, key=str):
            param = PARAMS.get(name) if isinstance(name, str) else None
            if param is None:
                issues.append(_unknown_param_issue(name))
                continue
            value, issue = _coerce(param, layer[name], from_cli=False)
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
    return tuple(values[name] for name in _NAMES), adjustments


class Config:
    """An immutable, always-valid configuration with one attribute per registry parameter.

    `Config(mapping, **values)` starts from the defaults, applies the given values (coerced
    as by `coerce_param`), then the diversification-mode clamps (silently: use `resolve`
    to see them reported), then the cross-field rules. Equality is by value; instances
    are hashable.

    Example:
        >>> cfg = default_config().replace(grace_period_days=7)
        >>> cfg.grace_period_days
        7

    Raises:
        ConfigError: on construction with unknown names or invalid values.
    """

    __slots__ = ("_values",)
    _values: tuple[Any, ...]

    def __init__(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any):
        merged = {**(values or {}), **kwargs}
        built, _ = _pipeline((merged,))
        object.__setattr__(self, "_values", built)

    @classmethod
    def _trusted(cls, values: tuple[Any, ...]) -> Config:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_values", values)
        return obj

    def __getattr__(self, name: str) -> Any:
        index = _INDEX.get(name)
        if index is None:
            if name.startswith("_"):
                raise AttributeError(name)
            close = suggest(name, _NAMES)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise AttributeError(f"Config has no parameter {name!r}{hint}")
        return self._values[index]

    def __setattr__(self, name: str, value: Any) -> None:
        raise attrs.exceptions.FrozenInstanceError()

    def __delattr__(self, name: str) -> None:
        raise attrs.exceptions.FrozenInstanceError()

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(_NAMES))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return self._values == other._values

    def __hash__(self) -> int:
        return hash(self._values)

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
        return dict(zip(_NAMES, self._values, strict=True))

    def non_defaults(self) -> dict[str, Any]:
        """The parameters whose value differs from the registry default, in registry order."""
        return {
            name: value
            for name, value in zip(_NAMES, self._values, strict=True)
            if value != PARAMS[name].default
        }

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes` applied (coerced, mode-clamped and validated).

        Raises:
            ConfigError: every problem with the changes or the resulting combination.
        """
        built, _ = _pipeline((self.to_dict(), changes))
        return Config._trusted(built)


for _name in _NAMES:  # a parameter must never shadow a Config method
    if hasattr(Config, _name):
        raise RuntimeError(f"parameter name {_name!r} collides with a Config attribute")

_DEFAULT = Config._trusted(_pipeline(())[0])


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
        built, adjustments = _pipeline(tuple(layers))
    except ConfigError as error:
        raise ConfigError((*issues, *error.issues)) from None
    if issues:
        raise ConfigError(issues)
    return Resolved(Config._trusted(built), adjustments, preset)
