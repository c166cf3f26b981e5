"""What a sweep runs: the seeds and grid read from the command line's texts, checked, and
expanded into one task per (scenario file, seed, grid point), each keyed by its run hash.

The run hash (`run_key`) is the SHA-256 of the canonical JSON of {scenario file's SHA-256,
seed, resolved configuration}: a run's result depends on nothing else, so two tasks with
the same key are the same run, wherever and whenever they run (docs/sweeps.md).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from sim.compose import InvalidInput, check_preset, check_seed, prepare
from sim.load.config_section import check_setting, parse_setting
from sim.load.yaml_nodes import Invalid, parse_int
from sim.read.metrics import METRICS

MAX_RUNS = 1_000_000
"""Most runs one sweep may plan (seeds x grid points x files)."""

RESERVED = frozenset(
    {
        "key", "scenario", "path", "seed", "exit_code", "outcome", "error", "checks",
        "failed_checks", "messages", "messages_sha256", "steps", "seconds", "worker",
        "db", "run_id", "finished_at", "settings",
    }
)  # fmt: skip
"""Columns of the sweep table a grid parameter may not be named as (`sim.sweep.store`),
besides the metrics (`sim.read.metrics.METRICS`)."""


def parse_seeds(text: str) -> tuple[int, ...]:
    """`--seeds`: comma-separated seeds and inclusive ranges (`1-200`, `1,5,9-12`), each
    by the file's seed rule; duplicates dropped, order kept.

    Raises:
        InvalidInput: `--seeds TEXT: message`.
    """
    seeds: dict[int, None] = {}
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        try:
            first = _seed(low)
            last = _seed(high) if dash else first
        except InvalidInput as err:
            raise InvalidInput(f"--seeds {text}: {err}") from None
        if last < first:
            raise InvalidInput(f"--seeds {text}: range {part.strip()} ends before it starts")
        if last - first >= MAX_RUNS or len(seeds) + last - first >= MAX_RUNS:
            raise InvalidInput(f"--seeds {text}: more than {MAX_RUNS:,} seeds")
        seeds.update(dict.fromkeys(range(first, last + 1)))
    return tuple(seeds)


def _seed(text: str) -> int:
    try:
        value = parse_int(text.strip())
    except Invalid as err:
        raise InvalidInput(f"{text.strip() or 'an empty seed'}: {err}") from None
    try:
        return check_seed(value, shown=text.strip())
    except InvalidInput as err:
        raise InvalidInput(str(err).removeprefix("--seed: ")) from None


def parse_grid(items: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """`--grid NAME=V1,V2,...` texts as {registry name: values}, each value read as
    `--set NAME=V` is (`sim.load.config_section.parse_setting`); a later NAME wins.

    Raises:
        InvalidInput: `--grid ITEM: message` for the first bad one.
    """
    grid: dict[str, tuple[Any, ...]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not raw.strip():
            raise InvalidInput(f"--grid {item}: expected NAME=V1,V2,...")
        values: list[Any] = []
        for text in raw.split(","):
            try:
                key, value = parse_setting(f"{name}={text}")
            except ValueError as err:
                raise InvalidInput(f"--grid {item}: {err}") from None
            _check_column(key, item)
            if value not in values:
                values.append(value)
        grid[key] = tuple(values)
    return grid


def check_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, tuple[Any, ...]]:
    """A grid given as values (the notebook API's `grid=`), each checked as `--set` is
    (`sim.load.config_section.check_setting`): {registry name: values}.

    Raises:
        InvalidInput: `--grid NAME=...: message` for the first bad one.
    """
    checked: dict[str, tuple[Any, ...]] = {}
    for name, values in grid.items():
        items = [values] if isinstance(values, str) or not isinstance(values, Iterable) else values
        shown = f"{name}={','.join(map(str, items))}"
        if not items:
            raise InvalidInput(f"--grid {shown}: no values")
        kept: list[Any] = []
        for value in items:
            try:
                key, canonical = check_setting(str(name), value)
            except ValueError as err:
                raise InvalidInput(f"--grid {shown}: {err}") from None
            if canonical not in kept:
                kept.append(canonical)
        _check_column(key, shown)
        checked[key] = tuple(kept)
    return checked


def _check_column(name: str, shown: str) -> None:
    if name in RESERVED or name in METRICS:
        raise InvalidInput(f"--grid {shown}: {name} is a column of the sweep table")


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first parameter varying slowest (one
    empty point for an empty grid)."""
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def canonical_json(value: Any) -> str:
    """`value` as canonical JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def run_key(scenario_sha256: str, seed: int, config: Mapping[str, Any]) -> str:
    """The run hash: SHA-256 hex of the canonical JSON of the scenario file's SHA-256, the
    seed and the resolved configuration (every parameter, `Config.to_dict`)."""
    document = {"config": dict(config), "scenario_sha256": scenario_sha256, "seed": seed}
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


@attrs.frozen
class Task:
    """One run of a sweep (sent to a worker: it must pickle).

    `path` is the file as the user named it, `file` its absolute path (what a worker
    opens); `overrides` are `--set` then the grid point; `keep` the absolute folder of the
    kept event databases (None: not kept).
    """

    key: str
    path: str
    file: str
    scenario: str
    scenario_sha256: str
    seed: int
    preset: str | None
    overrides: Mapping[str, Any]
    point: Mapping[str, Any]
    keep: str | None = None


@attrs.frozen
class SweepSpec:
    """A sweep's arguments, checked (`make_spec`)."""

    paths: tuple[str, ...]
    seeds: tuple[int, ...]
    grid: Mapping[str, tuple[Any, ...]]
    preset: str | None = None
    sets: Mapping[str, Any] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The arguments as JSON-ready data (the sweep table's `sweeps` row)."""
        return {
            "paths": list(self.paths),
            "seeds": list(self.seeds),
            "grid": {k: list(v) for k, v in self.grid.items()},
            "preset": self.preset,
            "set": dict(self.sets),
        }


def scenario_files(target: str | os.PathLike[str]) -> tuple[str, ...]:
    """The scenario files of SCENARIO|DIR: the file itself, or every `*.yaml` below the
    directory, sorted.

    Raises:
        InvalidInput: a directory without scenario files, or no such file.
    """
    path = Path(target)
    if path.is_dir():
        found = tuple(sorted(str(f) for f in path.rglob("*.yaml")))
        if not found:
            raise InvalidInput(f"{target}: no scenario files (*.yaml) below it")
        return found
    if not path.is_file():
        raise InvalidInput(f"{target}: no such scenario file or directory")
    return (os.fspath(target),)


def plan(spec: SweepSpec, keep: str | None = None) -> list[Task]:
    """One task per (file, grid point, seed), in that order. Each file and grid point is
    prepared once here (`sim.compose.prepare`): anything refused is refused before a run.

    Raises:
        ScenarioError: a file is invalid.
        InvalidInput: the preset, a setting or a grid point is refused.
    """
    check_preset(spec.preset)
    points = grid_points(spec.grid)
    if len(spec.paths) * len(points) * len(spec.seeds) > MAX_RUNS:
        raise InvalidInput(f"--grid: the sweep would make more than {MAX_RUNS:,} runs")
    tasks: list[Task] = []
    for path in spec.paths:
        for point in points:
            tasks.extend(_point_tasks(spec, path, point, keep))
    return tasks


def _point_tasks(
    spec: SweepSpec, path: str, point: Mapping[str, Any], keep: str | None
) -> Iterable[Task]:
    overrides = {**spec.sets, **point}
    try:
        scenario, config = prepare(path, preset=spec.preset, overrides=overrides)
    except InvalidInput as err:
        if not point:
            raise
        shown = " ".join(f"{k}={v}" for k, v in point.items())
        raise InvalidInput(f"--grid point {shown}: {err}") from None
    resolved = config.to_dict()
    for seed in spec.seeds:
        yield Task(
            key=run_key(scenario.sha256, seed, resolved),
            path=path,
            file=str(Path(path).resolve()),
            scenario=scenario.name,
            scenario_sha256=scenario.sha256,
            seed=seed,
            preset=spec.preset,
            overrides=overrides,
            point=dict(point),
            keep=keep,
        )
