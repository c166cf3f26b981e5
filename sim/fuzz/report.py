"""One fuzz target's search as a record (what `--json` prints) and as terminal lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from rich.console import Console

from domain.protections.mutants import Mutant
from sim.fuzz.failures import write_failure
from sim.fuzz.runner import search
from sim.fuzz.target import Target


def describe(
    target: Target,
    *,
    examples: int,
    seed: int,
    mutant: Mutant | None,
    out: str | Path,
    command: str,
) -> dict[str, Any]:
    """Search `target` and return its record: rule, boundary, examples run, passed, and
    for a failure the scenario file written, the case, the oracle's mismatches
    (date, what, expected, observed), the failed invariants and the exit code."""
    result = search(target, examples=examples, seed=seed, mutant=mutant)
    record: dict[str, Any] = {
        "rule": target.rule,
        "boundary": target.boundary,
        "examples": result.examples,
        "passed": result.failure is None,
        "failure": None,
    }
    found = result.failure
    if found is not None:
        path = write_failure(target, found, out, command, mutant)
        record["failure"] = {
            "file": str(path),
            "case": attrs.asdict(found.case) if attrs.has(type(found.case)) else repr(found.case),
            "mismatches": [
                {
                    "date": str(m.date),
                    "what": m.what,
                    "expected": m.expected,
                    "observed": m.observed,
                }
                for m in found.mismatches
            ],
            "failed_checks": list(found.failed_checks),
            "exit_code": found.exit_code,
        }
    return record


def render(console: Console, record: dict[str, Any]) -> None:
    """Print a record: one line per target, and for a failure the file and each mismatch."""

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    verdict = "ok" if record["passed"] else "FAILED"
    say(f"{record['rule']}: {verdict}, {record['examples']} examples, {record['seconds']:.1f} s")
    failure = record["failure"]
    if failure is None:
        return
    say(f"  wrote {failure['file']}")
    for m in failure["mismatches"]:
        say(f"  {m['date']} {m['what']}: expected {m['expected']}, observed {m['observed']}")
    for line in failure["failed_checks"]:
        say(f"  invariant failed: {line}")
    if failure["exit_code"] not in (0, 1):
        say(f"  the run ended with exit code {failure['exit_code']}")
