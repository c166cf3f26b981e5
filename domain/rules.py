"""Rules: every rule of behaviour.md under a stable id, and the rules of the stages.

A `Rule` names one decision the system makes: its id (`<owner>.<name>`), the registry
parameters it reads, a one-line statement and the behaviour.md section it comes from.
The owner is the id's first part: a protection's name (its rules are declared in its own
module, beside the guards that apply them) or one of the `STAGES` below (declared here).
`domain.catalogue` puts them together into the catalogue that `python run.py rules`
prints.

Every verdict, decision, notice and proposal a rule decides carries the rule's id in the
event DB (`rule`; docs/event-db.md), so a run can be counted by rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

STAGES: tuple[str, ...] = (
    "trading",
    "regime",
    "scoring",
    "selection",
    "construction",
    "sizing",
    "trades",
    "resolution",
    "execution",
    "configuration",
)
"""The owners of rules that are not a protection's, in the order of a day."""


@attrs.frozen
class Rule:
    """One rule of the catalogue.

    Attributes:
        id: `<owner>.<name>`, stable: events record it, tests and reports count by it.
        params: the configuration registry names the rule reads.
        statement: the rule in one line.
        section: the behaviour.md section it comes from (`docs` pages hold our readings).
    """

    id: str
    params: tuple[str, ...]
    statement: str
    section: str

    @property
    def owner(self) -> str:
        """The protection or stage the rule belongs to (the id's first part)."""
        return self.id.split(".", 1)[0]


_S1 = "1. Time and trading"
_S2 = "2. Regimes (regime provider)"
_S3 = "3. Universe, scoring, selection (portfolio manager)"
_S4 = "4. Bucket diversification (portfolio manager)"
_S5 = "5. Sizing (portfolio manager)"
_S6 = "6. Protection managers"
_S7 = "7. Orchestrator: resolving a proposal"
_S8 = "8. Configuration"

# --- trading, regimes, scoring --------------------------------------------------------
REBALANCE_DAY = Rule(
    "trading.rebalance_day",
    ("rebalance_frequency",),
    "The portfolio manager plans only on rebalance days (daily, the first simulated day of"
    " each ISO week or month) and on a day the regime changes",
    _S1,
)
SEVERITY = Rule(
    "regime.severity",
    (),
    "A change's severity comes from the scenario, else from the map (Goldilocks→Deflation"
    " critical, Goldilocks→Inflation high, ...); any other change is normal",
    _S2,
)
FAVORED_BUCKETS = Rule(
    "regime.favored_buckets",
    (),
    "Each regime favours some buckets (scenario-configurable, with defaults per regime)",
    _S2,
)
SCORE = Rule(
    "scoring.score",
    ("technical_weight", "fundamental_weight"),
    "score = technical_weight x technical + fundamental_weight x fundamental, in [0, 1]",
    _S3,
)

# --- selection (docs/construction.md section 2) ---------------------------------------
UNIVERSE = Rule(
    "selection.universe",
    ("trending_confidence_new",),
    "Universe = every holding (always re-scored) and the assets tradable today with"
    " trending confidence >= trending_confidence_new",
    _S3,
)
KEEP_THRESHOLD = Rule(
    "selection.keep_threshold",
    ("min_score_threshold",),
    "A holding is kept while its undecayed score >= min_score_threshold",
    _S3,
)
TRENDING_EXISTING = Rule(
    "selection.trending_existing",
    ("trending_confidence_existing",),
    "A holding is kept only while its trending confidence >= trending_confidence_existing",
    _S3,
)
OPEN_THRESHOLD = Rule(
    "selection.open_threshold",
    ("min_score_new_position", "trending_confidence_new"),
    "A new position opens only with score >= min_score_new_position (and trending"
    " confidence >= trending_confidence_new)",
    _S3,
)
REVIEW_THRESHOLD = Rule(
    "selection.review_threshold",
    ("min_score_new_position",),
    "A holding due its forced review stays only with score >= min_score_new_position",
    _S3,
)
SCORE_DECAY = Rule(
    "selection.score_decay",
    ("score_decay_factor",),
    "A holding's ranking score is x score_decay_factor per whole 30 days held; thresholds"
    " and sizing read the undecayed score",
    _S3,
)
MAX_TOTAL = Rule(
    "selection.max_total",
    ("max_total_positions",),
    "New candidates fill only what max_total_positions leaves after the kept and locked"
    " positions (a kept holding is never closed to fit)",
    _S3,
)
MAX_NEW = Rule(
    "selection.max_new",
    ("max_new_positions",),
    "At most max_new_positions opens per rebalance (less the opens approved earlier in the step)",
    _S3,
)

# --- construction: the day's limits and the buckets ----------------------------------
DYNAMIC_LIMITS = Rule(
    "construction.dynamic_limits",
    ("max_new_positions", "max_total_positions", "regime_change_aggression"),
    "On a regime change max_new x regime_change_aggression and max_total x 1.2",
    _S3,
)
HIGH_VOLATILITY = Rule(
    "construction.high_volatility",
    ("high_volatility_threshold",),
    "max_new halves (at least 1) while the equal-weighted market's 20-day volatility is"
    " above high_volatility_threshold",
    _S3,
)
CONCENTRATION = Rule(
    "construction.concentration",
    ("portfolio_concentration_limit",),
    "When the largest bucket holds more than portfolio_concentration_limit of the book,"
    " max_new is at least 2 and new slots go to other buckets first",
    _S3,
)
BUCKET_SLOTS = Rule(
    "construction.bucket_slots",
    ("enable_bucket_diversification", "max_total_positions", "max_positions_per_bucket"),
    "Each bucket gets max_total // buckets present slots, +1 when favoured, at least 1,"
    " at most max_positions_per_bucket; holdings sort first",
    _S4,
)
BUCKET_OVERFLOW = Rule(
    "construction.bucket_overflow",
    ("allow_bucket_overflow",),
    "With allow_bucket_overflow every holding is exempt from its bucket's slots",
    _S4,
)
BUCKET_ALLOCATION = Rule(
    "construction.bucket_allocation",
    ("max_bucket_allocation",),
    "A bucket above max_bucket_allocation of equity is scaled down proportionally",
    _S4,
)
MIN_BUCKETS = Rule(
    "construction.min_buckets",
    ("min_buckets_represented",),
    "While fewer than min_buckets_represented buckets are held, the best candidate of the"
    " best missing bucket is added (displacing the lowest-ranked new pick)",
    _S4,
)
CORRELATION = Rule(
    "construction.correlation",
    ("correlation_limit", "correlation_window"),
    "Within a bucket a new candidate whose |correlation| with a better-ranked member over"
    " correlation_window days is above correlation_limit is dropped",
    _S4,
)
BUCKET_OVERRIDE = Rule(
    "construction.bucket_override",
    ("bucket_override_threshold", "max_bucket_overrides"),
    "An asset the slots turned away with score >= bucket_override_threshold is admitted"
    " anyway, at most max_bucket_overrides per rebalance",
    _S4,
)
OVERRIDE_CORE_REQUEST = Rule(
    "construction.override_core_request",
    ("core_asset_override_threshold",),
    "A bucket override with score >= core_asset_override_threshold asks core_asset for a"
    " designation (the next morning, once held)",
    _S4,
)

# --- sizing ---------------------------------------------------------------------------
RAW_WEIGHTS = Rule(
    "sizing.raw_weights",
    ("position_size_scaling", "base_position_size"),
    "Raw weights by position_size_scaling (equal_weight, score_weighted, adaptive, fixed"
    " categories of base_position_size; below 0.6 fixed gives no position)",
    _S5,
)
VOLATILITY = Rule(
    "sizing.volatility",
    ("volatility_position_scaling", "volatility_lookback"),
    "Raw weights x median vol / own vol over volatility_lookback returns, before the caps",
    _S5,
)
CAP = Rule(
    "sizing.cap",
    ("max_single_position_size", "target_total_allocation"),
    "Cap every position at max_single_position_size, share what is left of"
    " target_total_allocation among the uncapped ones, repeat",
    _S5,
)
MIN_POSITION = Rule(
    "sizing.min_position",
    ("min_position_size",),
    "A position below min_position_size is dropped (the smallest first) and the rest re-sized",
    _S5,
)
RESIDUAL = Rule(
    "sizing.residual",
    (
        "residual_strategy",
        "residual_leftover_threshold",
        "max_residual_per_asset_pct",
        "max_residual_position_multiple",
    ),
    "A residual above residual_leftover_threshold goes by residual_strategy (safe top"
    " slice within the per-asset limits, proportional, or the cash bucket)",
    _S5,
)
DRAWDOWN = Rule(
    "sizing.drawdown",
    ("drawdown_position_reduction", "drawdown_trigger"),
    "While drawdown is above drawdown_trigger every planned weight is x"
    " drawdown_position_reduction",
    _S5,
)
NO_ROOM = Rule(
    "sizing.no_room",
    ("target_total_allocation",),
    "When locked positions take all of target_total_allocation nothing else is sized",
    _S5,
)

# --- trades ---------------------------------------------------------------------------
MIN_TRADE = Rule(
    "trades.min_trade",
    ("min_trade_weight",),
    "A change of target smaller than min_trade_weight is not proposed; opens and closes always are",
    _S1,
)
CAP_TRIM = Rule(
    "trades.cap_trim",
    ("max_single_position_size",),
    "A holding that would end the day above max_single_position_size is trimmed to its"
    " target however small the change",
    _S5,
)
BUCKET_LIMIT = Rule(
    "trades.bucket_limit",
    ("max_bucket_allocation",),
    "Every changed target of a bucket the day would leave above max_bucket_allocation is"
    " proposed however small",
    _S4,
)

# --- resolution -----------------------------------------------------------------------
PRIORITY = Rule(
    "resolution.priority",
    (),
    "The decisive verdict (block, amend, grant) of highest priority decides; with none"
    " the proposal is approved",
    _S7,
)
REGIME_OVERRIDE = Rule(
    "resolution.regime_override",
    ("regime_override_enabled", "regime_severity_threshold", "regime_override_whipsaw_critical"),
    "On a regime change of severity >= regime_severity_threshold the blocks and amends of"
    " grace and holding period (critical: also whipsaw) are lifted; never core immunity",
    f"{_S6} / Regime override",
)
OVERRIDE_COOLDOWN = Rule(
    "resolution.override_cooldown",
    ("regime_override_cooldown",),
    "A regime override lifts at most once per asset per regime_override_cooldown days",
    f"{_S6} / Holding period",
)
REPLAN = Rule(
    "resolution.replan",
    ("max_negotiation_rounds",),
    "When blocks free slots or weight the portfolio manager re-plans around the locked"
    " assets, excluding blocked opens, for up to max_negotiation_rounds rounds",
    _S7,
)

# --- execution ------------------------------------------------------------------------
SELL_BEFORE_BUY = Rule(
    "execution.sell_before_buy",
    (),
    "Sells are executed before buys, the last decision of the day per asset counts",
    _S1,
)
CASH_FLOOR = Rule(
    "execution.cash_floor",
    (),
    "Cash never goes negative: buys are scaled down to the cash after sells, and the"
    " scaling is recorded",
    _S1,
)
COSTS = Rule(
    "execution.costs",
    ("slippage_bps", "commission"),
    "Fills at the close, plus slippage_bps on buys and minus on sells, less commission"
    " of traded notional",
    _S1,
)

# --- configuration --------------------------------------------------------------------
COMBINATIONS = Rule(
    "configuration.combinations",
    (
        "max_new_positions",
        "max_total_positions",
        "max_positions_per_bucket",
        "min_position_size",
        "base_position_size",
        "max_single_position_size",
        "min_score_threshold",
        "min_score_new_position",
        "technical_weight",
        "fundamental_weight",
    ),
    "Bad combinations are refused (max_new <= max_total, min_position_size <="
    " base_position_size <= max_single_position_size, weights summing to 1, ...)",
    _S8,
)
DIVERSIFICATION_MODE = Rule(
    "configuration.diversification_mode",
    (
        "diversification_mode",
        "max_bucket_allocation",
        "min_buckets_represented",
        "bucket_balance_tolerance",
    ),
    "strict clamps max_bucket_allocation <= 0.35 and min_buckets >= 2; aggressive clamps"
    " max_bucket_allocation <= 0.7 and bucket_balance_tolerance >= 0.3",
    _S4,
)

STAGE_RULES: tuple[Rule, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Rule))
"""Every rule of a stage, in the order declared above."""

NOTICE_RULES: Mapping[str, str] = MappingProxyType(
    {
        "rebalance": REBALANCE_DAY.id,
        "buys_scaled": CASH_FLOOR.id,
        "regime_override_granted": REGIME_OVERRIDE.id,
    }
)
"""The rule of each notice event that one stage rule alone issues, for the publishers that
do not name one (`agents.protection.notice`)."""
