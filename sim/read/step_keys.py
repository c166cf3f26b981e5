"""The step-through's keyboard: single keys read from the terminal (cbreak mode) and the
commands they make (`sim.read.stepper` carries them out).

    Enter or n   next step
    c            continue to the next step with an event of interest
    g N Enter    go to step N
    a T Enter    follow asset T; `a` Enter stops
    q            quit (Ctrl-D, or the end of input, too)
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

import attrs

ENTER = frozenset({"\r", "\n"})
BACKSPACE = frozenset({"\x7f", "\b"})
ESCAPE = "\x1b"
END_OF_INPUT = "\x04"  # Ctrl-D


@attrs.frozen
class Command:
    """One step-through command: next, continue, goto (arg: step), follow (arg: ticker or
    None), quit, or invalid (arg: the message)."""

    action: str
    arg: Any = None


def parse_command(text: str) -> Command | None:
    """A typed command line: `n`, empty, `c`, `q`, `g N`, `a TICKER`, `a`.

    Returns:
        The command, or None when `text` is not a command.
    """
    text = text.strip()
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    if text in ("", "n"):
        return Command("next")
    if text == "c":
        return Command("continue")
    if text == "q":
        return Command("quit")
    if head.startswith("g"):
        number = (head[1:] + rest).strip()
        if number.isdigit():
            return Command("goto", int(number))
        return Command("invalid", f"g needs a step number, got {number!r}")
    if head.startswith("a"):
        ticker = (head[1:] + rest).strip()
        return Command("follow", ticker or None)
    return None


class CommandLine:
    """Turns keys into commands: `n`, Enter, `c`, `q` act at once; `g` and `a` open a
    pending command that Enter completes, Backspace edits and Escape cancels.

    Mutable on purpose (it is the line being typed); one per step-through.
    """

    def __init__(self) -> None:
        self.pending: str | None = None

    @property
    def prompt(self) -> str:
        """What is being typed (`g 12`), or empty."""
        if self.pending is None:
            return ""
        label = "go to step" if self.pending.startswith("g") else "follow asset"
        return f"{label}: {self.pending[1:].strip()}_"

    def feed(self, key: str) -> Command | None:
        """Take one key; return the command it completes, if any."""
        if key == END_OF_INPUT:
            return Command("quit")
        if self.pending is None:
            if key in ENTER or key in ("n", " "):
                return Command("next")
            if key in ("c", "q"):
                return parse_command(key)
            if key in ("g", "a"):
                self.pending = key
            return None
        if key in ENTER:
            text, self.pending = self.pending, None
            return parse_command(text)
        if key == ESCAPE:
            self.pending = None
        elif key in BACKSPACE:
            self.pending = self.pending[:-1] or None
        elif key.isprintable():
            self.pending += key
        return None


@contextlib.contextmanager
def key_reader(stream: IO[str] | None = None) -> Iterator[Callable[[], str]]:
    """Read single keys from `stream` (default stdin): cbreak mode while inside when it is
    a terminal (restored on exit), plain reads otherwise. Yields a function returning the
    next key, or "" at the end of input."""
    stream = sys.stdin if stream is None else stream
    fd = stream.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read() -> str:
        while True:
            chunk = os.read(fd, 1)
            if not chunk:
                return ""
            text = decoder.decode(chunk)
            if text:
                return text

    if not os.isatty(fd):
        yield read
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # keep keys typed ahead
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
