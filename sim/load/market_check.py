"""Check a loaded scenario's market before anything is written (docs/market.md).

The loader checks every field on its own; this builds the run's market exactly as the
model will (`build_market` with the run's seed) and checks what only the market shows:

- csv: the calendar has rows in the csv (at least `days` of them from `calendar.start`);
  every shock and intervention falls on or between the first and last simulated day;
- every starting holding has a price on the first simulated day (a csv close on or
  before it, or a path);
- every close the simulation will see (generated, csv, paths, after shocks) is finite
  and in [MIN_PRICE, MAX_PRICE].

Problems point at the scenario line of the field concerned.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from yaml.nodes import Node

from domain.limits import MAX_PRICE, MIN_PRICE
from domain.market import MarketData
from domain.scenario import Scenario
from sim.load.prices import read_price_csv
from sim.load.problems import Problem, display_path
from sim.load.yaml_nodes import find, find_key, line_of
from sim.run.market_data import build_market, csv_market, resolve_csv_path


class _Where:
    """Lines of fields in one scenario file (line 1 when a field is not written)."""

    def __init__(self, file: str, root: Node):
        self.file = file
        self.root = root

    def problem(self, field: str, path: tuple[str | int, ...], message: str) -> Problem:
        node = find_key(self.root, *path) if isinstance(path[-1], str) else None
        node = node or find(self.root, *path)
        return Problem(self.file, line_of(node) if node is not None else 1, field, message)

    def market_problem(self, message: str) -> Problem:
        key = next((k for k in ("market", "assets", "calendar") if find(self.root, k)), "name")
        return self.problem("market", (key,), message)


def market_problems(scenario: Scenario, root: Node, seed: int | None = None) -> list[Problem]:
    """Everything wrong with the market of `scenario` (loaded from the file whose node
    tree is `root`) when run with `seed` (the scenario's when None); [] when it is fine."""
    where = _Where(scenario.path or scenario.name, root)
    if scenario.market.source == "csv":
        problems = _csv_window(scenario, where)
        if problems:
            return problems
    try:
        with np.errstate(all="ignore"):
            market, _ = build_market(
                scenario, np.random.default_rng(scenario.seed if seed is None else seed)
            )
    except ValueError as exc:
        return [where.market_problem(f"cannot build the market: {exc}")]
    return _price_range(market, where) or _holdings_priced(scenario, market, where)


def _csv_window(scenario: Scenario, where: _Where) -> list[Problem]:
    path = resolve_csv_path(scenario)
    shown = display_path(path, scenario.path or "")
    prices = read_price_csv(path)
    try:
        sim_dates = csv_market(scenario, prices).sim_dates
    except ValueError as exc:
        span = f"its rows run {prices.dates[0]} to {prices.dates[-1]}"
        return [where.problem("calendar", ("calendar",), f"{shown}: {exc} ({span})")]
    first, last = sim_dates[0], sim_dates[-1]
    dated: list[tuple[str, tuple[str | int, ...], dt.date]] = [
        (f"market.shocks[{i}].date", ("market", "shocks", i, "date"), s.date)
        for i, s in enumerate(scenario.market.shocks)
    ]
    dated += [
        (f"interventions[{i}].date", ("interventions", i, "date"), iv.date)
        for i, iv in enumerate(scenario.interventions)
    ]
    return [
        where.problem(
            field,
            path,
            f"{day} is outside the simulated days {first} to {last}"
            f" (the trading days of {shown} in the calendar)",
        )
        for field, path, day in dated
        if not first <= day <= last
    ]


def _price_range(market: MarketData, where: _Where) -> list[Problem]:
    closes = market.closes
    bad = ~np.isnan(closes) & ~((closes >= MIN_PRICE) & (closes <= MAX_PRICE))
    if not bad.any():
        return []
    row, col = (int(i[0]) for i in np.nonzero(bad))
    return [
        where.market_problem(
            f"prices must stay finite and in [{MIN_PRICE:g}, {MAX_PRICE:g}]:"
            f" {market.tickers[col]} closes at {closes[row, col]:g} on {market.dates[row]}"
            " (drift, volatility, start prices and shocks compound); lower them"
        )
    ]


def _holdings_priced(scenario: Scenario, market: MarketData, where: _Where) -> list[Problem]:
    first = market.sim_dates[0]
    return [
        where.problem(
            f"portfolio.{asset}",
            ("portfolio", asset),
            f"a starting holding needs a price on the first simulated day {first};"
            f" {asset} has no close on or before it",
        )
        for asset in sorted(scenario.portfolio)
        if market.price(asset, first) is None
    ]
