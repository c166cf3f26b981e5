"""Trading calendars: Monday to Friday, no holidays (csv markets bring their own days)."""

from __future__ import annotations

import datetime as dt

import numpy as np


def weekdays(start: dt.date, days: int | None = None, end: dt.date | None = None) -> list[dt.date]:
    """Trading days (Mon-Fri) from `start`: `days` of them, or every one up to `end` inclusive.

    A `start` on a weekend begins on the following Monday.
    """
    if (days is None) == (end is None):
        raise ValueError("give exactly one of days or end")
    first = np.datetime64(start, "D")
    if days is not None:
        if days < 1:
            raise ValueError("days must be at least 1")
        first = np.busday_offset(first, 0, roll="forward")
        out = np.busday_offset(first, np.arange(days), roll="forward")
    else:
        last = np.datetime64(end, "D")
        if last < first:
            raise ValueError("end is before start")
        all_days = np.arange(first, last + 1)
        out = all_days[np.is_busday(all_days)]
    return [d.astype(object) for d in out]


def weekdays_before(start: dt.date, count: int) -> list[dt.date]:
    """The `count` trading days strictly before `start`, oldest first."""
    if count <= 0:
        return []
    first = np.busday_offset(np.datetime64(start, "D"), 0, roll="forward")
    out = np.busday_offset(first, np.arange(-count, 0), roll="forward")
    return [d.astype(object) for d in out]
