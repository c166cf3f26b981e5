"""Load and check scenario YAML files into `domain.scenario.Scenario`.

The file is composed into a YAML node tree (`sim.load.yaml_nodes`), never loaded with
implicit typing, and every node is checked against what its field means: tickers and
names stay text, numbers, bools and dates must be written plainly. Every problem is
reported as `file:line: field: message`; all independent problems are collected, but
a value that is wrong is not used for further checks, so one mistake gives one line.

The sections are read by their own modules of `sim.load`, in an order where each
defines what the later ones refer to (`sim.load.walk`). The rules are documented in
docs/scenarios.md.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.limits import MAX_CASH
from domain.scenario import UNKNOWN_BUCKET, Scenario
from sim.load.assets import read_assets
from sim.load.calendar import read_calendar
from sim.load.config_section import read_config
from sim.load.expect import read_expectations
from sim.load.interventions import read_interventions
from sim.load.market import read_market
from sim.load.market_check import market_problems
from sim.load.portfolio import read_portfolio
from sim.load.problems import WHOLE_FILE, Problem, ScenarioError, exists
from sim.load.protections import read_protections
from sim.load.reader import NodeMap
from sim.load.regimes import read_regimes
from sim.load.scoring import read_scoring
from sim.load.signals import read_signals
from sim.load.universe import read_buckets, read_universe
from sim.load.values import BAD, INT_GE0, bounded, pattern
from sim.load.walk import Walk
from sim.load.yaml_nodes import RefusedYAML, as_number, as_text, compose, describe, find, is_null

TOP_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "seed",
    "calendar",
    "cash",
    "preset",
    "config",
    "buckets",
    "assets",
    "market",
    "regimes",
    "signals",
    "scoring",
    "portfolio",
    "interventions",
    "protections",
    "expect",
    "requires",
)

_SCENARIO_NAME = re.compile(r"[a-z0-9-]+")
_ERR_YAML = "(yaml)"


def load_scenario(path: str | os.PathLike[str], *, seed: int | None = None) -> Scenario:
    """Read, check and structure one scenario file, then check its market.

    Args:
        path: the YAML file. Problems name it exactly as given (relative stays relative);
            `market.csv` and custom protection modules are resolved from its directory.
        seed: the seed the run will use (the scenario's when None): the market is built
            with it and checked (`sim.load.market_check`), as the run will build it.

    Returns:
        The checked scenario, with `path` (as given) and `sha256` (of the file bytes).

    Raises:
        ScenarioError: with every problem found.
    """
    file = os.fspath(path)
    raw, root = read_document(file)
    walk = Walk(file, Path(file).resolve().parent)
    scenario = _scenario(walk, root)
    if walk.problems or scenario is None:
        raise ScenarioError(walk.problems)
    scenario = attrs.evolve(scenario, path=file, sha256=hashlib.sha256(raw).hexdigest())
    problems = market_problems(scenario, root, seed)
    if problems:
        raise ScenarioError(problems)
    return scenario


def read_document(file: str) -> tuple[bytes, Node]:
    """The bytes of a scenario file and its composed node tree (see `sim.load.yaml_nodes`).

    Raises:
        ScenarioError: unreadable, a directory, not UTF-8, not printable, invalid YAML,
            refused YAML (too many alias nodes, too deep) or empty, with the line.
    """

    def fail(line: int, field: str, message: str) -> NoReturn:
        raise ScenarioError([Problem(file, line, field, message)])

    try:
        if Path(file).is_dir():
            fail(1, WHOLE_FILE, "is a directory, not a scenario file")
        raw = Path(file).read_bytes()
    except (OSError, ValueError) as exc:
        fail(1, WHOLE_FILE, f"cannot read the file: {exc}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        fail(line, WHOLE_FILE, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")
    try:
        root = compose(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        fail(line, WHOLE_FILE, f"not text: a control character #x{exc.character:04x}")
    except RefusedYAML as exc:
        fail(exc.problem_mark.line + 1, _ERR_YAML, str(exc.problem))
    except yaml.MarkedYAMLError as exc:
        fail(*_yaml_error(exc))
    except yaml.YAMLError as exc:
        fail(1, _ERR_YAML, f"invalid YAML: {exc}")
    if root is None:
        fail(1, WHOLE_FILE, "the file is empty; expected a mapping")
    return raw, root


def _yaml_error(exc: yaml.MarkedYAMLError) -> tuple[int, str, str]:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    message = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        where = ""
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            where = f" at line {exc.context_mark.line + 1}"
        message = f"{exc.problem} ({exc.context}{where})"
    return line, _ERR_YAML, f"invalid YAML: {message}"


def unmet_requirements(path: str | os.PathLike[str]) -> list[str]:
    """The files a scenario's `requires:` names that do not exist (resolved against the
    scenario's directory). Read before the full load, through the same strict reader, so
    a scenario on data that is absent can be skipped with a reason instead of failing
    validation; a file that cannot be read has no requirements here (the load reports
    it)."""
    try:
        _, root = read_document(os.fspath(path))
    except ScenarioError:
        return []
    items = find(root, "requires")
    if not isinstance(items, SequenceNode):
        return []
    base = Path(path).resolve().parent
    names = [item.value for item in items.value if isinstance(item, ScalarNode)]
    return [name for name in names if not exists(base / name)]


def validate_files(
    paths: Iterable[str | os.PathLike[str]],
) -> list[tuple[str, ScenarioError | None]]:
    """Check each file; return (path as given, its error or None) in the given order."""
    results: list[tuple[str, ScenarioError | None]] = []
    for path in paths:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            results.append((os.fspath(path), exc))
        else:
            results.append((os.fspath(path), None))
    return results


def _scenario(w: Walk, root: Node) -> Scenario | None:
    """Every section, in the order of their references; None when a problem was found."""
    if not isinstance(root, MappingNode):
        w.error(root, WHOLE_FILE, f"expected a mapping at the top, got {describe(root)}")
        return None
    top = w.mapping(root, "", TOP_KEYS, required=("name", "calendar"))
    if top is None:
        return None
    values: dict[str, Any] = {}
    values["name"] = w.req(top, "name", pattern(_SCENARIO_NAME, "a name of [a-z0-9-]+"))
    values["description"] = w.opt(top, "description", as_text, "")
    values["seed"] = w.opt(top, "seed", INT_GE0, 0)
    values["cash"] = w.opt(
        top, "cash", bounded(as_number, lo=0, lo_open=True, hi=MAX_CASH), 1_000_000.0
    )
    values["calendar"] = read_calendar(w, top)
    values["buckets"] = read_buckets(w, top)
    market_map, source, csv_path, paths = read_universe(w, top)
    values["regimes"] = read_regimes(w, top)
    values["market"] = read_market(w, market_map, source, csv_path, paths)
    values["preset"], values["config"] = read_config(w, top)
    values["assets"] = read_assets(w, top)
    values["signals"] = read_signals(w, top)
    values["scoring_model"] = read_scoring(w, top)
    values["portfolio"] = read_portfolio(w, top)
    values["interventions"] = read_interventions(w, top)
    values["protections"] = read_protections(w, top)
    values["expect"] = read_expectations(w, top)
    values["requires"] = _requires(w, top)
    if w.problems:
        return None
    buckets = dict(values.pop("buckets"))
    extra = [t for t in values["market"].paths if t not in w.bucket_tickers]
    if extra:
        buckets.setdefault(UNKNOWN_BUCKET, [])
        buckets[UNKNOWN_BUCKET] = [*buckets[UNKNOWN_BUCKET], *extra]
    return Scenario(buckets=buckets, **values)


def _requires(w: Walk, top: NodeMap) -> Any:
    """Files the scenario needs (relative to its directory); a runner skips the scenario
    with a reason when one is absent (see `unmet_requirements`)."""
    node = top.get("requires")
    if node is None or is_null(node):
        return ()
    items = w.sequence(node, "requires", "a list of file paths")
    if items is None:
        return BAD
    return tuple(w.convert(item, f"requires[{i}]", as_text) for i, item in enumerate(items))
