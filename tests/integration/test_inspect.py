"""`run.py inspect`: every sub-command on the database of a known scenario.

The fixture scenario (tests/data/inspect/whipsaw.yaml) has flat prices and scripted scores:
AAA opens on 2024-01-01, the re-sizing of AAA and BBB on 2024-01-02 is blocked by
holding_period, AAA's close is amended into its grace schedule on 2024-01-04, grace expires
and AAA is closed on 2024-01-09, the regime changes on 2024-01-10, and every reopen of AAA
from 2024-01-11 on is blocked by whipsaw.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.read.compare import compare_runs
from sim.read.inspect_cli import inspect_command
from sim.read.protection_history import protection_history
from sim.read.queries import InspectError, open_readonly
from sim.read.steps import events_of_interest, step_data
from sim.read.why import why

REPO = Path(__file__).resolve().parents[2]
SCENARIO = str(REPO / "tests" / "data" / "inspect" / "whipsaw.yaml")
RUN1 = "inspect-whipsaw-s5-001"
RUN2 = "inspect-whipsaw-s5-002"
RUN3 = "inspect-whipsaw-s5-003"


def _run(db: Path, *extra: str, expected: int = 0) -> None:
    code = run.main([SCENARIO, "--db", str(db), "--quiet", *extra], Console(file=io.StringIO()))
    assert code == expected


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """One run of the fixture scenario."""
    path = tmp_path_factory.mktemp("inspect") / "whipsaw.db"
    _run(path)
    return path


@pytest.fixture(scope="module")
def runs_db(tmp_path_factory) -> Path:
    """Three runs: two identical ones, then one with a 1-day whipsaw window (the latest)."""
    path = tmp_path_factory.mktemp("inspect3") / "three.db"
    _run(path)
    _run(path)
    # the scenario's whipsaw expectations fail with a 1-day window: exit 1, still recorded
    _run(path, "--set", "whipsaw_protection_days=1", expected=1)
    return path


def inspect(*argv: str) -> tuple[int, str]:
    console = Console(file=io.StringIO(), width=220)
    code = inspect_command([str(a) for a in argv], console)
    return code, console.file.getvalue()


def sql(db: Path, query: str, params=()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, params).fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- opening ------------------------------------------------------------------------------


def test_inspect_when_db_missing_then_exit_2_naming_path(tmp_path):
    code, out = inspect(tmp_path / "nope.db", "runs")
    assert code == 2
    assert "no such event database" in out and "nope.db" in out
    assert not (tmp_path / "nope.db").exists()


def test_inspect_when_file_not_sqlite_then_exit_2(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("not a database at all " * 100)
    code, out = inspect(bad, "runs")
    assert code == 2
    assert "not an SQLite database" in out


def test_inspect_when_sqlite_without_bulwark_tables_then_exit_2(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE runs (x)")
    code, out = inspect(other, "runs")
    assert code == 2
    assert "not a Bulwark event database" in out and "messages" in out


def test_inspect_when_unknown_run_then_exit_2_listing_runs(db):
    code, out = inspect(db, "summary", "--run", "inspect-whipsaw-s5-009")
    assert code == 2
    assert "unknown run 'inspect-whipsaw-s5-009'" in out and RUN1 in out


def test_inspect_when_bad_arguments_then_exit_2_with_usage_message(db):
    code, out = inspect(db, "explain")
    assert code == 2
    assert "invalid choice" in out


def test_open_readonly_when_write_attempted_on_connection_then_sqlite_refuses(db):
    conn = open_readonly(db)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM messages")
    conn.close()


def test_inspect_when_run_then_database_bytes_unchanged(db):
    before = digest(db)
    for argv in (
        ["runs"],
        ["summary"],
        ["timeline", "AAA"],
        ["why", "AAA", "2024-01-11"],
        ["blocked"],
        ["protections", "AAA"],
        ["compare", RUN1, RUN1],
        ["sql", "SELECT COUNT(*) FROM messages"],
    ):
        assert inspect(db, *argv)[0] == 0
    assert digest(db) == before


# --- runs and summary ---------------------------------------------------------------------


def test_runs_when_three_runs_then_each_listed_with_status_and_steps(runs_db):
    code, out = inspect(runs_db, "runs")
    assert code == 0
    lines = [line for line in out.splitlines() if "inspect-whipsaw-s5-" in line]
    assert [line.split()[1] for line in lines] == [RUN1, RUN2, RUN3]
    assert all("completed" in line and " 14 " in line for line in lines)


def test_summary_when_no_run_given_then_latest_run(runs_db):
    code, out = inspect(runs_db, "summary")
    assert code == 0
    assert f"Bulwark run {RUN3}" in out


def test_summary_when_run_given_then_its_trades_and_blocks(runs_db):
    code, out = inspect(runs_db, "summary", "--run", RUN1, "--json")
    assert code == 0
    data = json.loads(out)
    fills = sql(runs_db, "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'fill'", [RUN1])
    assert data["run_id"] == RUN1
    assert data["trades"] == fills[0][0]
    blocked = sql(
        runs_db,
        "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'decision'"
        " AND json_extract(payload, '$.outcome') = 'blocked'",
        [RUN1],
    )[0][0]
    by_whipsaw = sql(
        runs_db,
        "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'decision'"
        " AND json_extract(payload, '$.decided_by') = 'whipsaw'",
        [RUN1],
    )[0][0]
    assert blocked >= by_whipsaw >= 6  # AAA's reopen is blocked every day from 2024-01-11
    assert data["decisions_by_outcome"]["blocked"] == blocked
    assert data["decisions_by_system"]["whipsaw"] == by_whipsaw


# --- timeline -----------------------------------------------------------------------------


def test_timeline_when_ticker_then_every_message_about_it_in_order(db):
    code, out = inspect(db, "timeline", "AAA", "--json")
    assert code == 0
    ids = [m["id"] for m in json.loads(out)]
    expected = sql(
        db, "SELECT id FROM messages WHERE run_id = ? AND asset = 'AAA' ORDER BY id", [RUN1]
    )
    assert ids == [r[0] for r in expected]


def test_timeline_when_rendered_then_shows_kinds_and_decisions(db):
    code, out = inspect(db, "timeline", "AAA")
    assert code == 0
    assert f"Timeline of AAA in {RUN1}" in out
    assert "grace_started" in out and "whipsaw_blocked" in out
    assert "blocked by whipsaw" in out


def test_timeline_when_unknown_ticker_then_exit_2_with_suggestion(db):
    code, out = inspect(db, "timeline", "AAB")
    assert code == 2
    assert "unknown ticker 'AAB'" in out and "did you mean 'AAA'" in out


def test_timeline_when_ticker_holds_sql_then_bound_as_a_value(db):
    code, out = inspect(db, "timeline", "AAA' OR '1'='1")
    assert code == 2
    assert "unknown ticker" in out


# --- why ----------------------------------------------------------------------------------


def test_why_when_reopen_blocked_then_root_cause_names_whipsaw(db):
    code, out = inspect(db, "why", "AAA", "2024-01-11")
    assert code == 0
    assert "Why AAA on 2024-01-11 (step 8" in out
    assert "open BLOCKED by whipsaw (priority 5, block)" in out
    assert "AAA completed 1 open/close cycle(s) in the last 14 days (limit 1)" in out
    assert "regime" in out and "Reflation" in out
    assert "components" in out and "override_score=0.9" in out
    for system, priority in (
        ("core_asset", 1),
        ("grace_period", 3),
        ("holding_period", 4),
        ("whipsaw", 5),
    ):
        assert any(f"{priority} │ {system}" in line for line in out.splitlines()), system


def test_why_when_reopen_blocked_then_data_chain_complete(db):
    conn = open_readonly(db)
    data = why(conn, RUN1, "AAA", "2024-01-11")
    conn.close()
    assert data["step"] == 8 and data["score"] == 0.9
    (chain,) = data["chains"]
    assert chain["proposal"]["payload"]["action"] == "open"
    assert [v["payload"]["priority"] for v in chain["verdicts"]] == [1, 3, 4, 5]
    assert chain["decision"]["payload"]["decided_by"] == "whipsaw"
    assert chain["decision"]["payload"]["outcome"] == "blocked"
    assert chain["fills"] == []
    assert [n["payload"]["event"] for n in data["notices"]] == ["whipsaw_blocked"]
    assert data["before"] is None and data["after"] is None
    assert data["regime"]["regime"] == "Reflation"


def test_why_when_resize_of_young_position_then_root_cause_names_holding_period(db):
    code, out = inspect(db, "why", "BBB", "2024-01-02")
    assert code == 0
    assert "reduce BLOCKED by holding_period (priority 4, block): held 1 of 3 minimum days" in out
    assert "HOLD 0 days" in out and "HOLD 1 day" in out


def test_why_when_close_amended_then_root_cause_names_grace_period(db):
    code, out = inspect(db, "why", "AAA", "2024-01-04")
    assert code == 0
    assert "close AMENDED by grace_period (priority 3, amend)" in out
    assert "grace_started" in out


def test_why_when_step_number_given_then_same_as_its_date(db):
    assert inspect(db, "why", "AAA", "8") == inspect(db, "why", "AAA", "2024-01-11")


def test_why_when_no_proposal_that_day_then_context_and_nearest_decisions(db):
    code, out = inspect(db, "why", "AAA", "2024-01-10")
    assert code == 0
    assert "changed from Goldilocks" in out
    assert "no proposal about AAA on 2024-01-10" in out
    assert "before 2024-01-09, after 2024-01-11" in out


def test_why_when_weekend_then_exit_2_with_nearest_days(db):
    code, out = inspect(db, "why", "AAA", "2024-01-06")
    assert code == 2
    assert "2024-01-06 is not a simulated day" in out and "2024-01-05, 2024-01-08" in out


@pytest.mark.parametrize("when", ["11/01/2024", "2024-13-01", "2024-01-11' OR 1=1 --"])
def test_why_when_date_malformed_then_exit_2(db, when):
    code, out = inspect(db, "why", "AAA", when)
    assert code == 2
    assert "expected a date YYYY-MM-DD or a step number" in out


def test_why_when_step_beyond_run_then_exit_2(db):
    code, out = inspect(db, "why", "AAA", "14")
    assert code == 2
    assert "no step 14" in out and "0..13" in out


# --- blocked ------------------------------------------------------------------------------


def test_blocked_when_no_filter_then_every_blocked_decision_in_order(db):
    code, out = inspect(db, "blocked", "--json")
    assert code == 0
    rows = json.loads(out)
    expected = sql(
        db,
        "SELECT id FROM messages WHERE run_id = ? AND kind = 'decision'"
        " AND json_extract(payload, '$.outcome') = 'blocked' ORDER BY id",
        [RUN1],
    )
    assert [r["id"] for r in rows] == [e[0] for e in expected]
    assert {r["decided_by"] for r in rows} == {"holding_period", "whipsaw"}


def test_blocked_when_system_given_then_only_its_blocks(db):
    code, out = inspect(db, "blocked", "--system", "whipsaw")
    assert code == 0
    assert "decided by whipsaw (6)" in out
    assert "holding_period" not in out
    rows = json.loads(inspect(db, "blocked", "--system", "whipsaw", "--json")[1])
    assert [(r["date"], r["asset"], r["action"]) for r in rows][:2] == [
        ("2024-01-11", "AAA", "open"),
        ("2024-01-12", "AAA", "open"),
    ]


def test_blocked_when_two_systems_block_then_the_other_is_listed(db, tmp_path):
    both = tmp_path / "both.db"
    shutil.copy(db, both)
    with sqlite3.connect(both) as conn:
        conn.execute(
            "INSERT INTO messages (id, run_id, step, date, round, sender, recipient, kind,"
            " asset, proposal_id, in_reply_to, payload) VALUES (10000, ?, 1, '2024-01-02', 0,"
            " 'whipsaw', 'orchestrator', 'verdict', 'BBB', '1:0:pm:1', NULL, ?)",
            [
                RUN1,
                json.dumps(
                    {"system": "whipsaw", "stance": "block", "priority": 5, "reason": "test"}
                ),
            ],
        )
    code, out = inspect(both, "blocked", "--system", "holding_period", "--json")
    assert code == 0
    also = {(r["date"], r["asset"]): r["also_blocked_by"] for r in json.loads(out)}
    assert also[("2024-01-02", "BBB")] == ["whipsaw"]
    assert also[("2024-01-02", "AAA")] == []
    assert "also blocked by" in inspect(both, "blocked")[1]


def test_blocked_when_unknown_system_then_exit_2_with_suggestion(db):
    code, out = inspect(db, "blocked", "--system", "whipsow")
    assert code == 2
    assert "unknown system 'whipsow'" in out and "did you mean 'whipsaw'" in out


# --- protections --------------------------------------------------------------------------


def test_protections_when_asset_graced_out_and_reopen_blocked_then_periods(db):
    conn = open_readonly(db)
    data = protection_history(conn, RUN1, "AAA")
    conn.close()
    periods = {p["state"]: (p["first_date"], p["last_date"], p["detail"]) for p in data["periods"]}
    assert periods == {
        "held": ("2024-01-01", "2024-01-08", "day 0..7"),
        "grace": ("2024-01-04", "2024-01-08", "day 0..4"),
        "whipsaw-blocked": (
            "2024-01-11",
            "2024-01-18",
            "opens blocked on 6 day(s); opens allowed again from 2024-01-23",
        ),
    }
    kinds = [
        (e["kind"], e["payload"].get("event") or e["payload"].get("stance")) for e in data["events"]
    ]
    assert kinds[:3] == [("verdict", "block"), ("verdict", "block"), ("notice", "grace_started")]


def test_protections_when_rendered_then_states_and_events_shown(db):
    code, out = inspect(db, "protections", "AAA")
    assert code == 0
    assert "Protection periods of AAA" in out
    assert "whipsaw-blocked" in out and "grace_expired" in out


# --- compare ------------------------------------------------------------------------------


def test_compare_when_identical_runs_then_no_divergence_and_zero_deltas(runs_db):
    code, out = inspect(runs_db, "compare", RUN1, RUN2, "--json")
    assert code == 0
    data = json.loads(out)
    n = sql(runs_db, "SELECT COUNT(*) FROM messages WHERE run_id = ?", [RUN1])[0][0]
    assert data["divergence"] is None and data["compared"] == n
    assert all(m["delta"] == 0 for m in data["metrics"].values())
    assert data["config"] == {}
    assert "no divergence" in inspect(runs_db, "compare", RUN1, RUN2)[1]


def test_compare_when_parameter_differs_then_first_diverging_message_and_deltas(runs_db):
    conn = open_readonly(runs_db)
    data = compare_runs(conn, RUN1, conn, RUN3)
    a_rows = sql(
        runs_db,
        "SELECT step, date, round, sender, recipient, kind, asset, proposal_id, payload"
        " FROM messages WHERE run_id = ? ORDER BY id",
        [RUN1],
    )
    b_rows = sql(
        runs_db,
        "SELECT step, date, round, sender, recipient, kind, asset, proposal_id, payload"
        " FROM messages WHERE run_id = ? ORDER BY id",
        [RUN3],
    )
    conn.close()
    div = data["divergence"]
    index = div["index"]
    assert a_rows[:index] == b_rows[:index]
    assert a_rows[index] != b_rows[index]
    assert div["a"]["kind"] == "verdict" and div["a"]["sender"] == "whipsaw"
    assert "last 14 days" in div["a"]["payload"]["reason"]
    assert "last 1 days" in div["b"]["payload"]["reason"]
    assert div["fields"] == ["payload"] and div["payload_keys"] == ["reason"]
    assert data["config"] == {"whipsaw_protection_days": {"a": 14, "b": 1}}
    sa, sb = data["summaries"]["a"], data["summaries"]["b"]
    assert data["metrics"]["trades"] == {
        "a": sa["trades"],
        "b": sb["trades"],
        "delta": sb["trades"] - sa["trades"],
    }
    assert data["metrics"]["trades"]["delta"] != 0
    assert data["metrics"]["final_equity"]["delta"] == pytest.approx(
        sb["final_equity"] - sa["final_equity"]
    )


def test_compare_when_rendered_then_both_messages_and_metric_deltas_shown(runs_db):
    code, out = inspect(runs_db, "compare", RUN1, RUN3)
    assert code == 0
    div = json.loads(inspect(runs_db, "compare", RUN1, RUN3, "--json")[1])["divergence"]
    first_id = div["a"]["id"]
    assert first_id == div["b"]["id"] == div["index"] + 1  # ids count from 1, ranks from 0
    assert f"{RUN1} and {RUN3} diverge at message id {first_id} (step" in out
    assert f"the {div['index']} messages before it are identical" in out
    id_row = next(line for line in out.splitlines() if line.startswith("│ id "))
    assert id_row.split("│")[2].strip() == str(first_id)  # the id the table shows
    assert "payload.reason" in out and "last 14 days" in out and "last 1 days" in out
    assert "Metrics (B - A)" in out and "final_equity" in out and "trades" in out
    assert "whipsaw_protection_days" in out


def test_compare_when_run_b_stops_early_then_divergence_where_it_ends(db, tmp_path):
    short = tmp_path / "short.db"
    shutil.copy(db, short)
    with sqlite3.connect(short) as conn:
        conn.execute("DELETE FROM messages WHERE step = 13")
    kept = sql(short, "SELECT COUNT(*) FROM messages")[0][0]
    code, out = inspect(db, "compare", RUN1, RUN1, "--db-b", short, "--json")
    assert code == 0
    div = json.loads(out)["divergence"]
    assert div["index"] == kept
    assert div["a"]["step"] == 13 and div["b"] is None
    text = inspect(db, "compare", RUN1, RUN1, "--db-b", short)[1]
    assert f"diverge at message id {div['a']['id']} in A (the other run ended)" in text


def test_compare_when_unknown_run_then_exit_2(db):
    code, out = inspect(db, "compare", RUN1, "nope")
    assert code == 2
    assert "unknown run 'nope'" in out


# --- sql ----------------------------------------------------------------------------------


def test_sql_when_select_then_columns_and_rows(db):
    code, out = inspect(
        db,
        "sql",
        "SELECT json_extract(payload, '$.decided_by') AS system, COUNT(*) AS n FROM messages"
        " WHERE kind = 'decision' AND json_extract(payload, '$.outcome') = 'blocked'"
        " GROUP BY system ORDER BY system",
        "--json",
    )
    assert code == 0
    expected = sql(
        db,
        "SELECT json_extract(payload, '$.decided_by'), COUNT(*) FROM messages"
        " WHERE kind = 'decision' AND json_extract(payload, '$.outcome') = 'blocked'"
        " GROUP BY 1 ORDER BY 1",
    )
    assert [s for s, _ in expected] == ["holding_period", "whipsaw"]
    assert json.loads(out) == {
        "columns": ["system", "n"],
        "rows": [list(r) for r in expected],
        "total_rows": 2,
    }


def test_sql_when_limit_then_first_rows_shown_and_total_counted(db):
    code, out = inspect(db, "sql", "SELECT id FROM messages ORDER BY id", "--limit", "3")
    assert code == 0
    n = sql(db, "SELECT COUNT(*) FROM messages")[0][0]
    assert f"{n} row(s), first 3 shown; {n - 3} more rows not shown (--limit)" in out


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM messages",
        "UPDATE runs SET status = 'failed'",
        "INSERT INTO runs (run_id) VALUES ('x')",
        "DROP TABLE equity",
        "CREATE TABLE t (a)",
        "CREATE TEMP TABLE t (a)",
        "CREATE INDEX i ON messages (kind)",
        "PRAGMA user_version = 3",
        "PRAGMA query_only = OFF",
        "VACUUM",
        "UPDATE sqlite_master SET sql = 'x'",
        "REPLACE INTO runs (run_id) VALUES ('x')",
        "ANALYZE",
    ],
)
def test_sql_when_write_attempted_then_refused_and_database_unchanged(db, statement):
    before = digest(db)
    code, out = inspect(db, "sql", statement)
    assert code == 2
    assert out.startswith("inspect sql is read-only:")
    assert digest(db) == before


@pytest.mark.parametrize(
    "statement",
    ["ATTACH DATABASE '{target}' AS other", "VACUUM INTO '{target}'"],
)
def test_sql_when_statement_would_create_a_file_then_refused_and_no_file(db, tmp_path, statement):
    target = tmp_path / "created.db"
    code, out = inspect(db, "sql", statement.format(target=target))
    assert code == 2
    assert out.startswith("inspect sql is read-only:")
    assert not target.exists()


@pytest.mark.parametrize(
    "statement",
    [
        "pragma QUERY_ONLY=0",
        "PRAGMA Query_Only = off",
        "PRAGMA WRITABLE_SCHEMA = 1",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA main.User_Version = 7",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA cache_size = 10",
        "BEGIN IMMEDIATE",
    ],
)
def test_sql_when_pragma_or_setting_in_any_case_then_refused(db, statement):
    before = digest(db)
    code, out = inspect(db, "sql", statement)
    assert code == 2
    assert out.startswith("inspect sql is read-only: not authorized")
    assert digest(db) == before


@pytest.mark.parametrize(
    ("statement", "column"),
    [
        ("PRAGMA TABLE_INFO(messages)", "name"),
        ("SELECT name FROM pragma_table_info('runs') WHERE name = 'writer_pid'", "name"),
        ("PRAGMA journal_mode", "journal_mode"),
        ("SELECT j.value AS v FROM messages, json_each(messages.payload) AS j LIMIT 1", "v"),
    ],
)
def test_sql_when_read_only_pragma_or_json_table_then_allowed(db, statement, column):
    code, out = inspect(db, "sql", statement, "--json")
    assert code == 0, out
    result = json.loads(out)
    assert column in result["columns"] and result["total_rows"] >= 1


ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT MAX(i) FROM n"


def test_sql_when_query_never_ends_then_stopped_at_timeout_with_exit_2(db):
    code, out = inspect(db, "sql", ENDLESS, "--timeout", "0.2")
    assert code == 2
    assert out.strip() == (
        "inspect sql: stopped after 0.2 s (--timeout); narrow the query or raise --timeout"
    )


def test_sql_when_rows_beyond_default_limit_then_first_1000_shown_and_rest_counted(db):
    many = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1500) SELECT i FROM n"
    )
    code, out = inspect(db, "sql", many)
    assert code == 0
    assert "1500 row(s), first 1000 shown; 500 more rows not shown (--limit)" in out
    assert "│ 1000 │" in out and "│ 1001 │" not in out
    code, out = inspect(db, "sql", many, "--json", "--limit", "0")
    assert (len(json.loads(out)["rows"]), json.loads(out)["total_rows"]) == (1500, 1500)


@pytest.mark.parametrize(
    ("option", "value"), [("--timeout", "0"), ("--timeout", "x"), ("--limit", "-1")]
)
def test_sql_when_bad_timeout_or_limit_then_exit_2(db, option, value):
    code, out = inspect(db, "sql", "SELECT 1", option, value)
    assert code == 2
    assert f"argument {option}" in out


def test_sql_when_two_statements_then_exit_2(db):
    code, out = inspect(db, "sql", "SELECT 1; DELETE FROM messages")
    assert code == 2
    assert "one statement" in out


def test_sql_when_syntax_error_then_exit_2_with_sqlite_message(db):
    code, out = inspect(db, "sql", "SELEC 1")
    assert code == 2
    assert out.startswith("inspect sql:") and "syntax error" in out


# --- export -------------------------------------------------------------------------------


def test_export_when_csv_then_every_table_of_the_run_written(runs_db, tmp_path):
    out_dir = tmp_path / "out"
    code, _ = inspect(runs_db, "export", "--run", RUN1, "--format", "csv", "--out", out_dir)
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "equity.csv",
        "messages.csv",
        "runs.csv",
        "snapshots.csv",
    ]
    for table in ("runs", "messages", "snapshots", "equity"):
        with (out_dir / f"{table}.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        expected = sql(runs_db, f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", [RUN1])[0][0]
        assert len(rows) == expected, table
        assert {r["run_id"] for r in rows} == {RUN1}
    with (out_dir / "messages.csv").open(newline="") as fh:
        messages = list(csv.DictReader(fh))
    assert [int(m["id"]) for m in messages] == sorted(int(m["id"]) for m in messages)
    assert json.loads(messages[0]["payload"])["regime"] == "Goldilocks"


def test_export_when_no_out_then_run_directory_next_to_db(db):
    code, _ = inspect(db, "export")
    assert code == 0
    assert (db.parent / RUN1 / "messages.csv").is_file()


def test_export_when_parquet_without_pyarrow_then_exit_2_naming_package(db, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out_dir = tmp_path / "pq"
    code, out = inspect(db, "export", "--format", "parquet", "--out", out_dir)
    assert code == 2
    assert "needs the pyarrow package, which is not installed" in out
    assert not out_dir.exists()


# --- the step data the step-through shows -------------------------------------------------


def test_events_of_interest_when_steps_then_blocks_amendments_notices_regime_changes(db):
    conn = open_readonly(db)
    events = {s: events_of_interest(step_data(conn, RUN1, s)) for s in range(14)}
    bbb = {s: events_of_interest(step_data(conn, RUN1, s), "BBB") for s in range(14)}
    conn.close()
    assert events[0] == []
    assert "AAA reduce blocked by holding_period" in events[1]
    assert "AAA close amended by grace_period" in events[3]
    assert events[7] == ["regime change Goldilocks -> Reflation"]
    assert events[8] == ["notice whipsaw_blocked AAA", "AAA open blocked by whipsaw"]
    assert [s for s, e in bbb.items() if e] == [1, 2, 7]


def test_step_data_when_step_not_recorded_then_inspect_error(db):
    conn = open_readonly(db)
    with pytest.raises(InspectError, match="step 14 is not recorded"):
        step_data(conn, RUN1, 14)
    conn.close()
