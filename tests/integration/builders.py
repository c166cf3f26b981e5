"""Scenario builders and event-DB queries for model-level rule tests.

Scenarios are built directly as `domain.scenario.Scenario` objects: flat explicit price
paths (so weights only move when something trades) and scripted scores and trending
confidences, day by day, so that the portfolio manager opens, keeps or closes exactly
when a test wants it to. Days are given as calendar-day offsets from `MONDAY`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils

from domain.config import resolve
from domain.protections.registry import BUILTIN, Registry
from domain.scenario import (
    Calendar,
    Holding,
    Intervention,
    MarketSpec,
    Protections,
    RegimePoint,
    RegimeSpec,
    Scenario,
    SignalOverride,
    Signals,
)
from sim.compose import build_model
from sim.read.checks import check_invariants, connect_readonly
from sim.run.model import BulwarkModel
from sim.run.recorder import Recorder, open_db

MONDAY = dt.date(2024, 1, 1)
"""The first simulated day of every built scenario (a Monday)."""

RUN_ID = "t"
FLAT_PRICE = 100.0


def day(n: int) -> dt.date:
    """The calendar day `n` days after `MONDAY`."""
    return MONDAY + dt.timedelta(days=n)


def iso(n: int) -> str:
    """`day(n)` as an ISO string (the `date` column of the event DB)."""
    return day(n).isoformat()


def script(asset: str, *segments: tuple[int, float]) -> tuple[SignalOverride, ...]:
    """Piecewise-constant scripted values of one asset.

    Args:
        asset: the ticker.
        segments: (first day offset, value) pairs in ascending day order; each value holds
            until the day before the next segment, the last one to the end of the run.

    Returns:
        The signal overrides, ready for `Signals(scores=...)` or `Signals(trending=...)`.
    """
    out = []
    for i, (start, value) in enumerate(segments):
        end = day(segments[i + 1][0] - 1) if i + 1 < len(segments) else None
        out.append(SignalOverride(asset=asset, from_=day(start), value=value, to=end))
    return tuple(out)


def make_scenario(
    *,
    assets: Sequence[str],
    days: int = 15,
    paths: Mapping[str, Sequence[float]] | None = None,
    buckets: Mapping[str, Sequence[str]] | None = None,
    portfolio: Mapping[str, Holding] | None = None,
    scores: Iterable[SignalOverride] = (),
    trending: Iterable[SignalOverride] = (),
    regimes: Iterable[RegimePoint] = (),
    interventions: Iterable[Intervention] = (),
    enabled: Mapping[str, bool] | None = None,
    name: str = "rules",
) -> Scenario:
    """A small scenario from `MONDAY` over `days` trading days.

    Every asset in `assets` has a flat close of 100 unless `paths` gives it one. Assets
    without a bucket are in "Unknown". The regime is Goldilocks unless `regimes` says
    otherwise; protections are all on unless `enabled` switches some off.
    """
    all_paths = {asset: (FLAT_PRICE,) for asset in assets}
    all_paths.update({asset: tuple(values) for asset, values in (paths or {}).items()})
    switches = {"core_asset": True, "grace_period": True, "holding_period": True, "whipsaw": True}
    switches.update(enabled or {})
    return Scenario(
        name=name,
        calendar=Calendar(start=MONDAY, days=days),
        seed=7,
        buckets={k: tuple(v) for k, v in (buckets or {}).items()},
        market=MarketSpec(paths=all_paths, warmup_days=60),
        regimes=RegimeSpec(timeline=(RegimePoint(MONDAY, "Goldilocks", confidence=1.0), *regimes)),
        signals=Signals(scores=tuple(scores), trending=tuple(trending)),
        portfolio=dict(portfolio or {}),
        interventions=tuple(interventions),
        protections=Protections(enabled=switches),
    )


def open_close_reopen(
    asset: str = "W",
    *,
    days: int = 8,
    close_on: int = 3,
    reopen_on: int = 4,
    enabled: Mapping[str, bool] | None = None,
    **kwargs: Any,
) -> Scenario:
    """`asset` is opened on `MONDAY`, closed on day `close_on` (its score drops below the
    keep threshold) and wanted again from day `reopen_on` (score back above the entry
    threshold). Grace is off unless `enabled` says otherwise, so the close is immediate.
    Other keyword arguments go to `make_scenario`."""
    switches = {"grace_period": False, **(enabled or {})}
    return make_scenario(
        assets=(asset, *kwargs.pop("assets", ())),
        days=days,
        scores=(
            *script(asset, (0, 0.9), (close_on, 0.3), (reopen_on, 0.9)),
            *kwargs.pop("scores", ()),
        ),
        trending=(*script(asset, (0, 0.9)), *kwargs.pop("trending", ())),
        enabled=switches,
        **kwargs,
    )


def run_model(
    scenario: Scenario, *, resolved: Any = None, registry: Registry = BUILTIN, **config: Any
) -> tuple[BulwarkModel, sqlite_utils.Database]:
    """Run `scenario` to the end into an in-memory event DB.

    Args:
        scenario: the scenario.
        resolved: a ready configuration (e.g. `sim.compose.resolve_run_config(scenario)`); when
            None, the defaults with daily rebalancing.
        registry: the protections to run (the built-in ones unless given).
        config: parameter overrides on top of that configuration.

    Returns:
        The finished model and its event database (run id `RUN_ID`).
    """
    if resolved is None:
        resolved = resolve(None, {"rebalance_frequency": "daily", **config}).config
    elif config:
        resolved = resolved.replace(**config)
    db = open_db(":memory:")
    recorder = Recorder(db, RUN_ID)
    recorder.start_run(
        scenario=scenario.name,
        scenario_path=scenario.path,
        scenario_sha256=scenario.sha256,
        seed=scenario.seed,
        initial_cash=scenario.cash,
        config=resolved.to_dict(),
    )
    model = build_model(scenario, resolved, recorder=recorder, registry=registry)
    model.run()
    recorder.finish("completed")
    return model, db


# --- queries -------------------------------------------------------------------------


def _rows(db: sqlite_utils.Database, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for row in db.query(sql, list(params)):
        row = dict(row)
        payload = json.loads(row.pop("payload"))
        out.append({**payload, **row})
    return out


def _filters(**equal: Any) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column, value in equal.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return "".join(f" AND {c}" for c in clauses), params


def messages(
    db: sqlite_utils.Database, kind: str, *, asset: str | None = None
) -> list[dict[str, Any]]:
    """Every message of `kind` (of `asset`, when given) in order: the columns of the
    `messages` table with the payload's fields merged in."""
    where, params = _filters(asset=asset)
    return _rows(
        db,
        "SELECT id, step, date, round, sender, recipient, asset, proposal_id, in_reply_to,"
        f" payload FROM messages WHERE run_id = ? AND kind = ?{where} ORDER BY id",
        [RUN_ID, kind, *params],
    )


def decisions(
    db: sqlite_utils.Database,
    asset: str | None = None,
    *,
    action: str | None = None,
    origin: str | None = None,
) -> list[dict[str, Any]]:
    """Decisions in order, each with its proposal's `origin` and `to_weight` added."""
    origins = {p["proposal_id"]: (p["origin"], p["to_weight"]) for p in messages(db, "proposal")}
    out = []
    for d in messages(db, "decision", asset=asset):
        d["origin"], d["to_weight"] = origins[d["proposal_id"]]
        if (action is None or d["action"] == action) and (origin is None or d["origin"] == origin):
            out.append(d)
    return out


def proposals(
    db: sqlite_utils.Database, asset: str | None = None, *, origin: str | None = None
) -> list[dict[str, Any]]:
    """Proposals in order (of `asset` and `origin`, when given)."""
    return [p for p in messages(db, "proposal", asset=asset) if origin in (None, p["origin"])]


def notices(
    db: sqlite_utils.Database, event: str | None = None, *, asset: str | None = None
) -> list[dict[str, Any]]:
    """Notices in order (of `event` and `asset`, when given)."""
    return [n for n in messages(db, "notice", asset=asset) if event in (None, n["event"])]


def fills(db: sqlite_utils.Database, asset: str | None = None) -> list[dict[str, Any]]:
    """Fills in order (of `asset`, when given)."""
    return messages(db, "fill", asset=asset)


def verdicts(db: sqlite_utils.Database, proposal_id: str) -> dict[str, dict[str, Any]]:
    """Every verdict on one proposal, by system."""
    where, params = _filters(proposal_id=proposal_id)
    rows = _rows(
        db,
        f"SELECT date, payload FROM messages WHERE run_id = ? AND kind = 'verdict'{where}",
        [RUN_ID, *params],
    )
    return {v["system"]: v for v in rows}


def held(db: sqlite_utils.Database, asset: str) -> list[str]:
    """The dates on which `asset` was in the book after the day's trades."""
    return [
        r["date"]
        for r in db.query(
            "SELECT date FROM snapshots WHERE run_id = ? AND asset = ? AND quantity > 0"
            " ORDER BY step",
            [RUN_ID, asset],
        )
    ]


def tampered_invariants(src: Any, tmp_path: Any, *statements: str) -> dict[str, Any]:
    """The built-in invariants of run `RUN_ID` in a copy of the event DB `src` changed by
    `statements` (SQL): label -> CheckResult."""
    db = tmp_path / "tampered.db"
    shutil.copy(src, db)
    con = sqlite3.connect(db)
    for sql in statements:
        con.execute(sql)
    con.commit()
    con.close()
    return {r.label: r for r in check_invariants(connect_readonly(db), RUN_ID)}
