"""Scoring reads no row after its day, and published scores have Python `round`'s bits."""

from __future__ import annotations

import numpy as np

from domain import scoring
from domain.scoring import ScoreBoard, score_as_of, window_needed

FIELDS = ("technical", "fundamental", "score", "trending", "valid", "fundamental_given")


def _closes(rows: int = 330, assets: int = 12, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0003, 0.015, size=(rows, assets))
    closes = 100.0 * np.exp(np.cumsum(returns, axis=0))
    closes[:40, 0] = np.nan  # a late listing
    closes[260, 1] = np.nan  # a day without a price
    closes[270, 2] = 0.0  # a bad close
    return closes


def _frozen(closes: np.ndarray) -> np.ndarray:
    out = np.array(closes, dtype=float)
    out.flags.writeable = False
    return out


def _same_bits(a: ScoreBoard, b: ScoreBoard) -> bool:
    fields = all(getattr(a, f).tobytes() == getattr(b, f).tobytes() for f in FIELDS)
    comps = all(a.components[k].tobytes() == b.components[k].tobytes() for k in a.components)
    return fields and comps and list(a.components) == list(b.components)


def _board(closes: np.ndarray, t: int, fundamentals: np.ndarray) -> ScoreBoard:
    return score_as_of(
        closes, t, fundamentals=fundamentals, technical_weight=0.6, fundamental_weight=0.4
    )


def test_score_as_of_when_later_rows_change_then_day_t_board_unchanged():
    closes = _closes()
    fundamentals = np.full(closes.shape[1], np.nan)
    t = window_needed() + 30
    changed = np.array(closes)
    changed[t + 1 :] *= 1.7
    before = _board(_frozen(closes), t, fundamentals)
    after = _board(_frozen(changed), t, fundamentals)
    assert _same_bits(before, after)
    assert not _same_bits(_board(_frozen(closes), t + 1, fundamentals), before)


def test_published_scores_when_ties_and_odd_values_then_same_bits_as_python_round():
    rng = np.random.default_rng(5)
    values = np.concatenate(
        [
            rng.random(20_000),
            np.round(rng.random(5_000), 7),  # next to a tie at the 6th place
            (np.arange(5_000) + 0.5) / 1e6,  # ties in decimal
            np.array([0.0, -0.0, 1.0, -1e-9, 0.9999995, np.nan, np.inf, -np.inf, 1e300]),
            rng.normal(0.0, 100.0, 5_000),
        ]
    )
    expected = np.array([round(v, 6) for v in values.tolist()])
    assert scoring.published_scores(values).tobytes() == expected.tobytes()
