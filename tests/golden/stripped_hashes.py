"""Fingerprints of every shipped scenario run, with chosen payload keys stripped.

A redesign that must not change behaviour, only add payload keys, is checked by comparing
the fingerprints from before and after it:

    python -m tests.golden.stripped_hashes before.json            # on the old commit
    python -m tests.golden.stripped_hashes after.json --compare before.json

Each run (the baseline, seeds 7 and 13, the large synthetic golden and every library
scenario) is fingerprinted by the SHA-256 of its ordered message table (payload keys in
`--strip`, `rule` and `rules` by default, removed at every depth; `in_reply_to` as an offset
from the run's first id), of its snapshots and of its equity rows. `--compare` exits 1 and
names every run whose fingerprint differs or that is gone; a run only in the new set (a
scenario added since) is listed as new.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import run
from sim import compose

REPO = Path(__file__).resolve().parents[2]
CASES: tuple[tuple[str, int | None], ...] = (
    ("scenarios/baseline.yaml", None),
    ("scenarios/baseline.yaml", 13),
    ("scenarios/baseline.yaml", 7),
    ("tests/golden/scenarios/large-synthetic.yaml", None),
    *((str(p.relative_to(REPO)), None) for p in sorted(REPO.glob("scenarios/library/*.yaml"))),
)
MESSAGES = (
    "SELECT step, date, round, sender, recipient, kind, asset, proposal_id, in_reply_to, payload"
    " FROM messages WHERE run_id = ? ORDER BY id"
)
SNAPSHOTS = (
    "SELECT step, asset, quantity, price, value, weight, score, flags FROM snapshots"
    " WHERE run_id = ? ORDER BY step, asset"
)
EQUITY = (
    "SELECT step, equity, cash, invested, drawdown, regime, n_positions, turnover, costs"
    " FROM equity WHERE run_id = ? ORDER BY step"
)


def strip(value: Any, keys: frozenset[str]) -> Any:
    """`value` with every mapping key in `keys` removed, at any depth."""
    if isinstance(value, dict):
        return {k: strip(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [strip(v, keys) for v in value]
    return value


def _digest(lines: Iterable[Any]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(json.dumps(line, sort_keys=True, separators=(",", ":")).encode())
    return h.hexdigest()


def _message_lines(con: sqlite3.Connection, run_id: str, keys: frozenset[str]) -> list[Any]:
    first = con.execute("SELECT MIN(id) FROM messages WHERE run_id = ?", [run_id]).fetchone()[0]
    lines = []
    for *cols, reply, payload in con.execute(MESSAGES, [run_id]):
        offset = None if reply is None else reply - first
        lines.append([*cols, offset, strip(json.loads(payload), keys)])
    return lines


def fingerprint(path: str, seed: int | None, keys: frozenset[str]) -> dict[str, Any]:
    """Run one scenario into a scratch DB and fingerprint its three tables."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "events.db"
        scenario, config = run.prepare(str(REPO / path), sets=())
        run_id, code, _ = compose.record_run(scenario, config, seed=seed, db_path=db)
        con = sqlite3.connect(db)
        try:
            lines = _message_lines(con, run_id, keys)
            return {
                "messages": len(lines),
                "sha": _digest(lines),
                "snapshots": _digest(con.execute(SNAPSHOTS, [run_id])),
                "equity": _digest(con.execute(EQUITY, [run_id])),
                "code": code,
            }
        finally:
            con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="where to write the fingerprints (JSON)")
    parser.add_argument("--compare", metavar="BEFORE", help="fingerprints to compare with")
    parser.add_argument("--strip", nargs="*", default=["rule", "rules"], metavar="KEY")
    args = parser.parse_args(argv)
    keys = frozenset(args.strip)
    found = {f"{path}@{seed}": fingerprint(path, seed, keys) for path, seed in CASES}
    Path(args.out).write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    if args.compare is None:
        print(f"{len(found)} runs fingerprinted")
        return 0
    before = json.loads(Path(args.compare).read_text())
    new = sorted(set(found) - set(before))
    gone = sorted(set(before) - set(found))
    differ = sorted(k for k in set(found) & set(before) if found[k] != before[k])
    for label, keys in (("new", new), ("gone", gone), ("differs", differ)):
        for key in keys:
            print(f"{label}: {key}")
    print(
        f"{len(found) - len(new)} runs compared, {len(differ)} differ"
        f" ({len(new)} new, {len(gone)} gone)"
    )
    return 1 if differ or gone else 0


if __name__ == "__main__":
    sys.exit(main())
