"""End-to-end benchmark: a large synthetic scenario run through `compose.record_run`.

    python bench/bench_run.py [--assets 500] [--days 2520] [--frequency daily]
                              [--seed 0] [--db PATH] [--profile]
                              [--writer auto|process|in-process]

The scenario is built in Python (`domain.scenario` objects, no YAML): `--assets` tickers
in ten buckets, `--days` trading days from 2010-01-04 after a 252-day warm-up, a scripted
regime timeline that cycles through changes of every severity (normal, high, critical)
with price shocks on the critical and high ones, every protection on, the default
configuration except `rebalance_frequency`.

Timing is taken without touching simulation code: while the benchmark runs, `run.py`'s
`Recorder`, `BulwarkModel` and `open_db` names are swapped for thin timing wrappers
(subclasses or functions that call the originals) and restored afterwards. With
`--profile` the run is also profiled with cProfile, which inflates every figure: compare
profiled runs only with each other.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from domain.calendar import weekdays
from domain.regimes import severity_of
from domain.scenario import (
    AssetSpec,
    Calendar,
    CorrelationSpec,
    Holding,
    LevelSpec,
    MarketSpec,
    RegimePoint,
    RegimeSpec,
    Scenario,
    Shock,
)
from sim import compose
from sim.run.market_data import build_market
from sim.run.model import BulwarkModel
from sim.run.recorder import Recorder

START = dt.date(2010, 1, 4)
WARMUP_DAYS = 252
CASH = 1_000_000.0

# (bucket, ticker prefix, annual drift, annual volatility); ten buckets, covering every
# default favoured bucket so each regime has somewhere to go.
BUCKETS: tuple[tuple[str, str, float, float], ...] = (
    ("Risk Assets", "RSK", 0.10, 0.30),
    ("Growth", "GRW", 0.11, 0.32),
    ("Value", "VAL", 0.07, 0.20),
    ("Cyclicals", "CYC", 0.08, 0.26),
    ("International", "INT", 0.06, 0.22),
    ("Emerging Markets", "EMG", 0.07, 0.30),
    ("Commodities", "CMD", 0.03, 0.24),
    ("Real assets", "REA", 0.05, 0.18),
    ("Defensive Assets", "DEF", 0.05, 0.14),
    ("Fixed Income", "FIX", 0.02, 0.06),
)

# Drift replacements by regime (annualised), per bucket.
REGIME_DRIFT: dict[str, dict[str, float]] = {
    "Goldilocks": {"Risk Assets": 0.20, "Growth": 0.24, "Fixed Income": 0.01},
    "Reflation": {"Cyclicals": 0.18, "Value": 0.15, "International": 0.12, "Commodities": 0.15},
    "Inflation": {
        "Commodities": 0.30,
        "Real assets": 0.18,
        "Fixed Income": -0.10,
        "Growth": -0.08,
        "Risk Assets": -0.05,
    },
    "Deflation": {
        "Risk Assets": -0.35,
        "Growth": -0.40,
        "Cyclicals": -0.30,
        "International": -0.25,
        "Emerging Markets": -0.35,
        "Commodities": -0.15,
        "Fixed Income": 0.08,
        "Defensive Assets": 0.04,
    },
}

# One cycle of regime changes after the opening Goldilocks: (regime, explicit severity).
# Per cycle: 4 normal, 2 high (one from the map, one scripted), 3 critical.
REGIME_CYCLE: tuple[tuple[str, str | None], ...] = (
    ("Reflation", None),  # Goldilocks -> Reflation: normal
    ("Deflation", None),  # Reflation -> Deflation: critical
    ("Inflation", None),  # Deflation -> Inflation: critical
    ("Goldilocks", None),  # Inflation -> Goldilocks: normal
    ("Inflation", None),  # Goldilocks -> Inflation: high
    ("Reflation", "high"),  # Inflation -> Reflation: normal by the map, scripted high
    ("Goldilocks", None),  # Reflation -> Goldilocks: normal
    ("Deflation", None),  # Goldilocks -> Deflation: critical
    ("Goldilocks", None),  # Deflation -> Goldilocks: normal
)
MAX_REGIME_PERIOD = 126  # at most one change every half year (trading days)
MIN_REGIME_PERIOD = 10


def bucket_tickers(n_assets: int) -> dict[str, tuple[str, ...]]:
    """Spread `n_assets` tickers over the buckets (sizes differ by at most one).

    Fewer than ten assets use only the first `n_assets` buckets.

    Raises:
        ValueError: `n_assets` below 1.
    """
    if n_assets < 1:
        raise ValueError("need at least one asset")
    n_buckets = min(len(BUCKETS), n_assets)
    base, extra = divmod(n_assets, n_buckets)
    out: dict[str, tuple[str, ...]] = {}
    for k, (bucket, prefix, _mu, _sigma) in enumerate(BUCKETS[:n_buckets]):
        size = base + (1 if k < extra else 0)
        out[bucket] = tuple(f"{prefix}{i:03d}" for i in range(size))
    return out


def regime_period(days: int) -> int:
    """Trading days between scripted regime changes: one full cycle fits in short runs,
    at most one change per half year in long ones."""
    return int(np.clip(days // (len(REGIME_CYCLE) + 1), MIN_REGIME_PERIOD, MAX_REGIME_PERIOD))


def regime_script(
    sim_dates: Sequence[dt.date], buckets: dict[str, tuple[str, ...]], rng: np.random.Generator
) -> tuple[tuple[RegimePoint, ...], tuple[Shock, ...]]:
    """The regime timeline and the price shocks that go with it.

    A change every `regime_period` days, cycling through `REGIME_CYCLE`. Critical changes
    come with a one-day crash of the risk buckets (Risk Assets, Growth: -8% to -15%) and,
    every other one, a 3-day market-wide fall of 5%; high ones with a 3-day commodities
    rally (+6% to +10%); normal ones with a single-asset jump (-20% to +15%).
    """
    days = len(sim_dates)
    period = regime_period(days)
    points = [RegimePoint(date=sim_dates[0], regime="Goldilocks", confidence=0.85)]
    shocks: list[Shock] = []
    previous = "Goldilocks"
    all_tickers = sorted(t for tickers in buckets.values() for t in tickers)
    critical_seen = 0
    for n, index in enumerate(range(period, days, period)):
        regime, explicit = REGIME_CYCLE[n % len(REGIME_CYCLE)]
        day = sim_dates[index]
        confidence = float(np.round(rng.uniform(0.6, 0.95), 2))
        points.append(
            RegimePoint(date=day, regime=regime, confidence=confidence, severity=explicit)
        )
        severity = explicit or severity_of(previous, regime)
        if severity == "critical":
            for bucket in ("Risk Assets", "Growth"):
                if bucket in buckets:
                    ret = float(np.round(rng.uniform(-0.15, -0.08), 3))
                    shocks.append(Shock(date=day, return_=ret, bucket=bucket))
            if critical_seen % 2 == 0 and index + 3 <= days:
                shocks.append(Shock(date=day, return_=-0.05, days=3, all=True))
            critical_seen += 1
        elif severity == "high" and "Commodities" in buckets:
            ret = float(np.round(rng.uniform(0.06, 0.10), 3))
            shocks.append(Shock(date=day, return_=ret, days=3, bucket="Commodities"))
        else:
            asset = all_tickers[int(rng.integers(len(all_tickers)))]
            ret = float(np.round(rng.uniform(-0.20, 0.15), 3))
            shocks.append(Shock(date=day, return_=ret, assets=(asset,)))
        previous = regime
    return tuple(points), tuple(shocks)


def build_scenario(
    *,
    assets: int = 500,
    days: int = 2520,
    frequency: str = "daily",
    seed: int = 0,
    rng: np.random.Generator | None = None,
) -> Scenario:
    """The benchmark scenario.

    Args:
        assets: number of tickers (spread over ten buckets).
        days: simulated trading days from 2010-01-04 (after 252 warm-up days).
        frequency: `rebalance_frequency` (daily, weekly, monthly).
        seed: the scenario's seed (drives the market generator inside the model).
        rng: randomness of the scenario itself (fundamentals, start prices, shock sizes);
            default `numpy.random.default_rng(seed)`.

    Returns:
        A checked-by-construction `Scenario` with every protection on.
    """
    if days < 1:
        raise ValueError("need at least one day")
    rng = np.random.default_rng(seed) if rng is None else rng
    buckets = bucket_tickers(assets)
    asset_specs = _asset_specs([t for bucket in buckets for t in buckets[bucket]], rng)
    drift, volatility = _levels(set(buckets))
    timeline, shocks = regime_script(weekdays(START, days=days), buckets, rng)
    return Scenario(
        name=f"bench-{assets}x{days}-{frequency}",
        description="Synthetic end-to-end benchmark (bench/bench_run.py).",
        calendar=Calendar(start=START, days=days),
        seed=seed,
        cash=CASH,
        config={"rebalance_frequency": frequency},
        buckets=buckets,
        assets=asset_specs,
        market=MarketSpec(
            source="synthetic",
            drift=drift,
            volatility=volatility,
            correlation=CorrelationSpec(within_bucket=0.6, across_buckets=0.2),
            shocks=shocks,
            warmup_days=WARMUP_DAYS,
        ),
        regimes=RegimeSpec(source="scripted", timeline=timeline),
        portfolio=_starting_book(buckets),
    )


def _asset_specs(tickers: Sequence[str], rng: np.random.Generator) -> dict[str, AssetSpec]:
    """Fundamentals (about 70% of assets have one) and start prices, drawn from `rng`."""
    has_fundamental = rng.random(len(tickers)) < 0.7
    fundamentals = np.round(rng.uniform(0.3, 0.9, len(tickers)), 3)
    start_prices = np.round(rng.uniform(20.0, 300.0, len(tickers)), 2)
    return {
        t: AssetSpec(
            fundamental=float(fundamentals[i]) if has_fundamental[i] else None,
            start_price=float(start_prices[i]),
        )
        for i, t in enumerate(tickers)
    }


def _levels(present: set[str]) -> tuple[LevelSpec, LevelSpec]:
    """Drift and volatility by bucket and regime, for the buckets `present`."""
    drift = LevelSpec(
        default=0.05,
        by_key={b: mu for b, _p, mu, _s in BUCKETS if b in present},
        by_regime={
            r: {b: v for b, v in levels.items() if b in present}
            for r, levels in REGIME_DRIFT.items()
        },
    )
    volatility = LevelSpec(
        default=0.20,
        by_key={b: sigma for b, _p, _m, sigma in BUCKETS if b in present},
        by_regime={"Deflation": {b: 0.45 for b in ("Risk Assets", "Growth") if b in present}},
    )
    return drift, volatility


def _starting_book(buckets: dict[str, tuple[str, ...]]) -> dict[str, Holding]:
    """Two core holdings and six ordinary ones (first ticker of each bucket), entered early."""
    first_of = [buckets[b][0] for b in buckets]
    return {
        ticker: Holding(
            weight=0.08,
            entered=START - dt.timedelta(days=30 * (k + 1)),
            core=k < 2,
        )
        for k, ticker in enumerate(first_of[:8])
    }


# --- timing --------------------------------------------------------------------------


@attrs.define
class Timings:
    """Wall-clock seconds accumulated by the timing wrappers during one run."""

    open_db: float = 0.0
    model_init: float = 0.0
    market_build: float = 0.0
    step_times: list[float] = attrs.field(factory=list)
    db_writes: float = 0.0
    db_run_rows: float = 0.0
    writer_process: bool = False

    @property
    def steps(self) -> float:
        """All `model.step` calls (including the DB writes done inside them)."""
        return float(sum(self.step_times))


@contextlib.contextmanager
def instrumented(timings: Timings) -> Iterator[None]:
    """Swap `compose.Recorder`, `compose.BulwarkModel` and `compose.open_db` for timers."""

    class TimedRecorder(Recorder):
        def start_run(self, **kwargs: Any) -> None:
            t0 = time.perf_counter()
            super().start_run(**kwargs)
            timings.db_run_rows += time.perf_counter() - t0

        def write_step(self, envelopes: Any, snapshots: Any, equity: Any) -> None:
            t0 = time.perf_counter()
            super().write_step(envelopes, snapshots, equity)
            timings.db_writes += time.perf_counter() - t0

        def write_in_background(self) -> bool:
            timings.writer_process = super().write_in_background()
            return timings.writer_process

        def finish(self, status: str, error: str | None = None) -> str:
            t0 = time.perf_counter()
            written = super().finish(status, error)
            timings.db_run_rows += time.perf_counter() - t0
            return written

    def timed_market(scenario: Scenario, rng: np.random.Generator) -> Any:
        t0 = time.perf_counter()
        out = build_market(scenario, rng)
        timings.market_build += time.perf_counter() - t0
        return out

    class TimedModel(BulwarkModel):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("market_builder", timed_market)
            t0 = time.perf_counter()
            super().__init__(*args, **kwargs)
            timings.model_init += time.perf_counter() - t0

        def step(self) -> None:
            t0 = time.perf_counter()
            super().step()
            timings.step_times.append(time.perf_counter() - t0)

    original_open = compose.open_db

    def timed_open(path: Any) -> Any:
        t0 = time.perf_counter()
        db = original_open(path)
        timings.open_db += time.perf_counter() - t0
        return db

    saved = (compose.Recorder, compose.BulwarkModel, compose.open_db)
    compose.Recorder, compose.BulwarkModel, compose.open_db = TimedRecorder, TimedModel, timed_open
    try:
        yield
    finally:
        compose.Recorder, compose.BulwarkModel, compose.open_db = saved


# --- one benchmark run -------------------------------------------------------------------


@attrs.frozen
class BenchResult:
    """What one benchmark run measured."""

    run_id: str
    exit_code: int
    assets: int
    days: int
    frequency: str
    wall: float
    timings: Timings
    steps: int
    messages: int
    db_bytes: int
    fills: int
    decisions: dict[str, int]
    kinds: dict[str, int]
    peak_rss_mib: float


def db_figures(db_path: str | Path, run_id: str) -> dict[str, Any]:
    """Counts of one run read back from its event database."""
    db = compose.open_db(db_path)
    steps = next(db.query("SELECT steps_completed AS n FROM runs WHERE run_id = ?", [run_id]))["n"]
    kinds = {
        r["kind"]: r["n"]
        for r in db.query(
            "SELECT kind, COUNT(*) AS n FROM messages WHERE run_id = ? GROUP BY kind ORDER BY kind",
            [run_id],
        )
    }
    decisions = {
        r["k"]: r["n"]
        for r in db.query(
            "SELECT json_extract(payload,'$.outcome') AS k, COUNT(*) AS n FROM messages"
            " WHERE run_id = ? AND kind = 'decision' GROUP BY k ORDER BY k",
            [run_id],
        )
    }
    db.close()
    return {"steps": steps, "kinds": kinds, "decisions": decisions}


WRITER_CHOICES: dict[str, bool | None] = {"auto": None, "process": True, "in-process": False}
"""`--writer`: what each choice passes as `compose.record_run`'s `writer_process`."""


def bench(
    *,
    assets: int,
    days: int,
    frequency: str,
    seed: int,
    db_path: str | Path,
    profiler: cProfile.Profile | None = None,
    writer: str = "auto",
) -> BenchResult:
    """Build the scenario, run it end to end into `db_path`, and measure it; `writer` is one
    of `WRITER_CHOICES` (auto: the run's own rule, `compose.WRITER_PROCESS_FROM`)."""
    scenario = build_scenario(assets=assets, days=days, frequency=frequency, seed=seed)
    config = compose.resolve_run_config(scenario)
    timings = Timings()
    with instrumented(timings):
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        try:
            run_id, code, _model = compose.record_run(
                scenario,
                config,
                seed=seed,
                db_path=db_path,
                writer_process=WRITER_CHOICES[writer],
            )
        finally:
            wall = time.perf_counter() - t0
            if profiler is not None:
                profiler.disable()
    figures = db_figures(db_path, run_id)
    kinds = figures["kinds"]
    return BenchResult(
        run_id=run_id,
        exit_code=code,
        assets=assets,
        days=days,
        frequency=frequency,
        wall=wall,
        timings=timings,
        steps=figures["steps"],
        messages=sum(kinds.values()),
        db_bytes=os.path.getsize(db_path),
        fills=kinds.get("fill", 0),
        decisions=figures["decisions"],
        kinds=kinds,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def report(result: BenchResult) -> str:
    """The benchmark's printout."""
    t = result.timings
    sim_only = t.steps - t.db_writes
    other = result.wall - t.open_db - t.model_init - t.steps - t.db_run_rows
    per_step = np.array(t.step_times) * 1e3 if t.step_times else np.zeros(1)
    tenth = max(per_step.size // 10, 1)
    total_decisions = sum(result.decisions.values())
    writes = (
        "rows sent to the writer process, which does JSON + SQLite"
        if t.writer_process
        else "rows, JSON + SQLite"
    )
    lines = [
        f"scenario   {result.assets} assets x {result.days} days, rebalance {result.frequency}",
        f"run        {result.run_id} (exit code {result.exit_code})",
        f"wall time  {result.wall:10.2f} s total",
        f"  market build        {t.market_build:10.2f} s",
        f"  model setup (rest)  {t.model_init - t.market_build:10.2f} s",
        f"  simulation steps    {sim_only:10.2f} s  (steps minus DB writes)",
        f"  DB writes           {t.db_writes:10.2f} s  (Recorder.write_step: {writes})",
        f"  DB open/run rows    {t.open_db + t.db_run_rows:10.2f} s  (and waiting for the writer)",
        f"  other               {other:10.2f} s",
        f"steps      {result.steps}  ({float(np.mean(per_step)):.1f} ms/step mean, "
        f"p50 {float(np.percentile(per_step, 50)):.1f}, "
        f"p95 {float(np.percentile(per_step, 95)):.1f}, max {float(per_step.max()):.1f})",
        # Growth of the per-step cost over the run (history kept by agents, DB indexes).
        f"step cost  first tenth {float(np.mean(per_step[:tenth])):.1f} ms, "
        f"last tenth {float(np.mean(per_step[-tenth:])):.1f} ms",
        f"messages   {result.messages}  ({result.messages / result.wall:,.0f} per second of wall "
        f"time, {result.messages / max(result.steps, 1):,.1f} per step)",
        f"DB size    {result.db_bytes / 2**20:,.1f} MiB",
        f"peak RSS   {result.peak_rss_mib:,.0f} MiB",
        f"fills      {result.fills}",
        f"decisions  {total_decisions}  "
        + ", ".join(
            f"{k}: {v}" for k, v in sorted(result.decisions.items(), key=lambda kv: str(kv[0]))
        ),
        "by kind    " + ", ".join(f"{k}: {v}" for k, v in sorted(result.kinds.items())),
    ]
    return "\n".join(lines)


def profile_report(profiler: cProfile.Profile, top: int = 25) -> str:
    """The top `top` functions by cumulative and by total (own) time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(f"\n--- top {top} by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    out.write(f"\n--- top {top} by total (own) time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench_run.py", description=__doc__.splitlines()[0])
    p.add_argument("--assets", type=int, default=500, help="number of assets (default 500)")
    p.add_argument("--days", type=int, default=2520, help="simulated trading days (default 2520)")
    p.add_argument(
        "--frequency",
        choices=("daily", "weekly", "monthly"),
        default="daily",
        help="rebalance_frequency (default daily)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--db", help="event database (default: a temporary file, removed after)")
    p.add_argument("--profile", action="store_true", help="run under cProfile, print top 25")
    p.add_argument(
        "--writer",
        choices=tuple(WRITER_CHOICES),
        default="auto",
        help="commit the steps in a writer process always, never, or by the run's rule (auto)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line; returns the run's exit code."""
    args = _parser().parse_args(argv)
    tmpdir = None
    if args.db:
        db_path = Path(args.db)
        if db_path.exists():
            print(f"note: {db_path} already exists; the DB size includes its earlier runs")
    else:
        tmpdir = tempfile.mkdtemp(prefix="bulwark-bench-")
        db_path = Path(tmpdir) / "bench.db"
    profiler = cProfile.Profile() if args.profile else None
    try:
        result = bench(
            assets=args.assets,
            days=args.days,
            frequency=args.frequency,
            seed=args.seed,
            db_path=db_path,
            profiler=profiler,
            writer=args.writer,
        )
        print(report(result))
        if profiler is not None:
            print("(profiled: cProfile overhead inflates the times above)")
            print(profile_report(profiler))
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
