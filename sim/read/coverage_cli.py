"""`run.py coverage DIR`: which catalogue rules the scenarios below DIR exercised, which
none did, and which parameters no scenario set off its default (`sim.read.coverage`).

Without `--db` every scenario below DIR is run (the directory run's `run_one`, handed in by
`run.py`: sim does not import the entry point) into a temporary folder, deleted once read.
With `--db` nothing runs: the event databases are read, a folder as `run.py DIR --db
FOLDER/` wrote it (`<FOLDER>/<scenario>.db`), a file as one holding every run; each
scenario's latest run counts.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from sim.compose import InvalidInput
from sim.load.document import load_scenario, unmet_requirements
from sim.load.problems import ScenarioError
from sim.pool import process_pool
from sim.read.cli_help import HELP_FORMAT, examples_epilog
from sim.read.coverage import Coverage, RunCoverage, coverage_of, read_db, read_recorded
from sim.read.queries import InspectError

EXIT_OK, EXIT_INVALID = 0, 2
FIRST_SCENARIOS = 3
"""How many scenario names a table row shows before `+N more`."""


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are InvalidInput (`run.py: message`, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise InvalidInput(f"coverage: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run.py coverage",
        description="For each rule of the catalogue, the scenarios below DIR whose run"
        " named it in a verdict, decision, notice or proposal; the rules and parameters no"
        " scenario exercised. Runs DIR (into a temporary folder) unless --db names its runs.",
        epilog=examples_epilog(
            "coverage scenarios/library --jobs 2",
            "coverage scenarios/library --json",
            "coverage scenarios/library --db runs/library/",
        ),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("directory", help="the scenarios (*.yaml below it)")
    p.add_argument("--json", action="store_true", help="print the coverage as JSON")
    p.add_argument(
        "--db",
        metavar="FILE_OR_FOLDER",
        help="read these recorded runs instead of running: a folder of <scenario>.db, or one"
        " file (each scenario's latest run)",
    )
    p.add_argument("--jobs", default="1", help="parallel processes when running (default 1)")
    return p


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def coverage_command(
    argv: Sequence[str],
    console: Console,
    *,
    run_one: Callable[..., Any],
    options: Callable[..., Any],
    jobs: Callable[[str], int],
) -> int:
    """Print the coverage of the scenarios below DIR; exit 0, or 2 for a bad argument,
    directory or database.

    Args:
        argv: the arguments after `coverage`.
        console: where to print.
        run_one: `run.run_one(path, options) -> DirRow` (scenario, result, failed, db, run_id).
        options: `options(db=folder)` -> the `run.RunOptions` writing `<folder>/<scenario>.db`.
        jobs: `--jobs` text -> a checked number of processes (InvalidInput otherwise).
    """
    args = _parser().parse_args(argv)
    paths = sorted(str(f) for f in Path(args.directory).rglob("*.yaml"))
    if not paths:
        _say(console, f"{args.directory}: no scenario files (*.yaml) below it")
        return EXIT_INVALID
    try:
        if args.db is None:
            runs, not_run = _run_paths(paths, run_one, options, jobs(args.jobs))
        else:
            runs, not_run = _recorded(paths, args.db)
    except InspectError as err:
        _say(console, str(err))
        return EXIT_INVALID
    result = coverage_of(runs)
    if args.json:
        out = {**result.as_dict(), "not_run": not_run}
        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
    else:
        render(result, not_run, console)
    return EXIT_OK


def _run_paths(
    paths: Sequence[str], run_one: Callable[..., Any], options: Callable[..., Any], jobs: int
) -> tuple[list[RunCoverage], list[dict[str, str]]]:
    """Run every scenario file into a temporary folder and read each run back."""
    with tempfile.TemporaryDirectory(prefix="bulwark-coverage-") as folder:
        job = functools.partial(run_one, options=options(db=folder + "/"))
        if jobs > 1:
            with process_pool(jobs) as pool:
                rows = list(pool.map(job, paths))
        else:
            rows = [job(path) for path in paths]
        runs = read_recorded((r.db, r.run_id) for r in rows if r.run_id)
    not_run = [
        {"path": r.path, "result": r.result, "reason": "; ".join(r.failed)}
        for r in rows
        if not r.run_id
    ]
    return runs, not_run


def _recorded(paths: Sequence[str], db: str) -> tuple[list[RunCoverage], list[dict[str, str]]]:
    """The latest recorded run of each scenario file, from `db` (a folder or a file)."""
    names: dict[str, str] = {}
    not_run: list[dict[str, str]] = []
    for path in paths:
        unmet = unmet_requirements(path)
        try:
            name = None if unmet else load_scenario(path).name
        except ScenarioError as err:
            not_run.append({"path": path, "result": "invalid", "reason": str(err)})
            continue
        if name is None:
            not_run.append({"path": path, "result": "skipped", "reason": f"needs {unmet[0]}"})
        else:
            names[name] = path
    folder = Path(db)
    if folder.is_dir():
        files = [str(folder / f"{n}.db") for n in sorted(names) if (folder / f"{n}.db").exists()]
        runs = [run for f in files for run in read_db(f, [Path(f).stem])]
    else:
        runs = read_db(db, names)
    found = {run.scenario for run in runs}
    not_run += [
        {"path": names[n], "result": "not recorded", "reason": f"no run of {n} in {db}"}
        for n in sorted(set(names) - found)
    ]
    return runs, not_run


def _first(scenarios: Sequence[str]) -> str:
    shown = ", ".join(scenarios[:FIRST_SCENARIOS])
    more = len(scenarios) - FIRST_SCENARIOS
    return f"{shown}, +{more} more" if more > 0 else shown


def coverage_table(result: Coverage) -> Table:
    """One row per catalogue rule: rule, owner, scenarios, via (message kinds), first few."""
    t = Table(title=f"Rule coverage ({len(result.scenarios)} scenarios)", title_justify="left")
    for col in ("rule", "owner", "scenarios", "via", "first scenarios"):
        t.add_column(col, justify="right" if col == "scenarios" else "left", overflow="fold")
    for row in result.rules:
        count = str(len(row.scenarios)) if row.scenarios else "[red]0[/]"
        t.add_row(row.rule.id, row.rule.owner, count, ", ".join(row.kinds), _first(row.scenarios))
    return t


def render(result: Coverage, not_run: Sequence[dict[str, str]], console: Console) -> None:
    """The table, the unexercised rules and parameters, what was not counted, the score."""
    console.print(coverage_table(result))
    lists = (
        ("unexercised rules", result.unexercised),
        ("parameters no scenario set off its default", result.params_unset),
        ("rules outside the catalogue", tuple(result.uncatalogued)),
    )
    for title, items in lists:
        if items or title == "unexercised rules":
            _say(console, f"{title} ({len(items)}): {', '.join(items) or '-'}")
    for row in not_run:
        _say(console, f"not counted: {row['path']} ({row['result']}: {row['reason']})")
    _say(console, result.score_line())


def dir_coverage_line(rows: Sequence[Any], directory: str) -> str:
    """The coverage line `run.py DIR` ends with, from its rows (`db`, `run_id`)."""
    try:
        runs = read_recorded((r.db, r.run_id) for r in rows if r.run_id)
    except InspectError as err:
        return f"coverage: not read ({err})"
    line = coverage_of(runs).score_line()
    return f"coverage: {line} (python run.py coverage {directory} lists them)"
