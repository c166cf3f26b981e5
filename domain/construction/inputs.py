"""What the planner reads for one rebalance, and what it derives before selecting.

`PlanInputs` holds column-aligned numpy arrays (one column per ticker) and the book.
From it come the **ranking scores** (age decay of holdings' scores), the **market
volatility** and **bucket concentration** tests, and the day's **dynamic limits**.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from domain import numerics
from domain.buckets import UNKNOWN_BUCKET
from domain.config import Config
from domain.scoring import published_scores

if TYPE_CHECKING:
    from domain.stages import Stages

EPS = 1e-12
"""Weights at or below this are treated as zero."""
DECAY_PERIOD_DAYS = 30
"""The ranking score of a holding is multiplied by `score_decay_factor` per whole period."""
MARKET_VOL_WINDOW = 20
"""Daily returns of the equal-weighted market behind the high-volatility test."""
TRADING_DAYS_PER_YEAR = 252
REGIME_TOTAL_FACTOR = 1.2
"""On a regime change, max_total_positions is multiplied by this (rounded down)."""
HIGH_VOL_NEW_FACTOR = 0.5
"""In a high-volatility market, max_new_positions is multiplied by this (rounded down, >= 1)."""
CONCENTRATION_MIN_NEW = 2
"""Under bucket concentration, max_new_positions is at least this."""


def _float_array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=float)


def _bool_array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=bool)


def _optional_tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _optional_array(value: Any) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=float)


def _stated_stages() -> Stages:
    from domain.stages import DEFAULT_STAGES  # domain.stages imports this module

    return DEFAULT_STAGES


def _published_score(inp: PlanInputs) -> np.ndarray:
    return published_scores(inp.score)


@attrs.frozen(eq=False)
class PlanInputs:
    """Everything the planner reads for one rebalance (arrays aligned with `tickers`).

    Attributes:
        tickers: Column order of every array.
        score: Today's (undecayed) score per column, in [0, 1].
        trending: Today's trending confidence per column.
        valid: Whether each column can be traded today (scored and priced).
        weights: The book before today's trades: asset -> weight of equity.
        config: The configuration.
        locked: Assets already decided this step (a re-plan round, or a protection's
            own proposal): asset -> weight. They keep that weight and are not re-planned.
        excluded: Assets that may not be opened this step (their open was blocked).
        review_due: Holdings whose maximum-holding review is due today.
        buckets: Bucket of each column; None puts every column in "Unknown".
        days_held: Calendar days each holding has been held (for the age decay).
        favored_buckets: Buckets favoured by today's regime (one extra slot each).
        regime_changed: Whether the regime changed today (dynamic limits).
        opened: Opens already approved earlier this step (re-plan rounds).
        closes: Closes up to today (rows ascending, last row today, columns aligned
            with `tickers`) for correlations, volatility scaling and the market test;
            None switches those three off.
        drawdown: The portfolio's drawdown today (1 - equity / peak).
        stages: The run's stage rules, through which the planner takes each step
            (`domain.stages`; the rules as stated unless a mutant is switched in).
        universe: The run's `Universe` (what the planner derives from `tickers` and
            `buckets`, kept across plans); None, or one of other columns, builds it anew.
        day: The day's `DayMemo` (what the day's plans derive from `closes` alone, kept
            across its rounds); None, or one of other closes, keeps it for this plan only.
        threshold_score: `score` as published (`SCORE_DECIMALS` places), derived: what
            every score threshold compares, so the planner and the protections, which
            read the published scores, agree at a threshold. Ranking and sizing read
            `score`.
    """

    tickers: tuple[str, ...] = attrs.field(converter=tuple)
    score: np.ndarray = attrs.field(converter=_float_array)
    trending: np.ndarray = attrs.field(converter=_float_array)
    valid: np.ndarray = attrs.field(converter=_bool_array)
    weights: Mapping[str, float]
    config: Config
    locked: Mapping[str, float] = attrs.field(factory=dict)
    excluded: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    review_due: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    buckets: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_tuple)
    days_held: Mapping[str, int] = attrs.field(factory=dict)
    favored_buckets: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    regime_changed: bool = False
    opened: int = 0
    closes: np.ndarray | None = attrs.field(default=None, converter=_optional_array)
    drawdown: float = 0.0
    stages: Stages = attrs.field(factory=_stated_stages)
    universe: Universe | None = None
    day: DayMemo | None = None
    threshold_score: np.ndarray = attrs.field(
        init=False,
        default=attrs.Factory(lambda self: published_scores(self.score), takes_self=True),
    )

    def __attrs_post_init__(self) -> None:
        n = len(self.tickers)
        for name in ("score", "trending", "valid"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {getattr(self, name).shape}")
        if self.buckets is not None and len(self.buckets) != n:
            raise ValueError(f"buckets must name {n} columns, got {len(self.buckets)}")
        if self.closes is not None and (self.closes.ndim != 2 or self.closes.shape[1] != n):
            raise ValueError(f"closes must be 2-D with {n} columns, got {self.closes.shape}")

    @property
    def n_assets(self) -> int:
        """Number of columns."""
        return len(self.tickers)

    def bucket_array(self) -> np.ndarray:
        """Bucket of each column as a read-only object array ("Unknown" when none given)."""
        return self._universe.bucket_array

    def bucket_of(self) -> Mapping[str, str]:
        """Ticker -> bucket."""
        return self._universe.bucket_of

    def bucket_names(self) -> tuple[str, ...]:
        """Bucket of each column as a tuple (quicker than `bucket_array` one at a time)."""
        return self._universe.bucket_names

    @property
    def column(self) -> Mapping[str, int]:
        """Ticker -> its column."""
        return self._universe.column

    @property
    def ticker_rank(self) -> np.ndarray:
        """Each column's place in alphabetical ticker order (the planner's tie-break)."""
        return self._universe.ticker_rank

    @property
    def by_ticker(self) -> np.ndarray:
        """The columns in alphabetical ticker order (`ticker_rank`'s inverse)."""
        return self._universe.by_ticker

    def returns(self, lookback: int) -> np.ndarray | None:
        """`log_returns` of the closes' last `lookback` + 1 rows, every column (None
        without closes); read-only, computed once per day (`day`) and lookback."""
        if self.closes is None:
            return None
        key = ("returns", int(lookback))
        rets = self.memo.get(key)
        if rets is None:
            rets = returns_of_logs(self._logs(int(lookback)))
            rets.flags.writeable = False
            self.memo[key] = rets
        return rets

    def returns_of(self, lookback: int, columns: list[int]) -> np.ndarray:
        """`log_returns` of `columns` over the closes' last `lookback` + 1 rows (closes
        required): taken from `returns` when the day computed that lookback already,
        else computed for those columns only (columns are independent in
        `log_returns`)."""
        whole = self.memo.get(("returns", int(lookback)))
        if whole is not None:
            return whole[:, columns]
        return returns_of_logs(self._logs(int(lookback))[:, columns])

    def _logs(self, lookback: int) -> np.ndarray:
        """`numerics.log` of the closes' last `lookback` + 1 rows: read from the run's
        `MarketReturns` when the day has them (the same bits: the log is elementwise),
        else computed from the closes."""
        closes = self.closes
        rows = min(lookback + 1, closes.shape[0])
        day = self.day
        if rows and day is not None and day.market is not None and day.closes is closes:
            return day.market.logs(day.row - rows + 1, day.row)
        with np.errstate(invalid="ignore", divide="ignore"):
            return numerics.log(np.asarray(closes[closes.shape[0] - rows :], dtype=float))

    def market_volatility(self) -> float:
        """`market_volatility` of the closes (0 without), computed once per day (read
        from the run's `MarketReturns` when the day has them and serves)."""
        if self.closes is None:
            return 0.0
        vol = self.memo.get("market_volatility")
        if vol is None:
            day = self.day
            if day is not None and day.market is not None and day.closes is self.closes:
                vol = day.market.volatility(day.row)
            if vol is None:
                vol = _market_volatility(self.returns(MARKET_VOL_WINDOW))
            self.memo["market_volatility"] = vol
        return vol

    @functools.cached_property
    def memo(self) -> dict[Any, Any]:
        """What is derived from `closes` alone, by key: the day's (`DayMemo.values`) when
        `day` holds these closes, else this plan's."""
        day = self.day
        return day.values if day is not None and day.closes is self.closes else {}

    @functools.cached_property
    def _universe(self) -> Universe:
        given = self.universe
        if given is not None and given.tickers == self.tickers and given.buckets == self.buckets:
            return given
        return Universe(self.tickers, self.buckets)


@attrs.frozen(eq=False)
class Universe:
    """The planner's columns and their buckets, and what the planner derives from them.

    A run's columns do not change, so the desk builds one and every plan reuses what it
    derives (`PlanInputs.universe`).

    Attributes:
        tickers: Column order.
        buckets: Bucket of each column; None puts every column in "Unknown".
    """

    tickers: tuple[str, ...] = attrs.field(converter=tuple)
    buckets: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_tuple)

    @functools.cached_property
    def column(self) -> Mapping[str, int]:
        """Ticker -> its column."""
        return MappingProxyType({t: j for j, t in enumerate(self.tickers)})

    @functools.cached_property
    def ticker_rank(self) -> np.ndarray:
        """Each column's place in alphabetical ticker order (read-only)."""
        out = np.empty(len(self.tickers), dtype=np.intp)
        out[self.by_ticker] = np.arange(len(self.tickers))
        out.flags.writeable = False
        return out

    @functools.cached_property
    def by_ticker(self) -> np.ndarray:
        """The columns in alphabetical ticker order (read-only)."""
        out = np.array(sorted(range(len(self.tickers)), key=self.tickers.__getitem__))
        out = out.astype(np.intp, copy=False)
        out.flags.writeable = False
        return out

    @functools.cached_property
    def bucket_array(self) -> np.ndarray:
        """Bucket of each column as a read-only object array ("Unknown" when none given)."""
        if self.buckets is None:
            out = np.full(len(self.tickers), UNKNOWN_BUCKET, dtype=object)
        else:
            out = np.array(self.buckets, dtype=object)
        out.flags.writeable = False
        return out

    @functools.cached_property
    def bucket_names(self) -> tuple[str, ...]:
        """Bucket of each column as a tuple."""
        return tuple(self.bucket_array.tolist())

    @functools.cached_property
    def bucket_of(self) -> Mapping[str, str]:
        """Ticker -> bucket."""
        return MappingProxyType(dict(zip(self.tickers, self.bucket_names, strict=True)))


@attrs.define(eq=False)
class DayMemo:
    """What a day's plans derive from the day's closes alone, kept across its rounds.

    The desk builds one a day (`domain.construction.desk`) and hands it to every plan of
    the day with the same `closes` array; a plan whose closes are another array (a mutant
    evolving its inputs) does not use it.

    Attributes:
        closes: The day's closes window (`PlanInputs.closes`).
        source: What `closes` is the window of, for its owner to tell whether it still
            serves (the desk's: the market, the row and the window's length).
        values: key -> value derived from `closes` (read-only arrays): the log returns
            of a lookback, the market volatility, the |correlations| of a column group.
        market: The run's `MarketReturns` when `closes` are its closes' rows up to
            `row` (None: the market volatility is found from `closes`).
        row: The row of the run's closes that is the last of `closes`.
    """

    closes: np.ndarray
    source: tuple[Any, ...] = ()
    values: dict[Any, Any] = attrs.field(factory=dict)
    market: MarketReturns | None = None
    row: int = 0


class MarketReturns:
    """A run's log closes and the equal-weighted market's daily returns, so that a day
    slices its lookback's logs and its `market_volatility` reads 20 market returns
    instead of taking the logs of its window and reducing it again.

    The logs are `numerics.log` of the closes, computed in blocks of `BLOCK` rows when
    first read; a day's `log_returns` from them has the bits of `log_returns` of its
    window, since the log is elementwise and the differences and gap filling are the
    same (`returns_of_logs`).

    The market's return from row r to r + 1 is the mean log return of every column, as
    `_market_volatility` finds it for a window whose closes are all priced (the same
    operations: the log, the difference, `np.add.reduce` over a row, the division); a
    row's value is computed in blocks of `BLOCK` rows when first read. A day whose last
    21 rows are not all priced is not served (None): its window fills its gaps.

    Args:
        closes: The run's closes (read-only: they may not change under the returns).
    """

    BLOCK = 256

    def __init__(self, closes: np.ndarray) -> None:
        self._closes = closes
        rows = closes.shape[0]
        self._logs = np.empty(closes.shape)
        self._logged = np.zeros(-(-rows // self.BLOCK), dtype=bool)
        self._market = np.full(max(rows - 1, 0), np.nan)
        self._priced = np.zeros(max(rows - 1, 0), dtype=bool)
        self._done = np.zeros(-(-max(rows - 1, 0) // self.BLOCK), dtype=bool)

    def logs(self, lo: int, hi: int) -> np.ndarray:
        """`numerics.log` of the closes of rows `lo` .. `hi` inclusive (read-only view;
        NaN where a close is missing or not above 0, as `log_returns` takes them)."""
        if not 0 <= lo <= hi < self._closes.shape[0]:
            raise IndexError(f"rows {lo}..{hi} outside 0..{self._closes.shape[0] - 1}")
        for block in range(lo // self.BLOCK, hi // self.BLOCK + 1):
            if not self._logged[block]:
                start = block * self.BLOCK
                with np.errstate(invalid="ignore", divide="ignore"):
                    part = numerics.log(self._closes[start : start + self.BLOCK])
                self._logs[start : start + self.BLOCK] = part
                self._logged[block] = True
        out = self._logs[lo : hi + 1]
        out.flags.writeable = False
        return out

    def volatility(self, t: int) -> float | None:
        """`market_volatility` of the closes up to row `t` (its last 21 rows), or None
        when they are not all priced, or fewer, or have no column."""
        start = t - MARKET_VOL_WINDOW
        if start < 0 or t >= self._closes.shape[0] or self._closes.shape[1] == 0:
            return None
        for block in range(start // self.BLOCK, (t - 1) // self.BLOCK + 1):
            if not self._done[block]:
                self._fill(block)
        if not self._priced[start:t].all():
            return None
        return float(_sample_std(self._market[start:t]) * np.sqrt(TRADING_DAYS_PER_YEAR))

    def _fill(self, block: int) -> None:
        """The returns from rows `block * BLOCK` .. to the next row, each with whether
        both of its rows are priced in every column."""
        lo = block * self.BLOCK
        hi = min(lo + self.BLOCK, self._market.shape[0])
        logs = self.logs(lo, hi)
        priced = np.isfinite(logs).all(axis=1)
        rets = np.subtract(logs[1:], logs[:-1])
        self._market[lo:hi] = np.add.reduce(rets, axis=1) / rets.shape[1]
        self._priced[lo:hi] = priced[1:] & priced[:-1]
        self._done[block] = True


@attrs.frozen
class Limits:
    """The position limits of one rebalance, after the dynamic adjustments.

    Attributes:
        max_total: Most positions the plan may hold (locked ones included).
        max_new: Most new positions this rebalance (before opens already approved).
        new_budget: `max_new` minus opens already approved this step (>= 0).
        regime_changed: The regime-change multipliers were applied.
        high_volatility: The market was above `high_volatility_threshold`.
        market_volatility: Annualised 20-day volatility of the equal-weighted market.
        concentrated: The largest bucket held more than `portfolio_concentration_limit`.
        concentration: The largest bucket's share of the invested book (0 when empty).
        largest_bucket: That bucket (None when nothing is held).
    """

    max_total: int
    max_new: int
    new_budget: int
    regime_changed: bool = False
    high_volatility: bool = False
    market_volatility: float = 0.0
    concentrated: bool = False
    concentration: float = 0.0
    largest_bucket: str | None = None


def log_returns(closes: np.ndarray) -> np.ndarray:
    """Daily log returns of each column, gaps forward-filled (leading NaN stay NaN).

    Args:
        closes: 2-D closes, rows ascending; NaN or non-positive means missing.

    Returns:
        Array of shape (rows - 1, columns); NaN where the asset had no earlier close.
    """
    closes = np.asarray(closes, dtype=float)
    if closes.shape[0] < 2:
        return np.zeros((0, closes.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return returns_of_logs(numerics.log(closes))


def returns_of_logs(logs: np.ndarray) -> np.ndarray:
    """`log_returns` of closes given as their `numerics.log` (NaN where missing).

    Args:
        logs: 2-D log closes, rows ascending.

    Returns:
        Array of shape (rows - 1, columns), as `log_returns`.
    """
    if logs.shape[0] < 2:
        return np.zeros((0, logs.shape[1]))
    priced = np.isfinite(logs)  # exactly where a close is finite and above 0
    if priced.all():  # the common case: nothing to fill (np.diff's own subtraction)
        return np.subtract(logs[1:], logs[:-1])
    rows = np.arange(logs.shape[0])[:, None]
    last = np.where(priced, rows, 0)
    np.maximum.accumulate(last, axis=0, out=last)
    filled = np.take_along_axis(np.where(priced, logs, np.nan), last, axis=0)
    return np.diff(filled, axis=0)


def rank_scores(inp: PlanInputs) -> np.ndarray:
    """Ranking score per column: the score x `score_decay_factor` per 30 days held.

    Only whole 30-day periods count (a holding held 59 days decays once). Assets not
    held are not decayed. Threshold checks never use this, only ordering does.
    """
    periods = np.zeros(inp.n_assets)
    column = inp.column
    for asset, days in inp.days_held.items():
        j = column.get(asset)
        if j is not None and inp.weights.get(asset, 0.0) > EPS:
            periods[j] = max(int(days), 0) // DECAY_PERIOD_DAYS
    return inp.score * inp.config.score_decay_factor**periods


def market_volatility(closes: np.ndarray | None) -> float:
    """Annualised volatility of the equal-weighted market over the last 20 daily returns.

    The market's daily return is the mean log return of the assets priced on both days;
    its sample standard deviation (ddof 1) is annualised with sqrt(252). Fewer than two
    market returns give 0.
    """
    if closes is None:
        return 0.0
    return _market_volatility(log_returns(np.asarray(closes)[-(MARKET_VOL_WINDOW + 1) :]))


def _market_volatility(rets: np.ndarray | None) -> float:
    """`market_volatility` from the last 20 daily log returns (None: no closes)."""
    if rets is None:
        return 0.0
    finite = np.isfinite(rets)
    if finite.all():  # the common case: each day's mean over every column
        if rets.shape[0] < 2 or rets.shape[1] == 0:
            return 0.0
        market = np.add.reduce(rets, axis=1) / rets.shape[1]
        return float(_sample_std(market) * np.sqrt(TRADING_DAYS_PER_YEAR))
    counts = finite.sum(axis=1)
    rows = counts > 0
    if rows.sum() < 2:
        return 0.0
    values = np.where(finite, rets, 0.0)
    market = values.sum(axis=1)[rows] / counts[rows]
    return float(_sample_std(market) * np.sqrt(TRADING_DAYS_PER_YEAR))


def _sample_std(values: np.ndarray) -> np.float64:
    """`np.std(values, ddof=1)` of a 1-D array of two values or more, by the same
    operations as np.std (numpy's `_var`), without its overhead on a few values."""
    n = values.size
    mean = np.add.reduce(values, keepdims=True)
    np.true_divide(mean, n, out=mean)
    dev = np.subtract(values, mean)
    np.square(dev, out=dev)
    return np.sqrt(np.add.reduce(dev) / (n - 1))


def bucket_concentration(
    weights: Mapping[str, float], bucket_of: Mapping[str, str]
) -> tuple[float, str | None]:
    """The largest bucket's share of the invested book, and that bucket.

    Returns:
        (share, bucket); (0.0, None) when nothing is held. Ties go to the bucket first
        in alphabetical order.
    """
    totals: dict[str, float] = {}
    for asset in sorted(weights):
        w = weights[asset]
        if w > EPS:
            bucket = bucket_of.get(asset, UNKNOWN_BUCKET)
            totals[bucket] = totals.get(bucket, 0.0) + w
    invested = sum(totals.values())
    if invested <= EPS:
        return 0.0, None
    largest = min(totals, key=lambda b: (-totals[b], b))
    return totals[largest] / invested, largest


def dynamic_limits(inp: PlanInputs) -> Limits:
    """The day's position limits (behaviour.md section 3, docs/construction.md).

    In order: on a regime change max_new x `regime_change_aggression` and max_total x
    1.2 (both rounded down); when the market's volatility exceeds
    `high_volatility_threshold`, max_new halves (rounded down, at least 1); when the
    largest bucket holds more than `portfolio_concentration_limit` of the invested book,
    max_new is at least 2 (and new slots go to other buckets first, see `select`).
    """
    cfg = inp.config
    max_total = cfg.max_total_positions
    max_new = cfg.max_new_positions
    if inp.regime_changed:
        max_new = int(max_new * cfg.regime_change_aggression)
        max_total = int(max_total * REGIME_TOTAL_FACTOR)
    vol = inp.market_volatility()
    high = vol > cfg.high_volatility_threshold
    if high:
        max_new = max(1, int(max_new * HIGH_VOL_NEW_FACTOR))
    share, largest = bucket_concentration(inp.weights, inp.bucket_of())
    concentrated = share > cfg.portfolio_concentration_limit
    if concentrated:
        max_new = max(CONCENTRATION_MIN_NEW, max_new)
    return Limits(
        max_total=max_total,
        max_new=max_new,
        new_budget=max(max_new - int(inp.opened), 0),
        regime_changed=bool(inp.regime_changed),
        high_volatility=bool(high),
        market_volatility=vol,
        concentrated=bool(concentrated),
        concentration=share,
        largest_bucket=largest,
    )


def window_rows(config: Config) -> int:
    """Rows of closes the planner reads: the longest of its lookbacks, plus one."""
    return max(config.correlation_window, config.volatility_lookback, MARKET_VOL_WINDOW) + 1
