"""The `preset` and `config` sections, and `--set name=value` read by the same rules.

Every parameter is read by its registry type (`domain.config.PARAMS`) with the file's
scalar rules, then checked by the registry (`coerce_param`); the whole configuration is
then resolved once, so a rule between parameters is reported at `config`.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node

from domain.config import PARAMS, PRESETS, ConfigError, coerce_param, resolve
from sim.load.reader import NodeMap
from sim.load.values import BAD, join, suggest
from sim.load.walk import Walk
from sim.load.yaml_nodes import (
    as_bool,
    as_int,
    as_number,
    as_text,
    is_null,
    parse_bool,
    parse_int,
    parse_number,
)


def read_config(w: Walk, top: NodeMap) -> tuple[Any, Any]:
    """(preset, overrides); sets the walk's `base_config` when both checked clean."""
    preset = _preset(w, top)
    node = top.get("config")
    overrides: dict[str, Any] = {}
    mark = w.mark()
    if node is not None and not is_null(node):
        m = w.mapping(node, "config", what="a mapping of parameter -> value")
        if m is None:
            return preset, BAD
        for name, (key_node, value_node) in m.items.items():
            field = join("config", name)
            param = param_spec(w, key_node, field, name)
            if param is not BAD:
                overrides[name] = param_value(w, param, value_node, field)
    if not w.clean_since(mark) or preset is BAD:
        return preset, BAD
    try:
        resolve(preset, overrides)
    except ConfigError as exc:
        if node is not None:
            where = top.key_node("config")
        elif top.get("preset") is not None:
            where = top.key_node("preset")
        else:
            where = top.node
        for issue in exc.issues:
            w.error(where, "config", issue.message)
        return preset, BAD
    w.base_config = (preset, overrides)
    return preset, overrides


def _preset(w: Walk, top: NodeMap) -> Any:
    preset = w.opt(top, "preset", as_text)
    if preset not in (None, BAD) and preset not in PRESETS:
        names = sorted(PRESETS)
        hint = suggest(preset, names) or f" (known: {', '.join(names)})"
        w.error(top.get("preset"), "preset", f"unknown preset '{preset}'{hint}")
        return BAD
    return preset


def param_spec(w: Walk, key_node: Node, field: str, name: str) -> Any:
    """The registry parameter called `name`; an unknown name is reported (with a hint)."""
    param = PARAMS.get(name)
    if param is None:
        try:
            coerce_param(name, None)
        except ConfigError as exc:
            message = exc.issues[0].message
        else:  # pragma: no cover - the registry rejects unknown names
            message = f"unknown parameter '{name}'"
        w.error(key_node, field, message)
        return BAD
    return param


def param_value(w: Walk, param: Any, value_node: Node, field: str) -> Any:
    """Read a parameter's value by the parameter's type, then let the registry check it."""
    conv = {"bool": as_bool, "int": as_int, "float": as_number}.get(param.type, as_text)
    value = w.required_value(value_node, field, conv)
    if value is BAD:
        return BAD
    try:
        return coerce_param(param.name, value)
    except ConfigError as exc:
        message = exc.issues[0].message
        # the field path already names the parameter
        message = message.removeprefix(f"{param.name}: ")
        w.error(value_node, field, message)
        return BAD


def parse_setting(text: str) -> tuple[str, Any]:
    """Read a command-line `--set name=value` by the rules of a `config` entry in a file.

    Dashes in the name read as underscores (`grace-period-days=3`); the value is read by
    the parameter's type with the file's scalar rules (`1e1` is not an integer, `yes` is
    not a bool), then checked by `check_setting`.

    Returns:
        (registry name, canonical value).

    Raises:
        ValueError: the message (no "=", unknown name with a suggestion, bad value).
    """
    name, sep, raw = text.partition("=")
    if not sep:
        raise ValueError("expected name=value")
    name = name.strip().replace("-", "_")
    param = PARAMS.get(name)
    if param is None:
        check_setting(name, None)  # raises the registry's unknown-name message
    value_text = raw.strip()
    if not value_text:
        raise ValueError("a value is required after '='")
    parse = {"bool": parse_bool, "int": parse_int, "float": parse_number}.get(param.type)
    return check_setting(name, parse(value_text) if parse else value_text)


def check_setting(name: str, value: Any) -> tuple[str, Any]:
    """Check one setting given as a value (a parsed `--set`, or the notebook API's `set=`)
    by `domain.config.coerce_param`; dashes in the name read as underscores.

    Returns:
        (registry name, canonical value).

    Raises:
        ValueError: the registry's message without the name (unknown name with a
            suggestion, wrong type, out of range, not one of the choices).
    """
    name = name.strip().replace("-", "_")
    try:
        return name, coerce_param(name, value)
    except ConfigError as exc:
        raise ValueError(exc.issues[0].message.removeprefix(f"{name}: ")) from None
