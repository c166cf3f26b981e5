"""Bulwark's command line; a run goes through the notebook API (`sim.api`, `sim.compose`).

    python run.py SCENARIO.yaml [--seed N] [--preset P] [--set name=value ...] [--db PATH]
                                [--quiet] [--json]
    python run.py DIR [--jobs N] [the flags above; --db a folder or a file]   each file below
    python run.py report DB [--run ID] [--out FILE.html]   one run's self-contained HTML report
    python run.py plot DB [--run ID] [--out DIR]           the report's charts as PNG files
    python run.py validate FILE...
    python run.py params [--tier T] [--preset P] [--group G] [--export FILE]
    python run.py metrics                 the metrics an expectation can name
    python run.py rules [--json]          the rule catalogue (id, owner, parameters, section)
    python run.py coverage DIR [--json] [--db FILE_OR_FOLDER]   rules and parameters exercised
    python run.py inspect DB SUBCOMMAND ...   runs, summary, timeline, why, blocked, ...
    python run.py sweep SCENARIO|DIR --seeds 1-200 [--grid NAME=V1,V2 ...] [--workers N]
    python run.py sweep-report OUT        a sweep's aggregates (distributions, failures)
    python run.py --help                  every command, one line each (COMMANDS)

Exit codes: 0 all held; 1 an expectation or invariant failed; 2 invalid input (nothing
written); 3 the run crashed (the run is marked failed, completed steps kept); 130 (SIGINT,
Ctrl-C, or quitting the step-through before its end) or 143 (SIGTERM): the run was stopped
and marked interrupted, completed steps kept, its checks not run.
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
import functools
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from domain.catalogue import catalogue
from domain.config import Config
from domain.scenario import Scenario
from sim import compose
from sim.api import RunResult, run_prepared
from sim.compose import (
    EXIT_CRASH,
    EXIT_FAILED_CHECKS,
    EXIT_INVALID,
    EXIT_OK,
    QUIT_REASON,
    InvalidInput,
    check_db,
    check_preset,
    parse_count,
    parse_seed,
    parse_sets,
    record_run,
)
from sim.load.document import unmet_requirements, validate_files
from sim.load.problems import ScenarioError
from sim.pool import process_pool
from sim.read.cli_help import HELP_FORMAT, Command, examples_epilog, overview
from sim.read.console import make_console
from sim.read.coverage_cli import coverage_command, dir_coverage_line
from sim.read.html import REPORT_DIR
from sim.read.inspect_cli import inspect_command
from sim.read.report import registry_table, render_checks, render_summary
from sim.run.db_path import db_path_problem
from sim.run.signals import RunInterrupted, exit_code, stopped_by

#: Most worker processes of a directory run.
MAX_JOBS = 64

run_scenario = record_run
"""The earlier name of `sim.compose.record_run` (returns run id, exit code, model; no
checks), kept for scripts written against it. The notebook API is `sim.api.run_scenario`."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are InvalidInput (one line, exit code 2)."""

    def error(self, message: str) -> NoReturn:
        raise InvalidInput(message)


def prepare(
    path: str,
    *,
    preset: str | None = None,
    sets: Sequence[str] = (),
    seed: int | None = None,
) -> tuple[Scenario, Config]:
    """`sim.compose.prepare` with `--set` texts (`parse_sets`): (scenario, configuration),
    checked before anything is written. Raises ScenarioError or InvalidInput."""
    try:
        overrides = parse_sets(sets)
    except InvalidInput as err:
        raise InvalidInput(f"{path}: {err}") from None
    return compose.prepare(path, seed=seed, preset=preset, overrides=overrides)


@attrs.frozen
class RunOptions:
    """The flags a single-file run and a directory run share, checked (picklable, for the
    worker processes of a directory run).

    `db` is None (each scenario into `runs/<scenario>.db`), a file (every run into it) or,
    with `db_folder`, a folder (each scenario into `<db>/<scenario>.db`).
    """

    seed: int | None = None
    preset: str | None = None
    overrides: Mapping[str, Any] = attrs.field(factory=dict)
    db: str | None = None
    db_folder: bool = False

    def db_path(self, scenario: str) -> str:
        """The event database of a run of `scenario`."""
        if self.db is None:
            return str(Path("runs") / f"{scenario}.db")
        return str(Path(self.db) / f"{scenario}.db") if self.db_folder else self.db


def run_options(args: argparse.Namespace, *, db_folder: bool = False) -> RunOptions:
    """The shared flags of `args` checked by the file's rules (InvalidInput otherwise)."""
    seed = None if args.seed is None else parse_seed(args.seed)
    check_preset(args.preset)
    return RunOptions(seed, args.preset, parse_sets(args.set), args.db, db_folder)


def run_file(
    path: str,
    options: RunOptions,
    *,
    step: Console | None = None,
    follow: str | None = None,
) -> RunResult:
    """Prepare, run and check one scenario file (`sim.compose.prepare`, then
    `sim.api.run_prepared`: the notebook API's path). Raises ScenarioError or InvalidInput
    (`<path>: --option ...: message`) before anything is written."""
    scenario, config = compose.prepare(
        path, seed=options.seed, preset=options.preset, overrides=options.overrides
    )
    db = options.db_path(scenario.name)
    return run_prepared(scenario, config, seed=options.seed, db=db, step=step, follow=follow)


# --- command line -----------------------------------------------------------------------


def _add_run_flags(p: argparse.ArgumentParser, db_help: str) -> None:
    """The flags a single-file run and a directory run share."""
    p.add_argument("--seed", help="override the scenario's seed (an integer, 0 <= seed < 2**63)")
    p.add_argument("--preset", help="base configuration preset (overrides the scenario's)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one parameter (repeatable)",
    )
    p.add_argument("--db", help=db_help)
    p.add_argument("--quiet", action="store_true", help="print only failures")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")


def _scenario_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run.py",
        description="Run a Bulwark scenario into its event database, check it, print a summary.",
        epilog=examples_epilog(
            "scenarios/baseline.yaml",
            "scenarios/baseline.yaml --seed 7 --preset crisis --set grace_period_days=3",
            "scenarios/baseline.yaml --db runs/mine.db --quiet",
            "tests/data/inspect/whipsaw.yaml --step --follow AAA",
        ),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("scenario", help="scenario YAML file")
    _add_run_flags(p, "event database (default runs/<scenario>.db)")
    p.add_argument("--step", action="store_true", help="step through the run in the terminal")
    p.add_argument("--follow", metavar="TICKER", help="with --step: follow one asset")
    return p


def _is_dir(text: str) -> bool:
    try:
        return Path(text).is_dir()
    except (OSError, ValueError):
        return False


def _print_line(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def cmd_run(argv: Sequence[str], console: Console) -> int:
    if argv and _is_dir(argv[0]):
        return cmd_run_dir(argv, console)
    args = _scenario_parser().parse_args(argv)
    try:
        if args.follow is not None and not args.step:
            raise InvalidInput("--follow: only used with --step")
        options = run_options(args)
    except InvalidInput as err:
        _print_line(console, f"{args.scenario}: {err}")
        return EXIT_INVALID
    unmet = unmet_requirements(args.scenario)
    if unmet:
        console.print(f"{args.scenario}: skipped: needs {', '.join(unmet)} (absent)", markup=False)
        return EXIT_OK
    try:
        result = run_file(
            args.scenario, options, step=console if args.step else None, follow=args.follow
        )
    except (ScenarioError, InvalidInput) as err:
        _print_line(console, str(err))
        return EXIT_INVALID
    return report_run(args, result, console)


def report_run(args: argparse.Namespace, result: RunResult, console: Console) -> int:
    """Print a finished run's result as `args` ask (`--json`, `--quiet`); its exit code."""
    code = result.exit_code
    assert code is not None  # a run this process finished
    if result.status == "interrupted":
        how = f" by {stopped_by(code)}" if stopped_by(code) else ""
        how = f" ({QUIT_REASON})" if result.error == QUIT_REASON else how
        steps = result.summary["steps"]
        console.print(
            f"run {result.run_id} interrupted{how} after {steps} steps; checks not run",
            markup=False,
        )
        return code
    if code == EXIT_CRASH:
        console.print(f"run {result.run_id} crashed:\n{result.error}", markup=False)
    if args.json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n")
    else:
        if not args.quiet:
            render_summary(result.as_dict(), console)
        render_checks(result.checks, console, failures_only=args.quiet)
    return code


BAD_RESULTS = ("failed", "crashed", "invalid", "interrupted")
"""The directory-run results that make `run.py DIR` exit 1."""


@attrs.frozen
class DirRow:
    """One scenario's line in a directory run; `record` is what `run.py FILE --json` would
    print for it (None when it did not run: invalid or skipped)."""

    path: str
    scenario: str
    steps: int
    result: str  # passed | failed | invalid | crashed | interrupted | skipped
    failed: tuple[str, ...]
    seconds: float
    record: Mapping[str, Any] | None = None
    db: str = ""  # the event database of the run ("" when none ran)
    run_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The row for `run.py DIR --json`: the run's record, then path, result, failed
        (the reasons shown in the table) and seconds."""
        code = {"invalid": EXIT_INVALID, "skipped": EXIT_OK}.get(self.result)
        head = {"scenario": self.scenario, "steps": self.steps, "exit_code": code}
        return {
            **(self.record if self.record is not None else head),
            "path": self.path,
            "result": self.result,
            "failed": list(self.failed),
            "seconds": self.seconds,
        }


def dir_row(path: str, result: RunResult, seconds: float) -> DirRow:
    """The directory-run line of one finished run."""
    code = result.exit_code
    if code == EXIT_CRASH:
        failed: tuple[str, ...] = ("run crashed (see runs.error)",)
        outcome = "crashed"
    elif code is not None and stopped_by(code):
        failed, outcome = (f"stopped by {stopped_by(code)}",), "interrupted"
    else:
        failed = tuple(f"{c.label}: {'; '.join(c.evidence[:3])}" for c in result.failed_checks)
        outcome = "failed" if failed else "passed"
    name, steps = result.summary["scenario"], result.summary["steps"]
    return DirRow(
        path,
        name,
        steps,
        outcome,
        failed,
        round(seconds, 2),
        result.as_dict(),
        db=result.db_path,
        run_id=result.run_id,
    )


def run_one(path: str, options: RunOptions | None = None) -> DirRow:
    """Run one scenario file with the shared flags and check it (a process-pool job)."""
    started = time.perf_counter()
    unmet = unmet_requirements(path)
    if unmet:
        return DirRow(path, Path(path).stem, 0, "skipped", (f"needs {', '.join(unmet)}",), 0.0)
    try:
        result = run_file(path, options or RunOptions())
    except (ScenarioError, InvalidInput) as err:
        return DirRow(path, Path(path).stem, 0, "invalid", (str(err),), 0.0)
    return dir_row(path, result, time.perf_counter() - started)


def dir_table(rows: Sequence[DirRow]) -> Table:
    """One row per scenario: scenario, steps, result, failed checks, seconds."""
    style = {**dict.fromkeys(BAD_RESULTS, "red"), "passed": "green"}
    t = Table(title="Scenarios", title_justify="left")
    for col in ("scenario", "steps", "result", "failed checks", "seconds"):
        t.add_column(
            col, justify="right" if col in ("steps", "seconds") else "left", overflow="fold"
        )
    for r in rows:
        t.add_row(
            r.scenario,
            str(r.steps),
            f"[{style.get(r.result, 'yellow')}]{r.result}[/]",
            "\n".join(r.failed),
            f"{r.seconds:.2f}",
        )
    return t


def _dir_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run.py DIR",
        description="Run every scenario below DIR (*.yaml), one row each; exit 1 if any fails.",
        epilog=examples_epilog(
            "scenarios/library",
            "scenarios/library --jobs 2",
            "scenarios/library --jobs 2 --quiet --json",
            "scenarios/library --db runs/library/ --seed 7",
        ),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("directory")
    p.add_argument("--jobs", default="1", help="parallel processes (default 1)")
    _add_run_flags(
        p,
        "a folder (ending in / or existing): one database per scenario in it;"
        " a file: every run into it (default runs/<scenario>.db)",
    )
    p.add_argument(
        "--report",
        nargs="?",
        const=REPORT_DIR,
        metavar="OUT",
        help=f"write each scenario's HTML report and an index.html into OUT ({REPORT_DIR})",
    )
    return p


def _jobs(text: str) -> int:
    return parse_count(text, "--jobs", MAX_JOBS)


def is_db_folder(db: str) -> bool:
    """Whether a directory run's `--db` names a folder (one database per scenario): an
    existing directory, or a path ending in a separator. Anything else is one file."""
    return db.endswith(("/", os.sep)) or _is_dir(db)


def dir_run_options(args: argparse.Namespace) -> RunOptions:
    """The shared flags of a directory run, checked once before any scenario runs: a bad
    one is exit 2 (`run.py: --option ...: message`), nothing written."""
    folder = args.db is not None and is_db_folder(args.db)
    options = run_options(args, db_folder=folder)
    if args.db is not None:
        # A folder must accept database files; a scenario-named file in it is checked
        # again by its run (an existing one may belong to another program).
        problem = db_path_problem(Path(args.db) / "scenario.db") if folder else None
        if problem is not None:
            raise InvalidInput(f"--db {args.db}: {problem}")
        if not folder:
            check_db(args.db)
    return options


def cmd_run_dir(argv: Sequence[str], console: Console) -> int:
    args = _dir_parser().parse_args(argv)
    jobs = _jobs(args.jobs)
    options = dir_run_options(args)
    paths = sorted(str(f) for f in Path(args.directory).rglob("*.yaml"))
    if not paths:
        console.print(f"{args.directory}: no scenario files (*.yaml) below it", markup=False)
        return EXIT_INVALID
    job = functools.partial(run_one, options=options)
    if jobs > 1:
        with process_pool(jobs) as pool:
            rows = list(pool.map(job, paths))
    else:
        rows = [job(path) for path in paths]
    bad = [r for r in rows if r.result in BAD_RESULTS]
    if args.json:
        records = [r.as_dict() for r in rows]
        sys.stdout.write(json.dumps(records, indent=2, sort_keys=True) + "\n")
    elif bad or not args.quiet:
        console.print(dir_table(bad if args.quiet else rows))
        console.print(
            f"{len(rows)} scenarios: {sum(r.result == 'passed' for r in rows)} passed,"
            f" {len(bad)} failed, {sum(r.result == 'skipped' for r in rows)} skipped",
            markup=False,
        )
        if not args.quiet:
            _print_line(console, dir_coverage_line(rows, args.directory))
    if args.report is not None:
        from sim.read.html.index import write_dir_report

        index = write_dir_report(rows, args.report, jobs=jobs)
        console.print(f"report: {index}", markup=False, highlight=False, soft_wrap=True)
    return EXIT_FAILED_CHECKS if bad else EXIT_OK


def cmd_metrics(argv: Sequence[str], console: Console) -> int:
    _Parser(
        prog="run.py metrics",
        description="List the metrics a scenario's `expect: - metric:` can name.",
        epilog=examples_epilog("metrics"),
        formatter_class=HELP_FORMAT,
    ).parse_args(argv)
    console.print(registry_table())
    return EXIT_OK


def cmd_rules(argv: Sequence[str], console: Console) -> int:
    p = _Parser(
        prog="run.py rules",
        description="List the rule catalogue: id (recorded as `rule`), owner, parameters, section.",
        epilog=examples_epilog("rules", "rules --json"),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    args = p.parse_args(argv)
    rules = catalogue()
    if args.json:
        rows = [{**attrs.asdict(r), "owner": r.owner} for r in rules]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_OK
    t = Table(title=f"Rules ({len(rules)}; events record the id as `rule`)", title_justify="left")
    t.add_column("id", overflow="fold")
    t.add_column("owner", overflow="fold")
    for col in ("parameters", "rule", "behaviour.md"):
        t.add_column(col, overflow="fold")
    for r in rules:
        t.add_row(r.id, r.owner, "\n".join(r.params) or "-", r.statement, r.section)
    console.print(t)
    return EXIT_OK


def cmd_validate(argv: Sequence[str], console: Console) -> int:
    p = _Parser(
        prog="run.py validate",
        description="Check scenario files without running them (exit 0, or 2 naming file,"
        " line and field); writes nothing.",
        epilog=examples_epilog(
            "validate scenarios/baseline.yaml", "validate scenarios/library/*.yaml"
        ),
        formatter_class=HELP_FORMAT,
    )
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

    p = _Parser(
        prog="run.py params",
        description="Show the parameter registry (a preset's values highlighted where they"
        " differ from the defaults), or export the resolved configuration.",
        epilog=examples_epilog(
            "params --tier basic",
            "params --preset crisis --group grace",
            "params --preset crisis --export crisis.yaml",
        ),
        formatter_class=HELP_FORMAT,
    )
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


def _ablate_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run.py ablate",
        description="Run each scenario as it is and once with each protection switched off"
        " in turn (built-in and custom); one table per scenario of what each is worth."
        " Exit 0, 1 if a baseline fails a check, 3 if a run crashed.",
        epilog=examples_epilog(
            "ablate scenarios/baseline.yaml",
            "ablate scenarios/library --jobs 2",
            "ablate scenarios/baseline.yaml --seed 7 --set grace_period_days=3 --json",
        ),
        formatter_class=HELP_FORMAT,
    )
    _add_variant_flags(p)
    p.add_argument("--json", action="store_true", help="print the tables as JSON")
    return p


def _add_variant_flags(p: argparse.ArgumentParser) -> None:
    """SCENARIO|DIR and the options of a command that re-runs scenarios (ablate, mutate)."""
    p.add_argument("scenario", metavar="SCENARIO|DIR", help="a scenario file, or a directory")
    p.add_argument("--jobs", default="1", help="parallel processes (default 1)")
    p.add_argument("--seed", help="override the scenarios' seed")
    p.add_argument("--preset", help="base configuration preset (overrides the scenarios')")
    p.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="set one parameter"
    )


def _variant_paths(target: str) -> list[str]:
    """The scenario files of SCENARIO|DIR (below a directory, those whose requirements are
    met); InvalidInput when a directory holds none."""
    if not _is_dir(target):
        return [target]
    found = sorted(str(f) for f in Path(target).rglob("*.yaml"))
    paths = [f for f in found if not unmet_requirements(f)]
    if not paths:
        raise InvalidInput(f"{target}: no scenario files (*.yaml) below it")
    return paths


def cmd_ablate(argv: Sequence[str], console: Console) -> int:
    from sim.ablate import ablate, ablation_exit_code
    from sim.read.ablation import ablation_dict, ablation_table

    args = _ablate_parser().parse_args(argv)
    jobs = _jobs(args.jobs)
    seed = None if args.seed is None else parse_seed(args.seed)
    check_preset(args.preset)
    overrides = parse_sets(args.set)
    is_dir = _is_dir(args.scenario)
    try:
        paths = _variant_paths(args.scenario)
        results = ablate(paths, seed=seed, preset=args.preset, set=overrides, jobs=jobs)
    except (ScenarioError, InvalidInput) as err:
        _print_line(console, str(err))
        return EXIT_INVALID
    if args.json:
        records = [ablation_dict(a) for a in results]
        sys.stdout.write(json.dumps(records if is_dir else records[0], indent=2) + "\n")
    else:
        for result in results:
            console.print(ablation_table(result))
    code = ablation_exit_code(results)
    if stopped_by(code):
        console.print(f"ablation interrupted by {stopped_by(code)}", markup=False)
    return code


@contextlib.contextmanager
def _progress(console: Console, what: str, *, shown: bool) -> Iterator[tuple[Any, Any]]:
    """(on_plan, on_done) callbacks driving a transient rich progress bar of the runs, on a
    terminal console when `shown`; callbacks that do nothing otherwise."""
    if not (shown and console.is_terminal):
        yield None, None
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"running {what}", total=None)
        yield (
            lambda n: bar.update(task, total=n),
            lambda _row: bar.advance(task),
        )


def _mutate_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run.py mutate",
        description="Run the scenarios clean and once per mutant (a deliberately broken rule"
        " switched in through the protection registry); a mutant is killed when a scenario's"
        " exit code changes. Prints the kill matrix, the score and the survivors (and adds them"
        " to an SQLite file with --db). Exit 0, 1 if"
        " a clean run fails a check, 3 if one crashed; survivors are the measurement.",
        epilog=examples_epilog(
            "mutate scenarios/library --jobs 2",
            "mutate scenarios/library --rule holding_period.minimum",
            "mutate scenarios/library --jobs 2 --db runs/mutation.db",
            "mutate scenarios/library/holding-period-minimum.yaml --json",
        ),
        formatter_class=HELP_FORMAT,
    )
    _add_variant_flags(p)
    p.add_argument("--rule", metavar="ID", help="only the mutants breaking this rule")
    p.add_argument(
        "--db",
        metavar="FILE",
        help="also add the report to this SQLite file (new, or an event database): tables"
        " mutation_reports, mutants, mutation_runs",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def _check_mutation_db(db: str | None) -> None:
    """InvalidInput when `mutate --db` cannot take a report (checked before any run)."""
    from sim.read.mutation_db import schema_problem

    if db is None:
        return
    check_db(db)
    problem = schema_problem(db)
    if problem is not None:
        raise InvalidInput(f"--db {db}: {problem}")


def cmd_mutate(argv: Sequence[str], console: Console) -> int:
    from sim.mutate import mutate
    from sim.read.mutation import (
        mutation_dict,
        mutation_exit_code,
        mutation_table,
        score_text,
        survivors_text,
    )

    args = _mutate_parser().parse_args(argv)
    jobs = _jobs(args.jobs)
    seed = None if args.seed is None else parse_seed(args.seed)
    check_preset(args.preset)
    overrides = parse_sets(args.set)
    options = {"seed": seed, "preset": args.preset, "set": overrides, "rule": args.rule}
    _check_mutation_db(args.db)
    try:
        paths = _variant_paths(args.scenario)
        with _progress(console, "mutants", shown=not args.json) as (on_plan, on_done):
            report = mutate(paths, **options, jobs=jobs, on_plan=on_plan, on_done=on_done)
    except (ScenarioError, InvalidInput) as err:
        _print_line(console, str(err))
        return EXIT_INVALID
    written = _write_mutation_db(args.db, report)
    if args.json:
        data = mutation_dict(report)
        if args.db is not None:
            data["db"] = {"path": args.db, "report_id": written}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        console.print(mutation_table(report))
        for line in (*survivors_text(report), score_text(report)):
            _print_line(console, line)
        if args.db is not None:
            _print_line(console, _written_line(args.db, written))
    code = mutation_exit_code(report)
    if stopped_by(code):
        console.print(f"mutation run interrupted by {stopped_by(code)}", markup=False)
    return code


def cmd_fuzz(argv: Sequence[str], console: Console) -> int:
    from sim.fuzz.cli import fuzz_command  # hypothesis loads only when needed

    return fuzz_command(argv, console)


def cmd_sweep(argv: Sequence[str], console: Console) -> int:
    from sim.sweep.cli import sweep_command  # dask loads only when needed

    return sweep_command(argv, console)


def cmd_sweep_report(argv: Sequence[str], console: Console) -> int:
    from sim.sweep.cli import sweep_report_command

    return sweep_report_command(argv, console)


def _write_mutation_db(db: str | None, report: Any) -> int | None:
    """`mutate --db`: the report added to `db` (its id), None when no `--db` or stopped."""
    if db is None:
        return None
    from sim.read.mutation_db import write_report

    return write_report(db, report)


def _written_line(db: str, report_id: int | None) -> str:
    if report_id is None:
        return f"report stopped: nothing written to {db}"
    return f"report {report_id} written to {db} (tables mutation_reports, mutants, mutation_runs)"


RUN_FORMS: tuple[Command, ...] = (
    Command(
        "SCENARIO.yaml",
        "run a scenario: writes runs/<name>.db, checks the run, prints a summary",
    ),
    Command("SCENARIO.yaml --step", "step through a run in the terminal, one day at a time"),
    Command("DIR", "run every scenario below a directory, one row each (--jobs N)"),
)
"""The forms without a command word (`cmd_run`), listed first by `run.py --help`."""

COMMANDS: dict[str, Command] = {
    "validate": Command("validate FILE...", "check scenario files; writes nothing", cmd_validate),
    "params": Command(
        "params", "the parameter registry, a preset's values; export a configuration", cmd_params
    ),
    "metrics": Command("metrics", "the metrics an `expect: metric` can name", cmd_metrics),
    "rules": Command("rules", "the rule catalogue: every rule's id, owner, parameters", cmd_rules),
    "inspect": Command(
        "inspect DB SUBCOMMAND",
        "question a recorded run: runs, summary, timeline, why, blocked, ... (read-only)",
        inspect_command,
    ),
    "report": Command(
        "report DB", "one run's self-contained HTML report (charts inline)", cmd_report
    ),
    "plot": Command("plot DB", "the report's charts as PNG files", cmd_plot),
    "coverage": Command(
        "coverage DIR",
        "which rules and parameters the scenarios below DIR exercised, and which none did",
        functools.partial(
            coverage_command,
            run_one=run_one,
            options=functools.partial(RunOptions, db_folder=True),
            jobs=_jobs,
        ),
    ),
    "ablate": Command(
        "ablate SCENARIO|DIR",
        "what each protection is worth: re-run with each switched off, beside the baseline",
        cmd_ablate,
    ),
    "mutate": Command(
        "mutate DIR",
        "would the scenarios notice a broken rule: the kill matrix and score of the mutants",
        cmd_mutate,
    ),
    "sweep": Command(
        "sweep SCENARIO|DIR --seeds 1-200",
        "seeds x parameter grid on Dask: one row per run, distributions, failure odds",
        cmd_sweep,
    ),
    "sweep-report": Command(
        "sweep-report OUT",
        "a sweep's aggregates again; rewrites its Parquet and page",
        cmd_sweep_report,
    ),
    "fuzz": Command(
        "fuzz --rule ID|all",
        "boundary-targeted scenarios for a rule, checked by its oracle; failures as YAML",
        cmd_fuzz,
    ),
}
"""Every command word of `run.py`: `main` dispatches on it and `run.py --help` lists it, in
this order. A new command is one entry here (its parser's epilog: `examples_epilog`)."""

HELP_FOOTER = (
    "`python run.py COMMAND --help` (also SCENARIO.yaml --help, DIR --help) shows a command's",
    "options and examples.",
    "",
    "Exit codes: 0 all held; 1 an expectation or invariant failed; 2 invalid input (nothing",
    "written); 3 the run crashed; 130 (Ctrl-C, or q in the step-through) or 143 (SIGTERM):",
    "the run was stopped and marked interrupted, completed steps kept, checks not run.",
)


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the command line `argv` (default `sys.argv[1:]`) printing to `console` (default
    `sim.read.console.make_console()`); the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    console = console or make_console()
    if argv[:1] in (["-h"], ["--help"]):
        console.print(
            overview(RUN_FORMS, COMMANDS, footer=HELP_FOOTER),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_OK
    try:
        if not argv:
            raise InvalidInput(
                "the following arguments are required: scenario"
                " (python run.py --help lists every command)"
            )
        if argv[0] in COMMANDS:
            return COMMANDS[argv[0]].run(argv[1:], console)
        return cmd_run(argv, console)
    except InvalidInput as err:  # a bad command line: one line, nothing written
        console.print(f"run.py: {err}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID
    except SystemExit as done:  # a parser's --help
        return int(done.code or 0)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stop:  # outside a run (a run handles its own): no traceback
        signum = stop.signum if isinstance(stop, RunInterrupted) else signal.SIGINT
        print(f"interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        sys.exit(exit_code(signum))
