"""The tickers of a run: `buckets`, and `market.source`, `market.csv` and `market.paths`.

Read before every section that names a ticker: a ticker is defined when it is in a
bucket, a column of the csv (which is read and checked in full here, through
`sim.load.prices`) or a key of `market.paths`.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node

from domain.scenario import UNKNOWN_BUCKET
from sim.load.prices import CsvError, read_price_csv
from sim.load.problems import Problem, display_path, exists
from sim.load.reader import NodeMap
from sim.load.values import BAD, PRICE, choice, defined_ticker, join, nonempty_text
from sim.load.walk import Walk
from sim.load.yaml_nodes import is_null, line_of

MARKET_KEYS: tuple[str, ...] = (
    "source",
    "csv",
    "drift",
    "volatility",
    "correlation",
    "shocks",
    "paths",
    "warmup_days",
)


def read_buckets(w: Walk, top: NodeMap) -> Any:
    """bucket -> tickers; sets the walk's bucket names and bucketed tickers."""
    node = top.get("buckets")
    if node is None or is_null(node):
        w.buckets_ok = True
        return {}
    mark = w.mark()
    m = w.mapping(node, "buckets", what="a mapping of bucket -> list of tickers")
    out: dict[str, list[str]] = {}
    if m is not None:
        for bucket, (key_node, value_node) in m.items.items():
            if not bucket.strip():
                w.error(key_node, "buckets", "a bucket name cannot be empty")
                continue
            tickers = _bucket(w, bucket, value_node)
            if tickers is not None:
                out[bucket] = tickers
    w.buckets_ok = w.clean_since(mark)
    w.bucket_names = list(out)
    return out if w.buckets_ok else BAD


def _bucket(w: Walk, bucket: str, node: Node) -> list[str] | None:
    """The tickers of one bucket, each in no other bucket and listed once."""
    field = join("buckets", bucket)
    items = w.sequence(node, field, "a list of tickers")
    if items is None:
        return None
    if not items:
        w.error(node, field, "expected a non-empty list of tickers")
        return None
    tickers: list[str] = []
    for i, item in enumerate(items):
        item_field = f"{field}[{i}]"
        ticker = w.required_value(item, item_field, defined_ticker)
        if ticker is BAD:
            continue
        seen = w.bucket_tickers.get(ticker)
        if seen is not None:
            where, line = seen
            if where == bucket:
                msg = f"ticker '{ticker}' is listed twice (first at line {line})"
            else:
                msg = f"ticker '{ticker}' is already in bucket '{where}' (line {line})"
            w.error(item, item_field, msg)
            continue
        w.bucket_tickers[ticker] = (bucket, line_of(item))
        w.bucket_index[ticker] = i
        tickers.append(ticker)
    return tickers


def read_universe(w: Walk, top: NodeMap) -> tuple[NodeMap | None, Any, Any, Any]:
    """source, csv and paths: what defines the tickers of the run.

    Returns:
        (the market mapping or None, source, the csv's absolute path or None, paths);
        the walk's `universe` is set.
    """
    node = top.get("market")
    m: NodeMap | None = None
    if node is not None and not is_null(node):
        m = w.mapping(node, "market", MARKET_KEYS)
        w.market_invalid = m is None
    universe_mark = w.mark()
    source: Any = "synthetic"
    csv_path: Any = None
    paths: Any = {}
    csv_tickers: set[str] = set()
    if m is not None:
        source, csv_path, csv_tickers = _source(w, m)
        paths = _paths(w, m)
    if source == "synthetic" and w.buckets_ok and not w.bucket_tickers:
        anchor = next((k for k in ("buckets", "market") if top.get(k) is not None), None)
        where = top.key_node(anchor) if anchor is not None else top.node
        w.error(where, "buckets", "a synthetic market needs at least one bucket of tickers")
    w.universe_ok = w.buckets_ok and w.clean_since(universe_mark)
    if csv_path is not None and paths is not BAD:
        _buckets_priced(w, csv_tickers, paths)
    w.universe = set(w.bucket_tickers) | csv_tickers
    if paths is not BAD:
        w.universe |= set(paths)
        unbucketed = any(t not in w.bucket_tickers for t in paths)
        if unbucketed and UNKNOWN_BUCKET not in w.bucket_names:
            w.bucket_names.append(UNKNOWN_BUCKET)
    return m, source, csv_path, paths


def _source(w: Walk, m: NodeMap) -> tuple[Any, str | None, set[str]]:
    """(source, the csv's absolute path or None, the csv's tickers)."""
    source = w.opt(m, "source", choice(("synthetic", "csv")), "synthetic")
    csv_text = w.opt(m, "csv", nonempty_text)
    if source == "csv" and csv_text is None:
        w.error(m.node, "market.csv", "required when market.source is csv")
    elif source == "synthetic" and csv_text not in (None, BAD):
        w.error(m.get("csv"), "market.csv", "only used with market.source: csv")
    elif source == "csv" and csv_text is not BAD:
        return (source, *_csv_file(w, m.get("csv"), csv_text))
    return source, None, set()


def _buckets_priced(w: Walk, csv_tickers: set[str], paths: dict[str, Any]) -> None:
    """Report a bucketed ticker of a csv market with neither csv prices nor a path."""
    for ticker, (bucket, line) in w.bucket_tickers.items():
        if ticker not in csv_tickers and ticker not in paths:
            w.error(
                line,
                f"buckets.{bucket}[{w.bucket_index[ticker]}]",
                f"ticker '{ticker}' has no prices: it is not in the csv or market.paths",
            )


def _csv_file(w: Walk, node: Node, text: str) -> tuple[str | None, set[str]]:
    """The csv's absolute path and tickers, once its whole content checked clean; a
    csv problem is reported at the csv's own line and column."""
    resolved = (w.base_dir / text).resolve()
    shown = display_path(resolved, w.file)
    if resolved.is_dir():
        w.error(node, "market.csv", f"is a directory, not a csv file: {shown}")
    elif not exists(resolved, file=True):
        w.error(node, "market.csv", f"file not found: {shown}")
    else:
        try:
            prices = read_price_csv(resolved)
        except CsvError as exc:
            w.problems.append(Problem(shown, exc.line, exc.column, exc.message))
        else:
            return str(resolved), set(prices.tickers)
    return None, set()


def _paths(w: Walk, m: NodeMap) -> Any:
    """`market.paths`: ticker -> its closes day by day."""
    node = m.get("paths")
    if node is None or is_null(node):
        return {}
    pm = w.mapping(node, "market.paths", what="a mapping of ticker -> list of prices")
    if pm is None:
        return BAD
    out: dict[str, Any] = {}
    for ticker, (key_node, value_node) in pm.items.items():
        field = join("market.paths", ticker)
        if w.convert(key_node, field, defined_ticker) is BAD:
            out[ticker] = BAD
            continue
        items = w.sequence(value_node, field, "a list of prices")
        if items is None:
            out[ticker] = BAD
            continue
        if not items:
            w.error(value_node, field, "expected a non-empty list of prices")
            out[ticker] = BAD
            continue
        prices = [w.required_value(v, f"{field}[{i}]", PRICE) for i, v in enumerate(items)]
        out[ticker] = BAD if BAD in prices else prices
    return BAD if BAD in out.values() else out
