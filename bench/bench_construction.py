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
from domain.config import default_config
from domain.construction import (
    PlanInputs,
    diff_trades,
    plan_targets,
    window_rows,
)
from domain.scoring import score_assets, window_needed

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


def bench_size(assets: int, steps: int, seed: int) -> SizeResult:
    """Run `steps` rebalances of the planner over `assets` assets."""
    rng = np.random.default_rng(seed)
    rows = WARMUP + steps
    tickers, buckets, closes = synthetic_market(assets, rows, rng)
    fundamentals = np.where(rng.random(assets) < 0.7, rng.uniform(0.3, 0.9, assets), np.nan)
    config = default_config()
    days = weekdays(dt.date(2010, 1, 4), steps)
    column = {t: j for j, t in enumerate(tickers)}
    weights: dict[str, float] = {}
    entered: dict[str, dt.date] = {}
    inputs_ms, plan_ms, trades_ms = [], [], []
    positions = candidates = trades_count = overrides = drops = 0
    for step, day in enumerate(days):
        t = WARMUP + step
        board = score_assets(
            closes[max(0, t - window_needed() + 1) : t + 1],
            fundamentals=fundamentals,
            technical_weight=config.technical_weight,
            fundamental_weight=config.fundamental_weight,
        )
        regime = step // REGIME_EVERY
        start = time.perf_counter()
        inp = PlanInputs(
            tickers=tickers,
            score=board.score,
            trending=board.trending,
            valid=board.valid,
            weights=weights,
            config=config,
            buckets=buckets,
            days_held={a: (day - entered[a]).days for a in weights},
            favored_buckets=frozenset(FAVOURED[regime % 2]),
            regime_changed=step > 0 and step % REGIME_EVERY == 0,
            closes=closes[t - window_rows(config) + 1 : t + 1],
            drawdown=0.12 if step % 10 == 9 else 0.0,
        )
        mid = time.perf_counter()
        plan = plan_targets(inp)
        after = time.perf_counter()
        trades = diff_trades(weights, plan.targets, min_trade_weight=config.min_trade_weight)
        end = time.perf_counter()
        inputs_ms.append((mid - start) * 1e3)
        plan_ms.append((after - mid) * 1e3)
        trades_ms.append((end - after) * 1e3)
        positions += len(plan.targets)
        candidates += sum(1 for c in plan.choices.values() if not c.held)
        trades_count += len(trades)
        overrides += len(plan.overrides)
        drops += sum(1 for c in plan.choices.values() if c.reason == "correlation")
        for asset in plan.targets:
            entered.setdefault(asset, day)
        for asset in set(entered) - set(plan.targets):
            del entered[asset]
        weights = dict(plan.targets)
        assert all(a in column for a in weights)
    return SizeResult(
        assets=assets,
        steps=steps,
        inputs_ms=tuple(inputs_ms),
        plan_ms=tuple(plan_ms),
        trades_ms=tuple(trades_ms),
        mean_positions=positions / steps,
        mean_candidates=candidates / steps,
        mean_trades=trades_count / steps,
        overrides=overrides,
        correlation_drops=drops,
    )


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
