"""Real `python run.py` writer processes for the interruption and concurrency tests.

A writer is started on a copy of tests/data/run/small.yaml with more days (long enough to
be killed while it writes), and the tests wait for what the database shows, never for a
time. `GUARD_SECONDS` only keeps a broken test from hanging.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sim.run.recorder import Recorder, open_db

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "data" / "run" / "small.yaml"
GUARD_SECONDS = 60.0


def scenario_with_days(directory: Path, days: int, name: str = "long") -> Path:
    """small.yaml with `days` trading days and the name `name`, written to `directory`."""
    text = (
        SMALL.read_text()
        .replace("days: 40", f"days: {days}")
        .replace("name: small", f"name: {name}")
    )
    path = directory / f"{name}.yaml"
    path.write_text(text)
    return path


def start_writer(scenario: Path, db: Path) -> subprocess.Popen[str]:
    """`python run.py SCENARIO --db DB --quiet` in the repository, output captured."""
    return subprocess.Popen(
        [sys.executable, "run.py", str(scenario), "--db", str(db), "--quiet"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def started_recorder(db: Path, run_id: str, scenario: str = "s") -> Recorder:
    """A recorder of `db` whose run `run_id` is started (seed 1, no file, no configuration)."""
    recorder = Recorder(open_db(db), run_id)
    recorder.start_run(
        scenario=scenario,
        scenario_path=None,
        scenario_sha256=None,
        seed=1,
        initial_cash=1.0,
        config={},
    )
    return recorder


def steps_recorded(db: Path) -> dict[str, int]:
    """run_id -> steps_completed, read over a read-only connection ({} before the file)."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return dict(conn.execute("SELECT run_id, steps_completed FROM runs").fetchall())
    finally:
        conn.close()


def wait_for_steps(db: Path, proc: subprocess.Popen[str], at_least: int, runs: int = 1) -> None:
    """Return once `runs` runs of `db` have `at_least` steps each; fail when the writer
    exits first or the guard expires."""
    guard = time.monotonic() + GUARD_SECONDS
    while time.monotonic() < guard:
        counts = steps_recorded(db)
        if len(counts) >= runs and all(n >= at_least for n in counts.values()):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the writer exited ({proc.returncode}): {proc.stdout.read()}")
        time.sleep(0.02)
    raise AssertionError(f"no {at_least} steps recorded in {db} within the guard")


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for the writer (within the guard); its exit code and output."""
    try:
        out, _ = proc.communicate(timeout=GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out


@contextlib.contextmanager
def reaped(proc: subprocess.Popen[str]):
    """Kill the writer if the test leaves it running."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
