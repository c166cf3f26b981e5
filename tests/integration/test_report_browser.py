"""The report in a real browser: headless Chromium opens a baseline report offline, every
chart is drawn and no script or console error is logged; a page with a chart missing or a
script error is caught by the same check (so the check can fail)."""

from __future__ import annotations

import re
import struct

import pytest

from sim.read.charts.registry import CHARTS
from sim.read.html.page import write_report
from tests.integration.report_support import CHROMIUM, CHROMIUM_MISSING, REPO, browse, record

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=CHROMIUM_MISSING)


@pytest.fixture(scope="module")
def baseline_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "baseline.db"
    record(REPO / "scenarios" / "baseline.yaml", db)
    return write_report(db, out=folder / "baseline.html")


def _title(dom: str) -> str:
    match = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert match, dom[:500]
    return match.group(1)


def _png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_when_opened_in_headless_chromium_then_every_chart_drawn_and_no_error(
    baseline_report,
):
    seen = browse(baseline_report, baseline_report.with_suffix(".png"))

    assert _title(seen.dom).endswith("[report-ok]"), _title(seen.dom)
    assert seen.dom.count('<figure class="chart"') == len(CHARTS)
    for chart in CHARTS:
        assert f'data-chart="{chart.name}"' in seen.dom
    assert "Uncaught" not in seen.log
    assert "ERROR:CONSOLE" not in seen.log
    assert _png_size(seen.screenshot) == (1280, 2400)
    assert seen.screenshot.stat().st_size > 50_000  # a drawn page, not a blank one


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda html: html.replace("<svg ", "<div ", 1), "3 of 4 charts drawn"),
        (lambda html: html.replace("</body>", "<script>nosuchfunction()</script></body>"),
         "nosuchfunction"),
        (lambda html: html.replace("</body>", "<script>console.error('bad')</script></body>"),
         "bad"),
    ],
    ids=["chart-missing", "script-error", "console-error"],
)  # fmt: skip
def test_load_check_when_page_broken_then_title_says_what_went_wrong(
    baseline_report, tmp_path, damage, expected
):
    broken = tmp_path / "broken.html"
    broken.write_text(damage(baseline_report.read_text(encoding="utf-8")), encoding="utf-8")

    seen = browse(broken)

    title = _title(seen.dom)
    assert "[report-error:" in title
    assert expected in title
