"""A hypothesis strategy for whole, valid scenario documents (scenario-format.md).

`scenario_documents()` draws a plain mapping (the YAML document before dumping) that the
real loader accepts: 1-5 buckets, 2-12 assets (some only in `market.paths`, bucket
"Unknown"), 15-90 trading days, synthetic market levels, shocks, explicit paths, a
starting book (weights above the cap, `core: true`, recent `entered` dates), scripted
regime timelines, score and trending overrides around the configuration's thresholds,
interventions on trading days, protections switched off, and configuration parameters
from the registry within their ranges. Cross-field rules hold by construction (related
parameters are drawn together); `set` interventions are drawn inside the range the
configuration in force leaves them, and one that would still break a rule is left out.

`to_yaml(document)` (`sim.fuzz.documents`, shared with the fuzz command) dumps it the way
the loader reads it (plain scalars, ISO dates).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from domain.config import PARAMS, PRESETS, Config, ConfigError, Param, resolve
from sim.fuzz.documents import to_yaml as to_yaml  # re-exported: the tests import it here

TICKERS: tuple[str, ...] = tuple(f"{c}{c}{c}" for c in "ABCDEFGHJKLM")
PATH_ONLY: tuple[str, ...] = ("PXA", "PXB")
BUCKET_NAMES: tuple[str, ...] = (
    "Risk Assets",
    "Defensive Assets",
    "Commodities",
    "International",
    "Fixed Income",
)
REGIMES: tuple[str, ...] = ("Goldilocks", "Reflation", "Inflation", "Deflation", "Stagflation")
SEVERITIES: tuple[str, ...] = ("normal", "high", "critical")
SCENARIO_NAME = "property-run"

# Related parameters are drawn together so that every cross-field rule of
# docs/configuration.md holds whichever of them a scenario names (one named -> all named).
JOINT_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "max_total_positions",
        "max_new_positions",
        "max_positions_per_bucket",
        "min_buckets_represented",
        "max_core_assets",
    ),
    (
        "target_total_allocation",
        "max_single_position_size",
        "base_position_size",
        "min_position_size",
    ),
    ("min_score_threshold", "min_score_new_position"),
    ("technical_weight", "fundamental_weight"),
    ("trending_confidence_existing", "trending_confidence_new"),
    ("position_holding_period_min", "position_holding_period_max"),
)

# Sub-ranges where a 15-90 day run shows the parameter's effect; the full registry range
# is drawn as well (one_of), so edges are still covered.
FOCUS: Mapping[str, tuple[float, float]] = {
    "commission": (0.0, 0.005),
    "slippage_bps": (0.0, 30.0),
    "min_trade_weight": (0.0, 0.02),
    "max_negotiation_rounds": (0, 3),
    "position_holding_period_max": (1, 60),
    "high_volatility_threshold": (0.05, 0.6),
    "correlation_window": (5, 80),
    "max_bucket_overrides": (0, 4),
    "volatility_lookback": (2, 40),
    "max_core_assets": (0, 4),
    "core_asset_expiry_days": (1, 60),
    "core_asset_extension_limit": (0, 3),
    "core_asset_underperformance_period": (1, 40),
    "core_asset_performance_check_frequency": (1, 14),
    "grace_period_days": (0, 10),
    "position_holding_period_min": (0, 10),
    "regime_override_cooldown": (0, 40),
    "whipsaw_max_cycles": (1, 3),
    "whipsaw_protection_days": (1, 30),
    "whipsaw_min_duration_hours": (0, 72),
}


# --- configuration ------------------------------------------------------------------------


def param_values(param: Param) -> st.SearchStrategy[Any]:
    """Any value of `param` inside its registry range or choices."""
    if param.type == "bool":
        return st.booleans()
    if param.type == "choice":
        return st.sampled_from(param.choices)
    lo, hi = param.min, param.max
    if param.type == "int":
        full = st.integers(int(lo), int(hi))
        if param.name in FOCUS:
            flo, fhi = FOCUS[param.name]
            return st.one_of(st.integers(int(flo), int(fhi)), full)
        return full
    full = st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)
    if param.name in FOCUS:
        flo, fhi = FOCUS[param.name]
        return st.one_of(st.floats(float(flo), float(fhi)), full)
    return full


def _unit(draw: Any, lo: float = 0.0, hi: float = 1.0) -> float:
    """A float in [lo, hi], often a round two-decimal value."""
    k_lo, k_hi = math.ceil(lo * 100), math.floor(hi * 100)
    values = st.floats(lo, hi)
    if k_lo <= k_hi:
        values = st.one_of(st.integers(k_lo, k_hi).map(lambda k: k / 100), values)
    return min(max(draw(values), lo), hi)


@st.composite
def joint_values(draw: Any) -> dict[str, Any]:
    """One value for every parameter of `JOINT_GROUPS`, satisfying the cross-field rules."""
    total = draw(st.integers(1, 15))
    out: dict[str, Any] = {
        "max_total_positions": total,
        "max_new_positions": draw(st.integers(1, total)),
        "max_positions_per_bucket": draw(st.integers(1, total)),
        "min_buckets_represented": draw(st.integers(1, min(total, 6))),
        "max_core_assets": draw(st.integers(0, min(total, 4))),
    }
    target = _unit(draw, 0.8, 1.0)
    cap = draw(st.one_of(st.floats(0.05, 0.45), st.floats(0.01, target)))
    base = draw(st.floats(0.01, min(cap, 0.5)))
    out.update(
        target_total_allocation=target,
        max_single_position_size=cap,
        base_position_size=base,
        min_position_size=draw(st.floats(0.0, min(base, 0.05))),
    )
    new = _unit(draw, 0.3, 0.9)
    out.update(min_score_new_position=new, min_score_threshold=_unit(draw, 0.0, new))
    technical = _unit(draw)
    out.update(technical_weight=technical, fundamental_weight=1.0 - technical)
    trending_new = _unit(draw)
    out.update(
        trending_confidence_new=trending_new,
        trending_confidence_existing=_unit(draw, 0.0, trending_new),
    )
    hold_min = draw(st.integers(0, 10))
    out.update(
        position_holding_period_min=hold_min,
        position_holding_period_max=draw(st.integers(max(hold_min, 1), 120)),
    )
    return out


def _valid(preset: str | None, overrides: Mapping[str, Any]) -> Any | None:
    try:
        return resolve(preset, dict(overrides)).config
    except ConfigError:
        return None


@st.composite
def configurations(draw: Any) -> tuple[str | None, dict[str, Any]]:
    """(preset or None, `config` overrides) that `domain.config.resolve` accepts."""
    preset = draw(st.one_of(st.none(), st.sampled_from(sorted(PRESETS))))
    names = sorted(PARAMS)
    chosen = draw(st.sets(st.sampled_from(names), max_size=24))
    joint = draw(joint_values())
    overrides: dict[str, Any] = {}
    for name in names:
        if name not in chosen:
            continue
        group = next((g for g in JOINT_GROUPS if name in g), None)
        if group is None:
            overrides[name] = draw(param_values(PARAMS[name]))
        else:
            overrides.update({n: joint[n] for n in group})
    # Only left: strict mode (a clamp to min_buckets_represented >= 2) with one position.
    assume(_valid(preset, overrides) is not None)
    return preset, overrides


def _feasible(name: str, cfg: Config) -> tuple[float, float] | None:
    """The range a `set` of `name` may take given the configuration in force `cfg`."""
    p = PARAMS[name]
    counts = ("max_new_positions", "max_positions_per_bucket", "max_core_assets")
    bounds = {
        "max_total_positions": (
            max(
                cfg.max_new_positions,
                cfg.max_positions_per_bucket,
                cfg.min_buckets_represented,
                cfg.max_core_assets,
            ),
            15,
        ),
        "min_buckets_represented": (1, min(cfg.max_total_positions, 6)),
        "max_single_position_size": (cfg.base_position_size, cfg.target_total_allocation),
        "target_total_allocation": (max(0.8, cfg.max_single_position_size), 1.0),
        "base_position_size": (cfg.min_position_size, min(cfg.max_single_position_size, 0.5)),
        "min_position_size": (0.0, cfg.base_position_size),
        "min_score_threshold": (0.0, cfg.min_score_new_position),
        "min_score_new_position": (cfg.min_score_threshold, 1.0),
        "trending_confidence_existing": (0.0, cfg.trending_confidence_new),
        "trending_confidence_new": (cfg.trending_confidence_existing, 1.0),
        "position_holding_period_min": (0, min(cfg.position_holding_period_max, 10)),
        "position_holding_period_max": (max(cfg.position_holding_period_min, 1), 120),
    }
    bounds.update({c: (p.min, cfg.max_total_positions) for c in counts if c == name})
    if name in bounds:
        lo, hi = bounds[name]
        return (lo, hi) if lo <= hi else None
    return None


def set_value(draw: Any, name: str, cfg: Config) -> Any:
    """A value for a `set` of `name`, inside the range the configuration in force allows."""
    p = PARAMS[name]
    feasible = _feasible(name, cfg)
    if feasible is None:
        return draw(param_values(p))
    lo, hi = feasible
    if p.type == "int":
        return draw(st.integers(int(lo), int(hi)))
    return draw(st.floats(float(lo), float(hi)))


# --- calendar and universe -----------------------------------------------------------------


def trading_days(start: dt.date, count: int) -> list[dt.date]:
    """`count` weekdays from `start` (a weekday)."""
    out, day = [], start
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


@st.composite
def universes(draw: Any) -> tuple[dict[str, list[str]], list[str]]:
    """(buckets, path-only tickers): 1-5 buckets, 2-12 assets in all."""
    n_buckets = draw(st.integers(1, 5))
    names = draw(st.permutations(BUCKET_NAMES))[:n_buckets]
    n_path_only = draw(st.integers(0, 2))
    n_bucketed = draw(st.integers(max(n_buckets, 2 - n_path_only), 12 - n_path_only))
    tickers = list(TICKERS[:n_bucketed])
    buckets: dict[str, list[str]] = {name: [] for name in names}
    for i, ticker in enumerate(tickers):
        # the first n_buckets tickers make every bucket non-empty; the rest go anywhere
        bucket = names[i] if i < n_buckets else draw(st.sampled_from(names))
        buckets[bucket].append(ticker)
    return buckets, list(PATH_ONLY[:n_path_only])


def _levels(draw: Any, lo: float, hi: float, keys: Sequence[str]) -> Any:
    """A number, or a mapping with default / bucket / ticker / by_regime levels."""
    if not draw(st.booleans()):
        return draw(st.floats(lo, hi))
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["default"] = draw(st.floats(lo, hi))
    for key in draw(st.lists(st.sampled_from(list(keys)), max_size=3, unique=True)):
        out[key] = draw(st.floats(lo, hi))
    if draw(st.booleans()):
        regime = draw(st.sampled_from(REGIMES[:4]))
        key = draw(st.sampled_from(list(keys)))
        out["by_regime"] = {regime: {key: draw(st.floats(lo, hi))}}
    return out


@st.composite
def price_paths(draw: Any, days: int) -> list[float]:
    """Explicit closes: flat, a walk, a crash and recovery, or an oscillation."""
    length = draw(st.integers(1, days))
    start = draw(st.sampled_from([10.0, 50.0, 100.0, 250.0]))
    kind = draw(st.sampled_from(["flat", "walk", "crash", "oscillate"]))
    if kind == "flat":
        return [start] * length
    if kind == "walk":
        steps = draw(st.lists(st.floats(-0.08, 0.08), min_size=length, max_size=length))
        out, price = [], start
        for r in steps:
            price = max(price * (1.0 + r), 0.01)
            out.append(round(price, 6))
        return out
    if kind == "crash":
        at = draw(st.integers(0, length - 1))
        depth = draw(st.floats(0.3, 0.95))
        return [start if i < at else round(start * depth, 6) for i in range(length)]
    period = draw(st.integers(2, 8))
    amplitude = draw(st.floats(0.02, 0.4))
    return [
        round(start * (1.0 + amplitude * (1 if (i // period) % 2 == 0 else -1)), 6)
        for i in range(length)
    ]


@st.composite
def markets(
    draw: Any, buckets: Mapping[str, list[str]], path_only: Sequence[str], days: list[dt.date]
) -> dict[str, Any]:
    """The `market` section: levels, correlation, shocks, paths, warm-up."""
    bucketed = [t for ts in buckets.values() for t in ts]
    keys = [*buckets, *bucketed, *path_only]
    within = draw(st.floats(0.0, 0.95))
    out: dict[str, Any] = {
        "drift": _levels(draw, -0.4, 0.6, keys),
        "volatility": _levels(draw, 0.0, 0.8, keys),
        "correlation": {"within_bucket": within, "across_buckets": draw(st.floats(0.0, within))},
        "warmup_days": draw(st.one_of(st.integers(126, 260), st.integers(0, 40))),
    }
    shocks = []
    for _ in range(draw(st.integers(0, 4))):
        shock: dict[str, Any] = {
            "date": draw(st.sampled_from(days)),
            "return": draw(st.floats(-0.35, 0.25)),
        }
        target = draw(st.sampled_from(["bucket", "assets", "all"]))
        if target == "bucket":
            shock["bucket"] = draw(st.sampled_from(list(buckets)))
        elif target == "assets":
            shock["assets"] = draw(
                st.lists(st.sampled_from(keys[len(buckets) :]), min_size=1, max_size=3, unique=True)
            )
        else:
            shock["all"] = True
        if draw(st.booleans()):
            shock["days"] = draw(st.integers(1, 6))
        shocks.append(shock)
    if shocks:
        out["shocks"] = shocks
    with_path = list(path_only) + draw(st.lists(st.sampled_from(bucketed), max_size=2, unique=True))
    if with_path:
        out["paths"] = {t: draw(price_paths(len(days))) for t in with_path}
    return out


# --- regimes, signals, book, interventions -------------------------------------------------


@st.composite
def regime_sections(draw: Any, days: list[dt.date], buckets: Sequence[str]) -> dict[str, Any]:
    """Scripted timelines with several changes (sometimes detected regimes)."""
    if draw(st.integers(0, 9)) == 9:
        return {"source": "detected"}
    count = draw(st.integers(0, 5))
    picks = draw(st.lists(st.sampled_from(days), min_size=count, max_size=count, unique=True))
    timeline, previous = [], "Goldilocks"  # the regime before the first point
    for day in sorted(picks):
        regime = draw(st.sampled_from([r for r in REGIMES if r != previous]))
        point: dict[str, Any] = {"date": day, "regime": regime}
        previous = regime
        if draw(st.booleans()):
            point["severity"] = draw(st.sampled_from(SEVERITIES))
        if draw(st.booleans()):
            point["confidence"] = _unit(draw)
        timeline.append(point)
    out: dict[str, Any] = {"timeline": timeline} if timeline else {}
    if draw(st.integers(0, 3)) == 3:
        named = sorted({*REGIMES[:4], *(p["regime"] for p in timeline)})
        regime = draw(st.sampled_from(named))
        out["favored_buckets"] = {
            regime: draw(
                st.lists(st.sampled_from(list(buckets)), min_size=1, max_size=2, unique=True)
            )
        }
    return out


def _thresholds(cfg: Config) -> list[float]:
    """Score values at and around the thresholds of the configuration in force."""
    marks = (
        cfg.min_score_threshold,
        cfg.min_score_new_position,
        cfg.bucket_override_threshold,
        cfg.core_asset_override_threshold,
    )
    near = [m + d for m in marks for d in (-1e-6, 0.0, 1e-6)]
    return sorted({min(max(v, 0.0), 1.0) for v in [*near, 0.0, 0.2, 0.5, 0.95, 0.97, 1.0]})


@st.composite
def signal_sections(
    draw: Any,
    days: list[dt.date],
    buckets: Mapping[str, list[str]],
    assets: Sequence[str],
    cfg: Config,
) -> dict[str, Any]:
    """Score and trending overrides: thresholds, >= 0.95 overrides, in-out-in patterns
    (high, low, high) that drive grace, closes and whipsaw re-entries, crowded buckets."""
    values = st.one_of(st.sampled_from(_thresholds(cfg)), st.floats(0.0, 1.0))
    scores, trending = [], []
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(days) - 1))
        item: dict[str, Any] = {"asset": draw(st.sampled_from(assets)), "from": days[i]}
        if draw(st.booleans()):
            item["to"] = days[draw(st.integers(i, len(days) - 1))]
        item["value"] = draw(values)
        scores.append(item)
    for _ in range(draw(st.integers(0, 2))):
        asset = draw(st.sampled_from(assets))
        i = draw(st.integers(0, len(days) - 3))
        a, b = sorted(draw(st.lists(st.integers(i + 1, len(days) - 1), min_size=2, max_size=2)))
        low = draw(st.sampled_from([0.0, 0.1, max(cfg.min_score_threshold - 1e-6, 0.0)]))
        scores += [
            {"asset": asset, "from": days[i], "to": days[a - 1], "value": 0.97},
            {"asset": asset, "from": days[a], "to": days[max(a, b - 1)], "value": low},
            {"asset": asset, "from": days[b], "value": 0.97},
        ]
        trending.append({"asset": asset, "from": days[i], "value": 0.9})
    if draw(st.booleans()):
        # a crowded bucket: every member scores >= 0.95 and trends, so slots run out and
        # smart overrides (and their core requests) happen
        crowd = buckets[draw(st.sampled_from(sorted(buckets)))]
        day = draw(st.sampled_from(days))
        value = draw(st.sampled_from([0.95, 0.97, 0.99, 1.0]))
        scores += [{"asset": t, "from": day, "value": value} for t in crowd]
        trending += [{"asset": t, "from": day, "value": 0.95} for t in crowd]
    for _ in range(draw(st.integers(0, 2))):
        item = {"asset": draw(st.sampled_from(assets)), "from": draw(st.sampled_from(days))}
        item["value"] = draw(
            st.one_of(st.sampled_from([0.0, cfg.trending_confidence_new, 1.0]), st.floats(0, 1))
        )
        trending.append(item)
    out: dict[str, Any] = {}
    if scores:
        out["scores"] = scores
    if trending:
        out["trending"] = trending
    return out


@st.composite
def portfolios(draw: Any, start: dt.date, assets: Sequence[str], cap: float) -> dict[str, Any]:
    """A starting book: weights summing to at most 1 (some above the cap), `core: true`
    holdings, `entered` dates inside and outside the holding period."""
    held = draw(st.lists(st.sampled_from(assets), max_size=min(6, len(assets)), unique=True))
    weights = [
        draw(st.one_of(st.floats(0.01, max(cap, 0.011)), st.floats(cap, min(cap * 2.5, 1.0))))
        for _ in held
    ]
    total = sum(weights)
    scale = min(1.0, draw(st.floats(0.5, 0.999)) / total) if total > 0 else 1.0
    out: dict[str, Any] = {}
    for asset, weight in zip(held, weights, strict=True):
        holding: dict[str, Any] = {"weight": max(weight * scale, 1e-4)}
        if draw(st.booleans()):
            ago = draw(st.one_of(st.integers(0, 10), st.integers(0, 400)))
            holding["entered"] = start - dt.timedelta(days=ago)
        if draw(st.booleans()):
            holding["core"] = True
        out[asset] = holding
    assume(sum(h["weight"] for h in out.values()) <= 1.0)
    return out


CORE_ACTIONS: tuple[str, ...] = ("mark_core", "extend_core", "revoke_core")


@st.composite
def intervention_lists(
    draw: Any,
    days: list[dt.date],
    assets: Sequence[str],
    preset: str | None,
    overrides: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Core controls and `set`s on trading days, in date order; every `set` is drawn
    inside the range left by the configuration in force, and one that still breaks a
    rule is left out."""
    current = dict(overrides)
    out = []
    for day in sorted(draw(st.lists(st.sampled_from(days), max_size=5))):
        action = draw(st.sampled_from((*CORE_ACTIONS, "set", "set")))
        item: dict[str, Any] = {"date": day, "action": action}
        if action == "set":
            name = draw(st.sampled_from(sorted(PARAMS)))
            value = set_value(draw, name, resolve(preset, current).config)
            if _valid(preset, {**current, name: value}) is None:
                continue
            current[name] = value
            item.update(param=name, value=value)
        else:
            item["asset"] = draw(st.sampled_from(assets))
            if action == "extend_core":
                item["days"] = draw(st.integers(1, 60))
            if draw(st.booleans()):
                item["reason"] = "desk call"
        out.append(item)
    return out


# --- the document --------------------------------------------------------------------------


@st.composite
def scenario_documents(draw: Any) -> dict[str, Any]:
    """A whole valid scenario document (a mapping ready for `to_yaml`)."""
    offset = draw(st.integers(0, 1500))
    start = dt.date(2020, 1, 6) + dt.timedelta(days=offset)
    if start.weekday() >= 5:
        start += dt.timedelta(days=7 - start.weekday())  # a weekend moves to Monday
    days = trading_days(start, draw(st.integers(15, 90)))
    preset, overrides = draw(configurations())
    cfg = resolve(preset, overrides).config
    buckets, path_only = draw(universes())
    assets = [t for ts in buckets.values() for t in ts] + path_only
    doc: dict[str, Any] = {
        "name": SCENARIO_NAME,
        "seed": draw(st.integers(0, 2**16)),
        "calendar": {"start": start, "days": len(days)},
        "cash": draw(st.sampled_from([10_000, 1_000_000, 25_000_000])),
    }
    if preset is not None:
        doc["preset"] = preset
    if overrides:
        doc["config"] = overrides
    doc["buckets"] = buckets
    if draw(st.booleans()):
        doc["assets"] = {
            t: {"fundamental": _unit(draw)}
            for t in draw(st.lists(st.sampled_from(assets), max_size=4, unique=True))
        }
    doc["market"] = draw(markets(buckets, path_only, days))
    doc["regimes"] = draw(regime_sections(days, list(buckets)))
    signals = draw(signal_sections(days, buckets, assets, cfg))
    if signals:
        doc["signals"] = signals
    book = draw(portfolios(start, assets, cfg.max_single_position_size))
    if book:
        doc["portfolio"] = book
    interventions = draw(intervention_lists(days, assets, preset, overrides))
    if interventions:
        doc["interventions"] = interventions
    off = draw(
        st.sets(st.sampled_from(("core_asset", "grace_period", "holding_period", "whipsaw")))
    )
    if off and draw(st.integers(0, 2)) == 2:
        doc["protections"] = {name: {"enabled": False} for name in sorted(off)}
    return doc
