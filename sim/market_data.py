"""Market I/O adapter: read price csv files and build a scenario's market and regimes.

`build_market` is the one entry point the model needs: it picks the synthetic
generator or a csv file, applies the scenario's paths and shocks, then builds the
regime timeline (scripted or detected). See docs/market.md.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import attrs
import numpy as np
import pandas as pd

from domain.market import (
    MarketData,
    apply_shocks_and_paths,
    generate_synthetic,
    market_from_history,
    synthetic_dates,
)
from domain.regimes import RegimeState, detected_timeline, scripted_regimes, scripted_timeline
from domain.scenario import Scenario

CLOSE_COLUMNS: tuple[str, ...] = ("close", "price")
ADJ_CLOSE_COLUMNS: tuple[str, ...] = ("adj_close", "adjusted_close", "adjclose")


@attrs.frozen(eq=False)
class CsvPrices:
    """Closes read from a csv file.

    Attributes:
        dates: ascending, unique.
        tickers: sorted.
        closes: float64 (len(dates), len(tickers)); NaN where the file has no value.
    """

    dates: tuple[dt.date, ...]
    tickers: tuple[str, ...]
    closes: np.ndarray


def _normalise(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_")


def read_price_csv(path: str | os.PathLike[str]) -> CsvPrices:
    """Read a long or wide price csv.

    Long: columns `date`, `ticker` (or `symbol`) and `close` and/or `adj_close` (others,
    such as open/high/low/volume, are ignored). A ticker with any adj_close value uses
    adj_close only (a blank cell stays missing); a ticker without any uses close.
    Wide: a `date` column and one column per ticker. Column names are matched
    case-insensitively (spaces read as underscores; `adjusted_close` and `adjclose`
    also mean adj_close).

    Raises:
        ValueError: no date column, no close column in a long file, a duplicated
            (date, ticker) or date, an unparseable date, or a non-numeric close.
    """
    header = pd.read_csv(path, nrows=0)
    names = {_normalise(c): c for c in header.columns}
    if "date" not in names:
        raise ValueError(f"{path}: no 'date' column (columns: {list(header.columns)})")
    if "ticker" in names or "symbol" in names:
        frame = _read_long(path, names)
    else:
        frame = _read_wide(path, names)
    frame = frame.sort_index(axis=0).sort_index(axis=1)
    dates = tuple(d.date() for d in frame.index)
    return CsvPrices(
        dates=dates,
        tickers=tuple(str(c) for c in frame.columns),
        closes=frame.to_numpy(dtype=np.float64, na_value=np.nan),
    )


def _parse_dates(values: pd.Series, path: str | os.PathLike[str]) -> pd.Series:
    try:
        return pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: unparseable date ({exc})") from exc


def _numeric(values: pd.Series, path: str | os.PathLike[str], what: str) -> pd.Series:
    try:
        return pd.to_numeric(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: non-numeric {what} ({exc})") from exc


def _read_long(path: str | os.PathLike[str], names: dict[str, str]) -> pd.DataFrame:
    ticker_col = names.get("ticker", names.get("symbol"))
    adj = next((names[c] for c in ADJ_CLOSE_COLUMNS if c in names), None)
    close = next((names[c] for c in CLOSE_COLUMNS if c in names), None)
    if adj is None and close is None:
        raise ValueError(f"{path}: a long price file needs a close or adj_close column")
    wanted = [names["date"], ticker_col] + [c for c in (adj, close) if c is not None]
    raw = pd.read_csv(path, usecols=wanted, dtype={ticker_col: str})
    tickers = raw[ticker_col].str.strip()
    value = _numeric(raw[adj], path, "adj_close") if adj is not None else None
    if close is not None:
        plain = _numeric(raw[close], path, "close")
        if value is None:
            value = plain
        else:
            # Per ticker, never per cell: mixing adjusted and raw closes fakes jumps.
            has_adj = value.notna().groupby(tickers).transform("any")
            value = value.where(has_adj, plain)
    table = pd.DataFrame(
        {"date": _parse_dates(raw[names["date"]], path), "ticker": tickers, "value": value}
    )
    duplicated = table.duplicated(["date", "ticker"], keep=False)
    if duplicated.any():
        first = table[duplicated].iloc[0]
        raise ValueError(
            f"{path}: duplicated row for {first['ticker']} on {first['date'].date()} "
            f"({int(duplicated.sum())} duplicated rows)"
        )
    return table.pivot(index="date", columns="ticker", values="value")


def _read_wide(path: str | os.PathLike[str], names: dict[str, str]) -> pd.DataFrame:
    raw = pd.read_csv(path)
    date_col = names["date"]
    index = pd.DatetimeIndex(_parse_dates(raw[date_col], path))
    if index.has_duplicates:
        raise ValueError(f"{path}: duplicated date {index[index.duplicated()][0].date()}")
    frame = raw.drop(columns=[date_col])
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = _numeric(frame[column], path, f"close of {column}")
    frame.index = index
    return frame


def resolve_csv_path(scenario: Scenario) -> Path:
    """The csv path of a csv market: relative paths are relative to the scenario file
    (to the working directory when the scenario has no file)."""
    if not scenario.market.csv:
        raise ValueError("market.source is csv but market.csv is not set")
    path = Path(scenario.market.csv).expanduser()
    if not path.is_absolute() and scenario.path:
        path = Path(scenario.path).parent / path
    return path


def named_assets(scenario: Scenario) -> set[str]:
    """Every asset the scenario names outside `buckets` (assets, paths, portfolio,
    signals, shocks, interventions)."""
    names = set(scenario.assets) | set(scenario.market.paths) | set(scenario.portfolio)
    names.update(o.asset for o in scenario.signals.scores + scenario.signals.trending)
    for shock in scenario.market.shocks:
        names.update(shock.assets)
    names.update(i.asset for i in scenario.interventions if i.asset)
    return names


def csv_market(scenario: Scenario, prices: CsvPrices) -> MarketData:
    """Cut the scenario's market out of csv prices (before paths and shocks).

    Universe: with `buckets`, the bucketed tickers plus csv tickers the scenario names
    elsewhere; without `buckets`, every csv ticker (bucket "Unknown").

    Raises:
        ValueError: a bucketed ticker with neither csv prices nor a path.
    """
    bucket_of = scenario.bucket_of()
    in_csv = set(prices.tickers)
    if bucket_of:
        missing = sorted(set(bucket_of) - in_csv - set(scenario.market.paths))
        if missing:
            raise ValueError(f"assets {missing} have no prices in the csv and no path")
        universe = (set(bucket_of) | named_assets(scenario)) & in_csv
    else:
        universe = in_csv
    cols = [j for j, t in enumerate(prices.tickers) if t in universe]
    cal = scenario.calendar
    return market_from_history(
        prices.dates,
        [prices.tickers[j] for j in cols],
        prices.closes[:, cols],
        bucket_of,
        start=cal.start,
        days=cal.days,
        end=cal.end,
        warmup_days=scenario.market.warmup_days,
    )


def build_market(
    scenario: Scenario, rng: np.random.Generator
) -> tuple[MarketData, tuple[RegimeState, ...]]:
    """The scenario's market (paths and shocks applied) and its regime timeline.

    Synthetic markets are driven by the scripted timeline's regimes (also when the
    regime source is `detected`: detected regimes never feed back into prices).

    Args:
        scenario: the loaded scenario.
        rng: randomness of the synthetic generator (unused for csv markets).

    Returns:
        (market, one RegimeState per simulated day).
    """
    spec = scenario.market
    if spec.source == "csv":
        base = csv_market(scenario, read_price_csv(resolve_csv_path(scenario)))
    else:
        dates, start = synthetic_dates(scenario)
        base = generate_synthetic(
            scenario, rng, regimes_by_day=scripted_regimes(scenario.regimes, dates[start:])
        )
    market = apply_shocks_and_paths(base, spec.shocks, spec.paths, scenario.bucket_of())
    if scenario.regimes.source == "detected":
        timeline = detected_timeline(market, scenario.regimes)
    else:
        timeline = scripted_timeline(scenario.regimes, market.sim_dates)
    return market, timeline
