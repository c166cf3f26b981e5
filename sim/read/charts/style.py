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
from matplotlib.backends.backend_agg import FigureCanvasAgg
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


DATE_LEFT_IN, DATE_RIGHT_IN, TITLE_IN, DATE_AXIS_IN = 0.8, 1.75, 0.35, 0.5
"""The first margins of the date charts (inches), before `align_margins`; the right one
holds the legend or the bucket names."""
MARGIN_PAD_IN = 0.08


def new_figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    """A figure (`WIDTH_IN` wide unless told), laid out with constrained layout."""
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width_in, height_in), layout="constrained")


def date_figure(plot_in: float, *, below_in: float = 0.0) -> Figure:
    """A figure `WIDTH_IN` wide whose plot area is `plot_in` high, with the date charts'
    fixed margins (and `below_in` more under the date axis, for a legend)."""
    height = plot_in + TITLE_IN + DATE_AXIS_IN + below_in
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, height))
    fig.subplots_adjust(
        left=DATE_LEFT_IN / WIDTH_IN,
        right=1 - DATE_RIGHT_IN / WIDTH_IN,
        top=1 - TITLE_IN / height,
        bottom=(DATE_AXIS_IN + below_in) / height,
    )
    return fig


def align_margins(figs: Sequence[Figure]) -> None:
    """Give every figure the same left and right margins: the widest any of them needs
    for its tick labels, axis labels, legend and side labels, so their plot areas line up
    on a page and nothing is cut off."""
    needs = [_margins_needed(fig) for fig in figs]
    if not needs:
        return
    left, right = max(n[0] for n in needs), max(n[1] for n in needs)
    for fig in figs:
        width = fig.get_figwidth()
        fig.subplots_adjust(left=left / width, right=1 - right / width)


def _margins_needed(fig: Figure) -> tuple[float, float]:
    """(left, right) inches the figure's axes need beside their plot areas."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    left = right = 0.0
    for ax in fig.axes:
        box, tight = ax.get_window_extent(renderer), ax.get_tightbbox(renderer)
        left = max(left, (box.x0 - tight.x0) / fig.dpi)
        right = max(right, (tight.x1 - box.x1) / fig.dpi)
    return left + MARGIN_PAD_IN, right + MARGIN_PAD_IN


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


def no_data(ax: Axes, text: str) -> None:
    """Say in the middle of an empty chart why it is empty."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555")


def date_axis(ax: Axes) -> None:
    """Concise date ticks (months, with the year where it changes)."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


_SIZE = re.compile(r'\s(width|height)="([^"]*)"')


def svg_markup(fig: Figure, name: str) -> str:
    """`fig` as an `<svg>` element to inline in HTML: no XML prolog, no fixed size but its
    natural width as the most (the viewBox keeps the aspect ratio), ids salted with
    `name`, no timestamp."""
    buf = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": name}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    start = text.index("<svg")
    head_end = text.index(">", start)
    head = text[start:head_end]
    width = dict(m.groups() for m in _SIZE.finditer(head)).get("width", "100%")
    head = _SIZE.sub("", head)
    return (
        f'{head} class="chart" data-chart="{name}" role="img" style="max-width: {width}"'
        f"{text[head_end:]}"
    ).strip()


def save_png(fig: Figure, path: Path) -> Path:
    """Write `fig` as a PNG at `PNG_DPI`; the path."""
    with matplotlib.rc_context(RC):
        fig.savefig(path, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return path
