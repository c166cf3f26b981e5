"""What the report's charts draw, read back from recorded runs: spans, whipsaw block
windows, core periods and overrides, allocation, decisions per rule; and how the charts
are written (SVG ids never shared between charts, date charts lined up, tick labels)."""

from __future__ import annotations

import contextlib
import re
import sqlite3

import pandas as pd
import pytest

from sim.read.charts.data import (
    AssetLanes,
    Span,
    busiest,
    load_chart_data,
    next_days,
    spans_of,
)
from sim.read.charts.equity import MoneyFormatter
from sim.read.charts.registry import CHARTS, chart_svgs, draw_charts
from sim.read.protection_history import protection_history
from tests.integration.report_support import REPO, record

LIBRARY = REPO / "scenarios" / "library"
D = pd.Timestamp


def _data(scenario, tmp_path):
    db = tmp_path / "r.db"
    run_id = record(scenario, db)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return load_chart_data(conn, run_id), db, run_id


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _data(REPO / "tests" / "data" / "run" / "small.yaml", tmp_path_factory.mktemp("s"))


def test_spans_of_when_days_consecutive_then_one_span_to_the_next_recorded_day():
    dates = pd.DatetimeIndex([D("2024-01-04"), D("2024-01-05"), D("2024-01-08"), D("2024-01-09")])

    spans = spans_of([dates[0], dates[1], dates[3]], next_days(dates))

    assert spans == (Span(D("2024-01-04"), D("2024-01-08")), Span(D("2024-01-09"), D("2024-01-10")))


def test_lanes_when_whipsaw_blocks_reopen_then_block_window_ends_when_opens_allowed(tmp_path):
    data, db, run_id = _data(LIBRARY / "whipsaw-blocks-reopen.yaml", tmp_path)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        history = protection_history(conn, run_id, "W")

    (lane,) = [lane for lane in data.lanes if lane.asset == "W"]
    (block,) = [p for p in history["periods"] if p["state"] == "whipsaw-blocked"]
    assert lane.whipsaw_blocked == (Span(D(block["first_date"]), D("2024-01-18")),)
    assert "opens allowed again from 2024-01-18" in block["detail"]
    assert len(lane.blocked) == 9  # the nine blocked opens the scenario expects


def test_lanes_when_core_asset_and_regime_override_then_core_all_run_and_override_day(tmp_path):
    data, _, _ = _data(LIBRARY / "core-vs-regime-override.yaml", tmp_path)
    lanes = {lane.asset: lane for lane in data.lanes}

    assert lanes["C"].core == (Span(data.equity.index[0], data.span[1]),)
    assert lanes["Y"].overrides == (D("2024-01-02"),)
    assert lanes["Y"].grace == ()


def test_allocation_when_small_run_then_buckets_and_cash_sum_to_one_each_day(small):
    data, _, _ = small

    totals = data.allocation.sum(axis=1)

    assert list(data.allocation.columns)[-1] == "Cash"
    assert ((totals - 1.0).abs() < 1e-9).all()
    assert len(data.allocation) == len(data.equity) == 40


def test_decisions_when_small_run_then_counts_add_up_to_every_decision(small):
    data, db, run_id = small
    with contextlib.closing(sqlite3.connect(db)) as conn:
        n = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'decision'", [run_id]
        ).fetchone()[0]

    assert int(data.decisions.to_numpy().sum()) == n > 0
    assert list(data.decisions.columns) == ["2024-01", "2024-02"]
    assert data.decisions.sum(axis=1).is_monotonic_decreasing


def test_busiest_when_more_lanes_than_limit_then_most_active_kept_in_order():
    day = D("2024-01-01")

    def lane(name, events):
        return AssetLanes(name, "B", (), (), (), (), (), (day,) * events, ())

    lanes = [lane("A", 1), lane("B", 5), lane("C", 0), lane("D", 3)]

    assert [x.asset for x in busiest(lanes, 2)] == ["B", "D"]
    assert busiest(lanes, 9) == tuple(lanes)


def test_money_formatter_when_ticks_close_then_enough_decimals_to_tell_them_apart():
    f = MoneyFormatter()

    assert f.format_ticks([999_400, 999_600, 1_000_000]) == ["999.4k", "999.6k", "1,000.0k"]
    assert f.format_ticks([940_000, 980_000, 1_020_000]) == ["940k", "980k", "1,020k"]
    assert f.format_ticks([5e6, 1e7]) == ["5M", "10M"]


def _definitions(svg):
    """Every element with an id: id -> the element's markup up to its first `>`."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<[^<>]* id="([^"]+)"[^<>]*>', svg)}


def test_chart_svgs_when_drawn_then_a_shared_referenced_id_means_the_same_thing(small):
    data, _, _ = small

    svgs = [svg for _, svg in chart_svgs(data)]

    defined = [_definitions(svg) for svg in svgs]
    for i, svg in enumerate(svgs):
        refs = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', svg))
        assert refs and refs <= set(defined[i])
        for j, other in enumerate(defined):
            for shared in refs & set(other) if j != i else ():
                # only font glyphs recur across charts, with identical paths
                assert shared.startswith("DejaVuSans"), shared
                assert other[shared] == defined[i][shared], shared
    assert [svg for _, svg in chart_svgs(data)] == svgs
    assert all(svg.startswith("<svg ") and " width=" not in svg.split(">")[0] for svg in svgs)


def test_draw_charts_when_drawn_then_date_charts_share_their_plot_area_edges(small):
    data, _, _ = small

    drawn = draw_charts(data)

    edges = {
        (round(ax.get_position().x0, 9), round(ax.get_position().x1, 9))
        for chart, fig in drawn
        if chart.dates
        for ax in fig.axes
    }
    assert len(edges) == 1
    assert [chart.name for chart, _ in drawn] == [c.name for c in CHARTS]
