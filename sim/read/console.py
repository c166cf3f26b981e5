"""The one console every command prints to (`make_console`).

In a terminal, rich's own console: the terminal's width. Anywhere else (a pipe, a file, a
CI log, `less`), the width is `$COLUMNS` when it is set, else `WIDE_WIDTH`, so a table is
laid out at the width of its data instead of rich's 80-column default. The tables fold
what does not fit (`overflow="fold"` on the columns of names and evidence) instead of
replacing it with an ellipsis.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO

from rich.console import Console

WIDE_WIDTH = 200
"""Columns of the console when it is not a terminal and `$COLUMNS` is not set."""


def output_width(environ: Mapping[str, str]) -> int:
    """The width of a console that is not a terminal: `$COLUMNS` (a whole number > 0),
    else `WIDE_WIDTH`."""
    columns = environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and int(columns) > 0 else WIDE_WIDTH


def make_console(
    file: IO[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> Console:
    """The console of a command: a terminal's width, else `output_width`.

    Args:
        file: where to print (stdout when None).
        environ: the environment to read `COLUMNS` from (`os.environ` when None).
    """
    console = Console(file=file)
    if console.is_terminal:
        return console
    return Console(file=file, width=output_width(os.environ if environ is None else environ))
