"""The protection registry: one row per protection, and everything derived from it.

A row says what a protection is (its class), where it stands (priority), what switches
it (a configuration parameter), what a regime override of each severity lifts, and the
status flags it puts on the holdings snapshot with their labels. The priority table, the
override's lifts, the built-in names, the systems that can decide a proposal and the
flag labels all come from `BUILTIN`; a scenario's custom protections become rows of the
same kind at run time (`custom_row`).

Adding a built-in protection is one new module (the class, its rules and guards) and one
row below.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from domain.config import Config
from domain.messages import SEVERITIES
from domain.protections.base import Protection
from domain.protections.core_asset import CoreAssetProtection
from domain.protections.grace_period import GracePeriodProtection
from domain.protections.holding_period import HoldingPeriodProtection
from domain.protections.whipsaw import WhipsawProtection

if TYPE_CHECKING:
    from domain.stages import Stages

REGIME_OVERRIDE = "regime_override"
"""Not a protection: the orchestrator's lift of other systems' blocks (priority 2)."""
REGIME_OVERRIDE_PRIORITY = 2
ORCHESTRATOR = "orchestrator"
"""Decides a proposal no protection objected to."""

FlagLabel = Callable[[Mapping[str, Any]], str | None]
"""A snapshot flag's label from a holding's flags, or None when the flag is absent."""


@attrs.frozen
class ProtectionRow:
    """One protection in the registry.

    Attributes:
        cls: the protection's class (its `name` is the row's name).
        priority: lower decides first when verdicts conflict.
        switch: the boolean configuration parameter that switches it on and off; None for
            always on. Switched off, its agent stays and abstains (docs/protections.md).
        lifted_at: the regime-change severities whose override lifts its blocks and amends.
        lift_switch: a boolean parameter that must also be on for the lift (None: none).
        flags: the snapshot flags it contributes (keys of `Protection.status`).
        label: the flags' label for the readers (`flag_labels`), or None.
        name: the row's name: the class's `name` unless given (a custom protection's name
            comes from the scenario).
        options: the protection's options (a custom protection's, from the scenario).
    """

    cls: type[Protection]
    priority: int
    switch: str | None = None
    lifted_at: frozenset[str] = frozenset()
    lift_switch: str | None = None
    flags: tuple[str, ...] = ()
    label: FlagLabel | None = None
    name: str = attrs.field(default=attrs.Factory(lambda row: row.cls.name, takes_self=True))
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=MappingProxyType)

    def build(self, config: Config) -> Protection:
        """A protection of this row for a run with `config`."""
        protection = self.cls(config, priority=self.priority, options=dict(self.options))
        protection.name = self.name
        protection.switch = self.switch
        return protection


def _core_label(flags: Mapping[str, Any]) -> str | None:
    if not flags.get("core"):
        return None
    until = flags.get("core_until")
    return f"CORE until {until}" if until else "CORE"


def _grace_label(flags: Mapping[str, Any]) -> str | None:
    k = flags.get("grace_day")
    return None if k is None else f"GRACE day {k}"


def _hold_label(flags: Mapping[str, Any]) -> str | None:
    n = flags.get("days_held")
    return None if n is None else f"HOLD {n} day" + ("" if n == 1 else "s")


def _whipsaw_label(flags: Mapping[str, Any]) -> str | None:
    n = flags.get("whipsaw_cycles")
    return f"WHIPSAW {n} cycles" if n else None


def _by_priority(rows: Iterable[ProtectionRow]) -> tuple[ProtectionRow, ...]:
    return tuple(sorted(rows, key=lambda r: (r.priority, r.name)))


@functools.cache
def _default_stages() -> Stages:
    """The stage rules as stated (`domain.stages.DEFAULT_STAGES`), imported on first use:
    domain.stages imports the construction modules, which import this one (scoring reads
    the scenario, which reads BUILTIN). Cached: a run reads it many times a day."""
    from domain.stages import DEFAULT_STAGES

    return DEFAULT_STAGES


@attrs.frozen
class Registry:
    """The protections of a run, in priority order, and the tables derived from them, and
    the run's stage rules (`stages`: `domain.stages.Stages`, the rules as stated unless
    given; a stage mutant gives a subclass, `domain.stage_mutants`)."""

    rows: tuple[ProtectionRow, ...] = attrs.field(converter=_by_priority)
    _stages: Stages | None = attrs.field(default=None, alias="stages")

    @property
    def stages(self) -> Stages:
        """The run's stage rules."""
        return _default_stages() if self._stages is None else self._stages

    def __attrs_post_init__(self) -> None:
        names = [row.name for row in self.rows]
        if len(set(names)) != len(names):
            raise ValueError(f"protection names must be unique, got {names}")

    @property
    def names(self) -> tuple[str, ...]:
        """Every protection's name, by priority."""
        return tuple(row.name for row in self.rows)

    def row(self, name: str) -> ProtectionRow:
        """The row of protection `name` (KeyError when there is none)."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def with_rows(self, rows: Iterable[ProtectionRow]) -> Registry:
        """This registry plus `rows` (a scenario's custom protections, or a new one)."""
        return attrs.evolve(self, rows=(*self.rows, *rows))

    def without(self, names: Iterable[str]) -> Registry:
        """This registry less the protections `names` (switched off in the scenario)."""
        drop = frozenset(names)
        return attrs.evolve(self, rows=tuple(row for row in self.rows if row.name not in drop))

    @property
    def priorities(self) -> Mapping[str, int]:
        """The priority table: every protection and the regime override, lowest first."""
        table = {row.name: row.priority for row in self.rows}
        table[REGIME_OVERRIDE] = REGIME_OVERRIDE_PRIORITY
        return MappingProxyType(dict(sorted(table.items(), key=lambda kv: (kv[1], kv[0]))))

    @property
    def override_lifts(self) -> Mapping[str, frozenset[str]]:
        """Severity -> the protections a regime override of that severity may lift."""
        return MappingProxyType(
            {s: frozenset(r.name for r in self.rows if s in r.lifted_at) for s in SEVERITIES}
        )

    def lifted_by(self, severity: str, config: Config) -> frozenset[str]:
        """What an override of `severity` lifts under `config` (each row's `lift_switch`
        on); an unknown severity lifts what "normal" lifts."""
        if severity not in SEVERITIES:
            severity = SEVERITIES[0]
        return frozenset(
            r.name
            for r in self.rows
            if severity in r.lifted_at and (r.lift_switch is None or getattr(config, r.lift_switch))
        )

    @property
    def deciding_systems(self) -> tuple[str, ...]:
        """Every system that can decide a proposal: the priority table, then the
        orchestrator."""
        return (*self.priorities, ORCHESTRATOR)

    def flag_labels(self, flags: Mapping[str, Any] | None) -> list[str]:
        """The labels of a holding's snapshot flags, by priority (`CORE until D`, ...)."""
        labels = (row.label(flags or {}) for row in self.rows if row.label is not None)
        return [label for label in labels if label is not None]

    def build(self, config: Config) -> list[Protection]:
        """One protection per row, by priority, for a run with `config`."""
        return [row.build(config) for row in self.rows]


def custom_row(
    name: str, cls: type[Protection], priority: int, options: Mapping[str, Any]
) -> ProtectionRow:
    """The row of a scenario's custom protection: always on, never lifted, no flags."""
    return ProtectionRow(cls=cls, priority=priority, name=name, options=options)


_ALL = frozenset(SEVERITIES)

BUILTIN = Registry(
    (
        ProtectionRow(
            CoreAssetProtection,
            priority=1,
            switch="enable_core_asset_management",
            flags=("core", "core_until"),
            label=_core_label,
        ),
        ProtectionRow(
            GracePeriodProtection,
            priority=3,
            lifted_at=_ALL,
            flags=("grace_day",),
            label=_grace_label,
        ),
        ProtectionRow(
            HoldingPeriodProtection,
            priority=4,
            lifted_at=_ALL,
            flags=("days_held",),
            label=_hold_label,
        ),
        ProtectionRow(
            WhipsawProtection,
            priority=5,
            switch="whipsaw_protection",
            lifted_at=frozenset({"critical"}),
            lift_switch="regime_override_whipsaw_critical",
            flags=("whipsaw_cycles",),
            label=_whipsaw_label,
        ),
    )
)
"""The built-in protections. A regime override never lifts core_asset; "normal" matters
only when `regime_severity_threshold` is normal (it lifts what "high" lifts)."""

CORE_ASSET = CoreAssetProtection.name
GRACE_PERIOD = GracePeriodProtection.name
HOLDING_PERIOD = HoldingPeriodProtection.name
WHIPSAW = WhipsawProtection.name

PRIORITIES: Mapping[str, int] = BUILTIN.priorities
"""The priority table: lower decides first. Custom protections carry their own (>= 6)."""
OVERRIDE_LIFTS: Mapping[str, frozenset[str]] = BUILTIN.override_lifts
"""Severity -> systems a regime override lifts (whipsaw only with
`regime_override_whipsaw_critical`; never core_asset, never a custom protection)."""
DECIDING_SYSTEMS: tuple[str, ...] = BUILTIN.deciding_systems
"""Systems that can decide a proposal besides custom protections (the loader's list)."""


def flag_labels(flags: Mapping[str, Any] | None) -> list[str]:
    """The labels of a holding's protection flags (the `snapshots.flags` JSON):
    `CORE until D`, `GRACE day n`, `HOLD n days`, `WHIPSAW n cycles`."""
    return BUILTIN.flag_labels(flags)
