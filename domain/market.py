"""Market paths: the `MarketData` value object, the synthetic generator, shocks and paths.

Everything here is pure (numpy only). `sim.run.market_data` reads csv files and calls
`market_from_history`; a synthetic market comes from `generate_synthetic`. Both then go
through `apply_shocks_and_paths`. See docs/market.md for the model and every rule chosen.

Column order of a market: tickers sorted by (bucket, ticker).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType

import attrs
import numpy as np

from domain import numerics
from domain.calendar import weekdays, weekdays_before
from domain.regimes import scripted_regimes
from domain.scenario import UNKNOWN_BUCKET, LevelSpec, MarketSpec, Scenario, Shock

TRADING_DAYS_PER_YEAR = 252


def _forward_fill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaN down each column (vectorised); leading NaN stay NaN."""
    if values.size == 0:
        return values.copy()
    rows = np.arange(values.shape[0])[:, None]
    last_valid = np.where(np.isnan(values), -1, rows)
    last_valid = np.maximum.accumulate(last_valid, axis=0)
    cols = np.arange(values.shape[1])[None, :]
    filled = values[np.maximum(last_valid, 0), cols]
    filled[last_valid < 0] = np.nan
    return filled


def column_order(bucket_of: Mapping[str, str]) -> tuple[str, ...]:
    """Tickers sorted by (bucket, ticker): the column order of every market."""
    return tuple(sorted(bucket_of, key=lambda ticker: (bucket_of[ticker], ticker)))


class DayCloses(Mapping[str, float]):
    """One row of a market's closes by ticker: the assets priced that day (a NaN close is
    absent), each close a Python float read from the row when asked.

    A day's closes are read a few dozen times (the book's valuation, the fills, the
    snapshot rows), so nothing is converted for the other columns of a wide universe. The
    row is the market's own, read-only, so the mapping never changes.
    """

    __slots__ = ("_col", "_priced", "_row")

    def __init__(self, row: np.ndarray, col: Mapping[str, int]) -> None:
        self._row = row
        self._col = col
        self._priced: tuple[str, ...] | None = None

    def __getitem__(self, asset: str) -> float:
        value = float(self._row[self._col[asset]])
        if value != value:  # NaN: no close today
            raise KeyError(asset)
        return value

    def __contains__(self, asset: object) -> bool:
        j = self._col.get(asset)  # type: ignore[call-overload]
        return j is not None and not math.isnan(self._row[j])

    def _tickers(self) -> tuple[str, ...]:
        if self._priced is None:
            finite = ~np.isnan(self._row)
            self._priced = tuple(t for t, j in self._col.items() if finite[j])
        return self._priced

    def __iter__(self) -> Iterator[str]:
        return iter(self._tickers())

    def __len__(self) -> int:
        return len(self._tickers())


@attrs.frozen(eq=False)
class MarketData:
    """Daily closes of every asset, warm-up history included, ascending by date.

    Attributes:
        dates: every trading day including the warm-up history, strictly ascending.
        start_index: index in `dates` of the first simulated day.
        tickers: column order of `closes`.
        bucket_of: ticker -> bucket (`"Unknown"` for a ticker in no bucket).
        closes: float64 array of shape (len(dates), len(tickers)), read-only; NaN before
            an asset exists.
    """

    dates: tuple[dt.date, ...] = attrs.field(converter=tuple)
    start_index: int
    tickers: tuple[str, ...] = attrs.field(converter=tuple)
    bucket_of: Mapping[str, str]
    closes: np.ndarray
    _row: Mapping[dt.date, int] = attrs.field(init=False, repr=False)
    _col: Mapping[str, int] = attrs.field(init=False, repr=False)
    _filled: np.ndarray = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        closes = np.array(self.closes, dtype=np.float64, copy=True)
        if closes.ndim != 2 or closes.shape != (len(self.dates), len(self.tickers)):
            raise ValueError(
                f"closes has shape {closes.shape}, "
                f"expected ({len(self.dates)}, {len(self.tickers)})"
            )
        if any(b <= a for a, b in zip(self.dates, self.dates[1:], strict=False)):
            raise ValueError("dates must be strictly ascending")
        if not 0 <= self.start_index < len(self.dates):
            raise ValueError(f"start_index {self.start_index} outside 0..{len(self.dates) - 1}")
        if len(set(self.tickers)) != len(self.tickers):
            raise ValueError("tickers must be unique")
        closes.flags.writeable = False
        filled = _forward_fill(closes)
        filled.flags.writeable = False
        buckets = {t: self.bucket_of.get(t, UNKNOWN_BUCKET) for t in self.tickers}
        object.__setattr__(self, "closes", closes)
        object.__setattr__(self, "bucket_of", MappingProxyType(buckets))
        object.__setattr__(self, "_row", MappingProxyType({d: i for i, d in enumerate(self.dates)}))
        object.__setattr__(
            self, "_col", MappingProxyType({t: j for j, t in enumerate(self.tickers)})
        )
        object.__setattr__(self, "_filled", filled)

    @property
    def sim_dates(self) -> tuple[dt.date, ...]:
        """The simulated days: `dates[start_index:]`."""
        return self.dates[self.start_index :]

    def index_of(self, day: dt.date) -> int:
        """Row of `day` in `dates`. Raises KeyError for a day that is not a trading day here."""
        return self._row[day]

    def column(self, ticker: str) -> int:
        """Column of `ticker` in `closes`. Raises KeyError for an unknown ticker."""
        return self._col[ticker]

    def window(self, t: int, lookback: int) -> np.ndarray:
        """Closes of rows `max(0, t - lookback + 1) .. t` inclusive (nothing after row t).

        Args:
            t: row index (day) of the last row, 0 <= t < len(dates).
            lookback: number of rows wanted, at least 1 (fewer near the start).
        """
        if not 0 <= t < len(self.dates):
            raise IndexError(f"row {t} outside 0..{len(self.dates) - 1}")
        if lookback < 1:
            raise ValueError("lookback must be at least 1")
        return self.closes[max(0, t - lookback + 1) : t + 1]

    def day_closes(self, t: int) -> DayCloses:
        """Row `t`'s closes by ticker, in column order (`DayCloses`: NaN closes absent)."""
        return DayCloses(self.closes[t], self._col)

    def price(self, asset: str, day: dt.date) -> float | None:
        """Last non-NaN close of `asset` on or before `day`; None when there is none."""
        col = self._col.get(asset)
        if col is None:
            return None
        row = bisect.bisect_right(self.dates, day) - 1
        if row < 0:
            return None
        value = self._filled[row, col]
        return None if math.isnan(value) else float(value)

    def bucket_assets(self, bucket: str) -> tuple[str, ...]:
        """Every ticker of `bucket`, in column order."""
        return tuple(t for t in self.tickers if self.bucket_of[t] == bucket)


# --- synthetic generator -------------------------------------------------------------


def resolve_level(spec: LevelSpec, regime: str, ticker: str, bucket: str) -> float:
    """Value of a drift or volatility for `ticker` in `bucket` on a day in `regime`.

    Order: by_regime[regime][ticker], by_regime[regime][bucket], by_key[ticker],
    by_key[bucket], default.
    """
    in_regime = spec.by_regime.get(regime, {})
    for table, key in ((in_regime, ticker), (in_regime, bucket), (spec.by_key, ticker)):
        if key in table:
            return float(table[key])
    return float(spec.by_key.get(bucket, spec.default))


def factor_loadings(within_bucket: float, across_buckets: float) -> tuple[float, float, float]:
    """Loadings (a, b, c) on market, bucket and own noise for the target correlations.

    a² = across_buckets, a² + b² = within_bucket, a² + b² + c² = 1.

    Raises:
        ValueError: unless 0 <= across_buckets <= within_bucket <= 1.
    """
    if not 0.0 <= across_buckets <= within_bucket <= 1.0:
        raise ValueError(
            "correlations need 0 <= across_buckets <= within_bucket <= 1, got "
            f"across_buckets={across_buckets}, within_bucket={within_bucket}"
        )
    return (
        math.sqrt(across_buckets),
        math.sqrt(within_bucket - across_buckets),
        math.sqrt(1.0 - within_bucket),
    )


def synthetic_dates(scenario: Scenario) -> tuple[tuple[dt.date, ...], int]:
    """All days of a synthetic market (warm-up then simulated) and the start index."""
    cal = scenario.calendar
    sim = weekdays(cal.start, days=cal.days, end=cal.end)
    history = weekdays_before(sim[0], scenario.market.warmup_days)
    return tuple(history + sim), len(history)


def generate_synthetic(
    scenario: Scenario,
    rng: np.random.Generator,
    regimes_by_day: Sequence[str] | None = None,
) -> MarketData:
    """Generate the closes of every bucketed ticker with the bucket factor model.

    Daily log return of asset i on day t (in bucket k):
    ``(mu - sigma²/2)/252 + sigma/sqrt(252) * (a*M_t + b*B_k,t + c*e_i,t)``, with drift mu
    and volatility sigma resolved per asset and day (`resolve_level`). Shocks and paths
    are not applied here (see `apply_shocks_and_paths`).

    Args:
        scenario: the scenario (calendar, buckets, assets, market).
        rng: the only source of randomness. Draws: one (days-1) x (1 + buckets + tickers)
            block of standard normals, row by row: market factor, buckets in sorted
            order, tickers in column order.
        regimes_by_day: the regime of each simulated day (drives `by_regime` levels);
            warm-up days use the first one. None: the scenario's scripted timeline
            (`regimes.timeline`), whatever `regimes.source` says.

    Returns:
        The market; the close on the first simulated day is each asset's `start_price`.
    """
    market = scenario.market
    dates, start = synthetic_dates(scenario)
    day_regimes = _day_regimes(scenario, dates, start, regimes_by_day)
    bucket_of = scenario.bucket_of()
    tickers = column_order(bucket_of)
    loadings = factor_loadings(market.correlation.within_bucket, market.correlation.across_buckets)
    mu, sigma = _daily_levels(market, bucket_of, tickers, day_regimes)
    shocks = _factor_shocks(loadings, bucket_of, tickers, rng, len(dates))
    log_returns = (mu - sigma**2 / 2) / TRADING_DAYS_PER_YEAR + sigma / math.sqrt(
        TRADING_DAYS_PER_YEAR
    ) * shocks

    log_level = np.vstack([np.zeros((1, len(tickers))), np.cumsum(log_returns, axis=0)])
    start_prices = np.array([_start_price(scenario, t) for t in tickers], dtype=np.float64)
    closes = start_prices * numerics.exp(log_level - log_level[start])
    return MarketData(
        dates=dates, start_index=start, tickers=tickers, bucket_of=bucket_of, closes=closes
    )


def _day_regimes(
    scenario: Scenario,
    dates: Sequence[dt.date],
    start: int,
    regimes_by_day: Sequence[str] | None,
) -> list[str]:
    """The regime of every day, warm-up included (warm-up days take the first one)."""
    n_sim = len(dates) - start
    if regimes_by_day is None:
        regimes_by_day = scripted_regimes(scenario.regimes, dates[start:])
    if len(regimes_by_day) != n_sim:
        raise ValueError(f"regimes_by_day has {len(regimes_by_day)} days, expected {n_sim}")
    return [regimes_by_day[0]] * start + list(regimes_by_day)


def _daily_levels(
    market: MarketSpec,
    bucket_of: Mapping[str, str],
    tickers: Sequence[str],
    day_regimes: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Drift and volatility of each (day after the first, ticker), by the day's regime."""
    # mu, sigma per (regime, ticker), then per day by regime index.
    regimes = sorted(set(day_regimes))
    mu_table = np.array(
        [[resolve_level(market.drift, r, t, bucket_of[t]) for t in tickers] for r in regimes]
    ).reshape(len(regimes), len(tickers))
    sigma_table = np.array(
        [[resolve_level(market.volatility, r, t, bucket_of[t]) for t in tickers] for r in regimes]
    ).reshape(len(regimes), len(tickers))
    if (sigma_table < 0).any():
        raise ValueError("volatility must not be negative")
    regime_row = np.array([regimes.index(r) for r in day_regimes], dtype=np.intp)
    return mu_table[regime_row[1:]], sigma_table[regime_row[1:]]


def _factor_shocks(
    loadings: tuple[float, float, float],
    bucket_of: Mapping[str, str],
    tickers: Sequence[str],
    rng: np.random.Generator,
    n_days: int,
) -> np.ndarray:
    """The (n_days-1, tickers) standard shocks a*M + b*B + c*e, from one block of draws."""
    a, b, c = loadings
    buckets = sorted({bucket_of[t] for t in tickers})
    draws = rng.standard_normal((max(n_days - 1, 0), 1 + len(buckets) + len(tickers)))
    market_factor = draws[:, :1]
    bucket_factor = draws[:, 1 : 1 + len(buckets)]
    noise = draws[:, 1 + len(buckets) :]
    bucket_col = np.array([buckets.index(bucket_of[t]) for t in tickers], dtype=np.intp)
    return a * market_factor + b * bucket_factor[:, bucket_col] + c * noise


def _start_price(scenario: Scenario, ticker: str) -> float:
    spec = scenario.assets.get(ticker)
    price = 100.0 if spec is None else float(spec.start_price)
    if price <= 0:
        raise ValueError(f"{ticker}: start_price must be positive, got {price}")
    return price


# --- history markets (csv) -----------------------------------------------------------


def market_from_history(
    dates: Sequence[dt.date],
    tickers: Sequence[str],
    closes: np.ndarray,
    bucket_of: Mapping[str, str],
    *,
    start: dt.date,
    days: int | None = None,
    end: dt.date | None = None,
    warmup_days: int = 252,
) -> MarketData:
    """Cut a market out of a price history (e.g. a csv file).

    Simulated days are the history's dates on or after `start`: the first `days` of
    them, or all up to `end` inclusive. Warm-up is the last `warmup_days` rows before
    `start`. Rows where every kept ticker is NaN are dropped first; gaps after an asset's
    first close are forward-filled (the last close holds), NaN before it stays NaN.

    Args:
        dates: ascending dates of the rows of `closes`.
        tickers: the columns of `closes`.
        closes: shape (len(dates), len(tickers)); NaN where missing.
        bucket_of: bucket of each ticker; tickers not in it are in "Unknown".
        start, days, end: the simulated period (exactly one of days or end).
        warmup_days: history rows kept before start.

    Raises:
        ValueError: no simulated day, or fewer than `days` available.
    """
    if (days is None) == (end is None):
        raise ValueError("give exactly one of days or end")
    values = np.asarray(closes, dtype=np.float64)
    if values.shape != (len(dates), len(tickers)):
        raise ValueError(
            f"closes has shape {values.shape}, expected ({len(dates)}, {len(tickers)})"
        )
    keep = ~np.all(np.isnan(values), axis=1) if values.shape[1] else np.ones(len(dates), bool)
    rows = np.flatnonzero(keep)
    first, last = _simulated_span([dates[i] for i in rows], start, days, end)
    lo = max(0, first - max(warmup_days, 0))
    chosen = rows[lo:last]
    full_buckets = {t: bucket_of.get(t, UNKNOWN_BUCKET) for t in tickers}
    order = column_order(full_buckets)
    col = {t: j for j, t in enumerate(tickers)}
    picked = values[np.ix_(chosen, [col[t] for t in order])]
    return MarketData(
        dates=[dates[i] for i in chosen],
        start_index=first - lo,
        tickers=order,
        bucket_of=full_buckets,
        closes=_forward_fill(picked),
    )


def _simulated_span(
    kept_dates: Sequence[dt.date], start: dt.date, days: int | None, end: dt.date | None
) -> tuple[int, int]:
    """Simulated rows [first, last) of `kept_dates`: `days` rows from `start`, or to `end`."""
    first = bisect.bisect_left(kept_dates, start)
    if days is not None:
        last = first + days
        if last > len(kept_dates):
            raise ValueError(
                f"price history has {len(kept_dates) - first} trading days from {start}, "
                f"the calendar asks for {days}"
            )
    else:
        last = bisect.bisect_right(kept_dates, end)
    if last <= first:
        raise ValueError(f"price history has no trading day from {start} to the calendar's end")
    return first, last


# --- shocks and paths ----------------------------------------------------------------


def shock_targets(shock: Shock, market: MarketData) -> tuple[str, ...]:
    """The tickers a shock hits, in column order.

    Raises:
        ValueError: unknown asset, unknown bucket, or no target given.
    """
    if shock.all:
        return market.tickers
    if shock.bucket is not None:
        found = market.bucket_assets(shock.bucket)
        if not found:
            raise ValueError(f"shock on {shock.date}: bucket {shock.bucket!r} has no asset")
        return found
    if shock.assets:
        unknown = sorted(set(shock.assets) - set(market.tickers))
        if unknown:
            raise ValueError(f"shock on {shock.date}: unknown assets {unknown}")
        wanted = set(shock.assets)
        return tuple(t for t in market.tickers if t in wanted)
    raise ValueError(f"shock on {shock.date}: no target (assets, bucket or all)")


def apply_shocks_and_paths(
    market: MarketData,
    shocks: Sequence[Shock] = (),
    paths: Mapping[str, Sequence[float]] | None = None,
    bucket_of: Mapping[str, str] | None = None,
) -> MarketData:
    """Override closes with explicit paths, then apply shocks on top.

    Paths: values day by day from the first simulated day (extra values beyond the last
    day are ignored), the last value holds to the end, warm-up history is flat at the
    first value. A path ticker not yet in the market is added (bucket from `bucket_of`,
    else "Unknown").

    Shocks: the total `return_` compounds over `days` trading days from the first
    trading day on or after `date`: each of those days multiplies the close of that day
    and every later day by (1 + return_)^(1/days). Days past the end are dropped. A shock
    day on which a targeted asset has an explicit path value is skipped for that asset
    (paths win); the held value after a path's end is shocked like any close.

    Raises:
        ValueError: bad path values, a shock before the first or after the last
            simulated day, a shock return <= -100%, or an unknown target.
    """
    paths = dict(paths or {})
    market = _with_path_tickers(market, paths, bucket_of)
    closes = np.array(market.closes, copy=True)
    explicit = _write_paths(market, closes, paths)
    log_shock = _shock_log_steps(market, shocks)
    log_shock[explicit] = 0.0
    closes = closes * numerics.exp(np.cumsum(log_shock, axis=0))
    return MarketData(
        dates=market.dates,
        start_index=market.start_index,
        tickers=market.tickers,
        bucket_of=market.bucket_of,
        closes=closes,
    )


def _with_path_tickers(
    market: MarketData, paths: Mapping[str, object], bucket_of: Mapping[str, str] | None
) -> MarketData:
    """`market` with a NaN column for each path ticker it lacks (bucket from `bucket_of`)."""
    new = sorted(set(paths) - set(market.tickers))
    if not new:
        return market
    buckets = dict(market.bucket_of)
    for ticker in new:
        buckets[ticker] = (bucket_of or {}).get(ticker, UNKNOWN_BUCKET)
    order = column_order(buckets)
    closes = np.full((len(market.dates), len(order)), np.nan)
    for j, ticker in enumerate(order):
        if ticker in market.bucket_of:
            closes[:, j] = market.closes[:, market.column(ticker)]
    return MarketData(
        dates=market.dates,
        start_index=market.start_index,
        tickers=order,
        bucket_of=buckets,
        closes=closes,
    )


def _write_paths(
    market: MarketData, closes: np.ndarray, paths: Mapping[str, Sequence[float]]
) -> np.ndarray:
    """Write each path into `closes` in place; return the mask of explicit path values."""
    start, n_sim = market.start_index, len(market.sim_dates)
    explicit = np.zeros(closes.shape, dtype=bool)
    for ticker in sorted(paths):
        values = np.asarray(paths[ticker], dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"path of {ticker} must be a non-empty list of closes")
        if not np.all(np.isfinite(values)) or (values <= 0).any():
            raise ValueError(f"path of {ticker} must hold positive closes")
        values = values[:n_sim]
        j = market.column(ticker)
        closes[:start, j] = values[0]
        closes[start : start + values.size, j] = values
        closes[start + values.size :, j] = values[-1]
        explicit[start : start + values.size, j] = True
    return explicit


def _shock_log_steps(market: MarketData, shocks: Sequence[Shock]) -> np.ndarray:
    """Daily log steps of every shock, shape of `market.closes` (not yet cumulated)."""
    log_shock = np.zeros(market.closes.shape)
    start, sim_dates = market.start_index, market.sim_dates
    for shock in shocks:
        _check_shock(shock, sim_dates)
        first = start + bisect.bisect_left(sim_dates, shock.date)
        cols = [market.column(t) for t in shock_targets(shock, market)]
        step = math.log1p(shock.return_) / shock.days
        log_shock[first : first + shock.days, cols] += step
    return log_shock


def _check_shock(shock: Shock, sim_dates: Sequence[dt.date]) -> None:
    if shock.return_ <= -1.0:
        raise ValueError(f"shock on {shock.date}: return must be above -100%")
    if shock.days < 1:
        raise ValueError(f"shock on {shock.date}: days must be at least 1")
    if shock.date < sim_dates[0] or shock.date > sim_dates[-1]:
        raise ValueError(
            f"shock on {shock.date} is outside the simulated days {sim_dates[0]}..{sim_dates[-1]}"
        )
