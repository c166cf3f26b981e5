"""The rest of the `market` section: drift, volatility, correlation, shocks, warm-up.

`market.source`, `market.csv` and `market.paths` define tickers and are read first
(`sim.load.universe`); the levels and shocks here refer to those tickers and buckets.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node

from domain.limits import (
    MAX_CALENDAR_DAYS,
    MAX_DRIFT,
    MAX_SHOCK_RETURN,
    MAX_VOLATILITY,
    MAX_WARMUP_DAYS,
)
from domain.scenario import CorrelationSpec, LevelSpec, MarketSpec, Shock
from sim.load.reader import NodeMap
from sim.load.values import BAD, Conv, bounded, fmt, join, nonempty_text, suggest
from sim.load.walk import Walk
from sim.load.yaml_nodes import as_bool, as_date, as_int, as_number, is_null

SHOCK_KEYS: tuple[str, ...] = ("date", "return", "days", "assets", "bucket", "all")


def read_market(w: Walk, m: NodeMap | None, source: Any, csv_path: Any, paths: Any) -> Any:
    """The MarketSpec, from the market mapping and what `read_universe` returned."""
    if m is None:
        return BAD if w.market_invalid else MarketSpec()
    drift = _level(w, m, "drift", 0.06, bounded(as_number, lo=-MAX_DRIFT, hi=MAX_DRIFT))
    volatility = _level(w, m, "volatility", 0.20, bounded(as_number, lo=0, hi=MAX_VOLATILITY))
    correlation = _correlation(w, m)
    shocks = _shocks(w, m)
    warmup = w.opt(m, "warmup_days", bounded(as_int, lo=0, hi=MAX_WARMUP_DAYS), 252)
    parts = (source, csv_path, paths, drift, volatility, correlation, shocks, warmup)
    if BAD in parts:
        return BAD
    return MarketSpec(
        source=source,
        csv=csv_path,
        drift=drift,
        volatility=volatility,
        correlation=correlation,
        shocks=shocks,
        paths=paths,
        warmup_days=warmup,
    )


def _level(w: Walk, m: NodeMap, key: str, default: float, conv: Conv) -> Any:
    """drift / volatility: a number, or {default, <bucket or ticker>: n, by_regime}."""
    node = m.get(key)
    field = join("market", key)
    if node is None or is_null(node):
        return LevelSpec(default=default)
    if not isinstance(node, MappingNode):
        value = w.convert(node, field, conv)
        return BAD if value is BAD else LevelSpec(default=value)
    lm = w.mapping(node, field)
    if lm is None:
        return BAD
    mark = w.mark()
    by_key: dict[str, Any] = {}
    by_regime: dict[str, dict[str, Any]] = {}
    for name, (key_node, value_node) in lm.items.items():
        name_field = join(field, name)
        if name == "default":
            default = w.required_value(value_node, name_field, conv)
        elif name == "by_regime":
            _by_regime(w, value_node, name_field, conv, by_regime)
        else:
            _level_target(w, key_node, name_field, name)
            by_key[name] = w.required_value(value_node, name_field, conv)
    if not w.clean_since(mark):
        return BAD
    return LevelSpec(default=default, by_key=by_key, by_regime=by_regime)


def _by_regime(w: Walk, node: Node, field: str, conv: Conv, out: dict[str, dict[str, Any]]) -> None:
    """`by_regime: {regime: {bucket or ticker: n}}` of a level, into `out`."""
    rm = w.mapping(node, field, what="a mapping of regime -> values")
    if rm is None:
        return
    for regime, (regime_node, regime_value) in rm.items.items():
        regime_field = join(field, regime)
        w.known_regime(regime_node, regime_field, regime)
        vm = w.mapping(regime_value, regime_field)
        if vm is None:
            continue
        out[regime] = {}
        for target, (target_node, target_value) in vm.items.items():
            target_field = join(regime_field, target)
            _level_target(w, target_node, target_field, target)
            out[regime][target] = w.required_value(target_value, target_field, conv)


def _level_target(w: Walk, node: Node, field: str, name: str) -> None:
    """Report a level key that is neither a bucket nor a defined ticker."""
    if not (w.buckets_ok and w.universe_ok):
        return
    if name in w.bucket_names or name in w.universe:
        return
    options = [*w.bucket_names, *sorted(w.universe)]
    w.error(
        node,
        field,
        f"'{name}' is neither a bucket nor a ticker defined in buckets, the csv or"
        f" market.paths{suggest(name, options)}",
    )


def _correlation(w: Walk, m: NodeMap) -> Any:
    node = m.get("correlation")
    if node is None or is_null(node):
        return CorrelationSpec()
    cm = w.mapping(node, "market.correlation", ("within_bucket", "across_buckets"))
    if cm is None:
        return BAD
    unit = bounded(as_number, lo=0, hi=1, hi_open=True)
    defaults = CorrelationSpec()
    within = w.opt(cm, "within_bucket", unit, defaults.within_bucket)
    across = w.opt(cm, "across_buckets", unit, defaults.across_buckets)
    if BAD in (within, across):
        return BAD
    if across > within:
        where = cm.get("across_buckets") if cm.has("across_buckets") else cm.get("within_bucket")
        w.error(
            where,
            "market.correlation",
            f"across_buckets ({fmt(across)}) must be <= within_bucket ({fmt(within)})",
        )
        return BAD
    return CorrelationSpec(within_bucket=within, across_buckets=across)


def _shocks(w: Walk, m: NodeMap) -> Any:
    node = m.get("shocks")
    if node is None or is_null(node):
        return ()
    items = w.sequence(node, "market.shocks")
    if items is None:
        return BAD
    out = [_shock(w, item, f"market.shocks[{i}]") for i, item in enumerate(items)]
    return BAD if BAD in out else tuple(out)


def _shock(w: Walk, item: Node, field: str) -> Any:
    """One shock: a date, a return, its days and exactly one target."""
    sm = w.mapping(item, field, SHOCK_KEYS, required=("date", "return"))
    if sm is None:
        return BAD
    mark = w.mark()
    day = w.req(sm, "date", as_date)
    w.in_calendar(sm.get("date") or item, f"{field}.date", day)
    ret = w.req(sm, "return", bounded(as_number, lo=-1, lo_open=True, hi=MAX_SHOCK_RETURN))
    days = w.opt(sm, "days", bounded(as_int, lo=1, hi=MAX_CALENDAR_DAYS), 1)
    targets = [k for k in ("assets", "bucket") if sm.has(k)]
    all_ = w.opt(sm, "all", as_bool, False)
    if all_ is True:
        targets.append("all")
    if len(targets) != 1:
        got = f"; got {' and '.join(targets)}" if targets else ""
        w.error(item, field, f"a shock needs exactly one target: assets, bucket or all: true{got}")
        return BAD
    assets = ()
    if sm.has("assets"):
        assets = w.ticker_list(sm.get("assets"), f"{field}.assets")
    bucket = w.opt(sm, "bucket", nonempty_text)
    w.known_bucket(sm.get("bucket") or item, f"{field}.bucket", bucket)
    if not w.clean_since(mark):
        return BAD
    return Shock(date=day, return_=ret, days=days, assets=assets, bucket=bucket, all=all_)
