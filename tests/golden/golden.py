"""Golden runs: scenarios whose exact outputs are pinned in tests/golden/.

Each case is a scenario file (and optionally a seed and `--set` overrides). Its pinned
record is two files beside this module:

- `<case>.json`: the run's fingerprint: the SHA-256 of its ordered message table, the
  number of messages and steps, final equity and cash to the cent, the number of trades
  (fills), decisions per deciding system and outcome, and the exit code of its checks.
- `<case>.messages.jsonl.gz`: the ordered message table itself (one JSON array per message:
  the columns `inspect compare` aligns runs on, and `in_reply_to` as an offset from the
  run's first message id), so that a change is reported as the first message that
  differs, found by the same divergence finder as `run.py inspect DB compare`.

`pytest tests/golden --update-golden` rewrites both files from fresh runs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

import run
from sim import compose
from sim.read.checks import check_run
from sim.read.compare import COMPARED_COLUMNS, first_divergence

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "real" / "prices_daily_long.csv"
COLUMNS = (*COMPARED_COLUMNS, "in_reply_to")


@attrs.frozen
class Case:
    """One pinned scenario run."""

    name: str
    scenario: str  # path relative to the repository
    sets: tuple[str, ...] = ()
    seed: int | None = None
    real_data: bool = False

    @property
    def path(self) -> Path:
        return REPO / self.scenario


CASES: tuple[Case, ...] = (
    Case("baseline", "scenarios/baseline.yaml"),
    Case("baseline-seed-13", "scenarios/baseline.yaml", seed=13),
    Case("core-asset", "scenarios/library/core-asset-blocks-close.yaml"),
    Case("grace-period", "scenarios/library/grace-decay-to-expiry.yaml"),
    Case("holding-period", "scenarios/library/holding-period-minimum.yaml"),
    Case("whipsaw", "scenarios/library/whipsaw-blocks-reopen.yaml"),
    Case("regime-override", "scenarios/library/regime-shock-critical.yaml"),
    Case("cap-drift-trim", "scenarios/library/cap-drift-trim.yaml"),
    Case("real-2008", "scenarios/library/real-2008-lehman.yaml", real_data=True),
    Case("real-2020", "scenarios/library/real-2020-covid.yaml", real_data=True),
    Case("real-2022", "scenarios/library/real-2022-inflation.yaml", real_data=True),
    Case("large-synthetic", "tests/golden/scenarios/large-synthetic.yaml"),
)


@attrs.frozen
class Record:
    """What a run of a case produced: its fingerprint and its ordered message table."""

    fingerprint: dict[str, Any]
    rows: tuple[tuple[Any, ...], ...]


def run_case(case: Case, db_path: Path) -> Record:
    """Run `case` into a fresh event DB at `db_path` and read its record back."""
    scenario, config = run.prepare(str(case.path), sets=case.sets)
    run_id, code, _ = compose.record_run(scenario, config, seed=case.seed, db_path=db_path)
    if code == run.EXIT_OK and any(
        not c.passed for c in check_run(db_path, run_id, scenario.expect)
    ):
        code = run.EXIT_FAILED_CHECKS
    con = sqlite3.connect(db_path)
    try:
        rows = tuple(_rows(con, run_id))
        return Record(_fingerprint(con, run_id, rows, code), rows)
    finally:
        con.close()


def _rows(con: sqlite3.Connection, run_id: str) -> Iterator[tuple[Any, ...]]:
    first = con.execute("SELECT MIN(id) FROM messages WHERE run_id = ?", [run_id]).fetchone()[0]
    for row in con.execute(
        f"SELECT {', '.join(COMPARED_COLUMNS)}, in_reply_to FROM messages WHERE run_id = ?"
        " ORDER BY id",
        [run_id],
    ):
        *cols, reply = row
        yield (*cols, None if reply is None else reply - first)


def _fingerprint(
    con: sqlite3.Connection, run_id: str, rows: Sequence[tuple[Any, ...]], code: int
) -> dict[str, Any]:
    last = con.execute(
        "SELECT step, equity, cash FROM equity WHERE run_id = ? ORDER BY step DESC LIMIT 1",
        [run_id],
    ).fetchone()
    decisions: dict[str, dict[str, int]] = {}
    for system, outcome, n in con.execute(
        "SELECT json_extract(payload, '$.decided_by'), json_extract(payload, '$.outcome'),"
        " COUNT(*) FROM messages WHERE run_id = ? AND kind = 'decision' GROUP BY 1, 2"
        " ORDER BY 1, 2",
        [run_id],
    ):
        decisions.setdefault(system, {})[outcome] = n
    trades = con.execute(
        "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'fill'", [run_id]
    ).fetchone()[0]
    return {
        "message_sha256": digest(rows),
        "messages": len(rows),
        "steps": last[0] + 1,
        "final_equity": round(last[1], 2),
        "final_cash": round(last[2], 2),
        "trades": trades,
        "decisions": decisions,
        "exit_code": code,
    }


def digest(rows: Sequence[tuple[Any, ...]]) -> str:
    """SHA-256 of the ordered message table (one canonical JSON line per message)."""
    h = hashlib.sha256()
    for row in rows:
        h.update(_line(row))
    return h.hexdigest()


def _line(row: Sequence[Any]) -> bytes:
    return (json.dumps(list(row), separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def fingerprint_file(case: Case) -> Path:
    return HERE / f"{case.name}.json"


def messages_file(case: Case) -> Path:
    return HERE / f"{case.name}.messages.jsonl.gz"


def load(case: Case) -> Record | None:
    """The pinned record of `case`, or None when it has none yet."""
    if not fingerprint_file(case).exists() or not messages_file(case).exists():
        return None
    fingerprint = json.loads(fingerprint_file(case).read_text())
    with gzip.open(messages_file(case), "rt", encoding="utf-8") as f:
        rows = tuple(tuple(json.loads(line)) for line in f)
    return Record(fingerprint, rows)


def save(case: Case, record: Record) -> None:
    """Pin `record` as the golden record of `case` (byte-identical for the same record)."""
    text = json.dumps(record.fingerprint, indent=2, sort_keys=True) + "\n"
    fingerprint_file(case).write_text(text)
    with gzip.GzipFile(messages_file(case), "wb", compresslevel=9, mtime=0) as f:
        for row in record.rows:
            f.write(_line(row))


def divergence_report(case: Case, pinned: Record, fresh: Record) -> str:
    """A readable account of how `fresh` differs from `pinned`: the fingerprint fields that
    changed, then the first message that differs (golden and now)."""
    lines = [f"golden {case.name} ({case.scenario}) changed:"]
    for key in sorted(set(pinned.fingerprint) | set(fresh.fingerprint)):
        a, b = pinned.fingerprint.get(key), fresh.fingerprint.get(key)
        if a != b and key != "message_sha256":
            lines.append(f"  {key}: golden {a!r}, now {b!r}")
    found = first_divergence(
        ((i, *r[: len(COMPARED_COLUMNS)]) for i, r in enumerate(pinned.rows)),
        ((i, *r[: len(COMPARED_COLUMNS)]) for i, r in enumerate(fresh.rows)),
    )
    if found is None:
        index = next(
            (i for i, (a, b) in enumerate(zip(pinned.rows, fresh.rows, strict=False)) if a != b),
            None,
        )
        lines.append(f"  messages equal but for in_reply_to (first at message #{index})")
        return "\n".join(lines)
    lines.append(f"  first changed message: #{found['index']} (0-based, in run order)")
    for label, m in (("golden", found["a"]), ("now", found["b"])):
        lines.append(f"    {label:6}: {_describe(m)}")
    if found["fields"]:
        lines.append(f"    differing: {', '.join(found['fields'])}")
    if found["payload_keys"]:
        lines.append(f"    payload keys: {', '.join(found['payload_keys'])}")
    return "\n".join(lines)


def _describe(m: dict[str, Any] | None) -> str:
    if m is None:
        return "(no message: the run ended)"
    payload = json.dumps(m["payload"], sort_keys=True)
    if len(payload) > 400:
        payload = payload[:400] + "..."
    return (
        f"step {m['step']} {m['date']} round {m['round']} {m['kind']} {m['sender']}"
        f" -> {m['recipient']} asset {m['asset'] or '-'} proposal {m['proposal_id'] or '-'}:"
        f" {payload}"
    )
