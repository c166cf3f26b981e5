"""Coverage and mutation agree: a scenario written to miss a rule leaves that rule
unexercised (`run.py coverage`) and lets its mutants survive (`run.py mutate`), where the
scenario that exercises it kills them."""

from __future__ import annotations

import contextlib
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run
from domain.protections.mutants import BUILTIN_MUTANTS

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"
EXTENSION = LIBRARY / "core-extension-limit.yaml"
RULE = "core_asset.extension_limit"
RULE_MUTANTS = sorted(m.id for m in BUILTIN_MUTANTS if m.rule == RULE)
THIRD = "  - {date: 2024-01-04, action: extend_core, asset: C, days: 5, reason: one more time}\n"
REFUSED = (
    "  - notice: {event: core_extension_refused, asset: C,"
    " between: [2024-01-04, 2024-01-04], min: 1, max: 1}\n"
)


def _json(*argv: object) -> dict:
    out, said = StringIO(), StringIO()
    with contextlib.redirect_stdout(out):
        code = run.main([str(a) for a in argv], console=Console(file=said, width=300))
    assert code == 0, said.getvalue()
    return json.loads(out.getvalue())


def _missing_the_limit(folder: Path) -> Path:
    """core-extension-limit without its third (refused) extension and the check of it:
    two extensions, both within the limit, so the limit never decides."""
    text = EXTENSION.read_text()
    assert THIRD in text and REFUSED in text
    folder.mkdir()
    path = folder / "core-two-extensions.yaml"
    path.write_text(text.replace(THIRD, "").replace(REFUSED, ""))
    return path


def test_mutate_when_scenario_written_to_miss_a_rule_then_unexercised_and_its_mutants_survive(
    tmp_path,
):
    missing = _missing_the_limit(tmp_path / "missing")
    whole = tmp_path / "whole"
    whole.mkdir()
    shutil.copy(EXTENSION, whole / EXTENSION.name)

    folders = {"whole": whole, "missing": missing.parent}
    covered = {name: _json("coverage", folder, "--json") for name, folder in folders.items()}
    mutated = {
        name: _json("mutate", folder, "--rule", RULE, "--json") for name, folder in folders.items()
    }

    assert RULE in covered["missing"]["unexercised"]
    assert RULE not in covered["whole"]["unexercised"]
    assert sorted(mutated["missing"]["survivors"]) == RULE_MUTANTS
    assert (mutated["missing"]["killed"], mutated["missing"]["total"]) == (0, len(RULE_MUTANTS))
    assert mutated["missing"]["clean"][str(missing)]["result"] == "passed"
    assert (mutated["whole"]["killed"], mutated["whole"]["survivors"]) == (len(RULE_MUTANTS), [])


@pytest.mark.slow
def test_mutate_when_library_minus_the_scenarios_of_a_rule_then_unexercised_and_mutants_survive(
    tmp_path,
):
    full = _json("coverage", LIBRARY, "--jobs", "2", "--json")
    [exercising] = [r["scenarios"] for r in full["rules"] if r["id"] == RULE]
    assert exercising
    rest = tmp_path / "rest"
    drop = [f"{name}.yaml" for name in exercising]
    shutil.copytree(LIBRARY, rest, ignore=shutil.ignore_patterns(*drop))

    without = _json("coverage", rest, "--jobs", "2", "--json")
    mutated = _json("mutate", rest, "--rule", RULE, "--jobs", "2", "--json")

    assert RULE in without["unexercised"]
    assert sorted(mutated["survivors"]) == RULE_MUTANTS
    assert all(r["result"] == "passed" for r in mutated["clean"].values())
