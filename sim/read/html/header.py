"""The head of a run's report: what was run (scenario, seed, status, period, headline
figures), the configuration that differs from the defaults, and the checks.

The checks are `sim.read.checks.check_run` (every invariant, then the scenario's
expectations), as `run.py` prints them after a run. The expectations come from the
scenario file recorded in `runs.scenario_path` (read relative to the current directory);
when the file is gone, changed since the run (`runs.scenario_sha256`) or no longer valid,
only the invariants are checked and the header says why. A run that did not complete is
not checked, as `run.py` does not check one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import attrs

from domain.config import PARAMS
from sim.load.document import load_scenario
from sim.load.problems import ScenarioError
from sim.read.checks import CheckResult, check_run
from sim.read.queries import query, run_summary


@attrs.frozen
class RunHeader:
    """What the report says before its charts."""

    summary: dict[str, Any]  # sim.read.queries.run_summary, plus scenario_path
    config_changes: tuple[tuple[str, Any, Any], ...]  # (parameter, default, this run)
    checks: tuple[CheckResult, ...]
    checks_note: str

    @property
    def verdict(self) -> str:
        """passed (every check held), failed (one did not), or not-checked."""
        if not self.checks:
            return "not-checked"
        return "passed" if all(c.passed for c in self.checks) else "failed"


def read_header(conn: sqlite3.Connection, db_path: str | Path, run_id: str) -> RunHeader:
    """The header of run `run_id` of the database at `db_path` (open as `conn`)."""
    row = query(conn, "SELECT * FROM runs WHERE run_id = ?", [run_id])[0]
    summary = {**run_summary(conn, run_id), "scenario_path": row["scenario_path"]}
    checks, note = recorded_checks(db_path, row, summary["status"])
    return RunHeader(summary, config_changes(json.loads(row["config"] or "{}")), checks, note)


def config_changes(config: dict[str, Any]) -> tuple[tuple[str, Any, Any], ...]:
    """The parameters of a recorded configuration that differ from the registry default
    (a parameter the registry no longer knows shows default None), in registry order."""
    known = [n for n in PARAMS if n in config and config[n] != PARAMS[n].default]
    unknown = sorted(n for n in config if n not in PARAMS)
    return tuple(
        (n, PARAMS[n].default if n in PARAMS else None, config[n]) for n in [*known, *unknown]
    )


def recorded_checks(
    db_path: str | Path, run: dict[str, Any], status: str
) -> tuple[tuple[CheckResult, ...], str]:
    """The checks of a recorded run (its `runs` row) and a sentence on what was checked."""
    if status != "completed":
        return (), f"Not checked: the run is {status}"
    path = Path(run["scenario_path"] or "")
    expect, note = (), ""
    if not run["scenario_path"] or not path.is_file():
        note = (
            f"Checked: the invariants only (the scenario file {run['scenario_path']} is not here)"
        )
    elif hashlib.sha256(path.read_bytes()).hexdigest() != run["scenario_sha256"]:
        note = f"Checked: the invariants only ({path} changed since the run)"
    else:
        try:
            expect = load_scenario(path, seed=run["seed"]).expect
            note = f"Checked: the invariants and the expectations of {path}"
        except ScenarioError as err:
            first = str(err).splitlines()[0]
            note = f"Checked: the invariants only ({path} is no longer valid: {first})"
    return tuple(check_run(db_path, run["run_id"], expect)), note
