"""Sweep throughput on Dask: runs per second with 1 and 2 LocalCluster workers for the
baseline and for a 500-asset year, and the scheduler's per-task overhead.

    python bench/sweep.py [--seeds 8] [--large-seeds 4] [--noops 2000] [--workers 1,2]

Each case sweeps fresh seeds into a new output folder (nothing skipped) on a LocalCluster
started beforehand (its start-up is timed apart), so a figure is the wall time of
`sim.sweep.engine.run_sweep` alone: planning, every run with its checks, metrics and
message digest, the table writes and the Parquet file. The 500-asset year is
`bench/bench_run.py`'s scenario (500 assets, 252 days, daily rebalancing) written once to
a temporary YAML file. The per-task overhead is the wall time of `--noops` tasks that do
nothing, divided by their number: what the scheduler and the round trips cost each task.
Figures and the cost model: bench/README.md, section "Sweeps (issue 14)".
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from bench.bench_run import build_scenario
from domain.scenario import LevelSpec, Scenario

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "scenarios" / "baseline.yaml"


def level_yaml(level: LevelSpec) -> dict[str, Any]:
    """A drift or volatility spec as the scenario format writes it."""
    out: dict[str, Any] = {"default": level.default, **level.by_key}
    if level.by_regime:
        out["by_regime"] = {r: dict(v) for r, v in level.by_regime.items()}
    return out


def scenario_yaml(scenario: Scenario) -> str:
    """`scenario` (as `bench_run.build_scenario` makes it) as a scenario file."""
    market = scenario.market
    document = {
        "name": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "calendar": {"start": scenario.calendar.start, "days": scenario.calendar.days},
        "cash": scenario.cash,
        "config": dict(scenario.config),
        "buckets": {b: list(t) for b, t in scenario.buckets.items()},
        "assets": {
            t: {k: v for k, v in attrs.asdict(a).items() if v is not None}
            for t, a in scenario.assets.items()
        },
        "market": {
            "source": "synthetic",
            "warmup_days": market.warmup_days,
            "drift": level_yaml(market.drift),
            "volatility": level_yaml(market.volatility),
            "correlation": attrs.asdict(market.correlation),
            "shocks": [_shock(s) for s in market.shocks],
        },
        "regimes": {
            "timeline": [
                {k: v for k, v in attrs.asdict(p).items() if v is not None}
                for p in scenario.regimes.timeline
            ]
        },
        "portfolio": {t: attrs.asdict(h) for t, h in scenario.portfolio.items()},
    }
    return yaml.safe_dump(document, sort_keys=False)


def _shock(shock: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"date": shock.date, "return": shock.return_, "days": shock.days}
    if shock.assets:
        out["assets"] = list(shock.assets)
    elif shock.bucket:
        out["bucket"] = shock.bucket
    else:
        out["all"] = True
    return out


def _noop(i: int) -> int:
    return i


@attrs.frozen
class Case:
    """One measured sweep."""

    scenario: str
    workers: int
    runs: int
    seconds: float
    run_seconds: float  # mean wall time of one run inside its task (the table's `seconds`)

    @property
    def per_second(self) -> float:
        """Runs per second of wall time."""
        return self.runs / self.seconds


def measure_sweep(client: Any, path: Path, seeds: int, workers: int, label: str) -> Case:
    """Sweep `seeds` fresh seeds of `path` on `client`; the timings."""
    from sim.sweep.engine import run_sweep
    from sim.sweep.spec import SweepSpec
    from sim.sweep.store import read_table

    with tempfile.TemporaryDirectory(prefix="bulwark-bench-sweep-") as out:
        spec = SweepSpec((str(path),), tuple(range(1, seeds + 1)), {})
        started = time.perf_counter()
        outcome = run_sweep(spec, out, scheduler=client)
        seconds = time.perf_counter() - started
        table = read_table(out)
    assert outcome.ran == seeds and set(table["outcome"]) <= {"passed", "failed"}
    return Case(label, workers, seeds, seconds, float(table["seconds"].mean()))


def measure_overhead(client: Any, n: int) -> float:
    """Seconds per no-op task (submit, schedule, run, gather), `n` of them at once."""
    from distributed import wait

    client.gather(client.map(_noop, range(50), pure=False))  # warm the workers
    started = time.perf_counter()
    futures = client.map(_noop, range(n), pure=False)
    wait(futures)
    client.gather(futures)
    return (time.perf_counter() - started) / n


def measure_row_writes(n: int) -> float:
    """Seconds per row the client writes (`sim.sweep.store.write_row`, one transaction
    each, a baseline-like row), `n` rows into a new sweep table."""
    from sim.sweep.store import open_store, write_row

    row = {"scenario": "baseline", "path": str(BASELINE), "seed": 0, "outcome": "passed"}
    with (
        tempfile.TemporaryDirectory(prefix="bulwark-bench-rows-") as out,
        open_store(out, {}) as db,
    ):
        started = time.perf_counter()
        for i in range(n):
            write_row(db, {**row, "key": f"{i:064x}", "seed": i, "messages": 9000})
        return (time.perf_counter() - started) / n


def run_cases(args: argparse.Namespace, large: Path) -> tuple[list[Case], dict[Any, Any]]:
    """Every case, one LocalCluster per worker count: (cases, {workers: (start-up s,
    overhead s per task)})."""
    from distributed import Client, LocalCluster

    cases, extra = [], {}
    for workers in args.workers:
        started = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            ) as cluster,
            Client(cluster) as client,
        ):
            startup = time.perf_counter() - started
            cases.append(measure_sweep(client, BASELINE, args.seeds, workers, "baseline"))
            cases.append(measure_sweep(client, large, args.large_seeds, workers, "500 x 252"))
            extra[workers] = (startup, measure_overhead(client, args.noops))
    return cases, extra


def report(cases: Sequence[Case], extra: dict[Any, Any]) -> str:
    """The figures as Markdown tables."""
    lines = [
        "| scenario | workers | runs | wall s | runs/s | s per run (in task) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in cases:
        lines.append(
            f"| {c.scenario} | {c.workers} | {c.runs} | {c.seconds:.1f} | {c.per_second:.2f}"
            f" | {c.run_seconds:.2f} |"
        )
    lines += [
        "",
        "| workers | cluster start-up s | per-task overhead ms |",
        "| ---: | ---: | ---: |",
    ]
    for workers, figures in extra.items():
        if workers != "rows":
            startup, overhead = figures
            lines.append(f"| {workers} | {startup:.1f} | {overhead * 1000:.2f} |")
    lines += ["", f"client row write: {extra['rows'] * 1000:.2f} ms per row"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; the exit code."""
    p = argparse.ArgumentParser(prog="bench/sweep.py", description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=8, help="baseline runs per case")
    p.add_argument("--large-seeds", type=int, default=4, help="500-asset runs per case")
    p.add_argument("--noops", type=int, default=2000, help="no-op tasks for the overhead")
    p.add_argument("--workers", type=lambda t: [int(w) for w in t.split(",")], default=[1, 2])
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bulwark-bench-") as folder:
        large = Path(folder) / "bench-500x252.yaml"
        large.write_text(scenario_yaml(build_scenario(assets=500, days=252)))
        cases, extra = run_cases(args, large)
    extra["rows"] = measure_row_writes(args.noops)
    print(f"# bench/sweep.py, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(report(cases, extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
