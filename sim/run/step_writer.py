"""A writer process that commits a run's steps while the simulation goes on.

SQLite's work on a step (the inserts and the commit) and the canonical JSON of its payloads
run in a child process (this module's `main`, which imports the standard library only), on
another core: the run sends it
each step's `StepBatch` (pickled, through a pipe) and goes on with the next day. The child
commits every step in one transaction of its own (`sim.run.step_commit.commit_step`, the
function the recorder calls in-process), in the order sent, so the file holds the same rows
either way and whole steps only.

- The child runs in a session of its own and ignores SIGINT: a Ctrl-C reaches the run only,
  which stops sending, `close`s (the child writes every step sent, then ends) and marks the
  run interrupted.
- When the run's process dies, the child reads the end of its input, writes every whole
  step it received and ends; a step cut off in the pipe is not written.
- A child that fails (a full disk, a lock held past the busy timeout) writes why on its
  standard output and exits 1; the run learns it at its next `send` or at `close`, as a
  `RecordingError`, and marks itself failed.

Frames are an 8-byte little-endian length and a pickle: first `(path, Statements)`, then a
`StepBatch` per step.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import struct
import subprocess
import sys
import traceback
from pathlib import Path
from typing import BinaryIO

from sim.run.signals import signals_deferred
from sim.run.step_commit import Statements, StepBatch, commit_step, connect, encoded

_LENGTH = struct.Struct("<Q")
_CHILD = (
    "import sys; sys.path.insert(0, {root!r}); "
    "from sim.run.step_writer import main; sys.exit(main())"
)
"""The child's program: this very module, from the directory the run imported it from (not
the working directory; `-I` keeps environment variables and user site-packages out)."""


class RecordingError(Exception):
    """The writer process stopped before every step sent to it was written."""


class StepWriter:
    """The parent's end: starts the child, sends it steps, waits for it at `close`.

    Args:
        path: the event database file (never `:memory:`).
        statements: what each step is written with.
    """

    def __init__(self, path: str | Path, statements: Statements) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _CHILD.format(root=str(Path(__file__).parents[2]))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self._closed = False
        self._failure: RecordingError | None = None
        self._send_frame((str(path), statements))

    def send(self, batch: StepBatch) -> None:
        """Hand one finished step to the child (blocks while the pipe is full).

        Raises:
            RecordingError: the child has stopped; its reason is the message.
        """
        try:
            self._send_frame(batch)
        except (pickle.PicklingError, TypeError, AttributeError):
            self._send_frame(encoded(batch))  # a value pickle cannot carry: JSON it here

    def close(self) -> None:
        """End the input, wait until the child has written every step sent, and end it.

        Raises:
            RecordingError: the child failed (now or before); its reason is the message.
        """
        if not self._closed:
            self._closed = True
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
            self._collect(self._proc.wait())
        if self._failure is not None:
            raise self._failure

    def _send_frame(self, value: object) -> None:
        if self._closed:
            self.close()  # raises the failure that closed it
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        frame = memoryview(_LENGTH.pack(len(data)) + data)
        try:
            with signals_deferred():  # a step goes into the pipe whole
                while frame:
                    frame = frame[self._proc.stdin.write(frame) :]
        except (BrokenPipeError, ValueError):
            self._closed = True
            self._collect(self._proc.wait(), stopped=True)
            self.close()

    def _collect(self, code: int, *, stopped: bool = False) -> None:
        """Read why the child ended; a failure is kept for every later call."""
        why = self._proc.stdout.read().decode("utf-8", "replace").strip()
        self._proc.stdout.close()
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else -code
            why = why or f"the event database writer was killed by {name}"
        if code != 0 or stopped:
            self._failure = RecordingError(
                why or f"the event database writer ended with exit code {code}"
            )


def _read_frame(stream: BinaryIO) -> object | None:
    """The next frame's value, or None at the end of the input (or of a cut-off frame)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def main() -> int:
    """The child: commit each step read from standard input; 0 at its end, 1 on failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    source, out = sys.stdin.buffer, sys.stdout.buffer
    try:
        path, statements = _read_frame(source)
        conn = connect(path)
        try:
            while (batch := _read_frame(source)) is not None:
                commit_step(conn, statements, batch)
        finally:
            conn.close()
    except Exception:
        out.write(traceback.format_exc(limit=5).encode("utf-8"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
