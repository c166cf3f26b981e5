"""The `protections` section: built-ins switched on or off, and custom protections.

A custom protection's class is imported while the file is read (`sim.load.custom`), so
a missing module or a class that is not a Protection is reported at its `class` line.
Its name becomes a system `expect: decision: decided_by` may name.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode, Node

from domain.limits import MAX_INT
from domain.protections.registry import DECIDING_SYSTEMS
from domain.resolution import PLANNER
from domain.scenario import BUILTIN_PROTECTIONS, CustomProtection, Protections
from sim.load.custom import load_protection_class
from sim.load.reader import NodeMap
from sim.load.values import BAD, bounded, join, pattern
from sim.load.walk import Walk
from sim.load.yaml_nodes import as_bool, as_int, describe, is_null, line_of

#: Names a custom protection may not take: every deciding system (the built-ins, the
#: regime override, the orchestrator) and the other agents.
RESERVED_NAMES: tuple[str, ...] = (*DECIDING_SYSTEMS, PLANNER, "broker", "regime_provider")
CUSTOM_KEYS: tuple[str, ...] = ("name", "class", "priority", "options", "enabled")

_PROTECTION_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_CLASS_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")


def read_protections(w: Walk, top: NodeMap) -> Any:
    """The Protections; the walk's `custom_names` gain the custom protections' names."""
    node = top.get("protections")
    if node is None or is_null(node):
        return Protections()
    m = w.mapping(node, "protections", (*BUILTIN_PROTECTIONS, "custom"))
    if m is None:
        w.custom_ok = False
        return BAD
    mark = w.mark()
    enabled = {name: True for name in BUILTIN_PROTECTIONS}
    for name in BUILTIN_PROTECTIONS:
        pnode = m.get(name)
        if pnode is None:
            continue
        pm = w.mapping(pnode, join("protections", name), ("enabled",))
        if pm is not None:
            enabled[name] = w.opt(pm, "enabled", as_bool, True)
    custom = _custom(w, m)
    if not w.clean_since(mark):
        return BAD
    return Protections(enabled=enabled, custom=custom)


def _custom(w: Walk, m: NodeMap) -> Any:
    node = m.get("custom")
    if node is None or is_null(node):
        return ()
    mark = w.mark()
    items = w.sequence(node, "protections.custom")
    if items is None:
        w.custom_ok = False
        return BAD
    seen: dict[str, int] = {}
    out = [_custom_one(w, item, f"protections.custom[{i}]", seen) for i, item in enumerate(items)]
    w.custom_ok = w.clean_since(mark)
    return tuple(p for p in out if p is not BAD) if w.custom_ok else BAD


def _custom_one(w: Walk, item: Node, field: str, seen: dict[str, int]) -> Any:
    """One custom protection: a free name, an importable class, priority, options."""
    cm = w.mapping(item, field, CUSTOM_KEYS, required=("name", "class"))
    if cm is None:
        return BAD
    name = _custom_name(w, cm, seen)
    class_path = w.req(cm, "class", pattern(_CLASS_PATH, "module.path:ClassName"))
    if class_path is not BAD:
        try:
            load_protection_class(class_path, w.base_dir)
        except (ImportError, TypeError) as exc:
            w.error(cm.get("class"), f"{field}.class", str(exc))
    priority = w.opt(cm, "priority", bounded(as_int, lo=6, hi=MAX_INT), 6)
    options: Any = {}
    if cm.has("options"):
        opts = cm.get("options")
        if isinstance(opts, MappingNode):
            options = w.plain(opts, f"{field}.options")
        else:
            w.error(opts, f"{field}.options", f"expected a mapping, got {describe(opts)}")
    enabled = w.opt(cm, "enabled", as_bool, True)
    if BAD in (name, class_path, priority, enabled):
        return BAD
    return CustomProtection(
        name=name, class_path=class_path, priority=priority, options=options, enabled=enabled
    )


def _custom_name(w: Walk, cm: NodeMap, seen: dict[str, int]) -> Any:
    """A custom protection's name: not reserved, not seen before (`seen`: name -> line)."""
    name = w.req(cm, "name", pattern(_PROTECTION_NAME, "a name of [a-z_][a-z0-9_]*"))
    if name is BAD:
        return BAD
    name_node, field = cm.get("name"), f"{cm.field}.name"
    if name in RESERVED_NAMES:
        kind = "a built-in protection" if name in BUILTIN_PROTECTIONS else "reserved"
        w.error(name_node, field, f"'{name}' is {kind}; choose another")
    elif name in seen:
        w.error(
            name_node,
            field,
            f"duplicate custom protection name '{name}' (first at line {seen[name]})",
        )
    else:
        seen[name] = line_of(name_node)
        w.custom_names.append(name)
    return name
