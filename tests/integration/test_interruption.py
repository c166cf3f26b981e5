"""Killed, terminated and interrupted runs: what the database keeps and what readers report.

Real `python run.py` processes are killed while they write (tests/integration/writers.py);
the in-process tests send the signal at a chosen point (while the file opens, inside a
step's transaction) to show where it lands.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import run
import sim.run.dbfile
import sim.run.recorder
from sim import compose
from sim.load.document import load_scenario
from sim.read.inspect_cli import inspect_command
from sim.run.recorder import SCHEMA, open_db
from tests.integration.writers import (
    REPO,
    SMALL,
    finish,
    reaped,
    scenario_with_days,
    start_writer,
    started_recorder,
    wait_for_steps,
)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


def inspect(*argv: object) -> tuple[int, str]:
    console = Console(file=io.StringIO(), width=220)
    code = inspect_command([str(a) for a in argv], console)
    return code, console.file.getvalue()


def recorded(db: Path) -> dict[str, object]:
    """The single run's row, and how many steps and messages the file really holds."""
    conn = sqlite3.connect(db)
    try:
        conn.row_factory = sqlite3.Row
        run_row = dict(conn.execute("SELECT * FROM runs").fetchone())
        run_row["equity_rows"] = conn.execute("SELECT COUNT(*) FROM equity").fetchone()[0]
        run_row["message_rows"] = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        run_row["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return run_row


# --- SIGKILL ------------------------------------------------------------------------------


def test_inspect_when_writer_sigkilled_then_run_reported_crashed(tmp_path):
    db = tmp_path / "killed.db"
    with reaped(start_writer(scenario_with_days(tmp_path, 3000), db)) as proc:
        wait_for_steps(db, proc, at_least=1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    listed = subprocess.run(
        [sys.executable, "run.py", "inspect", str(db), "runs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "crashed" in listed.stdout and "writer process is gone" in listed.stdout
    code, out = inspect(db, "summary", "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert (summary["status"], summary["recorded_status"]) == ("crashed", "running")
    row = recorded(db)
    assert row["integrity"] == "ok"
    assert row["steps_completed"] == row["equity_rows"] == summary["steps"] >= 1
    assert row["messages"] == row["message_rows"]


# --- SIGTERM, SIGINT ----------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
@pytest.mark.parametrize("days", [1200, 3000], ids=["in-process", "writer-process"])
def test_run_when_signalled_then_interrupted_with_exit_code_and_no_traceback(
    tmp_path, sig, code, days
):
    assert (days * 8 >= compose.WRITER_PROCESS_FROM) == (days == 3000)
    db = tmp_path / "stopped.db"
    with reaped(start_writer(scenario_with_days(tmp_path, days), db)) as proc:
        wait_for_steps(db, proc, at_least=1)
        proc.send_signal(sig)
        exit_code, out = finish(proc)
    row = recorded(db)
    assert exit_code == code, out
    assert "Traceback" not in out
    assert out.strip() == (
        f"run long-s3-001 interrupted by {sig.name} after {row['steps_completed']} steps;"
        " checks not run"
    )
    assert row["status"] == "interrupted" and row["error"] == f"stopped by {sig.name}"
    assert row["steps_completed"] == row["equity_rows"] >= 1
    assert row["messages"] == row["message_rows"]
    assert row["finished_at"] is not None


def test_run_when_sigterm_arrives_while_db_opens_then_row_written_and_run_interrupted(
    tmp_path, monkeypatch
):
    real_open = compose.open_db

    def open_then_signal(path):
        db = real_open(path)
        os.kill(os.getpid(), signal.SIGTERM)  # deferred until the runs row is written
        return db

    monkeypatch.setattr(compose, "open_db", open_then_signal)
    scenario = load_scenario(str(SMALL))
    db = tmp_path / "early.db"
    run_id, code, _model = compose.record_run(
        scenario, compose.resolve_run_config(scenario), db_path=db
    )
    row = recorded(db)
    assert (run_id, code) == ("small-s3-001", 143)
    assert (row["status"], row["steps_completed"], row["equity_rows"]) == ("interrupted", 0, 0)
    assert set(SCHEMA) <= {
        r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")
    }


def test_run_when_sigterm_arrives_inside_a_step_write_then_that_step_is_complete(
    tmp_path, monkeypatch
):
    real_now = sim.run.recorder._now
    calls = []

    def now_then_signal():
        calls.append(1)
        if len(calls) == 4:  # start_run, steps 0 and 1, then inside step 2's transaction
            os.kill(os.getpid(), signal.SIGTERM)
        return real_now()

    monkeypatch.setattr(sim.run.recorder, "_now", now_then_signal)
    scenario = load_scenario(str(SMALL))
    db = tmp_path / "mid.db"
    _run_id, code, _model = compose.record_run(
        scenario, compose.resolve_run_config(scenario), db_path=db
    )
    row = recorded(db)
    assert code == 143
    assert (row["status"], row["steps_completed"], row["equity_rows"]) == ("interrupted", 3, 3)
    assert row["messages"] == row["message_rows"] > 0


# --- live and crashed writers seen from this process -------------------------------------------


def _live_run(db: Path) -> None:
    started_recorder(db, "live-001", scenario="live").db.close()


def test_inspect_when_writer_alive_then_run_reported_running(tmp_path):
    db = tmp_path / "live.db"
    _live_run(db)  # written by this (live) process and never finished
    code, out = inspect(db, "runs", "--json")
    assert code == 0
    assert [(r["status"], r["writer_pid"]) for r in json.loads(out)] == [("running", os.getpid())]


def test_inspect_when_writer_pid_reused_then_run_reported_crashed(tmp_path):
    db = tmp_path / "reused.db"
    _live_run(db)
    with sqlite3.connect(db) as conn:  # the pid is alive, but started at another time
        conn.execute("UPDATE runs SET writer_started = 'another-boot/1'")
    code, out = inspect(db, "runs", "--json")
    assert code == 0
    assert [r["status"] for r in json.loads(out)] == ["crashed"]


def test_inspect_when_run_recorded_before_writer_columns_then_left_running(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    for name, spec in SCHEMA.items():
        columns = [c for c in spec["columns"] if not c.startswith(("writer_", "heartbeat"))]
        conn.execute(f"CREATE TABLE {name} ({', '.join(columns)})")
    conn.execute("INSERT INTO runs (run_id, status, steps_completed) VALUES ('old', 'running', 2)")
    conn.commit()
    conn.close()
    code, out = inspect(db, "runs", "--json")
    assert code == 0
    assert [(r["status"], r["writer_host"]) for r in json.loads(out)] == [("running", None)]
    open_db(db).close()  # a writer adds the missing columns
    columns = {r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(runs)")}
    assert {"writer_host", "writer_pid", "writer_started", "heartbeat_at"} <= columns


# --- a hot journal left by a killed rollback-journal writer -----------------------------


KILL_INSIDE_A_TRANSACTION = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA cache_size = 1")  # spill changed pages to the file before COMMIT
conn.execute("BEGIN")
conn.execute("UPDATE messages SET payload = hex(randomblob(2000))")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def hot_journal_db(tmp_path: Path) -> tuple[Path, int]:
    """A finished run in a rollback-journal file that a killed writer left a hot journal
    in (mode=ro readers then fail), and the run's message count."""
    db = tmp_path / "hot.db"
    code = run.main([str(SMALL), "--db", str(db), "--quiet"], Console(file=io.StringIO()))
    assert code == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    n = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    conn.close()
    subprocess.run([sys.executable, "-c", KILL_INSIDE_A_TRANSACTION, str(db)], check=False)
    assert Path(f"{db}-journal").stat().st_size > 0
    ro = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("SELECT COUNT(*) FROM messages").fetchone()
    ro.close()
    return db, n


def test_inspect_when_hot_journal_left_then_rolled_back_and_read(hot_journal_db):
    db, n = hot_journal_db
    code, out = inspect(
        db, "sql", "SELECT COUNT(*) AS n, MAX(length(payload)) AS longest FROM messages", "--json"
    )
    assert code == 0, out
    count, longest = json.loads(out)["rows"][0]
    assert count == n and longest < 4000  # the killed transaction's 4000-char payloads are gone
    assert not Path(f"{db}-journal").exists()
    assert recorded(db)["integrity"] == "ok"


def test_inspect_when_hot_journal_and_no_write_access_then_exit_2_saying_what_to_do(
    hot_journal_db, monkeypatch
):
    db, _n = hot_journal_db
    monkeypatch.setattr("sim.run.dbfile._writable", lambda _file: False)
    code, out = inspect(db, "runs")
    assert code == 2
    assert "hot.db-journal" in out and f"sqlite3 {db} 'PRAGMA quick_check'" in out
    assert "Traceback" not in out
    assert Path(f"{db}-journal").stat().st_size > 0  # nothing touched


def test_inspect_when_wal_file_in_readonly_directory_then_read_as_immutable(tmp_path, monkeypatch):
    db = tmp_path / "wal.db"
    assert run.main([str(SMALL), "--db", str(db), "--quiet"], Console(file=io.StringIO())) == 0
    assert not Path(f"{db}-wal").exists()  # the writer closed last: all in the file
    real_connect = sim.run.dbfile._connect_ro

    def as_in_a_readonly_directory(file, *, immutable=False):
        if not immutable:  # what SQLite reports when it cannot create the -shm file
            err = sqlite3.OperationalError("attempt to write a readonly database")
            err.sqlite_errorcode = 8
            raise err
        return real_connect(file, immutable=True)

    monkeypatch.setattr("sim.run.dbfile._connect_ro", as_in_a_readonly_directory)
    monkeypatch.setattr("sim.run.dbfile._writable", lambda _file: False)
    code, out = inspect(db, "summary", "--json")
    assert code == 0, out
    assert json.loads(out)["steps"] == 40
