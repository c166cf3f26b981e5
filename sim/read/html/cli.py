"""`run.py report` (one run's HTML page) and `run.py plot` (its charts as PNG files)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from sim.read.charts.data import load_chart_data
from sim.read.charts.registry import write_pngs
from sim.read.cli_help import HELP_FORMAT, examples_epilog
from sim.read.html.page import write_report
from sim.read.queries import InspectError, open_readonly, resolve_run

EXIT_OK, EXIT_INVALID = 0, 2


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are InspectError (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise InspectError(f"{self.prog}: {message}")


def _parser(prog: str, description: str, example: str, out_help: str) -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description=description,
        epilog=examples_epilog(example),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("db", help="event database, e.g. runs/baseline.db")
    p.add_argument("--run", help="run id (default: the latest run)")
    p.add_argument("--out", help=out_help)
    return p


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def report_command(argv: Sequence[str], console: Console) -> int:
    """Write one run's self-contained HTML report; exit 0, or 2 for a bad argument,
    database or run."""
    p = _parser(
        "run.py report",
        "Write one run's report as a single HTML file that opens without a network.",
        "report runs/baseline.db --out baseline.html",
        "the HTML file (default: <run id>.html beside the database)",
    )
    try:
        args = p.parse_args(argv)
        path = write_report(args.db, args.run, args.out)
    except (InspectError, OSError) as err:
        _say(console, str(err))
        return EXIT_INVALID
    _say(console, f"wrote {path} ({path.stat().st_size / 1024:,.0f} KiB)")
    return EXIT_OK


def plot_command(argv: Sequence[str], console: Console) -> int:
    """Write one run's charts as PNG files (one per chart of the report); exit 0, or 2."""
    p = _parser(
        "run.py plot",
        "Write one run's charts (the report's) as PNG files, for slides.",
        "plot runs/baseline.db --out charts/",
        "the folder to write into (default: <run id>-charts beside the database)",
    )
    try:
        args = p.parse_args(argv)
        paths = write_plots(args.db, args.run, args.out)
    except (InspectError, OSError) as err:
        _say(console, str(err))
        return EXIT_INVALID
    for path in paths:
        _say(console, f"wrote {path}")
    return EXIT_OK


def write_plots(
    db_path: str | Path, run_id: str | None = None, out: str | Path | None = None
) -> list[Path]:
    """Write every chart of run `run_id` (the latest by default) as `<out>/<chart>.png`;
    the paths written.

    Raises:
        sim.read.queries.InspectError: the database cannot be read, or the run is unknown.
        OSError: the folder cannot be written.
    """
    with contextlib.closing(open_readonly(db_path)) as conn:
        run_id = resolve_run(conn, run_id)
        data = load_chart_data(conn, run_id)
    folder = Path(out) if out is not None else Path(db_path).parent / f"{run_id}-charts"
    folder.mkdir(parents=True, exist_ok=True)
    return write_pngs(data, folder)
