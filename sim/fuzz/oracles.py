"""The reference outcomes of the boundary rules, written from behaviour.md and the team's
readings in docs/protections.md and docs/construction.md, independently of the rule code.

Each function is the plain statement of one rule: it takes the deciding quantity and the
parameter and says what must happen. Durations are calendar days between simulated dates
(behaviour.md section 1); hours are those days x 24. Nothing here imports a protection or
a construction stage: a rule broken in the code cannot break its oracle with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

GUARDED_BY_HOLDING = frozenset({"close", "reduce", "increase"})


def holding_blocks(action: str, days_held: int, minimum: int) -> bool:
    """holding_period.minimum: before `position_holding_period_min` days since entry, a
    close, reduce or increase is blocked (an open never is)."""
    return action in GUARDED_BY_HOLDING and days_held < minimum


def forced_review_days(entered: dt.date, period: int, days: Iterable[dt.date]) -> list[dt.date]:
    """holding_period.forced_review: the simulated days a holding entered on `entered` (and
    kept) gets a forced review: the first day the days since entry, or since the last
    review, reach `position_holding_period_max`."""
    anchor, out = entered, []
    for day in days:
        if (day - anchor).days >= period:
            out.append(day)
            anchor = day
    return out


def published(score: float) -> float:
    """A score as published to the protections, the value every score threshold compares
    (docs/construction.md, "Scores"): 6 decimal places."""
    return round(score, 6)


def review_keeps(score: float, min_score_new_position: float) -> bool:
    """selection.review_threshold: a holding due its forced review stays only with a score
    of at least `min_score_new_position` (the published score, `published`)."""
    return published(score) >= min_score_new_position


def whipsaw_open_blocked(
    day: dt.date, closes: Iterable[dt.date], window: int, max_cycles: int
) -> bool:
    """whipsaw.window: an open on `day` is blocked when at least `whipsaw_max_cycles`
    open-close cycles closed within the last `whipsaw_protection_days` days (a cycle
    closed on c counts on day d while (d - c).days < window)."""
    counted = sum(1 for c in closes if c <= day and (day - c).days < window)
    return counted >= max_cycles


def whipsaw_close_blocked(day: dt.date, opened: dt.date, min_hours: int) -> bool:
    """whipsaw.min_duration: a close is blocked while the position is younger than
    `whipsaw_min_duration_hours` ((day - open).days x 24 hours)."""
    return (day - opened).days * 24 < min_hours


def first_day_reaching(start: dt.date, days_needed: int, days: Iterable[dt.date]) -> dt.date | None:
    """The first simulated day at least `days_needed` calendar days after `start` (None
    when the run ends before)."""
    return next((d for d in days if (d - start).days >= days_needed), None)


def grace_close_day(started: dt.date, grace_days: int, days: Iterable[dt.date]) -> dt.date | None:
    """grace_period.expiry: a holding in grace since `started` is closed on the first day
    at least `grace_period_days` days later."""
    return first_day_reaching(started, grace_days, days)


def core_expiry_day(
    designated: dt.date, expiry_days: int, days: Iterable[dt.date]
) -> dt.date | None:
    """core_asset.expiry: a designation of `designated` expires on the first day at least
    `core_asset_expiry_days` days later; before it the asset is core."""
    return first_day_reaching(designated, expiry_days, days)


def core_designations(already_core: int, limit: int, requests: int) -> list[bool]:
    """core_asset.max_core: which of `requests` designation requests in a row (of assets
    not yet core, none expiring meanwhile) are granted with `already_core` core assets
    and at most `max_core_assets` = `limit`."""
    out, core = [], already_core
    for _ in range(requests):
        granted = core < limit
        out.append(granted)
        core += granted
    return out


def keeps(score: float, min_score_threshold: float) -> bool:
    """selection.keep_threshold: a holding is kept while its undecayed (published) score is
    at least `min_score_threshold` (below it, it is proposed for closing and starts grace)."""
    return published(score) >= min_score_threshold


def opens(score: float, trending: float, min_score_new: float, trending_new: float) -> bool:
    """selection.open_threshold: an asset not held is opened only with a score of at least
    `min_score_new_position` and a trending confidence of at least
    `trending_confidence_new` (given room and slots)."""
    return published(score) >= min_score_new and trending >= trending_new


def capped_weights(raw: Sequence[float], cap: float, target: float) -> list[float]:
    """sizing.cap, behaviour.md section 5: cap every position at `cap`, share what is left
    of `target` among the uncapped positions in proportion to their raw weights, and
    repeat until no position exceeds the cap (a position at the cap stays there)."""
    weights = [0.0] * len(raw)
    capped: set[int] = set()
    while True:
        free = [i for i in range(len(raw)) if i not in capped]
        left = target - cap * len(capped)
        total = sum(raw[i] for i in free)
        if not free or total <= 0 or left <= 0:
            break
        over = [i for i in free if left * raw[i] / total > cap]
        if not over:
            for i in free:
                weights[i] = left * raw[i] / total
            break
        capped.update(over)
    for i in capped:
        weights[i] = cap
    return weights


def grace_factor(rate: float, floor: float, day: int) -> float:
    """grace_period.decay: on calendar day k of grace a holding is sized its start weight
    x max(`grace_period_decay_rate` ** k, `min_decay_factor`)."""
    return max(rate**day, floor)


def recovers(score: float, min_score_threshold: float) -> bool:
    """grace_period.recovery: a holding in grace whose score is back at or above
    `min_score_threshold` leaves grace."""
    return published(score) >= min_score_threshold


def extensions_granted(limit: int, requests: int) -> list[bool]:
    """core_asset.extension_limit: which of `requests` extensions in a row of one core
    asset are granted with `core_asset_extension_limit` = `limit`."""
    return [i < limit for i in range(requests)]


def opens_allowed(candidates: int, max_new: int) -> int:
    """selection.max_new: with `candidates` assets that pass the open thresholds (and room
    for all), the best `min(candidates, max_new_positions)` open on a rebalance day."""
    return min(candidates, max_new)
