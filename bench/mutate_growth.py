"""How the wall time of `mutate` grows with scenarios x mutants.

    python bench/mutate_growth.py [--pairs 4x4,8x8,16x8,16x16] [--jobs 2] [--full]
                                  [--library scenarios/library]

Each pair KxM runs `sim.mutate.mutate` over K library scenarios and M built-in mutants
(`only=`), with `--jobs` worker processes, and times it end to end (loading the files,
the process pool, every run and its temporary database). The subsets are nested: the
scenarios are the first K of the library in a fixed shuffled order (seed 0, so small and
large scenarios mix), the mutants the first M of `BUILTIN_MUTANTS`. A run is one scenario
clean or with one mutant (a mutant of a protection the scenario switches off is not run),
so runs = K + the applicable (scenario, mutant) pairs, at most K x (1 + M). The script
fits wall = a + b x runs by least squares over the pairs and prints the table; `--full`
also times the whole library with every mutant, against the fit's prediction. The CPU
time is fitted too: on shared cores the wall time follows the load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from domain.protections.mutants import BUILTIN_MUTANTS
from sim.load.document import unmet_requirements
from sim.mutate import mutate

LIBRARY = Path(__file__).resolve().parents[1] / "scenarios" / "library"
DEFAULT_PAIRS = "4x4,8x8,16x8,16x16"


@attrs.frozen
class Timing:
    """One timed `mutate`: K scenarios, M mutants (None: every mutant), the runs it made,
    its wall time and the CPU time of this process and its workers (s)."""

    scenarios: int
    mutants: int | None
    runs: int
    wall: float
    cpu: float
    killed: int
    total: int


def library_order(library: Path = LIBRARY, seed: int = 0) -> list[Path]:
    """The usable scenario files of `library`, in a fixed shuffled order."""
    paths = [p for p in sorted(library.glob("*.yaml")) if not unmet_requirements(p)]
    random.Random(seed).shuffle(paths)
    return paths


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(paths: Sequence[Path], mutants: int | None, jobs: int) -> Timing:
    """Time `mutate(paths, only=<the first `mutants` built-in ids>, jobs=jobs)`."""
    only = None if mutants is None else {m.id for m in BUILTIN_MUTANTS[:mutants]}
    cpu, start = _cpu(), time.perf_counter()
    report = mutate(list(paths), only=only, jobs=jobs)
    wall = time.perf_counter() - start
    killed, total = report.score
    return Timing(len(paths), mutants, len(report.runs), wall, _cpu() - cpu, killed, total)


def fit(timings: Sequence[Timing], of: str = "wall") -> tuple[float, float]:
    """(a, b) of `of` (wall or cpu) = a + b x runs, least squares (two timings or more)."""
    runs = np.array([t.runs for t in timings], dtype=float)
    seconds = np.array([getattr(t, of) for t in timings], dtype=float)
    b, a = np.polyfit(runs, seconds, 1)
    return float(a), float(b)


def parse_pairs(text: str) -> list[tuple[int, int]]:
    """`4x4,8x8` as [(4, 4), (8, 8)]."""
    pairs = []
    for item in text.split(","):
        k, _, m = item.strip().partition("x")
        if not (k.isdigit() and m.isdigit() and int(k) > 0 and int(m) > 0):
            raise SystemExit(f"--pairs: expected KxM with K, M >= 1, got {item!r}")
        pairs.append((int(k), int(m)))
    return pairs


def table(timings: Sequence[Timing], a: float, b: float) -> list[str]:
    """The markdown table of the timings beside the fit's prediction."""
    lines = [
        "| scenarios | mutants | runs | wall s | fit s | ms / run | CPU s | score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in timings:
        m = "all" if t.mutants is None else str(t.mutants)
        lines.append(
            f"| {t.scenarios} | {m} | {t.runs:,} | {t.wall:.1f} | {a + b * t.runs:.1f}"
            f" | {1000 * t.wall / t.runs:.0f} | {t.cpu:.1f} | {t.killed}/{t.total} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Time the pairs (and the full library with `--full`), print the table and the fit."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", default=DEFAULT_PAIRS, help=f"KxM,... (default {DEFAULT_PAIRS})")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--library", type=Path, default=LIBRARY, help="the scenario folder")
    p.add_argument("--full", action="store_true", help="also the whole library, every mutant")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    order = library_order(args.library)
    pairs = parse_pairs(args.pairs)
    if max(k for k, _ in pairs) > len(order) or len(pairs) < 2:
        raise SystemExit(f"--pairs: give two pairs or more, K at most {len(order)}")
    timings = [measure(order[:k], m, args.jobs) for k, m in pairs]
    a, b = fit(timings)
    if args.full:
        timings.append(measure(order, None, args.jobs))
    print(
        f"mutate --jobs {args.jobs}, {os.cpu_count()} CPUs,"
        f" load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print("\n".join(table(timings, a, b)))
    print(f"fit over the pairs: wall = {a:.2f} s + {1000 * b:.1f} ms x runs")
    ca, cb = fit(timings[: len(pairs)], "cpu")
    print(f"CPU (this process and its workers): {ca:.2f} s + {1000 * cb:.1f} ms x runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
