"""Runs a scenario under the step-through the way `run.py SCENARIO --step` does.

    python tests/integration/step_harness.py SCENARIO.yaml --db PATH [--follow TICKER]

Used by tests/integration/test_stepper.py under a pseudo-terminal (pexpect). It builds the
model with `sim.compose.build_model` and a recorder as `sim.compose.record_run` does, steps it
through `sim.read.stepper.step_through`, and marks the run completed, or interrupted when the
user quit before the last step. Exit code 0 either way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402

from sim import compose  # noqa: E402
from sim.load.document import load_scenario  # noqa: E402
from sim.read.stepper import step_through  # noqa: E402
from sim.run.model import BulwarkModel  # noqa: E402
from sim.run.recorder import Recorder, open_db  # noqa: E402


def start_model(scenario_path: str, db_path: str) -> tuple[BulwarkModel, Recorder]:
    """A model of the scenario recording into `db_path`, built as `compose.record_run` does."""
    scenario = load_scenario(scenario_path)
    config = compose.resolve_run_config(scenario)
    db = open_db(db_path)
    recorder = Recorder(db, compose.next_run_id(db, scenario, scenario.seed))
    recorder.start_run(
        scenario=scenario.name,
        scenario_path=scenario.path,
        scenario_sha256=scenario.sha256,
        seed=scenario.seed,
        initial_cash=scenario.cash,
        config=config.to_dict(),
    )
    return compose.build_model(scenario, config, recorder=recorder), recorder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--db", required=True)
    p.add_argument("--follow")
    args = p.parse_args(argv)
    model, recorder = start_model(args.scenario, args.db)
    result = step_through(model, Console(), interactive=None, follow=args.follow)
    if result.finished:
        recorder.finish("completed")
    else:
        recorder.finish("interrupted", "quit from the step-through")
    return 0


if __name__ == "__main__":
    sys.exit(main())
