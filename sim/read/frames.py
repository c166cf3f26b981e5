"""A recorded run's tables as pandas DataFrames, for notebooks (`sim.api`).

Every frame leaves out `run_id` (one run per frame), keeps the table's row order, and
reads `date` as `datetime64`. JSON columns are expanded one level: each top-level key of
`messages.payload` becomes a column `payload.<key>` and each key of `snapshots.flags` a
column `flags.<key>` (missing where a row has no such key); a nested value (a notice's
`details`, a proposal's `components`, a score update's `scores`) stays a dict in its cell.
The layout is documented in docs/api.md.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

import pandas as pd

from sim.run.recorder import CONTRACT

EQUITY_COLUMNS: tuple[str, ...] = tuple(c for c in CONTRACT["equity"] if c != "run_id")
SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(
    c for c in CONTRACT["snapshots"] if c not in ("run_id", "flags")
)
MESSAGE_COLUMNS: tuple[str, ...] = tuple(
    c for c in CONTRACT["messages"] if c not in ("run_id", "payload")
)
"""The event-DB contract's columns (`sim.run.recorder.CONTRACT`) each frame keeps."""
DECISION_COLUMNS: tuple[str, ...] = (
    "id",
    "step",
    "date",
    "round",
    "asset",
    "proposal_id",
    "action",
    "outcome",
    "decided_by",
    "rule",
    "from_weight",
    "proposed_weight",
    "final_weight",
    "overridden",
    "reason",
    "proposed_by",
    "proposal_reason",
)
"""One row per decision: the decision's payload, and from its proposal the weight asked
for (`to_weight` as `proposed_weight`), who asked (`sender` as `proposed_by`) and why."""


def _table(con: sqlite3.Connection, sql: str, run_id: str, columns: Sequence[str]) -> pd.DataFrame:
    rows = con.execute(sql, [run_id]).fetchall()
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    if "date" in frame:
        frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _expanded(frame: pd.DataFrame, texts: Sequence[str | None], prefix: str) -> pd.DataFrame:
    """`frame` with one column `<prefix>.<key>` per top-level key of the JSON `texts`
    (one per row), sorted by key."""
    parsed = [json.loads(t) if t else {} for t in texts]
    wide = pd.json_normalize(parsed, max_level=0) if parsed else pd.DataFrame()
    wide = wide.reindex(columns=sorted(wide.columns)).add_prefix(f"{prefix}.")
    return pd.concat([frame, wide.set_axis(frame.index)], axis=1)


def equity_frame(con: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """The equity table of one run, one row per step."""
    sql = f"SELECT {', '.join(EQUITY_COLUMNS)} FROM equity WHERE run_id = ? ORDER BY step"
    return _table(con, sql, run_id, EQUITY_COLUMNS)


def snapshots_frame(con: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """The holdings of one run after each step (by step, then asset), flags expanded."""
    columns = (*SNAPSHOT_COLUMNS, "flags")
    sql = f"SELECT {', '.join(columns)} FROM snapshots WHERE run_id = ? ORDER BY step, asset"
    frame = _table(con, sql, run_id, columns)
    return _expanded(frame.drop(columns="flags"), list(frame["flags"]), "flags")


def messages_frame(con: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """Every message of one run in order (`id`), payload expanded."""
    columns = (*MESSAGE_COLUMNS, "payload")
    sql = f"SELECT {', '.join(columns)} FROM messages WHERE run_id = ? ORDER BY id"
    frame = _table(con, sql, run_id, columns)
    frame["in_reply_to"] = frame["in_reply_to"].astype("Int64")
    return _expanded(frame.drop(columns="payload"), list(frame["payload"]), "payload")


def decisions_frame(con: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """One row per decision of one run, in order, with the rule that decided it and the
    proposal it answered (`DECISION_COLUMNS`)."""
    rows = con.execute(
        "SELECT d.id, d.step, d.date, d.round, d.asset, d.proposal_id, d.payload,"
        " p.sender, p.payload FROM messages d LEFT JOIN messages p"
        " ON p.run_id = d.run_id AND p.kind = 'proposal' AND p.proposal_id = d.proposal_id"
        " WHERE d.run_id = ? AND d.kind = 'decision' ORDER BY d.id",
        [run_id],
    ).fetchall()
    records = []
    for *head, decision, proposed_by, proposal in rows:
        d = json.loads(decision)
        p = json.loads(proposal) if proposal else {}
        records.append(
            (
                *head,
                *(d.get(k) for k in ("action", "outcome", "decided_by", "rule", "from_weight")),
                p.get("to_weight"),
                d.get("final_weight"),
                d.get("overridden"),
                d.get("reason"),
                proposed_by,
                p.get("reason"),
            )
        )
    frame = pd.DataFrame.from_records(records, columns=list(DECISION_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"])
    return frame
