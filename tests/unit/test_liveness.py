"""The reader's verdict on a `running` run's writer (`sim.run.liveness.reported_status`) and what
a reader does with a file it cannot open read-only (`sim.run.dbfile.recovery_plan`)."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from sim.run.dbfile import recovery_plan
from sim.run.liveness import ALIVE, STALE_AFTER_S, own_identity, process_identity, reported_status

NOW = dt.datetime(2024, 6, 3, 12, 0, tzinfo=dt.UTC)
HERE, THERE = "host-a", "host-b"
IDENTITY = "boot-1/4242"


def row(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "status": "running",
        "writer_host": HERE,
        "writer_pid": 123,
        "writer_started": IDENTITY,
        "started_at": (NOW - dt.timedelta(hours=2)).isoformat(),
        "heartbeat_at": (NOW - dt.timedelta(seconds=5)).isoformat(),
    }
    return {**base, **changes}


def status(run: dict[str, object], process: str | None = IDENTITY) -> str:
    return reported_status(run, host=HERE, process=process, now=NOW)


@pytest.mark.parametrize("recorded", ["completed", "failed", "interrupted"])
def test_reported_status_when_run_ended_then_recorded_status(recorded):
    assert status(row(status=recorded), process=None) == recorded


def test_reported_status_when_writer_process_gone_then_crashed():
    assert status(row(), process=None) == "crashed"


def test_reported_status_when_same_process_alive_then_running():
    assert status(row()) == "running"


def test_reported_status_when_pid_reused_by_another_process_then_crashed():
    assert status(row(), process="boot-1/9999") == "crashed"


def test_reported_status_when_pid_alive_after_a_reboot_then_crashed():
    assert status(row(), process="boot-2/4242") == "crashed"


def test_reported_status_when_gone_even_with_fresh_heartbeat_then_crashed():
    assert status(row(heartbeat_at=NOW.isoformat()), process=None) == "crashed"


def test_reported_status_when_other_host_and_heartbeat_fresh_then_running():
    assert status(row(writer_host=THERE), process=None) == "running"


def test_reported_status_when_other_host_and_heartbeat_stale_then_crashed():
    stale = (NOW - dt.timedelta(seconds=STALE_AFTER_S + 1)).isoformat()
    assert status(row(writer_host=THERE, heartbeat_at=stale), process=None) == "crashed"


def test_reported_status_when_heartbeat_exactly_at_limit_then_running():
    edge = (NOW - dt.timedelta(seconds=STALE_AFTER_S)).isoformat()
    assert status(row(writer_host=THERE, heartbeat_at=edge)) == "running"


def test_reported_status_when_other_host_without_heartbeat_then_judged_by_start():
    assert status(row(writer_host=THERE, heartbeat_at=None)) == "crashed"  # started 2 h ago


@pytest.mark.parametrize(
    ("beat_age_s", "expected"), [(STALE_AFTER_S * 2, "crashed"), (STALE_AFTER_S / 2, "running")]
)
def test_reported_status_when_identity_not_comparable_then_heartbeat_decides(beat_age_s, expected):
    beat = (NOW - dt.timedelta(seconds=beat_age_s)).isoformat()
    run = row(writer_started="token:ab12", heartbeat_at=beat)  # a writer without /proc
    assert status(run, process=ALIVE) == expected


def test_reported_status_when_no_writer_recorded_then_running():
    assert status(row(writer_host=None, writer_pid=None), process=None) == "running"


def test_process_identity_when_this_process_then_matches_own_identity():
    if process_identity(os.getpid()) is None:
        pytest.skip("no /proc")
    assert process_identity(os.getpid()) == own_identity()


@pytest.mark.parametrize(
    ("hot_journal", "wal", "writable", "plan"),
    [
        (True, False, True, "recover"),
        (False, True, True, "recover"),
        (False, False, True, "recover"),
        (True, False, False, "stuck"),
        (False, True, False, "stuck"),
        (False, False, False, "immutable"),
    ],
)
def test_recovery_plan_when_readonly_open_fails_then_plan_by_files_and_access(
    hot_journal, wal, writable, plan
):
    assert recovery_plan(hot_journal=hot_journal, wal=wal, writable=writable) == plan
