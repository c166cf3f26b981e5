"""The sweep page's chart: the distribution of one metric over the runs of each grid
point, as box plots whose box is p25-p75, whose line is the median (p50) and whose
whiskers reach p5 and p95 (the figures of the printed table); runs beyond them are dots."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.read.charts.style import BUCKET_COLOURS, new_figure, no_data

WHISKERS = (5, 95)
"""The percentiles the whiskers reach."""
HEIGHT_IN, LABEL_IN = 3.0, 0.05


def distribution_figure(
    title: str,
    labels: Sequence[str],
    samples: Sequence[Sequence[float]],
    *,
    percent: bool = False,
) -> Figure:
    """One box per grid point (`labels[i]` under the runs' values `samples[i]`); the axis
    in percent when `percent`. A point without values is drawn empty."""
    longest = max((len(label) for label in labels), default=0)
    fig = new_figure(HEIGHT_IN + LABEL_IN * min(longest, 40) / 6)
    ax = fig.add_subplot()
    ax.set_title(title, loc="left")
    if not any(len(s) for s in samples):
        no_data(ax, "no completed run")
        return fig
    boxes = ax.boxplot(
        [list(s) for s in samples],
        whis=WHISKERS,
        patch_artist=True,
        widths=0.55,
        flierprops={"marker": ".", "markersize": 3, "alpha": 0.5},
        medianprops={"color": "#1d1d1f", "linewidth": 1.5},
    )
    for i, patch in enumerate(boxes["boxes"]):
        patch.set_facecolor(BUCKET_COLOURS[i % len(BUCKET_COLOURS)])
        patch.set_alpha(0.55)
    ax.set_xticks(
        range(1, len(labels) + 1),
        labels,
        rotation=30 if longest > 12 else 0,
        ha="right" if longest > 12 else "center",
    )
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig
