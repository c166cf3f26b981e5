"""The scenario as typed, immutable value objects.

`sim.load.document.load_scenario` reads a YAML file, checks it and structures it into
these classes. Everything downstream (market generator, regime timeline, model,
expectations) reads only these objects, never raw YAML.

Percentages are fractions. Dates are `datetime.date`. Collections are tuples or
read-only mappings so a loaded scenario cannot be changed by accident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

from domain.buckets import UNKNOWN_BUCKET as UNKNOWN_BUCKET  # re-exported for the loader
from domain.messages import SEVERITIES as SEVERITIES  # re-exported for the loader
from domain.protections.registry import BUILTIN

DEFAULT_REGIMES: tuple[str, ...] = ("Goldilocks", "Reflation", "Inflation", "Deflation")
ACTIONS: tuple[str, ...] = ("open", "close", "increase", "reduce")
OUTCOMES: tuple[str, ...] = ("approved", "blocked", "amended")
BUILTIN_PROTECTIONS: tuple[str, ...] = BUILTIN.names
"""The built-in protections (from the protection registry), each switchable in a scenario."""
INTERVENTION_ACTIONS: tuple[str, ...] = ("extend_core", "revoke_core", "mark_core", "set")


def frozen_mapping(value: Mapping[Any, Any] | None) -> Mapping[Any, Any]:
    """Return a read-only copy of `value` (an empty mapping for None)."""
    return MappingProxyType(dict(value or {}))


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


@attrs.frozen
class Calendar:
    """Which trading days (Mon-Fri) the run covers: `days` from `start`, or up to `end`."""

    start: dt.date
    days: int | None = None
    end: dt.date | None = None


@attrs.frozen
class AssetSpec:
    """Per-asset attributes. `fundamental` is in [0, 1]; None means technical-only scoring."""

    fundamental: float | None = None
    start_price: float = 100.0


@attrs.frozen
class LevelSpec:
    """An annualised drift or volatility: a default, per-bucket or per-asset values, and
    per-regime replacements (`by_regime[regime][bucket or asset]`).

    Resolution order for an asset on a day in regime R: by_regime[R][asset],
    by_regime[R][bucket], by_key[asset], by_key[bucket], default.
    """

    default: float
    by_key: Mapping[str, float] = attrs.field(factory=dict, converter=frozen_mapping)
    by_regime: Mapping[str, Mapping[str, float]] = attrs.field(
        factory=dict,
        converter=lambda m: frozen_mapping({k: frozen_mapping(v) for k, v in (m or {}).items()}),
    )


@attrs.frozen
class CorrelationSpec:
    """Target correlation of daily returns within a bucket and across buckets."""

    within_bucket: float = 0.6
    across_buckets: float = 0.2


@attrs.frozen
class Shock:
    """A return applied on top of the path from `date`, spread over `days` trading days
    (compounded so that the total over the days equals `return_`).

    Exactly one target: `assets`, `bucket` or `all`.
    """

    date: dt.date
    return_: float
    days: int = 1
    assets: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    bucket: str | None = None
    all: bool = False


@attrs.frozen
class MarketSpec:
    """Where prices come from and how the synthetic generator shapes them."""

    source: Literal["synthetic", "csv"] = "synthetic"
    csv: str | None = None
    drift: LevelSpec = attrs.field(factory=lambda: LevelSpec(default=0.06))
    volatility: LevelSpec = attrs.field(factory=lambda: LevelSpec(default=0.20))
    correlation: CorrelationSpec = attrs.field(factory=CorrelationSpec)
    shocks: tuple[Shock, ...] = attrs.field(default=(), converter=_tuple)
    paths: Mapping[str, tuple[float, ...]] = attrs.field(
        factory=dict,
        converter=lambda m: frozen_mapping({k: tuple(v) for k, v in (m or {}).items()}),
    )
    warmup_days: int = 252


@attrs.frozen
class RegimePoint:
    """A scripted regime from `date` on. `severity` None means: from the severity map."""

    date: dt.date
    regime: str
    confidence: float = 1.0
    severity: str | None = None
    stability: float | None = None


@attrs.frozen
class RegimeSpec:
    source: Literal["scripted", "detected"] = "scripted"
    timeline: tuple[RegimePoint, ...] = attrs.field(default=(), converter=_tuple)
    favored_buckets: Mapping[str, tuple[str, ...]] | None = attrs.field(
        default=None,
        converter=lambda m: (
            None if m is None else frozen_mapping({k: tuple(v) for k, v in m.items()})
        ),
    )


@attrs.frozen
class SignalOverride:
    """A scripted score or trending confidence for `asset` from `from_` to `to` (inclusive;
    `to` None means to the end of the run)."""

    asset: str
    from_: dt.date
    value: float
    to: dt.date | None = None


@attrs.frozen
class Signals:
    scores: tuple[SignalOverride, ...] = attrs.field(default=(), converter=_tuple)
    trending: tuple[SignalOverride, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class Holding:
    """A starting position: a fraction of starting cash. `entered` None means calendar.start."""

    weight: float
    entered: dt.date | None = None
    core: bool = False


@attrs.frozen
class Intervention:
    """A manual portfolio-manager control applied at the start of `date`."""

    date: dt.date
    action: Literal["extend_core", "revoke_core", "mark_core", "set"]
    asset: str | None = None
    days: int | None = None
    reason: str = "manual intervention"
    param: str | None = None
    value: Any = None


@attrs.frozen
class CustomProtection:
    """A user protection loaded by import path `module.path:ClassName`."""

    name: str
    class_path: str
    priority: int = 6
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    enabled: bool = True


@attrs.frozen
class Protections:
    """Which built-in protections run (all by default) and the custom ones."""

    enabled: Mapping[str, bool] = attrs.field(
        factory=lambda: {name: True for name in BUILTIN_PROTECTIONS}, converter=frozen_mapping
    )
    custom: tuple[CustomProtection, ...] = attrs.field(default=(), converter=_tuple)

    def is_enabled(self, name: str) -> bool:
        return bool(self.enabled.get(name, True))


# --- expectations (checked after the run) -------------------------------------------


@attrs.frozen
class Window:
    """An inclusive date window; either end may be open."""

    start: dt.date | None = None
    end: dt.date | None = None


@attrs.frozen
class ExpectNever:
    """No approved (or amended) decision with this action on this asset in the window."""

    action: str
    asset: str  # "*" for any asset
    between: Window = attrs.field(factory=Window)
    line: int | None = None


@attrs.frozen
class ExpectNotice:
    event: str
    asset: str | None = None
    between: Window = attrs.field(factory=Window)
    min: int | None = 1
    max: int | None = None
    line: int | None = None


@attrs.frozen
class ExpectDecision:
    action: str | None = None
    asset: str | None = None
    outcome: str | None = None
    decided_by: str | None = None
    between: Window = attrs.field(factory=Window)
    min: int | None = 1
    max: int | None = None
    line: int | None = None


@attrs.frozen
class ExpectFinal:
    holdings_include: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    holdings_exclude: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    equity_min: float | None = None
    equity_max: float | None = None
    line: int | None = None


@attrs.frozen
class ExpectMetric:
    name: str
    min: float | None = None
    max: float | None = None
    line: int | None = None


@attrs.frozen
class ExpectSql:
    label: str
    query: str
    line: int | None = None


Expectation = ExpectNever | ExpectNotice | ExpectDecision | ExpectFinal | ExpectMetric | ExpectSql


@attrs.frozen
class Scenario:
    """One loaded, checked scenario. `path` and `sha256` say what file it came from."""

    name: str
    calendar: Calendar
    description: str = ""
    seed: int = 0
    cash: float = 1_000_000.0
    preset: str | None = None
    config: Mapping[str, Any] = attrs.field(factory=dict, converter=frozen_mapping)
    buckets: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=dict,
        converter=lambda m: frozen_mapping({k: tuple(v) for k, v in (m or {}).items()}),
    )
    assets: Mapping[str, AssetSpec] = attrs.field(factory=dict, converter=frozen_mapping)
    market: MarketSpec = attrs.field(factory=MarketSpec)
    regimes: RegimeSpec = attrs.field(factory=RegimeSpec)
    signals: Signals = attrs.field(factory=Signals)
    scoring_model: str | None = None
    """`scoring.model`: ``momentum`` or ``module:function``; None: the default blend."""
    portfolio: Mapping[str, Holding] = attrs.field(factory=dict, converter=frozen_mapping)
    interventions: tuple[Intervention, ...] = attrs.field(default=(), converter=_tuple)
    protections: Protections = attrs.field(factory=Protections)
    expect: tuple[Expectation, ...] = attrs.field(default=(), converter=_tuple)
    requires: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    path: str | None = None
    sha256: str | None = None

    def bucket_of(self) -> dict[str, str]:
        """Map each ticker named in `buckets` to its bucket (first bucket wins)."""
        out: dict[str, str] = {}
        for bucket, tickers in self.buckets.items():
            for ticker in tickers:
                out.setdefault(ticker, bucket)
        return out
