"""The protection timeline: one row per asset, showing when it was held, in its minimum
holding window, core, in grace (shaded by grace day: the weight decays as it pales),
blocked from re-opening by whipsaw, and the days a regime override lifted an objection or
a decision was blocked."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from sim.read.charts.data import AssetLanes, ChartData, Span, busiest
from sim.read.charts.style import DATE_AXIS_IN, date_axis, date_figure, no_data

LEGEND_IN = 0.45
MAX_LANES = 40
"""Most assets drawn; a busier run keeps those with the most protection activity."""

HELD, CORE, HOLDING, BLOCKED = "#e4e4e4", "#2e7d32", "#1565c0", "#c62828"
GRACE = colormaps["Oranges"]
MIDDAY = pd.Timedelta(hours=12)  # markers sit in the middle of their day's bar
# Sub-lanes of a row (the y axis points down): (offset from the row's centre, height).
CORE_LANE, GRACE_LANE, HOLDING_LANE = (-0.38, 0.24), (-0.12, 0.24), (0.14, 0.24)


def _bars(ax: Axes, spans: Sequence[Span], y: float, lane: tuple[float, float], **kw) -> None:
    if spans:
        ranges = [(mdates.date2num(s.start), (s.end - s.start).days) for s in spans]
        ax.broken_barh(ranges, (y + lane[0], lane[1]), **kw)


def _grace(ax: Axes, lane: AssetLanes, y: float, period: int) -> None:
    if not lane.grace:
        return
    ranges = [(mdates.date2num(day), 1.0) for day, _ in lane.grace]
    shades = [GRACE(0.85 - 0.55 * min(g, period) / max(period, 1)) for _, g in lane.grace]
    ax.broken_barh(ranges, (y + GRACE_LANE[0], GRACE_LANE[1]), facecolors=shades, linewidth=0)


def _row(ax: Axes, lane: AssetLanes, y: float, period: int) -> None:
    _bars(ax, lane.held, y, (-0.45, 0.9), facecolors=HELD, linewidth=0)
    _bars(
        ax,
        lane.whipsaw_blocked,
        y,
        (-0.45, 0.9),
        facecolors="none",
        edgecolor=BLOCKED,
        hatch="////",
        linewidth=0.6,
    )
    _bars(ax, lane.core, y, CORE_LANE, facecolors=CORE, linewidth=0)
    _grace(ax, lane, y, period)
    _bars(ax, lane.holding, y, HOLDING_LANE, facecolors=HOLDING, linewidth=0)
    if lane.overrides:
        ax.plot(
            [d + MIDDAY for d in lane.overrides],
            [y] * len(lane.overrides),
            "D",
            color="black",
            markersize=4,
        )
    if lane.blocked:
        ax.plot(
            [d + MIDDAY for d in lane.blocked],
            [y] * len(lane.blocked),
            "x",
            color=BLOCKED,
            markersize=4.5,
            markeredgewidth=1.2,
        )


def _bucket_labels(ax: Axes, lanes: Sequence[AssetLanes]) -> None:
    """Bucket names to the right of their rows, a rule between buckets."""
    to_right = blended_transform_factory(ax.transAxes, ax.transData)
    start = 0
    for i, lane in enumerate(lanes):
        if i + 1 == len(lanes) or lanes[i + 1].bucket != lane.bucket:
            ax.text(
                1.005,
                (start + i) / 2,
                lane.bucket,
                transform=to_right,
                va="center",
                fontsize=8,
                color="#444444",
            )
            if i + 1 < len(lanes):
                ax.axhline(i + 0.5, color="#999999", linewidth=0.6)
            start = i + 1


LEGEND = (
    Patch(facecolor=HELD, label="held"),
    Patch(facecolor=HOLDING, label="minimum holding window"),
    Patch(facecolor=CORE, label="core"),
    Patch(facecolor=GRACE(0.85), label="grace (pales as it decays)"),
    Patch(facecolor="none", edgecolor=BLOCKED, hatch="////", label="whipsaw: opens blocked"),
    Line2D(
        [], [], marker="D", color="black", linestyle="none", markersize=4, label="regime override"
    ),
    Line2D([], [], marker="x", color=BLOCKED, linestyle="none", label="decision blocked"),
)


def protection_figure(data: ChartData) -> Figure:
    """One row per asset (by bucket, then ticker), at most `MAX_LANES` of them."""
    lanes = busiest(data.lanes, MAX_LANES)
    plot_in = 0.3 * max(len(lanes), 2)
    fig = date_figure(plot_in, below_in=LEGEND_IN)
    ax = fig.subplots()
    for y, lane in enumerate(lanes):
        _row(ax, lane, y, data.grace_period_days)
    _bucket_labels(ax, lanes)
    ax.set_yticks(range(len(lanes)), [lane.asset for lane in lanes])
    ax.set_ylim(max(len(lanes), 1) - 0.5, -0.5)
    if data.span:
        ax.set_xlim(*data.span)
    shown = (
        f" ({len(lanes)} of {len(data.lanes)} assets, the most active)"
        if len(lanes) < len(data.lanes)
        else ""
    )
    ax.set_title(f"Protection timeline{shown}", loc="left")
    if not lanes:
        no_data(ax, "no asset was held or met a protection")
    ax.legend(
        handles=list(LEGEND),
        loc="upper left",
        ncols=4,
        frameon=False,
        fontsize=8,
        bbox_to_anchor=(0, -DATE_AXIS_IN / plot_in),
    )
    ax.tick_params(axis="y", length=0)
    date_axis(ax)
    return fig
