"""Load and check scenario YAML files into `domain.scenario.Scenario`.

The file is composed into a YAML node tree (`sim.yaml_nodes`), never loaded with
implicit typing, and every node is checked against what its field means: tickers and
names stay text, numbers, bools and dates must be written plainly. Every problem is
reported as `file:line: field: message`; all independent problems are collected, but
a value that is wrong is not used for further checks, so one mistake gives one line.

The rules are documented in docs/scenarios.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs
import numpy as np
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.calendar import weekdays
from domain.config import PARAMS, PRESETS, ConfigError, coerce_param, resolve
from domain.limits import (
    MAX_CALENDAR_DAYS,
    MAX_CASH,
    MAX_DRIFT,
    MAX_DURATION_DAYS,
    MAX_INT,
    MAX_PRICE,
    MAX_SHOCK_RETURN,
    MAX_VOLATILITY,
    MAX_WARMUP_DAYS,
    MIN_PRICE,
)
from domain.protections.base import Protection
from domain.scenario import (
    ACTIONS,
    BUILTIN_PROTECTIONS,
    DEFAULT_REGIMES,
    INTERVENTION_ACTIONS,
    OUTCOMES,
    SEVERITIES,
    UNKNOWN_BUCKET,
    AssetSpec,
    Calendar,
    CorrelationSpec,
    CustomProtection,
    Expectation,
    ExpectDecision,
    ExpectFinal,
    ExpectMetric,
    ExpectNever,
    ExpectNotice,
    ExpectSql,
    Holding,
    Intervention,
    LevelSpec,
    MarketSpec,
    Protections,
    RegimePoint,
    RegimeSpec,
    Scenario,
    Shock,
    SignalOverride,
    Signals,
    Window,
)
from sim.market_check import market_problems
from sim.price_csv import CsvError, read_price_csv
from sim.problems import Problem, ScenarioError, display_path
from sim.read.metrics import METRICS
from sim.read.sql_check import readonly_select_problem
from sim.yaml_nodes import (
    Invalid,
    RefusedYAML,
    as_bool,
    as_date,
    as_int,
    as_number,
    as_text,
    compose,
    describe,
    find,
    has_explicit_tag,
    is_null,
    line_of,
    parse_bool,
    parse_int,
    parse_number,
    plain_value,
)

__all__ = [
    "Problem",
    "ScenarioError",
    "load_protection_class",
    "load_scenario",
    "parse_setting",
    "read_document",
    "unmet_requirements",
    "validate_files",
]

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
    "portfolio",
    "interventions",
    "protections",
    "expect",
    "requires",
)
EXPECT_KINDS: tuple[str, ...] = ("never", "notice", "decision", "final", "metric", "sql")
#: Systems that can decide a proposal (besides custom protections).
DECIDING_SYSTEMS: tuple[str, ...] = (
    "core_asset",
    "regime_override",
    "grace_period",
    "holding_period",
    "whipsaw",
    "orchestrator",
)
#: Names a custom protection may not take: built-ins, systems and agents.
RESERVED_NAMES: tuple[str, ...] = (
    *BUILTIN_PROTECTIONS,
    "regime_override",
    "orchestrator",
    "portfolio_manager",
    "broker",
    "regime_provider",
)
ANY_ASSET = "*"
#: Weights may sum to 1 plus this much (rounding in hand-written files).
WEIGHT_SUM_TOLERANCE = 1e-9

_SCENARIO_NAME = re.compile(r"[a-z0-9-]+")
_PROTECTION_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_CLASS_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
_SNAKE = re.compile(r"[a-z_]+")
_SQL_START = re.compile(r"\s*(select|with)\b", re.IGNORECASE)

_ERR_DOCUMENT = "(document)"
_ERR_YAML = "(yaml)"


def load_scenario(path: str | os.PathLike[str], *, seed: int | None = None) -> Scenario:
    """Read, check and structure one scenario file, then check its market.

    Args:
        path: the YAML file. Problems name it exactly as given (relative stays relative);
            `market.csv` and custom protection modules are resolved from its directory.
        seed: the seed the run will use (the scenario's when None): the market is built
            with it and checked (`sim.market_check`), as the run will build it.

    Returns:
        The checked scenario, with `path` (as given) and `sha256` (of the file bytes).

    Raises:
        ScenarioError: with every problem found.
    """
    file = os.fspath(path)
    raw, root = read_document(file)
    walker = _Walker(file, Path(file).resolve().parent)
    scenario = walker.scenario(root)
    if walker.problems or scenario is None:
        raise ScenarioError(walker.problems)
    scenario = attrs.evolve(scenario, path=file, sha256=hashlib.sha256(raw).hexdigest())
    problems = market_problems(scenario, root, seed)
    if problems:
        raise ScenarioError(problems)
    return scenario


def read_document(file: str) -> tuple[bytes, Node]:
    """The bytes of a scenario file and its composed node tree (see `sim.yaml_nodes`).

    Raises:
        ScenarioError: unreadable, a directory, not UTF-8, not printable, invalid YAML,
            refused YAML (too many alias nodes, too deep) or empty, with the line.
    """

    def fail(line: int, field: str, message: str) -> NoReturn:
        raise ScenarioError([Problem(file, line, field, message)])

    try:
        if Path(file).is_dir():
            fail(1, _ERR_DOCUMENT, "is a directory, not a scenario file")
        raw = Path(file).read_bytes()
    except (OSError, ValueError) as exc:
        fail(1, _ERR_DOCUMENT, f"cannot read the file: {exc}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        fail(line, _ERR_DOCUMENT, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")
    try:
        root = compose(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        fail(line, _ERR_DOCUMENT, f"not text: a control character #x{exc.character:04x}")
    except RefusedYAML as exc:
        fail(exc.problem_mark.line + 1, _ERR_YAML, str(exc.problem))
    except yaml.MarkedYAMLError as exc:
        fail(*_yaml_error(exc))
    except yaml.YAMLError as exc:
        fail(1, _ERR_YAML, f"invalid YAML: {exc}")
    if root is None:
        fail(1, _ERR_DOCUMENT, "the file is empty; expected a mapping")
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
    return [name for name in names if not _exists(base / name)]


def _exists(path: Path, *, file: bool = False) -> bool:
    """Path.exists (or is_file) that says False for a name the OS cannot even look up."""
    try:
        return path.is_file() if file else path.exists()
    except (OSError, ValueError):
        return False


def parse_setting(text: str) -> tuple[str, Any]:
    """Read a command-line `--set name=value` by the rules of a `config` entry in a file.

    Dashes in the name read as underscores (`grace-period-days=3`); the value is read by
    the parameter's type with the file's scalar rules (`1e1` is not an integer, `yes` is
    not a bool), then checked by `domain.config.coerce_param`.

    Returns:
        (registry name, canonical value).

    Raises:
        ValueError: the message (no "=", unknown name with a suggestion, bad value).
    """
    name, sep, raw = text.partition("=")
    if not sep:
        raise ValueError("expected name=value")
    name = name.strip().replace("-", "_")
    param = PARAMS.get(name)
    try:
        if param is None:
            coerce_param(name, None)  # raises the registry's unknown-name message
        value_text = raw.strip()
        if not value_text:
            raise ValueError("a value is required after '='")
        parse = {"bool": parse_bool, "int": parse_int, "float": parse_number}.get(param.type)
        return name, coerce_param(name, parse(value_text) if parse else value_text)
    except ConfigError as exc:
        raise ValueError(exc.issues[0].message.removeprefix(f"{name}: ")) from None


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


# --- walking ----------------------------------------------------------------------


class _Bad:
    """A value that failed its check (already reported); never used further."""

    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()

Conv = Callable[[Node], Any]


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _fmt(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if value and not 1e-4 <= abs(value) < 1e6:
        return f"{value:g}"
    rounded = round(value, 9)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def _suggest(word: str, options: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _tag_name(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _bounded(
    base: Conv,
    *,
    lo: float | None = None,
    lo_open: bool = False,
    hi: float | None = None,
    hi_open: bool = False,
) -> Conv:
    """Wrap a number converter with a range check whose message names the range."""

    def conv(node: Node) -> Any:
        value = base(node)
        below = lo is not None and (value <= lo if lo_open else value < lo)
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if below or above:
            if lo is not None and hi is not None:
                rng = f"{'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}"
                raise Invalid(f"must be in {rng}, got {node.value}")
            if lo is not None:
                raise Invalid(f"must be {'>' if lo_open else '>='} {_fmt(lo)}, got {node.value}")
            raise Invalid(f"must be {'<' if hi_open else '<='} {_fmt(hi)}, got {node.value}")
        return value

    return conv


def _choice(options: Sequence[str]) -> Conv:
    def conv(node: Node) -> str:
        text = as_text(node, f"one of {', '.join(options)}")
        if text not in options:
            raise Invalid(f"expected one of {', '.join(options)}, got '{text}'")
        return text

    return conv


def _pattern(regex: re.Pattern[str], what: str) -> Conv:
    def conv(node: Node) -> str:
        text = as_text(node, what)
        if not regex.fullmatch(text):
            raise Invalid(f"expected {what}, got '{text}'")
        return text

    return conv


def _ticker(node: Node) -> str:
    text = as_text(node, "a ticker")
    if not text.strip():
        raise Invalid("expected a ticker, got empty text")
    return text


def _defined_ticker(node: Node) -> str:
    text = _ticker(node)
    if text == ANY_ASSET:
        raise Invalid("'*' is not a ticker (it means any asset, only in expect)")
    return text


def _nonempty_text(node: Node) -> str:
    text = as_text(node)
    if not text.strip():
        raise Invalid("expected text, got empty text")
    return text


FRACTION = _bounded(as_number, lo=0, hi=1)
NON_NEGATIVE = _bounded(as_number, lo=0)
INT_GE0 = _bounded(as_int, lo=0, hi=MAX_INT)
INT_GE1 = _bounded(as_int, lo=1, hi=MAX_INT)
PRICE = _bounded(as_number, lo=MIN_PRICE, hi=MAX_PRICE)


@attrs.define
class _Map:
    """A checked mapping node: its entries by key text, in file order."""

    node: MappingNode
    field: str
    items: dict[str, tuple[Node, Node]]
    #: keys proposed as corrections of unknown keys (their absence is not reported again)
    suggested: set[str]

    def get(self, key: str) -> Node | None:
        entry = self.items.get(key)
        return None if entry is None else entry[1]

    def key_node(self, key: str) -> Node:
        return self.items[key][0]

    def has(self, key: str) -> bool:
        """True when `key` is present with a non-null value."""
        node = self.get(key)
        return node is not None and not is_null(node)


@attrs.define
class _Window:
    first: dt.date
    last: dt.date

    def text(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


class _Walker:
    """Walks the node tree of one file, collecting problems and plain checked values."""

    def __init__(self, file: str, base_dir: Path):
        self.file = file
        self.base_dir = base_dir
        self.problems: list[Problem] = []
        self.window: _Window | None = None
        self.start: dt.date | None = None
        self.bucket_names: list[str] = []
        self.buckets_ok = False
        self.universe: set[str] = set()
        self.universe_ok = False
        self.regimes: list[str] = list(DEFAULT_REGIMES)
        self.regimes_ok = True
        self.custom_names: list[str] = []
        self.custom_ok = True
        self.market_invalid = False
        #: (preset, overrides) once the configuration checked clean
        self.base_config: tuple[str | None, dict[str, Any]] | None = None
        self.bucket_tickers: dict[str, tuple[str, int]] = {}
        self.bucket_index: dict[str, int] = {}

    # --- reporting and generic readers -----------------------------------------------

    def error(self, where: Node | int, field: str, message: str) -> None:
        """Report a problem at a node's line (or at a 1-based line number)."""
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append(Problem(self.file, line, field, message))

    def mark(self) -> int:
        return len(self.problems)

    def clean_since(self, mark: int) -> bool:
        return len(self.problems) == mark

    def tag_ok(self, node: Node, field: str) -> bool:
        if has_explicit_tag(node):
            self.error(
                node,
                field,
                f"explicit YAML tags are not supported (got '{_tag_name(node.tag)}');"
                " write the plain value, or quote it for text",
            )
            return False
        return True

    def mapping(
        self,
        node: Node,
        field: str,
        allowed: Sequence[str] | None = None,
        required: Sequence[str] = (),
        what: str = "a mapping",
    ) -> _Map | None:
        """Check a mapping node: keys are text, unique, known (when `allowed` is given)."""
        if not self.tag_ok(node, field):
            return None
        if not isinstance(node, MappingNode):
            self.error(node, field, f"expected {what}, got {describe(node)}")
            return None
        out = _Map(node, field, {}, set())
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                where = field or _ERR_DOCUMENT
                self.error(key_node, where, f"keys must be text, got {describe(key_node)}")
                continue
            key = key_node.value
            key_field = _join(field, key)
            if not self.tag_ok(key_node, key_field):
                continue
            if key == "<<" and key_node.style is None:
                self.error(key_node, key_field, "merge keys (<<) are not supported")
                continue
            if key in out.items:
                first = line_of(out.items[key][0])
                self.error(key_node, key_field, f"duplicate key '{key}' (first at line {first})")
                continue
            if allowed is not None and key not in allowed:
                match = difflib.get_close_matches(key, list(allowed), n=1)
                if match:
                    out.suggested.add(match[0])
                    hint = f" (did you mean '{match[0]}'?)"
                else:
                    hint = f" (allowed: {', '.join(allowed)})"
                self.error(key_node, key_field, f"unknown key '{key}'{hint}")
                continue
            out.items[key] = (key_node, value_node)
        for key in required:
            if key not in out.items and key not in out.suggested:
                self.error(node, _join(field, key), "required key is missing")
        return out

    def sequence(self, node: Node, field: str, what: str = "a list") -> list[Node] | None:
        if not self.tag_ok(node, field):
            return None
        if not isinstance(node, SequenceNode):
            self.error(node, field, f"expected {what}, got {describe(node)}")
            return None
        return list(node.value)

    def convert(self, node: Node, field: str, conv: Conv) -> Any:
        """Convert a present, non-null node; report and return BAD on failure."""
        if not self.tag_ok(node, field):
            return BAD
        try:
            return conv(node)
        except Invalid as exc:
            self.error(node, field, str(exc))
            return BAD

    def required_value(self, node: Node, field: str, conv: Conv) -> Any:
        if is_null(node):
            self.error(node, field, f"a value is required, got {describe(node)}")
            return BAD
        return self.convert(node, field, conv)

    def opt(self, m: _Map, key: str, conv: Conv, default: Any = None) -> Any:
        """The converted value of an optional key: `default` when absent or null."""
        node = m.get(key)
        if node is None or is_null(node):
            return default
        return self.convert(node, _join(m.field, key), conv)

    def req(self, m: _Map, key: str, conv: Conv) -> Any:
        """The converted value of a required key (its absence is reported by `mapping`)."""
        node = m.get(key)
        if node is None:
            return BAD
        return self.required_value(node, _join(m.field, key), conv)

    def in_calendar(self, node: Node, field: str, day: Any) -> None:
        if self.window is None or day is BAD or day is None:
            return
        if not self.window.first <= day <= self.window.last:
            self.error(
                node,
                field,
                f"{day.isoformat()} is outside the calendar ({self.window.text()})",
            )

    def known_ticker(self, node: Node, field: str, ticker: Any) -> None:
        if not self.universe_ok or ticker is BAD or ticker is None:
            return
        if ticker not in self.universe:
            self.error(
                node,
                field,
                f"ticker '{ticker}' is not defined in buckets, the csv or market.paths"
                + _suggest(ticker, sorted(self.universe)),
            )

    def ticker_ref(self, node: Node, field: str, *, allow_any: bool = False) -> Any:
        """A ticker named somewhere (must be defined); '*' when `allow_any`."""
        value = self.required_value(node, field, _ticker if allow_any else _defined_ticker)
        if value != ANY_ASSET:
            self.known_ticker(node, field, value)
        return value

    def known_bucket(self, node: Node, field: str, bucket: Any) -> None:
        if not self.buckets_ok or bucket is BAD or bucket is None:
            return
        if bucket not in self.bucket_names:
            self.error(
                node,
                field,
                f"bucket '{bucket}' is not defined in buckets"
                + _suggest(bucket, self.bucket_names),
            )

    def known_regime(self, node: Node, field: str, regime: Any) -> None:
        if not self.regimes_ok or regime is BAD:
            return
        if regime not in self.regimes:
            hint = _suggest(regime, self.regimes) or f" (known: {', '.join(self.regimes)})"
            self.error(node, field, f"unknown regime '{regime}'{hint}")

    def ticker_list(self, node: Node, field: str, *, nonempty: bool = True) -> Any:
        items = self.sequence(node, field, "a list of tickers")
        if items is None:
            return BAD
        if nonempty and not items:
            self.error(node, field, "expected a non-empty list of tickers")
            return BAD
        out = [self.ticker_ref(item, f"{field}[{i}]") for i, item in enumerate(items)]
        return BAD if BAD in out else out

    def date_pair(self, m: _Map, key: str) -> Window | Any:
        """`between: [start, end]`: two dates (either may be null for open), inside the calendar."""
        node = m.get(key)
        if node is None or is_null(node):
            return Window()
        field = _join(m.field, key)
        items = self.sequence(node, field, "[start, end]")
        if items is None:
            return BAD
        if len(items) != 2:
            self.error(node, field, f"expected [start, end], got a list of {len(items)}")
            return BAD
        ends: list[Any] = []
        for i, item in enumerate(items):
            day = None if is_null(item) else self.convert(item, f"{field}[{i}]", as_date)
            self.in_calendar(item, f"{field}[{i}]", day)
            ends.append(day)
        start, end = ends
        if BAD in ends:
            return BAD
        if start is not None and end is not None and end < start:
            self.error(items[1], f"{field}[1]", f"{end} is before the window start {start}")
            return BAD
        return Window(start=start, end=end)

    def min_max(self, m: _Map, conv: Conv, default_min: Any) -> tuple[Any, Any]:
        """`min`/`max` of a count or metric; `min` defaults to 0 when only `max` is given."""
        low = self.opt(m, "min", conv)
        high = self.opt(m, "max", conv)
        if low is None:
            low = default_min if high is None else 0
        if low is not BAD and high not in (None, BAD) and high < low:
            self.error(m.get("max"), _join(m.field, "max"), f"max ({high}) must be >= min ({low})")
        return low, high

    def plain(self, node: Node, field: str, ancestors: tuple[int, ...] = ()) -> Any:
        """Schema-less conversion (custom protection options): see `yaml_nodes.plain_value`."""
        if id(node) in ancestors:
            self.error(node, field, "a recursive alias is not supported")
            return BAD
        inner = (*ancestors, id(node))
        if isinstance(node, MappingNode):
            m = self.mapping(node, field)
            if m is None:
                return BAD
            return {k: self.plain(v, _join(field, k), inner) for k, (_, v) in m.items.items()}
        if isinstance(node, SequenceNode):
            items = self.sequence(node, field)
            if items is None:
                return BAD
            return [self.plain(v, f"{field}[{i}]", inner) for i, v in enumerate(items)]
        return self.convert(node, field, plain_value)

    # --- the scenario ------------------------------------------------------------------

    def scenario(self, root: Node) -> Scenario | None:
        if not isinstance(root, MappingNode):
            self.error(root, _ERR_DOCUMENT, f"expected a mapping at the top, got {describe(root)}")
            return None
        top = self.mapping(root, "", TOP_KEYS, required=("name", "calendar"))
        if top is None:
            return None
        values: dict[str, Any] = {}
        values["name"] = self.req(top, "name", _pattern(_SCENARIO_NAME, "a name of [a-z0-9-]+"))
        values["description"] = self.opt(top, "description", as_text, "")
        values["seed"] = self.opt(top, "seed", INT_GE0, 0)
        values["cash"] = self.opt(
            top, "cash", _bounded(as_number, lo=0, lo_open=True, hi=MAX_CASH), 1_000_000.0
        )
        values["calendar"] = self.calendar(top)
        values["buckets"] = self.buckets(top)
        market_map, source, csv_path, paths = self.market_universe(top)
        values["regimes"] = self.regime_spec(top)
        values["market"] = self.market_rest(market_map, source, csv_path, paths)
        values["preset"], values["config"] = self.config(top)
        values["assets"] = self.assets(top)
        values["signals"] = self.signals(top)
        values["portfolio"] = self.portfolio(top)
        values["interventions"] = self.interventions(top)
        values["protections"] = self.protections(top)
        values["expect"] = self.expectations(top)
        values["requires"] = self.requires(top)
        if self.problems:
            return None
        buckets = dict(values.pop("buckets"))
        extra = [t for t in values["market"].paths if t not in self.bucket_tickers]
        if extra:
            buckets.setdefault(UNKNOWN_BUCKET, [])
            buckets[UNKNOWN_BUCKET] = [*buckets[UNKNOWN_BUCKET], *extra]
        return Scenario(buckets=buckets, **values)

    def requires(self, top: _Map) -> Any:
        """Files the scenario needs (relative to its directory); a runner skips the scenario
        with a reason when one is absent (see `unmet_requirements`)."""
        node = top.get("requires")
        if node is None or is_null(node):
            return ()
        items = self.sequence(node, "requires", "a list of file paths")
        if items is None:
            return BAD
        return tuple(self.convert(item, f"requires[{i}]", as_text) for i, item in enumerate(items))

    def calendar(self, top: _Map) -> Any:
        node = top.get("calendar")
        if node is None:
            return BAD
        if is_null(node):
            self.error(node, "calendar", f"expected a mapping, got {describe(node)}")
            return BAD
        m = self.mapping(node, "calendar", ("start", "days", "end"), required=("start",))
        if m is None:
            return BAD
        start = self.req(m, "start", as_date)
        days = self.opt(m, "days", _bounded(as_int, lo=1, hi=MAX_CALENDAR_DAYS))
        end = self.opt(m, "end", as_date)
        if days is None and end is None:
            self.error(node, "calendar", "give exactly one of days or end")
            return BAD
        if days is not None and end is not None:
            self.error(node, "calendar", "give days or end, not both")
            return BAD
        if BAD in (start, days, end):
            return BAD
        if end is not None and end < start:
            self.error(m.get("end"), "calendar.end", f"end {end} is before start {start}")
            return BAD
        if end is not None:
            count = int(np.busday_count(start, end + dt.timedelta(days=1)))
            if count > MAX_CALENDAR_DAYS:
                self.error(
                    m.get("end"),
                    "calendar.end",
                    f"{count} trading days from {start} to {end}; at most {MAX_CALENDAR_DAYS}",
                )
                return BAD
        trading = weekdays(start, days=days, end=end)
        if not trading:
            self.error(node, "calendar", f"no trading day (Mon-Fri) from {start} to {end}")
            return BAD
        self.start = start
        self.window = _Window(trading[0], trading[-1])
        return Calendar(start=start, days=days, end=end)

    def buckets(self, top: _Map) -> Any:
        node = top.get("buckets")
        if node is None or is_null(node):
            self.buckets_ok = True
            return {}
        mark = self.mark()
        m = self.mapping(node, "buckets", what="a mapping of bucket -> list of tickers")
        out: dict[str, list[str]] = {}
        if m is not None:
            for bucket, (key_node, value_node) in m.items.items():
                field = _join("buckets", bucket)
                if not bucket.strip():
                    self.error(key_node, "buckets", "a bucket name cannot be empty")
                    continue
                items = self.sequence(value_node, field, "a list of tickers")
                if items is None:
                    continue
                if not items:
                    self.error(value_node, field, "expected a non-empty list of tickers")
                    continue
                tickers: list[str] = []
                for i, item in enumerate(items):
                    item_field = f"{field}[{i}]"
                    ticker = self.required_value(item, item_field, _defined_ticker)
                    if ticker is BAD:
                        continue
                    seen = self.bucket_tickers.get(ticker)
                    if seen is not None:
                        where, line = seen
                        if where == bucket:
                            msg = f"ticker '{ticker}' is listed twice (first at line {line})"
                        else:
                            msg = f"ticker '{ticker}' is already in bucket '{where}' (line {line})"
                        self.error(item, item_field, msg)
                        continue
                    self.bucket_tickers[ticker] = (bucket, line_of(item))
                    self.bucket_index[ticker] = i
                    tickers.append(ticker)
                out[bucket] = tickers
        self.buckets_ok = self.clean_since(mark)
        self.bucket_names = list(out)
        return out if self.buckets_ok else BAD

    # --- market ------------------------------------------------------------------------

    def market_universe(self, top: _Map) -> tuple[_Map | None, Any, Any, Any]:
        """source, csv and paths: what defines the tickers of the run."""
        node = top.get("market")
        m: _Map | None = None
        if node is not None and not is_null(node):
            m = self.mapping(
                node,
                "market",
                (
                    "source",
                    "csv",
                    "drift",
                    "volatility",
                    "correlation",
                    "shocks",
                    "paths",
                    "warmup_days",
                ),
            )
            self.market_invalid = m is None
        universe_mark = self.mark()
        source: Any = "synthetic"
        csv_path: Any = None
        paths: Any = {}
        csv_tickers: set[str] = set()
        if m is not None:
            source = self.opt(m, "source", _choice(("synthetic", "csv")), "synthetic")
            csv_text = self.opt(m, "csv", _nonempty_text)
            if source == "csv" and csv_text is None:
                self.error(m.node, "market.csv", "required when market.source is csv")
            elif source == "synthetic" and csv_text not in (None, BAD):
                self.error(m.get("csv"), "market.csv", "only used with market.source: csv")
            elif source == "csv" and csv_text is not BAD:
                csv_path, csv_tickers = self.csv_file(m.get("csv"), csv_text)
            paths = self.paths(m)
        if source == "synthetic" and self.buckets_ok and not self.bucket_tickers:
            anchor = next((k for k in ("buckets", "market") if top.get(k) is not None), None)
            where = top.key_node(anchor) if anchor is not None else top.node
            self.error(where, "buckets", "a synthetic market needs at least one bucket of tickers")
        self.universe_ok = self.buckets_ok and self.clean_since(universe_mark)
        if csv_path is not None and paths is not BAD:
            for ticker, (bucket, line) in self.bucket_tickers.items():
                if ticker not in csv_tickers and ticker not in paths:
                    index = self.bucket_index[ticker]
                    self.error(
                        line,
                        f"buckets.{bucket}[{index}]",
                        f"ticker '{ticker}' has no prices: it is not in the csv or market.paths",
                    )
        self.universe = set(self.bucket_tickers) | csv_tickers
        if paths is not BAD:
            self.universe |= set(paths)
            unbucketed = any(t not in self.bucket_tickers for t in paths)
            if unbucketed and UNKNOWN_BUCKET not in self.bucket_names:
                self.bucket_names.append(UNKNOWN_BUCKET)
        return m, source, csv_path, paths

    def csv_file(self, node: Node, text: str) -> tuple[str | None, set[str]]:
        """The csv's absolute path and tickers, once its whole content checked clean; a
        csv problem is reported at the csv's own line and column."""
        resolved = (self.base_dir / text).resolve()
        shown = display_path(resolved, self.file)
        if resolved.is_dir():
            self.error(node, "market.csv", f"is a directory, not a csv file: {shown}")
        elif not _exists(resolved, file=True):
            self.error(node, "market.csv", f"file not found: {shown}")
        else:
            try:
                prices = read_price_csv(resolved)
            except CsvError as exc:
                self.problems.append(Problem(shown, exc.line, exc.column, exc.message))
            else:
                return str(resolved), set(prices.tickers)
        return None, set()

    def paths(self, m: _Map) -> Any:
        node = m.get("paths")
        if node is None or is_null(node):
            return {}
        pm = self.mapping(node, "market.paths", what="a mapping of ticker -> list of prices")
        if pm is None:
            return BAD
        out: dict[str, Any] = {}
        for ticker, (key_node, value_node) in pm.items.items():
            field = _join("market.paths", ticker)
            if self.convert(key_node, field, _defined_ticker) is BAD:
                out[ticker] = BAD
                continue
            items = self.sequence(value_node, field, "a list of prices")
            if items is None:
                out[ticker] = BAD
                continue
            if not items:
                self.error(value_node, field, "expected a non-empty list of prices")
                out[ticker] = BAD
                continue
            prices = [self.required_value(v, f"{field}[{i}]", PRICE) for i, v in enumerate(items)]
            out[ticker] = BAD if BAD in prices else prices
        return BAD if BAD in out.values() else out

    def market_rest(self, m: _Map | None, source: Any, csv_path: Any, paths: Any) -> Any:
        if m is None:
            return BAD if self.market_invalid else MarketSpec()
        drift = self.level(m, "drift", 0.06, _bounded(as_number, lo=-MAX_DRIFT, hi=MAX_DRIFT))
        volatility = self.level(m, "volatility", 0.20, _bounded(as_number, lo=0, hi=MAX_VOLATILITY))
        correlation = self.correlation(m)
        shocks = self.shocks(m)
        warmup = self.opt(m, "warmup_days", _bounded(as_int, lo=0, hi=MAX_WARMUP_DAYS), 252)
        parts = (source, csv_path, paths, drift, volatility, correlation, shocks, warmup)
        if BAD in parts:
            return BAD
        return MarketSpec(
            source=source,
            csv=csv_path,
            drift=drift,
            volatility=volatility,
            correlation=correlation,
            shocks=shocks,
            paths=paths,
            warmup_days=warmup,
        )

    def level(self, m: _Map, key: str, default: float, conv: Conv) -> Any:
        """drift / volatility: a number, or {default, <bucket or ticker>: n, by_regime}."""
        node = m.get(key)
        field = _join("market", key)
        if node is None or is_null(node):
            return LevelSpec(default=default)
        if not isinstance(node, MappingNode):
            value = self.convert(node, field, conv)
            return BAD if value is BAD else LevelSpec(default=value)
        lm = self.mapping(node, field)
        if lm is None:
            return BAD
        mark = self.mark()
        by_key: dict[str, Any] = {}
        by_regime: dict[str, dict[str, Any]] = {}
        for name, (key_node, value_node) in lm.items.items():
            name_field = _join(field, name)
            if name == "default":
                default = self.required_value(value_node, name_field, conv)
            elif name == "by_regime":
                rm = self.mapping(value_node, name_field, what="a mapping of regime -> values")
                if rm is None:
                    continue
                for regime, (regime_node, regime_value) in rm.items.items():
                    regime_field = _join(name_field, regime)
                    self.known_regime(regime_node, regime_field, regime)
                    vm = self.mapping(regime_value, regime_field)
                    if vm is None:
                        continue
                    by_regime[regime] = {}
                    for target, (target_node, target_value) in vm.items.items():
                        target_field = _join(regime_field, target)
                        self.level_target(target_node, target_field, target)
                        by_regime[regime][target] = self.required_value(
                            target_value, target_field, conv
                        )
            else:
                self.level_target(key_node, name_field, name)
                by_key[name] = self.required_value(value_node, name_field, conv)
        if not self.clean_since(mark):
            return BAD
        return LevelSpec(default=default, by_key=by_key, by_regime=by_regime)

    def level_target(self, node: Node, field: str, name: str) -> None:
        if not (self.buckets_ok and self.universe_ok):
            return
        if name in self.bucket_names or name in self.universe:
            return
        options = [*self.bucket_names, *sorted(self.universe)]
        self.error(
            node,
            field,
            f"'{name}' is neither a bucket nor a ticker defined in buckets, the csv or"
            f" market.paths{_suggest(name, options)}",
        )

    def correlation(self, m: _Map) -> Any:
        node = m.get("correlation")
        if node is None or is_null(node):
            return CorrelationSpec()
        cm = self.mapping(node, "market.correlation", ("within_bucket", "across_buckets"))
        if cm is None:
            return BAD
        unit = _bounded(as_number, lo=0, hi=1, hi_open=True)
        defaults = CorrelationSpec()
        within = self.opt(cm, "within_bucket", unit, defaults.within_bucket)
        across = self.opt(cm, "across_buckets", unit, defaults.across_buckets)
        if BAD in (within, across):
            return BAD
        if across > within:
            where = (
                cm.get("across_buckets") if cm.has("across_buckets") else cm.get("within_bucket")
            )
            self.error(
                where,
                "market.correlation",
                f"across_buckets ({_fmt(across)}) must be <= within_bucket ({_fmt(within)})",
            )
            return BAD
        return CorrelationSpec(within_bucket=within, across_buckets=across)

    def shocks(self, m: _Map) -> Any:
        node = m.get("shocks")
        if node is None or is_null(node):
            return ()
        items = self.sequence(node, "market.shocks")
        if items is None:
            return BAD
        out: list[Any] = []
        keys = ("date", "return", "days", "assets", "bucket", "all")
        for i, item in enumerate(items):
            field = f"market.shocks[{i}]"
            sm = self.mapping(item, field, keys, required=("date", "return"))
            if sm is None:
                out.append(BAD)
                continue
            mark = self.mark()
            day = self.req(sm, "date", as_date)
            self.in_calendar(sm.get("date") or item, f"{field}.date", day)
            ret = self.req(
                sm, "return", _bounded(as_number, lo=-1, lo_open=True, hi=MAX_SHOCK_RETURN)
            )
            days = self.opt(sm, "days", _bounded(as_int, lo=1, hi=MAX_CALENDAR_DAYS), 1)
            targets = [k for k in ("assets", "bucket") if sm.has(k)]
            all_ = self.opt(sm, "all", as_bool, False)
            if all_ is True:
                targets.append("all")
            if len(targets) != 1:
                got = f"; got {' and '.join(targets)}" if targets else ""
                self.error(
                    item,
                    field,
                    f"a shock needs exactly one target: assets, bucket or all: true{got}",
                )
                out.append(BAD)
                continue
            assets = ()
            if sm.has("assets"):
                assets = self.ticker_list(sm.get("assets"), f"{field}.assets")
            bucket = self.opt(sm, "bucket", _nonempty_text)
            self.known_bucket(sm.get("bucket") or item, f"{field}.bucket", bucket)
            if not self.clean_since(mark):
                out.append(BAD)
                continue
            out.append(
                Shock(date=day, return_=ret, days=days, assets=assets, bucket=bucket, all=all_)
            )
        return BAD if BAD in out else tuple(out)

    # --- regimes -----------------------------------------------------------------------

    def regime_spec(self, top: _Map) -> Any:
        node = top.get("regimes")
        if node is None or is_null(node):
            return RegimeSpec()
        m = self.mapping(node, "regimes", ("source", "timeline", "favored_buckets"))
        if m is None:
            self.regimes_ok = False
            return BAD
        source = self.opt(m, "source", _choice(("scripted", "detected")), "scripted")
        timeline = self.timeline(m, source)
        favored = self.favored(m)
        if BAD in (source, timeline, favored):
            return BAD
        return RegimeSpec(source=source, timeline=timeline, favored_buckets=favored)

    def timeline(self, m: _Map, source: Any) -> Any:
        node = m.get("timeline")
        if node is None or is_null(node):
            return ()
        mark = self.mark()
        items = self.sequence(node, "regimes.timeline")
        if items is None:
            self.regimes_ok = False
            return BAD
        if source == "detected" and items:
            self.error(
                m.key_node("timeline"),
                "regimes.timeline",
                "a timeline is only used with regimes.source: scripted",
            )
        out: list[Any] = []
        previous: tuple[dt.date, int] | None = None
        keys = ("date", "regime", "confidence", "severity", "stability")
        for i, item in enumerate(items):
            field = f"regimes.timeline[{i}]"
            pm = self.mapping(item, field, keys, required=("date", "regime"))
            if pm is None:
                out.append(BAD)
                continue
            day = self.req(pm, "date", as_date)
            date_node = pm.get("date") or item
            self.in_calendar(date_node, f"{field}.date", day)
            if day is not BAD and previous is not None and day <= previous[0]:
                self.error(
                    date_node,
                    f"{field}.date",
                    f"dates must be strictly increasing: {day} is not after {previous[0]}"
                    f" (line {previous[1]})",
                )
            if day is not BAD:
                previous = (day, line_of(date_node))
            regime = self.req(pm, "regime", _nonempty_text)
            confidence = self.opt(pm, "confidence", FRACTION, 1.0)
            severity = self.opt(pm, "severity", _choice(SEVERITIES))
            stability = self.opt(pm, "stability", FRACTION)
            parts = (day, regime, confidence, severity, stability)
            if BAD in parts:
                out.append(BAD)
                continue
            out.append(RegimePoint(*parts))
            if regime not in self.regimes:
                self.regimes.append(regime)
        self.regimes_ok = self.clean_since(mark)
        return tuple(out) if self.regimes_ok else BAD

    def favored(self, m: _Map) -> Any:
        node = m.get("favored_buckets")
        if node is None or is_null(node):
            return None
        fm = self.mapping(node, "regimes.favored_buckets", what="a mapping of regime -> buckets")
        if fm is None:
            return BAD
        mark = self.mark()
        out: dict[str, list[str]] = {}
        for regime, (key_node, value_node) in fm.items.items():
            field = _join("regimes.favored_buckets", regime)
            self.known_regime(key_node, field, regime)
            items = self.sequence(value_node, field, "a list of buckets")
            if items is None:
                continue
            out[regime] = []
            for i, item in enumerate(items):
                bucket = self.required_value(item, f"{field}[{i}]", _nonempty_text)
                self.known_bucket(item, f"{field}[{i}]", bucket)
                out[regime].append(bucket)
        return out if self.clean_since(mark) else BAD

    # --- configuration -----------------------------------------------------------------

    def param(self, key_node: Node, field: str, name: str) -> Any:
        """The registry parameter called `name`; an unknown name is reported (with a hint)."""
        param = PARAMS.get(name)
        if param is None:
            try:
                coerce_param(name, None)
            except ConfigError as exc:
                message = exc.issues[0].message
            else:  # pragma: no cover - the registry rejects unknown names
                message = f"unknown parameter '{name}'"
            self.error(key_node, field, message)
            return BAD
        return param

    def param_value(self, param: Any, value_node: Node, field: str) -> Any:
        """Read a parameter's value by the parameter's type, then let the registry check it."""
        conv = {"bool": as_bool, "int": as_int, "float": as_number}.get(param.type, as_text)
        value = self.required_value(value_node, field, conv)
        if value is BAD:
            return BAD
        try:
            return coerce_param(param.name, value)
        except ConfigError as exc:
            message = exc.issues[0].message
            # the field path already names the parameter
            message = message.removeprefix(f"{param.name}: ")
            self.error(value_node, field, message)
            return BAD

    def config(self, top: _Map) -> tuple[Any, Any]:
        preset = self.opt(top, "preset", as_text)
        if preset not in (None, BAD) and preset not in PRESETS:
            names = sorted(PRESETS)
            hint = _suggest(preset, names) or f" (known: {', '.join(names)})"
            self.error(top.get("preset"), "preset", f"unknown preset '{preset}'{hint}")
            preset = BAD
        node = top.get("config")
        overrides: dict[str, Any] = {}
        mark = self.mark()
        if node is not None and not is_null(node):
            m = self.mapping(node, "config", what="a mapping of parameter -> value")
            if m is None:
                return preset, BAD
            for name, (key_node, value_node) in m.items.items():
                field = _join("config", name)
                param = self.param(key_node, field, name)
                if param is not BAD:
                    overrides[name] = self.param_value(param, value_node, field)
        if not self.clean_since(mark) or preset is BAD:
            return preset, BAD
        try:
            resolve(preset, overrides)
        except ConfigError as exc:
            if node is not None:
                where = top.key_node("config")
            elif top.get("preset") is not None:
                where = top.key_node("preset")
            else:
                where = top.node
            for issue in exc.issues:
                self.error(where, "config", issue.message)
            return preset, BAD
        self.base_config = (preset, overrides)
        return preset, overrides

    # --- assets, signals, portfolio ----------------------------------------------------

    def assets(self, top: _Map) -> Any:
        node = top.get("assets")
        if node is None or is_null(node):
            return {}
        m = self.mapping(node, "assets", what="a mapping of ticker -> attributes")
        if m is None:
            return BAD
        mark = self.mark()
        out: dict[str, AssetSpec] = {}
        for ticker, (key_node, value_node) in m.items.items():
            field = _join("assets", ticker)
            self.known_ticker(key_node, field, ticker)
            if is_null(value_node):
                out[ticker] = AssetSpec()
                continue
            am = self.mapping(value_node, field, ("fundamental", "start_price"))
            if am is None:
                continue
            fundamental = self.opt(am, "fundamental", FRACTION)
            start_price = self.opt(am, "start_price", PRICE, 100.0)
            if BAD not in (fundamental, start_price):
                out[ticker] = AssetSpec(fundamental=fundamental, start_price=start_price)
        return out if self.clean_since(mark) else BAD

    def signals(self, top: _Map) -> Any:
        node = top.get("signals")
        if node is None or is_null(node):
            return Signals()
        m = self.mapping(node, "signals", ("scores", "trending"))
        if m is None:
            return BAD
        lists = {key: self.overrides(m, key) for key in ("scores", "trending")}
        if BAD in lists.values():
            return BAD
        return Signals(**lists)

    def overrides(self, m: _Map, key: str) -> Any:
        node = m.get(key)
        if node is None or is_null(node):
            return ()
        items = self.sequence(node, _join("signals", key))
        if items is None:
            return BAD
        mark = self.mark()
        out: list[SignalOverride] = []
        for i, item in enumerate(items):
            field = f"signals.{key}[{i}]"
            om = self.mapping(
                item, field, ("asset", "from", "to", "value"), required=("asset", "from", "value")
            )
            if om is None:
                continue
            asset_node = om.get("asset")
            asset = BAD if asset_node is None else self.ticker_ref(asset_node, f"{field}.asset")
            start = self.req(om, "from", as_date)
            self.in_calendar(om.get("from") or item, f"{field}.from", start)
            end = self.opt(om, "to", as_date)
            self.in_calendar(om.get("to") or item, f"{field}.to", end)
            if start is not BAD and end not in (None, BAD) and end < start:
                self.error(om.get("to"), f"{field}.to", f"to {end} is before from {start}")
            value = self.req(om, "value", FRACTION)
            if BAD not in (asset, start, end, value):
                out.append(SignalOverride(asset=asset, from_=start, value=value, to=end))
        return tuple(out) if self.clean_since(mark) else BAD

    def portfolio(self, top: _Map) -> Any:
        node = top.get("portfolio")
        if node is None or is_null(node):
            return {}
        m = self.mapping(node, "portfolio", what="a mapping of ticker -> holding")
        if m is None:
            return BAD
        mark = self.mark()
        out: dict[str, Holding] = {}
        for ticker, (key_node, value_node) in m.items.items():
            field = _join("portfolio", ticker)
            self.known_ticker(key_node, field, ticker)
            hm = self.mapping(
                value_node, field, ("weight", "entered", "core"), required=("weight",)
            )
            if hm is None:
                continue
            weight = self.req(hm, "weight", _bounded(as_number, lo=0, lo_open=True, hi=1))
            entered = self.opt(hm, "entered", as_date)
            if entered not in (None, BAD) and self.start is not None and entered > self.start:
                self.error(
                    hm.get("entered"),
                    f"{field}.entered",
                    f"entered {entered} is after calendar.start {self.start}",
                )
            core = self.opt(hm, "core", as_bool, False)
            if BAD not in (weight, entered, core):
                out[ticker] = Holding(weight=weight, entered=entered, core=core)
        if not self.clean_since(mark):
            return BAD
        total = sum(h.weight for h in out.values())
        if total > 1 + WEIGHT_SUM_TOLERANCE:
            self.error(
                top.key_node("portfolio"), "portfolio", f"weights sum to {_fmt(total)}, above 1"
            )
            return BAD
        return out

    # --- interventions -----------------------------------------------------------------

    def interventions(self, top: _Map) -> Any:
        node = top.get("interventions")
        if node is None or is_null(node):
            return ()
        items = self.sequence(node, "interventions")
        if items is None:
            return BAD
        mark = self.mark()
        out: list[Intervention] = []
        keys = ("date", "action", "asset", "days", "reason", "param", "value")
        for i, item in enumerate(items):
            field = f"interventions[{i}]"
            im = self.mapping(item, field, keys, required=("date", "action"))
            if im is None:
                continue
            day = self.req(im, "date", as_date)
            self.in_calendar(im.get("date") or item, f"{field}.date", day)
            action = self.req(im, "action", _choice(INTERVENTION_ACTIONS))
            reason = self.opt(im, "reason", as_text, "manual intervention")
            if action is BAD:
                continue
            needed = self.action_keys(im, item, action)
            asset = days = param = value = None
            if "asset" in needed and im.has("asset"):
                asset = self.ticker_ref(im.get("asset"), f"{field}.asset")
            if "days" in needed:
                days = self.opt(im, "days", _bounded(as_int, lo=1, hi=MAX_DURATION_DAYS))
            if action == "set" and im.has("param"):
                param = self.convert(im.get("param"), f"{field}.param", _nonempty_text)
                if param is not BAD:
                    spec = self.param(im.get("param"), f"{field}.param", param)
                    if spec is BAD:
                        param = BAD
                    elif im.has("value"):
                        value = self.param_value(spec, im.get("value"), f"{field}.value")
            if BAD not in (day, asset, days, param, value, reason):
                out.append(
                    Intervention(
                        date=day,
                        action=action,
                        asset=asset,
                        days=days,
                        reason=reason,
                        param=param,
                        value=value,
                    )
                )
        if not self.clean_since(mark):
            return BAD
        self.check_set_sequence(items, out)
        return tuple(out) if self.clean_since(mark) else BAD

    def action_keys(self, im: _Map, item: Node, action: str) -> tuple[str, ...]:
        """The keys `action` needs; report the missing ones and the ones it does not use."""
        if action == "set":
            needed, unused = ("param", "value"), ("asset", "days")
        elif action == "extend_core":
            needed, unused = ("asset", "days"), ("param", "value")
        else:
            needed, unused = ("asset",), ("days", "param", "value")
        for key in needed:
            if not im.has(key):
                self.error(item, f"{im.field}.{key}", f"required for action {action}")
        for key in unused:
            if im.get(key) is not None:
                self.error(im.key_node(key), f"{im.field}.{key}", f"not used with action {action}")
        return needed

    def check_set_sequence(self, items: list[Node], out: list[Intervention]) -> None:
        """Apply the `set` interventions in date order: each must leave a valid configuration."""
        if self.base_config is None:
            return
        preset, overrides = self.base_config
        current = dict(overrides)
        # every item produced one intervention (the list is clean), so indices match
        order = sorted(range(len(out)), key=lambda i: out[i].date)  # stable: file order per day
        for i in order:
            change = out[i]
            if change.action != "set":
                continue
            current[change.param] = change.value
            try:
                resolve(preset, current)
            except ConfigError as exc:
                value_node = next(v for k, v in items[i].value if k.value == "value")
                for issue in exc.issues:
                    self.error(value_node, f"interventions[{i}].value", issue.message)
                return

    # --- protections -------------------------------------------------------------------

    def protections(self, top: _Map) -> Any:
        node = top.get("protections")
        if node is None or is_null(node):
            return Protections()
        m = self.mapping(node, "protections", (*BUILTIN_PROTECTIONS, "custom"))
        if m is None:
            self.custom_ok = False
            return BAD
        mark = self.mark()
        enabled = {name: True for name in BUILTIN_PROTECTIONS}
        for name in BUILTIN_PROTECTIONS:
            pnode = m.get(name)
            if pnode is None:
                continue
            pm = self.mapping(pnode, _join("protections", name), ("enabled",))
            if pm is not None:
                enabled[name] = self.opt(pm, "enabled", as_bool, True)
        custom = self.custom(m)
        if not self.clean_since(mark):
            return BAD
        return Protections(enabled=enabled, custom=custom)

    def custom(self, m: _Map) -> Any:
        node = m.get("custom")
        if node is None or is_null(node):
            return ()
        mark = self.mark()
        items = self.sequence(node, "protections.custom")
        if items is None:
            self.custom_ok = False
            return BAD
        out: list[CustomProtection] = []
        seen: dict[str, int] = {}
        keys = ("name", "class", "priority", "options", "enabled")
        for i, item in enumerate(items):
            field = f"protections.custom[{i}]"
            cm = self.mapping(item, field, keys, required=("name", "class"))
            if cm is None:
                continue
            name = self.custom_name(cm, seen)
            class_path = self.req(cm, "class", _pattern(_CLASS_PATH, "module.path:ClassName"))
            if class_path is not BAD:
                try:
                    load_protection_class(class_path, self.base_dir)
                except (ImportError, TypeError) as exc:
                    self.error(cm.get("class"), f"{field}.class", str(exc))
            priority = self.opt(cm, "priority", _bounded(as_int, lo=6, hi=MAX_INT), 6)
            options: Any = {}
            if cm.has("options"):
                opts = cm.get("options")
                if isinstance(opts, MappingNode):
                    options = self.plain(opts, f"{field}.options")
                else:
                    self.error(
                        opts, f"{field}.options", f"expected a mapping, got {describe(opts)}"
                    )
            enabled = self.opt(cm, "enabled", as_bool, True)
            if BAD not in (name, class_path, priority, enabled):
                out.append(
                    CustomProtection(
                        name=name,
                        class_path=class_path,
                        priority=priority,
                        options=options,
                        enabled=enabled,
                    )
                )
        self.custom_ok = self.clean_since(mark)
        return tuple(out) if self.custom_ok else BAD

    def custom_name(self, cm: _Map, seen: dict[str, int]) -> Any:
        """A custom protection's name: not reserved, not seen before (`seen`: name -> line)."""
        name = self.req(cm, "name", _pattern(_PROTECTION_NAME, "a name of [a-z_][a-z0-9_]*"))
        if name is BAD:
            return BAD
        name_node, field = cm.get("name"), f"{cm.field}.name"
        if name in RESERVED_NAMES:
            kind = "a built-in protection" if name in BUILTIN_PROTECTIONS else "reserved"
            self.error(name_node, field, f"'{name}' is {kind}; choose another")
        elif name in seen:
            self.error(
                name_node,
                field,
                f"duplicate custom protection name '{name}' (first at line {seen[name]})",
            )
        else:
            seen[name] = line_of(name_node)
            self.custom_names.append(name)
        return name

    # --- expectations ------------------------------------------------------------------

    def expectations(self, top: _Map) -> Any:
        node = top.get("expect")
        if node is None or is_null(node):
            return ()
        items = self.sequence(node, "expect")
        if items is None:
            return BAD
        mark = self.mark()
        out: list[Expectation] = []
        for i, item in enumerate(items):
            field = f"expect[{i}]"
            em = self.mapping(item, field, EXPECT_KINDS)
            if em is None:
                continue
            kinds = list(em.items)
            if len(kinds) > 1:
                self.error(
                    item,
                    field,
                    f"an expectation has exactly one kind, got {' and '.join(kinds)}",
                )
                continue
            if not kinds:
                if not em.suggested and len(em.node.value) == 0:
                    self.error(item, field, f"expected one of {', '.join(EXPECT_KINDS)}")
                continue
            kind = kinds[0]
            parse = getattr(self, f"expect_{kind}")
            result = parse(em.get(kind), _join(field, kind), line_of(item))
            if result is not BAD:
                out.append(result)
        return tuple(out) if self.clean_since(mark) else BAD

    def expect_never(self, node: Node, field: str, line: int) -> Any:
        m = self.mapping(node, field, ("action", "asset", "between"), required=("action", "asset"))
        if m is None:
            return BAD
        action = self.req(m, "action", _choice(ACTIONS))
        asset_node = m.get("asset")
        asset = BAD
        if asset_node is not None:
            asset = self.ticker_ref(asset_node, f"{field}.asset", allow_any=True)
        between = self.date_pair(m, "between")
        if BAD in (action, asset, between):
            return BAD
        return ExpectNever(action=action, asset=asset, between=between, line=line)

    def optional_asset(self, m: _Map) -> Any:
        """An optional asset of an expectation: None (or '*') means any asset."""
        if not m.has("asset"):
            return None
        asset = self.ticker_ref(m.get("asset"), _join(m.field, "asset"), allow_any=True)
        return None if asset == ANY_ASSET else asset

    def expect_notice(self, node: Node, field: str, line: int) -> Any:
        keys = ("event", "asset", "between", "min", "max")
        m = self.mapping(node, field, keys, required=("event",))
        if m is None:
            return BAD
        event = self.req(m, "event", _pattern(_SNAKE, "an event name of [a-z_]+"))
        asset = self.optional_asset(m)
        between = self.date_pair(m, "between")
        low, high = self.min_max(m, INT_GE0, 1)
        parts = (event, asset, between, low, high)
        if BAD in parts:
            return BAD
        return ExpectNotice(event=event, asset=asset, between=between, min=low, max=high, line=line)

    def expect_decision(self, node: Node, field: str, line: int) -> Any:
        keys = ("action", "asset", "outcome", "decided_by", "between", "min", "max")
        m = self.mapping(node, field, keys)
        if m is None:
            return BAD
        action = self.opt(m, "action", _choice(ACTIONS))
        asset = self.optional_asset(m)
        outcome = self.opt(m, "outcome", _choice(OUTCOMES))
        decided_by = self.opt(m, "decided_by", _nonempty_text)
        if decided_by not in (None, BAD) and self.custom_ok:
            systems = [*DECIDING_SYSTEMS, *self.custom_names]
            if decided_by not in systems:
                hint = _suggest(decided_by, systems) or f" (known: {', '.join(systems)})"
                self.error(
                    m.get("decided_by"),
                    f"{field}.decided_by",
                    f"unknown system '{decided_by}'{hint}",
                )
                decided_by = BAD
        between = self.date_pair(m, "between")
        low, high = self.min_max(m, INT_GE0, 1)
        parts = (action, asset, outcome, decided_by, between, low, high)
        if BAD in parts:
            return BAD
        return ExpectDecision(
            action=action,
            asset=asset,
            outcome=outcome,
            decided_by=decided_by,
            between=between,
            min=low,
            max=high,
            line=line,
        )

    def expect_final(self, node: Node, field: str, line: int) -> Any:
        keys = ("holdings_include", "holdings_exclude", "equity_min", "equity_max")
        m = self.mapping(node, field, keys)
        if m is None:
            return BAD
        if not any(m.has(k) for k in keys):
            self.error(node, field, f"give at least one of {', '.join(keys)}")
            return BAD
        include: Any = []
        exclude: Any = []
        if m.has("holdings_include"):
            include = self.ticker_list(m.get("holdings_include"), f"{field}.holdings_include")
        if m.has("holdings_exclude"):
            exclude = self.ticker_list(m.get("holdings_exclude"), f"{field}.holdings_exclude")
        if include is not BAD and exclude is not BAD:
            items = m.get("holdings_exclude").value if exclude else []
            for i, (ticker, item) in enumerate(zip(exclude, items, strict=True)):
                if ticker in include:
                    self.error(
                        item,
                        f"{field}.holdings_exclude[{i}]",
                        f"'{ticker}' is also in holdings_include",
                    )
                    exclude = BAD
        low = self.opt(m, "equity_min", NON_NEGATIVE)
        high = self.opt(m, "equity_max", NON_NEGATIVE)
        if low not in (None, BAD) and high not in (None, BAD) and high < low:
            self.error(
                m.get("equity_max"),
                f"{field}.equity_max",
                f"equity_max ({_fmt(high)}) must be >= equity_min ({_fmt(low)})",
            )
            high = BAD
        if BAD in (include, exclude, low, high):
            return BAD
        return ExpectFinal(
            holdings_include=include,
            holdings_exclude=exclude,
            equity_min=low,
            equity_max=high,
            line=line,
        )

    def expect_metric(self, node: Node, field: str, line: int) -> Any:
        m = self.mapping(node, field, ("name", "min", "max"), required=("name",))
        if m is None:
            return BAD
        name = self.req(m, "name", _pattern(_SNAKE, "a metric name of [a-z_]+"))
        if name is not BAD and name not in METRICS:
            known = sorted(METRICS)
            hint = _suggest(name, known) or f" (known: {', '.join(known)})"
            self.error(m.get("name"), f"{field}.name", f"unknown metric '{name}'{hint}")
            name = BAD
        if not m.has("min") and not m.has("max"):
            self.error(node, field, "give min, max or both")
            return BAD
        low = self.opt(m, "min", as_number)
        high = self.opt(m, "max", as_number)
        if low not in (None, BAD) and high not in (None, BAD) and high < low:
            self.error(
                m.get("max"), f"{field}.max", f"max ({_fmt(high)}) must be >= min ({_fmt(low)})"
            )
            high = BAD
        if BAD in (name, low, high):
            return BAD
        return ExpectMetric(name=name, min=low, max=high, line=line)

    def expect_sql(self, node: Node, field: str, line: int) -> Any:
        m = self.mapping(node, field, ("label", "query"), required=("label", "query"))
        if m is None:
            return BAD
        label = self.req(m, "label", _nonempty_text)
        query = self.req(m, "query", _nonempty_text)
        if query is not BAD and not _SQL_START.match(query):
            self.error(m.get("query"), f"{field}.query", "expected a SELECT (or WITH) query")
            query = BAD
        if query is not BAD:
            problem = readonly_select_problem(query)
            if problem is not None:
                self.error(m.get("query"), f"{field}.query", problem)
                query = BAD
        if BAD in (label, query):
            return BAD
        return ExpectSql(label=label, query=query, line=line)


# --- helpers outside the walk -------------------------------------------------------


def load_protection_class(class_path: str, base_dir: str | os.PathLike[str]) -> type[Protection]:
    """Import a custom protection `module.path:ClassName` with `base_dir` first on sys.path.

    The loader checks every custom protection with this; the model can use it to get the
    class (pass the scenario file's directory). sys.path is restored afterwards. Imported
    modules stay in `sys.modules`, so module names are global to the process.

    Raises:
        ImportError: the module cannot be imported or has no such attribute.
        TypeError: the attribute is not a subclass of Protection.
    """
    module_name, _, class_name = class_path.partition(":")
    entry = str(base_dir)
    sys.path.insert(0, entry)
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ImportError(f"cannot import '{class_path}': {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(entry)  # the first occurrence: the one inserted above
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ImportError(
            f"cannot import '{class_path}': module '{module_name}' has no '{class_name}'"
        )
    if not (isinstance(cls, type) and issubclass(cls, Protection)):
        raise TypeError(f"'{class_path}' is not a subclass of domain.protections.base.Protection")
    return cls
