"""Per-run tables of the scoring reductions, so a day's board costs O(assets) numpy calls.

`domain.scoring.score_assets` reduces a 200-row window every day (moving sums, standard
deviations, gains and losses). A `ScoreTables` computes the same reductions for a block
of days at once, with whole-block numpy operations, and hands day `t` its row of every
table. It is bit-identical to the window: each table entry is computed with the same
floating-point operations in the same order as `domain.scoring.window_reductions` uses
for that day's window (a sum over rows adds them one row at a time, oldest first; the
moving sums add today first, as the reversed cumulative sum does), so no rolling update
(add today, subtract the oldest) is used: its roundings would differ.

Exactness needs a column whose 200-row window is wholly priced (finite and positive
closes): the column is then valid, every indicator uses its full horizon, and there is
nothing to forward-fill. Any other column of the day (a late listing, a gap, a bad close)
is reduced by the window path itself, on those columns only; a day before the first full
window takes the window path whole.

On a day whose every column is clean, the indicators themselves (`technical_part`: the
components, the trending confidence and the technical score, all elementwise) are read from
the block too, computed once for all its days with the same elementwise operations on 2-D
arrays; only the blend with the fundamentals is left to the day. A day with an unclean
column computes them from its merged reductions.

Memory stays bounded: the tables hold one block of days (`block_days_for`: 32 days at
2,000 assets), computed when the run first asks for one of its days, from the block's
rows plus the 199 rows before it.

Row `t` of every table reads closes of rows ``t - 199 .. t`` only, so a board of day `t`
never depends on a later price (tests/unit/test_score_tables.py changes every later row
and compares the bytes), although computing a block reads the block's later rows.
"""

from __future__ import annotations

import attrs
import numpy as np

from domain import numerics
from domain.scoring import (
    COMPONENTS,
    INDICATOR_COMPONENTS,
    MOMENTUM_HORIZONS,
    RSI_WINDOW,
    SIGMA_WINDOW,
    SMA_LONG,
    SMA_SHORT,
    VOL_WINDOW,
    Reductions,
    technical_part,
    window_needed,
    window_reductions,
)

BLOCK_ENTRIES = 1 << 16
"""Entries (days x assets) of one table of a block, about: small enough for the CPU
cache, where the block's hundreds of passes run fastest (measured: 32 days at 2,000
assets take about half the time 256 days do)."""
MIN_BLOCK_DAYS, MAX_BLOCK_DAYS = 16, 256


def block_days_for(n_assets: int) -> int:
    """Days per block for `n_assets` columns: `BLOCK_ENTRIES` entries, within bounds."""
    return int(np.clip(BLOCK_ENTRIES // max(n_assets, 1), MIN_BLOCK_DAYS, MAX_BLOCK_DAYS))


_WINDOW = window_needed()
FIRST_DAY = _WINDOW - 1
"""The first row whose window is full (200 rows): earlier days take the window path."""
_LOG_BACK = max(MOMENTUM_HORIZONS)
"""Rows before today of the oldest log close read (the longest momentum horizon)."""


def _sequential_sum(rows: np.ndarray, first: int, window: int, count: int) -> np.ndarray:
    """For i < `count`: ``rows[first + i] + rows[first + i + 1] + ...`` over `window`
    rows, added in that order (numpy's sum over axis 0 of a window of several columns
    adds its rows in that order)."""
    total = rows[first : first + count].copy()
    for k in range(1, window):
        total += rows[first + k : first + k + count]
    return total


def _window_std(returns: np.ndarray, first: int, window: int, count: int) -> np.ndarray:
    """`domain.scoring._masked_std` of the `window` rows from ``first + i``, for each
    i < `count`, every row finite: the same operations in the same order."""
    mean = _sequential_sum(returns, first, window, count) / window
    squares = (returns[first : first + count] - mean) ** 2
    term = np.empty_like(squares)  # `(x - mean) ** 2` is numpy's square: the same bits
    for k in range(1, window):
        np.subtract(returns[first + k : first + k + count], mean, out=term)
        squares += np.square(term, out=term)
    return np.sqrt(squares / (window - 1))


def _moving_sums(prices: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The closes summed over the last `SMA_SHORT` and `SMA_LONG` rows of each of the
    `count` days ending the rows of `prices`, today first (a reversed cumulative sum's
    order); `prices` starts `SMA_LONG - 1` rows before the first day."""
    top = SMA_LONG - 1
    total = prices[top : top + count].copy()
    short = total
    for k in range(1, SMA_LONG):
        total += prices[top - k : top - k + count]
        if k == SMA_SHORT - 1:
            short = total.copy()
    return short, total


@attrs.frozen(eq=False)
class _Block:
    """The tables of days ``start .. start + days - 1`` (row i = day ``start + i``).

    Attributes:
        start: The first day.
        clean: Whether the column's 200-row window is wholly priced.
        logp: Log closes of rows ``start - 126 ..`` (1 stands in for a missing close).
        sigma_std: The std of the last `SIGMA_WINDOW` log returns.
        vol_std: The std of the last `VOL_WINDOW` log returns.
        gains: The positive log returns of the last `RSI_WINDOW` days, summed.
        losses: The negated negative ones, summed.
        sum_short: The last `SMA_SHORT` closes, summed today first.
        sum_long: The last `SMA_LONG` closes, summed today first.
    """

    start: int
    clean: np.ndarray
    logp: np.ndarray
    sigma_std: np.ndarray
    vol_std: np.ndarray
    gains: np.ndarray
    losses: np.ndarray
    sum_short: np.ndarray
    sum_long: np.ndarray

    @property
    def days(self) -> int:
        """Days in the block."""
        return int(self.clean.shape[0])

    @classmethod
    def compute(cls, closes: np.ndarray, start: int, days: int) -> _Block:
        """The tables of `days` days from `start` (``start >= FIRST_DAY``)."""
        rows = closes[start - FIRST_DAY : start + days]
        with np.errstate(invalid="ignore"):
            priced = np.isfinite(rows) & (rows > 0)
        unpriced = np.zeros((rows.shape[0] + 1, rows.shape[1]), dtype=np.int32)
        np.cumsum(~priced, axis=0, out=unpriced[1:])
        # A finite positive stand-in keeps the tables of unclean columns free of warnings.
        prices = np.where(priced, rows, 1.0)
        logp = numerics.log(prices[FIRST_DAY - _LOG_BACK :])
        returns = np.diff(logp, axis=0)  # row k: the return into row start - 125 + k
        top = returns.shape[0] - days + 1  # one past the first day's return row
        recent = returns[top - RSI_WINDOW :]
        sum_short, sum_long = _moving_sums(prices, days)
        block = cls(
            start=start,
            clean=unpriced[_WINDOW:] == unpriced[:-_WINDOW],
            logp=logp,
            sigma_std=_window_std(returns, top - SIGMA_WINDOW, SIGMA_WINDOW, days),
            vol_std=_window_std(returns, top - VOL_WINDOW, VOL_WINDOW, days),
            gains=_sequential_sum(np.where(recent > 0, recent, 0.0), 0, RSI_WINDOW, days),
            losses=_sequential_sum(np.where(recent < 0, -recent, 0.0), 0, RSI_WINDOW, days),
            sum_short=sum_short,
            sum_long=sum_long,
        )
        for name in _BLOCK_ARRAYS:  # boards take rows of them as they are
            getattr(block, name).setflags(write=False)
        return block

    def whole(self, spans: tuple[np.ndarray, ...], windows: tuple[np.ndarray, ...]) -> Reductions:
        """Every day's row of every table at once (2-D, rows the days)."""
        days = self.days
        return Reductions(
            last=self.logp[_LOG_BACK : _LOG_BACK + days],
            spans=spans,
            past=tuple(self.logp[_LOG_BACK - h : _LOG_BACK - h + days] for h in MOMENTUM_HORIZONS),
            sigma_std=self.sigma_std,
            vol_std=self.vol_std,
            gains=self.gains,
            losses=self.losses,
            windows=windows,
            sums=(self.sum_short, self.sum_short, self.sum_long),
        )

    def reductions(
        self, t: int, spans: tuple[np.ndarray, ...], windows: tuple[np.ndarray, ...]
    ) -> Reductions:
        """Day `t`'s row of every table (meaningful where `clean`)."""
        i = t - self.start
        now = i + _LOG_BACK
        return Reductions(
            last=self.logp[now],
            spans=spans,
            past=tuple(self.logp[now - h] for h in MOMENTUM_HORIZONS),
            sigma_std=self.sigma_std[i],
            vol_std=self.vol_std[i],
            gains=self.gains[i],
            losses=self.losses[i],
            windows=windows,
            sums=(self.sum_short[i], self.sum_short[i], self.sum_long[i]),
        )


_BLOCK_ARRAYS = tuple(f.name for f in attrs.fields(_Block) if f.name != "start")


def _merged(full: object, part: object, cols: np.ndarray) -> object:
    """`full` (an array or a tuple of arrays) with `cols` taken from `part`."""
    if isinstance(full, tuple):
        return tuple(_merged(f, p, cols) for f, p in zip(full, part, strict=True))
    out = np.array(full)
    out[cols] = part[: cols.size]
    return out


class ScoreTables:
    """The scoring reductions of one run's closes, a block of days at a time.

    One instance per run (the portfolio manager's `Desk` holds it); it reads the closes
    it was built from and nothing else, so `covers` tells whether it may stand in for a
    window of a given closes matrix.

    Args:
        closes: The run's closes (2-D, read-only, at least 2 columns: numpy sums a single
            column's window pairwise, not row by row).
        block_days: Days per block of tables (None: `block_days_for` the columns).

    Raises:
        ValueError: closes not 2-D float64, writable (or a view of a writable array),
            or with fewer than 2 columns.
    """

    def __init__(self, closes: np.ndarray, block_days: int | None = None) -> None:
        if not usable(closes):
            raise ValueError("score tables need read-only 2-D float64 closes of 2+ columns")
        self.closes = closes
        n = closes.shape[1]
        self.block_days = block_days_for(n) if block_days is None else block_days
        self._spans = tuple(np.full(n, h, dtype=np.intp) for h in MOMENTUM_HORIZONS)
        short, long_ = np.full(n, SMA_SHORT, dtype=np.intp), np.full(n, SMA_LONG, dtype=np.intp)
        self._windows = (short, short, long_)
        self._block: _Block | None = None
        self._part: tuple[dict[str, np.ndarray], np.ndarray, np.ndarray] | None = None
        self._nan = np.full(n, np.nan)
        self._nan.setflags(write=False)

    def covers(self, closes: np.ndarray) -> bool:
        """Whether `closes` is the matrix these tables were built from."""
        return closes is self.closes

    def clean(self, t: int) -> np.ndarray:
        """The columns whose day-`t` reductions are read from the tables (the others are
        reduced by the window path): those whose 200-row window is wholly priced."""
        if t < FIRST_DAY:
            return np.zeros(self.closes.shape[1], dtype=bool)
        block = self._block_at(t)
        return block.clean[t - block.start].copy()

    def reductions(self, t: int) -> tuple[np.ndarray, Reductions | None]:
        """Day `t`'s `window_reductions` of rows ``max(0, t - 199) .. t``, bit for bit."""
        if t < FIRST_DAY:
            return window_reductions(self.closes[: t + 1])
        clean = self.clean(t)
        red = self._block_at(t).reductions(t, self._spans, self._windows)
        if clean.all():
            return clean, red
        cols = np.flatnonzero(~clean)
        # A lone column would be summed pairwise by numpy: reduce it twice over.
        picked = cols if cols.size > 1 else np.repeat(cols, 2)
        part_valid, part = window_reductions(self.closes[t - FIRST_DAY : t + 1, picked])
        valid = clean.copy()
        valid[cols] = part_valid[: cols.size]
        if part is None:
            return valid, red if valid.any() else None
        merged = {
            f.name: _merged(getattr(red, f.name), getattr(part, f.name), cols)
            for f in attrs.fields(Reductions)
        }
        return valid, Reductions(**merged)

    def technical_part(
        self, t: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray] | None:
        """Day `t`'s `domain.scoring.technical_part` with its `valid` first, as
        ``(valid, components, trending, technical)``, when every column is clean that day
        (None otherwise: the day takes `reductions`). The block's rows are computed with
        one set of whole-block operations, elementwise, so each row has the bits a day's
        own computation gives."""
        if t < FIRST_DAY:
            return None
        block = self._block_at(t)
        i = t - block.start
        if not block.clean[i].all():
            return None
        if self._part is None:
            self._part = _whole_part(block, self._spans, self._windows)
        comps, trending, technical = self._part
        day = {name: comps[name][i] for name in INDICATOR_COMPONENTS}
        day.update({name: self._nan for name in COMPONENTS if name not in day})
        return block.clean[i], day, trending[i], technical[i]

    def _block_at(self, t: int) -> _Block:
        block = self._block
        if block is None or not block.start <= t < block.start + block.days:
            self._block = self._part = None  # free the old block before the new one
            start = t - (t - FIRST_DAY) % self.block_days
            days = min(self.block_days, self.closes.shape[0] - start)
            self._block = block = _Block.compute(self.closes, start, days)
        return block


def _whole_part(
    block: _Block, spans: tuple[np.ndarray, ...], windows: tuple[np.ndarray, ...]
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """`technical_part` of every day of `block` at once, read-only (rows of days with an
    unclean column are never read: their stand-in closes may give any value)."""
    with np.errstate(all="ignore"):
        comps, trending, technical = technical_part(block.whole(spans, windows), block.clean)
    comps = {name: comps[name] for name in INDICATOR_COMPONENTS}  # the day's NaN stand in
    for array in (*comps.values(), trending, technical):
        array.setflags(write=False)
    return comps, trending, technical


def usable(closes: np.ndarray) -> bool:
    """Whether `ScoreTables` can be built on `closes`: 2-D float64 of 2+ columns that
    cannot change under the tables (read-only, and so is every array it views)."""
    if not (isinstance(closes, np.ndarray) and closes.dtype == np.float64):
        return False
    if closes.ndim != 2 or closes.shape[1] < 2:
        return False
    array: object = closes
    while isinstance(array, np.ndarray):
        if array.flags.writeable:
            return False
        array = array.base
    return True
