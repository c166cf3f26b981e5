"""What each table and column of a sweep database (`OUT/sweep.db`, `sim.sweep.store`)
holds, in words: what `inspect OUT/sweep.db datasette` writes into Datasette's metadata.

Keyed like `sim.sweep.store.HEAD` and `TAIL` (a test keeps them equal); a metric's column
is described by the metric registry's help (`sim.read.metrics.METRIC_HELP`) and a grid
parameter's by `PARAM_DOC`, so nothing is declared twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sim.read.metrics import METRIC_HELP
from sim.sweep.store import SWEEPS, TABLE

TABLE_DOCS: Mapping[str, str] = {
    TABLE: "One row per run of the sweep (seed x grid point x scenario file), keyed by the"
    " run hash: its outcome, failed checks, headline metrics and where its event database"
    " is (docs/sweeps.md).",
    SWEEPS: "One row per `run.py sweep` invocation on this folder: its arguments, how many"
    " runs it planned, skipped (already in the table) and ran.",
}
"""Table -> what it holds."""

RUN_COLUMN_DOCS: Mapping[str, str] = {
    "key": "the run hash: SHA-256 of the scenario file's SHA-256, the seed and the resolved"
    " configuration",
    "scenario": "the scenario's name",
    "path": "the scenario file as given on the command line",
    "seed": "the seed of the run",
    "exit_code": "what `run.py` exits with for the run: 0, 1, 2, 3, 130, 143 (empty: lost)",
    "outcome": "passed, failed, crashed, invalid, interrupted or lost",
    "failed_checks": "JSON list: the labels of the checks that failed",
    "messages": "how many messages the run wrote",
    "messages_sha256": "SHA-256 of the ordered message table (equal for equal runs)",
    "steps": "how many steps the run completed",
    "seconds": "the task's wall time on its worker",
    "error": "the traceback of a crash, the refusal of an invalid run, the error of a lost one",
    "checks": "JSON list: every check's label, kind and passed",
    "settings": "JSON: the preset and every --set and grid value of the run",
    "run_id": "the run id inside its event database",
    "db": "its kept event database, relative to the sweep's folder (empty without --keep-dbs)",
    "worker": "host:pid of the worker that ran it",
    "finished_at": "UTC time the row was written",
}
"""Column of `sim.sweep.store.TABLE` (but the metrics and grid parameters) -> what it holds."""

SWEEPS_COLUMN_DOCS: Mapping[str, str] = {
    "id": "order of the invocation (from 1)",
    "started_at": "UTC start time",
    "finished_at": "UTC end time (empty while running)",
    "arguments": "JSON: the seeds, grid, preset, settings and files of the invocation",
    "planned": "runs it planned",
    "skipped": "runs already in the table",
    "ran": "runs it made",
    "status": "running, completed or interrupted",
}
"""Column of `sim.sweep.store.SWEEPS` -> what it holds."""

PARAM_DOC = "grid parameter: its value in this run (`python run.py params {name}`)"
METRIC_DOC = "metric ({help}); empty when undefined or the run did not complete"


def column_docs(table: str, columns: Iterable[str]) -> dict[str, str]:
    """The description of each of `columns` of `table` (`TABLE` or `SWEEPS`), in order: a
    metric by its help, a grid parameter by `PARAM_DOC`."""
    if table == SWEEPS:
        return {c: SWEEPS_COLUMN_DOCS.get(c, "") for c in columns}
    out = {}
    for column in columns:
        if column in RUN_COLUMN_DOCS:
            out[column] = RUN_COLUMN_DOCS[column]
        elif column in METRIC_HELP:
            out[column] = METRIC_DOC.format(help=METRIC_HELP[column])
        else:
            out[column] = PARAM_DOC.format(name=column)
    return out
