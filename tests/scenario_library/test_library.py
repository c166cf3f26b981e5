"""Every scenario of the edge-case library (`scenarios/library/*.yaml`) runs with all its
expectations and the built-in invariants holding.

A scenario whose `requires:` files are absent (the real-data ones without
`../shared/data/real`) is skipped with the reason. A scenario that documents a known
simulation gap is an expected failure (strict: it must start passing once the gap is
fixed, and then loses its mark).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import run
from domain.config import Config
from domain.scenario import Scenario
from sim import compose
from sim.load.document import load_scenario, unmet_requirements
from sim.read.checks import CheckResult, check_run
from sim.run.recorder import open_db

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"
SCENARIOS = sorted(LIBRARY.glob("*.yaml"))

KNOWN_GAPS: dict[str, str] = {}
"""Scenarios that show a simulation gap: stem -> where it is and what happens."""


def prepare(path: Path) -> tuple[Scenario, Any]:
    """Load a scenario and resolve its configuration, as `python run.py` does.

    Uses `run.prepare` when run.py has it; otherwise the same steps from run.py's parts
    (load, resolve the configuration, build the protections once so custom ones import).
    """
    if hasattr(run, "prepare"):
        return run.prepare(str(path))
    scenario = load_scenario(path)
    config = compose.resolve_run_config(scenario)
    compose.make_protections(scenario, config)
    return scenario, config


def run_checked(scenario: Scenario, config: Config, db_path: Path) -> list[CheckResult]:
    """Run `scenario` into a fresh event DB and return every check (invariants first).

    Raises:
        AssertionError: the run crashed (with the recorded traceback).
    """
    run_id, code, _model = compose.record_run(scenario, config, db_path=db_path)
    if code == run.EXIT_CRASH:
        db = open_db(db_path)
        error = next(db.query("SELECT error FROM runs WHERE run_id = ?", [run_id]))["error"]
        raise AssertionError(f"{scenario.name}: the run crashed:\n{error}")
    return check_run(db_path, run_id, scenario.expect)


def failures(checks: Sequence[CheckResult]) -> list[CheckResult]:
    """The checks that did not hold."""
    return [c for c in checks if not c.passed]


def describe(failed: Sequence[CheckResult]) -> str:
    """Failed checks with their evidence, one block each."""
    return "\n".join(
        f"- [{c.kind}] {c.label}" + "".join(f"\n    {line}" for line in c.evidence) for c in failed
    )


def _params() -> list[Any]:
    params = []
    for path in SCENARIOS:
        marks: list[Any] = []
        if path.stem in KNOWN_GAPS:
            marks.append(pytest.mark.xfail(reason=KNOWN_GAPS[path.stem], strict=True))
        if path.stem.startswith("real-"):
            marks.append(pytest.mark.realdata)
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def test_library_when_listed_then_has_enough_scenarios_each_named_after_its_file():
    assert len(SCENARIOS) >= 25
    for path in SCENARIOS:
        if unmet_requirements(path):
            continue
        scenario = load_scenario(path)
        assert scenario.name == path.stem
        assert scenario.description.strip(), f"{path.name} has no description"
        assert scenario.expect, f"{path.name} has no expectations"


@pytest.mark.parametrize("path", _params())
def test_run_scenario_when_library_file_then_every_check_holds(path: Path, tmp_path: Path):
    unmet = unmet_requirements(path)
    if unmet:
        pytest.skip(f"needs {', '.join(unmet)} (absent)")
    scenario, config = prepare(path)

    failed = failures(run_checked(scenario, config, tmp_path / "events.db"))

    assert not failed, f"{path.name}: {len(failed)} check(s) failed\n{describe(failed)}"
