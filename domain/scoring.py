"""Vectorised asset scoring: one day's technical, fundamental and blended scores.

The portfolio manager hands over a matrix of closes (rows = trading days ascending, the
last row is today; columns = assets; NaN before an asset exists) and gets back a
`ScoreBoard` with every score in [0, 1] for every column at once. Every indicator is
computed with numpy across all assets; there is no per-asset Python loop.

Indicators (see docs/scoring.md for the full rule book):

* ``mom_20``, ``mom_60``, ``mom_126``: log return over the horizon as a random-walk
  z-score, ``0.5 + 0.5 * tanh(z / Z_SCALE)``.
* ``trend_sma``: close against its 50-day SMA; ``trend_cross``: 50-day SMA against the
  200-day SMA (both shrink with short history), mapped the same way.
* ``rsi_14``: RSI(14) / 100, with the slope halved above RSI 70 (overbought dampening).
* ``vol_20``: ``1 - clip(annualised 20-day volatility / 0.8, 0, 1)``.

Only rows handed in are read, so no look-ahead is possible through `score_assets`;
`score_as_of` is the helper that slices a full history at day ``t``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs
import numpy as np

from domain import numerics
from domain.scenario import SignalOverride, Signals

if TYPE_CHECKING:
    from domain.score_tables import ScoreTables

# --- parameters of the indicators (documented in docs/scoring.md) --------------------

MIN_HISTORY = 21
"""Rows of history (first close to today, inclusive) an asset needs to be scored."""
MOMENTUM_HORIZONS: tuple[int, ...] = (20, 60, 126)
SIGMA_WINDOW = 60
"""Daily returns used for the volatility that normalises momentum and trend."""
SIGMA_FLOOR_ANNUAL = 0.08
"""Lowest annualised volatility used for normalising (keeps zero-vol series bounded)."""
TRADING_DAYS_PER_YEAR = 252
Z_SCALE = 1.5
"""A z-score of Z_SCALE maps to 0.5 + 0.5 * tanh(1) ~ 0.88."""
SMA_SHORT = 50
SMA_LONG = 200
RSI_WINDOW = 14
RSI_OVERBOUGHT = 70.0
RSI_OVERBOUGHT_SLOPE = 0.5
VOL_WINDOW = 20
VOL_CEILING = 0.8
"""Annualised volatility at (and above) which ``vol_20`` is 0."""
TRENDING_DIRECTION_WEIGHT = 0.5
"""Weight of the direction term in trending confidence (strength gets the rest)."""
NEUTRAL = 0.5

MOMENTUM_COMPONENTS: tuple[str, ...] = tuple(f"mom_{n}" for n in MOMENTUM_HORIZONS)
TREND_COMPONENTS: tuple[str, ...] = ("trend_sma", "trend_cross")
INDICATOR_COMPONENTS: tuple[str, ...] = (
    *MOMENTUM_COMPONENTS,
    *TREND_COMPONENTS,
    "rsi_14",
    "vol_20",
)
TECHNICAL_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "mom_20": 0.15,
        "mom_60": 0.20,
        "mom_126": 0.20,
        "trend_sma": 0.15,
        "trend_cross": 0.10,
        "rsi_14": 0.10,
        "vol_20": 0.10,
    }
)
OVERRIDE_SCORE = "override_score"
OVERRIDE_TRENDING = "override_trending"
COMPONENTS: tuple[str, ...] = (*INDICATOR_COMPONENTS, OVERRIDE_SCORE, OVERRIDE_TRENDING)
"""Every key of `ScoreBoard.components`, in order."""

_WEIGHT_TOLERANCE = 1e-6
_LOG_ROWS = max(max(MOMENTUM_HORIZONS), SIGMA_WINDOW, VOL_WINDOW, RSI_WINDOW) + 1
"""Trailing rows whose log closes momentum and the return windows read."""


def window_needed() -> int:
    """Rows of history `score_assets` reads (older rows never change the result).

    Returns:
        The longest lookback of any indicator: 200 rows for the 200-day SMA.
    """
    return max(
        max(MOMENTUM_HORIZONS) + 1,
        SMA_LONG,
        SIGMA_WINDOW + 1,
        VOL_WINDOW + 1,
        RSI_WINDOW + 1,
        MIN_HISTORY,
    )


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@attrs.frozen(eq=False)
class ScoreBoard:
    """One day's scores for all assets, column-aligned with the closes handed in.

    Attributes:
        technical: Weighted mean of the indicator components, in [0, 1]; 0.5 where the
            asset is not `valid`.
        fundamental: The fundamental used, in [0, 1]; 0.5 where none was given.
        score: The blended score in [0, 1]; 0 where the asset is not `valid` (unless a
            scripted override replaced it).
        trending: Trending confidence in [0, 1]; 0 where the asset is not `valid`
            (unless a scripted override replaced it).
        valid: True where the asset has at least `MIN_HISTORY` rows of history and a
            close today.
        fundamental_given: True where a fundamental was given (False: technical-only).
        components: Each indicator's [0, 1] value per asset (0.5 where not `valid`),
            plus ``override_score`` and ``override_trending`` (NaN where none).
    """

    technical: np.ndarray
    fundamental: np.ndarray
    score: np.ndarray
    trending: np.ndarray
    valid: np.ndarray
    fundamental_given: np.ndarray
    components: Mapping[str, np.ndarray]

    @property
    def n_assets(self) -> int:
        """Number of asset columns."""
        return int(self.score.shape[0])

    def for_asset(self, j: int) -> dict[str, float | bool | None]:
        """Everything behind column `j`'s score, for a proposal payload.

        Args:
            j: Column index of the asset.

        Returns:
            ``score``, ``technical``, ``fundamental``, ``trending`` and every component,
            rounded to 6 places, plus the ``valid`` and ``fundamental_given`` flags.
            An override component with no override active is None (JSON null).
        """
        # `round` to 6 places is the dear part: the score array of a scoring model's board
        # is also its technical score and its `model_score`, rounded once
        score = round(float(self.score[j]), SCORE_DECIMALS)
        shared = self.score if SCORE_DECIMALS == 6 else None
        out: dict[str, float | bool | None] = {
            "score": score,
            "technical": score if self.technical is shared else round(float(self.technical[j]), 6),
            "fundamental": round(float(self.fundamental[j]), 6),
            "trending": round(float(self.trending[j]), 6),
            "valid": bool(self.valid[j]),
            "fundamental_given": bool(self.fundamental_given[j]),
        }
        for name, values in self.components.items():
            if values is shared:
                out[name] = score
                continue
            value = float(values[j])
            out[name] = round(value, 6) if math.isfinite(value) else None
        return out


def _check_weights(technical_weight: float, fundamental_weight: float) -> None:
    if technical_weight < 0 or fundamental_weight < 0:
        raise ValueError(
            f"scoring weights must be >= 0, got technical_weight={technical_weight}, "
            f"fundamental_weight={fundamental_weight}"
        )
    if abs(technical_weight + fundamental_weight - 1.0) > _WEIGHT_TOLERANCE:
        raise ValueError(
            "technical_weight + fundamental_weight must be 1, got "
            f"{technical_weight} + {fundamental_weight}"
        )


def _squash(z: np.ndarray) -> np.ndarray:
    """Map a z-score to (0, 1): monotone, 0 -> 0.5."""
    return 0.5 + 0.5 * numerics.tanh(z / Z_SCALE)


def _masked_std(block: np.ndarray) -> np.ndarray:
    """Sample std (ddof=1) per column over finite entries; 0 with fewer than 2."""
    finite = np.isfinite(block)
    if finite.all():  # the common case: the same sums without the masking copies
        count = block.shape[0]
        mean = block.sum(axis=0) / max(count, 1)
        var = ((block - mean) ** 2).sum(axis=0) / max(count - 1, 1)
        return np.sqrt(var) if count >= 2 else np.zeros(block.shape[1])
    count = finite.sum(axis=0)
    values = np.where(finite, block, 0.0)
    mean = values.sum(axis=0) / np.maximum(count, 1)
    sq = np.where(finite, (block - mean) ** 2, 0.0).sum(axis=0)
    var = sq / np.maximum(count - 1, 1)
    return np.where(count >= 2, np.sqrt(var), 0.0)


def _forward_fill(prices: np.ndarray) -> np.ndarray:
    """Carry the last close over NaN gaps; leading NaN (before existence) stay NaN."""
    if np.isfinite(prices).all():
        return prices
    rows = np.arange(prices.shape[0])[:, None]
    idx = np.where(np.isfinite(prices), rows, 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    return np.take_along_axis(prices, idx, axis=0)


def _neutral_components(shape: int | tuple[int, ...]) -> dict[str, np.ndarray]:
    comps = {name: np.full(shape, NEUTRAL) for name in INDICATOR_COMPONENTS}
    comps[OVERRIDE_SCORE] = np.full(shape, np.nan)
    comps[OVERRIDE_TRENDING] = np.full(shape, np.nan)
    return comps


@attrs.frozen(eq=False)
class Reductions:
    """What the indicators read of one day's window, per column: every reduction over
    rows, so that the indicators themselves are elementwise (`_indicators`).

    `window_reductions` computes them from a window; `domain.score_tables` reads the same
    values (same operations, same order) from tables computed across many days.

    Attributes:
        last: Today's log close.
        spans: Rows back each momentum horizon reaches (int), in `MOMENTUM_HORIZONS` order.
        past: The log close `spans` rows back, per horizon.
        sigma_std: `_masked_std` of the last `SIGMA_WINDOW` log returns.
        vol_std: `_masked_std` of the last `VOL_WINDOW` log returns.
        gains: Sum of the positive log returns of the last `RSI_WINDOW` days.
        losses: Sum of the negated negative ones.
        windows: The SMA windows (int): close-over-SMA short, cross short, cross long.
        sums: The closes summed over each window, today first (the SMA's numerator).
    """

    last: np.ndarray
    spans: tuple[np.ndarray, ...]
    past: tuple[np.ndarray, ...]
    sigma_std: np.ndarray
    vol_std: np.ndarray
    gains: np.ndarray
    losses: np.ndarray
    windows: tuple[np.ndarray, ...]
    sums: tuple[np.ndarray, ...]


def _reductions(prices: np.ndarray, history: np.ndarray) -> Reductions:
    """The reductions of a forward-filled window (at least `MIN_HISTORY` rows)."""
    n_rows, n_assets = prices.shape
    cols = np.arange(n_assets)
    # Log closes only of the rows momentum and the returns read (elementwise: same values).
    logp = numerics.log(prices[-_LOG_ROWS:])
    tail = logp.shape[0]
    returns = np.diff(logp, axis=0)
    # Short history: the longest return available (history - 1 days).
    spans = tuple(np.clip(np.minimum(h, history - 1), 1, n_rows - 1) for h in MOMENTUM_HORIZONS)
    recent = returns[-RSI_WINDOW:]
    # Simple moving averages with a per-column window, from reversed cumulative sums.
    # Closes here are positive or NaN (before existence), so this is nan_to_num(nan=0).
    reversed_ = prices[::-1]
    gaps = np.isnan(reversed_)
    rev_cumsum = np.cumsum(np.where(gaps, 0.0, reversed_) if gaps.any() else reversed_, axis=0)
    short = np.clip(np.minimum(SMA_SHORT, history), 2, n_rows)
    long_ = np.clip(np.minimum(SMA_LONG, history), 2, n_rows)
    cross_short = np.clip(np.minimum(SMA_SHORT, long_ * SMA_SHORT // SMA_LONG), 1, long_ - 1)
    windows = (short, cross_short, long_)
    return Reductions(
        last=logp[-1],
        spans=spans,
        past=tuple(logp[tail - 1 - span, cols] for span in spans),
        sigma_std=_masked_std(returns[-SIGMA_WINDOW:]),
        vol_std=_masked_std(returns[-VOL_WINDOW:]),
        gains=np.where(recent > 0, recent, 0.0).sum(axis=0),
        losses=np.where(recent < 0, -recent, 0.0).sum(axis=0),
        windows=windows,
        sums=tuple(rev_cumsum[w - 1, cols] for w in windows),
    )


def window_reductions(window: np.ndarray) -> tuple[np.ndarray, Reductions | None]:
    """Which columns of a closes window can be scored today, and their reductions.

    Args:
        window: 2-D closes, the last row today; only its last `window_needed()` rows
            are read (not changed).

    Returns:
        ``(valid, reductions)``: `ScoreBoard.valid`, and the reductions of every column
        (meaningless where not valid), None when no column is valid.
    """
    raw = window[-window_needed() :].copy()
    with np.errstate(invalid="ignore"):
        raw[~(np.isfinite(raw) & (raw > 0))] = np.nan
    history, valid = _history_and_valid(raw)
    if not valid.any():
        return valid, None
    # Columns that cannot be scored get a constant stand-in path (no NaN, no warning).
    filled = np.where(valid, _forward_fill(raw), 1.0)
    return valid, _reductions(filled, np.where(valid, history, raw.shape[0]))


def _indicators(red: Reductions) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Indicator components and trending confidence for every column.

    Values in columns with too little history are meaningless and are replaced by the
    caller.
    """
    sigma_floor = SIGMA_FLOOR_ANNUAL / np.sqrt(TRADING_DAYS_PER_YEAR)
    sigma = np.maximum(red.sigma_std, sigma_floor)

    comps, direction = _momentum(red, sigma)
    comps.update(_trend(red, sigma))
    comps["rsi_14"] = _rsi(red.gains, red.losses) / 100.0
    vol = red.vol_std * np.sqrt(TRADING_DAYS_PER_YEAR)
    comps["vol_20"] = 1.0 - np.clip(vol / VOL_CEILING, 0.0, 1.0)

    strength = np.mean(
        [
            np.maximum(0.0, 2.0 * comps[name] - 1.0)
            for name in (*MOMENTUM_COMPONENTS, *TREND_COMPONENTS)
        ],
        axis=0,
    )
    trending = TRENDING_DIRECTION_WEIGHT * direction + (1 - TRENDING_DIRECTION_WEIGHT) * strength
    return comps, trending


def _momentum(red: Reductions, sigma: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Momentum components and the share of horizons with a positive return."""
    comps: dict[str, np.ndarray] = {}
    direction = np.zeros(red.last.shape)
    for name, span, past in zip(MOMENTUM_COMPONENTS, red.spans, red.past, strict=True):
        ret = red.last - past
        comps[name] = _squash(ret / (sigma * np.sqrt(span)))
        direction += ret > 0
    direction /= len(MOMENTUM_HORIZONS)
    return comps, direction


def _trend(red: Reductions, sigma: np.ndarray) -> dict[str, np.ndarray]:
    """The close-over-SMA and SMA-cross components."""
    short, cross_short, long_ = red.windows
    sma_short, sma_cross, sma_long = (s / w for s, w in zip(red.sums, red.windows, strict=True))
    # Random-walk std of log(close / SMA_S) is about sigma * sqrt(S / 3).
    trend_sma = _squash((red.last - numerics.log(sma_short)) / (sigma * np.sqrt(short / 3.0)))
    # Random-walk std of log(SMA_S / SMA_L) is about sigma * (L - S) / sqrt(3 L).
    cross_scale = sigma * (long_ - cross_short) / np.sqrt(3.0 * long_)
    trend_cross = _squash(numerics.log(sma_cross / sma_long) / cross_scale)
    return {"trend_sma": trend_sma, "trend_cross": trend_cross}


def _rsi(gains: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """RSI from the summed gains and losses (50 when flat), damped above `RSI_OVERBOUGHT`."""
    moves = gains + losses
    rsi = np.where(moves > 0, 100.0 * gains / np.where(moves > 0, moves, 1.0), 50.0)
    return np.where(
        rsi <= RSI_OVERBOUGHT,
        rsi,
        RSI_OVERBOUGHT + RSI_OVERBOUGHT_SLOPE * (rsi - RSI_OVERBOUGHT),
    )


def score_assets(
    closes_window: np.ndarray,
    *,
    fundamentals: np.ndarray,
    technical_weight: float,
    fundamental_weight: float,
) -> ScoreBoard:
    """Score every asset on the last row's day from the closes up to and including it.

    Args:
        closes_window: 2-D closes, rows = trading days ascending (last row = today),
            columns = assets. NaN (or a non-positive close) before an asset exists or on
            a day without a price. Only the last `window_needed()` rows are read.
        fundamentals: 1-D, one value per column in [0, 1] (clipped); NaN = none, and
            that asset is scored technical-only.
        technical_weight: Weight of the technical score (``technical_weight`` [0.6]).
        fundamental_weight: Weight of the fundamental (``fundamental_weight`` [0.4]).

    Returns:
        The day's `ScoreBoard`, NaN-free except the override components.

    Raises:
        ValueError: On a shape mismatch, negative weights or weights not summing to 1.
    """
    _check_weights(technical_weight, fundamental_weight)
    closes, fund = _checked_inputs(closes_window, fundamentals)
    valid, reductions = window_reductions(closes)
    return _board(valid, reductions, fund, technical_weight, fundamental_weight)


def _board(
    valid: np.ndarray,
    reductions: Reductions | None,
    fund: np.ndarray,
    technical_weight: float,
    fundamental_weight: float,
) -> ScoreBoard:
    """The day's board from its window's reductions (None: no column is valid)."""
    comps, trending, technical = technical_part(reductions, valid)
    return blended_board(
        valid, comps, trending, technical, fund, technical_weight, fundamental_weight
    )


def technical_part(
    reductions: Reductions | None, valid: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """What a board takes from the closes alone: the components (the override ones NaN),
    the trending confidence and the technical score, elementwise from the reductions, so
    the arrays may be one day's (1-D) or a block of days' (2-D, rows the days)."""
    comps, trending = _components(reductions, valid)
    return comps, trending, _technical(comps, valid.shape)


def blended_board(
    valid: np.ndarray,
    comps: Mapping[str, np.ndarray],
    trending: np.ndarray,
    technical: np.ndarray,
    fund: np.ndarray,
    technical_weight: float,
    fundamental_weight: float,
) -> ScoreBoard:
    """The day's board from its `technical_part` and the fundamentals."""
    given = np.isfinite(fund)
    fundamental = np.where(given, np.clip(fund, 0.0, 1.0), NEUTRAL)  # clip: NaN stays, quietly
    blended = np.where(
        given, technical_weight * technical + fundamental_weight * fundamental, technical
    )
    score = np.where(valid, np.clip(blended, 0.0, 1.0), 0.0)
    return ScoreBoard(
        technical=_readonly(technical),
        fundamental=_readonly(fundamental),
        score=_readonly(score),
        trending=_readonly(trending),
        valid=_readonly(valid),
        fundamental_given=_readonly(given),
        components=MappingProxyType({k: _readonly(v) for k, v in comps.items()}),
    )


def _technical(comps: Mapping[str, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """The weighted sum of the indicator components, clipped to [0, 1]."""
    technical = np.zeros(shape)
    for name in INDICATOR_COMPONENTS:
        technical += TECHNICAL_WEIGHTS[name] * comps[name]
    return np.clip(technical, 0.0, 1.0)


def _checked_inputs(
    closes_window: np.ndarray, fundamentals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The closes (2-D) and fundamentals (one per column) as float arrays, shapes checked."""
    closes = np.asarray(closes_window, dtype=float)
    if closes.ndim != 2:
        raise ValueError(f"closes_window must be 2-D (days x assets), got {closes.ndim}-D")
    fund = np.asarray(fundamentals, dtype=float)
    n_assets = closes.shape[1]
    if fund.shape != (n_assets,):
        raise ValueError(
            f"fundamentals must have shape ({n_assets},) to match the closes, got {fund.shape}"
        )
    return closes, fund


def _history_and_valid(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows since each column's first price, and whether the column can be scored today."""
    n_rows, n_assets = raw.shape
    finite = np.isfinite(raw)
    first = np.argmax(finite, axis=0) if n_rows else np.zeros(n_assets, dtype=int)
    history = np.where(finite.any(axis=0), n_rows - first, 0)
    priced_today = finite[-1] if n_rows else np.zeros(n_assets, dtype=bool)
    return history, (history >= MIN_HISTORY) & priced_today


def _components(
    reductions: Reductions | None, valid: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Indicator components (neutral where not valid) and trending confidence (0 there)."""
    comps = _neutral_components(valid.shape)
    trending = np.zeros(valid.shape)
    if reductions is not None:
        computed, computed_trending = _indicators(reductions)
        for name in INDICATOR_COMPONENTS:
            comps[name] = np.clip(np.where(valid, computed[name], NEUTRAL), 0.0, 1.0)
        trending = np.clip(np.where(valid, computed_trending, 0.0), 0.0, 1.0)
    return comps, trending


def score_as_of(
    closes: np.ndarray,
    t: int,
    *,
    fundamentals: np.ndarray,
    technical_weight: float,
    fundamental_weight: float,
    tables: ScoreTables | None = None,
) -> ScoreBoard:
    """Score day `t` of a full history, reading no row after `t`.

    Args:
        closes: 2-D closes of the whole run (warm-up included), rows ascending.
        t: Row index of the day to score (0 <= t < rows).
        fundamentals: As in `score_assets`.
        technical_weight: As in `score_assets`.
        fundamental_weight: As in `score_assets`.
        tables: The run's `domain.score_tables.ScoreTables`: when built from `closes`
            (the same object), the day's reductions are read from them, with the same
            bits; otherwise (None, or other closes) the window is reduced here.

    Returns:
        `score_assets` over rows ``max(0, t - window_needed() + 1) .. t``.

    Raises:
        IndexError: If `t` is outside the rows of `closes`.
    """
    closes = np.asarray(closes, dtype=float)
    if closes.ndim != 2:
        raise ValueError(f"closes must be 2-D (days x assets), got {closes.ndim}-D")
    if not 0 <= t < closes.shape[0]:
        raise IndexError(f"day index {t} outside 0..{closes.shape[0] - 1}")
    if tables is not None and tables.covers(closes):
        _check_weights(technical_weight, fundamental_weight)
        _, fund = _checked_inputs(closes, fundamentals)
        part = tables.technical_part(t)
        if part is not None:
            return blended_board(*part, fund, technical_weight, fundamental_weight)
        valid, reductions = tables.reductions(t)
        return _board(valid, reductions, fund, technical_weight, fundamental_weight)
    start = max(0, t - window_needed() + 1)
    return score_assets(
        closes[start : t + 1],
        fundamentals=fundamentals,
        technical_weight=technical_weight,
        fundamental_weight=fundamental_weight,
    )


def _active(override: SignalOverride, day: dt.date) -> bool:
    return override.from_ <= day and (override.to is None or day <= override.to)


def _override_values(
    overrides: Sequence[SignalOverride], day: dt.date, columns: Mapping[str, int], n: int
) -> np.ndarray | None:
    """The active overrides' value per column (NaN: none), or None when none is active."""
    values = None
    for override in overrides:  # loops over scripted overrides, not assets
        if not _active(override, day):
            continue
        if override.asset not in columns:
            raise ValueError(f"signal override names {override.asset!r}, which is not scored")
        if not 0.0 <= override.value <= 1.0:
            raise ValueError(
                f"signal override for {override.asset!r} must be in [0, 1], got {override.value}"
            )
        if values is None:
            values = np.full(n, np.nan)
        values[columns[override.asset]] = override.value  # later entries win
    return values


def _overridden(base: np.ndarray, over: np.ndarray | None) -> np.ndarray:
    """`base` with the finite values of `over` in their place, read-only (`base` itself
    when no override is active and it is read-only already)."""
    if over is None:
        return base if not base.flags.writeable else _readonly(np.array(base, dtype=float))
    return _readonly(np.where(np.isfinite(over), over, base))


SCORE_DECIMALS = 6
"""Scores are published to `SCORE_DECIMALS` places, and every score threshold compares
that published value (docs/construction.md, "Scores")."""


def published_scores(score: np.ndarray) -> np.ndarray:
    """`score` rounded to `SCORE_DECIMALS` places with Python's `round`, as published."""
    values = np.asarray(score, dtype=float)
    scaled = values * 10.0**SCORE_DECIMALS
    digits = np.rint(scaled)
    # Away from a tie (and for modest finite values) the nearest integer of the scaled
    # value is the one Python's correctly rounded `round` finds, and dividing it by 10**6
    # (both exact, IEEE division) gives the double `round` returns: the same bits.
    # The test only routes values to `round`: any that keeps a tie (and a NaN or an
    # infinity, whose difference is NaN and fails it) away from the division will do.
    with np.errstate(invalid="ignore"):
        safe = np.abs(scaled - digits) < 0.499
    safe &= np.abs(values) < 1e6
    out = digits / 10.0**SCORE_DECIMALS
    if not safe.all():
        for j in np.flatnonzero(~safe).tolist():
            out[j] = round(float(values[j]), SCORE_DECIMALS)
    return out


def apply_overrides(
    board: ScoreBoard, day: dt.date, tickers: Sequence[str], signals: Signals
) -> ScoreBoard:
    """Replace score / trending confidence where a scripted override is active on `day`.

    An override is active when ``from_ <= day`` and (``to`` is None or ``day <= to``).
    When several are active for one asset, the later one in the scenario wins. The
    override replaces the value whether or not the asset is `valid`; technical,
    fundamental and the indicators are kept, and the override value is recorded in
    ``components["override_score"]`` / ``components["override_trending"]``.

    Args:
        board: The day's computed board.
        day: The simulated date.
        tickers: Ticker of each column of `board`.
        signals: The scenario's scripted overrides.

    Returns:
        A new board; `board` is not changed.

    Raises:
        ValueError: If `tickers` does not match the board, an active override names a
            ticker not in `tickers`, or its value is outside [0, 1].
    """
    n = board.n_assets
    if len(tickers) != n:
        raise ValueError(f"{len(tickers)} tickers for a board of {n} assets")
    columns = (
        {ticker: j for j, ticker in enumerate(tickers)}
        if signals.scores or signals.trending
        else {}
    )
    score_over = _override_values(signals.scores, day, columns, n)
    trending_over = _override_values(signals.trending, day, columns, n)
    absent = _readonly(np.full(n, np.nan))  # the component of an override not active today
    comps = dict(board.components)
    comps[OVERRIDE_SCORE] = absent if score_over is None else _readonly(score_over)
    comps[OVERRIDE_TRENDING] = absent if trending_over is None else _readonly(trending_over)
    return attrs.evolve(
        board,
        score=_overridden(board.score, score_over),
        trending=_overridden(board.trending, trending_over),
        # a read-only component (never a view of a writable array here) is shared as it is
        components=MappingProxyType(
            {k: v if not v.flags.writeable else _readonly(np.array(v)) for k, v in comps.items()}
        ),
    )
