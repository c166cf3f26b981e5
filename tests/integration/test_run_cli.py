"""run.py end to end: exit codes, what is written, flags, determinism across processes."""

import json
import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "run"


def _main(*argv):
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=200))
    return code, out.getvalue()


def test_run_when_valid_scenario_then_exit_0_and_run_completed(tmp_path):
    db = tmp_path / "e.db"
    code, out = _main(DATA / "small.yaml", "--db", db)
    assert code == 0, out
    con = sqlite3.connect(db)
    status, steps, n = con.execute("SELECT status, steps_completed, messages FROM runs").fetchone()
    assert (status, steps) == ("completed", 40)
    assert n == con.execute("SELECT COUNT(*) FROM messages").fetchone()[0] > 0
    assert con.execute("SELECT COUNT(*) FROM equity").fetchone()[0] == 40
    assert "final equity" in out and "Decisions by protection" in out and "sharpe" in out


def test_run_when_run_again_then_new_run_added(tmp_path):
    db = tmp_path / "e.db"
    _main(DATA / "small.yaml", "--db", db, "--quiet")
    _main(DATA / "small.yaml", "--db", db, "--quiet", "--seed", "9")
    ids = [r[0] for r in sqlite3.connect(db).execute("SELECT run_id FROM runs ORDER BY run_id")]
    assert ids == ["small-s3-001", "small-s9-001"]


def test_run_when_json_then_machine_readable_summary(tmp_path, capsys):
    code, _ = _main(DATA / "small.yaml", "--db", tmp_path / "e.db", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["steps"] == 40 and summary["status"] == "completed"
    assert set(summary["decisions_by_outcome"]) <= {"approved", "blocked", "amended"}
    assert summary["final_equity"] == pytest.approx(
        summary["initial_cash"] * (1 + summary["total_return"])
    )


def test_run_when_set_and_preset_then_config_recorded(tmp_path):
    db = tmp_path / "e.db"
    code, out = _main(
        DATA / "small.yaml",
        "--db",
        db,
        "--quiet",
        "--preset",
        "crisis",
        "--set",
        "grace_period_days=2",
    )
    assert code == 0, out
    config = json.loads(sqlite3.connect(db).execute("SELECT config FROM runs").fetchone()[0])
    assert config["grace_period_days"] == 2
    assert config["min_score_threshold"] == 0.7  # from the crisis preset
    assert config["max_total_positions"] == 5  # the scenario's config beats the preset


def test_run_when_bad_set_then_exit_2_and_nothing_written(tmp_path):
    db = tmp_path / "e.db"
    code, out = _main(DATA / "small.yaml", "--db", db, "--set", "grace_period_dayz=2")
    assert code == 2
    assert "grace_period_days" in out  # the did-you-mean suggestion
    assert not db.exists()


def test_run_when_invalid_scenario_then_exit_2_names_file_line_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "small.yaml").read_text().replace("seed: 3", "seed: three"))
    db = tmp_path / "e.db"
    code, out = _main(bad, "--db", db)
    assert code == 2
    assert f"{bad}:3: seed:" in out
    assert not db.exists()


def test_run_when_rule_crashes_then_exit_3_run_failed_and_steps_kept(tmp_path):
    db = tmp_path / "e.db"
    code, out = _main(DATA / "crashes.yaml", "--db", db, "--quiet")
    assert code == 3
    assert "boom on step 3" in out
    con = sqlite3.connect(db)
    status, steps, error = con.execute("SELECT status, steps_completed, error FROM runs").fetchone()
    assert status == "failed" and steps == 3 and "boom on step 3" in error
    assert con.execute("SELECT MAX(step) FROM messages").fetchone()[0] == 2
    assert con.execute("SELECT COUNT(*) FROM equity").fetchone()[0] == 3


def test_run_when_custom_protection_then_it_amends_entries(tmp_path):
    db = tmp_path / "e.db"
    code, out = _main(DATA / "with_liquidity.yaml", "--db", db, "--quiet")
    assert code == 0, out
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT json_extract(payload,'$.stance'), json_extract(payload,'$.amended_weight')"
        " FROM messages WHERE kind='verdict' AND json_extract(payload,'$.system')='liquidity'"
        " AND asset='AAA' ORDER BY id"
    ).fetchall()
    assert rows[0] == ("amend", 0.05)
    decision = con.execute(
        "SELECT json_extract(payload,'$.outcome'), json_extract(payload,'$.final_weight'),"
        " json_extract(payload,'$.decided_by') FROM messages WHERE kind='decision'"
        " AND asset='AAA' ORDER BY id LIMIT 1"
    ).fetchone()
    assert decision == ("amended", 0.05, "liquidity")
    weight = con.execute(
        "SELECT weight FROM snapshots WHERE asset='AAA' ORDER BY step LIMIT 1"
    ).fetchone()[0]
    assert weight == pytest.approx(0.05, rel=0.02)


def test_validate_when_files_then_exit_2_if_any_bad_and_nothing_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    before = set(tmp_path.iterdir())
    code, out = _main("validate", DATA / "small.yaml", bad)
    assert code == 2
    assert f"{DATA / 'small.yaml'}: ok" in out and f"{bad}:" in out
    assert set(tmp_path.iterdir()) == before
    assert _main("validate", DATA / "small.yaml")[0] == 0


def _messages(db):
    con = sqlite3.connect(db)
    return con.execute(
        "SELECT id, step, date, round, sender, recipient, kind, asset, proposal_id,"
        " in_reply_to, payload FROM messages ORDER BY id"
    ).fetchall()


def test_run_when_separate_processes_and_hash_seeds_then_identical_message_table(tmp_path):
    dbs = []
    for hashseed in ("1", "987"):
        db = tmp_path / f"run{hashseed}.db"
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        subprocess.run(
            [sys.executable, "run.py", "scenarios/baseline.yaml", "--db", str(db), "--quiet"],
            cwd=REPO,
            env=env,
            check=True,
        )
        dbs.append(db)
    first, second = _messages(dbs[0]), _messages(dbs[1])
    assert len(first) > 1000
    assert first == second


def test_run_when_other_seed_then_message_table_differs(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _main(DATA / "small.yaml", "--db", a, "--quiet")
    _main(DATA / "small.yaml", "--db", b, "--quiet", "--seed", "4")
    assert _messages(a) != _messages(b)
