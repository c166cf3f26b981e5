"""Size limits on scenario input, declared once (the loader, the csv reader and the
command line all read them; docs/scenarios.md and docs/market.md explain them).

Every limit keeps a run finite and its numbers representable: a calendar of at most
about a century, integers that fit SQLite's 64-bit INTEGER, and prices well inside
float64 so that quantities (cash / price) and values (quantity x price) stay finite.
"""

from __future__ import annotations

import datetime as dt

#: The first and last date any scenario or csv date may name.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2200, 12, 31)

#: Most trading days one run may simulate (about 99 years of Mon-Fri days).
MAX_CALENDAR_DAYS = 25_000
#: Most warm-up days before `calendar.start` (about 20 years).
MAX_WARMUP_DAYS = 5_000
#: Largest integer anywhere (a seed, a count): SQLite's INTEGER is a signed 64-bit int.
MAX_INT = 2**63 - 1
#: Largest starting cash.
MAX_CASH = 1e15
#: Every close the simulation sees (csv, paths, start_price, generated, shocked).
MIN_PRICE = 1e-6
MAX_PRICE = 1e12
#: Annualised drift and volatility, in absolute value.
MAX_DRIFT = 10.0
MAX_VOLATILITY = 10.0
#: Largest total return of one shock (+10,000%).
MAX_SHOCK_RETURN = 100.0
#: Longest duration in calendar days (a core extension): 100 years.
MAX_DURATION_DAYS = 36_500
