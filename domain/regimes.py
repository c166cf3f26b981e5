"""Regimes: the severity map, default favoured buckets, the scripted and detected timelines.

A timeline is one `RegimeState` per simulated day. `scripted_timeline` reads the
scenario's regime shocks; `detected_timeline` derives regimes from the market path
using only prices up to each day. See docs/market.md for every rule chosen.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs
import numpy as np

from domain import numerics
from domain.messages import RegimeUpdated
from domain.rules import FAVORED_BUCKETS, SEVERITY
from domain.scenario import RegimeSpec

if TYPE_CHECKING:  # domain.market imports this module
    from domain.market import MarketData

GOLDILOCKS = "Goldilocks"
REFLATION = "Reflation"
INFLATION = "Inflation"
DEFLATION = "Deflation"
DEFAULT_REGIME = GOLDILOCKS

SEVERITY_MAP: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        (GOLDILOCKS, DEFLATION): "critical",
        (GOLDILOCKS, INFLATION): "high",
        (DEFLATION, INFLATION): "critical",
        (REFLATION, DEFLATION): "critical",
    }
)

DEFAULT_FAVORED_BUCKETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        GOLDILOCKS: ("Risk Assets", "Growth"),
        REFLATION: ("Cyclicals", "Value", "International", "Commodities"),
        INFLATION: ("Commodities", "Real assets"),
        DEFLATION: ("Defensive Assets", "Fixed Income"),
    }
)

STABILITY_DAYS = 20
"""Trading days after a change at which computed stability reaches 1."""


def severity_of(previous: str | None, regime: str) -> str:
    """Severity of going from `previous` to `regime` by the map ("normal" if no change)."""
    if previous is None or previous == regime:
        return "normal"
    return SEVERITY_MAP.get((previous, regime), "normal")


def favored_buckets(regime: str, overrides: Mapping[str, Sequence[str]] | None) -> tuple[str, ...]:
    """Favoured buckets of `regime`: the scenario's list for it, else the default, else ()."""
    if overrides is not None and regime in overrides:
        return tuple(overrides[regime])
    return DEFAULT_FAVORED_BUCKETS.get(regime, ())


def computed_stability(days_since_change: int | None) -> float:
    """min(1, trading days since the last change / 20); 1.0 when there was no change."""
    if days_since_change is None:
        return 1.0
    return min(1.0, days_since_change / STABILITY_DAYS)


@attrs.frozen
class RegimeState:
    """What the regime provider publishes on one day.

    Attributes:
        regime: today's regime.
        previous: yesterday's regime (None on the first simulated day).
        changed: today's regime differs from yesterday's.
        severity: severity of today's change; "normal" when unchanged.
        confidence: 0..1.
        stability: 0..1.
        favored_buckets: buckets favoured in today's regime.
    """

    regime: str
    previous: str | None
    changed: bool
    severity: str
    confidence: float
    stability: float
    favored_buckets: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def message(self) -> RegimeUpdated:
        """This state as the provider's `RegimeUpdated` message."""
        return RegimeUpdated(
            regime=self.regime,
            previous=self.previous,
            changed=self.changed,
            severity=self.severity,
            confidence=self.confidence,
            stability=self.stability,
            favored_buckets=self.favored_buckets,
            rules=regime_rules(self.changed, self.favored_buckets),
        )


def regime_rules(changed: bool, favored: Sequence[str]) -> tuple[str, ...]:
    """The rules a regime update names (`RegimeUpdated.rules`): `regime.severity` on a
    change, `regime.favored_buckets` when it names favoured buckets."""
    found = ((SEVERITY, changed), (FAVORED_BUCKETS, bool(favored)))
    return tuple(rule.id for rule, acted in found if acted)


def _build_states(
    regimes: Sequence[str],
    confidences: Sequence[float],
    explicit_severity: Sequence[str | None],
    explicit_stability: Sequence[float | None],
    favored: Mapping[str, Sequence[str]] | None,
) -> tuple[RegimeState, ...]:
    states: list[RegimeState] = []
    previous: str | None = None
    since: int | None = None
    for i, regime in enumerate(regimes):
        changed = previous is not None and regime != previous
        if changed:
            since = 0
        elif since is not None:
            since += 1
        severity = (explicit_severity[i] or severity_of(previous, regime)) if changed else "normal"
        stability = explicit_stability[i]
        states.append(
            RegimeState(
                regime=regime,
                previous=previous,
                changed=changed,
                severity=severity,
                confidence=float(confidences[i]),
                stability=computed_stability(since) if stability is None else float(stability),
                favored_buckets=favored_buckets(regime, favored),
            )
        )
        previous = regime
    return tuple(states)


def scripted_timeline(spec: RegimeSpec, sim_dates: Sequence[dt.date]) -> tuple[RegimeState, ...]:
    """One state per simulated day from the scenario's timeline.

    A point takes effect on the first simulated day on or after its date (points dated
    before the first day apply on it; several points falling on one day: the last in
    date order, then file order, wins). Before the first point: Goldilocks, confidence
    1.0. Confidence (and a scripted stability) hold from the point that set them until
    the next point; a point without stability gets the computed one. A point's explicit
    severity is used when its regime differs from yesterday's.
    """
    points = sorted(spec.timeline, key=lambda p: p.date)
    point_dates = [p.date for p in points]
    regimes: list[str] = []
    confidences: list[float] = []
    severities: list[str | None] = []
    stabilities: list[float | None] = []
    for day in sim_dates:
        k = bisect.bisect_right(point_dates, day) - 1
        if k < 0:
            regimes.append(DEFAULT_REGIME)
            confidences.append(1.0)
            severities.append(None)
            stabilities.append(None)
        else:
            point = points[k]
            regimes.append(point.regime)
            confidences.append(point.confidence)
            severities.append(point.severity)
            stabilities.append(point.stability)
    return _build_states(regimes, confidences, severities, stabilities, spec.favored_buckets)


def scripted_regimes(spec: RegimeSpec, sim_dates: Sequence[dt.date]) -> list[str]:
    """Only the regime names of `scripted_timeline` (what drives the generator)."""
    return [s.regime for s in scripted_timeline(spec, sim_dates)]


# --- detected regimes ----------------------------------------------------------------

INFLATION_HEDGE_WORDS: tuple[str, ...] = (
    "commodit",
    "real asset",
    "inflation",
    "energy",
    "gold",
    "precious",
    "metal",
    "tips",
    "resource",
)
"""A bucket whose name contains one of these (case-insensitive) holds inflation hedges."""


@attrs.frozen
class DetectorParams:
    """Parameters of the detected-regime rule (trading days).

    Attributes:
        lookback: window of the growth and inflation proxies.
        short_vol: short volatility window of the fallback inflation proxy.
        persistence: days a new quadrant must hold before the regime switches.
        vol_change_scale: scale of the fallback proxy (vol ratio - 1) for confidence.
    """

    lookback: int = 60
    short_vol: int = 20
    persistence: int = 5
    vol_change_scale: float = 0.25


def inflation_hedge_buckets(buckets: Sequence[str]) -> tuple[str, ...]:
    """The buckets (sorted) whose name suggests inflation hedges."""
    return tuple(
        sorted(b for b in set(buckets) if any(w in b.lower() for w in INFLATION_HEDGE_WORDS))
    )


def quadrant(growth: float, inflation: float) -> str:
    """Regime of a (growth, inflation) proxy pair: up means > 0."""
    if growth > 0:
        return REFLATION if inflation > 0 else GOLDILOCKS
    return INFLATION if inflation > 0 else DEFLATION


def _basket_returns(log_returns: np.ndarray) -> np.ndarray:
    """Equal-weighted daily log return of the columns with a value; 0 when none has."""
    valid = ~np.isnan(log_returns)
    count = valid.sum(axis=1)
    total = np.where(valid, log_returns, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.zeros(len(total)), where=count > 0)


def _trailing(values: np.ndarray, window: int, fn: Callable[..., np.ndarray]) -> np.ndarray:
    """fn over each trailing window ending at row t (NaN where the window is incomplete)."""
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        views = np.lib.stride_tricks.sliding_window_view(values, window)
        out[window - 1 :] = fn(views, axis=-1)
    return out


def detection_proxies(
    market: MarketData, params: DetectorParams | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Growth proxy, inflation proxy and confidence strength for every row of `market`.

    Row t uses closes of rows <= t only. NaN where fewer than `lookback` returns exist.

    Returns:
        (growth, inflation, strength): growth is the trailing `lookback`-day log return
        of the equal-weighted market; inflation is the trailing log return of the
        equal-weighted inflation-hedge buckets minus the market's, or, with no such
        bucket, market volatility over `short_vol` days / over `lookback` days - 1;
        strength is min(|growth z|, |inflation z|), each proxy divided by its own
        trailing standard deviation over the window (the fallback by `vol_change_scale`);
        0 where a scale is 0.
    """
    params = params or DetectorParams()
    closes = market.closes
    n = len(market.dates)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_returns = numerics.log(closes[1:] / closes[:-1])
    # Row 0 has no return; prepend a row of NaN so index t is the return into day t.
    log_returns = np.vstack([np.full((1, closes.shape[1]), np.nan), log_returns])
    mkt = _basket_returns(log_returns)
    mkt[0] = 0.0
    w = params.lookback
    growth = _trailing(mkt, w, np.sum)
    growth_scale = _trailing(mkt, w, np.std) * math.sqrt(w)
    growth[:w] = np.nan  # the window must hold `lookback` real returns (row 0 has none)

    hedge_buckets = inflation_hedge_buckets(list(market.bucket_of.values()))
    hedge_cols = [j for j, t in enumerate(market.tickers) if market.bucket_of[t] in hedge_buckets]
    if hedge_cols:
        hedge = _basket_returns(log_returns[:, hedge_cols])
        has_hedge = ~np.all(np.isnan(log_returns[:, hedge_cols]), axis=1)
        relative = np.where(has_hedge, hedge - mkt, 0.0)
        relative[0] = 0.0
        inflation = _trailing(relative, w, np.sum)
        inflation_scale = _trailing(relative, w, np.std) * math.sqrt(w)
    else:
        short = _trailing(mkt, params.short_vol, np.std)
        long = _trailing(mkt, w, np.std)
        with np.errstate(divide="ignore", invalid="ignore"):
            inflation = np.where(long > 0, short / long - 1.0, 0.0)
        inflation[np.isnan(long)] = np.nan
        inflation_scale = np.full(n, params.vol_change_scale)
    inflation[:w] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        gz = np.where(growth_scale > 0, np.abs(growth) / growth_scale, 0.0)
        iz = np.where(inflation_scale > 0, np.abs(inflation) / inflation_scale, 0.0)
    strength = np.minimum(gz, iz)
    return growth, inflation, strength


def apply_hysteresis(
    raw: Sequence[str | None], persistence: int, initial: str = DEFAULT_REGIME
) -> list[str]:
    """The held regime of each day: it switches to a new raw quadrant only once that
    quadrant has been the raw one `persistence` days in a row (today included).

    Args:
        raw: the raw quadrant of each day (None: proxies incomplete, no evidence; such a
            day also breaks a streak).
        persistence: days in a row needed to switch (1 switches at once).
        initial: the regime held before any evidence.
    """
    if persistence < 1:
        raise ValueError("persistence must be at least 1")
    regime, candidate, streak = initial, None, 0
    out: list[str] = []
    for quad in raw:
        if quad is None or quad == regime:
            candidate, streak = None, 0
        else:
            streak = streak + 1 if quad == candidate else 1
            candidate = quad
            if streak >= persistence:
                regime, candidate, streak = quad, None, 0
        out.append(regime)
    return out


def detected_timeline(
    market: MarketData, spec: RegimeSpec, params: DetectorParams | None = None
) -> tuple[RegimeState, ...]:
    """One state per simulated day, detected from the market path (no look-ahead).

    The raw quadrant of day t comes from `detection_proxies` at row t. The regime starts
    as Goldilocks at the first row with complete proxies (warm-up included) and switches
    to a new quadrant only after it was the raw quadrant `persistence` days in a row.
    Confidence: 0.5 + 0.5 x strength, clipped to [0.5, 1], when the raw quadrant agrees
    with the regime; 0.5 when it does not (or proxies are incomplete). Severity from the
    map (scripted severities do not apply); stability computed.
    """
    params = params or DetectorParams()
    growth, inflation, strength = detection_proxies(market, params)
    complete = ~(np.isnan(growth) | np.isnan(inflation))
    raw = [
        quadrant(float(growth[t]), float(inflation[t])) if complete[t] else None
        for t in range(len(market.dates))
    ]
    held = apply_hysteresis(raw, params.persistence)
    agree = np.array([r is not None and r == h for r, h in zip(raw, held, strict=True)])
    confidence = np.where(agree, np.clip(0.5 + 0.5 * np.nan_to_num(strength), 0.5, 1.0), 0.5)
    regimes = held[market.start_index :]
    confidences = [float(c) for c in confidence[market.start_index :]]
    none: list[None] = [None] * len(regimes)
    return _build_states(regimes, confidences, none, none, spec.favored_buckets)
