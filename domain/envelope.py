"""A message as it travelled on the bus: its place in the global order and its route.

The bus stamps every published message into an `Envelope`; agents read envelopes from
their inboxes (the id to reply to, the sender) and the recorder writes them as rows of
the `messages` table. `BROADCAST` is the recipient of a message meant for every agent.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from domain.messages import Message

BROADCAST = "*"


class Envelope(NamedTuple):
    """A published message with its id, step, date, negotiation round and route.

    A named tuple (immutable, its fields in this order) rather than an attrs class: the
    bus stamps one for every message of a run, and a tuple costs less than half as much to make.
    """

    id: int
    step: int
    date: dt.date
    round: int
    sender: str
    recipient: str
    in_reply_to: int | None
    message: Message

    @property
    def kind(self) -> str:
        """The message's kind (the `messages.kind` column)."""
        return self.message.KIND
