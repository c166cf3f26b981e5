"""Portfolio construction benchmark: the planner's time per rebalance step.

    python bench/bench_construction.py [--assets 100 500 2000] [--steps 250] [--seed 0]

For each universe size a synthetic market is drawn (ten buckets, a common factor per
bucket so that within-bucket correlations are high, 252 warm-up days), the assets are
scored every day with `domain.scoring.score_assets` (not timed: that is the scoring
stage), and the portfolio manager's construction is timed, step by step:

- **inputs**: building `PlanInputs` (the book's weights and days held, buckets, the closes
  window the planner reads);
- **plan**: `plan_targets` (limits, ranking, selection with bucket slots, correlation
  filter, overrides and minimum representation, sizing with volatility scaling, bucket
  scaling, residual and drawdown);
- **trades**: `diff_trades` against the book.

The book is carried from step to step as if every planned trade had been filled at the
target weight, so holdings, age decay and re-sizing are exercised as in a run. The regime
changes every 40 steps (dynamic limits, favoured buckets) and a drawdown above the trigger
is simulated on one step in ten. Every protection is out of the picture: this is the
planner alone, with the default configuration (daily rebalancing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence

import attrs
import numpy as np

from domain.calendar import weekdays
from domain.config import Config, default_config
from domain.construction import (
    Plan,
    PlanInputs,
    diff_trades,
    plan_targets,
    window_rows,
)
from domain.scoring import ScoreBoard, score_assets, window_needed

BUCKETS = (
    "Risk Assets",
    "Growth",
    "Value",
    "Cyclicals",
    "International",
    "Emerging Markets",
    "Commodities",
    "Real assets",
    "Defensive Assets",
    "Fixed Income",
)
WARMUP = 252
REGIME_EVERY = 40
FAVOURED = (("Risk Assets", "Growth"), ("Cyclicals", "Value", "International", "Commodities"))


@attrs.frozen
class SizeResult:
    """Timings (ms per step) and what the planner did, for one universe size."""

    assets: int
    steps: int
    inputs_ms: tuple[float, ...]
    plan_ms: tuple[float, ...]
    trades_ms: tuple[float, ...]
    mean_positions: float
    mean_candidates: float
    mean_trades: float
    overrides: int
    correlation_drops: int

    def stats(self, values: Sequence[float]) -> tuple[float, float, float, float]:
        """Mean, p50, p95 and max of `values`."""
        arr = np.asarray(values)
        return (
            float(arr.mean()),
            float(np.percentile(arr, 50)),
            float(np.percentile(arr, 95)),
            float(arr.max()),
        )


def synthetic_market(
    assets: int, rows: int, rng: np.random.Generator
) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """Tickers, their buckets and closes (rows x assets) with a factor per bucket."""
    tickers = tuple(f"A{j:04d}" for j in range(assets))
    bucket_index = np.arange(assets) % len(BUCKETS)
    buckets = tuple(BUCKETS[b] for b in bucket_index)
    vol = rng.uniform(0.008, 0.025, assets)
    drift = rng.normal(0.0003, 0.0006, assets)
    factor = rng.normal(0.0, 1.0, (rows, len(BUCKETS)))
    loading = rng.uniform(0.3, 0.95, assets)
    shocks = loading * factor[:, bucket_index] + np.sqrt(1 - loading**2) * rng.normal(
        0.0, 1.0, (rows, assets)
    )
    log_prices = np.cumsum(drift + vol * shocks, axis=0)
    return tickers, buckets, 100.0 * np.exp(log_prices)


@attrs.define
class _Tally:
    """Per-step stage times (ms) and running counts of what the planner did."""

    inputs_ms: list[float] = attrs.field(factory=list)
    plan_ms: list[float] = attrs.field(factory=list)
    trades_ms: list[float] = attrs.field(factory=list)
    positions: int = 0
    candidates: int = 0
    trades: int = 0
    overrides: int = 0
    drops: int = 0

    def add(self, clock: Sequence[float], plan: Plan, trades: Sequence[object]) -> None:
        """Record one step: `clock` = perf_counter before inputs, plan, trades and after."""
        start, mid, after, end = clock
        self.inputs_ms.append((mid - start) * 1e3)
        self.plan_ms.append((after - mid) * 1e3)
        self.trades_ms.append((end - after) * 1e3)
        self.positions += len(plan.targets)
        self.candidates += sum(1 for c in plan.choices.values() if not c.held)
        self.trades += len(trades)
        self.overrides += len(plan.overrides)
        self.drops += sum(1 for c in plan.choices.values() if c.reason == "correlation")

    def result(self, assets: int, steps: int) -> SizeResult:
        """The `SizeResult` of `steps` recorded steps over `assets` assets."""
        return SizeResult(
            assets=assets,
            steps=steps,
            inputs_ms=tuple(self.inputs_ms),
            plan_ms=tuple(self.plan_ms),
            trades_ms=tuple(self.trades_ms),
            mean_positions=self.positions / steps,
            mean_candidates=self.candidates / steps,
            mean_trades=self.trades / steps,
            overrides=self.overrides,
            correlation_drops=self.drops,
        )


@attrs.frozen
class _Universe:
    """The fixed inputs of a benchmark: market, fundamentals and configuration."""

    tickers: tuple[str, ...]
    buckets: tuple[str, ...]
    closes: np.ndarray
    fundamentals: np.ndarray
    config: Config


def _plan_inputs(
    u: _Universe,
    board: ScoreBoard,
    step: int,
    day: dt.date,
    weights: dict[str, float],
    entered: dict[str, dt.date],
) -> PlanInputs:
    """The planner's inputs on `step`: the book, this regime's favoured buckets, closes."""
    t = WARMUP + step
    regime = step // REGIME_EVERY
    return PlanInputs(
        tickers=u.tickers,
        score=board.score,
        trending=board.trending,
        valid=board.valid,
        weights=weights,
        config=u.config,
        buckets=u.buckets,
        days_held={a: (day - entered[a]).days for a in weights},
        favored_buckets=frozenset(FAVOURED[regime % 2]),
        regime_changed=step > 0 and step % REGIME_EVERY == 0,
        closes=u.closes[t - window_rows(u.config) + 1 : t + 1],
        drawdown=0.12 if step % 10 == 9 else 0.0,
    )


def _score_day(u: _Universe, t: int) -> ScoreBoard:
    """The score board of row `t` (the scoring stage, not timed)."""
    return score_assets(
        u.closes[max(0, t - window_needed() + 1) : t + 1],
        fundamentals=u.fundamentals,
        technical_weight=u.config.technical_weight,
        fundamental_weight=u.config.fundamental_weight,
    )


def _carry_book(
    entered: dict[str, dt.date], targets: dict[str, float], day: dt.date
) -> dict[str, float]:
    """Fill every planned trade at its target: update entry days, return the new weights."""
    for asset in targets:
        entered.setdefault(asset, day)
    for asset in set(entered) - set(targets):
        del entered[asset]
    return dict(targets)


def bench_size(assets: int, steps: int, seed: int) -> SizeResult:
    """Run `steps` rebalances of the planner over `assets` assets."""
    rng = np.random.default_rng(seed)
    tickers, buckets, closes = synthetic_market(assets, WARMUP + steps, rng)
    fundamentals = np.where(rng.random(assets) < 0.7, rng.uniform(0.3, 0.9, assets), np.nan)
    u = _Universe(tickers, buckets, closes, fundamentals, default_config())
    weights: dict[str, float] = {}
    entered: dict[str, dt.date] = {}
    tally = _Tally()
    for step, day in enumerate(weekdays(dt.date(2010, 1, 4), steps)):
        board = _score_day(u, WARMUP + step)
        start = time.perf_counter()
        inp = _plan_inputs(u, board, step, day, weights, entered)
        mid = time.perf_counter()
        plan = plan_targets(inp)
        after = time.perf_counter()
        trades = diff_trades(weights, plan.targets, min_trade_weight=u.config.min_trade_weight)
        tally.add((start, mid, after, time.perf_counter()), plan, trades)
        weights = _carry_book(entered, plan.targets, day)
        assert set(weights) <= set(tickers)
    return tally.result(assets, steps)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    header = (
        f"{'assets':>6} {'steps':>5} | {'plan mean':>9} {'p50':>6} {'p95':>6} {'max':>6} |"
        f" {'inputs':>6} {'trades':>6} | {'positions':>9} {'candidates':>10} {'trades':>6}"
        f" {'overrides':>9} {'corr drops':>10}"
    )
    print("ms per step (plan = plan_targets; inputs = PlanInputs; trades = diff_trades)")
    print(header)
    for assets in args.assets:
        r = bench_size(assets, args.steps, args.seed)
        mean, p50, p95, worst = r.stats(r.plan_ms)
        print(
            f"{r.assets:>6} {r.steps:>5} | {mean:>9.2f} {p50:>6.2f} {p95:>6.2f} {worst:>6.2f} |"
            f" {np.mean(r.inputs_ms):>6.2f} {np.mean(r.trades_ms):>6.3f} |"
            f" {r.mean_positions:>9.1f} {r.mean_candidates:>10.1f} {r.mean_trades:>6.1f}"
            f" {r.overrides:>9} {r.correlation_drops:>10}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
