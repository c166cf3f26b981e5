"""The `portfolio` section: the starting holdings (weight, entered, core) per ticker."""

from __future__ import annotations

from typing import Any

from domain.scenario import Holding
from sim.load.reader import NodeMap
from sim.load.values import BAD, bounded, fmt, join
from sim.load.walk import Walk
from sim.load.yaml_nodes import as_bool, as_date, as_number, is_null

#: Weights may sum to 1 plus this much (rounding in hand-written files).
WEIGHT_SUM_TOLERANCE = 1e-9


def read_portfolio(w: Walk, top: NodeMap) -> Any:
    """ticker -> Holding: defined tickers, entered on or before calendar.start, weights
    summing to at most 1."""
    node = top.get("portfolio")
    if node is None or is_null(node):
        return {}
    m = w.mapping(node, "portfolio", what="a mapping of ticker -> holding")
    if m is None:
        return BAD
    mark = w.mark()
    out: dict[str, Holding] = {}
    for ticker, (key_node, value_node) in m.items.items():
        field = join("portfolio", ticker)
        w.known_ticker(key_node, field, ticker)
        hm = w.mapping(value_node, field, ("weight", "entered", "core"), required=("weight",))
        if hm is None:
            continue
        weight = w.req(hm, "weight", bounded(as_number, lo=0, lo_open=True, hi=1))
        entered = w.opt(hm, "entered", as_date)
        if entered not in (None, BAD) and w.start is not None and entered > w.start:
            w.error(
                hm.get("entered"),
                f"{field}.entered",
                f"entered {entered} is after calendar.start {w.start}",
            )
        core = w.opt(hm, "core", as_bool, False)
        if BAD not in (weight, entered, core):
            out[ticker] = Holding(weight=weight, entered=entered, core=core)
    if not w.clean_since(mark):
        return BAD
    total = sum(h.weight for h in out.values())
    if total > 1 + WEIGHT_SUM_TOLERANCE:
        w.error(top.key_node("portfolio"), "portfolio", f"weights sum to {fmt(total)}, above 1")
        return BAD
    return out
