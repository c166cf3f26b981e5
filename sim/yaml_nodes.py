"""Strict reading of YAML scalars from a composed node tree.

PyYAML's `safe_load` applies YAML 1.1 implicit typing: `NO` becomes False, `0755` an
octal 493, `1:30` the sexagesimal 90 and `2021-01-04` a date, whatever the field
means. The scenario loader avoids all of it: it composes the document into nodes
(with line marks) and converts each scalar here according to the type the schema
expects for that field. Nothing is ever typed implicitly.

Rules (documented in docs/scenarios.md):

- text: the raw scalar text, exactly as written (plain, quoted or block).
- null: a plain empty value, `~`, `null`, `Null` or `NULL` means "no value".
- bool: plain `true` / `false` in any case; nothing else (no yes/no/on/off/y/n).
- integer: plain decimal digits with an optional sign and `_` separators between
  digits (`1_000`); no leading zero (`0755` is ambiguous), no exponent.
- number: an integer as above, or a decimal with optional fraction and exponent
  (`0.5`, `.5`, `1e6`, `-2.5E-3`); finite only (no `.inf`, `.nan`), no sexagesimal.
- date: ISO `YYYY-MM-DD`, plain or quoted.
- quoted scalars are always text, so `"5"` is not a number and `"true"` is not a bool.
- explicit tags (`!!int`, `!custom`) are rejected; anchors and aliases are allowed;
  merge keys (`<<`) are rejected by the loader.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: The tag our loader gives every node that carries no explicit tag.
IMPLICIT_TAG = "tag:bulwark,2024:implicit"

NULL_FORMS: frozenset[str] = frozenset({"", "~", "null", "Null", "NULL"})

_DIGITS = r"[0-9](?:_?[0-9])*"
_INT_RE = re.compile(rf"[-+]?{_DIGITS}")
_FLOAT_RE = re.compile(
    rf"[-+]?(?:(?P<int>{_DIGITS})(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][-+]?[0-9]+)?"
)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SPECIAL_FLOATS = frozenset({".inf", "-.inf", "+.inf", ".nan", "inf", "-inf", "+inf", "nan"})


class Invalid(ValueError):
    """A node does not hold what the schema expects; the message says what and why."""


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose resolver types nothing: every untagged node gets IMPLICIT_TAG.

    Explicit tags therefore stay visible on the node (any tag other than IMPLICIT_TAG
    was written in the file) and can be rejected by the loader.
    """

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return IMPLICIT_TAG


def compose(text: str) -> Node | None:
    """Compose one YAML document into a node tree (None for an empty document).

    Raises:
        yaml.YAMLError: on a syntax error (a `MarkedYAMLError` carries the line).
    """
    return yaml.compose(text, Loader=StrictLoader)


def line_of(node: Node) -> int:
    """The 1-based line where `node` starts."""
    return node.start_mark.line + 1


def is_plain(node: Node) -> bool:
    """True for a plain (unquoted, non-block) scalar."""
    return isinstance(node, ScalarNode) and node.style is None


def is_null(node: Node) -> bool:
    """True when `node` is a plain null: empty, `~` or null/Null/NULL."""
    return is_plain(node) and node.value in NULL_FORMS


def has_explicit_tag(node: Node) -> bool:
    """True when the file gave `node` an explicit tag (`!!str`, `!foo`, ...)."""
    return node.tag != IMPLICIT_TAG


def describe(node: Node) -> str:
    """Say what a node holds, for "expected X, got Y" messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if is_null(node):
        return "nothing" if node.value in ("", "~") else f"'{node.value}' (null)"
    if node.style in ("'", '"'):
        return f"quoted text '{node.value}'"
    return f"'{node.value}'"


def as_text(node: Node, what: str = "text") -> str:
    """The raw text of a scalar (any style)."""
    if not isinstance(node, ScalarNode):
        raise Invalid(f"expected {what}, got {describe(node)}")
    return node.value


def _require_plain(node: Node, what: str) -> str:
    if not isinstance(node, ScalarNode) or node.style is not None:
        raise Invalid(f"expected {what}, got {describe(node)}")
    return node.value


def as_bool(node: Node) -> bool:
    """A plain `true` or `false` (case-insensitive)."""
    text = _require_plain(node, "true or false")
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise Invalid(f"expected true or false, got '{text}'")


def _leading_zero(digits: str) -> bool:
    digits = digits.replace("_", "")
    return len(digits) > 1 and digits.startswith("0")


def as_int(node: Node) -> int:
    """A plain decimal integer (no leading zero, no exponent, `_` separators allowed)."""
    text = _require_plain(node, "an integer")
    if _INT_RE.fullmatch(text):
        if _leading_zero(text.lstrip("+-")):
            raise Invalid(f"expected an integer, got '{text}' (a leading zero is ambiguous)")
        return int(text.replace("_", ""))
    raise Invalid(f"expected an integer, got '{text}'")


def as_number(node: Node) -> float:
    """A plain finite decimal number (integer, fraction or exponent form)."""
    text = _require_plain(node, "a number")
    match = _FLOAT_RE.fullmatch(text)
    if match is None:
        if text.lower() in _SPECIAL_FLOATS:
            raise Invalid(f"expected a finite number, got '{text}'")
        raise Invalid(f"expected a number, got '{text}'")
    if match.group("int") is not None and _leading_zero(match.group("int")):
        raise Invalid(f"expected a number, got '{text}' (a leading zero is ambiguous)")
    value = float(text.replace("_", ""))
    if not math.isfinite(value):
        raise Invalid(f"expected a finite number, got '{text}'")
    return value


def as_date(node: Node) -> dt.date:
    """An ISO `YYYY-MM-DD` date, plain or quoted."""
    if not isinstance(node, ScalarNode):
        raise Invalid(f"expected a date YYYY-MM-DD, got {describe(node)}")
    text = node.value
    if not _DATE_RE.fullmatch(text):
        raise Invalid(f"expected a date YYYY-MM-DD, got '{text}'")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"expected a date YYYY-MM-DD, got '{text}' ({exc})") from None


def plain_value(node: Node) -> Any:
    """Best-effort typing of a scalar in a schema-less place (custom protection options).

    Quoted or block scalars are text; plain ones are null, true/false, an integer, a
    number, or else text (so `yes`, `0755` and `1:30` stay text).
    """
    if not isinstance(node, ScalarNode):
        raise Invalid(f"expected a scalar, got {describe(node)}")
    if node.style is not None:
        return node.value
    text = node.value
    if text in NULL_FORMS:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return as_int(node)
    except Invalid:
        pass
    try:
        return as_number(node)
    except Invalid:
        return text
