"""The writer process (`sim.run.step_writer`): the same rows as an in-process run, whole
steps whatever stops it, and its failures reported as the run's.

`compose.record_run(..., writer_process=True|False)` chooses the way for the in-process
tests; otherwise `compose.WRITER_PROCESS_FROM` decides by a run's size. The signal tests run
`python run.py` on a scenario long enough to be written by the writer process at the
default threshold.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import sim.run.recorder
import sim.run.step_writer
from sim import compose
from sim.load.document import load_scenario
from sim.run.bus import MessageBus
from sim.run.canonical import dumps
from sim.run.recorder import STATEMENTS, Recorder, open_db
from sim.run.step_commit import StepBatch
from sim.run.step_writer import RecordingError
from tests.integration.writers import (
    finish,
    reaped,
    scenario_with_days,
    start_writer,
    started_recorder,
    wait_for_steps,
)

TABLES = {
    "messages": "SELECT * FROM messages ORDER BY id",
    "snapshots": "SELECT * FROM snapshots ORDER BY rowid",
    "equity": "SELECT * FROM equity ORDER BY rowid",
    "runs": "SELECT run_id, scenario, seed, config, status, steps_completed, messages, error"
    " FROM runs",
}
LONG_DAYS = 3000
"""Eight assets times this many days is past `compose.WRITER_PROCESS_FROM`."""


def tables(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {name: conn.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        conn.close()


def counted_writers(monkeypatch) -> list[object]:
    """Every StepWriter the recorder starts from now on, in a list."""
    started = []
    real = sim.run.recorder.StepWriter

    def spy(*args, **kwargs):
        writer = real(*args, **kwargs)
        started.append(writer)
        return writer

    monkeypatch.setattr(sim.run.recorder, "StepWriter", spy)
    return started


def record(
    tmp_path: Path, name: str, days: int = 120, writer_process: bool | None = None
) -> tuple[Path, int]:
    scenario = load_scenario(str(scenario_with_days(tmp_path, days)))
    db = tmp_path / f"{name}.db"
    _run_id, code, _model = compose.record_run(
        scenario, compose.resolve_run_config(scenario), db_path=db, writer_process=writer_process
    )
    return db, code


def test_record_run_when_steps_go_to_writer_process_then_every_table_equals_in_process(
    tmp_path, monkeypatch
):
    started = counted_writers(monkeypatch)
    inline, inline_code = record(tmp_path, "inline", writer_process=False)
    assert started == []
    background, background_code = record(tmp_path, "background", writer_process=True)
    assert len(started) == 1
    assert inline_code == background_code == 0
    ours, theirs = tables(inline), tables(background)
    assert len(ours["equity"]) == 120 and len(ours["messages"]) > 500
    assert ours == theirs


def test_record_run_when_writer_not_chosen_then_size_decides(tmp_path, monkeypatch):
    started = counted_writers(monkeypatch)
    record(tmp_path, "small", days=120)  # 960 asset-days
    assert started == []
    monkeypatch.setattr(compose, "WRITER_PROCESS_FROM", 960)
    record(tmp_path, "at-threshold", days=120)
    assert len(started) == 1


def _writers_started_in_worker(directory: str) -> int:
    """In a pool's worker: record a run with every size past the threshold; the number of
    writer processes the recorder started."""
    with pytest.MonkeyPatch.context() as patch:
        started = counted_writers(patch)
        patch.setattr(compose, "WRITER_PROCESS_FROM", 0)
        _db, code = record(Path(directory), "in-pool")
    assert code == 0
    return len(started)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_record_run_when_in_a_pool_worker_then_steps_committed_in_process(tmp_path):
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(_writers_started_in_worker, str(tmp_path)).result() == 0
    assert len(tables(tmp_path / "in-pool.db")["equity"]) == 120


def test_record_run_when_writer_process_fails_then_run_failed_with_its_reason(
    tmp_path, monkeypatch
):
    started = counted_writers(monkeypatch)
    broken = STATEMENTS._replace(equity="INSERT INTO no_such_table VALUES (?)")
    monkeypatch.setattr(sim.run.recorder, "STATEMENTS", broken)
    db, code = record(tmp_path, "broken", writer_process=True)
    assert len(started) == 1
    assert code == compose.EXIT_CRASH
    (run,) = tables(db)["runs"]
    assert run[4] == "failed" and "no such table: no_such_table" in run[7]
    assert run[5] == len(tables(db)["equity"]) == 0 and run[6] == 0


def _background_recorder(db: Path) -> Recorder:
    recorder = started_recorder(db, "r-001")
    assert recorder.write_in_background()
    return recorder


def _equity(step: int) -> dict[str, object]:
    return {c: step for c in sim.run.recorder._EQUITY_FIELDS} | {"date": f"2024-01-{step + 1:02d}"}


def test_write_step_when_writer_process_killed_then_recording_error_and_whole_steps_kept(
    tmp_path,
):
    db = tmp_path / "killed-child.db"
    recorder = _background_recorder(db)
    recorder.write_step([], [], _equity(0))
    recorder.drain()  # step 0 is written; a new writer process takes the next steps
    assert recorder.write_in_background()
    os.kill(recorder._writer._proc.pid, signal.SIGKILL)
    recorder._writer._proc.wait()
    with pytest.raises(RecordingError, match="killed by SIGKILL"):
        for step in range(1, 50):
            recorder.write_step([], [], _equity(step))
    recorder.finish("completed")
    (run,) = tables(db)["runs"]
    assert run[4] == "failed" and "killed by SIGKILL" in run[7]
    assert run[5] == len(tables(db)["equity"]) == 1


def test_write_step_when_flags_cannot_be_pickled_then_encoded_here_and_written_alike(tmp_path):
    db = tmp_path / "proxy.db"
    recorder = _background_recorder(db)
    flags = types.MappingProxyType({"core": True, "until": "2024-02-01"})
    snapshot = {c: 1 for c in sim.run.recorder._SNAPSHOT_FIELDS} | {"asset": "AAA"}
    recorder.write_step([], [snapshot | {"flags": flags}], _equity(0))
    recorder.finish("completed")
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT asset, flags FROM snapshots").fetchall()
    assert stored == [("AAA", '{"core":true,"until":"2024-02-01"}')]


def _payload_cases() -> list[object]:
    """Messages of every kind with what a payload may hold: nested mappings, a date, a
    NaN, a numpy scalar, a set, a tuple."""
    from domain import messages as m

    nested = types.MappingProxyType({"inner": types.MappingProxyType({"x": 1.5})})
    return [
        m.RegimeUpdated("Goldilocks", None, False, "normal", 0.5, 0.25, ("Tech",), ("r",)),
        m.ScoresPublished(scores={"AAA": 0.5, "BBB": float("nan")}, rule="scoring.score"),
        m.ProposeTrade("p1", "AAA", "open", 0.0, 0.1, 0.7, "why", "planner", {"rules": {"a": "b"}}),
        m.RequestReview(proposal_id="p1", asset="AAA"),
        m.ProposalReviewed("p1", "AAA", "grace", "block", 2, "held", np.float64(0.05), "g.x"),
        m.TradeDecided("p1", "AAA", "open", "approved", 0.0, 0.1, "pm", ("x",), "ok", "r", ()),
        m.RequestReplan(1, {"AAA": 0.1}, 1, 0.1, ("BBB",), "resolution.replan"),
        m.TradeFilled("p1", "AAA", "buy", 10.0, 1.0, 10.0, 0.01, 0.1, 10.0),
        m.NoticeIssued("e", "AAA", {"entered": dt.date(2024, 1, 2), "ids": {3, 1}}, "r"),
        m.NoticeIssued("f", None, {"nested": nested, "n": np.int64(3)}),
        m.RequestCoreDesignation("AAA", None, "override"),
        m.InterventionApplied("force_sell", "AAA", {"at": (1, 2)}),
    ]


@pytest.mark.parametrize("writer", [True, False], ids=["writer-process", "in-process"])
def test_write_step_when_payloads_of_every_kind_then_json_of_message_payload(tmp_path, writer):
    db = tmp_path / "kinds.db"
    recorder = _background_recorder(db) if writer else started_recorder(db, "r-001")
    bus = MessageBus()
    bus.subscribe("a")
    bus.begin_step(0, dt.date(2024, 1, 2))
    envelopes = [bus.publish("a", message) for message in _payload_cases()]
    recorder.write_step(bus.drain(), [], _equity(0))
    recorder.finish("completed")
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT kind, asset, proposal_id, payload FROM messages ORDER BY id")
    expected = [
        (e.kind, e.message.asset_ref, e.message.proposal_ref, dumps(e.message.payload()))
        for e in envelopes
    ]
    assert stored.fetchall() == expected
    assert expected[8][3] == '{"details":{"entered":"2024-01-02","ids":[1,3]},"event":"e",' + (
        '"rule":"r","rules":[]}'
    )


def test_write_in_background_when_database_in_memory_then_steps_stay_in_process():
    recorder = Recorder(open_db(":memory:"), "m-001")
    assert recorder.write_in_background() is False


def test_step_writer_when_batch_sent_then_child_writes_it_with_the_statements(tmp_path):
    db = tmp_path / "direct.db"
    recorder = _background_recorder(db)
    writer, recorder._writer = recorder._writer, None
    equity = ("r-001", *(_equity(0)[c] for c in sim.run.recorder._EQUITY_FIELDS))
    writer.send(StepBatch([], [], equity, (1, 0, "now", "r-001")))
    writer.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT steps_completed, heartbeat_at FROM runs").fetchone() == (1, "now")
    assert conn.execute("SELECT COUNT(*) FROM equity").fetchone() == (1,)


@pytest.mark.skipif(
    not hasattr(sim.run.step_writer.fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's"
)
def test_step_writer_when_started_then_pipe_holds_pipe_bytes_or_the_system_most(tmp_path):
    most = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    if most <= 1 << 16:
        pytest.skip(f"pipe-max-size {most} allows no pipe above the default 64 KiB")
    recorder = _background_recorder(tmp_path / "pipe.db")
    writer, recorder._writer = recorder._writer, None
    fd = writer._proc.stdin.fileno()
    size = sim.run.step_writer.fcntl.fcntl(fd, sim.run.step_writer.fcntl.F_GETPIPE_SZ)
    writer.close()
    assert size == min(sim.run.step_writer.PIPE_BYTES, most)


def _frame(value: object) -> bytes:
    data = sim.run.step_writer._plain_pickle(value)
    return sim.run.step_writer._LENGTH.pack(len(data)) + data


def test_frames_when_bytes_arrive_in_pieces_then_whole_frames_in_order_and_cut_end_dropped():
    values = [("path", ("a", "b")), *[(n, "x" * (n * 997 % 70_000)) for n in range(40)]]
    stream = b"".join(_frame(v) for v in values) + _frame("cut off")[:-3]
    read, write = os.pipe()

    def feed() -> None:
        with os.fdopen(write, "wb", buffering=0) as out:
            for at in range(0, len(stream), 4_093):  # pieces that split heads and bodies
                out.write(stream[at : at + 4_093])

    feeder = threading.Thread(target=feed)
    feeder.start()
    frames, got = sim.run.step_writer._Frames(read), []
    try:
        while (group := frames.next_group(5)) is not None:
            assert 1 <= len(group) <= 5
            got.extend(group)
    finally:
        feeder.join()
        os.close(read)
    assert got == values


def test_frames_when_several_steps_wait_then_taken_together_up_to_the_limit():
    read, write = os.pipe()
    os.write(write, b"".join(_frame(n) for n in range(7)))
    os.close(write)
    frames = sim.run.step_writer._Frames(read)
    try:
        assert frames.next_group(4) == [0, 1, 2, 3]
        assert frames.next_group(32) == [4, 5, 6]
        assert frames.next_group(32) is None
    finally:
        os.close(read)


def test_step_writer_when_steps_sent_faster_than_written_then_each_whole_and_in_order(tmp_path):
    db = tmp_path / "grouped.db"
    recorder = _background_recorder(db)
    writer, recorder._writer = recorder._writer, None
    for step in range(200):  # sent at once: the writer takes the waiting ones together
        equity = ("r-001", *(_equity(step)[c] for c in sim.run.recorder._EQUITY_FIELDS))
        writer.send(StepBatch([], [], equity, (step + 1, 0, f"t{step}", "r-001")))
    writer.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT steps_completed, heartbeat_at FROM runs").fetchone() == (
        200,
        "t199",
    )
    assert [r[0] for r in conn.execute("SELECT step FROM equity ORDER BY rowid")] == list(
        range(200)
    )


TAGGER = """
import enum
from domain.messages import ABSTAIN
from domain.protections.base import Protection


class Level(str, enum.Enum):
    LOW = "low"


class Tagger(Protection):
    name = "tagger"

    def review(self, proposal, ctx):
        return self.verdict(proposal, ABSTAIN, "no opinion")

    def status(self, asset, day, position=None):
        return {"level": Level.LOW}
"""


def test_record_run_when_flags_of_a_type_only_the_run_imports_then_written_alike(
    tmp_path, monkeypatch
):
    (tmp_path / "tagrule.py").write_text(TAGGER)  # beside the scenario: the writer cannot import it
    text = scenario_with_days(tmp_path, 60).read_text() + (
        'protections:\n  custom:\n    - {name: tagger, class: "tagrule:Tagger", priority: 9}\n'
    )
    (tmp_path / "tagged.yaml").write_text(text)
    scenario, config = compose.prepare(str(tmp_path / "tagged.yaml"))
    started = counted_writers(monkeypatch)
    found = {}
    for name, writer_process in (("inline", False), ("background", True)):
        db = tmp_path / f"{name}.db"
        _run_id, code, _model = compose.record_run(
            scenario, config, db_path=db, writer_process=writer_process
        )
        assert code == 0
        found[name] = tables(db)
    assert len(started) == 1
    flags = sqlite3.connect(tmp_path / "background.db").execute("SELECT flags FROM snapshots")
    assert all('"level":"low"' in f for (f,) in flags)
    assert found["inline"] == found["background"]


def _record_with(tmp_path: Path, days: int, at_step: int, act) -> tuple[Path, int, list[int]]:
    """A run through the writer process whose `act(recorder, pids)` runs right after step
    `at_step` is handed over; (db, exit code, the writer's pid)."""
    scenario, config = compose.prepare(str(scenario_with_days(tmp_path, days)))
    real = Recorder.write_step
    pids: list[int] = []

    def write_step(self, *args):
        real(self, *args)
        if self.steps_completed == at_step:
            pids.append(self._writer._proc.pid)
            act(self, pids[0])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Recorder, "write_step", write_step)
        db = tmp_path / "run.db"
        _run_id, code, _model = compose.record_run(
            scenario, config, db_path=db, writer_process=True
        )
    return db, code, pids


def _reaped(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads /proc (Linux)")
def test_record_run_when_sigint_while_writer_behind_then_interrupted_after_every_step_sent(
    tmp_path,
):
    def behind_then_ctrl_c(_recorder, pid):
        os.kill(pid, signal.SIGSTOP)  # the writer falls behind
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        threading.Timer(1.0, os.kill, (pid, signal.SIGCONT)).start()

    db, code, pids = _record_with(tmp_path, 400, 399, behind_then_ctrl_c)
    (run,) = tables(db)["runs"]
    assert code == 130
    assert run[4:8] == ("interrupted", 400, len(tables(db)["messages"]), "stopped by SIGINT")
    assert len(tables(db)["equity"]) == 400
    assert _reaped(pids[0])


def test_record_run_when_writer_killed_and_sigint_then_failed_exit_crash_reason_once(tmp_path):
    def killed_then_ctrl_c(_recorder, pid):
        os.kill(pid, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGINT)

    db, code, _pids = _record_with(tmp_path, 200, 100, killed_then_ctrl_c)
    (run,) = tables(db)["runs"]
    assert code == compose.EXIT_CRASH
    assert run[4] == "failed" and run[5] == len(tables(db)["equity"]) <= 100
    assert run[7].startswith("stopped by SIGINT")
    assert run[7].count("the event database writer was killed by SIGKILL") == 1


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="POSIX signals")
def test_record_run_when_writer_stalls_then_killed_after_stall_timeout_and_run_failed(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(sim.run.step_writer, "STALL_TIMEOUT_S", 0.5)

    def stalled(_recorder, pid):
        os.kill(pid, signal.SIGSTOP)

    db, code, pids = _record_with(tmp_path, 3000, 10, stalled)
    (run,) = tables(db)["runs"]
    assert code == compose.EXIT_CRASH
    assert run[4] == "failed" and "made no progress for 0.5 s and was stopped" in run[7]
    assert run[5] == len(tables(db)["equity"]) <= 10
    assert run[6] == len(tables(db)["messages"])
    assert _reaped(pids[0])


# --- a real run.py writer with the writer process, signalled ---------------------------------


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_run_when_signalled_with_writer_process_then_interrupted_with_every_step_sent(
    tmp_path, sig, code
):
    db = tmp_path / "stopped.db"
    with reaped(start_writer(scenario_with_days(tmp_path, LONG_DAYS), db)) as proc:
        wait_for_steps(db, proc, at_least=5)
        assert len(_children(proc.pid)) == 1  # the writer process
        proc.send_signal(sig)
        exit_code, out = finish(proc)
    (run,) = tables(db)["runs"]
    assert exit_code == code, out
    assert out.strip() == (
        f"run long-s3-001 interrupted by {sig.name} after {run[5]} steps; checks not run"
    )
    assert run[4] == "interrupted" and run[7] == f"stopped by {sig.name}"
    assert run[5] == len(tables(db)["equity"]) >= 5
    assert run[6] == len(tables(db)["messages"])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("needs /proc/<pid>/task/<pid>/children (Linux) to find the writer process")
    return [int(p) for p in path.read_text().split()]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and " Z " in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_run_when_sigkilled_with_writer_process_then_child_ends_and_only_whole_steps_remain(
    tmp_path,
):
    db = tmp_path / "killed.db"
    with reaped(start_writer(scenario_with_days(tmp_path, LONG_DAYS), db)) as proc:
        wait_for_steps(db, proc, at_least=5)
        children = _children(proc.pid)
        assert len(children) == 1, children
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    guard = time.monotonic() + 60
    while not _gone(children[0]) and time.monotonic() < guard:
        time.sleep(0.02)
    assert _gone(children[0]), "the writer process outlived its run"
    (run,) = tables(db)["runs"]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert run[4] == "running"
    assert run[5] == len(tables(db)["equity"]) >= 5
    assert run[6] == len(tables(db)["messages"])


def _modules_after(statement: str) -> set[str]:
    program = f"import sys; {statement}; print(' '.join(sys.modules))"
    run = subprocess.run(
        [sys.executable, "-I", "-c", program], capture_output=True, text=True, check=True
    )
    return set(run.stdout.split())


def test_writer_process_program_when_imported_then_standard_library_and_sim_run_only():
    root = Path(sim.run.recorder.__file__).parents[2]
    startup = _modules_after("pass")
    loaded = _modules_after(f"sys.path.insert(0, {str(root)!r}); import sim.run.step_writer")
    added = loaded - startup
    assert {m.split(".")[0] for m in added} - set(sys.stdlib_module_names) == {"sim", "domain"}
    assert {m for m in added if m.startswith("domain")} == {"domain", "domain.payloads"}
    assert {m for m in added if m.startswith("sim")} == {
        "sim",
        "sim.run",
        "sim.run.canonical",
        "sim.run.signals",
        "sim.run.step_commit",
        "sim.run.step_writer",
    }
