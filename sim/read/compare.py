"""`inspect compare RUN_A RUN_B`: two runs' messages aligned by their order, the first
difference between them, and the deltas of their headline metrics and configuration."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from itertools import zip_longest
from typing import Any

from sim.read.queries import query, run_summary
from sim.run.recorder import CONTRACT

COMPARED_COLUMNS: tuple[str, ...] = tuple(
    c for c in CONTRACT["messages"] if c not in ("id", "run_id", "in_reply_to")
)
"""The message columns `compare` aligns two runs on (ids and run ids are left out)."""

COMPARED_METRICS: tuple[str, ...] = (
    "final_equity",
    "total_return",
    "max_drawdown",
    "trades",
    "costs",
)


def _message_rows(conn: sqlite3.Connection, run_id: str) -> Iterator[tuple[Any, ...]]:
    return conn.execute(
        f"SELECT id, {', '.join(COMPARED_COLUMNS)} FROM messages WHERE run_id = ? ORDER BY id",
        [run_id],
    )


def first_divergence(
    rows_a: Iterable[tuple[Any, ...]], rows_b: Iterable[tuple[Any, ...]]
) -> dict[str, Any] | None:
    """The first rank at which two ordered message tables differ, or None.

    Args:
        rows_a: (id, *COMPARED_COLUMNS) tuples in order (the id is not compared).
        rows_b: the same for the other table.

    Returns:
        index (0-based rank), a and b (the messages, None where a table has no message at
        that rank), fields (the differing columns), payload_keys (the differing payload
        keys); None when the tables are identical.
    """
    for index, (ra, rb) in enumerate(zip_longest(rows_a, rows_b)):
        if ra is not None and rb is not None and ra[1:] == rb[1:]:
            continue
        a, b = _as_message(ra), _as_message(rb)
        fields = (
            [c for c in COMPARED_COLUMNS if a[c] != b[c]] if a is not None and b is not None else []
        )
        keys = []
        if "payload" in fields:
            keys = sorted(
                k
                for k in set(a["payload"]) | set(b["payload"])
                if a["payload"].get(k) != b["payload"].get(k)
            )
        return {"index": index, "a": a, "b": b, "fields": fields, "payload_keys": keys}
    return None


def _as_message(row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(zip(("id", *COMPARED_COLUMNS), row, strict=True))
    out["payload"] = json.loads(out["payload"])
    return out


def compare_runs(
    conn_a: sqlite3.Connection,
    run_a: str,
    conn_b: sqlite3.Connection,
    run_b: str,
) -> dict[str, Any]:
    """Align two runs' messages by their order and find the first difference.

    Messages are compared on (step, date, round, sender, recipient, kind, asset,
    proposal_id, payload); the message ids themselves are not compared.

    Returns:
        run_a, run_b; compared (messages compared up to the divergence, or all);
        divergence (None when identical, else index (0-based rank), a and b (the messages,
        None where a run has no message at that rank), fields (the differing columns),
        payload_keys (the differing payload keys)); metrics (name -> a, b, delta);
        config (parameter -> a, b, for every parameter that differs); summaries.
    """
    divergence = first_divergence(_message_rows(conn_a, run_a), _message_rows(conn_b, run_b))
    compared = (
        divergence["index"]
        if divergence
        else conn_a.execute("SELECT COUNT(*) FROM messages WHERE run_id = ?", [run_a]).fetchone()[0]
    )
    sa, sb = run_summary(conn_a, run_a), run_summary(conn_b, run_b)
    return {
        "run_a": run_a,
        "run_b": run_b,
        "compared": compared,
        "divergence": divergence,
        "metrics": _metric_deltas(sa, sb),
        "config": _config_differences(_config(conn_a, run_a), _config(conn_b, run_b)),
        "summaries": {"a": sa, "b": sb},
    }


def _metric_deltas(sa: Mapping[str, Any], sb: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each of `COMPARED_METRICS` in both summaries, with b - a where both are numbers."""
    metrics = {}
    for name in COMPARED_METRICS:
        va, vb = sa.get(name), sb.get(name)
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        metrics[name] = {"a": va, "b": vb, "delta": delta}
    return metrics


def _config_differences(
    config_a: Mapping[str, Any], config_b: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Every parameter whose value differs between the two configurations, sorted."""
    return {
        k: {"a": config_a.get(k), "b": config_b.get(k)}
        for k in sorted(set(config_a) | set(config_b))
        if config_a.get(k) != config_b.get(k)
    }


def _config(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    row = query(conn, "SELECT config FROM runs WHERE run_id = ?", [run_id])
    return json.loads(row[0]["config"] or "{}") if row else {}
