"""A writer process that commits a run's steps while the simulation goes on.

SQLite's work on a step (the inserts and the commit) and the canonical JSON of its payloads
run in a child process (this module's `main`, which imports the standard library only), on
another core: the run sends it each step's `StepBatch` (pickled, through a pipe) and goes on
with the next day. The child commits the steps in the order sent, each whole, a step as soon
as it arrives or, when the child is behind, the steps waiting in the pipe together in one
transaction (`sim.run.step_commit.commit_steps`; in-process the recorder commits one step
at a time with `commit_step`), so the file holds the same rows either way and whole steps
only. The rules, and when a run uses a writer process, are in docs/event-db.md, "The writer
process".

- The child runs in a session of its own and ignores SIGINT: a Ctrl-C reaches the run only,
  which stops sending, `close`s (the child writes every step sent, then ends) and marks the
  run interrupted.
- When the run's process dies, the child reads the end of its input, writes every whole
  step it received and ends; a step cut off in the pipe is not written.
- A child that fails (a full disk, a lock held past the busy timeout) writes why on its
  standard output and exits 1; the run learns it at its next `send` or at `close`, as a
  `RecordingError`, and marks itself failed. A child that takes nothing for
  `STALL_TIMEOUT_S` (or does not end when asked) is killed, with the same outcome.

Frames are an 8-byte little-endian length and a pickle of plain values only (`_PlainPickler`:
the child imports no module to read one): first the path and the `Statements` as a tuple,
then each `StepBatch` as a tuple. POSIX only (non-blocking pipes and `select`); elsewhere
the recorder commits in-process.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import traceback
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: the recorder commits in-process there
    fcntl = None

from sim.run.signals import signals_deferred
from sim.run.step_commit import (
    BUSY_TIMEOUT_S,
    Statements,
    StepBatch,
    commit_steps,
    connect,
    encoded,
    json_ready,
)

_LENGTH = struct.Struct("<Q")
_READ_SIZE = 1 << 16
GROUP_STEPS = 32
"""The most steps the writer commits in one transaction: the steps that wait in the pipe
when it takes the next are committed together (fewer commits and index pages rewritten
when it is behind; each step still whole, in order)."""
PIPE_BYTES = 1 << 20
"""The pipe's capacity the run asks for (Linux's default is 64 KiB, three steps of a
2,000-asset run): room for about 50 steps, so a writer behind for a few steps takes them
together while the run goes on instead of making it wait at every step (figures in
bench/README.md, tenth part). Where the system allows less, or has no such setting, the
pipe keeps its size."""
STALL_TIMEOUT_S = 2 * BUSY_TIMEOUT_S
"""How long the run waits for a writer that takes nothing from the pipe (or does not end
when asked) before it kills the writer and fails: past the writer's own wait for a lock."""
_CHILD = (
    "import sys; root = {root!r}; root in sys.path or sys.path.insert(0, root); "
    "from sim.run.step_writer import main; sys.exit(main())"
)
"""The child's program: this very module, from the directory the run imported it from (not
the working directory; `-I` keeps environment variables and user site-packages out)."""


class RecordingError(Exception):
    """The writer process stopped before every step sent to it was written."""


class _PlainPickler(pickle.Pickler):
    """Pickles plain values only (None, bool, int, float, str, bytes, and lists, tuples and
    dicts of them), so the child never imports a module to read a step."""

    def reducer_override(self, obj: object) -> object:
        # called only for what is not a plain value
        raise pickle.PicklingError(f"not a plain value: {type(obj).__qualname__}")


def _plain_pickle(value: object) -> bytes:
    buffer = io.BytesIO()
    _PlainPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _widen(fd: int) -> None:
    """Ask for a `PIPE_BYTES` pipe on `fd`, or the system's most (Linux); else leave it."""
    setting = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if setting is None:
        return
    try:
        most = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except (OSError, ValueError):
        most = PIPE_BYTES
    with contextlib.suppress(OSError):  # over a user's pipe quota: the default size
        fcntl.fcntl(fd, setting, min(PIPE_BYTES, most))


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
        os.set_blocking(self._proc.stdin.fileno(), False)
        _widen(self._proc.stdin.fileno())
        self._closed = False
        self._failure: RecordingError | None = None
        self._send_frame(_plain_pickle((str(path), tuple(statements))))

    def send(self, batch: StepBatch) -> None:
        """Hand one finished step to the child (waits while the pipe is full).

        A payload value that is not plain (a date, a numpy scalar, a nested mapping proxy)
        is made JSON-ready here first (`json_ready`); what is still not plain (a snapshot's
        enum flag) is encoded to JSON here instead, to the same bytes.

        Raises:
            RecordingError: the child has stopped, or took nothing for `STALL_TIMEOUT_S`.
        """
        try:
            data = _plain_pickle(tuple(batch))
        except pickle.PicklingError:
            try:
                data = _plain_pickle(tuple(json_ready(batch)))
            except pickle.PicklingError:
                data = _plain_pickle(tuple(encoded(batch)))
        self._send_frame(data)

    def close(self) -> None:
        """End the input, wait until the child has written every step sent, and end it; a
        SIGINT or SIGTERM meanwhile waits for the end (`signals_deferred`).

        Raises:
            RecordingError: the child failed (now or before); its reason is the message.
        """
        if not self._closed:
            self._closed = True
            with signals_deferred():
                with contextlib.suppress(BrokenPipeError):
                    self._proc.stdin.close()
                try:
                    code = self._proc.wait(timeout=STALL_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._stalled()
                else:
                    self._collect(code)
        if self._failure is not None:
            raise self._failure

    def _send_frame(self, data: bytes) -> None:
        if self._closed:
            self.close()  # raises the failure that closed it
        frame = memoryview(_LENGTH.pack(len(data)) + data)
        fd = self._proc.stdin.fileno()
        with signals_deferred():  # a step goes into the pipe whole
            while frame:
                try:
                    frame = frame[os.write(fd, frame) :]
                except BlockingIOError:
                    if not select.select([], [fd], [], STALL_TIMEOUT_S)[1]:
                        self._stalled()
                except BrokenPipeError:
                    self._closed = True
                    self._collect(self._proc.wait(), stopped=True)
                if self._failure is not None:
                    self.close()

    def _stalled(self) -> None:
        """Kill a writer that stopped taking steps: only whole steps are in the file."""
        self._closed = True
        self._proc.kill()
        self._collect(self._proc.wait())
        self._failure = RecordingError(
            f"the event database writer made no progress for {STALL_TIMEOUT_S:g} s and was stopped"
        )

    def _collect(self, code: int, *, stopped: bool = False) -> None:
        """Read why the child ended and close the pipes; a failure is kept for every later
        call."""
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        why = self._proc.stdout.read().decode("utf-8", "replace").strip()
        self._proc.stdout.close()
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else -code
            why = why or f"the event database writer was killed by {name}"
        if code != 0 or stopped:
            self._failure = RecordingError(
                why or f"the event database writer ended with exit code {code}"
            )


class _Frames:
    """The frames of a byte stream (a file descriptor), taken as they arrive.

    Args:
        fd: what the frames are read from (read directly: a buffered reader would hold
            frames that `select` cannot see).
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()

    def next_group(self, limit: int) -> list[object] | None:
        """The values of the whole frames that have arrived, at most `limit`, waiting for
        the first; None at the end of the input (a frame cut off there is dropped)."""
        while not (values := self._whole(limit)):
            if not self._read():
                return None
        while len(values) < limit and select.select([self._fd], [], [], 0)[0] and self._read():
            values.extend(self._whole(limit - len(values)))
        return values

    def _read(self) -> bool:
        """Read what the stream holds (waiting for something); False at its end."""
        chunk = os.read(self._fd, _READ_SIZE)
        self._buffer += chunk
        return bool(chunk)

    def _whole(self, limit: int) -> list[object]:
        """Unpickle and drop up to `limit` whole frames from the buffer's start."""
        buffer, values, at = self._buffer, [], 0
        while len(values) < limit and len(buffer) - at >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer, at)
            end = at + _LENGTH.size + size
            if end > len(buffer):
                break
            values.append(pickle.loads(buffer[at + _LENGTH.size : end]))
            at = end
        del buffer[:at]
        return values


def main() -> int:
    """The child: commit the steps read from standard input, the steps waiting together
    (at most `GROUP_STEPS` a transaction, each whole); 0 at its end, 1 on failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    frames, out = _Frames(sys.stdin.fileno()), sys.stdout.buffer
    try:
        head = frames.next_group(1)
        if head is None:
            raise EOFError("the input ended before the database path and statements")
        path, sql = head[0]
        statements = Statements(*sql)
        conn = connect(path)
        try:
            while (group := frames.next_group(GROUP_STEPS)) is not None:
                commit_steps(conn, statements, [StepBatch(*batch) for batch in group])
        finally:
            conn.close()
    except Exception:
        out.write(traceback.format_exc(limit=5).encode("utf-8"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
