"""What every Bulwark agent shares: a name on the bus and a way to publish."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from domain.messages import Message
from sim.bus import BROADCAST, Envelope

if TYPE_CHECKING:
    from sim.model import BulwarkModel


class BulwarkAgent(mesa.Agent):
    """A Mesa agent that talks only through the model's message bus."""

    name: str = "agent"
    model: BulwarkModel

    def __init__(self, model: BulwarkModel, name: str | None = None) -> None:
        super().__init__(model)
        if name is not None:
            self.name = name
        model.bus.subscribe(self.name)

    def publish(
        self, message: Message, *, to: str = BROADCAST, in_reply_to: int | None = None
    ) -> Envelope:
        return self.model.bus.publish(self.name, message, to=to, in_reply_to=in_reply_to)

    def inbox(self, kind: str | None = None) -> list[Envelope]:
        return self.model.bus.take(self.name, kind)
