"""Equity over time with the drawdown below it, the regime bands behind both."""

from __future__ import annotations

import itertools
import math

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import Formatter, PercentFormatter

from sim.read.charts.data import ChartData
from sim.read.charts.style import (
    date_axis,
    date_figure,
    draw_regime_bands,
    no_data,
    regime_colours,
    regime_legend,
)

EQUITY_COLOUR = "#1f3b73"
DRAWDOWN_COLOUR = "#c0392b"


class MoneyFormatter(Formatter):
    """Tick labels in units, thousands (k) or millions (M), with as many decimals as the
    tick spacing needs to tell the ticks apart."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        locs = sorted(self.locs) if len(self.locs) else [x]
        top = max(max(abs(v) for v in locs), 1.0)
        low = min((abs(v) for v in locs if v), default=top)  # the scale of the smallest
        scale, unit = (1e6, "M") if low >= 1e6 else (1e3, "k") if low >= 1e3 else (1.0, "")
        step = min((b - a for a, b in itertools.pairwise(locs)), default=top)
        decimals = min(max(math.ceil(-math.log10(step / scale) - 1e-9), 0), 6)
        return f"{x / scale:,.{decimals}f}{unit}"


def equity_drawdown_figure(data: ChartData) -> Figure:
    """Two panels sharing the date axis: equity (with the initial cash as a dashed line)
    above, drawdown from the running peak below, regime bands behind both."""
    fig = date_figure(4.8)
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4], "hspace": 0.08}
    )
    eq = data.equity
    colours = regime_colours(data.regimes)
    for ax in (top, bottom):
        draw_regime_bands(ax, data.regimes, colours)
    top.plot(eq.index, eq["equity"], color=EQUITY_COLOUR, linewidth=1.6, zorder=3)
    top.axhline(data.initial_cash, color="#555555", linestyle="--", linewidth=0.9, zorder=2)
    top.yaxis.set_major_formatter(MoneyFormatter())
    top.set_ylabel("equity")
    top.set_title(f"Equity and drawdown: {data.run_id}", loc="left")
    top.grid(axis="y", color="#ffffff", linewidth=0.8, zorder=1)
    handles = [
        Line2D([], [], color=EQUITY_COLOUR, linewidth=1.6, label="equity"),
        Line2D([], [], color="#555555", linestyle="--", linewidth=0.9, label="initial cash"),
        *regime_legend(colours),
    ]
    top.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )
    dd = -data.through_end(eq)["drawdown"]
    bottom.fill_between(
        dd.index, dd, 0, color=DRAWDOWN_COLOUR, alpha=0.7, linewidth=0, zorder=3, step="post"
    )
    bottom.plot(
        dd.index, dd, color=DRAWDOWN_COLOUR, linewidth=0.8, zorder=3, drawstyle="steps-post"
    )
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    bottom.set_ylabel("drawdown")
    bottom.set_ylim(top=0.0)
    if data.span:
        bottom.set_xlim(*data.span)
        date_axis(bottom)
    else:
        no_data(top, "no day recorded")
    return fig
