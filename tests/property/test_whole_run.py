"""Whole-run property tests (issue 9): generated scenarios through the real loader and model,
every invariant of the team's definition checked by SQL written here.

The checks are independent of `sim/read/checks.py` on purpose: each invariant is one query over
the event database (plus a few temporary tables the glue fills from the run's own record:
the configuration in force per step, the rebalance steps, the starting book, the held-back
decisions and the smart bucket overrides). Tolerances: 1e-9 relative (`REL`), weights at or
below 1e-12 are zero (`ZERO`); the few places where the scale of "relative" had to be chosen
say so.

- `test_run_when_generated_scenario_then_invariants_hold[group]`: 200 generated scenarios
  (derandomized, no example database, so CI sees the same ones every time). `book` holds
  every invariant but the two the construction fix is about; `cap` and `bucket` are
  expected to fail until that fix lands (`PENDING_FIX`: xfail, not strict; while pending
  they are not shrunk in the default run, which keeps it fast).
- `test_run_when_generated_scenario_at_length_then_invariants_hold[group]` (`slow`: left
  out of the default run, `python -m pytest -m slow` runs it): 2,000 scenarios, shrunk.
- A failure found with shrinking on is saved, once hypothesis has shrunk it, as a scenario
  file `tests/data/regressions/<invariant>-<hash>.yaml` with a comment header naming the
  invariant and the evidence; `test_replay_when_regression_file_then_invariants_hold`
  replays every file there in the default run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from hypothesis import Phase, given, note, settings

import run
from sim import compose
from sim.load.problems import ScenarioError
from tests.property.scenario_strategy import SCENARIO_NAME, scenario_documents, to_yaml

REL = 1e-9
"""Relative tolerance of every comparison: |x| <= limit x (1 + REL)."""
ZERO = 1e-12
"""Weights at or below this are zero."""
TOLERANCES: Mapping[str, float] = {"rel": REL, "zero": ZERO}
"""The named parameters (:rel, :zero) every query below is run with."""
EVIDENCE_ROWS = 5
DEFAULT_EXAMPLES = 200
SLOW_EXAMPLES = 2_000
REGRESSIONS = Path(__file__).resolve().parents[1] / "data" / "regressions"
# Event databases go to memory-backed storage when there is one: a run commits once per
# step, and fsync dominates a small run on a disk.
FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
PENDING_FIX: Mapping[str, str] = {}
"""Invariant group -> why it is expected to fail until a fix lands (none today: the cap,
bucket, holding-period and no-core-sell failures this suite found are fixed, and their
shrunk scenarios replay in tests/data/regressions/)."""


# --- the per-run tables the invariants read --------------------------------------------------

MODE_CAP = {"strict": 0.35, "aggressive": 0.7}
"""diversification_mode clamps of max_bucket_allocation (docs/configuration.md): a `set`
goes through the same clamps, which the intervention message does not repeat."""

DAY_COLUMNS = (
    "step",
    "date",
    "rebalance",
    "cap",
    "blimit",
    "bon",
    "hold_min",
    "wmax",
    "wdays",
    "wsw_on",
    "hold_on",
    "slip",
)


def _in_force(con: sqlite3.Connection) -> list[tuple[int, dt.date, dict[str, Any]]]:
    """(step, date, configuration in force) per step: `runs.config` updated by every `set`
    intervention dated on or before the day (later ones win)."""
    config = json.loads(con.execute("SELECT config FROM runs").fetchone()[0])
    sets = [
        (r[0], json.loads(r[1])["details"])
        for r in con.execute(
            "SELECT date, payload FROM messages WHERE kind = 'intervention'"
            " AND json_extract(payload, '$.action') = 'set' ORDER BY id"
        )
    ]
    out = []
    for step, date in con.execute("SELECT step, date FROM equity ORDER BY step"):
        while sets and sets[0][0] <= date:
            details = sets.pop(0)[1]
            config[details["param"]] = details["value"]
            cap = MODE_CAP.get(config["diversification_mode"])
            if cap is not None:
                config["max_bucket_allocation"] = min(config["max_bucket_allocation"], cap)
        out.append((step, dt.date.fromisoformat(date), dict(config)))
    return out


def _rebalance(frequency: str, day: dt.date, previous: dt.date | None, changed: bool) -> bool:
    if previous is None or changed or frequency == "daily":
        return True
    if frequency == "weekly":
        return day.isocalendar()[:2] != previous.isocalendar()[:2]
    return (day.year, day.month) != (previous.year, previous.month)


def _enabled(doc: Mapping[str, Any], name: str) -> bool:
    return bool(((doc.get("protections") or {}).get(name) or {}).get("enabled", True))


def _day_rows(con: sqlite3.Connection, doc: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    changed = {
        r[0]
        for r in con.execute(
            "SELECT step FROM messages WHERE kind = 'regime_update'"
            " AND json_extract(payload, '$.changed') = 1"
        )
    }
    # whipsaw acts on a day when the scenario runs it and its switch is on that day (a
    # `set` switches it off or on from its day)
    whipsaw_agent = _enabled(doc, "whipsaw")
    rows, previous = [], None
    for step, day, cfg in _in_force(con):
        rows.append(
            (
                step,
                day.isoformat(),
                _rebalance(cfg["rebalance_frequency"], day, previous, step in changed),
                cfg["max_single_position_size"],
                cfg["max_bucket_allocation"],
                bool(cfg["enable_bucket_diversification"]),
                cfg["position_holding_period_min"],
                cfg["whipsaw_max_cycles"],
                cfg["whipsaw_protection_days"],
                whipsaw_agent and bool(cfg["whipsaw_protection"]),
                _enabled(doc, "holding_period"),
                cfg["slippage_bps"] / 10_000.0,
            )
        )
        previous = day
    return rows


def _book_rows(doc: Mapping[str, Any]) -> list[tuple[str, float, str, bool]]:
    """The starting book as written: (asset, weight, entered, core); `entered` defaults
    to calendar.start."""
    start = str(doc["calendar"]["start"])
    return [
        (asset, float(h["weight"]), str(h.get("entered", start)), bool(h.get("core", False)))
        for asset, h in sorted((doc.get("portfolio") or {}).items())
    ]


SETUP_SQL = """
CREATE TEMP TABLE snaps AS SELECT * FROM snapshots;
CREATE INDEX temp.snaps_key ON snaps (step, asset);

CREATE TEMP TABLE fills AS
SELECT id, step, date, asset, proposal_id,
       json_extract(payload, '$.side') AS side, json_extract(payload, '$.quantity') AS qty,
       json_extract(payload, '$.price') AS price, json_extract(payload, '$.notional') AS notional,
       json_extract(payload, '$.commission') AS fee
FROM messages WHERE kind = 'fill';
CREATE INDEX temp.fills_asset ON fills (asset, id);

CREATE TEMP TABLE decisions AS
SELECT id, step, date, asset, proposal_id, json_extract(payload, '$.outcome') AS outcome,
       json_extract(payload, '$.final_weight') AS final_weight,
       json_extract(payload, '$.decided_by') AS decided_by,
       json_extract(payload, '$.overridden') AS overridden
FROM messages WHERE kind = 'decision';
CREATE INDEX temp.decisions_proposal ON decisions (proposal_id);
CREATE INDEX temp.decisions_step ON decisions (step, asset, id);

CREATE TEMP TABLE proposals AS
SELECT id, step, date, asset, proposal_id, json_extract(payload, '$.to_weight') AS to_w,
       json_extract(payload, '$.components.bucket_override') AS bucket_override
FROM messages WHERE kind = 'proposal';
CREATE INDEX temp.proposals_id ON proposals (proposal_id);

CREATE TEMP TABLE notices AS
SELECT id, step, date, asset, json_extract(payload, '$.event') AS event, payload
FROM messages WHERE kind = 'notice';
CREATE INDEX temp.notices_asset ON notices (asset, id);

-- held back: the asset's last decision of the step ends above its proposal's to_weight;
-- or (frozen) it blocked a trade up, and the asset ends the day at the weight the block
-- kept lifted by no more than the day's costs (equity before / after them): it counts at
-- the weight the block kept (docs/property-tests.md, "held-back excess")
CREATE TEMP TABLE held AS
SELECT d.step, d.asset, p.to_w
FROM decisions d JOIN proposals p ON p.proposal_id = d.proposal_id
WHERE d.id = (SELECT MAX(x.id) FROM decisions x WHERE x.step = d.step AND x.asset = d.asset)
  AND d.final_weight > p.to_w + :zero
UNION ALL
SELECT d.step, d.asset, d.final_weight
FROM decisions d JOIN proposals p ON p.proposal_id = d.proposal_id
JOIN equity e ON e.step = d.step
JOIN snaps s ON s.step = d.step AND s.asset = d.asset
WHERE d.id = (SELECT MAX(x.id) FROM decisions x WHERE x.step = d.step AND x.asset = d.asset)
  AND d.outcome = 'blocked' AND d.final_weight <= p.to_w + :zero AND e.equity > 0
  AND s.weight <= d.final_weight * (e.equity + e.costs) / e.equity * (1 + :rel);

-- positions held after each step (step -1: the starting book); a weight at or below ZERO is none
CREATE TEMP TABLE pos AS
SELECT step, asset FROM snaps WHERE weight > :zero
UNION SELECT -1, asset FROM book;
CREATE INDEX temp.pos_key ON pos (step, asset);

CREATE TEMP TABLE opens AS
SELECT f.* FROM fills f
WHERE f.side = 'buy'
  AND NOT EXISTS (SELECT 1 FROM pos p WHERE p.step = f.step - 1 AND p.asset = f.asset);

CREATE TEMP TABLE closes AS
SELECT f.* FROM fills f
WHERE f.side = 'sell'
  AND NOT EXISTS (SELECT 1 FROM pos p WHERE p.step = f.step AND p.asset = f.asset);

-- every sell with the date its position was entered: the last open before it, else the
-- starting holding's entered date
CREATE TEMP VIEW sells AS
SELECT f.*, COALESCE(
         (SELECT o.date FROM opens o WHERE o.asset = f.asset AND o.id < f.id
          ORDER BY o.id DESC LIMIT 1),
         (SELECT b.entered FROM book b WHERE b.asset = f.asset)) AS entry
FROM fills f WHERE f.side = 'sell';

-- every open with the open->close cycles completed in the whipsaw window in force
CREATE TEMP VIEW reopens AS
SELECT o.*, d.wdays, d.wmax, d.wsw_on,
       (SELECT COUNT(*) FROM closes c WHERE c.asset = o.asset AND c.id < o.id
          AND julianday(o.date) - julianday(c.date) < d.wdays) AS cycles
FROM opens o JOIN days d ON d.step = o.step;

-- starting quantities: weight x initial cash / the first day's close
CREATE TEMP TABLE book_qty AS
SELECT b.asset, b.weight * r.initial_cash / COALESCE(
         (SELECT s.price FROM snaps s WHERE s.step = 0 AND s.asset = b.asset),
         (SELECT f.price / (1 - d.slip) FROM fills f JOIN days d ON d.step = f.step
          WHERE f.step = 0 AND f.asset = b.asset AND f.side = 'sell')) AS qty
FROM book b, runs r;
"""

OVERRIDES_FROM_NOTICES = """
CREATE TEMP TABLE overrides AS
SELECT d.step, a.asset FROM days d, (SELECT DISTINCT asset FROM snaps) a
WHERE (SELECT COALESCE(json_extract(n.payload, '$.details.reason'),
                       json_extract(n.payload, '$.reason'))
       FROM notices n
       WHERE n.event = 'selection' AND n.asset = a.asset AND n.date <= d.date
       ORDER BY n.id DESC LIMIT 1) = 'bucket_override'
"""

OVERRIDES_FROM_PROPOSALS = """
CREATE TEMP TABLE overrides AS
SELECT DISTINCT step, asset FROM proposals WHERE bucket_override = 1
"""


def prepare_tables(con: sqlite3.Connection, doc: Mapping[str, Any]) -> None:
    """Fill the temporary tables the invariants read (see `SETUP_SQL`)."""
    runs = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert runs == 1, f"expected one run in the event database, found {runs}"
    con.execute(f"CREATE TEMP TABLE days ({', '.join(DAY_COLUMNS)})")
    con.executemany(
        f"INSERT INTO days VALUES ({', '.join('?' * len(DAY_COLUMNS))})", _day_rows(con, doc)
    )
    con.execute("CREATE TEMP TABLE book (asset, weight, entered, core)")
    con.executemany("INSERT INTO book VALUES (?, ?, ?, ?)", _book_rows(doc))
    for statement in SETUP_SQL.split(";\n"):
        if statement.strip():
            con.execute(statement, TOLERANCES)
    notices = con.execute("SELECT 1 FROM notices WHERE event = 'selection' LIMIT 1").fetchone()
    con.execute(OVERRIDES_FROM_NOTICES if notices else OVERRIDES_FROM_PROPOSALS, TOLERANCES)


# --- the invariants ----------------------------------------------------------------------------

# Each query returns one `evidence` text per violation; no row means the invariant holds.
INVARIANT_SQL: Mapping[str, str] = {
    "cash-non-negative": """
        SELECT printf('step %d %s: cash %.9f with equity %.2f', step, date, cash, equity)
        FROM equity WHERE cash < -:rel * MAX(equity, 1)""",
    "equity-identity": """
        SELECT printf('step %d %s: cash %.6f + holdings %.6f - equity %.6f = %.3g',
                      e.step, e.date, e.cash, COALESCE(SUM(s.value), 0), e.equity,
                      e.cash + COALESCE(SUM(s.value), 0) - e.equity)
        FROM equity e LEFT JOIN snaps s ON s.step = e.step
        GROUP BY e.step
        HAVING ABS(e.cash + COALESCE(SUM(s.value), 0) - e.equity) > :rel * MAX(ABS(e.equity), 1)""",
    "invested-at-most-one": """
        SELECT printf('step %d %s: holdings %.6f above equity %.6f (weight %.12f)',
                      e.step, e.date, SUM(s.value), e.equity, SUM(s.value) / e.equity)
        FROM equity e JOIN snaps s ON s.step = e.step
        GROUP BY e.step HAVING SUM(s.value) > e.equity * (1 + :rel)""",
    "cap": """
        SELECT printf('step %d %s %s: weight %.9f (%.9f after held-back excess) above cap %g',
                      step, date, asset, weight, eff, cap)
        FROM (SELECT s.step, s.date, s.asset, s.weight, d.cap,
                     s.weight - COALESCE(MAX(s.weight - h.to_w, 0), 0) AS eff
              FROM snaps s JOIN days d ON d.step = s.step
              LEFT JOIN held h ON h.step = s.step AND h.asset = s.asset
              WHERE d.rebalance AND s.weight > :zero
                AND COALESCE(json_extract(s.flags, '$.core'), 0) != 1)
        WHERE eff > cap * (1 + :rel)""",
    "bucket": """
        SELECT printf('step %d %s %s: %.9f (%s) above max_bucket_allocation %g',
                      e.step, e.date, e.bucket, SUM(e.w), GROUP_CONCAT(e.asset), d.blimit)
        FROM (SELECT s.step, s.date, s.bucket, s.asset,
                     s.weight - COALESCE(MAX(s.weight - h.to_w, 0), 0) AS w
              FROM snaps s LEFT JOIN held h ON h.step = s.step AND h.asset = s.asset
              WHERE s.weight > :zero AND NOT EXISTS (
                  SELECT 1 FROM overrides o WHERE o.step = s.step AND o.asset = s.asset)) e
        JOIN days d ON d.step = e.step
        WHERE d.rebalance AND d.bon
        GROUP BY e.step, e.bucket HAVING SUM(e.w) > d.blimit * (1 + :rel)""",
    "fill-has-decision": """
        SELECT printf('fill %d %s %s (proposal %s): no approved or amended decision',
                      f.id, f.date, f.asset, f.proposal_id)
        FROM fills f WHERE NOT EXISTS (
            SELECT 1 FROM decisions d WHERE d.proposal_id = f.proposal_id
              AND d.outcome IN ('approved', 'amended'))""",
    "one-decision-per-proposal": """
        SELECT printf('proposal %s (%d, %s %s): %d decisions', p.proposal_id, p.id, p.date,
                      p.asset, COALESCE(n.c, 0))
        FROM proposals p
        LEFT JOIN (SELECT proposal_id, COUNT(*) AS c FROM decisions GROUP BY proposal_id) n
               ON n.proposal_id = p.proposal_id
        WHERE COALESCE(n.c, 0) != 1
        UNION ALL
        SELECT printf('decision %d %s %s: proposal %s was never made', d.id, d.date, d.asset,
                      d.proposal_id)
        FROM decisions d
        WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.proposal_id = d.proposal_id)""",
    "no-core-sell": """
        SELECT printf('fill %d %s %s: sold %.6f units while core', f.id, f.date, f.asset, f.qty)
        FROM fills f WHERE f.side = 'sell' AND (
            SELECT n.event FROM notices n
            WHERE n.asset = f.asset AND n.id < f.id
              AND n.event IN ('core_designated', 'core_revoked', 'core_expired')
            ORDER BY n.id DESC LIMIT 1) = 'core_designated'""",
    # Sums run in step order, as the broker's book does. Quantities compare relative to the
    # gross quantity that went through the position (starting + every fill so far): a
    # closed position is 0 up to the rounding of that flow.
    "book-recomputes": """
        WITH flow AS (
            SELECT step, SUM(CASE side WHEN 'buy' THEN -(notional + fee)
                                       ELSE notional - fee END) AS cash
            FROM fills GROUP BY step),
        start AS (SELECT r.initial_cash - COALESCE(
                    (SELECT SUM(b.weight * r.initial_cash) FROM book b), 0) AS cash FROM runs r),
        cash AS (SELECT e.step, e.date, e.equity, e.cash AS recorded,
                        (SELECT cash FROM start)
                        + SUM(COALESCE(f.cash, 0)) OVER (ORDER BY e.step) AS expected
                 FROM equity e LEFT JOIN flow f ON f.step = e.step)
        SELECT printf('step %d %s: cash %.6f, from the fills %.6f', step, date, recorded,
                      expected)
        FROM cash WHERE ABS(recorded - expected) > :rel * MAX(ABS(equity), 1)
        UNION ALL
        SELECT printf('step %d %s: quantity %.9f, from the fills %.9f', q.step, q.asset,
                      COALESCE(s.quantity, 0), q.expected)
        FROM (SELECT g.step, g.asset,
                     COALESCE(b.qty, 0) + SUM(COALESCE(f.net, 0)) OVER w AS expected,
                     COALESCE(b.qty, 0) + SUM(COALESCE(f.gross, 0)) OVER w AS gross
              FROM (SELECT e.step, a.asset FROM equity e,
                      (SELECT asset FROM book UNION SELECT asset FROM fills
                       UNION SELECT asset FROM snaps) a) g
              LEFT JOIN (SELECT step, asset, SUM(CASE side WHEN 'buy' THEN qty ELSE -qty END)
                                AS net, SUM(qty) AS gross
                         FROM fills GROUP BY step, asset) f
                     ON f.step = g.step AND f.asset = g.asset
              LEFT JOIN book_qty b ON b.asset = g.asset
              WINDOW w AS (PARTITION BY g.asset ORDER BY g.step)) q
        LEFT JOIN snaps s ON s.step = q.step AND s.asset = q.asset
        WHERE ABS(COALESCE(s.quantity, 0) - q.expected)
              > :rel * MAX(ABS(COALESCE(s.quantity, 0)), q.gross)""",
    "holding-period": """
        SELECT printf('fill %d %s %s: sold after %s days (entered %s, minimum %d), decided by %s, '
                      || 'overridden %s', s.id, s.date, s.asset,
                      COALESCE(CAST(julianday(s.date) - julianday(s.entry) AS INT), '?'),
                      COALESCE(s.entry, '?'), d.hold_min, dec.decided_by, dec.overridden)
        FROM sells s JOIN days d ON d.step = s.step
        LEFT JOIN decisions dec ON dec.proposal_id = s.proposal_id
        WHERE d.hold_on
          AND (s.entry IS NULL OR julianday(s.date) - julianday(s.entry) < d.hold_min)
          AND NOT (COALESCE(dec.decided_by IN ('core_asset', 'regime_override', 'grace_period'), 0)
                   OR EXISTS (SELECT 1 FROM json_each(COALESCE(dec.overridden, '[]'))
                              WHERE value = 'holding_period'))""",
    "whipsaw": """
        SELECT printf('fill %d %s %s: opened after %d cycles in %d days (limit %d), '
                      || 'decided by %s, overridden %s', o.id, o.date, o.asset, o.cycles, o.wdays,
                      o.wmax, dec.decided_by, dec.overridden)
        FROM reopens o LEFT JOIN decisions dec ON dec.proposal_id = o.proposal_id
        WHERE o.wsw_on AND o.cycles >= o.wmax
          AND NOT (COALESCE(dec.decided_by IN ('core_asset', 'regime_override', 'grace_period',
                                               'holding_period'), 0)
                   OR EXISTS (SELECT 1 FROM json_each(COALESCE(dec.overridden, '[]'))
                              WHERE value = 'whipsaw'))""",
}

GROUPS: Mapping[str, tuple[str, ...]] = {
    "book": (
        "scenario-loads",
        "run-completes",
        *(name for name in INVARIANT_SQL if name not in PENDING_FIX),
    ),
    **{name: (name,) for name in PENDING_FIX},
}

# Features the coverage report counts (hypothesis `event`); each query returns a row when
# the run shows the feature.
FEATURE_SQL: Mapping[str, str] = {
    "regime change": "SELECT 1 FROM messages WHERE kind = 'regime_update'"
    " AND json_extract(payload, '$.changed') = 1",
    "core asset": "SELECT 1 FROM notices WHERE event = 'core_designated'",
    "grace": "SELECT 1 FROM notices WHERE event = 'grace_started'",
    "holding block": "SELECT 1 FROM messages WHERE kind = 'verdict'"
    " AND json_extract(payload, '$.system') = 'holding_period'"
    " AND json_extract(payload, '$.stance') = 'block'",
    "whipsaw block": "SELECT 1 FROM messages WHERE kind = 'verdict'"
    " AND json_extract(payload, '$.system') = 'whipsaw'"
    " AND json_extract(payload, '$.stance') = 'block'",
    "bucket override": "SELECT 1 FROM overrides",
    "above the cap at start": "SELECT 1 FROM book, days WHERE days.step = 0"
    " AND book.weight > days.cap * (1 + :rel)",
    "core at start": "SELECT 1 FROM book WHERE core",
    "set intervention": "SELECT 1 FROM messages WHERE kind = 'intervention'"
    " AND json_extract(payload, '$.action') = 'set'",
    "regime override granted": "SELECT 1 FROM notices WHERE event = 'regime_override_granted'",
    "held back": "SELECT 1 FROM held",
    "sell inside a holding period": "SELECT 1 FROM sells s JOIN days d ON d.step = s.step"
    " WHERE julianday(s.date) - julianday(s.entry) < d.hold_min",
    "open at the whipsaw limit": "SELECT 1 FROM reopens WHERE cycles >= wmax",
    "protection overridden": "SELECT 1 FROM decisions WHERE overridden != '[]'",
    "buys scaled to the cash": "SELECT 1 FROM notices WHERE event = 'buys_scaled'",
}


# --- running one scenario ------------------------------------------------------------------------


@attrs.frozen
class Outcome:
    """What one scenario did: evidence per invariant (empty when it held), features seen."""

    violations: Mapping[str, tuple[str, ...]]
    features: tuple[str, ...] = ()


def check_database(
    db_path: str | Path, doc: Mapping[str, Any], *, limit: int | None = EVIDENCE_ROWS
) -> Outcome:
    """Every invariant of `INVARIANT_SQL` over the one run recorded in `db_path`, with at
    most `limit` evidence lines each (None: all)."""
    con = sqlite3.connect(str(db_path))
    try:
        prepare_tables(con, doc)
        violations = {
            name: tuple(
                r[0]
                for r in (
                    con.execute(sql, TOLERANCES).fetchall()
                    if limit is None
                    else con.execute(sql, TOLERANCES).fetchmany(limit)
                )
            )
            for name, sql in INVARIANT_SQL.items()
        }
        features = tuple(
            name
            for name, sql in FEATURE_SQL.items()
            if con.execute(sql, TOLERANCES).fetchone() is not None
        )
    finally:
        con.close()
    return Outcome({"scenario-loads": (), "run-completes": (), **violations}, features)


def simulate(text: str) -> Outcome:
    """Load `text` with the real loader, run it in-process into a fresh event database and
    check it. A scenario the loader rejects or a run that crashes is a violation too."""
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            scenario, config = run.prepare(str(path))
        except (ScenarioError, compose.InvalidInput) as err:
            return Outcome({"scenario-loads": (str(err),)})
        db_path = Path(tmp) / "events.db"
        _, code, _ = compose.record_run(scenario, config, db_path=db_path)
        if code != run.EXIT_OK:
            with sqlite3.connect(str(db_path)) as con:
                error = con.execute("SELECT error FROM runs").fetchone()[0]
            return Outcome({"run-completes": (f"exit {code}", *str(error).splitlines()[-6:])})
        return check_database(db_path, yaml.safe_load(text))


_OUTCOMES: dict[str, Outcome] = {}


def outcome_of(text: str) -> Outcome:
    """`simulate(text)`, once per document in this process (the groups share examples)."""
    if text not in _OUTCOMES:
        _OUTCOMES[text] = simulate(text)
    return _OUTCOMES[text]


# --- failures, shrinking and regression files -------------------------------------------------


class InvariantViolated(AssertionError):
    """An invariant failed on a generated scenario (one subclass per invariant, so that
    hypothesis shrinks each distinct failure on its own)."""


_VIOLATION_TYPES: dict[str, type[InvariantViolated]] = {}


def violation_type(invariant: str) -> type[InvariantViolated]:
    if invariant not in _VIOLATION_TYPES:
        title = "".join(part.title() for part in invariant.split("-"))
        _VIOLATION_TYPES[invariant] = type(f"{title}Violated", (InvariantViolated,), {})
    return _VIOLATION_TYPES[invariant]


def failed(outcome: Outcome, invariants: Sequence[str]) -> list[str]:
    return [name for name in invariants if outcome.violations.get(name)]


def regression_text(invariant: str, text: str, evidence: Sequence[str]) -> tuple[str, str]:
    """(file name, content) of the regression file for a failure of `invariant` on `text`."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    stem = f"{invariant}-{digest}"
    body = text.replace(f"name: {SCENARIO_NAME}\n", f"name: regression-{stem}\n", 1)
    header = [
        "# Regression scenario found by tests/property/test_whole_run.py (hypothesis, shrunk).",
        f"# Invariant failed: {invariant} (INVARIANT_SQL there; docs/property-tests.md).",
        "# Evidence:",
        *(f"#   {line}" for line in evidence),
        "",
    ]
    return f"{stem}.yaml", "\n".join(header) + body


def save_regressions(last_failure: Mapping[str, tuple[str, tuple[str, ...]]]) -> list[Path]:
    """Write one file per failed invariant: the last failing example hypothesis ran for it,
    which is the shrunk one it reports."""
    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    written = []
    for invariant, (text, evidence) in sorted(last_failure.items()):
        name, content = regression_text(invariant, text, evidence)
        path = REGRESSIONS / name
        if not path.exists():
            path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def run_property(group: str, examples: int, *, shrink: bool) -> Counter[str]:
    """Run `examples` generated scenarios and check the invariants of `group`. With
    `shrink`, a failure is shrunk and saved as a regression file before it is re-raised.

    Returns:
        How many examples showed each feature of `FEATURE_SQL` ("examples": how many ran).
    """
    invariants = GROUPS[group]
    last_failure: dict[str, tuple[str, tuple[str, ...]]] = {}
    seen: Counter[str] = Counter()
    phases = tuple(p for p in Phase if shrink or p not in (Phase.shrink, Phase.explain))

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=phases,
    )
    @given(doc=scenario_documents())
    def check(doc: dict[str, Any]) -> None:
        text = to_yaml(doc)
        outcome = outcome_of(text)
        seen.update(("examples", *outcome.features))
        bad = failed(outcome, invariants)
        if bad:
            first = bad[0]
            last_failure[first] = (text, outcome.violations[first])
            note(text)
            raise violation_type(first)(f"{first}: " + "; ".join(outcome.violations[first]))

    try:
        check()
    finally:
        if shrink and last_failure:
            save_regressions(last_failure)
    return seen


# The share of generated runs that must show each feature, so that a generator change that
# stops reaching an edge case fails loudly instead of testing less. Each floor is about half
# the lowest share seen over six example streams of 200 (the derandomized one and `@seed`
# 11-14); a regime override is rare in every stream, so its floor is one run in 200.
MIN_SHARE: Mapping[str, float] = {
    "regime change": 0.25,
    "core asset": 0.18,
    "grace": 0.27,
    "holding block": 0.3,
    "whipsaw block": 0.15,
    "bucket override": 0.03,
    "above the cap at start": 0.1,
    "set intervention": 0.13,
    "regime override granted": 0.005,
}


def _group_params(slow: bool) -> list[Any]:
    """One parameter per group; the pending ones expect an `InvariantViolated` (xfail)."""
    params = []
    for group in GROUPS:
        marks = [pytest.mark.slow] if slow else []
        if group in PENDING_FIX:
            marks.append(
                pytest.mark.xfail(reason=PENDING_FIX[group], strict=False, raises=InvariantViolated)
            )
        params.append(pytest.param(group, marks=marks))
    return params


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("group", _group_params(slow=False))
def test_run_when_generated_scenario_then_invariants_hold(group: str) -> None:
    seen = run_property(group, DEFAULT_EXAMPLES, shrink=group not in PENDING_FIX)
    shares = {name: seen[name] / seen["examples"] for name in MIN_SHARE}
    short = {name: shares[name] for name, floor in MIN_SHARE.items() if shares[name] < floor}
    assert not short, f"features below their floor: {short} (all shares: {shares})"


@pytest.mark.parametrize("group", _group_params(slow=True))
def test_run_when_generated_scenario_at_length_then_invariants_hold(group: str) -> None:
    run_property(group, SLOW_EXAMPLES, shrink=True)


def _regression_files() -> list[Path]:
    return sorted(REGRESSIONS.glob("*.yaml")) if REGRESSIONS.is_dir() else []


@pytest.mark.parametrize("path", _regression_files(), ids=lambda p: p.stem)
def test_replay_when_regression_file_then_invariants_hold(path: Path) -> None:
    outcome = simulate(path.read_text(encoding="utf-8"))
    bad = failed(outcome, [name for names in GROUPS.values() for name in names])
    pending = [name for name in bad if name in PENDING_FIX]
    settled = [name for name in bad if name not in PENDING_FIX]
    assert not settled, {name: outcome.violations[name] for name in settled}
    if pending:
        pytest.xfail("; ".join(f"{name}: {PENDING_FIX[name]}" for name in pending))


# --- the checks themselves: each one reports a violation planted in a recorded run ---------------

PLANTED = """\
name: planted
description: A small run with opens, closes, trims and a core holding, for the planted checks.
seed: 5
calendar: {start: 2024-01-01, days: 30}
config:
  rebalance_frequency: daily
  max_total_positions: 5
  position_holding_period_min: 2
buckets:
  Risk Assets: [AAA, BBB, CCC]
  Defensive Assets: [DDD, EEE, FFF]
market: {warmup_days: 200, drift: 0.1, volatility: 0.2}
signals:
  scores:
    - {asset: BBB, from: 2024-01-01, to: 2024-01-05, value: 0.97}
    - {asset: BBB, from: 2024-01-08, to: 2024-01-19, value: 0.1}
    - {asset: BBB, from: 2024-01-22, value: 0.97}
    - {asset: DDD, from: 2024-01-01, value: 0.8}
  trending:
    - {asset: BBB, from: 2024-01-01, value: 0.9}
portfolio:
  AAA: {weight: 0.15, core: true}
  DDD: {weight: 0.3, entered: 2023-06-01}
"""

# One UPDATE/INSERT per invariant that breaks it in a clean recorded run.
PLANTS: Mapping[str, str] = {
    "cash-non-negative": "UPDATE equity SET cash = -5 WHERE step = 3",
    "equity-identity": "UPDATE equity SET equity = equity + 1 WHERE step = 2",
    "invested-at-most-one": "UPDATE snapshots SET value = value * 10 WHERE step = 4",
    "cap": "UPDATE snapshots SET weight = 0.9, flags = '{}' WHERE step = 0 AND asset = 'DDD'",
    "bucket": "UPDATE snapshots SET weight = 0.45 WHERE step = 0 AND asset = 'DDD'",
    "fill-has-decision": "UPDATE messages SET proposal_id = 'nowhere'"
    " WHERE id = (SELECT MIN(id) FROM messages WHERE kind = 'fill')",
    "one-decision-per-proposal": "DELETE FROM messages"
    " WHERE id = (SELECT MIN(id) FROM messages WHERE kind = 'decision')",
    "no-core-sell": "INSERT INTO messages (id, run_id, step, date, round, sender, recipient,"
    " kind, asset, payload) SELECT -1, run_id, 0, date, 0, 'core_asset', '*', 'notice', asset,"
    ' \'{"event":"core_designated","details":{}}\' FROM messages'
    " WHERE id = (SELECT MIN(id) FROM messages WHERE kind = 'fill'"
    " AND json_extract(payload, '$.side') = 'sell')",
    "book-recomputes": "UPDATE snapshots SET quantity = quantity * 1.000001"
    " WHERE step = 5 AND asset = 'AAA'",
    "holding-period": "UPDATE runs SET config = json_set(config,"
    " '$.position_holding_period_min', 365)",
    "whipsaw": "UPDATE runs SET config = json_set(config, '$.whipsaw_max_cycles', 0)",
}


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The PLANTED scenario run once: (event database, document)."""
    tmp = tmp_path_factory.mktemp("planted")
    path = tmp / "planted.yaml"
    path.write_text(PLANTED, encoding="utf-8")
    scenario, config = run.prepare(str(path))
    db_path = tmp / "events.db"
    _, code, _ = compose.record_run(scenario, config, db_path=db_path)
    assert code == run.EXIT_OK
    return db_path, yaml.safe_load(PLANTED)


def test_planted_run_when_recorded_then_it_trades_what_the_plants_need(planted_run) -> None:
    db_path, _ = planted_run
    with sqlite3.connect(str(db_path)) as con:
        sides = dict(
            con.execute(
                "SELECT json_extract(payload, '$.side'), COUNT(*) FROM messages"
                " WHERE kind = 'fill' GROUP BY 1"
            ).fetchall()
        )
        held = {r[0] for r in con.execute("SELECT asset FROM snapshots WHERE step = 5")}
    assert sides.get("buy", 0) > 0 and sides.get("sell", 0) > 0
    assert {"AAA", "DDD"} <= held


@pytest.mark.parametrize("invariant", sorted(PLANTS))
def test_check_when_violation_planted_then_reported(
    invariant: str, planted_run, tmp_path: Path
) -> None:
    db_path, doc = planted_run
    before = check_database(db_path, doc, limit=None).violations[invariant]
    copy = tmp_path / "planted.db"
    shutil.copy(db_path, copy)
    with sqlite3.connect(str(copy)) as con:
        con.execute(PLANTS[invariant])
    after = check_database(copy, doc, limit=None).violations[invariant]
    assert set(after) - set(before), f"{invariant}: the planted violation went unreported"
