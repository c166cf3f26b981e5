"""The scenario's manual controls as the messages the portfolio manager publishes.

An intervention dated today (or on the weekend or holiday before today) becomes one
`InterventionApplied`, addressed to the core_asset protection when it is one of its
controls and that protection takes part, broadcast otherwise; a `mark_core` also asks the
core_asset protection for a designation (scenario-format.md, docs/scenarios.md).
"""

from __future__ import annotations

import datetime as dt

from domain.envelope import BROADCAST
from domain.messages import InterventionApplied, Message, RequestCoreDesignation
from domain.protections.registry import CORE_ASSET
from domain.scenario import Intervention

CORE_CONTROLS = frozenset({"extend_core", "revoke_core"})
"""The controls the core_asset protection carries out itself."""
MARK_CORE = "mark_core"


def intervention_messages(
    intervention: Intervention, today: dt.date, *, core_on: bool, score: float | None
) -> list[tuple[Message, str]]:
    """The messages that carry out `intervention` today, each with its recipient.

    Args:
        intervention: The scenario's control.
        today: The day it is carried out (`details.rolled_from` records its own date
            when that is earlier).
        core_on: Whether the core_asset protection takes part today.
        score: The asset's latest score, for a `mark_core` designation request.

    Returns:
        (message, recipient) pairs in publishing order: the `InterventionApplied` (with
        the reason, `param` and `value` of a `set`, the `days` of an extension), then a
        `mark_core`'s designation request when core_asset takes part.
    """
    iv = intervention
    details = {"reason": iv.reason}
    if iv.date != today:
        details["rolled_from"] = iv.date.isoformat()
    if iv.action == "set":
        details.update(param=iv.param, value=iv.value)
    if iv.days is not None:
        details["days"] = iv.days
    to = CORE_ASSET if core_on and iv.action in CORE_CONTROLS else BROADCAST
    out: list[tuple[Message, str]] = [
        (InterventionApplied(action=iv.action, asset=iv.asset, details=details), to)
    ]
    if iv.action == MARK_CORE and core_on:
        request = RequestCoreDesignation(asset=iv.asset, score=score, reason=iv.reason)
        out.append((request, CORE_ASSET))
    return out
