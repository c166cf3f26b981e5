"""Rich rendering of a run's summary: pure functions that build renderables, one printer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.table import Table

from sim.read.metrics import BREAKDOWNS, GROUPS, REGISTRY, Breakdown


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.2f}"


def headline_table(summary: Mapping[str, Any]) -> Table:
    """Run, scenario, status, seed, period, equity, messages, the database."""
    t = Table(title=f"Bulwark run {summary['run_id']}", show_header=False, title_justify="left")
    t.add_column("what", style="bold", overflow="fold")
    t.add_column("value", overflow="fold")
    t.add_row("scenario", str(summary["scenario"]))
    t.add_row("status", str(summary["status"]))
    t.add_row("seed", str(summary["seed"]))
    t.add_row(
        "period", f"{summary['first_date']} -> {summary['last_date']} ({summary['steps']} steps)"
    )
    t.add_row("initial cash", _money(summary["initial_cash"]))
    t.add_row("final equity", _money(summary["final_equity"]))
    t.add_row("messages", str(summary["messages"]))
    if summary.get("db"):
        t.add_row("event db", str(summary["db"]))
    return t


_PERCENT_UNITS = ("fraction", "fraction per year", "fraction of days", "fraction of positions")


def format_metric(unit: str, value: float | None) -> str:
    """A metric's value as the summary shows it, by its unit (`-` when undefined)."""
    if value is None:
        return "-"
    if unit in _PERCENT_UNITS:
        return f"{value:.2%}"
    formats = {"ratio": "{:.2f}", "currency": "{:,.2f}", "x equity": "{:.2f}x", "weight": "{:.4f}"}
    if unit in formats:
        return formats[unit].format(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def metrics_tables(metrics: Mapping[str, float | None]) -> Columns:
    """One small table per group (performance, trading, protection) of the run-wide
    metrics, side by side where the width allows; breakdown totals are left to
    `breakdown_table`."""
    tables = []
    for group in GROUPS:
        t = Table(title=group.capitalize(), title_justify="left", show_header=False)
        t.add_column("metric", overflow="fold")
        t.add_column("value", justify="right", no_wrap=True)
        for d in REGISTRY:
            if d.group == group and d.name in metrics and not isinstance(d, Breakdown):
                t.add_row(d.name, format_metric(d.unit, metrics[d.name]))
        tables.append(t)
    return Columns(tables, padding=(0, 2))


def breakdown_table(
    by: str, rows: Mapping[str, Mapping[str, float | None]], totals: Mapping[str, float | None]
) -> Table:
    """Decisions by protection or by rule: one row per key, one column per breakdown
    (approved, amended, blocked, overridden, held back), then the run's totals."""
    title = f"Decisions by {by}"
    t = Table(
        title=title,
        title_justify="left",
        min_width=len(title),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
    )
    t.add_column(by, overflow="fold")
    for d in BREAKDOWNS:
        t.add_column(d.column, justify="right", no_wrap=True)
    for key, values in rows.items():
        t.add_row(key, *(format_metric(d.unit, values.get(d.name)) for d in BREAKDOWNS))
    t.add_section()
    t.add_row("all", *(format_metric(d.unit, totals.get(d.name)) for d in BREAKDOWNS), style="bold")
    return t


def registry_table() -> Table:
    """Every registered metric (what `expect: - metric:` can name) by group, in registry
    order: its name, and its meaning with the unit (a breakdown's check is its total)."""
    t = Table(title="Metrics (for `expect: - metric: {name: ..., min/max: ...}`)")
    t.add_column("name", no_wrap=True)
    t.add_column("meaning \\[unit]")
    for group in GROUPS:
        t.add_row(f"[bold]{group}[/]", "")
        for d in REGISTRY:
            if d.group == group:
                t.add_row(d.name, f"{d.help} [dim]\\[{d.unit}][/]")
        t.add_section()
    return t


def counts_table(title: str, counts: Mapping[str, int], key: str) -> Table:
    """A two-column table of counts, largest first."""
    t = Table(title=title, title_justify="left", min_width=len(title))
    t.add_column(key, overflow="fold")
    t.add_column("count", justify="right", overflow="fold")
    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        t.add_row(str(name), str(n))
    return t


def summary_renderable(summary: Mapping[str, Any]) -> Group:
    """The headline, the metrics by group, decisions by protection and by rule (each with
    the run's totals), and notices by event."""
    metrics = summary.get("metrics", {})
    parts: list[RenderableType] = [headline_table(summary), metrics_tables(metrics)]
    for by, rows in summary.get("breakdowns", {}).items():
        if rows:
            parts.append(breakdown_table(by, rows, metrics))
    parts.append(counts_table("Notices by event", summary["notices_by_event"], "event"))
    return Group(*parts)


def render_summary(summary: Mapping[str, Any], console: Console) -> None:
    """Print `summary_renderable(summary)`."""
    console.print(summary_renderable(summary))


def checks_table(checks: Sequence[Any], *, failures_only: bool = False) -> Table:
    """Invariants and expectations: what was checked, whether it held, the evidence."""
    t = Table(title="Checks", title_justify="left")
    t.add_column("kind", overflow="fold")
    t.add_column("check", overflow="fold")
    t.add_column("result", overflow="fold")
    t.add_column("evidence", overflow="fold")
    for c in checks:
        if failures_only and c.passed:
            continue
        result = "[green]held[/]" if c.passed else "[bold red]FAILED[/]"
        t.add_row(c.kind, c.label, result, "\n".join(c.evidence))
    return t


def render_checks(checks: Sequence[Any], console: Console, *, failures_only: bool) -> None:
    """Print the checks table (only the failures with `failures_only`, and nothing when
    none failed), then how many failed."""
    failed = [c for c in checks if not c.passed]
    if failures_only and not failed:
        return
    console.print(checks_table(checks, failures_only=failures_only))
    if failed:
        console.print(f"[bold red]{len(failed)} check(s) failed[/]")
