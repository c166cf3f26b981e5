"""One run's report as a single self-contained HTML page: the header (run, configuration
differences, checks with evidence), every chart of `sim.read.charts.registry.CHARTS` as
inline SVG, the metrics tables and the decisions per rule per month."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.read.charts.data import ChartData, load_chart_data, rule_outcomes
from sim.read.charts.registry import CHARTS, chart_svgs
from sim.read.html.header import RunHeader, read_header
from sim.read.html.markup import cell, esc, page, table
from sim.read.html.metrics_view import format_metric, run_metrics
from sim.read.metrics.registry import GROUPS
from sim.read.queries import open_readonly, resolve_run


def write_report(
    db_path: str | Path, run_id: str | None = None, out: str | Path | None = None
) -> Path:
    """Write the report of run `run_id` (the latest by default) of the event database at
    `db_path` to `out` (default `<run_id>.html` beside the database); the path written.

    Raises:
        sim.read.queries.InspectError: the database cannot be read, or the run is unknown.
    """
    with contextlib.closing(open_readonly(db_path)) as conn:
        run_id = resolve_run(conn, run_id)
        html = render_report(conn, db_path, run_id)
    path = Path(out) if out is not None else Path(db_path).parent / f"{run_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def render_report(conn: sqlite3.Connection, db_path: str | Path, run_id: str) -> str:
    """The whole page of one run, as HTML text."""
    header = read_header(conn, db_path, run_id)
    data = load_chart_data(conn, run_id)
    figures = "".join(
        f'<figure class="chart" id="{c.name}">{svg}'
        f"<figcaption>{esc(c.caption)}</figcaption></figure>"
        for c, svg in chart_svgs(data)
    )
    body = (
        _title(header, db_path)
        + _run_section(header)
        + _config_section(header)
        + _checks_section(header)
        + f"<h2>Charts</h2>{figures}"
        + _metrics_section(run_metrics(conn, run_id))
        + _decisions_section(data, rule_outcomes(conn, run_id))
    )
    return page(f"Bulwark report: {run_id}", body, charts=len(CHARTS))


def _title(header: RunHeader, db_path: str | Path) -> str:
    s = header.summary
    verdict = header.verdict
    return (
        f'<h1>{esc(s["scenario"])} <span class="badge {verdict}">{esc(verdict)}</span></h1>'
        f'<p class="lead">run {esc(s["run_id"])} in {esc(db_path)}</p>'
    )


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.2f}"


def _run_section(header: RunHeader) -> str:
    s = header.summary
    rows = [
        ("scenario", s["scenario"]),
        ("scenario file", s["scenario_path"]),
        ("run id", s["run_id"]),
        ("seed", s["seed"]),
        ("status", s["status"]),
        ("period", f"{s['first_date']} to {s['last_date']} ({s['steps']} steps)"),
        ("initial cash", _money(s["initial_cash"])),
        ("final equity", _money(s["final_equity"])),
        ("total return", "-" if s["total_return"] is None else f"{s['total_return']:+.2%}"),
        ("max drawdown", f"{s['max_drawdown']:.2%}"),
        ("trades", f"{s['trades']} (notional {_money(s['traded_notional'])})"),
        ("costs", _money(s["costs"])),
        ("messages", s["messages"]),
    ]
    return "<h2>Run</h2>" + table(("what", "value"), ((cell(k), cell(v)) for k, v in rows))


def _config_section(header: RunHeader) -> str:
    changes = header.config_changes
    if not changes:
        return "<h2>Configuration</h2><p>Every parameter at its default.</p>"
    rows = ((cell(name), cell(default), cell(value)) for name, default, value in changes)
    return (
        f"<h2>Configuration</h2><p>{len(changes)} parameter(s) differ from the defaults"
        " (<code>python run.py params</code> lists them all).</p>"
        + table(("parameter", "default", "this run"), rows)
    )


def _checks_section(header: RunHeader) -> str:
    checks = header.checks
    failed = sum(not c.passed for c in checks)
    rows = (
        (
            cell(c.kind),
            cell(c.label),
            cell("held" if c.passed else "FAILED", "held" if c.passed else "failed"),
            cell("\n".join(c.evidence), "evidence"),
        )
        for c in checks
    )
    counts = f"{len(checks) - failed} held, {failed} failed." if checks else ""
    return f"<h2>Checks</h2><p>{esc(header.checks_note)}. {counts}</p>" + (
        table(("kind", "check", "result", "evidence"), rows) if checks else ""
    )


def _metrics_section(metrics: Sequence[dict[str, Any]]) -> str:
    tables = []
    for group in GROUPS:
        rows = [
            (cell(m["name"]), cell(format_metric(m), "num"), cell(m["meaning"]))
            for m in metrics
            if m["group"] == group
        ]
        if rows:
            tables.append(
                f"<div><h3>{group.title()}</h3>{table(('metric', 'value', 'meaning'), rows)}</div>"
            )
    return f'<h2>Metrics</h2><div class="columns">{"".join(tables)}</div>'


def _decisions_section(data: ChartData, outcomes: dict[str, dict[str, int]]) -> str:
    frame: pd.DataFrame = data.decisions
    if frame.empty:
        return "<h2>Decisions per rule per month</h2><p>No decisions.</p>"
    headers = ("rule", "outcomes", *frame.columns, "total")
    rows = (
        (
            cell(rule),
            cell(", ".join(f"{o} {n}" for o, n in outcomes.get(rule, {}).items())),
            *(cell(int(n), "num") for n in counts),
            cell(int(counts.sum()), "num"),
        )
        for rule, counts in frame.iterrows()
    )
    return (
        "<h2>Decisions per rule per month</h2>"
        f'<div style="overflow-x:auto">{table(headers, rows, "counts")}</div>'
    )
