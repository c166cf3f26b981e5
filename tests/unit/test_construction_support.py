"""Builders shared by the construction tests (no tests here): configurations, plan inputs,
price paths. Named test_* so it stays among the construction test files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from domain.config import resolve
from domain.construction import PlanInputs


def cfg(preset: str | None = None, **overrides):
    """A validated configuration: defaults (or a preset) plus overrides."""
    return resolve(preset, overrides).config


def inputs(
    assets: Sequence[tuple[str, str, float]],
    *,
    config,
    weights: Mapping[str, float] | None = None,
    trending: Mapping[str, float] | None = None,
    closes: np.ndarray | None = None,
    **kwargs,
) -> PlanInputs:
    """Plan inputs from (ticker, bucket, score) rows; trending 1.0 unless given."""
    tickers = tuple(t for t, _, _ in assets)
    trend = trending or {}
    return PlanInputs(
        tickers=tickers,
        score=np.array([s for _, _, s in assets]),
        trending=np.array([trend.get(t, 1.0) for t in tickers]),
        valid=np.ones(len(tickers), dtype=bool),
        weights=dict(weights or {}),
        config=config,
        buckets=tuple(b for _, b, _ in assets),
        closes=closes,
        **kwargs,
    )


def alternating_closes(daily: Sequence[float], rows: int = 61) -> np.ndarray:
    """Closes whose log returns alternate +a, -a (a per column): std exactly proportional
    to a, mean 0 over an even number of returns."""
    a = np.asarray(daily, dtype=float)
    signs = np.where(np.arange(rows - 1) % 2 == 0, 1.0, -1.0)[:, None]
    rets = signs * a[None, :]
    logp = np.vstack([np.zeros((1, a.size)), np.cumsum(rets, axis=0)])
    return 100.0 * np.exp(logp)


def correlated_closes(
    loadings: Sequence[Sequence[float]], rng: np.random.Generator, rows: int = 61
) -> np.ndarray:
    """Closes whose daily log returns have exactly the given factor loadings.

    Each row of `loadings` gives one asset's weights on orthonormal, zero-mean factors
    (exactly orthogonal over the window), so the Pearson correlation of two assets'
    returns is the dot product of their unit-normalised loadings.
    """
    load = np.asarray(loadings, dtype=float)
    load = load / np.linalg.norm(load, axis=1, keepdims=True)
    k = load.shape[1]
    raw = rng.standard_normal((rows - 1, k))
    raw -= raw.mean(axis=0)
    factors, _ = np.linalg.qr(raw)
    rets = 0.012 * np.sqrt(rows - 1) * factors @ load.T  # daily std 0.012 (19 % a year)
    logp = np.vstack([np.zeros((1, load.shape[0])), np.cumsum(rets, axis=0)])
    return 100.0 * np.exp(logp)
