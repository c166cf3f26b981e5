"""What an agent may see of the world: a small read-only view, and a port to the bus.

Agents talk through messages. Besides its inbox an agent reads the environment through
`WorldView` only, as a trader reads a screen: today's date and step, the negotiation
round, the configuration in force, the market up to today, the book as it stood at the
start of the day, today's scenario interventions and the starting holdings. Nothing in
the view can be written: the regime, the day's scores, a decision or a fill reach the
others as messages, and the one change an agent can cause in the environment, a `set`
intervention, takes effect when its `InterventionApplied` message is published.

The simulation's model (`sim.run.model.BulwarkModel`) implements `WorldView` and its bus
`BusPort`; agents import neither `sim` nor the model, so an agent runs over any Mesa
model that implements the view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from domain.config import Config
from domain.envelope import BROADCAST, Envelope
from domain.market import MarketData
from domain.messages import Message
from domain.protections.base import PositionView, StartingHolding
from domain.protections.registry import Registry
from domain.scenario import Intervention


class BusPort(Protocol):
    """The agents' side of the message bus: an inbox per name, publishing, observing."""

    def subscribe(self, name: str) -> None:
        """Give agent `name` an inbox."""

    def observe(
        self, callback: Callable[[Envelope], None], kinds: frozenset[str] | None = None
    ) -> None:
        """Call `callback` with every envelope (of one of `kinds`, when given) as it is
        published."""

    def publish(
        self,
        sender: str,
        message: Message,
        *,
        to: str = BROADCAST,
        in_reply_to: int | None = None,
    ) -> Envelope:
        """Stamp and deliver `message` from `sender`; returns its envelope."""

    def take(self, name: str, kind: str | None = None) -> list[Envelope]:
        """Remove and return `name`'s inbox messages (of `kind`, when given), in order."""


class WorldView(Protocol):
    """The read-only world of one simulated day, as every agent sees it.

    Attributes:
        bus: the port to publish on and read the inbox from.
        steps_done: the steps finished before today, so today's index (0 on the first
            simulated day).
        date: the day.
        round: the negotiation round under way (0 before and outside negotiation).
        config: the configuration in force today.
        registry: the run's protection registry (priorities, override lifts, switches).
        market: closes of every asset, warm-up included; row `t` is today, and no
            agent reads a row after it (`market.window(t, n)` is the last n rows).
        t: today's row in `market`.
        starting_holdings: the scenario's starting book (entry dates filled in).
    """

    @property
    def bus(self) -> BusPort: ...

    @property
    def steps_done(self) -> int: ...

    @property
    def date(self) -> dt.date: ...

    @property
    def round(self) -> int: ...

    @property
    def config(self) -> Config: ...

    @property
    def registry(self) -> Registry: ...

    @property
    def market(self) -> MarketData: ...

    @property
    def t(self) -> int: ...

    @property
    def starting_holdings(self) -> Mapping[str, StartingHolding]: ...

    @property
    def prices_today(self) -> Mapping[str, float]:
        """Today's close of every asset that has one."""

    def positions_view(self) -> Mapping[str, PositionView]:
        """The book before today's trades: every held asset's weight and entry date."""

    def drawdown(self) -> float:
        """How far the equity is below its peak (0 at the peak)."""

    def interventions_today(self) -> Sequence[Intervention]:
        """The scenario's interventions to carry out today."""

    def has_agent(self, name: str) -> bool:
        """Whether a protection called `name` takes part in the run."""
