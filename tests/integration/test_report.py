"""`run.py report`, `run.py plot` and `run.py DIR --report`: what the page says, that it is
one self-contained file, the PNG files, the index of a directory run, and the runs a report
must still describe (a failed check, a changed scenario file, a crashed run, no step)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.read.charts.registry import CHARTS
from sim.read.html.page import write_report
from tests.integration.report_support import REPO, record

LIBRARY = REPO / "scenarios" / "library"
SMALL = REPO / "tests" / "data" / "run" / "small.yaml"
MAX_REPORT_BYTES = 5 * 1024 * 1024


def _main(*argv):
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=200))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    db = folder / "baseline.db"
    run_id = record(REPO / "scenarios" / "baseline.yaml", db)
    return db, run_id


def _failing_copy(folder: Path) -> Path:
    """small.yaml with one expectation that cannot hold."""
    path = folder / "small-failing.yaml"
    text = SMALL.read_text().replace("name: small", "name: small-failing")
    path.write_text(text + "expect:\n  - metric: {name: total_return, min: 5.0}\n")
    return path


def test_report_when_baseline_then_one_self_contained_file_under_5mb(baseline, tmp_path):
    db, _ = baseline
    code, out = _main("report", db, "--out", tmp_path / "r.html")

    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert code == 0 and "r.html" in out
    assert (tmp_path / "r.html").stat().st_size < MAX_REPORT_BYTES
    assert html.count("<svg ") == len(CHARTS)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html and "url(http" not in html


def test_report_when_baseline_then_header_names_run_config_and_checks(baseline, tmp_path):
    db, run_id = baseline

    html = write_report(db, run_id, tmp_path / "r.html").read_text(encoding="utf-8")

    assert f"run {run_id} in" in html
    assert '<span class="badge passed">passed</span>' in html
    assert "<td>seed</td><td>42</td>" in html
    assert "<td>rebalance_frequency</td><td>daily</td><td>weekly</td>" in html
    assert "Checked: the invariants and the expectations of" in html
    assert html.count('<td class="held">held</td>') == 8  # the invariants; baseline expects none
    for name in ("sharpe", "max_drawdown", "grace_expiries"):
        assert f"<td>{name}</td>" in html
    assert "<td>resolution.priority</td>" in html


def test_report_when_expectation_fails_then_failed_with_its_evidence(tmp_path):
    db = tmp_path / "f.db"
    record(_failing_copy(tmp_path), db)

    html = write_report(db).read_text(encoding="utf-8")

    assert '<span class="badge failed">failed</span>' in html
    assert "8 held, 1 failed." in html
    assert '<td class="failed">FAILED</td>' in html
    assert "metric total_return" in html


def test_report_when_scenario_file_changed_then_invariants_only_and_says_why(tmp_path):
    scenario = _failing_copy(tmp_path)
    db = tmp_path / "f.db"
    record(scenario, db)
    scenario.write_text(scenario.read_text() + "# edited after the run\n")

    html = write_report(db).read_text(encoding="utf-8")

    assert "Checked: the invariants only (" in html and "changed since the run)" in html
    assert '<span class="badge passed">passed</span>' in html  # the failing expect is not read


def test_report_when_scenario_file_gone_then_invariants_only_and_says_why(tmp_path):
    scenario = _failing_copy(tmp_path)
    db = tmp_path / "f.db"
    record(scenario, db)
    scenario.unlink()

    html = write_report(db).read_text(encoding="utf-8")

    assert f"Checked: the invariants only (the scenario file {scenario} is not here)" in html
    assert "8 held, 0 failed." in html


def test_report_when_run_crashed_then_drawn_and_not_checked(tmp_path):
    db = tmp_path / "c.db"
    spec, config = run.prepare(str(REPO / "tests" / "data" / "run" / "crashes.yaml"))
    _, code, _ = run.run_scenario(spec, config, db_path=db)
    assert code == run.EXIT_CRASH

    html = write_report(db).read_text(encoding="utf-8")

    assert "Not checked: the run is failed" in html
    assert '<span class="badge not-checked">not-checked</span>' in html
    assert html.count("<svg ") == len(CHARTS)


def test_report_when_run_has_no_step_then_every_chart_says_so(tmp_path):
    db = tmp_path / "e.db"
    run_id = record(SMALL, db)
    with sqlite3.connect(db) as con:
        for table in ("messages", "snapshots", "equity"):
            con.execute(f"DELETE FROM {table}")
        con.execute("UPDATE runs SET status = 'interrupted', steps_completed = 0")

    html = write_report(db, run_id, tmp_path / "e.html").read_text(encoding="utf-8")

    assert html.count("<svg ") == len(CHARTS)
    assert "Not checked: the run is interrupted" in html
    assert "No decisions." in html


def test_report_when_unknown_run_or_missing_db_then_exit_2_one_line(baseline, tmp_path):
    db, _ = baseline
    code, out = _main("report", db, "--run", "nope-s1-001")
    missing_code, missing_out = _main("report", tmp_path / "absent.db")

    assert code == 2 and out.startswith("unknown run 'nope-s1-001'") and out.count("\n") == 1
    assert missing_code == 2 and "absent.db" in missing_out
    assert not (tmp_path / "absent.db").exists()


def test_plot_when_run_then_one_png_per_chart(baseline, tmp_path):
    db, run_id = baseline
    code, out = _main("plot", db, "--run", run_id, "--out", tmp_path / "png")

    files = sorted((tmp_path / "png").iterdir())
    assert code == 0
    assert [f.name for f in files] == sorted(f"{c.name}.png" for c in CHARTS)
    for f in files:
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(f) in out


def test_dir_run_when_report_then_index_links_every_scenario_with_its_result(tmp_path, monkeypatch):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(LIBRARY / "whipsaw-blocks-reopen.yaml", scenarios)
    _failing_copy(scenarios)
    (scenarios / "broken.yaml").write_text("name: broken\n")
    monkeypatch.chdir(tmp_path)

    code, out = _main(scenarios, "--report", "out")

    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert code == 1
    assert "report: out/index.html" in out
    assert '<a href="whipsaw-blocks-reopen.html">' in index
    assert '<a href="small-failing.html">' in index
    assert '<td class="invalid">invalid</td>' in index and 'href="broken.html"' not in index
    assert index.count('<td class="passed">passed</td>') == 1
    assert index.count('<td class="failed">failed</td>') == 1
    for page in ("whipsaw-blocks-reopen.html", "small-failing.html"):
        assert "<svg " in (tmp_path / "out" / page).read_text(encoding="utf-8")
