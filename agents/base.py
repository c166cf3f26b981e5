"""What every Bulwark agent shares: a name on the bus, a way to publish, an inbox."""

from __future__ import annotations

import mesa

from agents.view import WorldView
from domain.envelope import BROADCAST, Envelope
from domain.messages import Message


class BulwarkAgent(mesa.Agent):
    """A Mesa agent that talks only through the bus and reads only the world's view.

    Args:
        model: the Mesa model running the agent, seen through `WorldView` only.
        name: the agent's name on the bus (the class's `name` when None).
    """

    name: str = "agent"
    model: WorldView

    def __init__(self, model: WorldView, name: str | None = None) -> None:
        super().__init__(model)
        if name is not None:
            self.name = name
        model.bus.subscribe(self.name)

    def publish(
        self, message: Message, *, to: str = BROADCAST, in_reply_to: int | None = None
    ) -> Envelope:
        """Publish `message` from this agent (to every other agent unless `to` says)."""
        return self.model.bus.publish(self.name, message, to=to, in_reply_to=in_reply_to)

    def inbox(self, kind: str | None = None) -> list[Envelope]:
        """Take this agent's inbox messages (of `kind`, when given), oldest first."""
        return self.model.bus.take(self.name, kind)
