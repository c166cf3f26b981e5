"""Small scenario documents for the fuzz targets, and their YAML.

A fuzz example is a plain scenario document (the mapping a YAML file holds, before
dumping): a short daily-rebalanced calendar, flat explicit price paths (no market noise
can move a score), scripted scores and trending confidence, bucket diversification off,
and only the protections the target needs. `to_yaml` writes it so that the loader reads
back exactly what was generated (plain numbers, ISO dates), which is how a failing example
becomes a scenario file ready for a library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from domain.calendar import weekdays

MONDAY = dt.date(2024, 1, 1)
"""The Monday the examples' calendars start from (plus 0-4 days for another weekday)."""
WARMUP_DAYS = 60
PRICE = 100.0
HIGH = 0.9
"""A score and a trending confidence comfortably above every default threshold."""
LOW = 0.3
"""A score comfortably below every default threshold."""


class _Dumper(yaml.SafeDumper):
    """Writes every value out (no anchors and aliases for repeated dates)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(document: Mapping[str, Any]) -> str:
    """The document as YAML the loader reads back exactly (plain numbers, ISO dates)."""
    return yaml.dump(
        dict(document), Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=100
    )


def trading_days(start: dt.date, count: int) -> list[dt.date]:
    """`count` trading days (Mon-Fri) from `start`."""
    return weekdays(start, days=count)


def on_or_after(day: dt.date) -> dt.date:
    """The first trading day on or after `day` (a weekend rolls to Monday)."""
    return weekdays(day, days=1)[0]


def span(start: dt.date, end: dt.date) -> int:
    """How many trading days a calendar from `start` needs to reach `end`."""
    return len(weekdays(start, end=end))


def signal(asset: str, start: dt.date, value: float, end: dt.date | None = None) -> dict[str, Any]:
    """One scripted score or trending item (`to` left open: to the end of the run)."""
    item: dict[str, Any] = {"asset": asset, "from": start}
    if end is not None:
        item["to"] = end
    item["value"] = value
    return item


def document(
    name: str,
    *,
    description: str,
    start: dt.date,
    days: int,
    buckets: Mapping[str, Sequence[str]],
    config: Mapping[str, Any] | None = None,
    scores: Sequence[Mapping[str, Any]] = (),
    trending: Sequence[Mapping[str, Any]] = (),
    portfolio: Mapping[str, Mapping[str, Any]] | None = None,
    interventions: Sequence[Mapping[str, Any]] = (),
    off: Sequence[str] = (),
) -> dict[str, Any]:
    """A scenario document with the fuzz examples' fixed frame: daily rebalancing, bucket
    diversification off, flat paths at `PRICE` for every asset, `off` protections
    switched off; `config` is laid over that frame."""
    assets = [a for tickers in buckets.values() for a in tickers]
    doc: dict[str, Any] = {
        "name": name,
        "description": description,
        "seed": 7,
        "calendar": {"start": start, "days": days},
        "config": {
            "rebalance_frequency": "daily",
            "enable_bucket_diversification": False,
            **(config or {}),
        },
        "buckets": {b: list(t) for b, t in buckets.items()},
        "market": {"warmup_days": WARMUP_DAYS, "paths": {a: [PRICE] for a in assets}},
        "signals": {"scores": list(scores), "trending": list(trending)},
    }
    if portfolio:
        doc["portfolio"] = {a: dict(h) for a, h in portfolio.items()}
    if interventions:
        doc["interventions"] = [dict(i) for i in interventions]
    if off:
        doc["protections"] = {p: {"enabled": False} for p in off}
    return doc
