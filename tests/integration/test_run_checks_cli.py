"""run.py with checks: exit 1 with evidence, DIR runs, skips, metrics listing."""

import json
import shutil
from io import StringIO
from pathlib import Path

from rich.console import Console

import run

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "run"


def _main(*argv, width=250):
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=width))
    return code, out.getvalue()


def _with_expect(tmp_path, expect_yaml, name="small-expect"):
    text = (DATA / "small.yaml").read_text().replace("name: small", f"name: {name}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text + "expect:\n" + expect_yaml)
    return path


def test_run_when_expectation_fails_then_exit_1_with_evidence(tmp_path):
    path = _with_expect(tmp_path, "  - never: {action: open, asset: '*'}\n")
    code, out = _main(path, "--db", tmp_path / "e.db", "--quiet")
    assert code == 1
    assert "never open *" in out and "FAILED" in out and "message " in out


def test_run_when_expectations_hold_then_exit_0_and_json_lists_checks(tmp_path, capsys):
    path = _with_expect(tmp_path, "  - metric: {name: max_drawdown, max: 0.99}\n")
    code, _ = _main(path, "--db", tmp_path / "e.db", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["exit_code"] == 0
    kinds = [c["kind"] for c in summary["checks"]]
    assert kinds.count("invariant") == 8 and kinds.count("expectation") == 1
    assert all(c["passed"] for c in summary["checks"])


def test_run_when_unknown_metric_then_exit_2_and_nothing_written(tmp_path):
    path = _with_expect(tmp_path, "  - metric: {name: happiness, min: 1}\n")
    db = tmp_path / "e.db"
    code, out = _main(path, "--db", db)
    assert code == 2 and "happiness" in out and "max_drawdown" in out
    assert not db.exists()


def test_run_when_required_file_absent_then_skipped_with_reason(tmp_path):
    text = (DATA / "small.yaml").read_text() + "requires: [no/such/prices.csv]\n"
    path = tmp_path / "needs.yaml"
    path.write_text(text)
    code, out = _main(path, "--db", tmp_path / "e.db")
    assert code == 0 and "skipped" in out and "no/such/prices.csv" in out
    assert not (tmp_path / "e.db").exists()


def test_run_dir_when_mixed_then_one_row_each_and_exit_1(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(DATA / "small.yaml", lib / "small.yaml")
    _with_expect(lib, "  - never: {action: open, asset: '*'}\n", name="fails")
    (lib / "broken.yaml").write_text("name: broken\n")
    code, out = _main(lib, "--jobs", "2")
    assert code == 1
    assert "small" in out and "passed" in out
    assert "fails" in out and "failed" in out
    assert "broken" in out and "invalid" in out
    assert "3 scenarios: 1 passed, 2 failed, 0 skipped" in out
    assert (tmp_path / "runs" / "small.db").exists()


def test_run_dir_when_all_hold_then_exit_0(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(DATA / "small.yaml", lib / "small.yaml")
    code, out = _main(lib)
    assert code == 0 and "1 scenarios: 1 passed, 0 failed, 0 skipped" in out


def test_metrics_when_listed_then_every_metric_named():
    code, out = _main("metrics")
    assert code == 0
    for name in ("total_return", "sortino", "whipsaw_cycles", "blocked_decisions"):
        assert name in out


def test_rules_when_listed_then_table_names_ids_parameters_and_sections():
    code, out = _main("rules")
    assert code == 0
    for text in ("holding_period.minimum", "position_holding_period_min", "6. Protection"):
        assert text in out


def test_rules_when_json_then_every_rule_with_owner_params_statement_section(capsys):
    code = run.main(["rules", "--json"], console=Console(file=StringIO()))
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and len(rows) >= 30
    assert set(rows[0]) == {"id", "owner", "params", "statement", "section"}
    whipsaw = next(r for r in rows if r["id"] == "whipsaw.window")
    assert whipsaw["owner"] == "whipsaw"
    assert whipsaw["params"] == ["whipsaw_max_cycles", "whipsaw_protection_days"]
