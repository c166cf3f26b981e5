"""The `regimes` section: source, the scripted timeline and the favoured buckets.

A regime named in the timeline becomes known (beside the built-in ones) to every later
reference: favoured buckets and the `by_regime` levels of the market.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from yaml.nodes import Node

from domain.scenario import SEVERITIES, RegimePoint, RegimeSpec
from sim.load.reader import NodeMap
from sim.load.values import BAD, FRACTION, choice, join, nonempty_text
from sim.load.walk import Walk
from sim.load.yaml_nodes import as_date, is_null, line_of

POINT_KEYS: tuple[str, ...] = ("date", "regime", "confidence", "severity", "stability")


def read_regimes(w: Walk, top: NodeMap) -> Any:
    """The RegimeSpec; the walk's `regimes` gain the timeline's regimes."""
    node = top.get("regimes")
    if node is None or is_null(node):
        return RegimeSpec()
    m = w.mapping(node, "regimes", ("source", "timeline", "favored_buckets"))
    if m is None:
        w.regimes_ok = False
        return BAD
    source = w.opt(m, "source", choice(("scripted", "detected")), "scripted")
    timeline = _timeline(w, m, source)
    favored = _favored(w, m)
    if BAD in (source, timeline, favored):
        return BAD
    return RegimeSpec(source=source, timeline=timeline, favored_buckets=favored)


def _timeline(w: Walk, m: NodeMap, source: Any) -> Any:
    node = m.get("timeline")
    if node is None or is_null(node):
        return ()
    mark = w.mark()
    items = w.sequence(node, "regimes.timeline")
    if items is None:
        w.regimes_ok = False
        return BAD
    if source == "detected" and items:
        w.error(
            m.key_node("timeline"),
            "regimes.timeline",
            "a timeline is only used with regimes.source: scripted",
        )
    out: list[Any] = []
    # (date, line) of every valid date so far: the next must follow the last
    previous: list[tuple[dt.date, int]] = []
    for i, item in enumerate(items):
        point = _point(w, item, f"regimes.timeline[{i}]", previous)
        out.append(point)
        if point is not BAD and point.regime not in w.regimes:
            w.regimes.append(point.regime)
    w.regimes_ok = w.clean_since(mark)
    return tuple(out) if w.regimes_ok else BAD


def _point(w: Walk, item: Node, field: str, previous: list[tuple[dt.date, int]]) -> Any:
    """One timeline point, dated strictly after the previous valid date."""
    pm = w.mapping(item, field, POINT_KEYS, required=("date", "regime"))
    if pm is None:
        return BAD
    day = w.req(pm, "date", as_date)
    date_node = pm.get("date") or item
    w.in_calendar(date_node, f"{field}.date", day)
    if day is not BAD and previous and day <= previous[-1][0]:
        last, line = previous[-1]
        w.error(
            date_node,
            f"{field}.date",
            f"dates must be strictly increasing: {day} is not after {last} (line {line})",
        )
    if day is not BAD:
        previous.append((day, line_of(date_node)))
    regime = w.req(pm, "regime", nonempty_text)
    confidence = w.opt(pm, "confidence", FRACTION, 1.0)
    severity = w.opt(pm, "severity", choice(SEVERITIES))
    stability = w.opt(pm, "stability", FRACTION)
    parts = (day, regime, confidence, severity, stability)
    if BAD in parts:
        return BAD
    return RegimePoint(*parts)


def _favored(w: Walk, m: NodeMap) -> Any:
    node = m.get("favored_buckets")
    if node is None or is_null(node):
        return None
    fm = w.mapping(node, "regimes.favored_buckets", what="a mapping of regime -> buckets")
    if fm is None:
        return BAD
    mark = w.mark()
    out: dict[str, list[str]] = {}
    for regime, (key_node, value_node) in fm.items.items():
        field = join("regimes.favored_buckets", regime)
        w.known_regime(key_node, field, regime)
        items = w.sequence(value_node, field, "a list of buckets")
        if items is None:
            continue
        out[regime] = []
        for i, item in enumerate(items):
            bucket = w.required_value(item, f"{field}[{i}]", nonempty_text)
            w.known_bucket(item, f"{field}[{i}]", bucket)
            out[regime].append(bucket)
    return out if w.clean_since(mark) else BAD
