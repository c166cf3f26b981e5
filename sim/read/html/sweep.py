"""The page of a sweep (`OUT/sweep.html`, written by `run.py sweep` and `sweep-report`):
how many runs and how they ended, the distributions per grid point plotted
(`sim.read.charts.sweep`) and tabled, the checks that failed with their seeds, and the
sensitivity table. Self-contained like a run's report (inline SVG, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.read.charts.style import svg_markup
from sim.read.charts.sweep import distribution_figure
from sim.read.html.markup import cell, esc, page, table
from sim.sweep.report import COMPLETED, QUANTILES, REPORT_METRICS, SweepReport, seed_ranges
from sim.sweep.view import number

PERCENT_METRICS = ("total_return", "max_drawdown")


def write_sweep_page(report: SweepReport, path: str | Path) -> Path:
    """Write the sweep's page to `path`; the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figures = [_figure(report, metric) for metric in REPORT_METRICS]
    body = (
        _title(report)
        + "<h2>Distributions</h2>"
        + "".join(figures)
        + _distribution_table(report)
        + _failures_section(report)
        + _sensitivity_section(report)
    )
    html = page(f"Bulwark sweep: {len(report.table)} runs", body, charts=len(figures))
    target.write_text(html, encoding="utf-8")
    return target


def point_label(row: Any, report: SweepReport) -> str:
    """A grid point as text: `scenario name=value ...` (without the scenario when the sweep
    has one, without the parameters when it has none)."""
    params = " ".join(f"{p}={row[p]}" for p in report.params)
    if params and report.table["scenario"].nunique() == 1:
        return params
    return f"{row['scenario']} {params}".strip()


def _title(report: SweepReport) -> str:
    outcomes = report.table["outcome"].value_counts().sort_index()
    summary = ", ".join(f"{n} {o}" for o, n in outcomes.items())
    points = len(report.distributions)
    return (
        f"<h1>Bulwark sweep: {len(report.table)} runs</h1>"
        f'<p class="lead">{points} grid points; {esc(summary)}.'
        " Replay any run with <code>python run.py SCENARIO --seed S --set NAME=VALUE</code>.</p>"
    )


def _figure(report: SweepReport, metric: str) -> str:

    table = report.table[report.table["outcome"].isin(COMPLETED)]
    labels, samples = [], []
    for row in report.distributions.to_dict("records"):
        match = table
        for col in report.point_columns:
            match = match[match[col] == row[col]]
        labels.append(point_label(row, report))
        samples.append(pd.to_numeric(match[metric], errors="coerce").dropna().tolist())
    fig = distribution_figure(metric, labels, samples, percent=metric in PERCENT_METRICS)
    caption = (
        f"{metric} over the completed runs of each grid point: the box spans p25 to p75, the"
        " line is the median, the whiskers reach p5 and p95; dots are runs beyond them."
    )
    svg = svg_markup(fig, f"sweep-{metric}")
    return (
        f'<figure class="chart" id="sweep-{metric}">{svg}'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _distribution_table(report: SweepReport) -> str:
    from sim.sweep.view import number

    heads = [*report.point_columns, "runs", "completed", "failed"]
    heads += [f"{m} {q}" for m in REPORT_METRICS for q in QUANTILES]
    rows = []
    for row in report.distributions.to_dict("records"):
        cells = [cell(row[c]) for c in report.point_columns]
        cells += [cell(row[c], "num") for c in ("runs", "completed", "failed")]
        cells += [
            cell(number(m, row[f"{m}_{q}"]), "num") for m in REPORT_METRICS for q in QUANTILES
        ]
        rows.append(cells)
    return table(heads, rows, "counts")


def _failures_section(report: SweepReport) -> str:

    if not len(report.failures):
        return "<h2>Checks that failed</h2><p>No check failed in any run.</p>"
    heads = [*report.point_columns, "check", "kind", "P(fail)", "failed / runs", "seeds"]
    rows = [
        [
            *(cell(r[c]) for c in report.point_columns),
            cell(r["check"], "evidence"),
            cell(r["kind"]),
            cell(f"{r['probability']:.1%}", "num"),
            cell(f"{r['failures']} / {r['runs']}", "num"),
            cell(seed_ranges(r["seeds"], most=40), "evidence"),
        ]
        for r in report.failures.to_dict("records")
    ]
    return "<h2>Checks that failed</h2>" + table(heads, rows)


def _sensitivity_section(report: SweepReport) -> str:

    if not len(report.sensitivity):
        return ""
    heads = ["scenario", "parameter", "metric", "p50 by value", "first → last", "range"]
    rows = []
    for r in report.sensitivity.to_dict("records"):
        m = r["metric"]
        by_value = ", ".join(
            f"{v}: {number(m, p)}" for v, p in zip(r["values"], r["p50s"], strict=True)
        )
        rows.append(
            [
                cell(r["scenario"]),
                cell(r["parameter"]),
                cell(m),
                cell(by_value),
                cell(number(m, r["change"]), "num"),
                cell(number(m, r["range"]), "num"),
            ]
        )
    return "<h2>Sensitivity</h2>" + table(heads, rows)
