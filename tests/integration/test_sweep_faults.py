"""A worker process killed mid-sweep loses no result: Dask runs its task again, the table
gets every row exactly once, and every kept event database is complete."""

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.api import load_run
from sim.run.dbfile import open_readonly
from sim.sweep.engine import run_sweep
from sim.sweep.spec import SweepSpec, parse_seeds, plan
from sim.sweep.store import read_table
from sim.sweep.task import TMP_SUFFIX, message_digest
from tests.integration.dask_cluster import local_client

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "scenarios" / "baseline.yaml"
WAIT_S = 60.0
INTO_TASK_S = 0.3
"""How long after both workers have a task the victim is killed: well inside its first
task (a fresh worker imports the simulation, then runs a year, over a second)."""


@pytest.fixture
def cluster():
    """A fresh LocalCluster of 2 single-threaded worker processes (one will be killed)."""
    with local_client() as client:
        yield client


def _kill_a_busy_worker(client, killed):
    """Once both workers have a task, kill one worker process (SIGKILL) mid-task; note its
    pid and the keys it was running in `killed`."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        busy = {w: keys for w, keys in client.processing().items() if keys}
        if len(busy) == 2:
            break
        time.sleep(0.05)
    else:
        return
    time.sleep(INTO_TASK_S)
    pids = client.run(os.getpid)
    victim, keys = next(iter(client.processing().items()))
    killed.update(pid=pids[victim], keys=[str(k).removeprefix("bulwark-run-") for k in keys])
    os.kill(pids[victim], signal.SIGKILL)


def test_sweep_when_worker_killed_mid_task_then_every_row_exactly_once(cluster, tmp_path):
    spec = SweepSpec((str(BASELINE),), parse_seeds("1-6"), {})
    out = tmp_path / "out"
    killed: dict = {}
    killer = threading.Thread(target=_kill_a_busy_worker, args=(cluster, killed), daemon=True)
    killer.start()
    outcome = run_sweep(spec, out, scheduler=cluster, keep_dbs=True)
    killer.join(WAIT_S)
    assert killed and killed["keys"], "no worker was killed mid-task"
    table = read_table(out)
    planned = [t.key for t in plan(spec)]
    assert sorted(table["key"]) == sorted(planned) and outcome.ran == len(planned) == 6
    assert set(table["outcome"]) == {"passed"}
    rerun = table.set_index("key").loc[killed["keys"]]
    assert not rerun["worker"].str.endswith(f":{killed['pid']}").any()
    assert not list((out / "runs").glob(f"*{TMP_SUFFIX}*"))
    assert len(list((out / "runs").glob("*.db"))) == 6
    for row in table.to_dict("records"):
        kept = load_run(out / row["db"])
        assert kept.status == "completed" and kept.exit_code == row["exit_code"]
        with contextlib.closing(open_readonly(out / row["db"])) as con:
            assert message_digest(con, kept.run_id) == (row["messages"], row["messages_sha256"])


DYING_RULE = '''"""A custom protection whose worker process dies while the marker file exists."""

import os
from pathlib import Path

from domain.messages import APPROVE
from domain.protections.base import Protection

MARKER = Path(__file__).with_name("die")


class DieWhileMarked(Protection):
    name = "dier"

    def review(self, proposal, ctx):
        if MARKER.exists():
            os._exit(1)
        return self.verdict(proposal, APPROVE, "fine")
'''


@pytest.mark.slow  # a cluster of its own and a worker restart: about 14 s
def test_sweep_when_dask_gives_a_task_up_then_row_lost_and_next_sweep_runs_it(tmp_path):
    import dask
    from distributed import Client, LocalCluster

    crashes = (REPO / "tests" / "data" / "run" / "crashes.yaml").read_text()
    scenario = tmp_path / "dies.yaml"
    scenario.write_text(
        crashes.replace("name: crashes", "name: dies").replace(
            'crasher, class: "crashing_rule:CrashOnDayThree"',
            'dier, class: "dying_rule:DieWhileMarked"',
        )
    )
    (tmp_path / "dying_rule.py").write_text(DYING_RULE)
    (tmp_path / "die").touch()
    spec, out = SweepSpec((str(scenario),), parse_seeds("1"), {}), tmp_path / "out"
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        Client(local) as client,
    ):
        run_sweep(spec, out, scheduler=client)
        lost = read_table(out).iloc[0]
        assert lost["outcome"] == "lost" and pd.isna(lost["exit_code"])
        assert "KilledWorker" in lost["error"]
        (tmp_path / "die").unlink()
        again = run_sweep(spec, out, scheduler=client)
    table = read_table(out)
    assert again.ran == 1 and len(table) == 1
    assert table.iloc[0]["outcome"] == "passed" and table.iloc[0]["key"] == lost["key"]
