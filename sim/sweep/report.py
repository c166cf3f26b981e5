"""The aggregates of a sweep table (one row per run, `sim.sweep.store`): per grid point the
distribution of the headline metrics, the probability that each check fails (with the
seeds that failed it), and how much each grid parameter moves each metric.

Definitions (docs/sweeps.md): a distribution counts the runs that completed (outcome
passed or failed); a check's failure probability is its failures over the runs it was
checked in; a parameter's sensitivity is the spread of a metric's median across that
parameter's values, every other parameter and seed pooled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pandas as pd

from sim.sweep.store import param_columns

REPORT_METRICS = ("total_return", "max_drawdown", "turnover", "costs")
QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}
COMPLETED = ("passed", "failed")
NOT_COMPLETED = "(run did not complete)"
"""The check label of the runs that crashed, were refused, stopped or lost."""


@attrs.frozen
class SweepReport:
    """The aggregates of one sweep table."""

    table: pd.DataFrame
    params: tuple[str, ...]
    distributions: pd.DataFrame
    failures: pd.DataFrame
    sensitivity: pd.DataFrame

    @property
    def point_columns(self) -> list[str]:
        """What names a grid point: the scenario and every grid parameter."""
        return ["scenario", *self.params]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (`sweep-report --json`)."""
        outcomes = self.table["outcome"].value_counts().sort_index()
        return {
            "runs": len(self.table),
            "outcomes": {str(k): int(v) for k, v in outcomes.items()},
            "params": list(self.params),
            "distributions": _records(self.distributions),
            "failures": _records(self.failures),
            "sensitivity": _records(self.sensitivity),
        }


def build_report(table: pd.DataFrame) -> SweepReport:
    """Every aggregate of `table` (the sweep table as `sim.sweep.store.read_table` gives it)."""
    params = tuple(param_columns(table.columns))
    return SweepReport(
        table=table,
        params=params,
        distributions=distributions(table, params),
        failures=failures(table, params),
        sensitivity=sensitivity(table, params),
    )


def _groups(table: pd.DataFrame, params: Sequence[str]) -> Iterable[tuple[dict[str, Any], Any]]:
    """(grid point, its rows) for every grid point of `table`, in table order."""
    keys = ["scenario", *params]
    for values, rows in table.groupby(keys, sort=False, dropna=False):
        yield dict(zip(keys, values, strict=True)), rows


def distributions(table: pd.DataFrame, params: Sequence[str]) -> pd.DataFrame:
    """One row per grid point: runs, completed, failed checks, and p5 / p50 / p95 of each
    of `REPORT_METRICS` over its completed runs."""
    rows = []
    for point, group in _groups(table, params):
        done = group[group["outcome"].isin(COMPLETED)]
        row = {**point, "runs": len(group), "completed": len(done)}
        row["failed"] = int((group["outcome"] == "failed").sum())
        for metric in REPORT_METRICS:
            values = pd.to_numeric(done[metric], errors="coerce").dropna()
            for name, q in QUANTILES.items():
                row[f"{metric}_{name}"] = float(values.quantile(q)) if len(values) else None
        rows.append(row)
    return pd.DataFrame(rows)


def failures(table: pd.DataFrame, params: Sequence[str]) -> pd.DataFrame:
    """One row per grid point and check that failed at least once: the check, its kind,
    runs checked, failures, probability and the seeds that failed (sorted). Runs that did
    not complete are one more row (`NOT_COMPLETED`)."""
    rows = []
    for point, group in _groups(table, params):
        counts: dict[tuple[str, str], list[Any]] = {}
        for seed, outcome, checks in group[["seed", "outcome", "checks"]].itertuples(False):
            if outcome not in COMPLETED:
                counts.setdefault((NOT_COMPLETED, outcome), [0, []])
                counts[(NOT_COMPLETED, outcome)][0] += 1
                counts[(NOT_COMPLETED, outcome)][1].append(int(seed))
                continue
            for check in json.loads(checks or "[]"):
                entry = counts.setdefault((check["label"], check["kind"]), [0, []])
                entry[0] += 1
                if not check["passed"]:
                    entry[1].append(int(seed))
        for (label, kind), (checked, seeds) in counts.items():
            if seeds:
                n = checked if label != NOT_COMPLETED else len(group)
                rows.append(
                    {
                        **point,
                        "check": label,
                        "kind": kind,
                        "runs": n,
                        "failures": len(seeds),
                        "probability": len(seeds) / n,
                        "seeds": sorted(seeds),
                    }
                )
    return pd.DataFrame(rows)


def sensitivity(table: pd.DataFrame, params: Sequence[str]) -> pd.DataFrame:
    """One row per scenario, grid parameter (with two values or more) and metric: the
    metric's median at each of the parameter's values (value order), the change from the
    first value to the last, and the range (largest median less smallest)."""
    done = table[table["outcome"].isin(COMPLETED)]
    rows = []
    for scenario, group in done.groupby("scenario", sort=False):
        for param in params:
            values = sorted(group[param].dropna().unique())
            if len(values) < 2:
                continue
            for metric in REPORT_METRICS:
                numbers = pd.to_numeric(group[metric], errors="coerce")
                medians = [float(numbers[group[param] == v].median()) for v in values]
                rows.append(
                    {
                        "scenario": scenario,
                        "parameter": param,
                        "metric": metric,
                        "values": [_plain(v) for v in values],
                        "p50s": medians,
                        "change": medians[-1] - medians[0],
                        "range": max(medians) - min(medians),
                    }
                )
    return pd.DataFrame(rows)


def seed_ranges(seeds: Sequence[int], most: int = 12) -> str:
    """Seeds as compact text: runs of consecutive seeds as `a-b`, at most `most` of them,
    then how many seeds more (`1-4,9,12 (+30 more)`)."""
    spans: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    shown = ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans[:most])
    rest = sum(b - a + 1 for a, b in spans[most:])
    return f"{shown} (+{rest} more)" if rest else shown


def _plain(value: Any) -> Any:
    """A numpy scalar as the plain Python value (for JSON)."""
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if _missing(v) else _plain(v)) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _missing(value: Any) -> bool:
    return not isinstance(value, list | str) and bool(pd.isna(value))
