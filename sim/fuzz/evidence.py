"""What a fuzz example's run did, read from its event database by SQL.

The oracles compare these rows with what behaviour.md says should have happened; they
read nothing else of the run (no model object, no protection state).
"""

from __future__ import annotations

import contextlib
import datetime as dt

import attrs

from sim.run.dbfile import open_readonly


@attrs.frozen
class Decision:
    """One decision: its day, asset, action, outcome and deciding system."""

    date: dt.date
    asset: str
    action: str
    outcome: str
    decided_by: str
    to_weight: float | None
    origin: str


@attrs.frozen
class Notice:
    """One notice: its day, event and asset (None for a portfolio-wide notice)."""

    date: dt.date
    event: str
    asset: str | None
    sender: str


@attrs.frozen
class Fill:
    """One fill: its day, asset, side and the weight it left."""

    date: dt.date
    asset: str
    side: str
    weight_after: float


@attrs.frozen
class Evidence:
    """The rows of one run the oracles read, each in message order.

    Attributes:
        days: the simulated days.
        decisions: every decision, with its proposal's target weight and origin.
        notices: every notice.
        fills: every fill.
    """

    days: tuple[dt.date, ...]
    decisions: tuple[Decision, ...]
    notices: tuple[Notice, ...]
    fills: tuple[Fill, ...]

    def decisions_of(self, asset: str, actions: frozenset[str] | None = None) -> list[Decision]:
        """The decisions on `asset` (only those of `actions` when given)."""
        return [
            d
            for d in self.decisions
            if d.asset == asset and (actions is None or d.action in actions)
        ]

    def notice_days(self, event: str, asset: str | None = None) -> list[dt.date]:
        """The days of the `event` notices (on `asset` when given)."""
        return [n.date for n in self.notices if n.event == event and asset in (None, n.asset)]


_DECISIONS = """
SELECT d.date, d.asset, json_extract(d.payload, '$.action'),
       json_extract(d.payload, '$.outcome'), json_extract(d.payload, '$.decided_by'),
       json_extract(p.payload, '$.to_weight'), p.sender
FROM messages d LEFT JOIN messages p
  ON p.run_id = d.run_id AND p.proposal_id = d.proposal_id AND p.kind = 'proposal'
WHERE d.run_id = ? AND d.kind = 'decision' ORDER BY d.id
"""
_NOTICES = """
SELECT date, json_extract(payload, '$.event'), asset, sender FROM messages
WHERE run_id = ? AND kind = 'notice' ORDER BY id
"""
_FILLS = """
SELECT date, asset, json_extract(payload, '$.side'), json_extract(payload, '$.weight_after')
FROM messages WHERE run_id = ? AND kind = 'fill' ORDER BY id
"""
_DAYS = "SELECT DISTINCT date FROM equity WHERE run_id = ? ORDER BY date"


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def read_evidence(db_path: str, run_id: str) -> Evidence:
    """The decisions, notices, fills and days of run `run_id` in the database `db_path`."""
    with contextlib.closing(open_readonly(db_path)) as con:
        days = tuple(_day(r[0]) for r in con.execute(_DAYS, [run_id]))
        decisions = tuple(
            Decision(_day(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])
            for r in con.execute(_DECISIONS, [run_id])
        )
        notices = tuple(
            Notice(_day(r[0]), r[1], r[2], r[3]) for r in con.execute(_NOTICES, [run_id])
        )
        fills = tuple(
            Fill(_day(r[0]), r[1], r[2], float(r[3])) for r in con.execute(_FILLS, [run_id])
        )
    return Evidence(days=days, decisions=decisions, notices=notices, fills=fills)
