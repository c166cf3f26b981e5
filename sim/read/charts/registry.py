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
from sim.read.charts.style import RC, align_margins, save_png, svg_markup


@attrs.frozen
class Chart:
    """One chart of the report."""

    name: str
    title: str
    caption: str
    draw: Callable[[ChartData], Figure]
    dates: bool = True  # a date axis: its plot area lines up with the other date charts

    def figure(self, data: ChartData) -> Figure:
        """The chart of `data`, drawn in the report's style."""
        with matplotlib.rc_context(RC):
            return self.draw(data)


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
        dates=False,
    ),
)


def draw_charts(data: ChartData) -> list[tuple[Chart, Figure]]:
    """Every chart of `data`, in `CHARTS` order, the date charts' margins aligned."""
    drawn = [(chart, chart.figure(data)) for chart in CHARTS]
    align_margins([fig for chart, fig in drawn if chart.dates])
    return drawn


def chart_svgs(data: ChartData) -> list[tuple[Chart, str]]:
    """Every chart as inline `<svg>` markup."""
    return [(chart, svg_markup(fig, chart.name)) for chart, fig in draw_charts(data)]


def write_pngs(data: ChartData, directory: Path) -> list[Path]:
    """Write every chart as `<directory>/<name>.png`; the paths."""
    return [save_png(fig, directory / f"{chart.name}.png") for chart, fig in draw_charts(data)]
