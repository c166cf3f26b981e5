"""Several processes on one event database: writers side by side, readers during a write,
run ids allocated with the runs row."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from sim.read.queries import list_runs, open_readonly, run_summary
from sim.run.recorder import Recorder, allocate_run_id, open_db
from tests.integration.writers import (
    GUARD_SECONDS,
    finish,
    reaped,
    scenario_with_days,
    start_writer,
    steps_recorded,
    wait_for_steps,
)

PROC = Path("/proc")


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` holds `path` open (Linux /proc)."""
    target = str(path.resolve())
    fds = PROC / str(pid) / "fd"
    try:
        return any(os.readlink(fd) == target for fd in fds.iterdir())
    except OSError:
        return False


def message_rows(db: Path, run_id: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT step, round, sender, recipient, kind, asset, proposal_id, payload"
            " FROM messages WHERE run_id = ? ORDER BY id",
            [run_id],
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.skipif(not (PROC / "self" / "fd").is_dir(), reason="needs /proc")
def test_run_when_two_writers_share_a_db_then_both_complete_with_distinct_ids(tmp_path):
    db = tmp_path / "shared.db"
    scenario = scenario_with_days(tmp_path, 100, name="pair")
    holder = open_db(db)
    holder.conn.execute("BEGIN IMMEDIATE")  # both writers must queue for the write lock
    procs = [start_writer(scenario, db) for _ in range(2)]
    guard = time.monotonic() + GUARD_SECONDS
    while not all(has_open(p.pid, db) for p in procs) and time.monotonic() < guard:
        assert all(p.poll() is None for p in procs)
        time.sleep(0.01)
    holder.conn.execute("ROLLBACK")
    holder.close()
    results = [finish(p) for p in procs]
    assert [code for code, _out in results] == [0, 0], results
    assert not any("locked" in out for _code, out in results)
    conn = sqlite3.connect(db)
    runs = conn.execute(
        "SELECT run_id, status, steps_completed, messages FROM runs ORDER BY run_id"
    ).fetchall()
    equity = dict(conn.execute("SELECT run_id, COUNT(*) FROM equity GROUP BY run_id").fetchall())
    conn.close()
    assert [r[:3] for r in runs] == [
        ("pair-s3-001", "completed", 100),
        ("pair-s3-002", "completed", 100),
    ]
    assert equity == {"pair-s3-001": 100, "pair-s3-002": 100}
    first, second = (message_rows(db, r[0]) for r in runs)
    assert [len(first), len(second)] == [r[3] for r in runs]
    assert first == second  # same scenario and seed: the same messages, all of them


def test_readers_when_a_run_writes_then_none_sees_locked(tmp_path):
    db = tmp_path / "busy.db"
    readers, rounds_each = 20, []
    errors: list[BaseException] = []
    with reaped(start_writer(scenario_with_days(tmp_path, 3000), db)) as proc:
        wait_for_steps(db, proc, at_least=1)
        start = steps_recorded(db)["long-s3-001"]
        go = threading.Barrier(readers)

        def read() -> None:
            go.wait()
            rounds, seen = 0, start
            guard = time.monotonic() + GUARD_SECONDS
            # read until the writer has committed more steps meanwhile (or has finished)
            while (seen < start + 5 or rounds < 3) and time.monotonic() < guard:
                try:
                    conn = open_readonly(db)
                    try:
                        seen = list_runs(conn)[0]["steps_completed"]
                        run_summary(conn, "long-s3-001")
                    finally:
                        conn.close()
                except BaseException as err:  # any failure, "database is locked" included
                    errors.append(err)
                    return
                rounds += 1
                if proc.poll() is not None:
                    break
            rounds_each.append((rounds, seen))

        threads = [threading.Thread(target=read) for _ in range(readers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(rounds_each) == readers
    assert all(seen >= start + 5 for _rounds, seen in rounds_each)


def test_allocate_run_id_when_ids_have_gaps_or_wildcards_then_next_free_exact_prefix(tmp_path):
    db = open_db(tmp_path / "ids.db")
    for run_id in ("a_b-s1-001", "a_b-s1-003", "axb-s1-007", "A_B-s1-009"):
        Recorder(db, run_id).start_run(
            scenario="x", scenario_path=None, scenario_sha256=None, seed=1,
            initial_cash=1.0, config={},
        )  # fmt: skip
    assert allocate_run_id(db, "a_b-s1-") == "a_b-s1-004"  # not confused by LIKE's _ or case
    assert allocate_run_id(db, "new-s1-") == "new-s1-001"


def test_start_run_when_no_id_given_then_allocated_with_the_row(tmp_path):
    db = open_db(tmp_path / "alloc.db")
    ids = []
    for _ in range(3):
        recorder = Recorder(db)
        recorder.start_run(
            scenario="sc", scenario_path=None, scenario_sha256=None, seed=4,
            initial_cash=1.0, config={},
        )  # fmt: skip
        ids.append(recorder.run_id)
    assert ids == ["sc-s4-001", "sc-s4-002", "sc-s4-003"]
    assert [r["run_id"] for r in list_runs(open_readonly(tmp_path / "alloc.db"))] == ids
