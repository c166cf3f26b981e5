"""The aggregates of a sweep as rich tables (what `run.py sweep` and `sweep-report` print),
and the command line that replays a failed run."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from sim.sweep.report import NOT_COMPLETED, QUANTILES, REPORT_METRICS, SweepReport, seed_ranges

FRACTIONS = ("total_return", "max_drawdown")
"""The report metrics shown as percentages; the others as plain numbers."""


def number(metric: str, value: Any) -> str:
    """A metric's value as the tables show it ('-' when undefined)."""
    if value is None or value != value:  # None or NaN
        return "-"
    if metric in FRACTIONS:
        return f"{value:.2%}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


def _point_cells(row: Mapping[str, Any], report: SweepReport) -> list[str]:
    return [str(row[c]) for c in report.point_columns]


def distributions_table(report: SweepReport) -> Table:
    """One row per grid point: runs, failed, and p5 / p50 / p95 of each report metric."""
    t = Table(title="Distributions per grid point (p5 / p50 / p95)", title_justify="left")
    for col in report.point_columns:
        t.add_column(col, overflow="fold")
    for col in ("runs", "failed"):
        t.add_column(col, justify="right")
    for metric in REPORT_METRICS:
        t.add_column(metric, justify="right")
    for row in report.distributions.to_dict("records"):
        spreads = [
            " / ".join(number(m, row[f"{m}_{q}"]) for q in QUANTILES) for m in REPORT_METRICS
        ]
        t.add_row(*_point_cells(row, report), str(row["runs"]), str(row["failed"]), *spreads)
    return t


def failures_table(report: SweepReport) -> Table:
    """One row per grid point and check that failed: probability, count, seeds."""
    t = Table(title="Checks that failed (probability over the runs checked)", title_justify="left")
    for col in (*report.point_columns, "check", "kind"):
        t.add_column(col, overflow="fold")
    t.add_column("P(fail)", justify="right")
    t.add_column("failed / runs", justify="right")
    t.add_column("seeds", overflow="fold")
    for row in report.failures.to_dict("records"):
        t.add_row(
            *_point_cells(row, report),
            row["check"],
            row["kind"],
            f"{row['probability']:.1%}",
            f"{row['failures']} / {row['runs']}",
            seed_ranges(row["seeds"]),
        )
    return t


def sensitivity_table(report: SweepReport) -> Table:
    """One row per scenario, parameter and metric: the median at each value, the change
    from the first value to the last, and the range of the medians."""
    t = Table(title="Sensitivity (median of each metric by parameter value)", title_justify="left")
    for col in ("scenario", "parameter", "metric", "p50 by value"):
        t.add_column(col, overflow="fold")
    t.add_column("first → last", justify="right")
    t.add_column("range", justify="right")
    for row in report.sensitivity.to_dict("records"):
        m = row["metric"]
        by_value = ", ".join(
            f"{v}: {number(m, p)}" for v, p in zip(row["values"], row["p50s"], strict=True)
        )
        change = number(m, row["change"])
        t.add_row(row["scenario"], row["parameter"], m, by_value, change, number(m, row["range"]))
    return t


def report_renderable(report: SweepReport) -> Group:
    """The three tables (the failures only when a check failed, the sensitivity only when a
    parameter has two values or more), as `sweep-report` and `inspect OUT/sweep.db summary`
    print them."""
    parts: list[RenderableType] = [distributions_table(report)]
    if len(report.failures):
        parts.append(failures_table(report))
    else:
        parts.append(Text("No check failed in any run."))
    if len(report.sensitivity):
        parts.append(sensitivity_table(report))
    return Group(*parts)


def render_report(report: SweepReport, console: Console) -> None:
    """Print `report_renderable`."""
    console.print(report_renderable(report))


def replay_command(row: Mapping[str, Any]) -> str:
    """The `run.py` command line that makes one run of the table again."""
    settings = json.loads(row["settings"])
    words = ["python", "run.py", row["path"], "--seed", str(row["seed"])]
    if settings.get("preset"):
        words += ["--preset", settings["preset"]]
    for name, value in settings.get("set", {}).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        words += ["--set", f"{name}={text}"]
    return shlex.join(words)


def replay_line(report: SweepReport) -> str | None:
    """`replay a failed run: python run.py ...` for the first failed run, if any."""
    if not len(report.failures):
        return None
    first = report.failures.iloc[0]
    table = report.table
    match = table[(table["scenario"] == first["scenario"]) & (table["seed"] == first["seeds"][0])]
    for param in report.params:
        match = match[match[param] == first[param]]
    what = "did not complete" if first["check"] == NOT_COMPLETED else "failed"
    return f"replay a run that {what}: {replay_command(match.iloc[0])}"
