"""The notebook API (`sim.api`): run_scenario and load_run against the command line, the
temporary database, the frozen result, its DataFrames, and bad input."""

from __future__ import annotations

import gc
import json
import os
import shutil
import sqlite3
from io import StringIO
from pathlib import Path

import attrs
import pandas as pd
import pytest
from rich.console import Console

import run
from sim.api import (
    InspectError,
    InvalidInput,
    RunResult,
    ScenarioError,
    load_run,
    recorded_exit_code,
    run_scenario,
)
from sim.read.metrics import METRICS
from sim.run.liveness import own_identity, this_host

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "run"
SMALL = DATA / "small.yaml"


def cli(*argv: object) -> tuple[int, str]:
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=250))
    return code, out.getvalue()


def with_expect(tmp_path: Path, expect_yaml: str, name: str = "small-expect") -> Path:
    text = SMALL.read_text().replace("name: small", f"name: {name}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text + "expect:\n" + expect_yaml)
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> RunResult:
    """One run of small.yaml kept in a database of its own."""
    db = tmp_path_factory.mktemp("api") / "small.db"
    return run_scenario(SMALL, db=db)


# --- the same run as the command line ---------------------------------------------------


def test_run_scenario_when_seed_preset_and_set_given_then_same_record_as_cli_json(tmp_path, capsys):
    result = run_scenario(
        SMALL, seed=9, preset="crisis", set={"grace-period-days": 2}, db=tmp_path / "a.db"
    )
    code, _ = cli(
        SMALL, "--seed", "9", "--preset", "crisis", "--set", "grace_period_days=2", "--db",
        tmp_path / "b.db", "--json",
    )  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert code == result.exit_code
    assert printed == json.loads(json.dumps({**result.as_dict(), "db": str(tmp_path / "b.db")}))
    assert result.config["grace_period_days"] == 2 and result.summary["seed"] == 9


def test_run_scenario_when_expectation_fails_then_exit_1_and_the_failed_check(tmp_path):
    path = with_expect(tmp_path, "  - never: {action: open, asset: '*'}\n")
    result = run_scenario(path)
    assert result.exit_code == 1 and not result.passed
    assert [c.kind for c in result.failed_checks] == ["expectation"]
    assert "never open" in result.failed_checks[0].label
    assert result.expectations_file == str(path)
    assert cli(path, "--db", tmp_path / "e.db", "--quiet")[0] == 1


def test_run_scenario_when_run_crashes_then_exit_3_no_checks_and_the_traceback(tmp_path):
    result = run_scenario(DATA / "crashes.yaml", db=tmp_path / "c.db")
    assert (result.exit_code, result.status, result.checks) == (3, "failed", ())
    assert "Traceback" in result.error
    assert result.summary["steps"] == 3
    assert load_run(tmp_path / "c.db").exit_code == 3


# --- the temporary database and the frozen result ---------------------------------------


def test_run_scenario_when_no_db_then_temporary_file_deleted_with_the_result():
    result = run_scenario(SMALL)
    path = Path(result.db_path)
    assert path.is_file() and path.name == "small.db"
    assert len(result.equity) == 40
    del result
    gc.collect()
    assert not path.exists() and not path.parent.exists()


def test_result_when_attribute_assigned_then_frozen_instance_error(small):
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        small.exit_code = 1


# --- load_run -----------------------------------------------------------------------------


def test_load_run_when_recorded_then_the_result_run_scenario_gave(small):
    again = load_run(small.db_path)
    assert again.run_id == small.run_id == "small-s3-001"
    assert (again.exit_code, again.status, again.checks) == (0, "completed", small.checks)
    assert again.summary == small.summary and again.metrics == small.metrics
    assert again.expectations_file == str(SMALL)
    for frame in ("equity", "snapshots", "messages", "decisions"):
        pd.testing.assert_frame_equal(getattr(again, frame), getattr(small, frame))


def test_load_run_when_two_runs_then_latest_by_default_and_any_by_id(tmp_path):
    db = tmp_path / "two.db"
    first = run_scenario(SMALL, db=db)
    second = run_scenario(SMALL, seed=4, db=db)
    assert load_run(db).run_id == second.run_id == "small-s4-001"
    assert load_run(db, first.run_id).summary == first.summary


def test_load_run_when_scenario_file_changed_then_only_invariants_checked(tmp_path):
    path = with_expect(tmp_path, "  - never: {action: open, asset: '*'}\n")
    db = tmp_path / "x.db"
    assert run_scenario(path, db=db).exit_code == 1
    path.write_text(path.read_text() + "# edited\n")
    loaded = load_run(db)
    assert loaded.expectations_file is None and loaded.exit_code == 0
    assert {c.kind for c in loaded.checks} == {"invariant"}
    explicit = load_run(db, scenario=path)
    assert explicit.exit_code == 1 and explicit.expectations_file == str(path)


def test_load_run_when_recorded_interrupted_by_sigterm_then_exit_143_and_no_checks(tmp_path):
    db = tmp_path / "i.db"
    run_scenario(SMALL, db=db)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE runs SET status = 'interrupted', error = 'stopped by SIGTERM'")
    loaded = load_run(db)
    assert (loaded.exit_code, loaded.status, loaded.checks) == (143, "interrupted", ())


def test_load_run_when_writer_still_alive_then_running_and_no_exit_code(tmp_path):
    db = tmp_path / "r.db"
    run_scenario(SMALL, db=db)
    with sqlite3.connect(db) as con:
        con.execute(
            "UPDATE runs SET status = 'running', writer_host = ?, writer_pid = ?,"
            " writer_started = ?",
            [this_host(), os.getpid(), own_identity()],
        )
    loaded = load_run(db)
    assert (loaded.exit_code, loaded.status, loaded.checks) == (None, "running", ())


def test_load_run_when_unknown_run_then_inspect_error_listing_the_runs(small):
    with pytest.raises(InspectError, match=r"unknown run 'small-s3-002'.*runs: small-s3-001"):
        load_run(small.db_path, "small-s3-002")


def test_load_run_when_not_an_event_database_then_inspect_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not sqlite")
    with pytest.raises(InspectError, match="not an SQLite database"):
        load_run(path)


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        ("completed", None, 0),
        ("failed", "Traceback ...", 3),
        ("crashed", None, 3),
        ("interrupted", "stopped by SIGINT", 130),
        ("interrupted", "stopped by SIGTERM", 143),
        ("interrupted", "quit from the step-through", 130),
        ("running", None, None),
    ],
)
def test_recorded_exit_code_when_status_and_error_then_the_code_run_py_gave(status, error, code):
    assert recorded_exit_code(status, error) == code


# --- the DataFrames -----------------------------------------------------------------------


def _count(db: str, sql: str) -> int:
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchone()[0]


def test_messages_when_read_then_one_row_per_message_payload_keys_as_columns(small):
    messages = small.messages
    assert len(messages) == _count(small.db_path, "SELECT COUNT(*) FROM messages")
    assert list(messages["id"]) == sorted(messages["id"])
    assert messages["date"].dtype.kind == "M"
    decisions = messages[messages["kind"] == "decision"]
    assert decisions["payload.rule"].notna().all()
    notices = messages[messages["kind"] == "notice"]
    assert notices["payload.details"].map(lambda d: isinstance(d, dict)).all()
    assert "payload" not in messages and "run_id" not in messages


def test_decisions_when_read_then_one_row_each_with_rule_and_proposed_weight(small):
    decisions = small.decisions
    assert len(decisions) == _count(
        small.db_path, "SELECT COUNT(*) FROM messages WHERE kind='decision'"
    )
    assert decisions["rule"].notna().all()
    assert set(decisions["outcome"]) <= {"approved", "amended", "blocked"}
    with sqlite3.connect(small.db_path) as con:
        proposed = dict(
            con.execute(
                "SELECT proposal_id, json_extract(payload, '$.to_weight') FROM messages"
                " WHERE kind = 'proposal'"
            ).fetchall()
        )
    assert dict(zip(decisions["proposal_id"], decisions["proposed_weight"], strict=True)) == {
        pid: proposed[pid] for pid in decisions["proposal_id"]
    }


def test_snapshots_and_equity_when_read_then_one_row_per_holding_and_per_step(small):
    assert len(small.equity) == small.summary["steps"] == 40
    assert list(small.equity["step"]) == list(range(40))
    snapshots = small.snapshots
    assert len(snapshots) == _count(small.db_path, "SELECT COUNT(*) FROM snapshots")
    assert "flags.days_held" in snapshots and "flags" not in snapshots


def test_metrics_when_read_then_every_registered_metric_agreeing_with_the_summary(small):
    assert set(small.metrics) == set(METRICS)
    assert small.metrics["total_return"] == pytest.approx(small.summary["total_return"], abs=1e-12)
    assert small.metrics["trades"] == small.summary["trades"]


# --- bad input: named exceptions with the command line's message, nothing written ----------


@pytest.mark.parametrize(
    ("kwargs", "flags"),
    [
        ({"preset": "panic"}, ["--preset", "panic"]),
        ({"set": {"grace_period_days": -1}}, ["--set", "grace_period_days=-1"]),
        ({"set": {"grace_period_dayz": 2}}, ["--set", "grace_period_dayz=2"]),
        ({"set": {"whipsaw_protection": "yes"}}, ["--set", "whipsaw_protection=yes"]),
        ({"set": {"max_new_positions": 9}}, ["--set", "max_new_positions=9"]),
        ({"seed": 2**63}, ["--seed", str(2**63)]),
    ],
    ids=["preset", "set-value", "set-name", "set-bool", "set-cross-field", "seed"],
)
def test_run_scenario_when_input_bad_then_invalid_input_with_the_cli_line(
    kwargs, flags, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInput) as err:
        run_scenario(SMALL, **kwargs)
    code, out = cli(SMALL, *flags)
    assert code == 2
    assert str(err.value) == out.strip()
    assert list(tmp_path.iterdir()) == []


def test_run_scenario_when_db_unusable_then_invalid_input_and_nothing_written(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    with pytest.raises(InvalidInput, match=f"^{SMALL}: --db {notes}: is not an SQLite database$"):
        run_scenario(SMALL, db=notes)
    assert notes.read_text() == "not a database\n"


def test_run_scenario_when_file_bad_then_scenario_error_with_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    shutil.copy(SMALL, bad)
    bad.write_text(bad.read_text().replace("seed: 3", "seed: three"))
    with pytest.raises(ScenarioError) as err:
        run_scenario(bad, db=tmp_path / "e.db")
    assert str(err.value).startswith(f"{bad}:3: seed:")
    assert str(err.value) == cli(bad, "--db", tmp_path / "e.db")[1].strip()
    assert not (tmp_path / "e.db").exists()
