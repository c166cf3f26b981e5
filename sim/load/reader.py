"""The generic node checks of the scenario loader, collecting `file:line: field` problems.

`Reader` knows nothing of scenarios: it checks that a node is a mapping (keys text,
unique, known), a list or a value of a converter (`sim.load.values`), reports what is
wrong at the node's line and returns `BAD` for a value that failed, so one mistake gives
one problem. `mark` and `clean_since` tell a section whether its own part checked clean.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.load.problems import WHOLE_FILE, Problem
from sim.load.values import BAD, Conv, join
from sim.load.yaml_nodes import (
    Invalid,
    describe,
    has_explicit_tag,
    is_null,
    line_of,
    plain_value,
)


@attrs.define
class NodeMap:
    """A checked mapping node: its entries by key text, in file order."""

    node: MappingNode
    field: str
    items: dict[str, tuple[Node, Node]]
    #: keys proposed as corrections of unknown keys (their absence is not reported again)
    suggested: set[str]

    def get(self, key: str) -> Node | None:
        """The value node of `key`, or None when the key is absent."""
        entry = self.items.get(key)
        return None if entry is None else entry[1]

    def key_node(self, key: str) -> Node:
        """The key node of a present `key` (its line)."""
        return self.items[key][0]

    def has(self, key: str) -> bool:
        """True when `key` is present with a non-null value."""
        node = self.get(key)
        return node is not None and not is_null(node)


def _tag_name(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class Reader:
    """Checks nodes of one file and collects the problems found (`problems`)."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def error(self, where: Node | int, field: str, message: str) -> None:
        """Report a problem at a node's line (or at a 1-based line number)."""
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append(Problem(self.file, line, field, message))

    def mark(self) -> int:
        """A mark to pass to `clean_since` later."""
        return len(self.problems)

    def clean_since(self, mark: int) -> bool:
        """True when no problem was reported since `mark`."""
        return len(self.problems) == mark

    def tag_ok(self, node: Node, field: str) -> bool:
        """False (reported) when the node carries an explicit YAML tag."""
        if has_explicit_tag(node):
            self.error(
                node,
                field,
                f"explicit YAML tags are not supported (got '{_tag_name(node.tag)}');"
                " write the plain value, or quote it for text",
            )
            return False
        return True

    def mapping(
        self,
        node: Node,
        field: str,
        allowed: Sequence[str] | None = None,
        required: Sequence[str] = (),
        what: str = "a mapping",
    ) -> NodeMap | None:
        """Check a mapping node: keys are text, unique, known (when `allowed` is given)."""
        if not self.tag_ok(node, field):
            return None
        if not isinstance(node, MappingNode):
            self.error(node, field, f"expected {what}, got {describe(node)}")
            return None
        out = NodeMap(node, field, {}, set())
        for key_node, value_node in node.value:
            if self._key_ok(out, key_node, allowed):
                out.items[key_node.value] = (key_node, value_node)
        for key in required:
            if key not in out.items and key not in out.suggested:
                self.error(node, join(field, key), "required key is missing")
        return out

    def _key_ok(self, out: NodeMap, key_node: Node, allowed: Sequence[str] | None) -> bool:
        """Whether a key of the mapping `out` is read: text, untagged, no merge key, not
        seen before and known; otherwise the problem is reported."""
        if not isinstance(key_node, ScalarNode):
            where = out.field or WHOLE_FILE
            self.error(key_node, where, f"keys must be text, got {describe(key_node)}")
            return False
        key = key_node.value
        key_field = join(out.field, key)
        if not self.tag_ok(key_node, key_field):
            return False
        if key == "<<" and key_node.style is None:
            self.error(key_node, key_field, "merge keys (<<) are not supported")
            return False
        if key in out.items:
            first = line_of(out.items[key][0])
            self.error(key_node, key_field, f"duplicate key '{key}' (first at line {first})")
            return False
        if allowed is not None and key not in allowed:
            match = difflib.get_close_matches(key, list(allowed), n=1)
            if match:
                out.suggested.add(match[0])
                hint = f" (did you mean '{match[0]}'?)"
            else:
                hint = f" (allowed: {', '.join(allowed)})"
            self.error(key_node, key_field, f"unknown key '{key}'{hint}")
            return False
        return True

    def sequence(self, node: Node, field: str, what: str = "a list") -> list[Node] | None:
        """The items of a list node; None (reported) for anything else."""
        if not self.tag_ok(node, field):
            return None
        if not isinstance(node, SequenceNode):
            self.error(node, field, f"expected {what}, got {describe(node)}")
            return None
        return list(node.value)

    def items(
        self, top: NodeMap, key: str, read: Callable[[Node, str], Any]
    ) -> tuple[list[Node], list[Any]] | None:
        """A top-level list section: its item nodes and each item read by
        `read(item, "key[i]")` (the items that read as BAD left out). `([], [])` when the
        section is absent or null; None (reported) when it is not a list."""
        node = top.get(key)
        if node is None or is_null(node):
            return [], []
        nodes = self.sequence(node, key)
        if nodes is None:
            return None
        read_all = (read(item, f"{key}[{i}]") for i, item in enumerate(nodes))
        return nodes, [value for value in read_all if value is not BAD]

    def convert(self, node: Node, field: str, conv: Conv) -> Any:
        """Convert a present, non-null node; report and return BAD on failure."""
        if not self.tag_ok(node, field):
            return BAD
        try:
            return conv(node)
        except Invalid as exc:
            self.error(node, field, str(exc))
            return BAD

    def required_value(self, node: Node, field: str, conv: Conv) -> Any:
        """Convert a node that must not be null."""
        if is_null(node):
            self.error(node, field, f"a value is required, got {describe(node)}")
            return BAD
        return self.convert(node, field, conv)

    def opt(self, m: NodeMap, key: str, conv: Conv, default: Any = None) -> Any:
        """The converted value of an optional key: `default` when absent or null."""
        node = m.get(key)
        if node is None or is_null(node):
            return default
        return self.convert(node, join(m.field, key), conv)

    def req(self, m: NodeMap, key: str, conv: Conv) -> Any:
        """The converted value of a required key (its absence is reported by `mapping`)."""
        node = m.get(key)
        if node is None:
            return BAD
        return self.required_value(node, join(m.field, key), conv)

    def plain(self, node: Node, field: str, ancestors: tuple[int, ...] = ()) -> Any:
        """Schema-less conversion (custom protection options): see `yaml_nodes.plain_value`."""
        if id(node) in ancestors:
            self.error(node, field, "a recursive alias is not supported")
            return BAD
        inner = (*ancestors, id(node))
        if isinstance(node, MappingNode):
            m = self.mapping(node, field)
            if m is None:
                return BAD
            return {k: self.plain(v, join(field, k), inner) for k, (_, v) in m.items.items()}
        if isinstance(node, SequenceNode):
            items = self.sequence(node, field)
            if items is None:
                return BAD
            return [self.plain(v, f"{field}[{i}]", inner) for i, v in enumerate(items)]
        return self.convert(node, field, plain_value)
