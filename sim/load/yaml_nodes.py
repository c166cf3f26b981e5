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
- explicit tags (`!!int`, `!custom`) are rejected; anchors and aliases are allowed,
  but aliases may add at most `MAX_ALIAS_NODES` nodes to the document (a "billion
  laughs" file is refused while it is composed, before anything expands it) and
  nesting is at most `MAX_DEPTH` deep; merge keys (`<<`) are rejected by the loader.

The text-level parsers (`parse_int`, `parse_number`, `parse_bool`, `parse_date`) hold
the rules; the command line uses them too, so `--seed` and `--set` read numbers
exactly as the file does.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.limits import FIRST_DATE, LAST_DATE

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

#: Most nodes that aliases may add to a document (each use of an alias adds its
#: anchored value's size).
MAX_ALIAS_NODES = 10_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 64


#: Longest scalar text quoted in full in a message.
SHOWN_CHARS = 60
#: Most digits of an integer read at all (range checks then apply; Python refuses to
#: convert texts of more than 4300 digits).
MAX_INT_DIGITS = 1000


def shown(text: str) -> str:
    """`text` for a message: cut to SHOWN_CHARS characters."""
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} chars)"


class Invalid(ValueError):
    """A node does not hold what the schema expects; the message says what and why."""


class RefusedYAML(ComposerError):
    """Valid YAML that the loader refuses to compose (too many alias nodes, too deep)."""


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose resolver types nothing: every untagged node gets IMPLICIT_TAG.

    Explicit tags therefore stay visible on the node (any tag other than IMPLICIT_TAG
    was written in the file) and can be rejected by the loader. The composer counts the
    nodes that aliases add and the nesting depth, and stops with `RefusedYAML` at the
    alias (or node) that passes `MAX_ALIAS_NODES` (or `MAX_DEPTH`).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}
        self._alias_nodes = 0
        self._depth = 0

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return IMPLICIT_TAG

    def _size(self, node: Node) -> int:
        # a node still being composed (a recursive alias) counts 1
        return self._sizes.get(id(node), 1)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            self._alias_nodes += self._size(node)
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise RefusedYAML(
                    None,
                    None,
                    f"aliases expand the document by more than {MAX_ALIAS_NODES:,} nodes;"
                    " write the values out",
                    event.start_mark,
                )
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise RefusedYAML(
                None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, SequenceNode):
            size = 1 + sum(self._size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        else:
            size = 1
        self._sizes[id(node)] = size
        return node


def compose(text: str) -> Node | None:
    """Compose one YAML document into a node tree (None for an empty document).

    Raises:
        yaml.YAMLError: on a syntax error (a `MarkedYAMLError` carries the line), or
            `RefusedYAML` for too many alias nodes or too deep a nesting.
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
        return f"quoted text '{shown(node.value)}'"
    return f"'{shown(node.value)}'"


def as_text(node: Node, what: str = "text") -> str:
    """The raw text of a scalar (any style)."""
    if not isinstance(node, ScalarNode):
        raise Invalid(f"expected {what}, got {describe(node)}")
    return node.value


def _require_plain(node: Node, what: str) -> str:
    if not isinstance(node, ScalarNode) or node.style is not None:
        raise Invalid(f"expected {what}, got {describe(node)}")
    return node.value


def parse_bool(text: str) -> bool:
    """`true` or `false` (case-insensitive), nothing else."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise Invalid(f"expected true or false, got '{shown(text)}'")


def _leading_zero(digits: str) -> bool:
    digits = digits.replace("_", "")
    return len(digits) > 1 and digits.startswith("0")


def parse_int(text: str) -> int:
    """A decimal integer (no leading zero, no exponent, `_` separators allowed)."""
    if _INT_RE.fullmatch(text):
        digits = text.lstrip("+-").replace("_", "")
        if _leading_zero(digits):
            raise Invalid(f"expected an integer, got '{text}' (a leading zero is ambiguous)")
        if len(digits) > MAX_INT_DIGITS:
            raise Invalid(f"expected an integer, got a number of {len(digits)} digits")
        return int(digits) * (-1 if text.startswith("-") else 1)
    raise Invalid(f"expected an integer, got '{shown(text)}'")


def parse_number(text: str) -> float:
    """A finite decimal number (integer, fraction or exponent form)."""
    match = _FLOAT_RE.fullmatch(text)
    if match is None:
        if text.lower() in _SPECIAL_FLOATS:
            raise Invalid(f"expected a finite number, got '{text}'")
        raise Invalid(f"expected a number, got '{shown(text)}'")
    if match.group("int") is not None and _leading_zero(match.group("int")):
        raise Invalid(f"expected a number, got '{text}' (a leading zero is ambiguous)")
    value = float(text.replace("_", ""))
    if not math.isfinite(value):
        raise Invalid(f"expected a finite number, got '{shown(text)}'")
    return value


def parse_date(text: str) -> dt.date:
    """An ISO `YYYY-MM-DD` date, a real one, from FIRST_DATE to LAST_DATE."""
    if not _DATE_RE.fullmatch(text):
        raise Invalid(f"expected a date YYYY-MM-DD, got '{shown(text)}'")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"expected a date YYYY-MM-DD, got '{text}' ({exc})") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise Invalid(f"expected a date from {FIRST_DATE} to {LAST_DATE}, got '{text}'")
    return day


def as_bool(node: Node) -> bool:
    """A plain `true` or `false` (case-insensitive)."""
    return parse_bool(_require_plain(node, "true or false"))


def as_int(node: Node) -> int:
    """A plain decimal integer (no leading zero, no exponent, `_` separators allowed)."""
    return parse_int(_require_plain(node, "an integer"))


def as_number(node: Node) -> float:
    """A plain finite decimal number (integer, fraction or exponent form)."""
    return parse_number(_require_plain(node, "a number"))


def as_date(node: Node) -> dt.date:
    """An ISO `YYYY-MM-DD` date, plain or quoted (see `parse_date`)."""
    if not isinstance(node, ScalarNode):
        raise Invalid(f"expected a date YYYY-MM-DD, got {describe(node)}")
    return parse_date(node.value)


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


def find(root: Node, *path: str | int) -> Node | None:
    """The value node at `path` below `root` (mapping keys as text, list indices), or
    None when the path does not exist (the first of duplicate keys wins)."""
    node: Node = root
    for step in path:
        if isinstance(step, int) and isinstance(node, SequenceNode):
            if not 0 <= step < len(node.value):
                return None
            node = node.value[step]
        elif isinstance(step, str) and isinstance(node, MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
            if found is None:
                return None
            node = found
        else:
            return None
    return node


def find_key(root: Node, *path: str) -> Node | None:
    """The key node of the last step of `path` (for "the line of `portfolio.AAPL`")."""
    parent = find(root, *path[:-1])
    if not isinstance(parent, MappingNode):
        return None
    return next((k for k, _ in parent.value if getattr(k, "value", None) == path[-1]), None)
