"""The report of a directory run (`run.py DIR --report [OUT]`): one page per scenario
that ran, `<OUT>/<scenario>.html`, and `<OUT>/index.html` linking each with its result."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sim.pool import process_pool
from sim.read.html.markup import cell, esc, page, table
from sim.read.html.page import write_report


class ScenarioRow(Protocol):
    """What the index needs of a directory run's row (`run.DirRow`)."""

    scenario: str
    steps: int
    result: str
    failed: tuple[str, ...]
    seconds: float
    db: str
    run_id: str


def _write_one(job: tuple[str, str, str]) -> str:
    db, run_id, out = job
    return str(write_report(db, run_id, out))


def write_dir_report(rows: Sequence[ScenarioRow], out_dir: str | Path, jobs: int = 1) -> Path:
    """Write the page of every row that has a run, then the index; the index's path."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    work = [(r.db, r.run_id, str(folder / f"{r.scenario}.html")) for r in rows if r.run_id]
    if jobs > 1 and len(work) > 1:
        with process_pool(jobs) as pool:
            list(pool.map(_write_one, work))
    else:
        for job in work:
            _write_one(job)
    index = folder / "index.html"
    index.write_text(index_page(rows), encoding="utf-8")
    return index


def index_page(rows: Sequence[ScenarioRow]) -> str:
    """The index: how many passed, then one row per scenario linking its page."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.result] = counts.get(r.result, 0) + 1
    summary = ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))
    body_rows = (
        (
            f'<td><a href="{esc(r.scenario)}.html">{esc(r.scenario)}</a></td>'
            if r.run_id
            else cell(r.scenario),
            cell(r.result, r.result),
            cell(r.steps, "num"),
            cell("\n".join(r.failed), "evidence"),
            cell(f"{r.seconds:.2f}", "num"),
        )
        for r in rows
    )
    body = f'<h1>Bulwark: {len(rows)} scenarios</h1><p class="lead">{esc(summary)}</p>' + table(
        ("scenario", "result", "steps", "failed checks", "seconds"), body_rows
    )
    return page(f"Bulwark: {len(rows)} scenarios", body)
