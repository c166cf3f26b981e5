"""The help of `run.py`: the command table's entry type, the overview `run.py --help`
prints (one line per registered command), and the examples every command's own `--help`
ends with.

A command shows up in the overview by being registered in `run.COMMANDS`; its parser gets
its examples from `examples_epilog` (with `HELP_FORMAT`, which keeps their lines).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs
from rich.console import Console

HELP_FORMAT = argparse.RawDescriptionHelpFormatter
"""The formatter of every parser: the description and the examples keep their lines."""

EXAMPLES_HEADING = "examples:"


def examples_epilog(*examples: str) -> str:
    """The epilog of a command's `--help`: `examples:` and one indented command a line.

    Args:
        examples: command lines without the leading `python run.py`.
    """
    return "\n".join([EXAMPLES_HEADING, *(f"  python run.py {e}" for e in examples)])


@attrs.frozen
class Command:
    """One command of `run.py`.

    Attributes:
        usage: how it is called after `python run.py` (the overview's left column).
        summary: what it does, in one line.
        run: the handler, `(arguments after the command word, console) -> exit code`.
    """

    usage: str
    summary: str
    run: Callable[[Sequence[str], Console], int] | None = None


def overview(
    lead: Iterable[Command], commands: Mapping[str, Command], *, footer: Sequence[str] = ()
) -> str:
    """The text of `run.py --help`: the forms without a command word (`lead`), then every
    registered command in table order, one line each, then `footer`."""
    rows = [*lead, *commands.values()]
    width = max(len(c.usage) for c in rows)
    lines = ["usage: python run.py SCENARIO.yaml | DIR | COMMAND ...", "", "commands:"]
    lines += [f"  {c.usage.ljust(width)}  {c.summary}" for c in rows]
    return "\n".join([*lines, "", *footer])
