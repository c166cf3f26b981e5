"""The report's metrics tables: every run-wide metric of the registry for one run
(`sim.read.metrics.metrics_of`), grouped as the registry groups them, formatted as the
terminal summary formats them."""

from __future__ import annotations

import sqlite3
from typing import Any

from sim.read.metrics import metrics_of
from sim.read.report import format_metric as format_by_unit


def run_metrics(conn: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    """Every run-wide metric of run `run_id` as rows: group, name, value, unit, meaning (the
    one place the report reads metrics; breakdowns by protection and rule are left out)."""
    return [
        {"group": m.group, "name": m.name, "value": m.value, "unit": m.unit, "meaning": m.help}
        for m in metrics_of(conn, run_id)
        if m.by is None
    ]


def format_metric(row: dict[str, Any]) -> str:
    """A metric row's value for reading, by its unit (`-` when undefined)."""
    return format_by_unit(row["unit"], row["value"])
