"""The event database writer (sqlite-utils): runs, messages, snapshots, equity.

Tables and columns follow ../shared/spec/event-db.md. Every step is written as one
batch in one transaction, so a crash never leaves a half-written step: what was
recorded is complete up to the last finished step, and the run's status says how it
ended (running, completed, failed, interrupted).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from sim.bus import Envelope

RUN_STATUSES = ("running", "completed", "failed", "interrupted")


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no NaN (as null), compact. Same input, same bytes."""
    return json.dumps(_clean(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


SCHEMA: dict[str, dict[str, Any]] = {
    "runs": {
        "columns": {
            "run_id": str,
            "scenario": str,
            "scenario_path": str,
            "scenario_sha256": str,
            "seed": int,
            "initial_cash": float,
            "config": str,
            "status": str,
            "steps_completed": int,
            "started_at": str,
            "finished_at": str,
            "error": str,
            "messages": int,
        },
        "pk": "run_id",
    },
    "messages": {
        "columns": {
            "id": int,
            "run_id": str,
            "step": int,
            "date": str,
            "round": int,
            "sender": str,
            "recipient": str,
            "kind": str,
            "asset": str,
            "proposal_id": str,
            "in_reply_to": int,
            "payload": str,
        },
        "pk": ("run_id", "id"),
    },
    "snapshots": {
        "columns": {
            "run_id": str,
            "step": int,
            "date": str,
            "asset": str,
            "bucket": str,
            "quantity": float,
            "price": float,
            "value": float,
            "weight": float,
            "score": float,
            "flags": str,
        },
        "pk": ("run_id", "step", "asset"),
    },
    "equity": {
        "columns": {
            "run_id": str,
            "step": int,
            "date": str,
            "equity": float,
            "cash": float,
            "invested": float,
            "drawdown": float,
            "regime": str,
            "n_positions": int,
            "turnover": float,
            "costs": float,
        },
        "pk": ("run_id", "step"),
    },
}

INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("messages", ("run_id", "asset", "id")),
    ("messages", ("run_id", "proposal_id")),
    ("messages", ("run_id", "kind", "id")),
    ("messages", ("run_id", "step")),
    ("snapshots", ("run_id", "asset", "step")),
)


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating when needed) an event database with every table and index."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    with db.atomic():
        for name, spec in SCHEMA.items():
            db.table(name).create(spec["columns"], pk=spec["pk"], if_not_exists=True)
        for table, columns in INDEXES:
            db.table(table).create_index(list(columns), if_not_exists=True)
    return db


class Recorder:
    """Writes one run into an event database."""

    def __init__(self, db: sqlite_utils.Database, run_id: str) -> None:
        self.db = db
        self.run_id = run_id
        self.steps_completed = 0
        self.messages_written = 0

    def start_run(
        self,
        *,
        scenario: str,
        scenario_path: str | None,
        scenario_sha256: str | None,
        seed: int,
        initial_cash: float,
        config: Mapping[str, Any],
    ) -> None:
        with self.db.atomic():
            self.db.table("runs").insert(
                {
                    "run_id": self.run_id,
                    "scenario": scenario,
                    "scenario_path": scenario_path,
                    "scenario_sha256": scenario_sha256,
                    "seed": seed,
                    "initial_cash": initial_cash,
                    "config": dumps(dict(config)),
                    "status": "running",
                    "steps_completed": 0,
                    "started_at": _now(),
                    "finished_at": None,
                    "error": None,
                    "messages": 0,
                }
            )

    def write_step(
        self,
        envelopes: Iterable[Envelope],
        snapshots: Iterable[Mapping[str, Any]],
        equity: Mapping[str, Any],
    ) -> None:
        """Write one finished step (messages, holdings, equity row) in one transaction."""
        rows = [env.row(self.run_id, dumps) for env in envelopes]
        snaps = [
            {**row, "run_id": self.run_id, "flags": dumps(dict(row["flags"]))} for row in snapshots
        ]
        with self.db.atomic():
            if rows:
                self.db.table("messages").insert_all(rows, batch_size=1000)
            if snaps:
                self.db.table("snapshots").insert_all(snaps, batch_size=1000)
            self.db.table("equity").insert({**equity, "run_id": self.run_id})
            self.steps_completed += 1
            self.messages_written += len(rows)
            self.db.execute(
                "UPDATE runs SET steps_completed = ?, messages = ? WHERE run_id = ?",
                [self.steps_completed, self.messages_written, self.run_id],
            )

    def finish(self, status: str, error: str | None = None) -> None:
        """Mark the run completed, failed or interrupted."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self.db.atomic():
            self.db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE run_id = ?",
                [status, _now(), error, self.run_id],
            )
