"""The `inspect` command (`python run.py inspect DB SUBCOMMAND ...`): parse the arguments,
open the database read-only (`sim.read.queries.open_database`), run one query, and print
its table, or its data as JSON with `--json`.

An event database takes every sub-command (`HANDLERS`); a sweep database (`run.py sweep`'s
OUT/sweep.db) takes those of `SWEEP_HANDLERS`, and the others are refused in one line
saying how to get a run's event database (docs/inspection.md).

Each sub-command is one handler returning (data, renderable); the queries are in
`sim.read.queries`, `why`, `blocked`, `protection_history`, `compare`, `sql_query`,
`export` and `datasette`, the tables in `sim.read.inspect_view`.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console, RenderableType

from sim.read import inspect_view as view
from sim.read.blocked import blocked
from sim.read.cli_help import HELP_FORMAT, examples_epilog
from sim.read.compare import compare_runs
from sim.read.datasette import database_name, write_metadata, write_sweep_metadata
from sim.read.export import export_run
from sim.read.protection_history import protection_history
from sim.read.queries import (
    SWEEP_DB,
    InspectError,
    SweepDatabaseError,
    event_db_hint,
    list_runs,
    open_database,
    open_readonly,
    resolve_run,
    run_summary,
)
from sim.read.queries import timeline as asset_timeline
from sim.read.sql_query import SQL_LIMIT, SQL_TIMEOUT_S, run_sql
from sim.read.sweep_db import sweep_runs, sweep_summary
from sim.read.why import why as why_chain

EXIT_OK, EXIT_INVALID = 0, 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises InspectError instead of exiting on a usage error."""

    def error(self, message: str) -> NoReturn:
        raise InspectError(f"{self.prog}: {message}")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


DB_EXAMPLE = "runs/whipsaw.db"
"""The database the examples name (docs/inspection.md records it)."""

EXAMPLES: Mapping[str, tuple[str, ...]] = {
    "runs": ("runs",),
    "summary": ("summary", "summary --run inspect-whipsaw-s5-001 --json"),
    "timeline": ("timeline AAA",),
    "why": ("why AAA 2024-01-11", "why AAA 8"),
    "blocked": ("blocked", "blocked --system whipsaw"),
    "protections": ("protections AAA",),
    "compare": (
        "compare inspect-whipsaw-s5-001 inspect-whipsaw-s5-002",
        "compare inspect-whipsaw-s5-001 inspect-whipsaw-s5-001 --db-b runs/other.db",
    ),
    "sql": ('sql "SELECT kind, COUNT(*) FROM messages GROUP BY kind"',),
    "export": ("export --format csv --out exported/",),
    "datasette": ("datasette", "datasette --out whipsaw.datasette.yaml"),
}
"""Each sub-command's `--help` examples (after `python run.py inspect DB`)."""


def _examples(command: str) -> str:
    return examples_epilog(*(f"inspect {DB_EXAMPLE} {e}" for e in EXAMPLES[command]))


def build_parser() -> argparse.ArgumentParser:
    """The `inspect` argument parser."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the data as JSON")
    one_run = _Parser(add_help=False)
    one_run.add_argument("--run", help="run id (default: the latest run)")
    p = _Parser(
        prog="run.py inspect",
        description="Inspect an event database (opened read-only). The latest run is the\n"
        "default wherever a run is needed. A sweep's OUT/sweep.db takes runs, summary\n"
        "(the sweep's aggregates), sql and datasette. `run.py inspect DB SUBCOMMAND --help`\n"
        "shows a sub-command's options and examples.",
        epilog=examples_epilog(*(f"inspect {DB_EXAMPLE} {e[0]}" for e in EXAMPLES.values())),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("db", help="event database, e.g. runs/baseline.db, or a sweep's OUT/sweep.db")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, parents: list[argparse.ArgumentParser], summary: str) -> Any:
        return sub.add_parser(
            name,
            parents=parents,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=_examples(name),
            formatter_class=HELP_FORMAT,
        )

    add("runs", [common], "every run in the database")
    add("summary", [common, one_run], "headline figures of a run")
    add("timeline", [common, one_run], "every message about an asset").add_argument("ticker")
    s = add("why", [common, one_run], "the chain behind an asset's decision on a day")
    s.add_argument("ticker")
    s.add_argument("date", help="YYYY-MM-DD, or a step number")
    s = add("blocked", [common, one_run], "every blocked decision")
    s.add_argument("--system", help="only blocks decided by this system")
    s = add(
        "protections", [common, one_run], "when an asset was held, core, in grace, whipsaw-limited"
    )
    s.add_argument("ticker")
    s = add("compare", [common], "first diverging message and metric deltas")
    s.add_argument("run_a")
    s.add_argument("run_b")
    s.add_argument("--db-b", help="database of RUN_B (default: the same database)")
    _add_sql_parser(add("sql", [common], "one read-only SQL statement"))
    s = add("export", [one_run], "write a run's tables to files")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv")
    s.add_argument("--out", help="directory (default: <db dir>/<run id>)")
    s = add("datasette", [common], "write a Datasette metadata file: descriptions, canned queries")
    s.add_argument("--out", help="JSON or YAML file (default: <db dir>/<db name>.datasette.json)")
    return p


def _add_sql_parser(s: argparse.ArgumentParser) -> None:
    """The `sql` sub-command's arguments: a statement, a row limit and a time limit."""
    s.add_argument("query")
    s.add_argument(
        "--limit",
        type=_count,
        default=SQL_LIMIT,
        help=f"show at most N rows, counting the rest (default {SQL_LIMIT}; 0: all)",
    )
    s.add_argument(
        "--timeout",
        type=_seconds,
        default=SQL_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop the statement after this long (default {SQL_TIMEOUT_S:g})",
    )


def _emit_json(console: Console, data: Any) -> None:
    console.print(
        json.dumps(data, indent=2, sort_keys=True, default=str),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _print_error(console: Console, err: InspectError) -> None:
    console.print(str(err), markup=False, highlight=False, soft_wrap=True)


def inspect_command(argv: Sequence[str], console: Console) -> int:
    """`run.py inspect DB SUBCOMMAND ...`: run one inspection and print it.

    Returns:
        0, or 2 after printing a clear message for a bad database path, an unknown run,
        ticker, date or system, bad arguments, a refused write, or a sub-command a sweep
        database does not take.
    """
    try:
        args = build_parser().parse_args(list(argv))
    except InspectError as err:
        _print_error(console, err)
        return EXIT_INVALID
    except SystemExit as done:  # --help
        return int(done.code or 0)
    try:
        data, renderable = _inspect(args)
    except InspectError as err:
        _print_error(console, err)
        return EXIT_INVALID
    if getattr(args, "json", False):
        _emit_json(console, data)
    else:
        console.print(renderable)
    return EXIT_OK


def _inspect(args: argparse.Namespace) -> tuple[Any, RenderableType]:
    """Open the database and run the sub-command's handler on it (a sweep database's
    handler from `SWEEP_HANDLERS`)."""
    conn, kind = open_database(args.db)
    try:
        if kind != SWEEP_DB:
            return HANDLERS[args.command](args, conn)
        if args.command not in SWEEP_HANDLERS:
            raise SweepDatabaseError(args.db)
        return SWEEP_HANDLERS[args.command](args, conn)
    except SweepDatabaseError as err:
        raise InspectError(sweep_refusal(args.command, err.path)) from None
    finally:
        conn.close()


def sweep_refusal(command: str, path: str) -> str:
    """The one line refusing `inspect PATH COMMAND` for a sweep database at `path`."""
    return (
        f"inspect {command}: {path} is a sweep database (one row per run of `run.py sweep`),"
        f" not a run's event database; on it inspect takes {', '.join(SWEEP_HANDLERS)}."
        f" {command} needs a run's event database: {event_db_hint(path)}"
        f" (`inspect {path} runs` lists each run's)"
    )


# --- one handler per sub-command: (data, renderable) -------------------------------------

Handler = Callable[[argparse.Namespace, sqlite3.Connection], tuple[Any, RenderableType]]


def _runs(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    data = list_runs(conn)
    return data, view.runs_table(data)


def _summary(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    data = run_summary(conn, resolve_run(conn, args.run))
    return data, view.summary_view(data)


def _timeline(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    run_id = resolve_run(conn, args.run)
    data = asset_timeline(conn, run_id, args.ticker)
    return data, view.timeline_table(run_id, args.ticker, data)


def _why(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    data = why_chain(conn, resolve_run(conn, args.run), args.ticker, args.date)
    return data, view.why_view(data)


def _blocked(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    run_id = resolve_run(conn, args.run)
    data = blocked(conn, run_id, args.system)
    return data, view.blocked_table(run_id, args.system, data)


def _protections(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    data = protection_history(conn, resolve_run(conn, args.run), args.ticker)
    return data, view.protections_view(data)


def _compare(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    conn_b = open_readonly(args.db_b) if args.db_b else conn
    try:
        run_a = resolve_run(conn, args.run_a)
        data = compare_runs(conn, run_a, conn_b, resolve_run(conn_b, args.run_b))
    finally:
        if conn_b is not conn:
            conn_b.close()
    return data, view.compare_view(data)


def _sql(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    result = run_sql(conn, args.query, limit=args.limit, timeout=args.timeout)
    data = {
        "columns": result.columns,
        "rows": [list(r) for r in result.rows],
        "total_rows": result.total,
    }
    return data, view.sql_table(result.columns, result.rows, total=result.total)


def _export(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    run_id = resolve_run(conn, args.run)
    out = args.out or str(Path(args.db).parent / run_id)
    data = export_run(conn, run_id, args.format, out)
    return data, view.export_view(run_id, data)


def _datasette(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    data = write_metadata(conn, args.db, _metadata_out(args))
    return data, view.datasette_view(data)


def _metadata_out(args: argparse.Namespace) -> str:
    """`datasette --out`, by default `<db dir>/<db name>.datasette.json`."""
    db = Path(args.db)
    return args.out or str(db.parent / f"{database_name(db)}.datasette.json")


HANDLERS: Mapping[str, Handler] = {
    "runs": _runs,
    "summary": _summary,
    "timeline": _timeline,
    "why": _why,
    "blocked": _blocked,
    "protections": _protections,
    "compare": _compare,
    "sql": _sql,
    "export": _export,
    "datasette": _datasette,
}
"""The handler of each sub-command of `build_parser`."""


# --- a sweep database: (data, renderable) ------------------------------------------------


def _sweep_runs(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[Any, RenderableType]:
    data = sweep_runs(conn, args.db)
    return data, view.sweep_runs_table(data["runs"], data["params"])


def _sweep_summary(
    args: argparse.Namespace, conn: sqlite3.Connection
) -> tuple[Any, RenderableType]:
    if args.run is not None:
        raise InspectError(
            f"inspect summary --run: {args.db} is a sweep database; its summary covers every"
            f" run (`inspect {args.db} runs` lists them, with each run's event database)"
        )
    report, data = sweep_summary(conn, args.db)
    return data, view.sweep_summary_view(args.db, report, data["replay"])


def _sweep_datasette(
    args: argparse.Namespace, conn: sqlite3.Connection
) -> tuple[Any, RenderableType]:
    data = write_sweep_metadata(conn, args.db, _metadata_out(args))
    return data, view.datasette_view(data)


SWEEP_HANDLERS: Mapping[str, Handler] = {
    "runs": _sweep_runs,
    "summary": _sweep_summary,
    "sql": _sql,
    "datasette": _sweep_datasette,
}
"""The sub-commands a sweep database takes, and their handlers; the others need a run's
event database."""
