"""Messages between agents: frozen attrs classes, never mutated.

Commands are imperative (ProposeTrade, RequestReview, RequestReplan,
RequestCoreDesignation); events are past tense (RegimeUpdated, ScoresPublished,
ProposalReviewed, TradeDecided, TradeFilled, NoticeIssued, InterventionApplied).

Each class names its `KIND` (the `messages.kind` column of the event DB). The bus wraps
a message in an envelope (id, step, date, round, sender, recipient, in_reply_to);
nothing here knows the bus. `payload()` gives the JSON column: every field except
`asset` and `proposal_id`, which have columns of their own.
"""

from __future__ import annotations

import operator
import typing
from collections import abc
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import attrs
import cattrs

from domain.payloads import payload_of

# Verdict stances
APPROVE = "approve"
BLOCK = "block"
AMEND = "amend"
GRANT = "grant"
ABSTAIN = "abstain"
STANCES: tuple[str, ...] = (APPROVE, BLOCK, AMEND, GRANT, ABSTAIN)
DECISIVE_STANCES: frozenset[str] = frozenset({BLOCK, AMEND, GRANT})

# Decision outcomes
APPROVED = "approved"
BLOCKED = "blocked"
AMENDED = "amended"

# Trade actions
OPEN = "open"
CLOSE = "close"
INCREASE = "increase"
REDUCE = "reduce"
EXITS: frozenset[str] = frozenset({CLOSE, REDUCE})
ENTRIES: frozenset[str] = frozenset({OPEN, INCREASE})

# Regime-change severities (RegimeUpdated.severity), lowest first
SEVERITIES: tuple[str, ...] = ("normal", "high", "critical")


def _ro(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


class RecordShape(NamedTuple):
    """How a message class becomes a `messages` row, derived from its fields once.

    Attributes:
        wire: (kind, index of `asset` or -1, index of `proposal_id` or -1, the payload's
            (index, name) pairs), plain values only, for the writer process.
        read: every field's value, in field order, as a tuple.
        mapped: the indexes of the mapping fields (read-only mappings, `_ro`).
    """

    wire: tuple[str, int, int, tuple[tuple[int, str], ...]]
    read: Callable[[Message], tuple[Any, ...]]
    mapped: tuple[int, ...]


_SHAPES: dict[type, RecordShape] = {}


def record_shape(cls: type[Message]) -> RecordShape:
    """`cls`'s `RecordShape` (built on first use)."""
    shape = _SHAPES.get(cls)
    if shape is None:
        fields_ = attrs.fields(cls)
        names = tuple(f.name for f in fields_)
        mapped = tuple(i for i, f in enumerate(fields_) if f.converter is _ro)
        fields = tuple((i, n) for i, n in enumerate(names) if n not in ("asset", "proposal_id"))
        where = {n: i for i, n in enumerate(names)}
        wire = (cls.KIND, where.get("asset", -1), where.get("proposal_id", -1), fields)
        getter = operator.attrgetter(*names)
        read = getter if len(names) > 1 else lambda message: (getter(message),)
        shape = _SHAPES[cls] = RecordShape(wire, read, mapped)
    return shape


@attrs.frozen
class Message:
    """Base of every message. Subclasses set KIND and their fields."""

    KIND: ClassVar[str] = "message"

    @property
    def kind(self) -> str:
        return self.KIND

    def payload(self) -> dict[str, Any]:
        """The JSON-ready payload: all fields but `asset` and `proposal_id`."""
        shape = record_shape(type(self))
        return payload_of(shape.wire[3], shape.read(self))

    @property
    def asset_ref(self) -> str | None:
        return getattr(self, "asset", None)

    @property
    def proposal_ref(self) -> str | None:
        return getattr(self, "proposal_id", None)


@attrs.frozen
class RegimeUpdated(Message):
    """The regime provider's daily publication."""

    KIND: ClassVar[str] = "regime_update"
    regime: str
    previous: str | None
    changed: bool
    severity: str
    confidence: float
    stability: float
    favored_buckets: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    rules: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """The regime rules behind the update: `regime.severity` on a change (it carries the
    change's severity), `regime.favored_buckets` when it names favoured buckets."""


@attrs.frozen
class ScoresPublished(Message):
    """Today's scores of the current holdings (and any other asset worth watching)."""

    KIND: ClassVar[str] = "score_update"
    scores: Mapping[str, float] = attrs.field(factory=dict, converter=_ro)
    rule: str | None = None
    """`scoring.score` when some published score came from the score formula (None when
    every one is a scenario's scripted score)."""


@attrs.frozen
class ProposeTrade(Message):
    """A proposed change of one asset's target weight."""

    KIND: ClassVar[str] = "proposal"
    proposal_id: str
    asset: str
    action: str
    from_weight: float
    to_weight: float
    score: float | None
    reason: str
    origin: str
    components: Mapping[str, Any] = attrs.field(factory=dict, converter=_ro)


@attrs.frozen
class RequestReview(Message):
    KIND: ClassVar[str] = "review_request"
    proposal_id: str
    asset: str


@attrs.frozen
class ProposalReviewed(Message):
    """One protection's verdict on one proposal."""

    KIND: ClassVar[str] = "verdict"
    proposal_id: str
    asset: str
    system: str
    stance: str
    priority: int
    reason: str
    amended_weight: float | None = None
    rule: str | None = None
    """The id of the rule that decided the verdict (`domain.rules`); None for an abstain."""


@attrs.frozen
class TradeDecided(Message):
    """The orchestrator's one decision on one proposal."""

    KIND: ClassVar[str] = "decision"
    proposal_id: str
    asset: str
    action: str
    outcome: str
    from_weight: float
    final_weight: float
    decided_by: str
    overridden: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    reason: str = ""
    rule: str | None = None
    """The deciding rule: the deciding verdict's, or `resolution.priority` (nothing
    objected) or `resolution.regime_override` (the override lifted the objections)."""
    rules: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """Other rules that shaped the decision: `resolution.override_cooldown` when the
    cooldown kept a regime override from lifting an objection."""


@attrs.frozen
class RequestReplan(Message):
    """The orchestrator asks the portfolio manager to re-plan around locked assets."""

    KIND: ClassVar[str] = "replan_request"
    round: int
    locked: Mapping[str, float] = attrs.field(factory=dict, converter=_ro)
    freed_slots: int = 0
    freed_weight: float = 0.0
    blocked: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    rule: str | None = None
    """`resolution.replan`, the rule that asks for the re-plan."""


@attrs.frozen
class TradeFilled(Message):
    KIND: ClassVar[str] = "fill"
    proposal_id: str
    asset: str
    side: str
    quantity: float
    price: float
    notional: float
    commission: float
    weight_after: float
    requested_quantity: float
    scale: float = 1.0
    rules: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """The execution rules that shaped the fill (`domain.execution.Fill.rules`)."""

    @property
    def closes_position(self) -> bool:
        """A sell that left nothing of the asset (weights below 1e-12 count as nothing)."""
        return self.side == "sell" and self.weight_after <= 1e-12


@attrs.frozen
class NoticeIssued(Message):
    """Something a protection or the broker wants on the record (core_designated, ...)."""

    KIND: ClassVar[str] = "notice"
    event: str
    asset: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=_ro)
    rule: str | None = None
    """The id of the rule that issued the notice (`domain.rules`)."""
    rules: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """Other rules behind what the notice reports (a rebalance notice: the rules that
    changed the day's position limits)."""


@attrs.frozen
class RequestCoreDesignation(Message):
    """Ask the core_asset protection to designate an asset (bucket override, or manual)."""

    KIND: ClassVar[str] = "core_request"
    asset: str
    score: float | None
    reason: str
    rule: str | None = None
    """`construction.override_core_request` for a bucket override's request."""


@attrs.frozen
class InterventionApplied(Message):
    """A scenario's manual action, as it was applied."""

    KIND: ClassVar[str] = "intervention"
    action: str
    asset: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=_ro)


# --- reading recorded messages back --------------------------------------------------

MESSAGE_TYPES: Mapping[str, type[Message]] = MappingProxyType(
    {
        cls.KIND: cls
        for cls in (
            RegimeUpdated,
            ScoresPublished,
            ProposeTrade,
            RequestReview,
            ProposalReviewed,
            TradeDecided,
            RequestReplan,
            TradeFilled,
            NoticeIssued,
            RequestCoreDesignation,
            InterventionApplied,
        )
    }
)


def _converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_structure_hook_func(
        lambda t: typing.get_origin(t) is abc.Mapping, lambda value, _: _ro(value)
    )
    return conv


_CONVERTER = _converter()


def message_from_record(
    kind: str, asset: str | None, proposal_id: str | None, payload: Mapping[str, Any]
) -> Message:
    """Structure a recorded message (kind, asset, proposal_id, payload JSON) back into its
    frozen class. Unknown payload keys are ignored; a missing field raises.

    Raises:
        KeyError: `kind` is not a message kind.
    """
    cls = MESSAGE_TYPES[kind]
    data = dict(payload)
    names = {f.name for f in attrs.fields(cls)}
    if "asset" in names:
        data["asset"] = asset
    if "proposal_id" in names:
        data["proposal_id"] = proposal_id
    return _CONVERTER.structure({k: v for k, v in data.items() if k in names}, cls)
