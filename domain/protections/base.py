"""The protection interface: every built-in and user-written protection implements it.

A protection is a small guard in the spirit of a risk engine check: it reviews one
proposal at a time and answers with a verdict (approve, block, amend, grant or
abstain) and a readable reason. It keeps its own state, which it updates from the
messages it observes (fills, decisions, notices, regime updates), and it may
originate messages of its own in daily housekeeping (notices, and proposals such as
grace-period decay). Nothing here knows the bus or Mesa: the agent that wraps a
protection feeds it messages and publishes what it returns.

Writing your own:

    from domain.protections.base import Protection, ReviewContext
    from domain.messages import ProposeTrade, ProposalReviewed, BLOCK, APPROVE

    class NoTradesOnFridays(Protection):
        name = "no_fridays"

        def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
            if ctx.date.weekday() == 4:
                return self.verdict(proposal, BLOCK, "no trading on Fridays")
            return self.verdict(proposal, APPROVE, "not a Friday")

and name it in a scenario: `protections.custom: [{name: no_fridays, class:
"my_rules:NoTradesOnFridays", priority: 6, options: {}}]`. The options mapping is
available as `self.options`; the configuration as `self.config`.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from domain.config import Config
from domain.messages import Message, ProposalReviewed, ProposeTrade, RegimeUpdated
from domain.rules import Rule

if TYPE_CHECKING:
    from domain.protections.mutants import Mutant


class PriceView(Protocol):
    """Read-only prices up to the current day (no look-ahead)."""

    def price(self, asset: str, day: dt.date) -> float | None:
        """Last close of `asset` on or before `day`, or None when there is none."""

    def bucket_assets(self, bucket: str) -> tuple[str, ...]:
        """Every asset of `bucket` in the market."""


@attrs.frozen
class PositionView:
    """One holding as the protections see it: its weight and the book's entry date
    (before today's trades in the contexts, after them in `Protection.status`)."""

    asset: str
    weight: float
    entered: dt.date | None


@attrs.frozen
class StartingHolding:
    """A scenario's starting position, given to `Protection.start`."""

    asset: str
    weight: float
    entered: dt.date
    core: bool = False


@attrs.frozen
class DayContext:
    """What a protection may read in daily housekeeping."""

    step: int
    date: dt.date
    regime: RegimeUpdated
    scores: Mapping[str, float]
    holdings: Mapping[str, PositionView]
    bucket_of: Mapping[str, str]
    prices: PriceView


@attrs.frozen
class ReviewContext:
    """What a protection may read when reviewing one proposal."""

    step: int
    date: dt.date
    round: int
    regime: RegimeUpdated
    position: PositionView | None
    bucket_of: Mapping[str, str]


class Protection(abc.ABC):
    """Base class of every protection.

    Args:
        config: the run's configuration (attribute access by registry name).
        priority: lower decides first when verdicts conflict (core_asset is 1); the
            protection registry (`domain.protections.registry`) gives it.
        options: protection-specific options from the scenario.

    Attributes:
        name: the protection's name on the bus and in verdicts.
        rules: the rules it applies (`domain.rules.Rule`), for the rule catalogue.
        mutants: deliberately broken variants of its rules for `run.py mutate`
            (`domain.protections.mutants.Mutant`, `protection` left None); the built-ins'
            are in `domain.protections.mutants.BUILTIN_MUTANTS`.
        switch: the configuration parameter that switches it on and off (set from its
            registry row; None: always on). Switched off, its agent stays and abstains.
        observes: the message kinds its `observe` reads (None: every kind). Only the
            class that defines `observe` can narrow it: a subclass with an `observe` of its
            own and no `observes` of its own sees every kind.
    """

    name: str = "protection"
    rules: tuple[Rule, ...] = ()
    mutants: tuple[Mutant, ...] = ()
    switch: str | None = None
    observes: frozenset[str] | None = None

    def __init__(self, config: Config, *, priority: int, options: Mapping[str, Any] | None = None):
        self.config = config
        self.priority = priority
        self.options: Mapping[str, Any] = dict(options or {})

    def reconfigure(self, config: Config) -> None:
        """Take a new configuration (a scenario intervention changed a parameter)."""
        self.config = config

    def switched_on(self) -> bool:
        """Whether the protection takes part under the configuration in force: its
        `switch` parameter is true, or it has none. The one place a switch is read."""
        return self.switch is None or bool(getattr(self.config, self.switch))

    def switched_off(self, day: dt.date) -> list[Message]:
        """What to publish on the day the switch goes off (then it is silent). None by
        default; core_asset revokes every core asset."""
        return []

    def start(self, day: dt.date, holdings: Mapping[str, StartingHolding]) -> list[Message]:
        """Learn the starting book on the first day. Returns messages to publish."""
        return []

    def observe(self, message: Message, day: dt.date) -> None:  # noqa: B027 - optional hook
        """Update own state from a message seen on the bus (fills, decisions, notices...)."""

    def housekeep(self, ctx: DayContext) -> list[Message]:
        """Daily upkeep (expiries, decay, checks). Returns notices and proposals to publish."""
        return []

    @abc.abstractmethod
    def review(self, proposal: ProposeTrade, ctx: ReviewContext) -> ProposalReviewed:
        """Give one verdict on one proposal."""

    def after_review(
        self, verdict: ProposalReviewed, proposal: ProposeTrade, ctx: ReviewContext
    ) -> list[Message]:
        """Messages to publish after a verdict (e.g. a whipsaw_blocked notice). None by default."""
        return []

    def status(
        self, asset: str, day: dt.date, position: PositionView | None = None
    ) -> Mapping[str, Any]:
        """Flags for the holdings snapshot (e.g. {"core": True}). Empty when nothing to say.

        `position` is the holding after the day's trades (its weight and entry date).
        """
        return {}

    def verdict(
        self,
        proposal: ProposeTrade,
        stance: str,
        reason: str,
        amended_weight: float | None = None,
        *,
        rule: str | None = None,
    ) -> ProposalReviewed:
        """Build this protection's verdict on `proposal`; `rule` is the id of the rule that
        decided it (None for an abstain)."""
        # positional, in field order: proposal_id, asset, system, stance, priority, reason,
        # amended_weight, rule (one verdict per protection and proposal: a hot path)
        return ProposalReviewed(
            proposal.proposal_id,
            proposal.asset,
            self.name,
            stance,
            self.priority,
            reason,
            amended_weight,
            rule,
        )
