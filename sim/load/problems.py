"""The one error type of bad scenario input: `file:line: field: message` problems.

The scenario loader, the csv reader's callers and the market check all report through
`Problem` and `ScenarioError`, so every message has the same shape. The two path helpers
are how a problem names a file (`display_path`) and decides that it is absent (`exists`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import attrs

#: The field of a problem with a file as a whole (a scenario or a csv).
WHOLE_FILE = "(document)"


@attrs.frozen
class Problem:
    """One thing wrong with a scenario file, at a 1-based line and a field path."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ScenarioError(Exception):
    """A scenario file is invalid. `problems` are sorted by line; str() gives one per line."""

    def __init__(self, problems: Iterable[Problem]):
        unique = list(dict.fromkeys(problems))
        self.problems: tuple[Problem, ...] = tuple(sorted(unique, key=lambda p: p.line))
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def display_path(path: str | os.PathLike[str], like: str) -> str:
    """`path` as a message shows it: relative to the working directory when `like` (the
    scenario file as given) is relative, absolute otherwise."""
    text = os.fspath(path)
    if os.path.isabs(like):
        return os.path.abspath(text)
    return os.path.relpath(text)


def exists(path: Path, *, file: bool = False) -> bool:
    """Path.exists (or is_file) that says False for a name the OS cannot even look up."""
    try:
        return path.is_file() if file else path.exists()
    except (OSError, ValueError):
        return False
