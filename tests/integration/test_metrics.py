"""The metric registry over recorded runs: one declaration per metric, `metrics_of` agreeing
with `METRICS` and with the event database counted directly, closed positions adding up to
the run's P&L, and the metrics in the summary, `--json` and `inspect summary`."""

from __future__ import annotations

import json
import re
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
import yaml
from rich.console import Console

import run
from domain.scenario import ExpectMetric
from sim.read.checks import check_expectation, connect_readonly
from sim.read.metrics import (
    BREAKDOWNS,
    DECLARATIONS,
    GROUPS,
    METRIC_HELP,
    METRICS,
    REGISTRY,
    metrics_of,
)
from sim.read.metrics.run_data import RunData

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "scenarios" / "library"
SCENARIOS = ("one-day-crash", "regime-override-cooldown", "core-vs-whipsaw")
"""A starting book, closes and blocks; overrides of holding_period; core over whipsaw."""


def _main(*argv: object, width: int = 200) -> tuple[int, str]:
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=width))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, list[str]]:
    """Three library scenarios recorded into one database, and their run ids."""
    db = tmp_path_factory.mktemp("metrics") / "m.db"
    for name in SCENARIOS:
        code, out = _main(LIBRARY / f"{name}.yaml", "--db", db, "--quiet")
        assert code == 0, out
    ids = [r[0] for r in sqlite3.connect(db).execute("SELECT run_id FROM runs ORDER BY rowid")]
    return db, ids


def _sql(db: Path, sql: str, params: list) -> list[tuple]:
    return sqlite3.connect(db).execute(sql, params).fetchall()


def test_registry_when_declared_then_one_entry_per_name_with_group_unit_and_help():
    names = [d.name for d in REGISTRY]
    assert len(names) == len(set(names))
    assert list(METRICS) == names and list(METRIC_HELP) == names
    for d in REGISTRY:
        assert re.fullmatch(r"[a-z_]+", d.name), d.name
        assert d.group in GROUPS and d.unit, d.name
        assert d.help and "\n" not in d.help and len(d.help) <= 80, d.name
    required = {
        "total_return", "cagr", "volatility", "sharpe", "sortino", "calmar", "max_drawdown",
        "max_drawdown_days", "time_under_water", "turnover", "costs", "trades", "win_rate",
        "approved_decisions", "amended_decisions", "blocked_decisions",
        "overridden_objections", "held_back_weight", "grace_days", "core_days",
        "regime_overrides",
    }  # fmt: skip
    assert required <= set(names)


def test_registry_when_scenarios_name_metrics_then_every_name_registered():
    named = set()
    for path in [*LIBRARY.rglob("*.yaml"), *(REPO / "tests" / "data" / "good").glob("*.yaml")]:
        for item in yaml.safe_load(path.read_text()).get("expect") or []:
            if "metric" in item:
                named.add(item["metric"]["name"])
    assert named and named <= set(METRICS)


def test_metrics_of_when_run_then_run_wide_rows_equal_metrics_one_by_one(runs):
    db, ids = runs
    con = connect_readonly(db)
    for run_id in ids:
        rows = {m.name: m for m in metrics_of(con, run_id) if m.by is None}
        assert list(rows) == [d.name for d in REGISTRY]
        for name, m in rows.items():
            assert m.value == METRICS[name](con, run_id), (run_id, name)
            assert (m.group, m.unit) == (DECLARATIONS[name].group, DECLARATIONS[name].unit)


def test_metrics_of_when_breakdowns_then_each_dimension_adds_up_to_the_total(runs):
    db, ids = runs
    con = connect_readonly(db)
    for run_id in ids:
        values = metrics_of(con, run_id)
        totals = {m.name: m.value for m in values if m.by is None}
        for by in ("protection", "rule"):
            for d in BREAKDOWNS:
                part = [m.value for m in values if m.by == by and m.name == d.name]
                assert sum(part) == pytest.approx(totals[d.name]), (run_id, by, d.name)


def test_metrics_of_when_counted_by_sql_then_decisions_per_protection_and_rule_agree(runs):
    db, ids = runs
    con = connect_readonly(db)
    for run_id in ids:
        values = metrics_of(con, run_id)
        for by, field in (("protection", "decided_by"), ("rule", "rule")):
            for outcome in ("approved", "amended", "blocked"):
                counted = dict(
                    _sql(
                        db,
                        f"SELECT json_extract(payload, '$.{field}'), COUNT(*) FROM messages"
                        " WHERE run_id = ? AND kind = 'decision'"
                        " AND json_extract(payload, '$.outcome') = ? GROUP BY 1",
                        [run_id, outcome],
                    )
                )
                ours = {
                    m.key: m.value
                    for m in values
                    if m.by == by and m.name == f"{outcome}_decisions" and m.value
                }
                assert ours == counted, (run_id, by, outcome)


def test_metrics_of_when_every_protection_reviewed_then_each_is_a_row_even_with_zeros(runs):
    db, ids = runs
    con = connect_readonly(db)
    keys = {m.key for m in metrics_of(con, ids[0]) if m.by == "protection"}
    assert {"core_asset", "grace_period", "holding_period", "whipsaw", "orchestrator"} <= keys


def test_overridden_when_regime_override_lifts_holding_then_counted_under_its_rule(runs):
    db, ids = runs
    con = connect_readonly(db)
    run_id = ids[SCENARIOS.index("regime-override-cooldown")]
    values = metrics_of(con, run_id)
    overridden = {
        (m.by, m.key): m.value for m in values if m.name == "overridden_objections" and m.value
    }
    assert overridden == {
        (None, None): 2,
        ("protection", "holding_period"): 2,
        ("rule", "holding_period.minimum"): 2,
    }
    assert METRICS["regime_overrides"](con, run_id) == 2


def test_held_back_when_blocked_or_amended_then_equals_gap_to_proposal_in_sql(runs):
    db, ids = runs
    run_id = ids[SCENARIOS.index("one-day-crash")]
    (expected,) = _sql(
        db,
        "SELECT SUM(ABS(json_extract(p.payload, '$.to_weight')"
        " - json_extract(d.payload, '$.final_weight'))) FROM messages d"
        " JOIN messages p ON p.run_id = d.run_id AND p.id = d.in_reply_to"
        " WHERE d.run_id = ? AND d.kind = 'decision'"
        " AND json_extract(d.payload, '$.outcome') IN ('blocked', 'amended')",
        [run_id],
    )[0]
    assert expected > 0
    assert METRICS["held_back_weight"](connect_readonly(db), run_id) == pytest.approx(expected)


def test_closed_positions_when_added_to_open_ones_then_equal_the_run_pnl(runs):
    db, ids = runs
    con = connect_readonly(db)
    for run_id in ids:
        data = RunData(con, run_id)
        book = data.positions
        last = _sql(db, "SELECT MAX(step) FROM equity WHERE run_id = ?", [run_id])[0][0]
        value = dict(
            _sql(db, "SELECT asset, value FROM snapshots WHERE run_id = ? AND step = ?",
                 [run_id, last])
        )  # fmt: skip
        assert set(value) == set(book.open)
        pnl = sum(p.pnl for p in book.closed) + sum(
            value[a] + p.proceeds - p.cost for a, p in book.open.items()
        )
        assert pnl == pytest.approx(data.levels[-1] - data.levels[0], rel=1e-9, abs=1e-6)
    assert METRICS["closed_positions"](con, ids[0]) >= 1


def test_metric_check_when_metric_undefined_then_fails_saying_so(tmp_path):
    db = tmp_path / "flat.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE runs (run_id, initial_cash, config)")
    con.execute("CREATE TABLE equity (run_id, step, equity)")
    con.execute("INSERT INTO runs VALUES ('r', 100.0, '{}')")
    con.executemany("INSERT INTO equity VALUES ('r', ?, 100.0)", [[s] for s in range(5)])
    con.commit()
    ro = connect_readonly(db)
    assert METRICS["sharpe"](ro, "r") is None and METRICS["volatility"](ro, "r") == 0
    result = check_expectation(ro, "r", ExpectMetric(name="sharpe", min=0.0))
    assert not result.passed
    assert result.evidence == ("sharpe is undefined for this run",)


def test_run_when_json_then_every_metric_and_both_breakdowns_present(tmp_path, capsys):
    code, _ = _main(LIBRARY / "one-day-crash.yaml", "--db", tmp_path / "j.db", "--json")
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(data["metrics"]) == set(METRICS)
    assert data["metrics"]["max_drawdown"] >= 0.1
    assert data["breakdowns"]["protection"]["core_asset"]["blocked_decisions"] > 0
    assert set(data["breakdowns"]["rule"]) >= {"core_asset.immunity", "resolution.priority"}


def test_inspect_summary_when_piped_at_80_columns_then_metrics_and_keys_not_cropped(runs):
    db, ids = runs
    code, out = _main("inspect", db, "summary", "--run", ids[0], width=80)
    assert code == 0
    assert "…" not in out
    for text in ("sharpe", "max_drawdown_days", "win_rate", "Decisions by protection",
                 "Decisions by rule", "core_asset.immunity", "holding_period.minimum"):  # fmt: skip
        assert text in out, text
    assert max(len(line) for line in out.splitlines()) <= 80


def test_inspect_summary_when_json_then_metrics_equal_metrics_of(runs):
    db, ids = runs
    code, out = _main("inspect", db, "summary", "--run", ids[1], "--json")
    assert code == 0
    data = json.loads(out)
    con = connect_readonly(db)
    expected = {m.name: m.value for m in metrics_of(con, ids[1]) if m.by is None}
    assert data["metrics"] == expected


def test_metrics_command_when_listed_then_every_name_with_its_group_and_unit():
    code, out = _main("metrics")
    assert code == 0
    for d in REGISTRY:
        line = next(line for line in out.splitlines() if f" {d.name} " in line)
        assert f"[{d.unit}]" in line or f"[{d.unit}]" in out, d.name
    assert all(group in out for group in GROUPS)
