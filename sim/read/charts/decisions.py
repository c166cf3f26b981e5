"""Decisions per rule per month: a heat map of how many decisions each rule (the decision
payload's `rule`) took in each month of the run, every cell labelled with its count."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from sim.read.charts.data import ChartData
from sim.read.charts.style import WIDTH_IN, new_figure, no_data

MAX_LABELLED_MONTHS = 36
"""Beyond this many months the cells carry no count (the table below the chart does)."""


def decisions_figure(data: ChartData) -> Figure:
    """Rules down (most decisions first), months across; darker cells took more."""
    table = data.decisions
    width = min(WIDTH_IN, 3.0 + 0.7 * max(len(table.columns), 1))
    fig = new_figure(1.5 + 0.32 * max(len(table), 2), width_in=width)
    ax = fig.subplots()
    ax.set_title("Decisions per rule per month", loc="left")
    if table.empty:
        no_data(ax, "no decisions")
        ax.set_axis_off()
        return fig
    counts = table.to_numpy()
    shown = np.where(counts > 0, counts, np.nan)
    ax.imshow(
        shown,
        aspect="auto",
        cmap="Blues",
        norm=LogNorm(vmin=1, vmax=max(counts.max(), 2)),
        interpolation="nearest",
    )
    ax.set_yticks(range(len(table)), table.index)
    step = max(1, len(table.columns) // 18)
    ax.set_xticks(
        range(0, len(table.columns), step),
        table.columns[::step],
        rotation=0 if step == 1 and len(table.columns) <= 12 else 45,
        ha="center" if len(table.columns) <= 12 else "right",
    )
    if len(table.columns) <= MAX_LABELLED_MONTHS:
        limit = np.nanmax(np.log(shown)) if np.nanmax(shown) > 1 else 1.0
        for (r, c), n in np.ndenumerate(counts):
            dark = n > 0 and np.log(n) > 0.6 * limit
            ax.text(
                c,
                r,
                str(n) if n else "·",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "#333333",
            )
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return fig
