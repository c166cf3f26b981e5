"""Whether a protection takes part today: the one place its switch is acted on.

A protection whose switch (its registry row's parameter, `Protection.switched_on`) is off
still has its agent: it keeps observing every message, so its records stay current, but
it takes no part: no starting designations, no housekeeping, no verdicts, no notices, no
proposals, no snapshot flags. A `set` of the switch takes effect on the day it is applied
(interventions come before housekeeping), like every other parameter:

- on -> off: `Protection.switched_off(day)` is published once (core_asset revokes every
  core asset), then it is silent;
- off -> on: `Protection.start(day, book)` with that day's book (weights, entry dates,
  nothing core), as if it joined the run that day; it keeps what it observed meanwhile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from domain.messages import Message
from domain.protections.base import PositionView, Protection, StartingHolding

Book = Callable[[], Mapping[str, PositionView]]
"""The day's book, asked for only when the switch turns on."""


class SwitchGate:
    """Tracks one protection's switch from day to day.

    Args:
        protection: the protection it gates.
    """

    def __init__(self, protection: Protection) -> None:
        self.protection = protection
        self.on = False

    def first_day(self) -> bool:
        """Read the switch on the first day, before anything else; whether the protection
        takes part (and so learns the starting book)."""
        self.on = self.protection.switched_on()
        return self.on

    def today(self, day: dt.date, book: Book) -> list[Message]:
        """Read the switch for today's housekeeping; what the change, if any, publishes."""
        on = self.protection.switched_on()
        out: list[Message] = []
        if self.on and not on:
            out = self.protection.switched_off(day)
        elif on and not self.on:
            holdings = {
                a: StartingHolding(a, p.weight, p.entered or day) for a, p in book().items()
            }
            out = self.protection.start(day, holdings)
        self.on = on
        return out
