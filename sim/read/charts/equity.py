"""Equity over time with the drawdown below it, the regime bands behind both."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.read.charts.data import ChartData
from sim.read.charts.style import (
    date_axis,
    draw_regime_bands,
    new_figure,
    regime_colours,
    regime_legend,
)

EQUITY_COLOUR = "#1f3b73"
DRAWDOWN_COLOUR = "#c0392b"


def _money(value: float, _pos: object = None) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M"
    return f"{value / 1e3:,.0f}k" if abs(value) >= 1e3 else f"{value:,.0f}"


def equity_drawdown_figure(data: ChartData) -> Figure:
    """Two panels sharing the date axis: equity (with the initial cash as a dashed line)
    above, drawdown from the running peak below, regime bands behind both."""
    fig = new_figure(5.6)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    eq = data.equity
    colours = regime_colours(data.regimes)
    for ax in (top, bottom):
        draw_regime_bands(ax, data.regimes, colours)
    top.plot(eq.index, eq["equity"], color=EQUITY_COLOUR, linewidth=1.6, zorder=3)
    top.axhline(data.initial_cash, color="#555555", linestyle="--", linewidth=0.9, zorder=2)
    top.yaxis.set_major_formatter(FuncFormatter(_money))
    top.set_ylabel("equity")
    top.set_title(f"Equity and drawdown: {data.run_id}", loc="left")
    top.grid(axis="y", color="#ffffff", linewidth=0.8, zorder=1)
    handles = [
        Line2D([], [], color=EQUITY_COLOUR, linewidth=1.6, label="equity"),
        Line2D([], [], color="#555555", linestyle="--", linewidth=0.9, label="initial cash"),
        *regime_legend(colours),
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False
    )
    dd = -data.through_end(eq)["drawdown"]
    bottom.fill_between(
        dd.index, dd, 0, color=DRAWDOWN_COLOUR, alpha=0.7, linewidth=0, zorder=3, step="post"
    )
    bottom.plot(
        dd.index, dd, color=DRAWDOWN_COLOUR, linewidth=0.8, zorder=3, drawstyle="steps-post"
    )
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bottom.set_ylabel("drawdown")
    bottom.set_ylim(top=0.0)
    if data.span:
        bottom.set_xlim(*data.span)
    date_axis(bottom)
    return fig
