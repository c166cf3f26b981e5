"""The `sweep` and `sweep-report` commands of `run.py`: parse and check the arguments,
run the sweep on Dask with a progress bar, print the aggregates, write the page.

    python run.py sweep SCENARIO|DIR --seeds 1-200 [--grid NAME=V1,V2,... ...]
                        [--preset P] [--set NAME=VALUE ...] [--out DIR]
                        [--workers N | --scheduler ADDRESS] [--keep-dbs] [--quiet] [--json]
    python run.py sweep-report OUT [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim.compose import (
    EXIT_FAILED_CHECKS,
    EXIT_INVALID,
    EXIT_OK,
    InvalidInput,
    check_preset,
    parse_count,
    parse_sets,
)
from sim.load.problems import ScenarioError
from sim.read.cli_help import HELP_FORMAT, examples_epilog
from sim.sweep.engine import BAD_OUTCOMES, SweepState, default_workers, run_sweep
from sim.sweep.report import build_report
from sim.sweep.spec import SweepSpec, parse_grid, parse_seeds, scenario_files
from sim.sweep.store import PARQUET_NAME, db_path, read_table, write_parquet
from sim.sweep.view import render_report, replay_line

MAX_WORKERS = 1024
DEFAULT_OUT = "runs/sweep-{name}"
PAGE_NAME = "sweep.html"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InvalidInput(message)


def sweep_parser() -> argparse.ArgumentParser:
    """The parser of `run.py sweep`."""
    p = _Parser(
        prog="run.py sweep",
        description="Run a scenario (or every scenario below DIR) once per seed and grid"
        " point on Dask, one row per run in OUT/sweep.parquet and OUT/sweep.db; runs already"
        " in the table are skipped. Prints the distributions, the failure probabilities and"
        " the sensitivity, and writes OUT/sweep.html. Exit 0, 1 if a run failed a check or"
        " did not complete, 2 invalid input (nothing written).",
        epilog=examples_epilog(
            "sweep scenarios/baseline.yaml --seeds 1-20 --grid grace_period_days=3,5,10",
            "sweep scenarios/baseline.yaml --seeds 1-500 --grid grace_period_days=3,10"
            " --grid whipsaw_max_cycles=1,3 --workers 2 --out runs/grace-whipsaw",
            "sweep scenarios/library --seeds 1-50 --scheduler tcp://head:8786",
        ),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("scenario", metavar="SCENARIO|DIR", help="a scenario file, or a directory")
    p.add_argument("--seeds", required=True, help="seeds and ranges: 1-200, or 1,5,9-12")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="a parameter and its values (repeatable: every combination runs)",
    )
    p.add_argument("--preset", help="base configuration preset (overrides the scenarios')")
    p.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="set one parameter"
    )
    p.add_argument("--out", help="output folder (default runs/sweep-<scenario or DIR name>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", help="LocalCluster worker processes (default: the cores)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler")
    p.add_argument("--keep-dbs", action="store_true", help="keep each run's DB in OUT/runs/")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no aggregates")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    return p


def parse_workers(text: str | None) -> int:
    """`--workers` (default: the machine's cores). Raises InvalidInput."""
    if text is None:
        return default_workers()
    return parse_count(text, "--workers", MAX_WORKERS)


def spec_of(args: argparse.Namespace) -> SweepSpec:
    """The checked sweep of the parsed arguments (InvalidInput otherwise)."""
    check_preset(args.preset)
    return SweepSpec(
        paths=scenario_files(args.scenario),
        seeds=parse_seeds(args.seeds),
        grid=parse_grid(args.grid),
        preset=args.preset,
        sets=parse_sets(args.set),
    )


def default_out(target: str) -> str:
    """`runs/sweep-<name>`: the scenario file's stem or the directory's name."""
    path = Path(target)
    return DEFAULT_OUT.format(name=path.name if path.is_dir() else path.stem)


def sweep_command(argv: Sequence[str], console: Console) -> int:
    """`run.py sweep`: the exit code."""
    args = sweep_parser().parse_args(argv)
    out = args.out or default_out(args.scenario)
    try:
        spec = spec_of(args)
        workers = parse_workers(args.workers)
        with _progress_bar(console, shown=not (args.quiet or args.json)) as on_update:
            outcome = run_sweep(
                spec,
                out,
                workers=workers,
                scheduler=args.scheduler,
                keep_dbs=args.keep_dbs,
                on_update=on_update,
            )
    except (ScenarioError, InvalidInput) as err:
        _line(console, str(err))
        return EXIT_INVALID
    table = read_table(out)
    mine = table[table["key"].isin({t.key for t in outcome.tasks})]
    code = EXIT_FAILED_CHECKS if mine["outcome"].isin(BAD_OUTCOMES).any() else EXIT_OK
    counts = {"planned": len(outcome.tasks), "skipped": outcome.skipped, "ran": outcome.ran}
    _report(out, table, console, args=args, counts=counts)
    return code


def _report(
    out: str,
    table: Any,
    console: Console,
    *,
    args: argparse.Namespace,
    counts: dict[str, int] | None = None,
) -> None:
    """Print the aggregates of `table` (or its JSON) and write the sweep's page."""
    from sim.read.html.sweep import write_sweep_page  # matplotlib loads only here

    report = build_report(table)
    page = write_sweep_page(report, Path(out) / PAGE_NAME)
    files = {"db": str(db_path(out)), "parquet": str(Path(out) / PARQUET_NAME), "page": str(page)}
    if args.json:
        data = {"out": out, **(counts or {}), **files, "report": report.as_dict()}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    if counts is not None:
        _line(
            console,
            f"{counts['planned']} runs planned: {counts['ran']} ran,"
            f" {counts['skipped']} already in the table",
        )
    if not args.quiet:
        render_report(report, console)
        _line(console, replay_line(report))
    _line(console, f"table: {files['parquet']} and {files['db']}; page: {files['page']}")


def _line(console: Console, text: str | None) -> None:
    if text:
        console.print(text, markup=False, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _progress_bar(
    console: Console, *, shown: bool
) -> Iterator[Callable[[SweepState], object] | None]:
    """The callback driving a rich progress bar (done, failed, running, ETA), on a
    terminal console when `shown`; None otherwise."""
    if not (shown and console.is_terminal):
        yield None
        return
    columns = (
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed, {task.fields[running]} running"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("sweep", total=None, failed=0, running=0)

        def update(state: SweepState) -> None:
            bar.update(
                task,
                total=state.total,
                completed=state.done,
                failed=state.failed,
                running=state.running,
            )

        yield update


def sweep_report_command(argv: Sequence[str], console: Console) -> int:
    """`run.py sweep-report OUT`: print the aggregates of a sweep table again, rewrite
    its Parquet file and page; the exit code (2 when OUT holds no sweep table)."""
    p = _Parser(
        prog="run.py sweep-report",
        description="Print the aggregates of a sweep's table (distributions, failure"
        " probabilities with the failing seeds, sensitivity); rewrite OUT/sweep.parquet and"
        " OUT/sweep.html from OUT/sweep.db.",
        epilog=examples_epilog("sweep-report runs/sweep-baseline", "sweep-report OUT --json"),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("out", metavar="OUT", help="a sweep's output folder")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    args.quiet = False
    try:
        table = read_table(args.out)
    except FileNotFoundError as err:
        console.print(str(err), markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID
    write_parquet(args.out, table)
    _report(args.out, table, console, args=args)
    return EXIT_OK
