"""Selection: which assets the plan holds after this rebalance, and why each one is in or out.

Order of the rules (docs/construction.md has the full text):

1. Universe: every holding (always re-scored, whatever its trending confidence) and the
   new candidates: valid, trending >= `trending_confidence_new`, score >=
   `min_score_new_position`, not excluded.
2. Holdings are kept while score >= `min_score_threshold` (`min_score_new_position` when
   the maximum-holding review is due) and trending >= `trending_confidence_existing`.
3. Bucket diversification (when enabled): slots per bucket, holdings first; then the
   within-bucket correlation filter on new candidates; then smart overrides for assets
   the slots turned away.
4. Portfolio limits: new candidates fill what max_total leaves after the kept holdings
   and locked positions, within max_new (other buckets first under concentration). A kept
   holding is never closed to fit max_total.
5. Minimum bucket representation: the best candidate of each missing bucket is added,
   displacing the lowest-ranked new pick of a bucket that keeps another position.

Ordering everywhere is by ranking score (age-decayed) descending, then ticker.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs
import numpy as np

from domain.construction.buckets import (
    MIN_CORRELATION_OBS,
    abs_correlations,
    bucket_slots,
    correlation_drops,
)
from domain.construction.inputs import EPS, Limits, PlanInputs, log_returns

# Selection reasons (Choice.reason): in the plan
KEPT = "kept"
KEPT_OVERFLOW = "kept_overflow"
NEW = "new"
BUCKET_OVERRIDE = "bucket_override"
MIN_BUCKETS = "min_buckets"
SELECTED_REASONS: tuple[str, ...] = (KEPT, KEPT_OVERFLOW, NEW, BUCKET_OVERRIDE, MIN_BUCKETS)
# ... and out of it
BELOW_KEEP = "below_keep_threshold"
REVIEW_FAILED = "holding_review_failed"
TRENDING_EXISTING = "below_trending_existing"
BUCKET_SLOTS = "bucket_slots_full"
CORRELATION = "correlation"
MAX_TOTAL = "max_total_positions"
MAX_NEW = "max_new_positions"
DISPLACED = "displaced_for_min_buckets"
MIN_SIZE = "below_min_position_size"
NO_SIZE = "no_fixed_size"
NO_ROOM = "no_room"
REJECTED_REASONS: tuple[str, ...] = (
    BELOW_KEEP,
    REVIEW_FAILED,
    TRENDING_EXISTING,
    BUCKET_SLOTS,
    CORRELATION,
    MAX_TOTAL,
    MAX_NEW,
    DISPLACED,
    MIN_SIZE,
    NO_SIZE,
    NO_ROOM,
)


@attrs.frozen
class Choice:
    """Why one asset of the universe is in the plan or out of it.

    Attributes:
        asset: The ticker.
        bucket: Its bucket.
        held: Whether it was a holding before today's trades.
        selected: Whether the plan holds it.
        reason: One of `SELECTED_REASONS` or `REJECTED_REASONS`.
        detail: The reason in words, with the numbers behind it.
        score: Today's (undecayed) score.
        rank_score: The age-decayed ranking score.
    """

    asset: str
    bucket: str
    held: bool
    selected: bool
    reason: str
    detail: str
    score: float
    rank_score: float


@attrs.frozen
class Selection:
    """The outcome of `select`.

    Attributes:
        chosen: Columns the plan holds (locked assets not included), best-ranked first.
        choices: asset -> Choice for every holding and every new candidate.
        overrides: Columns in `chosen` admitted by a smart bucket override.
        slots: bucket -> slots (empty when bucket diversification is off).
        limits: The limits applied.
        missing_buckets: How many buckets short of `min_buckets_represented` the plan is
            (0 when met, or when bucket diversification is off).
    """

    chosen: tuple[int, ...] = attrs.field(converter=tuple)
    choices: Mapping[str, Choice] = attrs.field(converter=lambda m: MappingProxyType(dict(m)))
    overrides: tuple[int, ...] = attrs.field(converter=tuple)
    slots: Mapping[str, int] = attrs.field(converter=lambda m: MappingProxyType(dict(m)))
    limits: Limits
    missing_buckets: int = 0


class _Book:
    """Mutable working state of one selection (local to `select`)."""

    def __init__(self, inp: PlanInputs, rank: np.ndarray, buckets: np.ndarray) -> None:
        self.inp = inp
        self.rank = rank
        self.buckets = buckets
        self.choices: dict[str, Choice] = {}

    def key(self, j: int) -> tuple[float, str]:
        return (-float(self.rank[j]), self.inp.tickers[j])

    def note(self, j: int, held: bool, selected: bool, reason: str, detail: str) -> None:
        asset = self.inp.tickers[j]
        self.choices[asset] = Choice(
            asset=asset,
            bucket=str(self.buckets[j]),
            held=held,
            selected=selected,
            reason=reason,
            detail=detail,
            score=round(float(self.inp.score[j]), 6),
            rank_score=round(float(self.rank[j]), 6),
        )


def _universe(inp: PlanInputs, book: _Book) -> tuple[list[int], list[int]]:
    """Holdings that pass the keep rules, and the eligible new candidates."""
    cfg = inp.config
    column = {t: j for j, t in enumerate(inp.tickers)}
    keep: list[int] = []
    for asset in sorted(inp.weights):
        if asset in inp.locked or inp.weights[asset] <= EPS or asset not in column:
            continue
        j = column[asset]
        score, trending = float(inp.score[j]), float(inp.trending[j])
        if asset in inp.review_due and score < cfg.min_score_new_position:
            book.note(
                j,
                True,
                False,
                REVIEW_FAILED,
                f"maximum holding review: score {score:.3f} below min_score_new_position "
                f"{cfg.min_score_new_position}",
            )
        elif score < cfg.min_score_threshold:
            book.note(
                j,
                True,
                False,
                BELOW_KEEP,
                f"score {score:.3f} below min_score_threshold {cfg.min_score_threshold}",
            )
        elif trending < cfg.trending_confidence_existing:
            book.note(
                j,
                True,
                False,
                TRENDING_EXISTING,
                f"trending {trending:.2f} below trending_confidence_existing "
                f"{cfg.trending_confidence_existing}",
            )
        else:
            keep.append(j)
    taken = {a for a, w in inp.weights.items() if w > EPS} | set(inp.locked) | inp.excluded
    eligible = (
        inp.valid
        & (inp.trending >= cfg.trending_confidence_new)
        & (inp.score >= cfg.min_score_new_position)
    )
    new = [int(j) for j in np.flatnonzero(eligible) if inp.tickers[j] not in taken]
    return keep, new


def _kept_detail(inp: PlanInputs, j: int) -> str:
    cfg = inp.config
    name = "min_score_new_position" if inp.tickers[j] in inp.review_due else "min_score_threshold"
    value = getattr(cfg, name)
    return f"holding kept: score {float(inp.score[j]):.3f} >= {name} {value}"


def _new_detail(inp: PlanInputs, j: int) -> str:
    cfg = inp.config
    return (
        f"new position: score {float(inp.score[j]):.3f} >= min_score_new_position "
        f"{cfg.min_score_new_position}, trending {float(inp.trending[j]):.2f} >= "
        f"trending_confidence_new {cfg.trending_confidence_new}"
    )


def select(inp: PlanInputs, limits: Limits, rank: np.ndarray) -> Selection:
    """Choose the assets the plan holds (see the module docstring for the rules).

    Args:
        inp: The planner's inputs.
        limits: The day's limits (`dynamic_limits`).
        rank: Ranking score per column (`rank_scores`).

    Returns:
        The selection, with a `Choice` for every holding and new candidate.
    """
    cfg = inp.config
    buckets = inp.bucket_array()
    book = _Book(inp, rank, buckets)
    keep, new = _universe(inp, book)
    bucket_of = inp.bucket_of()
    locked_pos = sorted(a for a, w in inp.locked.items() if w > EPS)
    locked_buckets = [bucket_of.get(a, "Unknown") for a in locked_pos]
    diversify = cfg.enable_bucket_diversification

    overrides: set[int] = set()
    overflow: set[int] = set()
    slots: dict[str, int] = {}
    if diversify:
        keep, new, overrides, overflow, slots = _bucket_stage(
            inp, book, keep, new, locked_buckets, limits
        )

    # Portfolio limits bound the opens only: a holding that meets the keep rules is never
    # closed to fit max_total (no "no longer in selection" closes).
    keep.sort(key=book.key)
    total_room = max(limits.max_total - len(locked_pos), 0)

    def new_key(j: int) -> tuple[bool, float, str]:
        other_first = limits.concentrated and buckets[j] == limits.largest_bucket
        return (bool(other_first), *book.key(j))

    new.sort(key=new_key)
    room = min(limits.new_budget, total_room - len(keep))
    room = max(room, 0)
    for j in new[room:]:
        if limits.new_budget <= total_room - len(keep):
            reason, detail = MAX_NEW, f"beyond max_new_positions {limits.new_budget} this round"
        else:
            reason, detail = MAX_TOTAL, f"no room under max_total_positions {limits.max_total}"
        book.note(j, False, False, reason, detail)
    picked = new[:room]

    missing = 0
    if diversify:
        picked, missing = _min_buckets(inp, book, keep, picked, new[room:], locked_buckets, room)

    for j in keep:
        if j in overrides:
            continue
        if j in overflow:
            b = str(buckets[j])
            book.note(
                j,
                True,
                True,
                KEPT_OVERFLOW,
                f"holding kept beyond the {slots[b]} slots of {b} (allow_bucket_overflow)",
            )
        else:
            book.note(j, True, True, KEPT, _kept_detail(inp, j))
    for j in picked:
        if inp.tickers[j] not in book.choices:  # overrides and additions have their note
            book.note(j, False, True, NEW, _new_detail(inp, j))

    chosen = sorted(keep + picked, key=book.key)
    return Selection(
        chosen=tuple(chosen),
        choices=dict(sorted(book.choices.items())),
        overrides=tuple(j for j in chosen if j in overrides),
        slots=slots,
        limits=limits,
        missing_buckets=missing,
    )


def _bucket_stage(
    inp: PlanInputs,
    book: _Book,
    keep: list[int],
    new: list[int],
    locked_buckets: list[str],
    limits: Limits,
) -> tuple[list[int], list[int], set[int], set[int], dict[str, int]]:
    """Slots per bucket, correlation filter, smart overrides."""
    cfg = inp.config
    buckets = book.buckets
    present = {str(buckets[j]) for j in keep + new} | set(locked_buckets)
    slots = bucket_slots(
        present, limits.max_total, inp.favored_buckets, cfg.max_positions_per_bucket
    )
    locked_count: dict[str, int] = {}
    for b in locked_buckets:
        locked_count[b] = locked_count.get(b, 0) + 1

    window = None
    min_obs = min(MIN_CORRELATION_OBS, cfg.correlation_window)
    if inp.closes is not None:
        window = inp.closes[-(cfg.correlation_window + 1) :]

    kept_in: list[int] = []
    new_in: list[int] = []
    overflow: set[int] = set()
    turned_away: list[int] = []
    members_of: dict[str, list[int]] = {}
    for b in sorted(present):
        k = sorted((j for j in keep if buckets[j] == b), key=book.key)
        c = sorted((j for j in new if buckets[j] == b), key=book.key)
        avail = max(slots[b] - locked_count.get(b, 0), 0)
        if cfg.allow_bucket_overflow:
            ik = k
            overflow.update(k[avail:])
        else:
            ik = k[:avail]
        ic = c[: max(avail - len(ik), 0)]
        for j in k[len(ik) :] + c[len(ic) :]:
            book.note(
                j,
                j in k,
                False,
                BUCKET_SLOTS,
                f"{b} slots full ({slots[b]}): {len(ik) + len(ic)} better-placed assets",
            )
            turned_away.append(j)
        kept_in += ik
        new_in += ic
        members_of[b] = ik + ic

    # The correlation filter, one np.corrcoef per bucket over its members and the
    # assets that might come back by a smart override.
    threshold = cfg.bucket_override_threshold
    limit = cfg.correlation_limit
    hopefuls = sorted((j for j in turned_away if float(inp.score[j]) >= threshold), key=book.key)
    held = set(keep)
    dropped: set[int] = set()
    checks: dict[str, tuple[list[int], dict[int, int], np.ndarray | None, list[int]]] = {}
    for b in sorted(members_of):
        cols = sorted(members_of[b] + [j for j in hopefuls if buckets[j] == b], key=book.key)
        pos = {j: i for i, j in enumerate(cols)}
        regular = sorted(pos[j] for j in members_of[b])
        corr = None
        if window is not None and len(cols) >= 2 and any(j not in held for j in cols):
            corr = abs_correlations(log_returns(window[:, cols]), min_obs)
        drops = (
            {}
            if corr is None
            else correlation_drops(regular, [cols[i] not in held for i in regular], corr, limit)
        )
        for i, (other, value) in drops.items():
            dropped.add(cols[i])
            book.note(
                cols[i],
                False,
                False,
                CORRELATION,
                f"|correlation| {value:.2f} with {inp.tickers[cols[other]]} above "
                f"correlation_limit {limit} in {b}",
            )
        checks[b] = (cols, pos, corr, [cols[i] for i in regular if i not in drops])

    # Smart overrides: assets the slots turned away, best first, at most
    # max_bucket_overrides; a new one must still pass the correlation filter.
    granted: set[int] = set()
    for j in hopefuls:
        if len(granted) >= cfg.max_bucket_overrides:
            break
        b = str(buckets[j])
        cols, pos, corr, kept_b = checks[b]
        if corr is not None and j not in held:
            better = [pos[k] for k in kept_b if book.key(k) < book.key(j)]
            row = corr[pos[j], better] if better else np.zeros(0)
            if row.size and row.max() > limit:
                other = inp.tickers[cols[better[int(np.argmax(row))]]]
                book.note(
                    j,
                    False,
                    False,
                    CORRELATION,
                    f"{b} slots full ({slots[b]}) and no override: |correlation| "
                    f"{float(row.max()):.2f} with {other} above correlation_limit {limit}",
                )
                continue
        granted.add(j)
        kept_b.append(j)
        book.note(
            j,
            j in held,
            True,
            BUCKET_OVERRIDE,
            f"bucket override: score {float(inp.score[j]):.3f} >= bucket_override_threshold "
            f"{threshold}, beyond the {slots[b]} slots of {b}",
        )
    keep_out = [j for j in kept_in if j not in dropped] + [j for j in granted if j in held]
    new_out = [j for j in new_in if j not in dropped] + [j for j in granted if j not in held]
    return keep_out, new_out, granted, overflow, slots


def _min_buckets(
    inp: PlanInputs,
    book: _Book,
    keep: list[int],
    picked: list[int],
    left_out: list[int],
    locked_buckets: list[str],
    room: int,
) -> tuple[list[int], int]:
    """Add the best candidate of each missing bucket until `min_buckets_represented`."""
    cfg = inp.config
    buckets = book.buckets
    need = cfg.min_buckets_represented
    picked = list(picked)

    def counts() -> dict[str, int]:
        out: dict[str, int] = {}
        for b in [str(buckets[j]) for j in keep + picked] + locked_buckets:
            out[b] = out.get(b, 0) + 1
        return out

    have = counts()
    if len(have) >= need:
        return picked, 0
    best: dict[str, int] = {}
    for j in sorted(left_out, key=book.key):
        b = str(buckets[j])
        if b not in have and b not in best:
            best[b] = j
    for j in sorted(best.values(), key=book.key):
        have = counts()
        if len(have) >= need:
            break
        if len(picked) >= room:
            # Regular new picks have no note yet; overrides and additions do.
            victims = [
                v
                for v in picked
                if inp.tickers[v] not in book.choices and have[str(buckets[v])] >= 2
            ]
            if not victims:
                break
            victim = max(victims, key=book.key)
            picked.remove(victim)
            book.note(
                victim,
                False,
                False,
                DISPLACED,
                f"gave its place to {inp.tickers[j]} for min_buckets_represented {need}",
            )
        picked.append(j)
        b = str(buckets[j])
        book.note(
            j,
            False,
            True,
            MIN_BUCKETS,
            f"best candidate of {b}, added for min_buckets_represented {need}",
        )
    return picked, max(need - len(counts()), 0)
