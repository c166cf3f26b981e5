"""Scoring models a scenario may name instead of the default blend (`scoring.model`).

A scoring model is a function of the price window: it gets the closes up to and including
today (rows ascending, the last row is today; columns = assets; NaN before an asset
exists) and returns one score in [0, 1] per column, or a pair (scores, trending) when it
also rates the trend. `ScoringModel.score_as_of` slices a full history at day `t` (no
row after `t` is handed over) and wraps the result in a `ScoreBoard`, so the rest of the
day (overrides, selection, proposals) reads it like the default board.

Built in: ``momentum``, the rank-normalised 60-day rate of change (docs/scoring.md,
"Scoring models"). Any other model is named by import path ``module:function``; the
loader imports it (`sim.load.scoring`), this module only calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import attrs
import numpy as np

from domain.scoring import NEUTRAL, OVERRIDE_SCORE, OVERRIDE_TRENDING, ScoreBoard

ModelFunction = Callable[[np.ndarray], object]
"""closes window -> scores, or (scores, trending); each one value per column in [0, 1]."""

MOMENTUM = "momentum"
MOMENTUM_HORIZON = 60
"""Trading days of the built-in momentum's rate of change."""
MODEL_SCORE = "model_score"
"""The component of a model's board that records the model's own score."""


def rate_of_change(window: np.ndarray, horizon: int) -> np.ndarray:
    """``P_t / P_{t-horizon} - 1`` per column; NaN where either close is missing.

    A close that is NaN, infinite, zero or negative is missing; with fewer than
    ``horizon + 1`` rows every value is NaN.
    """
    closes = np.asarray(window, dtype=float)
    if closes.shape[0] <= horizon:
        return np.full(closes.shape[1], np.nan)
    today, then = closes[-1], closes[-1 - horizon]
    ok = np.isfinite(today) & np.isfinite(then) & (today > 0) & (then > 0)
    if ok.all():  # the common case: the same divisions, nothing to mask
        return today / then - 1.0
    # no invalid division: a missing close is divided by 1 (and comparing NaN is quiet)
    return np.where(ok, today / np.where(ok, then, 1.0) - 1.0, np.nan)


def rank_normalised(values: np.ndarray, missing: float = np.nan) -> np.ndarray:
    """Each finite value's rank among the finite ones, scaled to [0, 1]; `missing` elsewhere.

    Rank 0 is the lowest; ties are ranked by column order (the earlier column lower).
    The highest of ``n`` finite values gets 1, the lowest 0; a single one gets 1.
    """
    out = np.full(values.shape, missing)
    finite = np.isfinite(values).nonzero()[0]
    if finite.size == 0:
        return out
    if finite.size == values.size:  # every value ranked: the columns' own order
        order = values.argsort(kind="stable")
    else:
        order = finite[values[finite].argsort(kind="stable")]
    out[order] = np.arange(finite.size) / max(finite.size - 1, 1)
    if finite.size == 1:
        out[finite] = 1.0
    return out


def momentum(window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The built-in ``momentum`` model: rank-normalised 60-day rate of change.

    Returns:
        scores: `rank_normalised` of `rate_of_change` (horizon 60); 0 where the rate is
            missing (less than 61 rows of history, or no close today or 60 days ago).
        trending: 1 where the rate of change is positive, else 0.
    """
    roc = rate_of_change(window, MOMENTUM_HORIZON)
    score = rank_normalised(roc, missing=0.0)
    trending = (roc > 0).astype(float)  # NaN > 0 is False
    return score, trending


BUILTIN_MODELS: Mapping[str, tuple[ModelFunction, int]] = MappingProxyType(
    {MOMENTUM: (momentum, MOMENTUM_HORIZON + 1)}
)
"""name -> (function, rows of the window it reads)."""


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _checked(name: str, values: object, n_assets: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (n_assets,):
        raise ValueError(
            f"scoring model '{name}' returned {what} of shape {array.shape}, expected ({n_assets},)"
        )
    # a NaN makes the minimum NaN, which fails the comparison as an infinity does
    if not (array.min(initial=0.0) >= 0.0 and array.max(initial=0.0) <= 1.0):
        raise ValueError(f"scoring model '{name}' returned {what} outside [0, 1] or not finite")
    return array


@attrs.frozen
class ScoringModel:
    """A named scoring function and how many rows of history it reads.

    Attributes:
        name: ``momentum`` or the import path ``module:function``.
        function: The model (`ModelFunction`).
        window: Rows handed over (today included); None: the whole history up to today.
    """

    name: str
    function: ModelFunction = attrs.field(eq=False)
    window: int | None = None
    _constants: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def score_as_of(self, closes: np.ndarray, t: int) -> ScoreBoard:
        """Day `t`'s board from rows ``max(0, t - window + 1) .. t`` of `closes`.

        Raises:
            IndexError: `t` outside the rows of `closes`.
            ValueError: the model returned the wrong shape, or a value outside [0, 1].
        """
        closes = np.asarray(closes, dtype=float)
        if not 0 <= t < closes.shape[0]:
            raise IndexError(f"day index {t} outside 0..{closes.shape[0] - 1}")
        start = 0 if self.window is None else max(0, t - self.window + 1)
        window = closes[start : t + 1].view()
        window.setflags(write=False)
        return self.board(self.function(window), closes[t])

    def board(self, result: object, today: np.ndarray) -> ScoreBoard:
        """Wrap a model's result in a `ScoreBoard` (`today`: the day's closes).

        An asset is valid when it has a positive close today; the default board's
        technical, fundamental and indicator fields are stand-ins (the score itself,
        0.5 and none) and the model's score is recorded as ``model_score``.
        """
        n = today.shape[0]
        pair = isinstance(result, tuple)
        score = _checked(self.name, result[0] if pair else result, n, "scores")
        trending = _checked(self.name, result[1], n, "trending") if pair else score
        valid = np.isfinite(today) & (today > 0)
        # read-only, so one array serves every field of the same values
        score = _readonly(np.where(valid, score, 0.0))
        no_override, neutral, not_given = self._constant_fields(n)
        components = {
            MODEL_SCORE: score,
            OVERRIDE_SCORE: no_override,
            OVERRIDE_TRENDING: no_override,
        }
        return ScoreBoard(
            technical=score,
            fundamental=neutral,
            score=score,
            trending=_readonly(np.where(valid, trending, 0.0)),
            valid=_readonly(valid),
            fundamental_given=not_given,
            components=MappingProxyType(components),
        )

    def _constant_fields(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fields of every board of `n` assets that never change (no override: NaN;
        the fundamental: neutral; none given), read-only, so built once per model and
        size and shared by its boards."""
        found = self._constants.get(n)
        if found is None:
            found = self._constants[n] = (
                _readonly(np.full(n, np.nan)),
                _readonly(np.full(n, NEUTRAL)),
                _readonly(np.zeros(n, dtype=bool)),
            )
        return found


def builtin_model(name: str) -> ScoringModel:
    """The built-in model `name`.

    Raises:
        KeyError: no built-in model of that name.
    """
    function, window = BUILTIN_MODELS[name]
    return ScoringModel(name=name, function=function, window=window)
