"""The metric registry: one declaration per metric (name, group, unit, one-line help,
function), and everything derived from it: `METRICS` (what `expect: metric` names),
`METRIC_HELP`, `compute` and `metrics_of` (every value of a run as plain rows).

A breakdown (a protection analytic) is also counted per protection and per rule; its
`METRICS` entry is the run's total. Definitions and conventions: docs/metrics.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from types import MappingProxyType

import attrs
import numpy as np

from sim.read.metrics import performance as perf
from sim.read.metrics import protection as prot
from sim.read.metrics.positions import win_rate
from sim.read.metrics.run_data import RunData

PERFORMANCE, TRADING, PROTECTION = "performance", "trading", "protection"
GROUPS = (PERFORMANCE, TRADING, PROTECTION)

Metric = Callable[[sqlite3.Connection, str], float | None]
"""What `METRICS` maps a name to: (connection, run id) -> value (None: undefined)."""


@attrs.frozen
class MetricValue:
    """One metric of one run: a plain row for tables, JSON and reports.

    `by` and `key` say which protection or rule a breakdown row counts (`by` is
    "protection" or "rule"); both are None for a run-wide value.
    """

    name: str
    group: str
    value: float | None
    unit: str
    help: str
    by: str | None = None
    key: str | None = None


@attrs.frozen
class Scalar:
    """A run-wide metric."""

    name: str
    group: str
    unit: str
    help: str
    fn: Callable[[RunData], float | None]

    def value(self, data: RunData) -> float | None:
        """The metric of the run."""
        return self.fn(data)


@attrs.frozen
class Breakdown:
    """A metric counted per protection and per rule; its run-wide value is the total."""

    name: str
    group: str
    unit: str
    help: str
    column: str
    fn: Callable[[RunData, str], Mapping[str, float]]

    def values(self, data: RunData, by: str) -> Mapping[str, float]:
        """key -> value, `by` protection or rule (keys with nothing to count left out)."""
        return self.fn(data, by)

    def value(self, data: RunData) -> float:
        """The run's total (every protection's value added up)."""
        return sum(self.fn(data, prot.PROTECTION).values(), start=0)


def _path(stat: Callable[[np.ndarray], float | None]) -> Callable[[RunData], float | None]:
    return lambda data: stat(data.levels)


def _sql(sql: str) -> Callable[[RunData], float]:
    return lambda data: data.scalar(sql)


def _notices(event: str) -> Callable[[RunData], float]:
    return _sql(
        "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'notice'"
        f" AND json_extract(payload, '$.event') = '{event}'"
    )


def _outcomes(outcome: str) -> Callable[[RunData, str], Mapping[str, float]]:
    return lambda data, by: prot.outcome_counts(data.decisions, outcome, by)


def whipsaw_cycles(data: RunData) -> int:
    """Open-then-close round trips completed within `whipsaw_protection_days` of the open."""
    window = int(data.config.get("whipsaw_protection_days", 14))
    rows = data.rows(
        "SELECT f.asset, f.date, json_extract(d.payload, '$.action') FROM messages f"
        " JOIN messages d ON d.run_id = f.run_id AND d.id = f.in_reply_to AND d.kind = 'decision'"
        " WHERE f.run_id = ? AND f.kind = 'fill' ORDER BY f.id"
    )
    opened: dict[str, str] = {}
    cycles = 0
    for asset, date, action in rows:
        if action == "open":
            opened[asset] = date
        elif action == "close" and asset in opened:
            start = np.datetime64(opened.pop(asset))
            if (np.datetime64(date) - start).astype(int) < window:
                cycles += 1
    return cycles


_SNAPSHOT_DAYS = "SELECT COUNT(*) FROM snapshots WHERE run_id = ? AND json_extract(flags, '$.{}')"

REGISTRY: tuple[Scalar | Breakdown, ...] = (
    Scalar(
        "total_return",
        PERFORMANCE,
        "fraction",
        "final equity / initial cash - 1",
        _path(perf.total_return),
    ),
    Scalar(
        "cagr",
        PERFORMANCE,
        "fraction per year",
        "compound annual growth: (final / initial cash) ** (252 / days) - 1",
        _path(perf.cagr),
    ),
    Scalar(
        "volatility",
        PERFORMANCE,
        "fraction per year",
        "annualised sample sd of daily returns (x sqrt(252))",
        _path(perf.volatility),
    ),
    Scalar(
        "sharpe",
        PERFORMANCE,
        "ratio",
        "mean / sample sd of daily returns x sqrt(252) (risk-free rate 0)",
        _path(perf.sharpe),
    ),
    Scalar(
        "sortino",
        PERFORMANCE,
        "ratio",
        "mean daily return / downside deviation x sqrt(252) (target 0)",
        _path(perf.sortino),
    ),
    Scalar("calmar", PERFORMANCE, "ratio", "CAGR / max drawdown", _path(perf.calmar)),
    Scalar(
        "max_drawdown",
        PERFORMANCE,
        "fraction",
        "largest fall from a running peak, as a fraction",
        _path(perf.max_drawdown),
    ),
    Scalar(
        "max_drawdown_days",
        PERFORMANCE,
        "trading days",
        "length of the deepest drawdown, peak to recovery (or to the end)",
        _path(perf.max_drawdown_days),
    ),
    Scalar(
        "time_under_water",
        PERFORMANCE,
        "fraction of days",
        "share of days closing below the running peak",
        _path(perf.time_under_water),
    ),
    Scalar(
        "trades",
        TRADING,
        "fills",
        "number of fills",
        _sql("SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'fill'"),
    ),
    Scalar(
        "turnover",
        TRADING,
        "x equity",
        "sum over days of traded notional / equity",
        _sql("SELECT COALESCE(SUM(turnover), 0) FROM equity WHERE run_id = ?"),
    ),
    Scalar(
        "costs",
        TRADING,
        "currency",
        "commission plus slippage paid",
        _sql("SELECT COALESCE(SUM(costs), 0) FROM equity WHERE run_id = ?"),
    ),
    Scalar(
        "closed_positions",
        TRADING,
        "positions",
        "positions taken off the book during the run",
        lambda d: len(d.positions.closed),
    ),
    Scalar(
        "win_rate",
        TRADING,
        "fraction of positions",
        "share of closed positions with a P&L above 0 (open to close, costs included)",
        lambda d: win_rate(d.positions.closed),
    ),
    Breakdown(
        "approved_decisions",
        PROTECTION,
        "decisions",
        "decisions approved, by deciding system or rule",
        "approved",
        _outcomes("approved"),
    ),
    Breakdown(
        "amended_decisions",
        PROTECTION,
        "decisions",
        "decisions amended, by deciding protection or rule",
        "amended",
        _outcomes("amended"),
    ),
    Breakdown(
        "blocked_decisions",
        PROTECTION,
        "decisions",
        "decisions blocked (trades not made), by deciding protection or rule",
        "blocked",
        _outcomes("blocked"),
    ),
    Breakdown(
        "overridden_objections",
        PROTECTION,
        "objections",
        "objections a decision overrode, by protection or its verdict's rule",
        "overridden",
        lambda data, by: prot.overruled_counts(data.overruled, by),
    ),
    Breakdown(
        "held_back_weight",
        PROTECTION,
        "weight",
        "weight blocked or amended decisions kept from their proposals",
        "held back",
        lambda data, by: prot.held_back(data.decisions, by),
    ),
    Scalar(
        "grace_days",
        PROTECTION,
        "asset-days",
        "asset-days in a grace period",
        _sql(_SNAPSHOT_DAYS.format("grace_day") + " IS NOT NULL"),
    ),
    Scalar(
        "core_days",
        PROTECTION,
        "asset-days",
        "asset-days designated core",
        _sql(_SNAPSHOT_DAYS.format("core")),
    ),
    Scalar(
        "regime_overrides",
        PROTECTION,
        "notices",
        "regime_override_granted notices (overrides that changed a decision)",
        _notices("regime_override_granted"),
    ),
    Scalar(
        "whipsaw_cycles",
        PROTECTION,
        "cycles",
        "open-then-close round trips within whipsaw_protection_days",
        whipsaw_cycles,
    ),
    Scalar(
        "grace_recoveries",
        PROTECTION,
        "notices",
        "grace_recovered notices",
        _notices("grace_recovered"),
    ),
    Scalar(
        "grace_expiries", PROTECTION, "notices", "grace_expired notices", _notices("grace_expired")
    ),
    Scalar(
        "core_designations",
        PROTECTION,
        "notices",
        "core_designated notices",
        _notices("core_designated"),
    ),
    Scalar(
        "core_revocations", PROTECTION, "notices", "core_revoked notices", _notices("core_revoked")
    ),
)

BREAKDOWNS: tuple[Breakdown, ...] = tuple(d for d in REGISTRY if isinstance(d, Breakdown))


def _bound(decl: Scalar | Breakdown) -> Metric:
    def metric(con: sqlite3.Connection, run_id: str) -> float | None:
        return decl.value(RunData(con, run_id))

    metric.__name__ = metric.__qualname__ = decl.name
    metric.__doc__ = decl.help
    return metric


METRICS: Mapping[str, Metric] = MappingProxyType({d.name: _bound(d) for d in REGISTRY})
METRIC_HELP: Mapping[str, str] = MappingProxyType({d.name: d.help for d in REGISTRY})
DECLARATIONS: Mapping[str, Scalar | Breakdown] = MappingProxyType({d.name: d for d in REGISTRY})


def compute(con: sqlite3.Connection, run_id: str, name: str) -> float | None:
    """One metric of one run. Raises KeyError for an unknown name."""
    return METRICS[name](con, run_id)


def metrics_of(con: sqlite3.Connection, run_id: str) -> list[MetricValue]:
    """Every metric of one run as plain rows.

    First the run-wide value of every declaration, in registry order (grouped
    performance, trading, protection); then, for each of "protection" and "rule", one row
    per breakdown and key (keys sorted; a key absent from a breakdown counts 0; every
    protection that gave a verdict is a key, so one that decided nothing shows zeros).
    """
    data = RunData(con, run_id)
    out = [MetricValue(d.name, d.group, d.value(data), d.unit, d.help) for d in REGISTRY]
    for by in prot.DIMENSIONS:
        tables = {d.name: d.values(data, by) for d in BREAKDOWNS}
        keys = set(data.systems) if by == prot.PROTECTION else set()
        keys = keys.union(*tables.values())
        for key in sorted(keys):
            out.extend(
                MetricValue(d.name, d.group, tables[d.name].get(key, 0), d.unit, d.help, by, key)
                for d in BREAKDOWNS
            )
    return out
