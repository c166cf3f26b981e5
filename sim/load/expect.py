"""The `expect` section: what must hold when the run has ended, one kind per item.

Kinds: never, notice, decision, final, metric, sql (docs/scenarios.md). An item names
defined tickers (or `*`), dates inside the calendar, a known deciding system, a known
metric, or a single read-only SELECT.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from yaml.nodes import Node

from domain.protections.registry import DECIDING_SYSTEMS
from domain.scenario import (
    ACTIONS,
    OUTCOMES,
    ExpectDecision,
    ExpectFinal,
    ExpectMetric,
    ExpectNever,
    ExpectNotice,
    ExpectSql,
    Window,
)
from sim.load.reader import NodeMap
from sim.load.values import (
    ANY_ASSET,
    BAD,
    INT_GE0,
    NON_NEGATIVE,
    Conv,
    choice,
    fmt,
    join,
    nonempty_text,
    pattern,
    suggest,
)
from sim.load.walk import Walk
from sim.load.yaml_nodes import as_date, as_number, is_null, line_of
from sim.read.metrics import METRICS
from sim.read.sql_check import readonly_select_problem

FINAL_KEYS: tuple[str, ...] = ("holdings_include", "holdings_exclude", "equity_min", "equity_max")

_SNAKE = re.compile(r"[a-z_]+")
_SQL_START = re.compile(r"\s*(select|with)\b", re.IGNORECASE)


def read_expectations(w: Walk, top: NodeMap) -> Any:
    """The expectations, in file order."""
    mark = w.mark()
    found = w.items(top, "expect", lambda item, field: _expectation(w, item, field))
    if found is None:
        return BAD
    return tuple(found[1]) if w.clean_since(mark) else BAD


def _expectation(w: Walk, item: Node, field: str) -> Any:
    """One item: a mapping with exactly one kind, read by that kind's reader."""
    em = w.mapping(item, field, EXPECT_KINDS)
    if em is None:
        return BAD
    kinds = list(em.items)
    if len(kinds) > 1:
        w.error(item, field, f"an expectation has exactly one kind, got {' and '.join(kinds)}")
        return BAD
    if not kinds:
        if not em.suggested and len(em.node.value) == 0:
            w.error(item, field, f"expected one of {', '.join(EXPECT_KINDS)}")
        return BAD
    kind = kinds[0]
    return _READERS[kind](w, em.get(kind), join(field, kind), line_of(item))


def _window(w: Walk, m: NodeMap, key: str) -> Window | Any:
    """`between: [start, end]`: two dates (either may be null for open), inside the calendar."""
    node = m.get(key)
    if node is None or is_null(node):
        return Window()
    field = join(m.field, key)
    items = w.sequence(node, field, "[start, end]")
    if items is None:
        return BAD
    if len(items) != 2:
        w.error(node, field, f"expected [start, end], got a list of {len(items)}")
        return BAD
    ends: list[Any] = []
    for i, item in enumerate(items):
        day = None if is_null(item) else w.convert(item, f"{field}[{i}]", as_date)
        w.in_calendar(item, f"{field}[{i}]", day)
        ends.append(day)
    start, end = ends
    if BAD in ends:
        return BAD
    if start is not None and end is not None and end < start:
        w.error(items[1], f"{field}[1]", f"{end} is before the window start {start}")
        return BAD
    return Window(start=start, end=end)


def _min_max(w: Walk, m: NodeMap, conv: Conv, default_min: Any) -> tuple[Any, Any]:
    """`min`/`max` of a count; `min` defaults to 0 when only `max` is given."""
    low = w.opt(m, "min", conv)
    high = w.opt(m, "max", conv)
    if low is None:
        low = default_min if high is None else 0
    if low is not BAD and high not in (None, BAD) and high < low:
        w.error(m.get("max"), join(m.field, "max"), f"max ({high}) must be >= min ({low})")
    return low, high


def _optional_asset(w: Walk, m: NodeMap) -> Any:
    """An optional asset of an expectation: None (or '*') means any asset."""
    if not m.has("asset"):
        return None
    asset = w.ticker_ref(m.get("asset"), join(m.field, "asset"), allow_any=True)
    return None if asset == ANY_ASSET else asset


def _never(w: Walk, node: Node, field: str, line: int) -> Any:
    m = w.mapping(node, field, ("action", "asset", "between"), required=("action", "asset"))
    if m is None:
        return BAD
    action = w.req(m, "action", choice(ACTIONS))
    asset_node = m.get("asset")
    asset = BAD
    if asset_node is not None:
        asset = w.ticker_ref(asset_node, f"{field}.asset", allow_any=True)
    between = _window(w, m, "between")
    if BAD in (action, asset, between):
        return BAD
    return ExpectNever(action=action, asset=asset, between=between, line=line)


def _notice(w: Walk, node: Node, field: str, line: int) -> Any:
    keys = ("event", "asset", "between", "min", "max")
    m = w.mapping(node, field, keys, required=("event",))
    if m is None:
        return BAD
    event = w.req(m, "event", pattern(_SNAKE, "an event name of [a-z_]+"))
    asset = _optional_asset(w, m)
    between = _window(w, m, "between")
    low, high = _min_max(w, m, INT_GE0, 1)
    if BAD in (event, asset, between, low, high):
        return BAD
    return ExpectNotice(event=event, asset=asset, between=between, min=low, max=high, line=line)


def _decision(w: Walk, node: Node, field: str, line: int) -> Any:
    keys = ("action", "asset", "outcome", "decided_by", "between", "min", "max")
    m = w.mapping(node, field, keys)
    if m is None:
        return BAD
    action = w.opt(m, "action", choice(ACTIONS))
    asset = _optional_asset(w, m)
    outcome = w.opt(m, "outcome", choice(OUTCOMES))
    decided_by = _decided_by(w, m)
    between = _window(w, m, "between")
    low, high = _min_max(w, m, INT_GE0, 1)
    if BAD in (action, asset, outcome, decided_by, between, low, high):
        return BAD
    return ExpectDecision(
        action=action,
        asset=asset,
        outcome=outcome,
        decided_by=decided_by,
        between=between,
        min=low,
        max=high,
        line=line,
    )


def _decided_by(w: Walk, m: NodeMap) -> Any:
    """A deciding system: one of DECIDING_SYSTEMS or a custom protection's name."""
    decided_by = w.opt(m, "decided_by", nonempty_text)
    if decided_by in (None, BAD) or not w.custom_ok:
        return decided_by
    systems = [*DECIDING_SYSTEMS, *w.custom_names]
    if decided_by not in systems:
        hint = suggest(decided_by, systems) or f" (known: {', '.join(systems)})"
        w.error(
            m.get("decided_by"),
            join(m.field, "decided_by"),
            f"unknown system '{decided_by}'{hint}",
        )
        return BAD
    return decided_by


def _final(w: Walk, node: Node, field: str, line: int) -> Any:
    m = w.mapping(node, field, FINAL_KEYS)
    if m is None:
        return BAD
    if not any(m.has(k) for k in FINAL_KEYS):
        w.error(node, field, f"give at least one of {', '.join(FINAL_KEYS)}")
        return BAD
    include, exclude = _holdings(w, m)
    low = w.opt(m, "equity_min", NON_NEGATIVE)
    high = w.opt(m, "equity_max", NON_NEGATIVE)
    if low not in (None, BAD) and high not in (None, BAD) and high < low:
        w.error(
            m.get("equity_max"),
            f"{field}.equity_max",
            f"equity_max ({fmt(high)}) must be >= equity_min ({fmt(low)})",
        )
        high = BAD
    if BAD in (include, exclude, low, high):
        return BAD
    return ExpectFinal(
        holdings_include=include,
        holdings_exclude=exclude,
        equity_min=low,
        equity_max=high,
        line=line,
    )


def _holdings(w: Walk, m: NodeMap) -> tuple[Any, Any]:
    """(holdings_include, holdings_exclude): defined tickers, none in both."""
    include: Any = []
    exclude: Any = []
    if m.has("holdings_include"):
        include = w.ticker_list(m.get("holdings_include"), f"{m.field}.holdings_include")
    if m.has("holdings_exclude"):
        exclude = w.ticker_list(m.get("holdings_exclude"), f"{m.field}.holdings_exclude")
    if include is not BAD and exclude is not BAD:
        items = m.get("holdings_exclude").value if exclude else []
        for i, (ticker, item) in enumerate(zip(exclude, items, strict=True)):
            if ticker in include:
                w.error(
                    item,
                    f"{m.field}.holdings_exclude[{i}]",
                    f"'{ticker}' is also in holdings_include",
                )
                exclude = BAD
    return include, exclude


def _metric(w: Walk, node: Node, field: str, line: int) -> Any:
    m = w.mapping(node, field, ("name", "min", "max"), required=("name",))
    if m is None:
        return BAD
    name = w.req(m, "name", pattern(_SNAKE, "a metric name of [a-z_]+"))
    if name is not BAD and name not in METRICS:
        known = sorted(METRICS)
        hint = suggest(name, known) or f" (known: {', '.join(known)})"
        w.error(m.get("name"), f"{field}.name", f"unknown metric '{name}'{hint}")
        name = BAD
    if not m.has("min") and not m.has("max"):
        w.error(node, field, "give min, max or both")
        return BAD
    low = w.opt(m, "min", as_number)
    high = w.opt(m, "max", as_number)
    if low not in (None, BAD) and high not in (None, BAD) and high < low:
        w.error(m.get("max"), f"{field}.max", f"max ({fmt(high)}) must be >= min ({fmt(low)})")
        high = BAD
    if BAD in (name, low, high):
        return BAD
    return ExpectMetric(name=name, min=low, max=high, line=line)


def _sql(w: Walk, node: Node, field: str, line: int) -> Any:
    m = w.mapping(node, field, ("label", "query"), required=("label", "query"))
    if m is None:
        return BAD
    label = w.req(m, "label", nonempty_text)
    query = w.req(m, "query", nonempty_text)
    if query is not BAD and not _SQL_START.match(query):
        w.error(m.get("query"), f"{field}.query", "expected a SELECT (or WITH) query")
        query = BAD
    if query is not BAD:
        problem = readonly_select_problem(query)
        if problem is not None:
            w.error(m.get("query"), f"{field}.query", problem)
            query = BAD
    if BAD in (label, query):
        return BAD
    return ExpectSql(label=label, query=query, line=line)


_READERS: dict[str, Callable[[Walk, Node, str, int], Any]] = {
    "never": _never,
    "notice": _notice,
    "decision": _decision,
    "final": _final,
    "metric": _metric,
    "sql": _sql,
}
#: The kinds of an expectation, in the order messages list them.
EXPECT_KINDS: tuple[str, ...] = tuple(_READERS)
