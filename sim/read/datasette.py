"""`inspect DB datasette`: a Datasette metadata file for an event database.

The file describes every table and column (`sim.read.db_docs`, keyed like
`sim.run.recorder.SCHEMA`) and carries the canned queries of `CANNED_QUERIES`, so

    datasette runs/baseline.db --metadata runs/baseline.datasette.json

opens the database with its documentation and four questions one click away: why an
asset was blocked on a day, everything a rule decided, an asset's protection timeline,
and the failed checks. Datasette is not needed to write the file (docs/inspection.md).

A sweep database (`OUT/sweep.db`) gets its own (`write_sweep_metadata`): its columns in
words (`sim.sweep.table_docs`) and the canned queries of `sweep_queries`, built for its
grid parameters: the runs that failed with their seeds, and each failed check's seeds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from sim.read.db_docs import COLUMN_DOCS, TABLE_DOCS
from sim.read.queries import InspectError, table_names
from sim.run.recorder import SCHEMA
from sim.sweep.store import TABLE as SWEEP_TABLE
from sim.sweep.store import param_columns
from sim.sweep.table_docs import TABLE_DOCS as SWEEP_TABLE_DOCS
from sim.sweep.table_docs import column_docs

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
"""Metadata file suffix -> format (Datasette reads both)."""


@attrs.frozen
class CannedQuery:
    """One of Datasette's canned queries: a title, what it answers, its SQL (named
    parameters such as `:asset` become the query's form fields), and the tables it reads."""

    title: str
    description: str
    sql: str
    tables: tuple[str, ...]


WHY_BLOCKED = """\
SELECT d.run_id, d.step, d.date, d.asset, d.proposal_id,
  json_extract(p.payload, '$.action') AS action,
  json_extract(p.payload, '$.from_weight') AS from_weight,
  json_extract(p.payload, '$.to_weight') AS to_weight,
  json_extract(v.payload, '$.priority') AS priority,
  v.sender AS protection,
  json_extract(v.payload, '$.stance') AS stance,
  v.sender = json_extract(d.payload, '$.decided_by') AS decided,
  json_extract(v.payload, '$.rule') AS rule,
  json_extract(v.payload, '$.reason') AS reason
FROM messages d
JOIN messages p ON p.run_id = d.run_id AND p.kind = 'proposal' AND p.proposal_id = d.proposal_id
JOIN messages v ON v.run_id = d.run_id AND v.kind = 'verdict' AND v.proposal_id = d.proposal_id
WHERE d.kind = 'decision' AND d.asset = :asset AND d.date = :date
  AND json_extract(d.payload, '$.outcome') = 'blocked'
ORDER BY d.run_id, d.id, priority"""

RULE_DECISIONS = """\
SELECT run_id, id, step, date, kind, sender, asset, proposal_id,
  COALESCE(json_extract(payload, '$.stance'), json_extract(payload, '$.outcome'),
    json_extract(payload, '$.event'), json_extract(payload, '$.action')) AS what,
  COALESCE(json_extract(payload, '$.reason'), json_extract(payload, '$.details.reason'))
    AS reason
FROM messages
WHERE (kind IN ('verdict', 'decision', 'notice') AND json_extract(payload, '$.rule') = :rule)
  OR (kind = 'proposal' AND json_extract(payload, '$.components.rule') = :rule)
ORDER BY run_id, id"""

_TIMELINE_EVENT = """m.asset = :asset AND (
    (m.kind = 'notice' AND m.sender != 'portfolio_manager')
    OR (m.kind = 'verdict'
      AND json_extract(m.payload, '$.stance') IN ('block', 'amend', 'grant')))"""

PROTECTION_TIMELINE = f"""\
WITH days AS (
  SELECT run_id, step, date FROM snapshots WHERE asset = :asset
  UNION
  SELECT m.run_id, m.step, m.date FROM messages m WHERE {_TIMELINE_EVENT}
)
SELECT d.run_id, d.step, d.date, s.weight,
  json_extract(s.flags, '$.core') AS core,
  json_extract(s.flags, '$.core_until') AS core_until,
  json_extract(s.flags, '$.grace_day') AS grace_day,
  json_extract(s.flags, '$.days_held') AS days_held,
  json_extract(s.flags, '$.whipsaw_cycles') AS whipsaw_cycles,
  (SELECT group_concat(CASE m.kind WHEN 'notice' THEN json_extract(m.payload, '$.event')
      ELSE m.sender || ' ' || json_extract(m.payload, '$.stance') END, ', ')
    FROM messages m WHERE m.run_id = d.run_id AND m.step = d.step AND {_TIMELINE_EVENT})
    AS events
FROM days d
LEFT JOIN snapshots s ON s.run_id = d.run_id AND s.step = d.step AND s.asset = :asset
ORDER BY d.run_id, d.step"""

FAILED_CHECKS = """\
SELECT c.run_id, r.scenario, r.seed, c.seq, c.kind, c.label,
  (SELECT group_concat(e.value, '; ') FROM json_each(c.evidence) e) AS evidence
FROM checks c JOIN runs r ON r.run_id = c.run_id
WHERE c.passed = 0
ORDER BY c.run_id, c.seq"""

CANNED_QUERIES: Mapping[str, CannedQuery] = {
    "why_blocked": CannedQuery(
        "Why was an asset blocked on a day",
        "Every blocked decision about :asset on :date (YYYY-MM-DD), one row per verdict on"
        " its proposal, by priority; `decided` marks the protection that decided it.",
        WHY_BLOCKED,
        ("messages",),
    ),
    "rule_decisions": CannedQuery(
        "Everything a rule decided",
        "The verdicts, decisions and notices whose `rule` is :rule, and the proposals it"
        " shaped (`components.rule`); `python run.py rules` lists the ids.",
        RULE_DECISIONS,
        ("messages",),
    ),
    "protection_timeline": CannedQuery(
        "The protection timeline of an asset",
        "Each day :asset was held or a protection spoke about it: its weight and flags"
        " (core, grace day, days held, whipsaw cycles) and the protections' notices and"
        " block, amend and grant verdicts.",
        PROTECTION_TIMELINE,
        ("messages", "snapshots"),
    ),
    "failed_checks": CannedQuery(
        "The failed checks",
        "Every invariant and expectation that failed after a run, with its evidence.",
        FAILED_CHECKS,
        ("checks", "runs"),
    ),
}
"""The canned queries of the metadata, by their name in Datasette's URLs."""


def database_name(db_path: str | Path) -> str:
    """The name Datasette gives the database of `db_path` (the file name without suffix)."""
    return Path(db_path).stem


def metadata(name: str, tables: frozenset[str] | None = None) -> dict[str, Any]:
    """Datasette metadata for the event database Datasette calls `name`.

    Args:
        name: the database's name in Datasette (`database_name`).
        tables: the tables the file has (None: all of `SCHEMA`); a canned query that
            reads a missing table is left out.
    """
    present = frozenset(SCHEMA) if tables is None else tables
    return {
        "title": "Bulwark event database",
        "description": "Every message between the agents of a Bulwark run, the holdings and"
        " equity of every step, and the checks after it (docs/event-db.md).",
        "databases": {
            name: {
                "tables": {
                    table: {"description": TABLE_DOCS[table], "columns": dict(COLUMN_DOCS[table])}
                    for table in SCHEMA
                    if table in present
                },
                "queries": {
                    key: {"title": q.title, "description": q.description, "sql": q.sql}
                    for key, q in CANNED_QUERIES.items()
                    if set(q.tables) <= present
                },
            }
        },
    }


def write_metadata(conn: sqlite3.Connection, db_path: str, out: str) -> dict[str, Any]:
    """Write the metadata of the event database open as `conn` (at `db_path`) to `out`
    (JSON, or YAML for .yaml/.yml). Returns what was written and the command that serves it.

    Raises:
        InspectError: an unsupported suffix, or a file that cannot be written.
    """
    tables = frozenset(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
    meta = metadata(database_name(db_path), tables & frozenset(SCHEMA))
    database = _write(meta, db_path, out)
    return {
        **_written(database, db_path, out),
        "left_out": [k for k in CANNED_QUERIES if k not in database["queries"]],
        "unchecked_runs": _unchecked_runs(conn, tables),
    }


def _write(meta: Mapping[str, Any], db_path: str, out: str) -> dict[str, Any]:
    """Write `meta` to `out` in the format of its suffix; the metadata of the database."""
    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise InspectError(f"--out {out}: use a {', '.join(FORMATS)} file")
    text = (
        json.dumps(meta, indent=2) + "\n"
        if fmt == "json"
        else yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    )
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as err:
        raise InspectError(f"--out {out}: cannot write: {err.strerror or err}") from None
    return meta["databases"][database_name(db_path)]


def _written(database: Mapping[str, Any], db_path: str, out: str) -> dict[str, Any]:
    """What `write_metadata` and `write_sweep_metadata` wrote, and the command serving it."""
    return {
        "metadata": out,
        "database": database_name(db_path),
        "tables": sorted(database["tables"]),
        "queries": list(database["queries"]),
        "left_out": [],
        "unchecked_runs": [],
        "serve": f"datasette {db_path} --metadata {out}",
    }


# --- a sweep database (OUT/sweep.db) ------------------------------------------------------


def sweep_queries(columns: Sequence[str]) -> dict[str, CannedQuery]:
    """The canned queries of a sweep table with `columns`: the runs that failed or did not
    complete with their seeds, and each failed check's count and seeds per grid point."""
    point = ", ".join(f'"{c}"' for c in ["scenario", *param_columns(columns)])
    return {
        "failed_runs": CannedQuery(
            "The runs that failed or did not complete",
            "Every run whose outcome is not passed, by grid point and seed: its exit code,"
            " failed checks and error; replay one with `python run.py PATH --seed SEED` and"
            " the run's `settings`, or open `db` when the sweep kept it (--keep-dbs).",
            f"SELECT {point}, seed, outcome, exit_code, failed_checks, error, path, settings,"
            f" db, key\nFROM {SWEEP_TABLE}\nWHERE outcome != 'passed'\n"
            f"ORDER BY {point}, seed",
            (SWEEP_TABLE,),
        ),
        "check_failures": CannedQuery(
            "How often each check failed, with the seeds",
            "Per grid point and failed check: how many runs failed it and their seeds"
            " (the probability over the runs checked is in `run.py sweep-report`).",
            f"SELECT {point}, c.value AS check_label, COUNT(*) AS failures,\n"
            "  group_concat(seed, ',') AS seeds\n"
            f"FROM (SELECT * FROM {SWEEP_TABLE} ORDER BY seed) r, json_each(r.failed_checks) c\n"
            f"GROUP BY {point}, c.value\nORDER BY failures DESC, {point}, c.value",
            (SWEEP_TABLE,),
        ),
    }


def sweep_metadata(name: str, columns: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Datasette metadata for the sweep database Datasette calls `name`.

    Args:
        name: the database's name in Datasette (`database_name`).
        columns: the sweep tables the file has, each with its columns in table order.
    """
    queries = sweep_queries(columns[SWEEP_TABLE]) if SWEEP_TABLE in columns else {}
    return {
        "title": "Bulwark sweep",
        "description": "One row per run of a `run.py sweep` (seeds x grid points): outcome,"
        " failed checks, headline metrics, the kept event database (docs/sweeps.md).",
        "databases": {
            name: {
                "tables": {
                    table: {
                        "description": SWEEP_TABLE_DOCS[table],
                        "columns": column_docs(table, names),
                    }
                    for table, names in columns.items()
                },
                "queries": {
                    key: {"title": q.title, "description": q.description, "sql": q.sql}
                    for key, q in queries.items()
                },
            }
        },
    }


def write_sweep_metadata(conn: sqlite3.Connection, db_path: str, out: str) -> dict[str, Any]:
    """Write the metadata of the sweep database open as `conn` (at `db_path`) to `out`, as
    `write_metadata` does for an event database.

    Raises:
        InspectError: an unsupported suffix, or a file that cannot be written.
    """
    present = table_names(conn)
    columns = {
        table: [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        for table in SWEEP_TABLE_DOCS
        if table in present
    }
    meta = sweep_metadata(database_name(db_path), columns)
    return _written(_write(meta, db_path, out), db_path, out)


def _unchecked_runs(conn: sqlite3.Connection, tables: frozenset[str]) -> list[str]:
    """The runs with no row in `checks` (crashed, stopped, or recorded before it existed)."""
    if "runs" not in tables:
        return []
    if "checks" not in tables:
        return [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY run_id")]
    return [
        r[0]
        for r in conn.execute(
            "SELECT run_id FROM runs WHERE run_id NOT IN (SELECT run_id FROM checks)"
            " ORDER BY run_id"
        )
    ]
