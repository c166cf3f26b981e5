"""Every chart of the report once, in page order: its name (the PNG's file stem and the
SVG's id salt), title, how to read it, and the function drawing it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import matplotlib
from matplotlib.figure import Figure

from sim.read.charts.allocation import allocation_figure
from sim.read.charts.data import ChartData
from sim.read.charts.decisions import decisions_figure
from sim.read.charts.equity import equity_drawdown_figure
from sim.read.charts.protection import protection_figure
from sim.read.charts.style import RC, save_png, svg_markup


@attrs.frozen
class Chart:
    """One chart of the report."""

    name: str
    title: str
    caption: str
    draw: Callable[[ChartData], Figure]

    def figure(self, data: ChartData) -> Figure:
        """The chart of `data`, drawn in the report's style."""
        with matplotlib.rc_context(RC):
            return self.draw(data)

    def svg(self, data: ChartData) -> str:
        """The chart as inline `<svg>` markup."""
        return svg_markup(self.figure(data), self.name)

    def png(self, data: ChartData, directory: Path) -> Path:
        """Write the chart as `<directory>/<name>.png`; the path."""
        return save_png(self.figure(data), directory / f"{self.name}.png")


CHARTS: tuple[Chart, ...] = (
    Chart(
        "equity-drawdown",
        "Equity and drawdown",
        "Equity at each day's close (dashed: the initial cash); below it the fall from the"
        " running peak. The bands behind both are the regime in force that day.",
        equity_drawdown_figure,
    ),
    Chart(
        "allocation",
        "Allocation by bucket",
        "End-of-day weight of each bucket in equity, stacked; the grey layer on top is cash."
        " The largest bucket on average is at the bottom.",
        allocation_figure,
    ),
    Chart(
        "protection-timeline",
        "Protection timeline",
        "One row per asset: grey while held; blue its minimum holding window (closes"
        " blocked), green while core, orange while in grace (paler as the weight decays),"
        " red hatching while whipsaw blocks re-opening; a diamond marks a regime override,"
        " a cross a blocked decision. Bucket names are on the right.",
        protection_figure,
    ),
    Chart(
        "decisions-by-rule",
        "Decisions per rule per month",
        "How many decisions each rule took each month (the decision payload's `rule`);"
        " darker cells took more, a dot none.",
        decisions_figure,
    ),
)
