"""The `interventions` section: manual portfolio-manager controls on given dates.

Each action takes its own keys (`set`: param and value; `extend_core`: asset and days;
the others: asset). The `set` changes are then applied in date order to the base
configuration: each must leave a valid configuration, reported at its value.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node

from domain.config import ConfigError, resolve
from domain.limits import MAX_DURATION_DAYS
from domain.scenario import INTERVENTION_ACTIONS, Intervention
from sim.load.config_section import param_spec, param_value
from sim.load.reader import NodeMap
from sim.load.values import BAD, bounded, choice, nonempty_text
from sim.load.walk import Walk
from sim.load.yaml_nodes import as_date, as_int, as_text

INTERVENTION_KEYS: tuple[str, ...] = ("date", "action", "asset", "days", "reason", "param", "value")


def read_interventions(w: Walk, top: NodeMap) -> Any:
    """The interventions, in file order."""
    mark = w.mark()
    found = w.items(top, "interventions", lambda item, field: _intervention(w, item, field))
    if found is None or not w.clean_since(mark):
        return BAD
    items, out = found
    _check_set_sequence(w, items, out)
    return tuple(out) if w.clean_since(mark) else BAD


def _intervention(w: Walk, item: Node, field: str) -> Any:
    im = w.mapping(item, field, INTERVENTION_KEYS, required=("date", "action"))
    if im is None:
        return BAD
    day = w.req(im, "date", as_date)
    w.in_calendar(im.get("date") or item, f"{field}.date", day)
    action = w.req(im, "action", choice(INTERVENTION_ACTIONS))
    reason = w.opt(im, "reason", as_text, "manual intervention")
    if action is BAD:
        return BAD
    needed = _action_keys(w, im, item, action)
    asset = days = None
    if "asset" in needed and im.has("asset"):
        asset = w.ticker_ref(im.get("asset"), f"{field}.asset")
    if "days" in needed:
        days = w.opt(im, "days", bounded(as_int, lo=1, hi=MAX_DURATION_DAYS))
    param, value = _set_param(w, im, field) if action == "set" else (None, None)
    if BAD in (day, asset, days, param, value, reason):
        return BAD
    return Intervention(
        date=day, action=action, asset=asset, days=days, reason=reason, param=param, value=value
    )


def _set_param(w: Walk, im: NodeMap, field: str) -> tuple[Any, Any]:
    """(param, value) of a `set`: a registry parameter and a value it accepts."""
    if not im.has("param"):
        return None, None
    param = w.convert(im.get("param"), f"{field}.param", nonempty_text)
    if param is BAD:
        return BAD, None
    spec = param_spec(w, im.get("param"), f"{field}.param", param)
    if spec is BAD:
        return BAD, None
    if not im.has("value"):
        return param, None
    return param, param_value(w, spec, im.get("value"), f"{field}.value")


def _action_keys(w: Walk, im: NodeMap, item: Node, action: str) -> tuple[str, ...]:
    """The keys `action` needs; report the missing ones and the ones it does not use."""
    if action == "set":
        needed, unused = ("param", "value"), ("asset", "days")
    elif action == "extend_core":
        needed, unused = ("asset", "days"), ("param", "value")
    else:
        needed, unused = ("asset",), ("days", "param", "value")
    for key in needed:
        if not im.has(key):
            w.error(item, f"{im.field}.{key}", f"required for action {action}")
    for key in unused:
        if im.get(key) is not None:
            w.error(im.key_node(key), f"{im.field}.{key}", f"not used with action {action}")
    return needed


def _check_set_sequence(w: Walk, items: list[Node], out: list[Intervention]) -> None:
    """Apply the `set` interventions in date order: each must leave a valid configuration."""
    if w.base_config is None:
        return
    preset, overrides = w.base_config
    current = dict(overrides)
    # every item produced one intervention (the list is clean), so indices match
    order = sorted(range(len(out)), key=lambda i: out[i].date)  # stable: file order per day
    for i in order:
        change = out[i]
        if change.action != "set":
            continue
        current[change.param] = change.value
        try:
            resolve(preset, current)
        except ConfigError as exc:
            value_node = next(v for k, v in items[i].value if k.value == "value")
            for issue in exc.issues:
                w.error(value_node, f"interventions[{i}].value", issue.message)
            return
