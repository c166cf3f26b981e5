"""Peer benchmark: Bulwark, backtrader and bt on one identical workload, interleaved.

    python bench/peers.py [--assets 100] [--days 2460] [--rounds 3] [--seed 0]

The workload (bench/README.md, "Peers"): GBM prices for `--assets` tickers in ten
buckets, `--days` trading days after a 252-day warm-up; every day the top 10 by 60-day
rate of change (at most 4 a bucket, a bucket's holdings first), equal weight capped at
20 %, 95 % invested, 0.1 % commission, fractional quantities, rebalanced to the targets
every day. Bulwark runs it with every protection off and every message recorded (scoring
model ``momentum``); backtrader and bt run the same strategy written in each library's
plain way. The engines run A B C, A B C, ... for `--rounds` rounds on the same prices;
the printout gives each engine's median wall time and the ratios.

The peers are the optional extras (``pip install -e ".[bench]"``); without them the
benchmark says what is missing and exits 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from bench.bench_run import START, bucket_tickers
from domain.market import MarketData
from domain.scenario import (
    BUILTIN_PROTECTIONS,
    Calendar,
    CorrelationSpec,
    LevelSpec,
    MarketSpec,
    Protections,
    RegimePoint,
    RegimeSpec,
    Scenario,
)
from domain.scoring_models import MOMENTUM, MOMENTUM_HORIZON, momentum, rank_normalised
from sim import compose
from sim.run.market_data import build_market

PEERS: tuple[str, ...] = ("backtrader", "bt")
"""The optional peer packages (the `bench` extra)."""
ENGINES: tuple[str, ...] = ("bulwark", "backtrader", "bt")
"""The engines in the order each round runs them."""
TOP_N = 10
MAX_PER_BUCKET = 4
CAP = 0.20
INVESTED = 0.95
COMMISSION = 0.001
CASH = 1_000_000.0
WARMUP_DAYS = 252
EXIT_MISSING = 2


def open_threshold(n_assets: int) -> float:
    """The score between the 10th and the 11th rank of `n_assets` rank-normalised scores:
    an asset is in the day's top 10 exactly when its momentum score reaches it."""
    if n_assets <= TOP_N:
        return 0.0
    return (n_assets - TOP_N - 0.5) / (n_assets - 1)


def peer_config(n_assets: int) -> dict[str, Any]:
    """Bulwark's configuration for the workload (every value that differs from the
    defaults, and why, in bench/README.md "Peers")."""
    threshold = open_threshold(n_assets)
    return {
        "commission": COMMISSION,
        "slippage_bps": 0.0,
        "min_trade_weight": 0.0,
        "min_score_threshold": threshold,
        "min_score_new_position": threshold,
        "trending_confidence_new": 0.0,
        "trending_confidence_existing": 0.0,
        "score_decay_factor": 1.0,
        # max_total 4 x 10 buckets: every bucket gets max_positions_per_bucket slots; the
        # threshold, not max_total, holds the plan to the top 10.
        "max_total_positions": 4 * TOP_N,
        "max_new_positions": 4 * TOP_N,
        "high_volatility_threshold": 5.0,
        "portfolio_concentration_limit": 1.0,
        "position_holding_period_max": 3650,
        "max_positions_per_bucket": MAX_PER_BUCKET,
        "max_bucket_allocation": 1.0,
        "min_buckets_represented": 1,
        "correlation_limit": 1.0,
        "max_bucket_overrides": 0,
        "position_size_scaling": "equal_weight",
        "max_single_position_size": CAP,
        "target_total_allocation": INVESTED,
        "min_position_size": 0.0,
        "volatility_position_scaling": False,
        "drawdown_position_reduction": 1.0,
        "residual_strategy": "cash_bucket",
        "enable_core_asset_management": False,
        "regime_override_enabled": False,
        "whipsaw_protection": False,
        "position_holding_period_min": 0,
        "grace_period_days": 0,
    }


def build_scenario(*, assets: int = 100, days: int = 2460, seed: int = 0) -> Scenario:
    """The workload as a Bulwark scenario: momentum scoring, every protection off."""
    buckets = bucket_tickers(assets)
    return Scenario(
        name=f"peers-{assets}x{days}",
        description="Peer benchmark workload (bench/peers.py).",
        calendar=Calendar(start=START, days=days),
        seed=seed,
        cash=CASH,
        config=peer_config(assets),
        buckets=buckets,
        market=MarketSpec(
            source="synthetic",
            drift=LevelSpec(default=0.06),
            volatility=LevelSpec(default=0.25),
            correlation=CorrelationSpec(within_bucket=0.5, across_buckets=0.2),
            warmup_days=WARMUP_DAYS,
        ),
        regimes=RegimeSpec(
            source="scripted",
            timeline=(RegimePoint(date=START, regime="Goldilocks", confidence=0.8),),
        ),
        scoring_model=MOMENTUM,
        protections=Protections(enabled={name: False for name in BUILTIN_PROTECTIONS}),
    )


def market_of(scenario: Scenario) -> MarketData:
    """The prices the Bulwark run sees (its market is built first from the seed's rng)."""
    market, _timeline = build_market(scenario, np.random.default_rng(scenario.seed))
    return market


# --- the strategy, one day (shared by the peers) ------------------------------------


def day_targets(
    window: np.ndarray, buckets: Sequence[str], held: Sequence[int]
) -> dict[int, float]:
    """Column -> target weight for the day from the closes up to today: `targets_from_scores`
    of the momentum scores (`domain.scoring_models.momentum`)."""
    score, _trending = momentum(window)
    return targets_from_scores(score, buckets, held)


def targets_from_scores(
    score: np.ndarray, buckets: Sequence[str], held: Sequence[int]
) -> dict[int, float]:
    """Column -> target weight from the day's rank-normalised momentum scores.

    The top `TOP_N` (score >= `open_threshold`); at most `MAX_PER_BUCKET` a bucket, the
    bucket's current holdings (`held`) first, then by score; equal weight `INVESTED` / n,
    capped at `CAP` (the rest stays in cash).
    """
    score = np.nan_to_num(score, nan=0.0)
    top = [int(j) for j in np.flatnonzero(score >= open_threshold(score.size))]
    top = sorted(top, key=lambda j: (j not in held, -score[j], j))
    per_bucket: dict[str, int] = {}
    chosen = []
    for j in top:
        if per_bucket.get(buckets[j], 0) < MAX_PER_BUCKET:
            per_bucket[buckets[j]] = per_bucket.get(buckets[j], 0) + 1
            chosen.append(j)
    if not chosen:
        return {}
    weight = min(INVESTED / len(chosen), CAP)
    return dict.fromkeys(chosen, weight)


def frame_of(market: MarketData) -> Any:
    """The closes (warm-up included) as a pandas DataFrame indexed by date."""
    import pandas as pd

    index = pd.DatetimeIndex([dt.datetime.combine(d, dt.time()) for d in market.dates])
    return pd.DataFrame(np.asarray(market.closes), index=index, columns=list(market.tickers))


# --- the engines ----------------------------------------------------------------------


def run_bulwark(scenario: Scenario, db_path: str) -> np.ndarray:
    """Run the scenario into `db_path`; the equity after every simulated day."""
    import sqlite3

    config = compose.resolve_run_config(scenario)
    run_id, code, _model = compose.record_run(scenario, config, db_path=db_path)
    if code != 0:
        raise RuntimeError(f"the Bulwark run ended with exit code {code}")
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "select equity from equity where run_id = ? order by step", (run_id,)
        ).fetchall()
    return np.array([r[0] for r in rows], dtype=float)


def _held_columns(values: dict[str, float], column: dict[str, int]) -> list[int]:
    return sorted(column[name] for name, value in values.items() if value > 0)


def bt_backtest(market: MarketData, *, post_trade_sizing: bool = False) -> Any:
    """A bt backtest of the workload (run it with ``bt.run``).

    Plain bt: `day_targets` into ``temp["weights"]``, then ``bt.algos.Rebalance``, which
    sizes each target on the value before the day's trades and takes the commission out of
    each trade. With `post_trade_sizing`, the trades are sized the way Bulwark sizes them
    instead (targets of the equity after the day's costs, `sized_rebalance`); the
    accounting (units, cash, commission, valuation) stays bt's.
    """
    import bt

    closes = np.asarray(market.closes)
    column = {t: j for j, t in enumerate(market.tickers)}
    buckets = [market.bucket_of[t] for t in market.tickers]
    frame = frame_of(market)
    row_of = {ts: i for i, ts in enumerate(frame.index)}

    class TopMomentum(bt.Algo):
        def __call__(self, target: Any) -> bool:
            t = row_of[target.now]
            values = {name: child.value for name, child in target.children.items()}
            held = _held_columns(values, column)
            targets = day_targets(closes[max(0, t - MOMENTUM_HORIZON) : t + 1], buckets, held)
            target.temp["weights"] = {market.tickers[j]: w for j, w in targets.items()}
            return True

    class SizedRebalance(bt.Algo):
        def __call__(self, target: Any) -> bool:
            sized_rebalance(target)
            return True

    rebalance = SizedRebalance() if post_trade_sizing else bt.algos.Rebalance()
    strategy = bt.Strategy(
        "momentum",
        [bt.algos.RunAfterDate(frame.index[market.start_index - 1]), TopMomentum(), rebalance],
    )
    return bt.Backtest(
        strategy,
        frame,
        initial_capital=CASH,
        commissions=lambda q, p: abs(q) * p * COMMISSION,
        integer_positions=False,
        progress_bar=False,
    )


def sized_rebalance(target: Any) -> None:
    """Bulwark's sizing on a bt strategy: reach ``temp["weights"]`` as fractions of the
    equity after the day's commission (`domain.execution.post_trade_factor`), sells before
    buys. bt keeps the books: each trade is handed to bt as the cash it moves (bt's
    ``allocate`` amounts include the commission)."""
    equity = target.value
    weights = {n: c.value / equity for n, c in target.children.items() if c.value != 0}
    goals = dict(target.temp.get("weights", {}))
    orders = {n: (w, goals.get(n, 0.0)) for n, w in weights.items()}
    orders.update({n: (weights.get(n, 0.0), g) for n, g in goals.items()})
    orders = {n: (w, g) for n, (w, g) in orders.items() if g != w}
    factor = 1.0
    for _ in range(200):  # the fixed point of Bulwark's post_trade_factor
        cost = sum(abs(_sized_change(w, g, factor)) * COMMISSION for w, g in orders.values())
        if abs(1.0 - cost - factor) <= 1e-15:
            break
        factor = 1.0 - cost
    changes = {n: _sized_change(w, g, factor) for n, (w, g) in orders.items()}
    for name, change in sorted(changes.items(), key=lambda kv: (kv[1] > 0, kv[0])):
        weight, goal = orders[name]
        if goal <= 0:
            target.close(name, update=False)
        elif change != 0:
            cash_moved = change * (1.0 + COMMISSION if change > 0 else 1.0 - COMMISSION)
            target.rebalance(weight + cash_moved, child=name, base=equity, update=False)
    target.root.update(target.now)


def _sized_change(weight: float, goal: float, factor: float) -> float:
    """The change of value (a fraction of today's equity) that takes `weight` to `goal` of
    the post-trade equity `factor` (Bulwark decides each trade's side from the weight the
    asset would end the day at untraded, weight / factor, so the side is this sign)."""
    return -weight if goal <= 0 else goal * factor - weight


def run_bt(market: MarketData, *, post_trade_sizing: bool = False) -> np.ndarray:
    """Run the bt backtest; the equity after every simulated day."""
    import bt

    backtest = bt_backtest(market, post_trade_sizing=post_trade_sizing)
    bt.run(backtest)
    values = backtest.strategy.values  # bt adds a day before the first date
    return np.asarray(values, dtype=float)[market.start_index + 1 :]


def run_backtrader(market: MarketData) -> float:
    """Run the workload in backtrader (one feed per asset, orders filled at the bar's close,
    fractional sizes, sells before buys, ``order_target_percent`` on the value before the
    day's trades); the equity at the end."""
    import backtrader as btr

    frame = frame_of(market)
    buckets = [market.bucket_of[t] for t in market.tickers]
    start = market.start_index

    class Fractional(btr.CommInfoBase):
        params = (
            ("commission", COMMISSION),
            ("stocklike", True),
            ("commtype", btr.CommInfoBase.COMM_PERC),
            ("percabs", True),  # COMMISSION is a fraction, not a percentage
        )

        def getsize(self, price: float, cash: float) -> float:
            return self.p.leverage * (cash / price)

    class Momentum(btr.Strategy):
        def __init__(self) -> None:
            self.roc = [
                btr.indicators.RateOfChange(d.close, period=MOMENTUM_HORIZON) for d in self.datas
            ]

        def next(self) -> None:
            if len(self) <= start:
                return
            roc = np.array([r[0] for r in self.roc])
            held = [j for j, d in enumerate(self.datas) if self.getposition(d).size > 0]
            targets = targets_from_scores(rank_normalised(roc), buckets, held)
            value = self.broker.getvalue()
            orders = []
            for j, d in enumerate(self.datas):
                goal = targets.get(j, 0.0)
                current = self.getposition(d).size * d.close[0] / value
                if goal != current and (goal > 0 or current > 0):
                    orders.append((goal > current, j, d, goal))
            for _buy, _j, d, goal in sorted(orders, key=lambda o: (o[0], o[1])):
                self.order_target_percent(d, target=goal)

    cerebro = btr.Cerebro(stdstats=False)
    for ticker in market.tickers:
        col = frame[ticker]
        feed = frame.assign(open=col, high=col, low=col, close=col, volume=0.0)
        cerebro.adddata(
            btr.feeds.PandasData(dataname=feed[["open", "high", "low", "close", "volume"]]),
            name=ticker,
        )
    cerebro.broker.setcash(CASH)
    cerebro.broker.set_coc(True)
    cerebro.broker.addcommissioninfo(Fractional())
    cerebro.addstrategy(Momentum)
    cerebro.run()
    return float(cerebro.broker.getvalue())


# --- the benchmark ------------------------------------------------------------------


def missing_peers() -> list[str]:
    """The peer packages that are not installed."""
    return [name for name in PEERS if importlib.util.find_spec(name) is None]


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children waited for so far:
    Bulwark's writer process counts once the run has waited for it."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, what `run` returned)."""
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    out = run()
    return time.perf_counter() - t0, _cpu_seconds() - cpu0, out


def ratios(times: Mapping[str, Sequence[float]], peer: str) -> tuple[float, list[float]]:
    """Bulwark's time over `peer`'s: the ratio of the medians, and each round's ratio (the
    two engines ran one after the other in a round, so a round's ratio is the pair least
    apart in time; their spread shows how much the machine moved during the benchmark)."""
    median = statistics.median(times["bulwark"]) / statistics.median(times[peer])
    return median, [b / p for b, p in zip(times["bulwark"], times[peer], strict=True)]


def bench(assets: int, days: int, rounds: int, seed: int) -> dict[str, Any]:
    """Run the three engines A B C, A B C, ... on one workload; every wall and CPU time and
    each engine's final equity."""
    import backtrader  # noqa: F401  (imported before the clock: no engine pays the import)
    import bt  # noqa: F401

    scenario = build_scenario(assets=assets, days=days, seed=seed)
    market = market_of(scenario)
    times: dict[str, list[float]] = {name: [] for name in ENGINES}
    cpu: dict[str, list[float]] = {name: [] for name in ENGINES}
    final: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        for r in range(rounds):
            db = os.path.join(tmp, f"round{r}.db")
            runs = {
                "bulwark": lambda db=db: run_bulwark(scenario, db)[-1],
                "backtrader": lambda: run_backtrader(market),
                "bt": lambda: run_bt(market)[-1],
            }
            for name in ENGINES:
                wall, used, value = _timed(runs[name])
                times[name].append(wall)
                cpu[name].append(used)
                final[name] = float(value)
            print(
                f"round {r + 1}: "
                + "  ".join(f"{k} {times[k][-1]:7.2f} s ({cpu[k][-1]:.2f} CPU)" for k in ENGINES),
                flush=True,
            )
    return {"times": times, "cpu": cpu, "final": final}


def report(assets: int, days: int, result: dict[str, Any], load: Sequence[float]) -> str:
    """The printout: medians, ratios (of the medians, and each round's), final equities,
    the same for CPU time, load average and versions."""
    import backtrader
    import bt

    med = {k: statistics.median(v) for k, v in result["times"].items()}
    cpu = {k: statistics.median(v) for k, v in result["cpu"].items()}
    lines = [
        f"workload   {assets} assets x {days} days, top {TOP_N}, <= {MAX_PER_BUCKET} a bucket, "
        f"cap {CAP:.0%}, {INVESTED:.0%} invested, commission {COMMISSION:.1%}",
        *(
            f"{k:<11}{med[k]:8.2f} s median ({cpu[k]:.2f} s CPU)   "
            f"final equity {result['final'][k]:14,.2f}"
            for k in med
        ),
    ]
    for peer, digits in (("bt", 2), ("backtrader", 3)):
        for label, times in (("", result["times"]), (" CPU", result["cpu"])):
            median, by_round = ratios(times, peer)
            rounds = " / ".join(f"{x:.{digits}f}" for x in by_round)
            lines.append(
                f"{f'Bulwark/{peer}{label}':<22}{median:6.{digits}f}   (each round: {rounds})"
            )
    lines += [
        "load average  " + " / ".join(f"{x:.2f}" for x in load) + " (start / end, 1 min)",
        f"versions   python {sys.version.split()[0]}, bt {bt.__version__}, "
        f"backtrader {backtrader.__version__}, numpy {np.__version__}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; 2 when the peers are not installed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--days", type=int, default=2460)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    missing = missing_peers()
    if missing:
        print(
            f"peers.py: missing the benchmark extras: {', '.join(missing)} "
            '(pip install -e ".[bench]")',
            file=sys.stderr,
        )
        return EXIT_MISSING
    if args.assets < TOP_N + 1 or args.days < 1 or args.rounds < 1:
        parser.error(f"need --assets >= {TOP_N + 1}, --days >= 1, --rounds >= 1")
    load_start = os.getloadavg()[0]
    result = bench(args.assets, args.days, args.rounds, args.seed)
    print(report(args.assets, args.days, result, (load_start, os.getloadavg()[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
