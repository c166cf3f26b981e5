"""Expectations and built-in invariants over recorded runs (each fails when broken)."""

import datetime as dt
import json
import shutil
import sqlite3

import pytest

import run
from domain.scenario import (
    ExpectDecision,
    ExpectFinal,
    ExpectMetric,
    ExpectNever,
    ExpectNotice,
    ExpectSql,
    Window,
)
from sim.read.checks import check_expectation, check_invariants, check_run, connect_readonly
from sim.read.metrics import METRICS, compute
from tests.integration.builders import open_close_reopen, run_model, tampered_invariants

RUN = "t"


@pytest.fixture(scope="module")
def whipsaw_db(tmp_path_factory):
    """A recorded run where an open -> close -> reopen is blocked by whipsaw."""
    path = tmp_path_factory.mktemp("checks") / "w.db"
    _, mem = run_model(open_close_reopen("W", days=8, enabled={"grace_period": False}))
    disk = sqlite3.connect(path)
    mem.conn.backup(disk)
    disk.close()
    return path


def _check(db, exp):
    con = connect_readonly(db)
    try:
        return check_expectation(con, RUN, exp)
    finally:
        con.close()


def test_decision_when_whipsaw_blocked_reopen_then_passes_and_wrong_system_fails(whipsaw_db):
    ok = _check(
        whipsaw_db,
        ExpectDecision(asset="W", action="open", outcome="blocked", decided_by="whipsaw", min=1),
    )
    assert ok.passed
    bad = _check(
        whipsaw_db,
        ExpectDecision(
            asset="W", action="open", outcome="blocked", decided_by="holding_period", min=1, line=12
        ),
    )
    assert not bad.passed and "(line 12)" in bad.label
    assert bad.evidence[0] == "found 0"
    assert any("decided_by=whipsaw" in e for e in bad.evidence)


def test_never_when_approved_open_exists_then_fails_with_message_ids(whipsaw_db):
    res = _check(whipsaw_db, ExpectNever(action="open", asset="W"))
    assert not res.passed
    assert res.evidence[0].startswith("message ") and " W: action=open" in res.evidence[0]
    assert _check(whipsaw_db, ExpectNever(action="increase", asset="W")).passed


def test_never_when_window_excludes_the_open_then_passes(whipsaw_db):
    far = Window(dt.date(2030, 1, 1), dt.date(2030, 2, 1))
    assert _check(whipsaw_db, ExpectNever(action="open", asset="*", between=far)).passed


def test_notice_when_counted_then_min_and_max_bound(whipsaw_db):
    assert _check(whipsaw_db, ExpectNotice(event="whipsaw_blocked", asset="W", min=1)).passed
    res = _check(whipsaw_db, ExpectNotice(event="whipsaw_blocked", min=None, max=0))
    assert not res.passed and res.evidence[0].startswith("found ")


def test_final_when_holdings_and_equity_then_checked(whipsaw_db):
    res = _check(whipsaw_db, ExpectFinal(holdings_include=("W",), equity_min=2e6))
    assert not res.passed
    assert any("below" in e for e in res.evidence)
    assert _check(whipsaw_db, ExpectFinal(holdings_exclude=("W",), equity_max=2e6)).passed


def test_metric_when_bounds_then_value_in_evidence(whipsaw_db):
    trades = compute(connect_readonly(whipsaw_db), RUN, "trades")
    assert trades >= 2
    res = _check(whipsaw_db, ExpectMetric(name="trades", max=trades - 1))
    assert not res.passed and res.evidence == (f"trades = {trades:.6g}",)
    assert _check(whipsaw_db, ExpectMetric(name="whipsaw_cycles", min=1)).passed


def test_sql_when_two_runs_in_db_then_query_sees_only_this_run(whipsaw_db, tmp_path):
    db = tmp_path / "two.db"
    shutil.copy(whipsaw_db, db)
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO runs (run_id, scenario, status, config, initial_cash)"
        " VALUES ('other', 'x', 'completed', '{}', 1)"
    )
    con.execute(
        "INSERT INTO messages (run_id, id, step, date, round, sender, recipient, kind,"
        " payload) VALUES ('other', 1, 0, '2024-01-01', 0, 'a', '*', 'notice', '{}')"
    )
    con.commit()
    res = _check(
        db, ExpectSql(label="no other run", query="SELECT * FROM messages WHERE run_id != 't'")
    )
    assert res.passed
    res = _check(
        db, ExpectSql(label="any fill", query="SELECT id, asset FROM messages WHERE kind='fill'")
    )
    assert not res.passed and res.evidence[0].startswith("id=")


def test_sql_when_query_writes_then_refused(whipsaw_db):
    res = _check(whipsaw_db, ExpectSql(label="sneaky", query="DELETE FROM main.messages"))
    assert not res.passed and "query failed" in res.evidence[0]


def test_metrics_when_listed_then_every_required_name_registered():
    required = {
        "total_return",
        "max_drawdown",
        "sharpe",
        "sortino",
        "calmar",
        "volatility",
        "turnover",
        "costs",
        "trades",
        "whipsaw_cycles",
        "grace_recoveries",
        "grace_expiries",
        "core_designations",
        "core_revocations",
        "regime_overrides",
        "blocked_decisions",
    }
    assert required <= set(METRICS)


def test_metrics_when_known_equity_path_then_exact_values(tmp_path):
    db = tmp_path / "m.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE runs (run_id, initial_cash, config)")
    con.execute("CREATE TABLE equity (run_id, step, equity, turnover, costs)")
    con.execute("INSERT INTO runs VALUES ('r', 100.0, '{}')")
    for step, eq in enumerate([110.0, 99.0, 108.9]):
        con.execute("INSERT INTO equity VALUES ('r', ?, ?, 0.5, 1.0)", [step, eq])
    con.commit()
    ro = connect_readonly(db)
    assert compute(ro, "r", "total_return") == pytest.approx(0.089)
    assert compute(ro, "r", "max_drawdown") == pytest.approx(0.1)
    assert compute(ro, "r", "turnover") == pytest.approx(1.5)
    assert compute(ro, "r", "costs") == pytest.approx(3.0)
    import numpy as np

    r = np.array([0.1, -0.1, 0.1])
    assert compute(ro, "r", "volatility") == pytest.approx(np.std(r, ddof=1) * np.sqrt(252))
    assert compute(ro, "r", "sharpe") == pytest.approx(r.mean() / np.std(r, ddof=1) * np.sqrt(252))


def test_invariants_when_clean_run_then_all_hold(whipsaw_db):
    results = check_invariants(connect_readonly(whipsaw_db), RUN)
    assert len(results) == 8
    assert [r.label for r in results if not r.passed] == []


@pytest.mark.parametrize(
    ("label", "statement"),
    [
        ("cash never negative", "UPDATE equity SET cash = -5 WHERE step = 2"),
        (
            "cash plus holdings equals equity every step",
            "UPDATE equity SET equity = equity + 1 WHERE step = 3",
        ),
        ("invested weight at most 1", "UPDATE equity SET invested = equity * 1.5 WHERE step = 1"),
        (
            "no fill without an approved or amended decision",
            "UPDATE messages SET proposal_id = 'ghost' WHERE kind = 'fill'",
        ),
        (
            "exactly one decision per proposal",
            "DELETE FROM messages WHERE id = (SELECT MIN(id) FROM messages WHERE kind='decision')",
        ),
        (
            "no non-core position above the cap after a rebalance",
            "UPDATE snapshots SET weight = 0.5",
        ),
    ],
)
def test_invariants_when_rule_broken_then_that_invariant_fails(
    whipsaw_db, tmp_path, label, statement
):
    results = tampered_invariants(whipsaw_db, tmp_path, statement)
    assert not results[label].passed and results[label].evidence


def test_invariant_when_core_asset_sold_then_fails(whipsaw_db, tmp_path):
    first_fill = "(SELECT MIN(id) FROM messages WHERE kind='fill')"
    payload = json.dumps({"event": "core_designated", "details": {}})
    results = tampered_invariants(
        whipsaw_db,
        tmp_path,
        "INSERT INTO messages (run_id, id, step, date, round, sender, recipient, kind, asset,"
        f" payload) VALUES ('t', 0, 0, '2024-01-01', 0, 'core_asset', '*', 'notice', 'W',"
        f" '{payload}')",
        "UPDATE messages SET payload = json_set(payload, '$.side', 'sell')"
        f" WHERE id = {first_fill}",
    )
    assert not results["no core asset closed or reduced while core"].passed


def test_check_run_when_expectations_then_invariants_first_then_expectations(whipsaw_db):
    results = check_run(whipsaw_db, RUN, [ExpectNotice(event="whipsaw_blocked")])
    assert [r.kind for r in results] == ["invariant"] * 8 + ["expectation"]
    assert run.EXIT_FAILED_CHECKS == 1
