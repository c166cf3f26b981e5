"""Rule coverage: the SQL over a hand-built event DB, and `run.py coverage` over two real
library scenarios, one of them the only one exercising the core extension rules."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

import run
from domain.catalogue import RULES
from domain.config import PARAMS
from sim.read.coverage import config_rules, coverage_of, params_off_default, read_db

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "scenarios" / "library"
EXTENSION = "core-extension-limit"  # the library's only scenario extending a core holding
EXPIRY = "core-expiry"
EXTENSION_RULES = {"core_asset.extension", "core_asset.extension_limit"}


def _tiny_db(path: Path) -> None:
    """An event DB with two runs: `a` (every kind that counts, and rows that do not) and
    `b` (one notice); the tables `open_readonly` requires."""
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE runs (run_id TEXT, scenario TEXT, config TEXT, started_at TEXT);"
        "CREATE TABLE messages (id INTEGER, run_id TEXT, kind TEXT, payload TEXT);"
        "CREATE TABLE snapshots (run_id TEXT); CREATE TABLE equity (run_id TEXT);"
    )
    config = {
        **{n: p.default for n, p in PARAMS.items()},
        "grace_period_days": 3,
        "diversification_mode": "strict",
    }
    con.executemany(
        "INSERT INTO runs VALUES (?, ?, ?, ?)",
        [("a-1", "a", json.dumps(config), "1"), ("b-1", "b", "{}", "2")],
    )
    rows = [
        ("a-1", "verdict", {"stance": "approve", "rule": "holding_period.minimum"}),
        ("a-1", "verdict", {"stance": "abstain", "rule": None}),
        ("a-1", "decision", {"rule": "resolution.priority"}),
        ("a-1", "notice", {"event": "x", "rule": "custom.own_rule"}),
        (
            "a-1",
            "proposal",
            {"components": {"rule": "sizing.cap", "rules": {"s": "sizing.drawdown"}}},
        ),
        ("a-1", "fill", {"rules": ["execution.costs", "execution.cash_floor"]}),
        ("a-1", "regime_update", {"rules": ["regime.severity"]}),
        ("a-1", "score_update", {"rule": "scoring.score"}),
        ("a-1", "replan_request", {"rule": "resolution.replan"}),
        ("a-1", "intervention", {"details": {"rule": "core_asset.extension"}}),  # nested: no
        ("b-1", "notice", {"event": "x", "rule": "whipsaw.window"}),
    ]
    con.executemany(
        "INSERT INTO messages VALUES (?, ?, ?, ?)",
        [(i, r, k, json.dumps(p)) for i, (r, k, p) in enumerate(rows)],
    )
    con.commit()
    con.close()


def test_read_db_when_runs_name_rules_then_exactly_the_counted_kinds(tmp_path):
    _tiny_db(tmp_path / "e.db")

    a, b = read_db(str(tmp_path / "e.db"))

    assert dict(a.rules) == {
        "holding_period.minimum": ("verdict",),
        "resolution.priority": ("decision",),
        "custom.own_rule": ("notice",),
        "sizing.cap": ("proposal",),
        "sizing.drawdown": ("proposal",),
        "execution.costs": ("fill",),
        "execution.cash_floor": ("fill",),
        "regime.severity": ("regime_update",),
        "scoring.score": ("score_update",),
        "resolution.replan": ("replan_request",),
        "configuration.diversification_mode": ("config",),
    }
    assert dict(b.rules) == {"whipsaw.window": ("notice",)}
    assert set(a.params_set) == {"grace_period_days", "diversification_mode"} and b.params_set == ()


def test_coverage_of_when_two_runs_then_scenarios_per_rule_and_the_rest_unexercised(tmp_path):
    _tiny_db(tmp_path / "e.db")

    result = coverage_of(read_db(str(tmp_path / "e.db")))

    by_id = {r.rule.id: r.scenarios for r in result.rules}
    assert {i for i, s in by_id.items() if s} == {
        "holding_period.minimum",
        "resolution.priority",
        "sizing.cap",
        "sizing.drawdown",
        "whipsaw.window",
        "execution.costs",
        "execution.cash_floor",
        "regime.severity",
        "scoring.score",
        "resolution.replan",
        "configuration.diversification_mode",
    }
    assert by_id["whipsaw.window"] == ("b",)
    assert set(result.unexercised) == set(RULES) - set(result.exercised)
    assert "core_asset.extension" in result.unexercised
    assert dict(result.uncatalogued) == {"custom.own_rule": ("a",)}
    assert result.params_set["grace_period_days"] == ("a",)
    moved = {"grace_period_days", "diversification_mode"}
    assert set(result.params_unset) == set(PARAMS) - moved
    assert result.score_line() == (
        f"rules exercised: 11/{len(RULES)}; parameters set off their default: 2/{len(PARAMS)}"
    )


@pytest.mark.parametrize(
    ("moved", "expected"),
    [
        ({}, ()),
        ({"diversification_mode": "balanced"}, ()),
        ({"diversification_mode": "aggressive"}, ("configuration.diversification_mode",)),
        ({"grace_period_days": 3}, ()),
        ({"max_new_positions": 5}, ("configuration.combinations",)),
        (
            {"diversification_mode": "strict", "min_position_size": 0.03},
            ("configuration.diversification_mode", "configuration.combinations"),
        ),
    ],
)
def test_config_rules_when_config_moves_parameters_then_the_configuration_rules_named(
    moved, expected
):
    config = {**{n: p.default for n, p in PARAMS.items()}, **moved}
    assert config_rules(config) == expected


def test_params_off_default_when_value_equals_default_then_not_listed():
    config = {"grace_period_days": PARAMS["grace_period_days"].default, "commission": 0.5}
    assert params_off_default(config) == ("commission",)


def _library_copy(directory: Path, *names: str) -> Path:
    directory.mkdir()
    for name in names:
        shutil.copy(LIBRARY / f"{name}.yaml", directory / f"{name}.yaml")
    return directory


def _coverage_json(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run.main(["coverage", *argv, "--json"], console=Console(file=out))
    return code, out.getvalue()


def _rules(report: dict) -> dict[str, list[str]]:
    return {r["id"]: r["scenarios"] for r in report["rules"]}


def test_coverage_when_only_scenario_of_a_rule_left_out_then_rule_unexercised(tmp_path, capsys):
    both = _library_copy(tmp_path / "both", EXTENSION, EXPIRY)
    one = _library_copy(tmp_path / "one", EXPIRY)

    code_both, _ = _coverage_json(str(both))
    with_it = json.loads(capsys.readouterr().out)
    code_one, _ = _coverage_json(str(one))
    without = json.loads(capsys.readouterr().out)

    assert code_both == code_one == 0
    assert all(_rules(with_it)[r] == [EXTENSION] for r in EXTENSION_RULES)
    assert set(without["unexercised"]) >= EXTENSION_RULES
    assert EXTENSION_RULES.isdisjoint(with_it["unexercised"])
    assert with_it["scenarios"] == sorted([EXTENSION, EXPIRY]) and without["scenarios"] == [EXPIRY]
    assert without["exercised"] < with_it["exercised"]


def test_coverage_when_db_names_recorded_runs_then_same_as_running(tmp_path, capsys):
    both = _library_copy(tmp_path / "both", EXTENSION, EXPIRY)
    folder, file = tmp_path / "runs", tmp_path / "all.db"
    summary = io.StringIO()
    assert run.main([str(both), "--db", f"{folder}/"], console=Console(file=summary)) == 0
    assert (
        run.main([str(both), "--db", str(file), "--quiet"], console=Console(file=io.StringIO()))
        == 0
    )

    reports = []
    for argv in ([str(both)], [str(both), "--db", f"{folder}/"], [str(both), "--db", str(file)]):
        assert _coverage_json(*argv)[0] == 0
        reports.append(json.loads(capsys.readouterr().out))

    assert reports[0] == reports[1] == reports[2]
    assert reports[0]["not_run"] == []
    line = summary.getvalue().splitlines()[-1]
    assert line.startswith(f"coverage: {reports[0]['score']} (python run.py coverage ")


def test_coverage_when_db_lacks_a_scenario_then_listed_as_not_recorded(tmp_path, capsys):
    both = _library_copy(tmp_path / "both", EXTENSION, EXPIRY)
    one = _library_copy(tmp_path / "one", EXPIRY)
    folder = tmp_path / "runs"
    run.main([str(one), "--db", f"{folder}/", "--quiet"], console=Console(file=io.StringIO()))

    code, _ = _coverage_json(str(both), "--db", f"{folder}/")
    report = json.loads(capsys.readouterr().out)

    assert code == 0 and report["scenarios"] == [EXPIRY]
    assert [r["result"] for r in report["not_run"]] == ["not recorded"]
    assert report["not_run"][0]["path"].endswith(f"{EXTENSION}.yaml")


def test_coverage_when_table_asked_then_rows_unexercised_lists_and_score_line(tmp_path):
    one = _library_copy(tmp_path / "one", EXPIRY)
    out = io.StringIO()

    code = run.main(["coverage", str(one)], console=Console(file=out, width=200))

    lines = out.getvalue().splitlines()
    assert code == 0
    assert any(
        line.startswith("unexercised rules (") and "core_asset.extension_limit" in line
        for line in lines
    )
    assert any(line.startswith("parameters no scenario set off its default (") for line in lines)
    assert lines[-1].startswith("rules exercised: ")
    assert any("core_asset.expiry" in line and EXPIRY in line for line in lines)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["coverage", "NOWHERE"], "NOWHERE: no scenario files (*.yaml) below it"),
        (
            ["coverage", "scenarios/library", "--db", "no-such.db"],
            "no such event database: no-such.db",
        ),
        (
            ["coverage", "scenarios/library", "--jobs", "0"],
            "run.py: --jobs: must be in [1, 64], got 0",
        ),
    ],
)
def test_coverage_when_bad_input_then_one_line_and_exit_2(argv, message):
    out = io.StringIO()
    assert run.main(argv, console=Console(file=out, width=200)) == 2
    assert out.getvalue().strip() == message


@pytest.mark.slow
def test_coverage_when_library_minus_a_rules_only_scenario_then_that_rule_unexercised(
    tmp_path, capsys
):
    folder = tmp_path / "runs"
    run.main(
        [str(LIBRARY), "--db", f"{folder}/", "--jobs", "2", "--quiet"],
        console=Console(file=io.StringIO()),
    )
    _coverage_json(str(LIBRARY), "--db", f"{folder}/")
    full = _rules(json.loads(capsys.readouterr().out))
    single = {rule: s[0] for rule, s in full.items() if len(s) == 1}
    assert single  # the library has rules exercised by one scenario only

    for scenario in sorted(set(single.values())):
        rest = tmp_path / f"minus-{scenario}"
        shutil.copytree(LIBRARY, rest, ignore=shutil.ignore_patterns(f"{scenario}.yaml"))
        _coverage_json(str(rest), "--db", f"{folder}/")
        without = json.loads(capsys.readouterr().out)
        lost = {rule for rule, s in single.items() if s == scenario}
        assert lost <= set(without["unexercised"]), scenario
