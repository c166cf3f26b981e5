"""One walk over a scenario file: the node checks plus what the sections defined so far.

The sections are read in an order where each one defines names the later ones check:
the calendar's window, the buckets and the tickers of the run (buckets, the csv,
`market.paths`), the regimes, the custom protections and the base configuration. A
`*_ok` flag is False when its section had a problem; references to it are then not
checked, so one mistake is reported once, where it is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
from yaml.nodes import Node

from domain.scenario import DEFAULT_REGIMES
from sim.load.reader import Reader
from sim.load.values import ANY_ASSET, BAD, defined_ticker, suggest, ticker


@attrs.define
class CalendarWindow:
    """The first and last trading day of the calendar."""

    first: dt.date
    last: dt.date

    def text(self) -> str:
        """`first to last` in ISO dates."""
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


class Walk(Reader):
    """A `Reader` of one scenario file with the names its sections defined."""

    def __init__(self, file: str, base_dir: Path):
        super().__init__(file)
        #: the scenario file's directory: csv files and custom modules are found from it
        self.base_dir = base_dir
        self.window: CalendarWindow | None = None
        self.start: dt.date | None = None
        self.bucket_names: list[str] = []
        self.buckets_ok = False
        self.universe: set[str] = set()
        self.universe_ok = False
        self.regimes: list[str] = list(DEFAULT_REGIMES)
        self.regimes_ok = True
        self.custom_names: list[str] = []
        self.custom_ok = True
        self.market_invalid = False
        #: (preset, overrides) once the configuration checked clean
        self.base_config: tuple[str | None, dict[str, Any]] | None = None
        #: ticker -> (bucket, line) of every bucketed ticker
        self.bucket_tickers: dict[str, tuple[str, int]] = {}
        #: ticker -> its index in its bucket's list
        self.bucket_index: dict[str, int] = {}

    def in_calendar(self, node: Node, field: str, day: Any) -> None:
        """Report a date outside the calendar window."""
        if self.window is None or day is BAD or day is None:
            return
        if not self.window.first <= day <= self.window.last:
            self.error(
                node,
                field,
                f"{day.isoformat()} is outside the calendar ({self.window.text()})",
            )

    def known_ticker(self, node: Node, field: str, name: Any) -> None:
        """Report a ticker not defined in buckets, the csv or market.paths."""
        if not self.universe_ok or name is BAD or name is None:
            return
        if name not in self.universe:
            self.error(
                node,
                field,
                f"ticker '{name}' is not defined in buckets, the csv or market.paths"
                + suggest(name, sorted(self.universe)),
            )

    def ticker_ref(self, node: Node, field: str, *, allow_any: bool = False) -> Any:
        """A ticker named somewhere (must be defined); '*' when `allow_any`."""
        value = self.required_value(node, field, ticker if allow_any else defined_ticker)
        if value != ANY_ASSET:
            self.known_ticker(node, field, value)
        return value

    def ticker_list(self, node: Node, field: str) -> Any:
        """A non-empty list of defined tickers."""
        items = self.sequence(node, field, "a list of tickers")
        if items is None:
            return BAD
        if not items:
            self.error(node, field, "expected a non-empty list of tickers")
            return BAD
        out = [self.ticker_ref(item, f"{field}[{i}]") for i, item in enumerate(items)]
        return BAD if BAD in out else out

    def known_bucket(self, node: Node, field: str, bucket: Any) -> None:
        """Report a bucket not defined in buckets."""
        if not self.buckets_ok or bucket is BAD or bucket is None:
            return
        if bucket not in self.bucket_names:
            self.error(
                node,
                field,
                f"bucket '{bucket}' is not defined in buckets" + suggest(bucket, self.bucket_names),
            )

    def known_regime(self, node: Node, field: str, regime: Any) -> None:
        """Report a regime neither built in nor in the timeline."""
        if not self.regimes_ok or regime is BAD:
            return
        if regime not in self.regimes:
            hint = suggest(regime, self.regimes) or f" (known: {', '.join(self.regimes)})"
            self.error(node, field, f"unknown regime '{regime}'{hint}")
