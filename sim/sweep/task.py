"""One sweep task, run on a worker: prepare the scenario and run it the way `run.py` does
(`sim.compose.prepare`, then `sim.api.run_prepared`), check it, and return its row.

The row is plain data (it travels back to the client, which alone writes the table). A run
that is refused, crashes or fails a check is a row like any other, with its outcome and
error; only the loss of the worker itself is left to Dask (the task is run again).

With `Task.keep`, the event database is written under a temporary name in that folder and
renamed into place (`db_name`) only once the run completed and was checked, so a kept
database is complete or absent, never partial.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import socket
import sqlite3
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from sim.api import RunResult, run_prepared
from sim.compose import (
    EXIT_CRASH,
    EXIT_FAILED_CHECKS,
    EXIT_INVALID,
    EXIT_OK,
    InvalidInput,
    prepare,
)
from sim.load.problems import ScenarioError
from sim.run.dbfile import open_readonly
from sim.run.signals import stopped_by
from sim.sweep.spec import Task, canonical_json
from sim.sweep.store import RUNS_DIR

TMP_SUFFIX = ".partial"
"""The suffix of a kept event database while its run is being written."""

MESSAGES = (
    "SELECT step, date, round, sender, recipient, kind, asset, proposal_id, in_reply_to, payload"
    " FROM messages WHERE run_id = ? ORDER BY id"
)


def db_name(task: Task) -> str:
    """The file name of a task's kept event database: `<scenario>-s<seed>-<key[:12]>.db`."""
    return f"{task.scenario}-s{task.seed}-{task.key[:12]}.db"


def message_digest(con: sqlite3.Connection, run_id: str) -> tuple[int, str]:
    """(message count, SHA-256 of the ordered message table) of one run: every column but
    the id, `in_reply_to` as an offset from the run's first id, each row as canonical
    JSON on its own line, so two databases holding the same run give the same digest."""
    first = con.execute("SELECT MIN(id) FROM messages WHERE run_id = ?", [run_id]).fetchone()[0]
    digest, count = hashlib.sha256(), 0
    for row in con.execute(MESSAGES, [run_id]):
        values = list(row)
        if values[8] is not None:
            values[8] -= first
        digest.update(canonical_json(values).encode() + b"\n")
        count += 1
    return count, digest.hexdigest()


def outcome_of(code: int | None) -> str:
    """passed, failed, crashed, invalid or interrupted, from a run's exit code."""
    if code is not None and stopped_by(code):
        return "interrupted"
    names = {EXIT_OK: "passed", EXIT_FAILED_CHECKS: "failed", EXIT_INVALID: "invalid"}
    return names.get(code, "crashed") if code is not None else "crashed"


def run_task(task: Task) -> dict[str, Any]:
    """Run one task and return its row (`sim.sweep.store` columns; metrics by name)."""
    started = time.perf_counter()
    row = base_row(task)
    try:
        row.update(_run(task))
    except (ScenarioError, InvalidInput) as err:
        row.update(exit_code=EXIT_INVALID, outcome="invalid", error=str(err))
    except Exception:
        row.update(exit_code=EXIT_CRASH, outcome="crashed", error=traceback.format_exc(limit=20))
    row["seconds"] = round(time.perf_counter() - started, 4)
    row["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return row


def base_row(task: Task) -> dict[str, Any]:
    """The columns of a task's row known before it runs."""
    return {
        "key": task.key,
        "scenario": task.scenario,
        "path": task.path,
        "seed": task.seed,
        **task.point,
        "settings": canonical_json({"preset": task.preset, "set": dict(task.overrides)}),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


def _run(task: Task) -> dict[str, Any]:
    scenario, config = prepare(
        task.file, seed=task.seed, preset=task.preset, overrides=dict(task.overrides)
    )
    if scenario.sha256 != task.scenario_sha256:
        raise InvalidInput(f"{task.path}: the file changed since the sweep was planned")
    with contextlib.ExitStack() as stack:
        if task.keep is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bulwark-sweep-"))
            db = Path(folder) / f"{scenario.name}.db"
        else:
            db = Path(task.keep) / f".{db_name(task)}.{secrets.token_hex(4)}{TMP_SUFFIX}"
            stack.callback(_remove, db)
        result = run_prepared(scenario, config, seed=task.seed, db=db)
        row = result_columns(result)
        if task.keep is not None and result.status == "completed":
            final = Path(task.keep) / db_name(task)
            os.replace(db, final)
            row["db"] = f"{RUNS_DIR}/{final.name}"  # relative to OUT
    return row


def result_columns(result: RunResult) -> dict[str, Any]:
    """The columns a finished run gives: exit code, outcome, error, checks, metrics,
    steps and its message table's digest."""
    with contextlib.closing(open_readonly(result.db_path)) as con:
        count, digest = message_digest(con, result.run_id)
    checks = [{"label": c.label, "kind": c.kind, "passed": c.passed} for c in result.checks]
    return {
        "exit_code": result.exit_code,
        "outcome": outcome_of(result.exit_code),
        "error": result.error,
        "run_id": result.run_id,
        "checks": json.dumps(checks),
        "failed_checks": json.dumps([c.label for c in result.failed_checks]),
        "steps": result.summary.get("steps"),
        "messages": count,
        "messages_sha256": digest,
        **result.metrics,
    }


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    for side in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{side}").unlink()
