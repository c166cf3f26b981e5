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

Each rule is a small guard carrying its rule id (`domain.rules`); every `Choice` records
the rule that put its asset in the plan or out of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from domain import rules
from domain.buckets import UNKNOWN_BUCKET
from domain.construction.buckets import MIN_CORRELATION_OBS
from domain.construction.inputs import EPS, Limits, PlanInputs

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
        rule: The id of the rule that decided it (`domain.rules`).
    """

    asset: str
    bucket: str
    held: bool
    selected: bool
    reason: str
    detail: str
    score: float
    rank_score: float
    rule: str


@attrs.frozen
class Reason:
    """A guard's finding about one asset: the reason code, in words, and its rule."""

    code: str
    detail: str
    rule: rules.Rule


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
    choices: Choices
    overrides: tuple[int, ...] = attrs.field(converter=tuple)
    slots: Mapping[str, int] = attrs.field(converter=lambda m: MappingProxyType(dict(m)))
    limits: Limits
    missing_buckets: int = 0


class _Written:
    """A `Reason` whose detail is written when read: the reason of every kept holding and
    new pick, of which a plan describes only those whose status changes or that trade
    (`Choices`). The detail reads the plan's inputs, which are frozen."""

    __slots__ = ("_inp", "_j", "_write", "code", "rule")

    def __init__(
        self,
        code: str,
        rule: rules.Rule,
        write: Callable[[PlanInputs, int], str],
        inp: PlanInputs,
        j: int,
    ) -> None:
        self.code = code
        self.rule = rule
        self._write = write
        self._inp, self._j = inp, j

    @property
    def detail(self) -> str:
        """The reason in words, with the numbers behind it."""
        return self._write(self._inp, self._j)


def ranking_order(by_ticker: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The columns by ranking score descending, then ticker: a stable sort by -rank of
    the columns in ticker order (`by_ticker`), which is
    ``np.lexsort((ticker_rank, -rank))`` (NaN last, ties in ticker order) in one sort."""
    return by_ticker[np.argsort(-np.asarray(rank, dtype=float)[by_ticker], kind="stable")]


_Note = tuple[bool, bool, Reason | _Written]
"""One asset's note: (held, selected, the reason)."""


class Choices(Mapping[str, Choice]):
    """asset -> `Choice` for every asset the plan noted, in ticker order.

    Each `Choice` is built when first read: a plan notes every holding and new candidate,
    but only the assets whose status changes, and the assets traded, are described.
    `codes` and `by_column` give every note's (selected, reason) without building one;
    the ticker order is found only when iterated.
    """

    def __init__(self, inp: PlanInputs, rank: np.ndarray, notes: Mapping[int, _Note]) -> None:
        self._inp = inp
        self._rank = rank
        self._notes = dict(notes)
        self._columns = inp.column
        self._built: dict[str, Choice] = {}

    def _column_of(self, asset: object) -> int | None:
        """The asset's column when the plan noted it, else None."""
        j = self._columns.get(asset)  # type: ignore[call-overload]
        return j if j is not None and j in self._notes else None

    def _build(self, asset: str, j: int) -> Choice:
        """The `Choice` of column j's note (kept for the next read)."""
        held, selected, reason = self._notes[j]
        score, rank = float(self._inp.score[j]), float(self._rank[j])
        rounded = round(score, 6)
        # an undecayed rank is the score: rounded once (a zero may be signed, so not then)
        same = rank == score and rank != 0.0
        choice = self._built[asset] = Choice(
            asset=asset,
            bucket=str(self._inp.bucket_names()[j]),
            held=held,
            selected=selected,
            reason=reason.code,
            detail=reason.detail,
            score=rounded,
            rank_score=rounded if same else round(rank, 6),
            rule=reason.rule.id,
        )
        return choice

    def __getitem__(self, asset: str) -> Choice:
        choice = self._built.get(asset)
        if choice is None:
            j = self._column_of(asset)
            if j is None:
                raise KeyError(asset)
            choice = self._build(asset, j)
        return choice

    def get(self, asset: str, default: Choice | None = None) -> Choice | None:
        """The asset's `Choice`, or `default` when the plan did not note it."""
        choice = self._built.get(asset)
        if choice is None:
            j = self._column_of(asset)
            return default if j is None else self._build(asset, j)
        return choice

    def described(self, asset: str) -> tuple[str, str] | None:
        """(detail, rule id) of the asset's note without building its `Choice` (None:
        not noted)."""
        choice = self._built.get(asset)
        if choice is not None:
            return choice.detail, choice.rule
        j = self._column_of(asset)
        if j is None:
            return None
        reason = self._notes[j][2]
        return reason.detail, reason.rule.id

    @functools.cached_property
    def _ordered(self) -> list[int]:
        """The noted columns in ticker order."""
        return sorted(self._notes, key=self._inp.tickers.__getitem__)

    def __iter__(self) -> Iterator[str]:
        tickers = self._inp.tickers
        return (tickers[j] for j in self._ordered)

    def __len__(self) -> int:
        return len(self._notes)

    def __contains__(self, asset: object) -> bool:
        return self._column_of(asset) is not None

    def __repr__(self) -> str:
        return f"Choices({dict(self.items())!r})"

    @property
    def tickers(self) -> tuple[str, ...]:
        """The planner's tickers (column order)."""
        return self._inp.tickers

    def by_column(self) -> list[tuple[int, bool, str]]:
        """(column, selected, reason code) of every note, in no particular order (no
        ticker sort)."""
        return [(j, selected, reason.code) for j, (_held, selected, reason) in self._notes.items()]

    def dropping(self, dropped: Mapping[int, Reason]) -> Choices:
        """These choices with each column of `dropped` out of the plan for its reason."""
        notes = dict(self._notes)
        for j, why in dropped.items():
            notes[j] = (notes[j][0], False, why)
        return Choices(self._inp, self._rank, notes)


class _Book:
    """Mutable working state of one selection (local to `select`).

    `key(j)` is column j's place in the ranking order (ranking score descending, then
    ticker), so sorting by it is sorting by (-rank, ticker).
    """

    def __init__(self, inp: PlanInputs, rank: np.ndarray, buckets: Sequence[str]) -> None:
        self.inp = inp
        self.rank = rank
        self.buckets = buckets
        place = np.empty(inp.n_assets, dtype=np.intp)
        place[ranking_order(inp.by_ticker, rank)] = np.arange(inp.n_assets)
        self.key = place.tolist().__getitem__
        self.notes: dict[int, _Note] = {}

    def note(self, j: int, held: bool, selected: bool, reason: Reason | _Written) -> None:
        self.notes[j] = (held, selected, reason)

    def note_all(self, columns: Sequence[int], held: bool, selected: bool, reason: Reason) -> None:
        """The same note for each of `columns`."""
        self.notes.update(dict.fromkeys(columns, (held, selected, reason)))


# --- the keep rules of a holding --------------------------------------------------------


def _check_review(inp: PlanInputs, j: int) -> Reason | None:
    """selection.review_threshold: a holding due its forced review needs
    `min_score_new_position`."""
    cfg, score = inp.config, float(inp.threshold_score[j])
    if inp.tickers[j] not in inp.review_due or score >= cfg.min_score_new_position:
        return None
    return Reason(
        REVIEW_FAILED,
        f"maximum holding review: score {score:.3f} below min_score_new_position "
        f"{cfg.min_score_new_position}",
        rules.REVIEW_THRESHOLD,
    )


def _check_keep_threshold(inp: PlanInputs, j: int) -> Reason | None:
    """selection.keep_threshold: a holding needs `min_score_threshold`."""
    cfg, score = inp.config, float(inp.threshold_score[j])
    if score >= cfg.min_score_threshold:
        return None
    return Reason(
        BELOW_KEEP,
        f"score {score:.3f} below min_score_threshold {cfg.min_score_threshold}",
        rules.KEEP_THRESHOLD,
    )


def _check_trending_existing(inp: PlanInputs, j: int) -> Reason | None:
    """selection.trending_existing: a holding needs `trending_confidence_existing`."""
    cfg, trending = inp.config, float(inp.trending[j])
    if trending >= cfg.trending_confidence_existing:
        return None
    return Reason(
        TRENDING_EXISTING,
        f"trending {trending:.2f} below trending_confidence_existing "
        f"{cfg.trending_confidence_existing}",
        rules.TRENDING_EXISTING,
    )


def open_eligible(inp: PlanInputs) -> np.ndarray:
    """selection.open_threshold (and selection.universe): the columns a new position may
    open in: valid, trending >= `trending_confidence_new`, score >= `min_score_new_position`."""
    cfg = inp.config
    return (
        inp.valid
        & (inp.trending >= cfg.trending_confidence_new)
        & (inp.threshold_score >= cfg.min_score_new_position)
    )


def _universe(inp: PlanInputs, book: _Book) -> tuple[list[int], list[int]]:
    """Holdings that pass the keep rules, and the eligible new candidates."""
    stages = inp.stages
    column = inp.column
    keep: list[int] = []
    for asset in sorted(inp.weights):
        if asset in inp.locked or inp.weights[asset] <= EPS or asset not in column:
            continue
        j = column[asset]
        out = stages.check_review(inp, j) or stages.check_keep_threshold(inp, j)
        out = out or stages.check_trending_existing(inp, j)
        if out is None:
            keep.append(j)
        else:
            book.note(j, True, False, out)
    taken = {a for a, w in inp.weights.items() if w > EPS} | set(inp.locked) | inp.excluded
    eligible = np.array(stages.open_eligible(inp), dtype=bool)
    eligible[[column[a] for a in taken if a in column]] = False
    return keep, np.flatnonzero(eligible).tolist()


def _kept(inp: PlanInputs, j: int) -> _Written:
    review = inp.tickers[j] in inp.review_due
    if review:
        return _Written(KEPT, rules.REVIEW_THRESHOLD, _kept_under_review, inp, j)
    return _Written(KEPT, rules.KEEP_THRESHOLD, _kept_detail, inp, j)


def _kept_detail(inp: PlanInputs, j: int, name: str = "min_score_threshold") -> str:
    value = getattr(inp.config, name)
    return f"holding kept: score {float(inp.score[j]):.3f} >= {name} {value}"


def _kept_under_review(inp: PlanInputs, j: int) -> str:
    return _kept_detail(inp, j, "min_score_new_position")


def _new(inp: PlanInputs, j: int) -> _Written:
    return _Written(NEW, rules.OPEN_THRESHOLD, _new_detail, inp, j)


def _new_detail(inp: PlanInputs, j: int) -> str:
    cfg = inp.config
    return (
        f"new position: score {float(inp.score[j]):.3f} >= min_score_new_position "
        f"{cfg.min_score_new_position}, trending {float(inp.trending[j]):.2f} >= "
        f"trending_confidence_new {cfg.trending_confidence_new}"
    )


# --- select -----------------------------------------------------------------------------


@attrs.frozen
class _Buckets:
    """What the bucket stage leaves: the columns in, overrides, overflow holdings, slots."""

    keep: list[int]
    new: list[int]
    overrides: set[int] = attrs.field(factory=set)
    overflow: set[int] = attrs.field(factory=set)
    slots: dict[str, int] = attrs.field(factory=dict)


def select(inp: PlanInputs, limits: Limits, rank: np.ndarray) -> Selection:
    """Choose the assets the plan holds (see the module docstring for the rules).

    Args:
        inp: The planner's inputs.
        limits: The day's limits (`dynamic_limits`).
        rank: Ranking score per column (`rank_scores`).

    Returns:
        The selection, with a `Choice` for every holding and new candidate.
    """
    book = _Book(inp, rank, inp.bucket_names())
    keep, new = _universe(inp, book)
    bucket_of = inp.bucket_of()
    locked_pos = sorted(a for a, w in inp.locked.items() if w > EPS)
    locked_buckets = [bucket_of.get(a, UNKNOWN_BUCKET) for a in locked_pos]
    diversify = inp.config.enable_bucket_diversification
    stage = _Buckets(keep, new)
    if diversify:
        stage = _bucket_stage(inp, book, keep, new, locked_buckets, limits)
    keep = sorted(stage.keep, key=book.key)
    picked, left_out, room = _portfolio_limits(book, keep, stage.new, limits, len(locked_pos))
    missing = 0
    if diversify:
        picked, missing = inp.stages.min_buckets(
            inp, book, keep, picked, left_out, locked_buckets, room
        )
    _note_selected(inp, book, keep, picked, stage)
    chosen = sorted(keep + picked, key=book.key)
    return Selection(
        chosen=tuple(chosen),
        choices=Choices(inp, rank, book.notes),
        overrides=tuple(j for j in chosen if j in stage.overrides),
        slots=stage.slots,
        limits=limits,
        missing_buckets=missing,
    )


def portfolio_room(limits: Limits, n_locked: int, n_keep: int) -> int:
    """selection.max_new and selection.max_total: how many new candidates fit: what
    max_total leaves after the locked and kept positions, within the round's new budget."""
    total_room = max(limits.max_total - n_locked, 0)
    return max(min(limits.new_budget, total_room - n_keep), 0)


def _portfolio_limits(
    book: _Book, keep: list[int], new: list[int], limits: Limits, n_locked: int
) -> tuple[list[int], list[int], int]:
    """selection.max_total and selection.max_new: the new candidates that fit, those that
    do not, and the room there was. Portfolio limits bound the opens only: a holding that
    meets the keep rules is never closed to fit max_total."""
    total_room = max(limits.max_total - n_locked, 0)
    buckets = book.buckets

    def new_key(j: int) -> tuple[bool, int]:
        other_first = limits.concentrated and buckets[j] == limits.largest_bucket
        return (bool(other_first), book.key(j))

    new = sorted(new, key=new_key)
    room = book.inp.stages.portfolio_room(limits, n_locked, len(keep))
    if limits.new_budget <= total_room - len(keep):
        out = Reason(
            MAX_NEW, f"beyond max_new_positions {limits.new_budget} this round", rules.MAX_NEW
        )
    else:
        out = Reason(
            MAX_TOTAL, f"no room under max_total_positions {limits.max_total}", rules.MAX_TOTAL
        )
    book.note_all(new[room:], False, False, out)
    return new[:room], new[room:], room


def _note_selected(
    inp: PlanInputs, book: _Book, keep: list[int], picked: list[int], stage: _Buckets
) -> None:
    """The notes of the kept holdings and the new picks that have none yet."""
    for j in keep:
        if j in stage.overrides:
            continue
        if j in stage.overflow:
            b = str(book.buckets[j])
            out = Reason(
                KEPT_OVERFLOW,
                f"holding kept beyond the {stage.slots[b]} slots of {b} (allow_bucket_overflow)",
                rules.BUCKET_OVERFLOW,
            )
            book.note(j, True, True, out)
        else:
            book.note(j, True, True, _kept(inp, j))
    for j in picked:
        if j not in book.notes:  # overrides and additions have their note
            book.note(j, False, True, _new(inp, j))


# --- bucket diversification --------------------------------------------------------------


@attrs.frozen
class _Slotted:
    """The slot stage: per bucket its members in, and the assets the slots turned away."""

    slots: dict[str, int]
    kept_in: list[int]
    new_in: list[int]
    overflow: set[int]
    turned_away: list[int]
    members_of: dict[str, list[int]]


def _bucket_stage(
    inp: PlanInputs,
    book: _Book,
    keep: list[int],
    new: list[int],
    locked_buckets: list[str],
    limits: Limits,
) -> _Buckets:
    """Slots per bucket, correlation filter, smart overrides."""
    slotted = _slot_stage(inp, book, keep, new, locked_buckets, limits)
    hopefuls = sorted(inp.stages.override_hopefuls(inp, slotted.turned_away), key=book.key)
    dropped, checks = _correlation_stage(inp, book, slotted, hopefuls, set(keep))
    granted = inp.stages.bucket_overrides(inp, book, hopefuls, checks, set(keep), slotted.slots)
    held = set(keep)
    keep_out = [j for j in slotted.kept_in if j not in dropped] + [j for j in granted if j in held]
    new_out = [j for j in slotted.new_in if j not in dropped] + [
        j for j in granted if j not in held
    ]
    return _Buckets(keep_out, new_out, granted, slotted.overflow, slotted.slots)


def _slot_stage(
    inp: PlanInputs,
    book: _Book,
    keep: list[int],
    new: list[int],
    locked_buckets: list[str],
    limits: Limits,
) -> _Slotted:
    """construction.bucket_slots (and construction.bucket_overflow): per bucket, locked
    positions first, then holdings, then candidates, up to its slots."""
    cfg, buckets = inp.config, book.buckets
    present = {str(buckets[j]) for j in keep + new} | set(locked_buckets)
    slots = inp.stages.bucket_slots(
        present, limits.max_total, inp.favored_buckets, cfg.max_positions_per_bucket
    )
    locked_count: dict[str, int] = {}
    for b in locked_buckets:
        locked_count[b] = locked_count.get(b, 0) + 1
    kept_of, new_of = _by_bucket(book, keep), _by_bucket(book, new)
    out = _Slotted(slots, [], [], set(), [], {})
    for b in sorted(present):
        k, c = kept_of.get(b, []), new_of.get(b, [])
        avail = max(slots[b] - locked_count.get(b, 0), 0)
        ik = k if cfg.allow_bucket_overflow else k[:avail]
        if cfg.allow_bucket_overflow:
            out.overflow.update(k[avail:])
        ic = c[: max(avail - len(ik), 0)]
        away = k[len(ik) :] + c[len(ic) :]
        if away:
            full = Reason(
                BUCKET_SLOTS,
                f"{b} slots full ({slots[b]}): {len(ik) + len(ic)} better-placed assets",
                rules.BUCKET_SLOTS,
            )
            book.note_all(k[len(ik) :], True, False, full)
            book.note_all(c[len(ic) :], False, False, full)
            out.turned_away.extend(away)
        out.kept_in.extend(ik)
        out.new_in.extend(ic)
        out.members_of[b] = ik + ic
    return out


def _by_bucket(book: _Book, columns: list[int]) -> dict[str, list[int]]:
    """bucket -> its columns among `columns`, best-ranked first."""
    out: dict[str, list[int]] = {}
    for j in sorted(columns, key=book.key):
        out.setdefault(book.buckets[j], []).append(j)
    return out


_Check = tuple[list[int], dict[int, int], np.ndarray | None, list[int]]
"""Per bucket: its columns, their positions, |correlations| (None: not computed), and the
members the filter kept."""


def _correlation_stage(
    inp: PlanInputs, book: _Book, slotted: _Slotted, hopefuls: list[int], held: set[int]
) -> tuple[set[int], dict[str, _Check]]:
    """construction.correlation: one |correlation| matrix per bucket over its members and
    the assets that might come back by a smart override; the new members it drops."""
    cfg, buckets = inp.config, book.buckets
    limit = cfg.correlation_limit
    dropped: set[int] = set()
    checks: dict[str, _Check] = {}
    groups = {
        b: sorted(members + [j for j in hopefuls if buckets[j] == b], key=book.key)
        for b, members in sorted(slotted.members_of.items())
    }
    checked = [] if _filter_off(inp) else [c for c in groups.values() if _correlated(c, held)]
    corrs = _correlations(inp, checked)
    for b, cols in groups.items():
        members = slotted.members_of[b]
        pos = {j: i for i, j in enumerate(cols)}
        regular = sorted(pos[j] for j in members)
        corr = corrs.get(tuple(cols))
        drops = (
            {}
            if corr is None
            else inp.stages.correlation_drops(
                regular, [cols[i] not in held for i in regular], corr, limit
            )
        )
        for i, (other, value) in drops.items():
            dropped.add(cols[i])
            detail = (
                f"|correlation| {value:.2f} with {inp.tickers[cols[other]]} above "
                f"correlation_limit {limit} in {b}"
            )
            book.note(cols[i], False, False, Reason(CORRELATION, detail, rules.CORRELATION))
        checks[b] = (cols, pos, corr, [cols[i] for i in regular if i not in drops])
    return dropped, checks


def _filter_off(inp: PlanInputs) -> bool:
    """Whether the correlation filter cannot drop anything: `correlation_limit` of 1 or
    more, which no |correlation| (at most 1) is above, while the filter's steps are the
    stated ones (`Stages.stated_correlation_filter`). Then no matrix is computed: a
    bucket without one drops nothing and refuses no override, as one with no value above
    the limit does."""
    return inp.stages.stated_correlation_filter and inp.config.correlation_limit >= 1.0


def _correlated(cols: list[int], held: set[int]) -> bool:
    """Whether a bucket's correlations are needed: two columns or more, one of them new."""
    return len(cols) >= 2 and any(j not in held for j in cols)


def _correlations(inp: PlanInputs, groups: list[list[int]]) -> dict[tuple[int, ...], np.ndarray]:
    """Each group's |correlations| (`Stages.abs_correlations`) over the correlation
    window (none without closes). A group's matrix depends on the closes and its columns
    alone, so the day's re-plan rounds reuse it (`PlanInputs.memo`, read-only), unless a
    mutant replaces the rule (`Stages.stated_correlations`)."""
    if inp.closes is None or not groups:
        return {}
    window = inp.config.correlation_window
    min_obs = min(MIN_CORRELATION_OBS, window)
    memo = inp.memo if inp.stages.stated_correlations else {}
    out, missing = {}, []
    for cols in groups:
        corr = memo.get(_correlation_key(cols, window, min_obs))
        if corr is None:
            missing.append(cols)
        else:
            out[tuple(cols)] = corr
    if missing:
        checked = sorted({j for cols in missing for j in cols})
        returns, place = inp.returns_of(window, checked), {j: i for i, j in enumerate(checked)}
        for cols in missing:
            corr = inp.stages.abs_correlations(returns[:, [place[j] for j in cols]], min_obs)
            corr.flags.writeable = False
            memo[_correlation_key(cols, window, min_obs)] = corr
            out[tuple(cols)] = corr
    return out


def _correlation_key(cols: list[int], window: int, min_obs: int) -> tuple[Any, ...]:
    """The `PlanInputs.memo` key of a column group's |correlations|."""
    return ("abs_correlations", tuple(cols), window, min_obs)


def _override_hopefuls(inp: PlanInputs, turned_away: Sequence[int]) -> list[int]:
    """construction.bucket_override: the assets the slots turned away that reach
    `bucket_override_threshold`."""
    threshold = inp.config.bucket_override_threshold
    return [j for j in turned_away if float(inp.threshold_score[j]) >= threshold]


def _override_stage(
    inp: PlanInputs,
    book: _Book,
    hopefuls: list[int],
    checks: dict[str, _Check],
    held: set[int],
    slots: dict[str, int],
) -> set[int]:
    """construction.bucket_override: assets the slots turned away, best first, at most
    `max_bucket_overrides`; a new one must still pass the correlation filter."""
    cfg = inp.config
    granted: set[int] = set()
    for j in hopefuls:
        if len(granted) >= cfg.max_bucket_overrides:
            break
        b = str(book.buckets[j])
        refusal = _check_override_correlation(inp, book, j, checks[b], held, slots[b])
        if refusal is not None:
            book.note(j, False, False, refusal)
            continue
        granted.add(j)
        checks[b][3].append(j)
        detail = (
            f"bucket override: score {float(inp.score[j]):.3f} >= bucket_override_threshold "
            f"{cfg.bucket_override_threshold}, beyond the {slots[b]} slots of {b}"
        )
        book.note(j, j in held, True, Reason(BUCKET_OVERRIDE, detail, rules.BUCKET_OVERRIDE))
    return granted


def _check_override_correlation(
    inp: PlanInputs, book: _Book, j: int, check: _Check, held: set[int], slots: int
) -> Reason | None:
    """construction.correlation: a new override correlating above `correlation_limit` with
    a better-ranked asset kept in its bucket is refused."""
    cols, pos, corr, kept_b = check
    if corr is None or j in held:
        return None
    limit = inp.config.correlation_limit
    better = [pos[k] for k in kept_b if book.key(k) < book.key(j)]
    row = corr[pos[j], better] if better else np.zeros(0)
    if not (row.size and row.max() > limit):
        return None
    other = inp.tickers[cols[better[int(np.argmax(row))]]]
    b = str(book.buckets[j])
    return Reason(
        CORRELATION,
        f"{b} slots full ({slots}) and no override: |correlation| "
        f"{float(row.max()):.2f} with {other} above correlation_limit {limit}",
        rules.CORRELATION,
    )


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
            victims = [v for v in picked if v not in book.notes and have[str(buckets[v])] >= 2]
            if not victims:
                break
            victim = max(victims, key=book.key)
            picked.remove(victim)
            detail = f"gave its place to {inp.tickers[j]} for min_buckets_represented {need}"
            book.note(victim, False, False, Reason(DISPLACED, detail, rules.MIN_BUCKETS))
        picked.append(j)
        detail = f"best candidate of {buckets[j]}, added for min_buckets_represented {need}"
        book.note(j, False, True, Reason(MIN_BUCKETS, detail, rules.MIN_BUCKETS))
    return picked, max(need - len(counts()), 0)
