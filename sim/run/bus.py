"""The message bus: the only way agents talk to each other.

Publishing stamps a message with the global order (`id`), the simulated step, date and
negotiation round, sender and recipient, and delivers it: into the recipient's inbox
(or every subscriber's inbox but the sender's, for a broadcast `*`), and to every
observer of its kind. Everything published is kept in order until the recorder drains it
at the end of the step, so a step's messages are written in one batch.

An inbox keeps its envelopes by kind (agents take one kind at a time), each kind's in
publication order; taking every kind at once merges them back by id.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from domain.envelope import BROADCAST, Envelope
from domain.messages import Message


class UnknownRecipient(LookupError):
    """A message was addressed to an agent that is not on the bus."""


class MessageBus:
    """In-process, synchronous, ordered message bus."""

    def __init__(self) -> None:
        self._next_id = 1
        self._inboxes: dict[str, defaultdict[str, list[Envelope]]] = {}
        self._others: dict[str, list[defaultdict[str, list[Envelope]]]] = {}
        self._observers: list[tuple[Callable[[Envelope], None], frozenset[str] | None]] = []
        self._observers_of: dict[str, list[Callable[[Envelope], None]]] = {}
        self._log: list[Envelope] = []
        self.step = 0
        self.date: dt.date | None = None
        self.round = 0

    def subscribe(self, name: str) -> None:
        """Give agent `name` an inbox (registration order is delivery order)."""
        self._inboxes.setdefault(name, defaultdict(list))
        self._others.clear()

    def _inboxes_but(self, sender: str) -> list[defaultdict[str, list[Envelope]]]:
        """Every inbox but `sender`'s, in registration order (a broadcast's recipients)."""
        inboxes = self._others.get(sender)
        if inboxes is None:
            inboxes = [box for name, box in self._inboxes.items() if name != sender]
            self._others[sender] = inboxes
        return inboxes

    def observe(
        self, callback: Callable[[Envelope], None], kinds: frozenset[str] | None = None
    ) -> None:
        """Call `callback` with every envelope (of one of `kinds`, when given) as it is
        published; observers are called in the order they registered."""
        self._observers.append((callback, kinds))
        self._observers_of.clear()

    def _observers_for(self, kind: str) -> list[Callable[[Envelope], None]]:
        callbacks = self._observers_of.get(kind)
        if callbacks is None:
            callbacks = [cb for cb, kinds in self._observers if kinds is None or kind in kinds]
            self._observers_of[kind] = callbacks
        return callbacks

    def begin_step(self, step: int, date: dt.date) -> None:
        self.step, self.date, self.round = step, date, 0

    def clear_inboxes(self) -> None:
        """Forget undelivered messages (a new day starts with empty inboxes)."""
        for inbox in self._inboxes.values():
            inbox.clear()

    def publish(
        self,
        sender: str,
        message: Message,
        *,
        to: str = BROADCAST,
        in_reply_to: int | None = None,
    ) -> Envelope:
        """Stamp, log and deliver `message`. Returns the envelope."""
        date = self.date
        if date is None:
            raise RuntimeError("publish before begin_step")
        if to == BROADCAST:
            inboxes = self._others.get(sender)
            if inboxes is None:
                inboxes = self._inboxes_but(sender)
        else:
            inbox = self._inboxes.get(to)
            if inbox is None:
                raise UnknownRecipient(f"{sender} sent {message.KIND} to unknown agent {to!r}")
            inboxes = (inbox,)
        # positional, in Envelope's field order (id, step, date, round, sender, recipient,
        # in_reply_to, message): the hottest constructor of a run
        env = Envelope(self._next_id, self.step, date, self.round, sender, to, in_reply_to, message)
        self._next_id += 1
        self._log.append(env)
        kind = message.KIND
        for inbox in inboxes:
            inbox[kind].append(env)
        callbacks = self._observers_of.get(kind)
        if callbacks is None:
            callbacks = self._observers_for(kind)
        for callback in callbacks:
            callback(env)
        return env

    def take(self, name: str, kind: str | None = None) -> list[Envelope]:
        """Remove and return `name`'s inbox messages (of `kind`, when given), in order."""
        inbox = self._inboxes[name]
        if kind is None:
            taken = sorted((e for envelopes in inbox.values() for e in envelopes), key=_id)
            inbox.clear()
            return taken
        return inbox.pop(kind, [])

    def drain(self) -> list[Envelope]:
        """Every envelope published since the last drain, in order (for the recorder)."""
        out, self._log = self._log, []
        return out


def _id(env: Envelope) -> int:
    return env.id
