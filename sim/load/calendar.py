"""The `calendar` section: start, and days or end (trading days Mon-Fri)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from domain.calendar import weekdays
from domain.limits import MAX_CALENDAR_DAYS
from domain.scenario import Calendar
from sim.load.reader import NodeMap
from sim.load.values import BAD, bounded
from sim.load.walk import CalendarWindow, Walk
from sim.load.yaml_nodes import as_date, as_int, describe, is_null


def read_calendar(w: Walk, top: NodeMap) -> Any:
    """The calendar; sets the walk's `start` and `window` when it is valid."""
    node = top.get("calendar")
    if node is None:
        return BAD
    if is_null(node):
        w.error(node, "calendar", f"expected a mapping, got {describe(node)}")
        return BAD
    m = w.mapping(node, "calendar", ("start", "days", "end"), required=("start",))
    if m is None:
        return BAD
    start = w.req(m, "start", as_date)
    days = w.opt(m, "days", bounded(as_int, lo=1, hi=MAX_CALENDAR_DAYS))
    end = w.opt(m, "end", as_date)
    if days is None and end is None:
        w.error(node, "calendar", "give exactly one of days or end")
        return BAD
    if days is not None and end is not None:
        w.error(node, "calendar", "give days or end, not both")
        return BAD
    if BAD in (start, days, end) or not _end_ok(w, m, start, end):
        return BAD
    trading = weekdays(start, days=days, end=end)
    if not trading:
        w.error(node, "calendar", f"no trading day (Mon-Fri) from {start} to {end}")
        return BAD
    w.start = start
    w.window = CalendarWindow(trading[0], trading[-1])
    return Calendar(start=start, days=days, end=end)


def _end_ok(w: Walk, m: NodeMap, start: dt.date, end: dt.date | None) -> bool:
    """An `end` is not before `start` and leaves at most MAX_CALENDAR_DAYS trading days."""
    if end is None:
        return True
    if end < start:
        w.error(m.get("end"), "calendar.end", f"end {end} is before start {start}")
        return False
    count = int(np.busday_count(start, end + dt.timedelta(days=1)))
    if count > MAX_CALENDAR_DAYS:
        w.error(
            m.get("end"),
            "calendar.end",
            f"{count} trading days from {start} to {end}; at most {MAX_CALENDAR_DAYS}",
        )
        return False
    return True
