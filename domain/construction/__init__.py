"""Portfolio construction: from today's scores to a `Plan` of target weights, and from
targets to trades. The portfolio manager's brain, as pure functions over numpy arrays.

Modules, in the order a rebalance uses them (docs/construction.md is the rule book):

- `inputs`: `PlanInputs`, ranking scores with age decay, market volatility, bucket
  concentration and the day's `dynamic_limits`.
- `selection`: `select` (universe, keep/open thresholds, bucket slots, correlation filter,
  smart overrides, max_total / max_new, minimum bucket representation) with a `Choice`
  (reason) for every asset considered.
- `buckets`: slots per bucket, within-bucket correlations, bucket allocation scaling.
- `sizing`: raw weights, volatility scaling, two-stage cap and normalise, minimum size,
  residual strategies, drawdown reduction.
- `plan`: `plan_targets` puts them together into a `Plan`.
- `trades`: `diff_trades` and `rebalance_due`.
- `proposals`: each trade's reason (`trade_reason`) and the smart overrides that ask for
  core designation (`core_requests`).
- `desk`: the portfolio manager's day state (`Desk`) and what one plan publishes (`Outbox`);
  imported from `domain.construction.desk`, not re-exported here.
"""

from domain.construction.buckets import abs_correlations, bucket_slots
from domain.construction.inputs import (
    EPS,
    Limits,
    PlanInputs,
    bucket_concentration,
    dynamic_limits,
    log_returns,
    market_volatility,
    rank_scores,
    window_rows,
)
from domain.construction.plan import Plan, plan_targets
from domain.construction.selection import Choice, Selection, select
from domain.construction.sizing import (
    ResidualReport,
    allocate_residual,
    asset_volatility,
    cap_and_normalise,
    raw_weights,
    size_positions,
    volatility_factors,
)
from domain.construction.trades import LIMIT_RTOL, Trade, diff_trades, rebalance_due

__all__ = [
    "EPS",
    "LIMIT_RTOL",
    "Choice",
    "Limits",
    "Plan",
    "PlanInputs",
    "ResidualReport",
    "Selection",
    "Trade",
    "abs_correlations",
    "allocate_residual",
    "asset_volatility",
    "bucket_concentration",
    "bucket_slots",
    "cap_and_normalise",
    "diff_trades",
    "dynamic_limits",
    "log_returns",
    "market_volatility",
    "plan_targets",
    "rank_scores",
    "raw_weights",
    "rebalance_due",
    "select",
    "size_positions",
    "volatility_factors",
    "window_rows",
]
