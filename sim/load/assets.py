"""The `assets` section: optional attributes (fundamental, start_price) per ticker."""

from __future__ import annotations

from typing import Any

from domain.scenario import AssetSpec
from sim.load.reader import NodeMap
from sim.load.values import BAD, FRACTION, PRICE, join
from sim.load.walk import Walk
from sim.load.yaml_nodes import is_null


def read_assets(w: Walk, top: NodeMap) -> Any:
    """ticker -> AssetSpec; every ticker must be defined (a null value takes the defaults)."""
    node = top.get("assets")
    if node is None or is_null(node):
        return {}
    m = w.mapping(node, "assets", what="a mapping of ticker -> attributes")
    if m is None:
        return BAD
    mark = w.mark()
    out: dict[str, AssetSpec] = {}
    for ticker, (key_node, value_node) in m.items.items():
        field = join("assets", ticker)
        w.known_ticker(key_node, field, ticker)
        if is_null(value_node):
            out[ticker] = AssetSpec()
            continue
        am = w.mapping(value_node, field, ("fundamental", "start_price"))
        if am is None:
            continue
        fundamental = w.opt(am, "fundamental", FRACTION)
        start_price = w.opt(am, "start_price", PRICE, 100.0)
        if BAD not in (fundamental, start_price):
            out[ticker] = AssetSpec(fundamental=fundamental, start_price=start_price)
    return out if w.clean_since(mark) else BAD
