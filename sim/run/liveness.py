"""Is the writer of a `running` run still there? Writer identity and the reader's verdict.

A writer records who it is in its runs row (`writer_host`, `writer_pid`, `writer_started`)
and refreshes `heartbeat_at` with every step. A reader that finds a run still `running`
decides from those columns whether its writer is gone; `reported_status` is that decision,
a pure function, and `run_status` feeds it what this machine sees.

The rule (docs/event-db.md, "Interrupted and crashed runs"):

- a run that is not `running` is reported as recorded;
- a run recorded without a writer (by a version before these columns) stays `running`;
- on the writer's own host: no process with that pid (or a zombie) means `crashed`; a
  process whose start identity differs from `writer_started` (the pid was reused) means
  `crashed`; the same identity means `running`;
- otherwise (another host, or a live pid whose identity cannot be read): `crashed` when the
  last heartbeat is older than `STALE_AFTER_S`, else `running`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

STALE_AFTER_S: Final = 600.0
"""A writer on another host is taken for gone when its heartbeat is older than this."""

ALIVE: Final = "alive"
"""What `observe` reports for a live process whose start identity cannot be read."""

CRASHED: Final = "crashed"
"""The status a reader reports for a `running` run whose writer is gone (never stored)."""

_TOKEN_PREFIX = "token:"
_PROC = Path("/proc")


def this_host() -> str:
    """The name this machine records as `writer_host`."""
    return socket.gethostname()


def process_identity(pid: int) -> str | None:
    """`<boot id>/<start time>` of a live process (Linux /proc), else None.

    The start time (clock ticks since boot, field 22 of /proc/PID/stat) with the boot id
    tells a reused pid from the original process. None when the process does not exist, is
    a zombie, or /proc cannot be read.
    """
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        boot = (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the command name may hold spaces and ')'
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{boot}/{fields[19]}"


def own_identity() -> str:
    """This process's `writer_started`: its /proc identity, or a random token elsewhere."""
    return _identity_of(os.getpid())  # by pid: a forked child is another process


@functools.cache
def _identity_of(pid: int) -> str:
    return process_identity(pid) or f"{_TOKEN_PREFIX}{secrets.token_hex(8)}"


def observe(pid: int) -> str | None:
    """What this machine sees at `pid`: its identity, `ALIVE` (a live process whose identity
    cannot be read), or None (no such process, or a zombie)."""
    identity = process_identity(pid)
    if identity is not None:
        return identity
    if (_PROC / "self").exists():  # /proc works, so the process is gone or a zombie
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:  # e.g. another user's live process
        return ALIVE
    return ALIVE


def _parse_stamp(stamp: str | None) -> dt.datetime | None:
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def reported_status(
    run: Mapping[str, Any],
    *,
    host: str,
    process: str | None,
    now: dt.datetime,
    stale_after_s: float = STALE_AFTER_S,
) -> str:
    """The status a reader reports for a runs row (the rule in the module docstring).

    Args:
        run: the row; reads status, writer_host, writer_started, heartbeat_at, started_at.
        host: this machine's name (`this_host()`).
        process: what this machine sees at the row's writer_pid (`observe`); ignored unless
            the row's writer_host is `host`.
        now: the current wall-clock time (timezone-aware).
        stale_after_s: the heartbeat age beyond which a writer is taken for gone.

    Returns:
        The recorded status, or `crashed` for a `running` run whose writer is gone.
    """
    status = run.get("status")
    if status != "running" or not run.get("writer_host"):
        return str(status)
    started = run.get("writer_started")
    if run["writer_host"] == host:
        if process is None:
            return CRASHED
        comparable = process != ALIVE and started and not started.startswith(_TOKEN_PREFIX)
        if comparable:
            return "running" if process == started else CRASHED
    beat = _parse_stamp(run.get("heartbeat_at")) or _parse_stamp(run.get("started_at"))
    if beat is None:
        return "running"
    return CRASHED if (now - beat).total_seconds() > stale_after_s else "running"


def run_status(run: Mapping[str, Any]) -> str:
    """`reported_status` of a runs row as seen from this machine, now."""
    if run.get("status") != "running":
        return str(run.get("status"))
    host = this_host()
    pid = run.get("writer_pid")
    process = observe(int(pid)) if run.get("writer_host") == host and pid is not None else None
    return reported_status(run, host=host, process=process, now=dt.datetime.now(dt.UTC))
