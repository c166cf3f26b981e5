"""Value coercion: one parameter value checked and put in its canonical Python type."""

from __future__ import annotations

import math
import numbers
from typing import Any

from domain.config._errors import ConfigError, ConfigIssue
from domain.config._registry import ALIASES, PARAMS, REGISTRY, Param, suggest

_NAMES: tuple[str, ...] = tuple(p.name for p in REGISTRY)

_BOOL_STRINGS = {"true": True, "false": False}


def show(value: Any) -> str:
    """A value as error messages and clamp notes spell it (true/false, 5, 0.35, 'daily')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return repr(value)


def unknown_param_issue(name: Any) -> ConfigIssue:
    """The issue for a name not in the registry, pointing a seed alias or a typo to the name."""
    text = str(name)
    if text in ALIASES:
        hint = f" (the seeds' name for {ALIASES[text]!r}; use {ALIASES[text]!r})"
    else:
        close = suggest(text, _NAMES)
        hint = f" (did you mean {close!r}?)" if close else ""
    return ConfigIssue((text,), "unknown_param", f"unknown parameter {text!r}{hint}")


def _wrong_type(param: Param, expected: str, value: Any) -> ConfigIssue:
    return ConfigIssue(
        (param.name,), "wrong_type", f"{param.name}: expected {expected}, got {show(value)}"
    )


def coerce_or_issue(param: Param, value: Any, from_cli: bool) -> tuple[Any, ConfigIssue | None]:
    """Return (canonical value, None) or (None, issue)."""
    kind = param.type
    if kind == "bool":
        return _coerce_bool(param, value)
    if kind in ("str", "choice"):
        return _coerce_text(param, value)
    return _coerce_number(param, value, from_cli)


def _coerce_bool(param: Param, value: Any) -> tuple[Any, ConfigIssue | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.strip().lower() in _BOOL_STRINGS:
        return _BOOL_STRINGS[value.strip().lower()], None
    return None, _wrong_type(param, "true or false", value)


def _coerce_text(param: Param, value: Any) -> tuple[Any, ConfigIssue | None]:
    """A "str" or "choice" value; a choice must be one of the registry's choices, exactly."""
    kind = param.type
    if not isinstance(value, str):
        expected = "one of " + "|".join(param.choices) if kind == "choice" else "a string"
        return None, _wrong_type(param, expected, value)
    if kind == "choice" and value not in param.choices:
        close = suggest(value, param.choices)
        hint = f" (did you mean {close!r}?)" if close else ""
        message = f"{param.name}: {value!r} is not one of {', '.join(param.choices)}{hint}"
        return None, ConfigIssue((param.name,), "not_in_choices", message)
    return value, None


def _coerce_number(param: Param, value: Any, from_cli: bool) -> tuple[Any, ConfigIssue | None]:
    """An "int" or "float" value: finite, integral for an int, within the param's range."""
    kind = param.type
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
            f"{param.name}: {show(number)} is out of range (allowed {param.range_text()})",
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
    result, issue = coerce_or_issue(param, value, from_cli)
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
        raise ConfigError((unknown_param_issue(name),))
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
