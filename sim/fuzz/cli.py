"""`python run.py fuzz --rule ID|all [--examples N] [--seed S] [--mutant ID] [--out DIR]
[--json]`: boundary fuzzing of the rules that have a target (`sim.fuzz.targets`).

Exit 0 when every example held, 1 when a target found a failing example (each written to
`--out` as a scenario file), 2 for a bad argument (nothing runs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from domain.catalogue import RULES
from domain.protections.mutants import Mutant, mutants_of
from domain.protections.registry import BUILTIN
from sim.compose import EXIT_FAILED_CHECKS, EXIT_OK, InvalidInput
from sim.read.cli_help import HELP_FORMAT, examples_epilog

DEFAULT_EXAMPLES = 100
DEFAULT_SEED = 0


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are InvalidInput (`run.py: fuzz: message`, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise InvalidInput(f"fuzz: {message}")


def parser() -> argparse.ArgumentParser:
    """The parser of `run.py fuzz`."""
    p = _Parser(
        prog="run.py fuzz",
        description="Generate small scenarios that put a rule's deciding quantity at its"
        " boundary and one step either side, run them, and check the invariants and the"
        " rule's oracle (written from behaviour.md). A failing example is shrunk to a minimal"
        " one and written out as a scenario file. Exit 0 no failure, 1 failures, 2 bad"
        " arguments.",
        epilog=examples_epilog(
            "fuzz --rule holding_period.minimum --examples 200",
            "fuzz --rule all",
            "fuzz --rule whipsaw.window --seed 3 --json",
            "fuzz --rule holding_period.minimum --mutant holding_period.minimum/off_by_one",
        ),
        formatter_class=HELP_FORMAT,
    )
    p.add_argument("--rule", metavar="ID|all", required=True, help="a fuzzable rule, or all")
    p.add_argument(
        "--examples",
        metavar="N",
        default=str(DEFAULT_EXAMPLES),
        help=f"generated examples per target, after its boundary cases [{DEFAULT_EXAMPLES}]",
    )
    p.add_argument("--seed", metavar="S", default=str(DEFAULT_SEED), help="the search's seed [0]")
    p.add_argument("--mutant", metavar="ID", help="switch in a mutant (python run.py mutate)")
    p.add_argument("--out", metavar="DIR", default=None, help="where failing scenarios go")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    return p


def _count(text: str, flag: str, least: int) -> int:
    if not text.isdigit() or int(text) < least:
        raise InvalidInput(f"fuzz: {flag} {text}: expected a whole number (at least {least})")
    return int(text)


def _targets(rule: str) -> list[Any]:
    from sim.fuzz.targets import TARGETS

    if rule == "all":
        return list(TARGETS.values())
    if rule in TARGETS:
        return [TARGETS[rule]]
    known = "a rule without a fuzz target" if rule in RULES else "no such rule"
    raise InvalidInput(f"fuzz: --rule {rule}: {known}; fuzzable: {', '.join(TARGETS)}, all")


def _mutant(mutant_id: str | None) -> Mutant | None:
    if mutant_id is None:
        return None
    by_id = {m.id: m for m in mutants_of(BUILTIN)}
    if mutant_id not in by_id:
        raise InvalidInput(
            f"fuzz: --mutant {mutant_id}: no such mutant (python run.py mutate lists them)"
        )
    return by_id[mutant_id]


def _out(text: str | None) -> str:
    from sim.fuzz.failures import DEFAULT_OUT

    out = DEFAULT_OUT if text is None else text
    if Path(out).exists() and not Path(out).is_dir():
        raise InvalidInput(f"fuzz: --out {out}: not a directory")
    return out


def fuzz_command(argv: Sequence[str], console: Console) -> int:
    """`run.py fuzz`: search every chosen target; the exit code (0, 1; bad arguments raise
    InvalidInput, which `run.main` prints as one line with exit code 2)."""
    args = parser().parse_args(argv)
    from sim.fuzz.report import describe, render

    targets = _targets(args.rule)
    examples, seed = _count(args.examples, "--examples", 1), _count(args.seed, "--seed", 0)
    mutant = _mutant(args.mutant)
    out = _out(args.out)
    command = _command_line(args, seed)
    records = []
    for target in targets:
        started = time.monotonic()
        record = describe(
            target,
            examples=examples,
            seed=seed,
            mutant=mutant,
            out=out,
            command=command,
        )
        record["seconds"] = round(time.monotonic() - started, 2)
        records.append(record)
        if not args.json:
            render(console, record)
    failed = sum(1 for r in records if not r["passed"])
    if args.json:
        doc = {
            "seed": seed,
            "examples": examples,
            "mutant": args.mutant,
            "failed": failed,
            "targets": records,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        total = sum(r["examples"] for r in records)
        seconds = sum(r["seconds"] for r in records)
        console.print(
            f"fuzz: {len(records)} target(s), {failed} failed, {total} examples, {seconds:.1f} s",
            markup=False,
            highlight=False,
        )
    return EXIT_FAILED_CHECKS if failed else EXIT_OK


def _command_line(args: argparse.Namespace, seed: int) -> str:
    parts = [
        "python run.py fuzz",
        f"--rule {args.rule}",
        f"--examples {args.examples}",
        f"--seed {seed}",
    ]
    if args.mutant:
        parts.append(f"--mutant {args.mutant}")
    return " ".join(parts)
