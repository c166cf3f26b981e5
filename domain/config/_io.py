"""YAML and JSON export and import of a `Config`.

YAML is read with YAML 1.2 core-schema scalars: only true/false (any case) are booleans,
so `yes`, `on`, `no` and `off` stay strings and are rejected for bool parameters, and
`1e-3` is a number. Octal-looking `010` is the integer 10; `1:30` is a string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from domain.config._config import Config
from domain.config._errors import ConfigError, ConfigIssue

_BOOL_12 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_12 = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_REPLACED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


class StrictYamlLoader(yaml.SafeLoader):
    """A safe YAML loader with YAML 1.2 core-schema booleans, integers and floats."""


StrictYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_12, list("tTfF"))
StrictYamlLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_12, list("-+0123456789"))
StrictYamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+.0123456789"))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


StrictYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictYamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml(text: str) -> Any:
    """Parse YAML text with `StrictYamlLoader`.

    Raises:
        ConfigError: the text is not valid YAML (rule "bad_yaml").
    """
    try:
        return yaml.load(text, Loader=StrictYamlLoader)  # StrictYamlLoader is a SafeLoader
    except yaml.YAMLError as error:
        raise ConfigError((ConfigIssue((), "bad_yaml", f"invalid YAML: {error}"),)) from None


def _from_mapping(data: Any, kind: str) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        message = f"a {kind} configuration must be a mapping of parameter names to values"
        raise ConfigError((ConfigIssue((), "not_a_mapping", message),))
    return Config(data)


def config_to_yaml(cfg: Config) -> str:
    """Every parameter of `cfg` as a YAML mapping in registry order (floats exact)."""
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False, default_flow_style=False)


def config_from_yaml(text: str) -> Config:
    """Read a full or partial YAML mapping of parameters on top of the defaults.

    Raises:
        ConfigError: invalid YAML, not a mapping, unknown names or invalid values.
    """
    return _from_mapping(load_yaml(text), "YAML")


def config_to_json(cfg: Config) -> str:
    """Every parameter of `cfg` as a JSON object in registry order (floats exact)."""
    return json.dumps(cfg.to_dict(), indent=2) + "\n"


def config_from_json(text: str) -> Config:
    """Read a full or partial JSON object of parameters on top of the defaults.

    Raises:
        ConfigError: invalid JSON, not an object, unknown names or invalid values.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError((ConfigIssue((), "bad_json", f"invalid JSON: {error}"),)) from None
    return _from_mapping(data, "JSON")
