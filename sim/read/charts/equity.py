"""Equity over time with the drawdown below it, the regime bands behind both."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from matplotlib.axes import Axes
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
CASH_LINE = "#555555"


class MoneyFormatter(Formatter):
    """Tick labels in units, thousands (k) or millions (M) (the scale of the smallest
    tick), with as many decimals as the tick spacing needs to tell the ticks apart."""

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        locs = sorted(values)
        top = max((abs(v) for v in locs), default=1.0) or 1.0
        low = min((abs(v) for v in locs if v), default=top)
        scale, unit = (1e6, "M") if low >= 1e6 else (1e3, "k") if low >= 1e3 else (1.0, "")
        step = min((b - a for a, b in itertools.pairwise(locs) if b > a), default=top)
        decimals = min(max(math.ceil(-math.log10(step / scale) - 1e-9), 0), 6)
        return [f"{v / scale:,.{decimals}f}{unit}" for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.format_ticks([x])[0]


def equity_drawdown_figure(data: ChartData) -> Figure:
    """Two panels sharing the date axis: equity (with the initial cash as a dashed line)
    above, drawdown from the running peak below, regime bands behind both."""
    fig = date_figure(4.8)
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4], "hspace": 0.08}
    )
    top.set_title(f"Equity and drawdown: {data.run_id}", loc="left")
    top.set_ylabel("equity")
    bottom.set_ylabel("drawdown")
    if data.span is None:
        no_data(top, "no day recorded")
        return fig
    colours = regime_colours(data.regimes)
    for ax in (top, bottom):
        draw_regime_bands(ax, data.regimes, colours)
    _equity_panel(top, data, colours)
    dd = -data.through_end(data.equity)["drawdown"]
    bottom.fill_between(
        dd.index, dd, 0, color=DRAWDOWN_COLOUR, alpha=0.7, linewidth=0, zorder=3, step="post"
    )
    bottom.plot(
        dd.index, dd, color=DRAWDOWN_COLOUR, linewidth=0.8, zorder=3, drawstyle="steps-post"
    )
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    bottom.set_ylim(top=0.0)
    bottom.set_xlim(*data.span)
    date_axis(bottom)
    return fig


def _equity_panel(ax: Axes, data: ChartData, colours: dict[str, str]) -> None:
    """The equity line, the initial cash, and the legend (regimes included) to the right."""
    eq = data.equity
    ax.plot(eq.index, eq["equity"], color=EQUITY_COLOUR, linewidth=1.6, zorder=3)
    ax.axhline(data.initial_cash, color=CASH_LINE, linestyle="--", linewidth=0.9, zorder=2)
    ax.yaxis.set_major_formatter(MoneyFormatter())
    ax.grid(axis="y", color="#ffffff", linewidth=0.8, zorder=1)
    handles = [
        Line2D([], [], color=EQUITY_COLOUR, linewidth=1.6, label="equity"),
        Line2D([], [], color=CASH_LINE, linestyle="--", linewidth=0.9, label="initial cash"),
        *regime_legend(colours),
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )
