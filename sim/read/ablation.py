"""An ablation's table: a scenario's baseline run beside one run per protection switched
off, with each figure's change from the baseline (pure: plain rows in, a rich table or
JSON-ready dicts out; `sim.ablate` makes the rows).

The figures (`FIGURES`) are the summary's final equity and the run-wide metrics of
`sim.read.metrics.metrics_of` named there; "decided" is how many decisions the removed
protection decided in the baseline (`decided_by`); "fails without it" are the checks that
fail in the run without it and held in the baseline. docs/stress-testing.md explains them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from rich.table import Table

BASELINE = "baseline"
"""The label of the baseline row."""


@attrs.frozen
class Figure:
    """One figure of the table.

    Attributes:
        name: its key: a run-wide metric's name, or `final_equity` (the run's summary).
        header: the column's heading.
        kind: how it is shown: money, percent, count or times (turnover).
    """

    name: str
    header: str
    kind: str


FIGURES: tuple[Figure, ...] = (
    Figure("final_equity", "final equity", "money"),
    Figure("total_return", "return", "percent"),
    Figure("max_drawdown", "max drawdown", "percent"),
    Figure("volatility", "volatility", "percent"),
    Figure("trades", "trades", "count"),
    Figure("turnover", "turnover", "times"),
    Figure("costs", "costs", "money"),
)
"""The figures of an ablation table, in column order."""

_VALUE: Mapping[str, Callable[[float], str]] = {
    "money": lambda v: f"{v:,.0f}",
    "percent": lambda v: f"{v:.2%}",
    "count": lambda v: f"{v:,.0f}",
    "times": lambda v: f"{v:.2f}x",
}
_DELTA: Mapping[str, Callable[[float], str]] = {
    "money": lambda d: f"{d:+,.0f}",
    "percent": lambda d: f"{d * 100:+.2f} pp",
    "count": lambda d: f"{d:+,.0f}",
    "times": lambda d: f"{d:+.2f}x",
}


@attrs.frozen
class RunRow:
    """One run of an ablation, as plain values.

    Attributes:
        removed: the protection switched off; None for the baseline.
        result: passed, failed (a check did not hold), crashed or interrupted.
        exit_code: what `python run.py FILE` would exit with for this run.
        figures: every figure of `FIGURES` by name (None: undefined, or not recorded).
        decisions: protection -> how many decisions it decided (`decided_by`).
        failed: the labels of the checks that did not hold.
    """

    removed: str | None
    result: str
    exit_code: int | None
    figures: Mapping[str, float | None]
    decisions: Mapping[str, int] = attrs.field(factory=dict)
    failed: tuple[str, ...] = ()


@attrs.frozen
class Ablation:
    """A scenario's baseline run and one run per protection switched off, in the
    baseline's priority order."""

    scenario: str
    path: str
    seed: int
    baseline: RunRow
    runs: tuple[RunRow, ...]


@attrs.frozen
class AblationRow:
    """One line of the table: a run, its figures' changes from the baseline, what the
    removed protection decided in the baseline and the checks that fail without it."""

    label: str
    run: RunRow
    deltas: Mapping[str, float | None]
    decided: int
    new_failures: tuple[str, ...]


def delta(value: float | None, base: float | None) -> float | None:
    """`value - base`, None when either is undefined."""
    return None if value is None or base is None else value - base


def ablation_rows(ablation: Ablation) -> list[AblationRow]:
    """The baseline's line (no deltas; `decided`: every decision of the baseline), then
    one line per protection switched off (`- <name>`)."""
    base = ablation.baseline
    rows = [AblationRow(BASELINE, base, {}, sum(base.decisions.values()), base.failed)]
    for run in ablation.runs:
        name = run.removed or ""
        deltas = {f.name: delta(run.figures.get(f.name), base.figures.get(f.name)) for f in FIGURES}
        fresh = tuple(label for label in run.failed if label not in base.failed)
        rows.append(AblationRow(f"- {name}", run, deltas, base.decisions.get(name, 0), fresh))
    return rows


def figure_text(figure: Figure, value: float | None, change: float | None = None) -> str:
    """A figure as the table shows it, with its change from the baseline when given
    (`=` when there is none at all)."""
    if value is None:
        return "-"
    text = _VALUE[figure.kind](value)
    if change is None:
        return text
    return f"{text} (=)" if change == 0 else f"{text} ({_DELTA[figure.kind](change)})"


_STYLE = {"passed": "green", "failed": "red", "crashed": "red"}


def ablation_table(ablation: Ablation) -> Table:
    """One row per run: label, decided, the figures with their changes, result, and the
    checks that fail without the protection."""
    t = Table(
        title=f"Ablation: {ablation.scenario} (seed {ablation.seed})",
        title_justify="left",
        caption="decided: decisions the protection decided in the baseline (baseline row:"
        " every decision); (=): the same as the baseline",
        caption_justify="left",
    )
    t.add_column("run", overflow="fold")
    t.add_column("decided", justify="right")
    for f in FIGURES:
        t.add_column(f.header, justify="right")
    t.add_column("result")
    t.add_column("fails without it", overflow="fold")
    for row in ablation_rows(ablation):
        is_base = row.label == BASELINE
        cells = [
            figure_text(f, row.run.figures.get(f.name), None if is_base else row.deltas[f.name])
            for f in FIGURES
        ]
        result = f"[{_STYLE.get(row.run.result, 'yellow')}]{row.run.result}[/]"
        failures = "\n".join(row.new_failures) or ("" if is_base else "-")
        t.add_row(row.label, str(row.decided), *cells, result, failures)
    return t


def _run_dict(row: AblationRow) -> dict[str, Any]:
    run = row.run
    return {
        "result": run.result,
        "exit_code": run.exit_code,
        **{f.name: run.figures.get(f.name) for f in FIGURES},
        "decisions_by_system": dict(run.decisions),
        "failed_checks": list(run.failed),
    }


def ablation_dict(ablation: Ablation) -> dict[str, Any]:
    """What `run.py ablate --json` prints for one scenario: the baseline run, then per
    protection its run, `decided` in the baseline, `deltas` and `new_failures`."""
    rows = ablation_rows(ablation)
    return {
        "scenario": ablation.scenario,
        "path": ablation.path,
        "seed": ablation.seed,
        "baseline": _run_dict(rows[0]),
        "without": [
            {
                "protection": row.run.removed,
                "decided": row.decided,
                **_run_dict(row),
                "deltas": dict(row.deltas),
                "new_failures": list(row.new_failures),
            }
            for row in rows[1:]
        ],
    }
