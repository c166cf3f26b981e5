"""Market I/O adapter: build a scenario's market and regimes.

Csv files are read by `sim.load.prices.read_price_csv`, the one price csv reader: the
loader checks a file with it and the market is built from what it returns, so both
accept the same layouts (long and wide) by the same rules.

`build_market` is the one entry point the model needs: it picks the synthetic
generator or a csv file, applies the scenario's paths and shocks, then builds the
regime timeline (scripted or detected). See docs/market.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from domain.market import (
    MarketData,
    apply_shocks_and_paths,
    generate_synthetic,
    market_from_history,
    synthetic_dates,
)
from domain.regimes import RegimeState, detected_timeline, scripted_regimes, scripted_timeline
from domain.scenario import Scenario
from sim.load.prices import CsvPrices, read_price_csv

__all__ = [
    "build_market",
    "csv_market",
    "named_assets",
    "resolve_csv_path",
]


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
