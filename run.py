"""Bulwark's one entry point: wires scenario, configuration, protections, model and recorder.

    python run.py SCENARIO.yaml [--seed N] [--preset P] [--set name=value ...] [--db PATH]
                                [--quiet] [--json]
    python run.py DIR [--jobs N] [--report [OUT]]   every scenario below DIR, one row each
    python run.py report DB [--run ID] [--out FILE.html]   one run's self-contained HTML report
    python run.py plot DB [--run ID] [--out DIR]           the report's charts as PNG files
    python run.py validate FILE...
    python run.py params [--tier T] [--preset P] [--group G] [--export FILE]
    python run.py metrics                 the metrics an expectation can name
    python run.py rules [--json]          the rule catalogue (id, owner, parameters, section)
    python run.py inspect DB SUBCOMMAND ...   runs, summary, timeline, why, blocked, ...

Exit codes: 0 all held; 1 an expectation or invariant failed; 2 invalid input (nothing
written); 3 the run crashed (the run is marked failed, completed steps kept); 130 (SIGINT,
Ctrl-C) or 143 (SIGTERM): the run was stopped and marked interrupted, completed steps kept.
"""

from __future__ import annotations

import signal
import sys

if __name__ == "__main__":

    def _quiet_exit(signum: int, _frame: object) -> None:
        print(f"interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        sys.exit(128 + signum)

    # SIGINT or SIGTERM outside a run (while the modules below load, about a second, or
    # after it): one line and exit 130 or 143, no traceback; nothing is being written then.
    signal.signal(signal.SIGINT, _quiet_exit)
    signal.signal(signal.SIGTERM, _quiet_exit)

import argparse
import contextlib
import json
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import attrs
import sqlite_utils
from rich.console import Console
from rich.table import Table

from domain.catalogue import catalogue
from domain.config import PRESETS, ConfigError, resolve
from domain.limits import MAX_INT
from domain.protections.base import Protection
from domain.protections.registry import BUILTIN, Registry, custom_row
from domain.scenario import Scenario
from sim.load.config_section import parse_setting
from sim.load.custom import load_custom_protection
from sim.load.document import load_scenario, unmet_requirements, validate_files
from sim.load.problems import ScenarioError
from sim.load.yaml_nodes import Invalid, parse_int
from sim.read.checks import CheckResult, check_run
from sim.read.html import REPORT_DIR
from sim.read.inspect_cli import inspect_command
from sim.read.metrics import METRIC_HELP, METRICS
from sim.read.report import render_checks, render_summary
from sim.read.summary import summarise
from sim.run.db_path import db_path_problem
from sim.run.dbfile import close_writer, open_readonly, tidy
from sim.run.model import BulwarkModel
from sim.run.recorder import Recorder, allocate_run_id, open_db, run_id_prefix
from sim.run.signals import (
    RunInterrupted,
    exit_code,
    signals_deferred,
    stop_signals_raise,
    stopped_by,
)

EXIT_OK, EXIT_FAILED_CHECKS, EXIT_INVALID, EXIT_CRASH = 0, 1, 2, 3
#: Most worker processes of a directory run.
MAX_JOBS = 64


class InvalidInput(Exception):
    """Bad command-line input (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are InvalidInput (one line, exit code 2)."""

    def error(self, message: str) -> NoReturn:
        raise InvalidInput(message)


def run_registry(scenario: Scenario, registry: Registry = BUILTIN) -> Registry:
    """The protections of a run: every row of `registry` the scenario does not switch off
    (`protections.<name>.enabled: false`), plus a row per enabled custom protection."""
    off = [name for name in registry.names if not scenario.protections.is_enabled(name)]
    custom = [
        custom_row(spec.name, load_custom_protection(spec, scenario), spec.priority, spec.options)
        for spec in scenario.protections.custom
        if spec.enabled
    ]
    return registry.without(off).with_rows(custom)


def make_protections(
    scenario: Scenario, config: Any, registry: Registry = BUILTIN
) -> list[Protection]:
    """The protections of a run (`run_registry`), by priority. One whose configuration
    switch (`enable_core_asset_management`, `whipsaw_protection`) is off still runs, as an
    agent that abstains until a `set` switches it on (docs/protections.md)."""
    return run_registry(scenario, registry).build(config)


def resolve_run_config(
    scenario: Scenario, *, preset: str | None = None, sets: Sequence[str] = ()
) -> Any:
    """Defaults, then the preset (the command line's, else the scenario's), then the
    scenario's `config`, then every `--set name=value` (read by the file's rules, see
    `sim.load.config_section.parse_setting`; dashed names accepted)."""
    if preset is not None and preset not in PRESETS:
        raise InvalidInput(f"--preset {preset}: unknown preset '{preset}'{_known(PRESETS)}")
    overrides = dict(scenario.config)
    for item in sets:
        try:
            name, value = parse_setting(item)
        except ValueError as err:
            raise InvalidInput(f"--set {item}: {err}") from None
        overrides[name] = value
    try:
        return resolve(preset or scenario.preset, overrides).config
    except ConfigError as err:
        where = "--set" if sets else "--preset"
        raise InvalidInput(f"{where}: {'; '.join(i.message for i in err.issues)}") from None


def _known(names: Any) -> str:
    return f" (known: {', '.join(sorted(names))})"


def parse_seed(text: str) -> int:
    """A `--seed` value by the file's rule: an integer in [0, 2**63 - 1].

    Raises:
        InvalidInput: with the message.
    """
    try:
        value = parse_int(text.strip())
    except Invalid as err:
        raise InvalidInput(f"--seed: {err}") from None
    if not 0 <= value <= MAX_INT:
        raise InvalidInput(f"--seed: must be in [0, {MAX_INT}], got {text.strip()}")
    return value


def build_model(
    scenario: Scenario,
    config: Any,
    *,
    seed: int | None = None,
    recorder: Recorder | None = None,
    registry: Registry = BUILTIN,
) -> BulwarkModel:
    """A ready-to-run model of `scenario` (the one place protections and model meet), with
    the protections of `registry` (the built-ins unless given)."""
    return BulwarkModel(
        scenario,
        config,
        make_protections(scenario, config, registry),
        seed=scenario.seed if seed is None else seed,
        recorder=recorder,
    )


def next_run_id(db: Any, scenario: Scenario, seed: int) -> str:
    """`<scenario>-s<seed>-<nnn>`: one more than the highest nnn of that scenario and seed in
    this database. `run_scenario` allocates it in the transaction that inserts the runs
    row (`Recorder.start_run`), so concurrent runs never share an id."""
    return allocate_run_id(db, run_id_prefix(scenario.name, seed))


def run_scenario(
    scenario: Scenario,
    config: Any,
    *,
    seed: int | None = None,
    db_path: str | Path,
    step: Console | None = None,
    follow: str | None = None,
) -> tuple[str, int, BulwarkModel | None]:
    """Run `scenario` into the event DB at `db_path`. Returns (run_id, exit code, model).

    With `step` (a console), the run is stepped through in the terminal; quitting early
    marks the run `interrupted`, complete up to the last finished step. SIGINT and SIGTERM
    also mark it `interrupted` (exit code 130 or 143, `sim.run.signals`); one that arrives
    before the runs row is written waits for it, so the database always has the row. The
    run's database connection is closed on return (the file is then self-contained).
    """
    seed = scenario.seed if seed is None else seed
    with stop_signals_raise(), contextlib.ExitStack() as deferred:
        deferred.enter_context(signals_deferred())
        recorder = Recorder(open_db(db_path))
        recorder.start_run(
            scenario=scenario.name,
            scenario_path=scenario.path,
            scenario_sha256=scenario.sha256,
            seed=seed,
            initial_cash=scenario.cash,
            config=config.to_dict(),
        )
        try:
            code, model = _record(recorder, scenario, config, seed, step, follow, deferred.close)
        finally:
            close_writer(recorder.db)
        return str(recorder.run_id), code, model


def _record(
    recorder: Recorder,
    scenario: Scenario,
    config: Any,
    seed: int,
    step: Console | None,
    follow: str | None,
    resume_signals: Callable[[], object],
) -> tuple[int, BulwarkModel | None]:
    """Build and run the model into a started run; mark how it ended. (exit code, model)

    `resume_signals()` ends the deferral of SIGINT and SIGTERM while the run started; one
    that arrived meanwhile is raised there and handled like any other.
    """
    model = None
    try:
        resume_signals()
        model = build_model(scenario, config, seed=seed, recorder=recorder)
        if step is None:
            model.run()
        else:
            from sim.read.stepper import step_through

            if not step_through(model, step, follow=follow).finished:
                recorder.finish("interrupted", "quit from the step-through")
                return EXIT_OK, model
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, RunInterrupted) else signal.SIGINT
        recorder.finish("interrupted", f"stopped by {signal.Signals(signum).name}")
        return exit_code(signum), model
    except Exception:
        recorder.finish("failed", traceback.format_exc(limit=20))
        return EXIT_CRASH, model
    recorder.finish("completed")
    return EXIT_OK, model


# --- command line -----------------------------------------------------------------------


def _scenario_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run.py", description="Run a Bulwark scenario.")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--seed", help="override the scenario's seed (an integer, 0 <= seed < 2**63)")
    p.add_argument("--preset", help="base configuration preset (overrides the scenario's)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one parameter (repeatable)",
    )
    p.add_argument("--db", help="event database (default runs/<scenario>.db)")
    p.add_argument("--quiet", action="store_true", help="print only failures")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.add_argument("--step", action="store_true", help="step through the run in the terminal")
    p.add_argument("--follow", metavar="TICKER", help="with --step: follow one asset")
    return p


def prepare(
    path: str,
    *,
    preset: str | None = None,
    sets: Sequence[str] = (),
    seed: int | None = None,
) -> tuple[Scenario, Any]:
    """Load and check everything before anything is written: the file, its market as
    the run with `seed` will build it, the configuration and custom protections. Raises
    ScenarioError or InvalidInput."""
    scenario = load_scenario(path, seed=seed)
    config = resolve_run_config(scenario, preset=preset, sets=sets)
    make_protections(scenario, config)  # custom protections import before anything is written
    return scenario, config


def read_back(db_path: str | Path, run_id: str) -> tuple[dict[str, Any], str | None]:
    """A recorded run's summary (`summarise`) and its `error`, read over a read-only
    connection that is closed again."""
    with contextlib.closing(open_readonly(db_path)) as conn:
        db = sqlite_utils.Database(conn, recursive_triggers=False)
        error = next(db.query("SELECT error FROM runs WHERE run_id = ?", [run_id]))["error"]
        return summarise(db, run_id), error


def check_run_arguments(args: argparse.Namespace) -> int | None:
    """The `--seed` value (None when not given); InvalidInput for a bad one, or for
    `--follow` without `--step`."""
    if args.follow is not None and not args.step:
        raise InvalidInput("--follow: only used with --step")
    return None if args.seed is None else parse_seed(args.seed)


def check_db(db_path: str) -> None:
    """InvalidInput when the run cannot use `db_path` as its event database."""
    problem = db_path_problem(db_path)
    if problem is not None:
        raise InvalidInput(f"--db {db_path}: {problem}")


def _is_dir(text: str) -> bool:
    try:
        return Path(text).is_dir()
    except (OSError, ValueError):
        return False


def cmd_run(argv: Sequence[str], console: Console) -> int:
    if argv and _is_dir(argv[0]):
        return cmd_run_dir(argv, console)
    args = _scenario_parser().parse_args(argv)
    try:
        seed = check_run_arguments(args)
        unmet = unmet_requirements(args.scenario)
        if unmet:
            console.print(
                f"{args.scenario}: skipped: needs {', '.join(unmet)} (absent)", markup=False
            )
            return EXIT_OK
        scenario, config = prepare(args.scenario, preset=args.preset, sets=args.set, seed=seed)
        db_path = args.db or str(Path("runs") / f"{scenario.name}.db")
        check_db(db_path)
    except ScenarioError as err:
        console.print(str(err), markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID
    except InvalidInput as err:
        console.print(f"{args.scenario}: {err}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID
    run_id, code, _model = run_scenario(
        scenario,
        config,
        seed=seed,
        db_path=db_path,
        step=console if args.step else None,
        follow=args.follow,
    )
    try:
        return report_run(args, scenario, db_path, run_id, code, console)
    finally:
        tidy(db_path)


def report_run(
    args: argparse.Namespace,
    scenario: Scenario,
    db_path: str,
    run_id: str,
    code: int,
    console: Console,
) -> int:
    """Read a finished run back, check it unless it crashed or was stopped, print it; the
    exit code."""
    summary, error = read_back(db_path, run_id)
    summary["db"] = db_path
    checks: list[CheckResult] = []
    if summary["status"] == "interrupted":
        how = f" by {stopped_by(code)}" if stopped_by(code) else ""
        console.print(f"run {run_id} interrupted{how} after {summary['steps']} steps", markup=False)
        return code
    if code == EXIT_CRASH:
        console.print(f"run {run_id} crashed:\n{error}", markup=False)
    else:
        checks = check_run(db_path, run_id, scenario.expect)
        if any(not c.passed for c in checks):
            code = EXIT_FAILED_CHECKS
    summary["checks"] = [attrs.asdict(c) for c in checks]
    summary["exit_code"] = code
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    else:
        if not args.quiet:
            render_summary(summary, console)
        render_checks(checks, console, failures_only=args.quiet)
    return code


BAD_RESULTS = ("failed", "crashed", "invalid", "interrupted")
"""The directory-run results that make `run.py DIR` exit 1."""


@attrs.frozen
class DirRow:
    """One scenario's line in a directory run."""

    path: str
    scenario: str
    steps: int
    result: str  # passed | failed | invalid | crashed | interrupted | skipped
    failed: tuple[str, ...]
    seconds: float
    db: str = ""  # the event database of the run ("" when none ran)
    run_id: str = ""


def run_one(path: str) -> DirRow:
    """Run one scenario file into `runs/<name>.db` and check it (a process-pool job)."""
    started = time.perf_counter()
    unmet = unmet_requirements(path)
    if unmet:
        return DirRow(path, Path(path).stem, 0, "skipped", (f"needs {', '.join(unmet)}",), 0.0)
    try:
        scenario, config = prepare(path)
    except (ScenarioError, InvalidInput) as err:
        return DirRow(path, Path(path).stem, 0, "invalid", (str(err),), 0.0)
    db_path = str(Path("runs") / f"{scenario.name}.db")
    run_id, code, _ = run_scenario(scenario, config, db_path=db_path)
    steps = read_back(db_path, run_id)[0]["steps"]
    if code == EXIT_CRASH:
        failed: tuple[str, ...] = ("run crashed (see runs.error)",)
        result = "crashed"
    elif stopped_by(code):
        failed, result = (f"stopped by {stopped_by(code)}",), "interrupted"
    else:
        failed = tuple(
            f"{c.label}: {'; '.join(c.evidence[:3])}"
            for c in check_run(db_path, run_id, scenario.expect)
            if not c.passed
        )
        result = "failed" if failed else "passed"
    tidy(db_path)
    seconds = round(time.perf_counter() - started, 2)
    return DirRow(path, scenario.name, steps, result, failed, seconds, db_path, run_id)


def dir_table(rows: Sequence[DirRow]) -> Table:
    """One row per scenario: scenario, steps, result, failed checks, seconds."""
    style = {**dict.fromkeys(BAD_RESULTS, "red"), "passed": "green"}
    t = Table(title="Scenarios", title_justify="left")
    for col in ("scenario", "steps", "result", "failed checks", "seconds"):
        t.add_column(col, justify="right" if col in ("steps", "seconds") else "left")
    for r in rows:
        t.add_row(
            r.scenario,
            str(r.steps),
            f"[{style.get(r.result, 'yellow')}]{r.result}[/]",
            "\n".join(r.failed),
            f"{r.seconds:.2f}",
        )
    return t


def cmd_run_dir(argv: Sequence[str], console: Console) -> int:
    p = _Parser(prog="run.py DIR", description="Run every scenario below DIR.")
    p.add_argument("directory")
    p.add_argument("--jobs", default="1", help="parallel processes (default 1)")
    p.add_argument(
        "--report",
        nargs="?",
        const=REPORT_DIR,
        metavar="OUT",
        help=f"write each scenario's HTML report and an index.html into OUT ({REPORT_DIR})",
    )
    args = p.parse_args(argv)
    try:
        args.jobs = parse_int(args.jobs.strip())
    except Invalid as err:
        raise InvalidInput(f"--jobs: {err}") from None
    if not 1 <= args.jobs <= MAX_JOBS:
        raise InvalidInput(f"--jobs: must be in [1, {MAX_JOBS}], got {args.jobs}")
    paths = sorted(str(f) for f in Path(args.directory).rglob("*.yaml"))
    if not paths:
        console.print(f"{args.directory}: no scenario files (*.yaml) below it", markup=False)
        return EXIT_INVALID
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(run_one, paths))
    else:
        rows = [run_one(path) for path in paths]
    console.print(dir_table(rows))
    bad = [r for r in rows if r.result in BAD_RESULTS]
    console.print(
        f"{len(rows)} scenarios: {sum(r.result == 'passed' for r in rows)} passed,"
        f" {len(bad)} failed, {sum(r.result == 'skipped' for r in rows)} skipped",
        markup=False,
    )
    if args.report is not None:
        from sim.read.html.index import write_dir_report

        index = write_dir_report(rows, args.report, jobs=args.jobs)
        console.print(f"report: {index}", markup=False, highlight=False, soft_wrap=True)
    return EXIT_FAILED_CHECKS if bad else EXIT_OK


def cmd_metrics(argv: Sequence[str], console: Console) -> int:
    t = Table(title="Metrics (for `expect: - metric: {name: ..., min/max: ...}`)")
    t.add_column("name")
    t.add_column("meaning")
    for name in sorted(METRICS):
        t.add_row(name, METRIC_HELP.get(name, ""))
    console.print(t)
    return EXIT_OK


def cmd_rules(argv: Sequence[str], console: Console) -> int:
    p = _Parser(prog="run.py rules", description="List the rule catalogue.")
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    args = p.parse_args(argv)
    rules = catalogue()
    if args.json:
        rows = [{**attrs.asdict(r), "owner": r.owner} for r in rules]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    t = Table(title=f"Rules ({len(rules)}; events record the id as `rule`)", title_justify="left")
    t.add_column("id", no_wrap=True)
    t.add_column("owner", no_wrap=True)
    for col in ("parameters", "rule", "behaviour.md"):
        t.add_column(col, overflow="fold")
    for r in rules:
        t.add_row(r.id, r.owner, "\n".join(r.params) or "-", r.statement, r.section)
    console.print(t)
    return EXIT_OK


def cmd_validate(argv: Sequence[str], console: Console) -> int:
    p = _Parser(prog="run.py validate", description="Check scenario files.")
    p.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    worst = EXIT_OK
    for path, error in validate_files(args.files):
        if error is None:
            console.print(f"{path}: ok", markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(str(error), markup=False, highlight=False, soft_wrap=True)
            worst = EXIT_INVALID
    return worst


def cmd_params(argv: Sequence[str], console: Console) -> int:
    from sim.read.params_view import params_command

    p = argparse.ArgumentParser(prog="run.py params", description="Show the parameters.")
    p.add_argument("--tier", choices=("basic", "intermediate", "advanced", "expert"))
    p.add_argument("--preset")
    p.add_argument("--group")
    p.add_argument("--export", metavar="FILE", help="write the resolved configuration")
    args = p.parse_args(argv)
    return params_command(
        tier=args.tier, preset=args.preset, group=args.group, export=args.export, console=console
    )


def cmd_report(argv: Sequence[str], console: Console) -> int:
    from sim.read.html.cli import report_command  # matplotlib loads only when needed

    return report_command(argv, console)


def cmd_plot(argv: Sequence[str], console: Console) -> int:
    from sim.read.html.cli import plot_command

    return plot_command(argv, console)


COMMANDS = {
    "validate": cmd_validate,
    "params": cmd_params,
    "metrics": cmd_metrics,
    "rules": cmd_rules,
    "inspect": inspect_command,
    "report": cmd_report,
    "plot": cmd_plot,
}


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    console = console or Console()
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:], console)
        return cmd_run(argv, console)
    except InvalidInput as err:  # a bad command line: one line, nothing written
        console.print(f"run.py: {err}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stop:  # outside a run (a run handles its own): no traceback
        signum = stop.signum if isinstance(stop, RunInterrupted) else signal.SIGINT
        print(f"interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        sys.exit(exit_code(signum))
