"""Run metrics, computed from a run's rows in the event database.

One registry (`registry.REGISTRY`) declares every metric: performance (returns, risk,
drawdowns: `performance`), trading (fills, costs, closed positions: `positions`) and
protection analytics (decisions per protection and per rule: `protection`). `METRICS` is
what a scenario's `expect: metric` can name; `metrics_of` gives every value of a run as
plain rows. Conventions (252 days, zero risk-free rate, sample sd, ...): docs/metrics.md.
"""

from sim.read.metrics.performance import DAYS_PER_YEAR
from sim.read.metrics.registry import (
    BREAKDOWNS,
    DECLARATIONS,
    GROUPS,
    METRIC_HELP,
    METRICS,
    REGISTRY,
    Breakdown,
    Metric,
    MetricValue,
    Scalar,
    compute,
    metrics_of,
)

__all__ = [
    "BREAKDOWNS",
    "DAYS_PER_YEAR",
    "DECLARATIONS",
    "GROUPS",
    "METRICS",
    "METRIC_HELP",
    "REGISTRY",
    "Breakdown",
    "Metric",
    "MetricValue",
    "Scalar",
    "compute",
    "metrics_of",
]
