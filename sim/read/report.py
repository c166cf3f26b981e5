"""Rich rendering of a run's summary: pure functions that build renderables, one printer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console, Group
from rich.table import Table


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.2f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.2%}"


def headline_table(summary: Mapping[str, Any]) -> Table:
    """Run, period, equity, return, drawdown, trades, costs."""
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
    t.add_row("total return", _pct(summary["total_return"]))
    t.add_row("max drawdown", f"{summary['max_drawdown']:.2%}")
    t.add_row("trades", f"{summary['trades']} (notional {_money(summary['traded_notional'])})")
    t.add_row("costs", f"{_money(summary['costs'])} (commission {_money(summary['commission'])})")
    t.add_row("messages", str(summary["messages"]))
    if summary.get("db"):
        t.add_row("event db", str(summary["db"]))
    return t


def counts_table(title: str, counts: Mapping[str, int], key: str) -> Table:
    """A two-column table of counts, largest first."""
    t = Table(title=title, title_justify="left")
    t.add_column(key, overflow="fold")
    t.add_column("count", justify="right", overflow="fold")
    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        t.add_row(str(name), str(n))
    return t


def summary_renderable(summary: Mapping[str, Any]) -> Group:
    """The headline figures, then decisions by outcome and by system, and notices by event."""
    return Group(
        headline_table(summary),
        counts_table("Decisions by outcome", summary["decisions_by_outcome"], "outcome"),
        counts_table("Decisions by deciding system", summary["decisions_by_system"], "system"),
        counts_table("Notices by event", summary["notices_by_event"], "event"),
    )


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
