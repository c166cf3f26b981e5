"""The report's metrics tables: every metric of the registry for one run, grouped into
performance and protection, with its value formatted for reading."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from sim.read.metrics import METRIC_HELP, METRICS

PERFORMANCE = frozenset(
    {"total_return", "max_drawdown", "sharpe", "sortino", "calmar", "volatility", "turnover",
     "costs", "trades"}
)  # fmt: skip
"""The metrics in the performance table; every other one is a protection metric."""

PERCENT = frozenset({"total_return", "max_drawdown", "volatility"})
"""Metrics that are fractions, shown as percentages."""


def run_metrics(conn: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    """Every metric of run `run_id` as rows: group, name, value, meaning (the one place the
    report reads metrics)."""
    return [
        {
            "group": "performance" if name in PERFORMANCE else "protection",
            "name": name,
            "value": metric(conn, run_id),
            "meaning": METRIC_HELP.get(name, ""),
        }
        for name, metric in METRICS.items()
    ]


def format_metric(name: str, value: float | None) -> str:
    """A metric's value for reading: a percentage, a whole count, money, or a ratio."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if name in PERCENT:
        return f"{value:+.2%}" if name == "total_return" else f"{value:.2%}"
    if name == "costs":
        return f"{value:,.2f}"
    if float(value).is_integer() and name not in {"sharpe", "sortino", "calmar", "turnover"}:
        return f"{int(value):,}"
    return f"{value:.3f}"
