"""How the charts look and how they are written: figures without pyplot (no global
state, no display: matplotlib's Agg and SVG renderers only), the regime and bucket
colours, regime bands, date axes, and the output as inline SVG markup or a PNG file.

SVG keeps text as glyph paths (`svg.fonttype: path`), so a page renders exactly as
matplotlib laid it out whatever fonts the browser has; each chart's ids are salted with
its name, so several SVGs inline in one page never share an id.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.read.charts.data import Span

REGIME_COLOURS: dict[str, str] = {
    "Goldilocks": "#dcefd2",
    "Reflation": "#fbe8c3",
    "Inflation": "#f8d3c4",
    "Deflation": "#d3e2f2",
}
"""The band colour of each regime; others take `SPARE_COLOURS` in order of appearance."""

SPARE_COLOURS: tuple[str, ...] = ("#e6daf0", "#f2f0c8", "#d8eeee", "#eeeeee")

BUCKET_COLOURS: tuple[str, ...] = (
    "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3",
    "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd",
)  # fmt: skip
"""Bucket layers in order; the cash layer is `CASH_COLOUR`."""

CASH_COLOUR = "#d9d9d9"
WIDTH_IN = 11.0
PNG_DPI = 150

RC = {
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "path",
}


def new_figure(height_in: float) -> Figure:
    """A figure `WIDTH_IN` wide, laid out with constrained layout."""
    with matplotlib.rc_context(RC):
        return Figure(figsize=(WIDTH_IN, height_in), layout="constrained")


def regime_colours(spans: Sequence[Span]) -> dict[str, str]:
    """The colour of every regime among `spans`."""
    out: dict[str, str] = {}
    spare = iter(SPARE_COLOURS * (len(spans) // len(SPARE_COLOURS) + 1))
    for s in spans:
        if s.label not in out:
            out[s.label] = REGIME_COLOURS.get(s.label) or next(spare)
    return out


def draw_regime_bands(ax: Axes, spans: Sequence[Span], colours: dict[str, str]) -> None:
    """Shade each regime's days behind the data."""
    for s in spans:
        ax.axvspan(s.start, s.end, color=colours[s.label], zorder=0, linewidth=0)


def regime_legend(colours: dict[str, str]) -> list[Patch]:
    """Legend handles for the regime bands."""
    return [
        Patch(facecolor=c, edgecolor="#999999", label=f"regime: {r}") for r, c in colours.items()
    ]


def date_axis(ax: Axes) -> None:
    """Concise date ticks (months, with the year where it changes)."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


_SIZE = re.compile(r'\s(width|height)="[^"]*"')


def svg_markup(fig: Figure, name: str) -> str:
    """`fig` as an `<svg>` element to inline in HTML: no XML prolog, no fixed size (the
    viewBox keeps the aspect ratio), ids salted with `name`, no timestamp."""
    buf = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": name}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    start = text.index("<svg")
    head_end = text.index(">", start)
    head = _SIZE.sub("", text[start:head_end])
    return f'{head} class="chart" data-chart="{name}" role="img"{text[head_end:]}'.strip()


def save_png(fig: Figure, path: Path) -> Path:
    """Write `fig` as a PNG at `PNG_DPI`; the path."""
    with matplotlib.rc_context(RC):
        fig.savefig(path, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return path
