"""The LocalCluster the sweep tests run on: 2 single-threaded worker processes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def local_client() -> Iterator[Any]:
    """A `distributed.Client` on a fresh LocalCluster of 2 single-threaded worker processes
    (no dashboard), closed on exit."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        Client(local) as client,
    ):
        yield client
