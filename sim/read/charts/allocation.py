"""Allocation by bucket over time: a stacked area of each bucket's weight, cash on top."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.read.charts.data import CASH, ChartData
from sim.read.charts.style import BUCKET_COLOURS, CASH_COLOUR, date_axis, date_figure, no_data


def allocation_figure(data: ChartData) -> Figure:
    """The end-of-day weight of every bucket (largest on average at the bottom) and of
    cash, stacked to 100% of equity."""
    fig = date_figure(3.4)
    ax = fig.subplots()
    alloc = data.through_end(data.allocation)
    names = list(alloc.columns)
    colours = [
        CASH_COLOUR if n == CASH else BUCKET_COLOURS[i % len(BUCKET_COLOURS)]
        for i, n in enumerate(names)
    ]
    ax.set_ylabel("weight of equity")
    ax.set_title("Allocation by bucket", loc="left")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if alloc.empty:
        no_data(ax, "no day recorded")
        return fig
    ax.stackplot(
        alloc.index,
        *(alloc[n].to_numpy() for n in names),
        labels=names,
        colors=colours,
        step="post",
        linewidth=0,
    )
    ax.set_xlim(*data.span)
    ax.set_ylim(0, max(1.0, float(alloc.sum(axis=1).max())))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8, reverse=True)
    date_axis(ax)
    return fig
