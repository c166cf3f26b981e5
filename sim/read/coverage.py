"""Rule and parameter coverage of recorded runs: which catalogue rules decided something in
which scenario, which rules none exercised, and which parameters no run set off its default.

SQL over the event DB (docs/event-db.md, "Rules"). A rule is **exercised** by a run when at
least one of the run's messages names it (`EXERCISING_KINDS`), or, for the configuration's
rules, when the run's configuration shows it acted:

- any message's `rule` (a verdict's for every stance but abstain, whose `rule` is null; a
  decision's, a notice's, a score update's `scoring.score`, a re-plan request's
  `resolution.replan`, a bucket override's core request `construction.override_core_request`),
- every value of any message's `rules` list (a fill's execution rules, a regime update's,
  a decision's `resolution.override_cooldown`, a rebalance notice's limit rules),
- a proposal's `components.rule` and every value of its `components.rules` (the plan's
  stage rules, e.g. `sizing.cap`, `trades.min_trade`, record their effect only there),
- `config` (`config_rules`): `configuration.diversification_mode` when the run's
  `diversification_mode` clamps (strict or aggressive); `configuration.combinations` when
  the run's configuration holds one of that rule's parameters off its default (the
  combination checks accepted a combination the defaults do not make). These rules act at
  load time, before any message.

A parameter is **set** by a run when the run's configuration (`runs.config`, every
parameter in force at the start: defaults, preset, the file's `config`, `--set`, the
diversification-mode clamps) holds a value other than the registry default.
`python run.py coverage DIR` prints it; docs/stress-testing.md, "Rule coverage", reads it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from domain.catalogue import catalogue
from domain.config import PARAMS, Param
from domain.rules import COMBINATIONS, DIVERSIFICATION_MODE, Rule
from sim.read.queries import open_readonly, query
from sim.run.dbfile import tidy

EXERCISING_KINDS: tuple[str, ...] = (
    "verdict",
    "decision",
    "notice",
    "proposal",
    "fill",
    "score_update",
    "regime_update",
    "replan_request",
    "core_request",
    "config",
)
"""Where a rule can be named: the message kinds whose `rule`, `rules` (a proposal:
`components.rule`, `components.rules`) name it, and `config` (`config_rules`)."""

RULE_KINDS_SQL = """
SELECT DISTINCT rule, kind FROM (
    SELECT json_extract(payload, '$.rule') AS rule, kind FROM messages
     WHERE run_id = :run
    UNION ALL
    SELECT r.value, m.kind FROM messages m, json_each(m.payload, '$.rules') r
     WHERE m.run_id = :run AND json_type(m.payload, '$.rules') = 'array'
    UNION ALL
    SELECT json_extract(payload, '$.components.rule'), kind FROM messages
     WHERE run_id = :run AND kind = 'proposal'
    UNION ALL
    SELECT r.value, m.kind FROM messages m, json_each(m.payload, '$.components.rules') r
     WHERE m.run_id = :run AND m.kind = 'proposal'
) WHERE rule IS NOT NULL
"""
"""Each (rule id, message kind) that names a rule in one run (`:run`)."""

CLAMPING_MODES: frozenset[str] = frozenset({"strict", "aggressive"})
"""The diversification modes whose clamps `configuration.diversification_mode` applies."""


def config_rules(
    config: Mapping[str, Any], params: Mapping[str, Param] = PARAMS
) -> tuple[str, ...]:
    """The configuration rules a run's configuration (`runs.config`) shows acting: the
    diversification mode's clamps (a clamping mode), the combination checks (one of
    their parameters off its default)."""
    out = []
    if config.get("diversification_mode") in CLAMPING_MODES:
        out.append(DIVERSIFICATION_MODE.id)
    moved = set(params_off_default(config, params))
    if moved & set(COMBINATIONS.params):
        out.append(COMBINATIONS.id)
    return tuple(out)


@attrs.frozen
class RunCoverage:
    """What one recorded run exercised.

    Attributes:
        scenario: the scenario's name (`runs.scenario`).
        run_id: the run.
        db: the event database holding it.
        rules: rule id -> the message kinds that named it, in `EXERCISING_KINDS` order.
        params_set: the registry parameters the run held at a non-default value.
    """

    scenario: str
    run_id: str
    db: str
    rules: Mapping[str, tuple[str, ...]]
    params_set: tuple[str, ...]


def params_off_default(
    config: Mapping[str, Any], params: Mapping[str, Param] = PARAMS
) -> tuple[str, ...]:
    """The parameters of `params` whose value in `config` differs from the default, in
    registry order (a name `config` lacks counts as default)."""
    return tuple(n for n, p in params.items() if n in config and config[n] != p.default)


def read_run(con: sqlite3.Connection, run_id: str, db: str = "") -> RunCoverage:
    """The coverage of one run of an open event database."""
    kinds: dict[str, set[str]] = {}
    for rule, kind in con.execute(RULE_KINDS_SQL, {"run": run_id}):
        kinds.setdefault(rule, set()).add(kind)
    head = query(con, "SELECT scenario, config FROM runs WHERE run_id = ?", [run_id])[0]
    config = json.loads(head["config"]) if head["config"] else {}
    for rule in config_rules(config):
        kinds.setdefault(rule, set()).add("config")
    ordered = {r: tuple(k for k in EXERCISING_KINDS if k in ks) for r, ks in kinds.items()}
    return RunCoverage(head["scenario"], run_id, db, ordered, params_off_default(config))


def latest_runs(con: sqlite3.Connection) -> dict[str, str]:
    """scenario name -> the id of its latest run in an open event database."""
    rows = query(con, "SELECT scenario, run_id FROM runs ORDER BY started_at, rowid")
    return {row["scenario"]: row["run_id"] for row in rows}


def read_db(db: str, scenarios: Iterable[str] | None = None) -> list[RunCoverage]:
    """The coverage of the latest run of each scenario in the event database `db` (only
    those named in `scenarios`, when given), by scenario name."""
    with contextlib.closing(open_readonly(db)) as con:
        latest = latest_runs(con)
        wanted = sorted(latest if scenarios is None else set(scenarios) & set(latest))
        return [read_run(con, latest[name], db) for name in wanted]


def read_recorded(runs: Iterable[tuple[str, str]]) -> list[RunCoverage]:
    """The coverage of each (event database, run id) of runs this process just made; as
    after a run (`sim.api.run_prepared`), no -wal or -shm file is left beside a database."""
    out = []
    for db, run_id in runs:
        with contextlib.closing(open_readonly(db)) as con:
            out.append(read_run(con, run_id, db))
        tidy(db)
    return out


@attrs.frozen
class RuleCoverage:
    """One catalogue rule across the runs.

    Attributes:
        rule: the catalogue rule.
        scenarios: the scenarios whose run exercised it, sorted.
        kinds: the message kinds that named it in any of them, in `EXERCISING_KINDS` order.
    """

    rule: Rule
    scenarios: tuple[str, ...]
    kinds: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """id, owner, scenarios, kinds."""
        r = self.rule
        return {
            "id": r.id,
            "owner": r.owner,
            "scenarios": list(self.scenarios),
            "kinds": list(self.kinds),
        }


@attrs.frozen
class Coverage:
    """Rule and parameter coverage of a set of runs (`coverage_of`).

    Attributes:
        scenarios: the scenarios counted, sorted.
        rules: every catalogue rule, in catalogue order.
        uncatalogued: rule ids the runs named that the catalogue lacks (a custom
            protection's, or a stale id) -> the scenarios naming them.
        params_set: parameter -> the scenarios whose run held it off its default, for
            every parameter of the registry (empty tuple: no scenario set it).
    """

    scenarios: tuple[str, ...]
    rules: tuple[RuleCoverage, ...]
    uncatalogued: Mapping[str, tuple[str, ...]]
    params_set: Mapping[str, tuple[str, ...]]

    @property
    def exercised(self) -> tuple[str, ...]:
        """The ids of the rules some scenario exercised, in catalogue order."""
        return tuple(r.rule.id for r in self.rules if r.scenarios)

    @property
    def unexercised(self) -> tuple[str, ...]:
        """The ids of the rules no scenario exercised, in catalogue order."""
        return tuple(r.rule.id for r in self.rules if not r.scenarios)

    @property
    def params_unset(self) -> tuple[str, ...]:
        """The parameters no scenario set off its default, in registry order."""
        return tuple(name for name, found in self.params_set.items() if not found)

    def score_line(self) -> str:
        """`rules exercised: 65/65; parameters set off their default: 32/64`."""
        params = len(self.params_set) - len(self.params_unset)
        return (
            f"rules exercised: {len(self.exercised)}/{len(self.rules)};"
            f" parameters set off their default: {params}/{len(self.params_set)}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `run.py coverage --json` (without its `not_run` list)."""
        return {
            "scenarios": list(self.scenarios),
            "rules": [r.as_dict() for r in self.rules],
            "exercised": len(self.exercised),
            "total": len(self.rules),
            "unexercised": list(self.unexercised),
            "uncatalogued": {k: list(v) for k, v in self.uncatalogued.items()},
            "params_set": {k: list(v) for k, v in self.params_set.items() if v},
            "params_unset": list(self.params_unset),
            "score": self.score_line(),
        }


def coverage_of(
    runs: Iterable[RunCoverage],
    rules: Sequence[Rule] | None = None,
    params: Mapping[str, Param] = PARAMS,
) -> Coverage:
    """Join runs' coverage against the rule catalogue (default the built-in one,
    `domain.catalogue.catalogue()`) and the parameter registry."""
    rules = catalogue() if rules is None else rules
    runs = list(runs)
    by_rule: dict[str, set[str]] = {}
    kinds: dict[str, set[str]] = {}
    for run in runs:
        for rule, ks in run.rules.items():
            by_rule.setdefault(rule, set()).add(run.scenario)
            kinds.setdefault(rule, set()).update(ks)
    rows = tuple(
        RuleCoverage(
            r,
            tuple(sorted(by_rule.get(r.id, ()))),
            tuple(k for k in EXERCISING_KINDS if k in kinds.get(r.id, ())),
        )
        for r in rules
    )
    known = {r.id for r in rules}
    extra = {i: tuple(sorted(s)) for i, s in sorted(by_rule.items()) if i not in known}
    set_by = {
        name: tuple(sorted(run.scenario for run in runs if name in run.params_set))
        for name in params
    }
    return Coverage(tuple(sorted({run.scenario for run in runs})), rows, extra, set_by)
