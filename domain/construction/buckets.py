"""Bucket diversification helpers: slots per bucket, within-bucket correlation, and the
bucket allocation limit (seed 002's dynamic bucket allocation and limits enforcer)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from domain.construction.inputs import EPS

MIN_CORRELATION_OBS = 20
"""Returns a correlation needs (or the whole `correlation_window` when that is shorter)."""


def bucket_slots(
    buckets: Iterable[str], max_total: int, favored: Iterable[str], max_per_bucket: int
) -> dict[str, int]:
    """Position slots of each bucket (seed 002, dynamic bucket allocation).

    Args:
        buckets: The buckets with candidates or holdings.
        max_total: The day's `max_total_positions`.
        favored: Buckets favoured by the regime (one extra slot each).
        max_per_bucket: `max_positions_per_bucket`.

    Returns:
        bucket -> ``min(max(max_total // n + favoured, 1), max_per_bucket)``, n being
        the number of buckets given.
    """
    present = sorted(set(buckets))
    if not present:
        return {}
    base = max_total // len(present)
    fav = set(favored)
    return {b: min(max(base + (1 if b in fav else 0), 1), max_per_bucket) for b in present}


def abs_correlations(returns: np.ndarray, min_obs: int) -> np.ndarray:
    """|correlation| between the columns of a block of daily returns, as np.corrcoef.

    A column with a missing return in the block, or without variation, has correlation
    0 with every other column; so has every column when the block has fewer than
    `min_obs` rows. The diagonal is 1.

    Args:
        returns: (rows, m) daily returns.
        min_obs: Rows needed for any correlation.

    Returns:
        (m, m) matrix of absolute correlations.
    """
    returns = np.asarray(returns, dtype=float)
    m = returns.shape[1]
    if m < 2 or returns.shape[0] < max(min_obs, 2):
        return np.eye(m)
    usable = np.isfinite(returns).all(axis=0)
    usable[usable] = _std(returns[:, usable]) > EPS
    idx = np.flatnonzero(usable)
    if idx.size < 2:
        return np.eye(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = _abs_corrcoef(returns[:, idx])
    corr[np.isnan(corr)] = 0.0
    if idx.size == m:
        out = corr
    else:
        out = np.zeros((m, m))
        out[np.ix_(idx, idx)] = corr
    np.fill_diagonal(out, 1.0)
    return out


def _std(block: np.ndarray) -> np.ndarray:
    """`block.std(axis=0)` by the same operations as np.std (numpy's `_var`), without its
    overhead on a small block."""
    rows = block.shape[0]
    mean = np.add.reduce(block, axis=0, keepdims=True)
    np.true_divide(mean, rows, out=mean)
    dev = np.subtract(block, mean)
    np.square(dev, out=dev)
    return np.sqrt(np.add.reduce(dev, axis=0) / rows)


def _abs_corrcoef(block: np.ndarray) -> np.ndarray:
    """`np.abs(np.corrcoef(block, rowvar=False))` for a (rows, k) float block, k >= 2
    and rows >= 2, by the operations of np.cov and np.corrcoef, except that the product
    of the centred block with its transpose is `gram`'s (np.cov's `dot` goes to BLAS,
    whose sums differ in the last bits by CPU). np.corrcoef's clip to [-1, 1] then the
    absolute value is the absolute value capped at 1 (both exact)."""
    x = np.ascontiguousarray(block.T)
    mean = np.add.reduce(x, axis=1) / x.shape[1]
    x -= mean[:, None]
    c = gram(x)
    c *= np.true_divide(1, x.shape[1] - 1)
    stddev = np.sqrt(np.diag(c))
    c /= stddev[:, None]
    c /= stddev[None, :]
    np.abs(c, out=c)
    np.minimum(c, 1.0, out=c)
    return c


def gram(x: np.ndarray) -> np.ndarray:
    """`x @ x.T` of a (k, n) float array, the same bits on every CPU.

    `np.dot` hands the product to BLAS, whose kernels (picked by CPU) add the n products
    in orders of their own; numpy's einsum without `optimize` adds them in one order
    of numpy's build, whatever the CPU (tests/integration/test_cpu_independence.py).
    """
    return np.einsum("ik,jk->ij", x, x, optimize=False)


def correlation_drops(
    members: Sequence[int], droppable: Sequence[bool], corr: np.ndarray, limit: float
) -> dict[int, tuple[int, float]]:
    """Which members to drop for correlation, best-ranked first.

    Args:
        members: Positions in `corr` of the bucket's members, best-ranked first.
        droppable: Per member: may it be dropped (new candidates yes, holdings no).
        corr: Absolute correlations indexed by those positions.
        limit: `correlation_limit`; a correlation strictly above it drops.

    Returns:
        Dropped member -> (the better-ranked kept member it correlates with most, |corr|).
    """
    kept: list[int] = []
    drops: dict[int, tuple[int, float]] = {}
    for member, can_drop in zip(members, droppable, strict=True):
        if can_drop and kept:
            row = corr[member, kept]
            worst = int(np.argmax(row))
            if row[worst] > limit:
                drops[member] = (kept[worst], float(row[worst]))
                continue
        kept.append(member)
    return drops


def scale_buckets(
    weights: np.ndarray,
    member_buckets: Sequence[str],
    exempt: np.ndarray,
    locked_by_bucket: Mapping[str, float],
    cap: float,
) -> tuple[np.ndarray, dict[str, float]]:
    """Scale each bucket down proportionally so it holds at most `cap` of equity.

    Locked weights count against their bucket but are not scaled; exempt positions
    (smart overrides) neither count nor are scaled.

    Returns:
        The new weights and, for every bucket that was scaled, its factor.
    """
    weights = np.asarray(weights, dtype=float).copy()
    if weights.size == 0:
        return weights, {}
    # A few positions: plain floats, each bucket's sum in member order (as np.bincount).
    values, exempted = weights.tolist(), np.asarray(exempt, dtype=bool).tolist()
    free = dict.fromkeys(sorted(set(member_buckets)), 0.0)
    for w, b, ex in zip(values, member_buckets, exempted, strict=True):
        if not ex:
            free[b] += w
    factor: dict[str, float] = {}
    for b, total in free.items():
        allowed = max(cap - locked_by_bucket.get(b, 0.0), 0.0)
        if total > allowed + EPS:  # then total > 0
            factor[b] = allowed / total
    if factor:
        for i, (b, ex) in enumerate(zip(member_buckets, exempted, strict=True)):
            if not ex and b in factor:
                weights[i] = values[i] * factor[b]
    return weights, {str(b): f for b, f in factor.items()}


def bucket_room(
    weights: np.ndarray,
    member_buckets: Sequence[str],
    exempt: np.ndarray,
    locked_by_bucket: Mapping[str, float],
    cap: float,
) -> dict[str, float]:
    """What each bucket may still take before reaching `cap` (exempt weights not counted)."""
    room: dict[str, float] = {}
    values, exempted = np.asarray(weights, dtype=float).tolist(), np.asarray(exempt).tolist()
    for w, b, ex in zip(values, member_buckets, exempted, strict=True):
        if not ex:
            room[b] = room.get(b, 0.0) + w
    for b in sorted(set(member_buckets)):
        room[b] = max(cap - locked_by_bucket.get(b, 0.0) - room.get(b, 0.0), 0.0)
    return room
