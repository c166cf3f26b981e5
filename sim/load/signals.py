"""The `signals` section: scripted score and trending overrides per asset and dates."""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node

from domain.scenario import SignalOverride, Signals
from sim.load.reader import NodeMap
from sim.load.values import BAD, FRACTION, join
from sim.load.walk import Walk
from sim.load.yaml_nodes import as_date, is_null

OVERRIDE_KEYS: tuple[str, ...] = ("asset", "from", "to", "value")


def read_signals(w: Walk, top: NodeMap) -> Any:
    """The Signals: `scores` and `trending` override lists."""
    node = top.get("signals")
    if node is None or is_null(node):
        return Signals()
    m = w.mapping(node, "signals", ("scores", "trending"))
    if m is None:
        return BAD
    lists = {key: _overrides(w, m, key) for key in ("scores", "trending")}
    if BAD in lists.values():
        return BAD
    return Signals(**lists)


def _overrides(w: Walk, m: NodeMap, key: str) -> Any:
    node = m.get(key)
    if node is None or is_null(node):
        return ()
    items = w.sequence(node, join("signals", key))
    if items is None:
        return BAD
    mark = w.mark()
    out = [_override(w, item, f"signals.{key}[{i}]") for i, item in enumerate(items)]
    return tuple(o for o in out if o is not BAD) if w.clean_since(mark) else BAD


def _override(w: Walk, item: Node, field: str) -> Any:
    """One override: a defined asset, `from` (and `to`) in the calendar, a value in [0, 1]."""
    om = w.mapping(item, field, OVERRIDE_KEYS, required=("asset", "from", "value"))
    if om is None:
        return BAD
    asset_node = om.get("asset")
    asset = BAD if asset_node is None else w.ticker_ref(asset_node, f"{field}.asset")
    start = w.req(om, "from", as_date)
    w.in_calendar(om.get("from") or item, f"{field}.from", start)
    end = w.opt(om, "to", as_date)
    w.in_calendar(om.get("to") or item, f"{field}.to", end)
    if start is not BAD and end not in (None, BAD) and end < start:
        w.error(om.get("to"), f"{field}.to", f"to {end} is before from {start}")
    value = w.req(om, "value", FRACTION)
    if BAD in (asset, start, end, value):
        return BAD
    return SignalOverride(asset=asset, from_=start, value=value, to=end)
