"""A failing fuzz example written out as a scenario file, ready for a library.

The file is the example's scenario document plus `expect` items stating the oracle's
outcome on the first day the run disagreed with it (`Mismatch.expect`), so that
`python run.py FILE` fails (exit 1) wherever the rule is broken that way and passes where
it holds. A comment header names the rule, the mutant switched in (if any), how to find
it again, and what the oracle expected against what happened.
"""

from __future__ import annotations

from pathlib import Path

from domain.protections.mutants import Mutant
from sim.fuzz.documents import to_yaml
from sim.fuzz.runner import Outcome
from sim.fuzz.target import Target

DEFAULT_OUT = "fuzz-failures"


def failure_document(outcome: Outcome) -> dict[str, object]:
    """The example's document with the expect items of its first mismatching day."""
    doc = dict(outcome.document)
    if outcome.mismatches:  # an invariant or a crash fails the file's run by itself
        first = min(m.date for m in outcome.mismatches)
        items = [dict(m.expect) for m in outcome.mismatches if m.date == first]
        doc["expect"] = [i for n, i in enumerate(items) if i not in items[:n]]
    return doc


def header(target: Target, outcome: Outcome, command: str, mutant: Mutant | None) -> list[str]:
    """The comment lines above the document."""
    lines = [f"fuzz failure of {target.rule}: {target.boundary}", f"found by: {command}"]
    if mutant is not None:
        lines.append(f"mutant switched in: {mutant.id} ({mutant.description})")
    lines.append(f"case: {outcome.case!r}")
    lines += [f"oracle: {m.line()}" for m in outcome.mismatches]
    lines += [f"invariant failed: {c}" for c in outcome.failed_checks]
    if outcome.exit_code not in (0, 1):
        lines.append(f"the run ended with exit code {outcome.exit_code}")
    return [f"# {line}" for line in lines]


def write_failure(
    target: Target, outcome: Outcome, out: str | Path, command: str, mutant: Mutant | None
) -> Path:
    """Write the failing example to `out/<scenario name>.yaml` and return the path. A name
    already taken there gets `-2`, `-3`, ... in the file and in the scenario's `name` alike
    (a library names each scenario after its file)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    doc = failure_document(outcome)
    base, n = str(doc["name"]), 1
    while (folder / f"{doc['name']}.yaml").exists():
        n += 1
        doc["name"] = f"{base}-{n}"
    path = folder / f"{doc['name']}.yaml"
    text = "\n".join(header(target, outcome, command, mutant)) + "\n"
    path.write_text(text + to_yaml(doc), encoding="utf-8")
    return path
