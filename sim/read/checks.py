"""What must hold after a run: the scenario's expectations and the built-in invariants.

Both read only the event database (one run), so a check can be re-run on any recorded run.
A failed check carries its evidence: message ids, dates, assets and values.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from domain.scenario import (
    Expectation,
    ExpectDecision,
    ExpectFinal,
    ExpectMetric,
    ExpectNever,
    ExpectNotice,
    ExpectSql,
    Window,
)
from sim.read.limit_checks import LIMIT_RTOL, breach_rows, limit_breaches
from sim.read.metrics import METRICS
from sim.run.dbfile import open_readonly

EVIDENCE_ROWS = 10
VALUE_IDENTITY_TOLERANCE = 1e-9


@attrs.frozen
class CheckResult:
    """One expectation or invariant and how it went."""

    label: str
    passed: bool
    evidence: tuple[str, ...] = ()
    kind: str = "expectation"


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """Open an event database read-only (`sim.run.dbfile.open_readonly`), rows as sqlite3.Row.

    Raises:
        sim.run.dbfile.DatabaseFileError: the file cannot be opened (the message says why).
    """
    con = open_readonly(path)
    con.row_factory = sqlite3.Row
    return con


def _window_sql(window: Window, column: str = "date") -> tuple[str, list[Any]]:
    sql, params = "", []
    if window.start is not None:
        sql += f" AND {column} >= ?"
        params.append(window.start.isoformat())
    if window.end is not None:
        sql += f" AND {column} <= ?"
        params.append(window.end.isoformat())
    return sql, params


def _where(line: int | None) -> str:
    return f" (line {line})" if line is not None else ""


def _count_ok(n: int, low: int | None, high: int | None) -> bool:
    return (low is None or n >= low) and (high is None or n <= high)


def _bounds(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _message_evidence(rows: Sequence[sqlite3.Row]) -> tuple[str, ...]:
    out = []
    for r in rows[:EVIDENCE_ROWS]:
        payload = json.loads(r["payload"])
        detail = ", ".join(
            f"{k}={payload[k]}"
            for k in ("action", "outcome", "decided_by", "event", "final_weight", "reason")
            if k in payload
        )
        out.append(f"message {r['id']} {r['date']} {r['asset'] or '-'}: {detail}")
    if len(rows) > EVIDENCE_ROWS:
        out.append(f"... and {len(rows) - EVIDENCE_ROWS} more")
    return tuple(out)


# --- expectations ---------------------------------------------------------------------


def check_expectation(con: sqlite3.Connection, run_id: str, exp: Expectation) -> CheckResult:
    """Check one of the scenario's `expect` items against run `run_id`."""
    if isinstance(exp, ExpectNever):
        return _never(con, run_id, exp)
    if isinstance(exp, ExpectNotice):
        return _notice(con, run_id, exp)
    if isinstance(exp, ExpectDecision):
        return _decision(con, run_id, exp)
    if isinstance(exp, ExpectFinal):
        return _final(con, run_id, exp)
    if isinstance(exp, ExpectMetric):
        return _metric(con, run_id, exp)
    if isinstance(exp, ExpectSql):
        return _sql(con, run_id, exp)
    raise TypeError(f"unknown expectation {exp!r}")


def _find(
    con: sqlite3.Connection,
    run_id: str,
    kind: str,
    *,
    asset: str | None = None,
    payload: Sequence[tuple[str, Any]] = (),
    window: Window | None = None,
) -> list[sqlite3.Row]:
    """Messages of `kind` in run order, filtered by asset ("*" or None: any), payload
    fields (a tuple value means "one of") and date window. Every value is bound."""
    sql = "SELECT * FROM messages WHERE run_id = ? AND kind = ?"
    args: list[Any] = [run_id, kind]
    for field, value in payload:
        if value is None:
            continue
        values = value if isinstance(value, tuple) else (value,)
        sql += f" AND json_extract(payload,'$.{field}') IN ({','.join('?' * len(values))})"
        args.extend(values)
    if asset not in (None, "*"):
        sql += " AND asset = ?"
        args.append(asset)
    if window is not None:
        window_sql, params = _window_sql(window)
        sql += window_sql
        args.extend(params)
    return con.execute(sql + " ORDER BY id", args).fetchall()


def _never(con: sqlite3.Connection, run_id: str, exp: ExpectNever) -> CheckResult:
    rows = _find(
        con,
        run_id,
        "decision",
        asset=exp.asset,
        payload=(("action", exp.action), ("outcome", ("approved", "amended"))),
        window=exp.between,
    )
    label = f"never {exp.action} {exp.asset or '*'} {_span(exp.between)}{_where(exp.line)}"
    return CheckResult(label, not rows, _message_evidence(rows))


def _span(window: Window) -> str:
    return f"[{window.start or '...'} .. {window.end or '...'}]"


def _counted(label: str, rows: Sequence[sqlite3.Row], low: Any, high: Any) -> CheckResult:
    ok = _count_ok(len(rows), low, high)
    evidence = () if ok else (f"found {len(rows)}", *_message_evidence(rows))
    return CheckResult(label, ok, evidence)


def _notice(con: sqlite3.Connection, run_id: str, exp: ExpectNotice) -> CheckResult:
    rows = _find(
        con, run_id, "notice", asset=exp.asset, payload=(("event", exp.event),), window=exp.between
    )
    label = (
        f"notice {exp.event} {exp.asset or '*'} {_span(exp.between)}"
        f" {_bounds(exp.min, exp.max)} times{_where(exp.line)}"
    )
    return _counted(label, rows, exp.min, exp.max)


def _decision(con: sqlite3.Connection, run_id: str, exp: ExpectDecision) -> CheckResult:
    fields = (("action", exp.action), ("outcome", exp.outcome), ("decided_by", exp.decided_by))
    rows = _find(con, run_id, "decision", asset=exp.asset, payload=fields, window=exp.between)
    what = " ".join(f"{k}={v}" for k, v in (("asset", exp.asset), *fields) if v is not None)
    result = _counted(
        f"decision {what} {_bounds(exp.min, exp.max)} times{_where(exp.line)}",
        rows,
        exp.min,
        exp.max,
    )
    if not result.passed and not rows and exp.asset not in (None, "*"):
        near = _find(con, run_id, "decision", asset=exp.asset)
        result = attrs.evolve(
            result,
            evidence=(*result.evidence, "decisions on that asset:", *_message_evidence(near)),
        )
    return result


def _final(con: sqlite3.Connection, run_id: str, exp: ExpectFinal) -> CheckResult:
    last = con.execute("SELECT MAX(step) FROM equity WHERE run_id = ?", [run_id]).fetchone()[0]
    held = {
        r[0]
        for r in con.execute(
            "SELECT asset FROM snapshots WHERE run_id = ? AND step = ? AND quantity > 0",
            [run_id, last],
        )
    }
    equity_row = con.execute(
        "SELECT date, equity FROM equity WHERE run_id = ? AND step = ?", [run_id, last]
    ).fetchone()
    problems = []
    missing = sorted(set(exp.holdings_include) - held)
    if missing:
        problems.append(f"not held at the end: {', '.join(missing)}")
    present = sorted(set(exp.holdings_exclude) & held)
    if present:
        problems.append(f"held at the end: {', '.join(present)}")
    equity = equity_row["equity"] if equity_row else None
    if exp.equity_min is not None and (equity is None or equity < exp.equity_min):
        problems.append(f"final equity {equity:,.2f} below {exp.equity_min:,.2f}")
    if exp.equity_max is not None and (equity is None or equity > exp.equity_max):
        problems.append(f"final equity {equity:,.2f} above {exp.equity_max:,.2f}")
    if problems and equity_row:
        problems.append(
            f"final holdings on {equity_row['date']}: {', '.join(sorted(held)) or 'none'}"
        )
    return CheckResult(f"final{_where(exp.line)}", not problems, tuple(problems))


def _metric(con: sqlite3.Connection, run_id: str, exp: ExpectMetric) -> CheckResult:
    value = METRICS[exp.name](con, run_id)
    label = f"metric {exp.name} {_bounds(exp.min, exp.max)}{_where(exp.line)}"
    if value is None:  # e.g. a Sharpe ratio of a path without dispersion (docs/metrics.md)
        return CheckResult(label, False, (f"{exp.name} is undefined for this run",))
    ok = (exp.min is None or value >= exp.min) and (exp.max is None or value <= exp.max)
    return CheckResult(label, ok, () if ok else (f"{exp.name} = {value:.6g}",))


SCOPED_TABLES = ("runs", "messages", "snapshots", "equity")


def _sql(con: sqlite3.Connection, run_id: str, exp: ExpectSql) -> CheckResult:
    """Rows returned are violations. The tables are views of this run only."""
    for table in SCOPED_TABLES:
        con.execute(f"DROP VIEW IF EXISTS temp.{table}")
        con.execute(
            f"CREATE TEMP VIEW {table} AS SELECT * FROM main.{table} WHERE run_id = "
            + _quote(run_id)
        )
    try:
        cur = con.execute(exp.query)
        names = [d[0] for d in cur.description or ()]
        rows = cur.fetchmany(EVIDENCE_ROWS + 1)
    except sqlite3.Error as err:
        return CheckResult(f"sql: {exp.label}{_where(exp.line)}", False, (f"query failed: {err}",))
    finally:
        for table in SCOPED_TABLES:
            con.execute(f"DROP VIEW IF EXISTS temp.{table}")
    evidence = tuple(
        ", ".join(f"{n}={row[i]}" for i, n in enumerate(names)) for row in rows[:EVIDENCE_ROWS]
    )
    if len(rows) > EVIDENCE_ROWS:
        evidence += ("... and more",)
    return CheckResult(f"sql: {exp.label}{_where(exp.line)}", not rows, evidence)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- invariants ------------------------------------------------------------------------


def check_invariants(con: sqlite3.Connection, run_id: str) -> list[CheckResult]:
    """The built-in invariants (scenario-format.md), each with its evidence."""
    caps, buckets = limit_breaches(con, run_id)
    return [
        _inv(
            "cash never negative",
            _negative_cash(con, run_id),
            "step {step} {date}: cash {cash:.6f}",
        ),
        _inv(
            "cash plus holdings equals equity every step",
            _unbalanced_steps(con, run_id),
            "step {step} {date}: cash {cash:.2f} + holdings {held:.2f} != equity {equity:.2f}",
        ),
        _inv(
            "invested weight at most 1",
            _overinvested_steps(con, run_id),
            "step {step} {date}: invested weight {w:.6f}",
        ),
        _inv(
            "no non-core position above the cap after a rebalance",
            breach_rows(caps, "asset"),
            "step {step} {date} {asset}: weight {weight:.8f} above {limit}",
        ),
        _inv(
            "no bucket above its limit after a rebalance",
            breach_rows(buckets, "bucket"),
            "step {step} {date} {bucket}: weight {weight:.8f} above {limit}",
        ),
        _inv(
            "no fill without an approved or amended decision",
            _unapproved_fills(con, run_id),
            "fill {id} {date} {asset} (proposal {proposal_id})",
        ),
        _inv(
            "exactly one decision per proposal",
            _proposals_without_one_decision(con, run_id),
            "proposal {proposal_id} ({id}, {date}, {asset}): {n} decisions",
        ),
        _inv(
            "no core asset closed or reduced while core",
            _core_sells(con, run_id),
            "fill {id} {date} {asset}: sold while core (designated {since})",
        ),
    ]


def _negative_cash(con: sqlite3.Connection, run_id: str) -> list[sqlite3.Row]:
    """The steps ending with cash below zero (beyond float rounding)."""
    return con.execute(
        "SELECT step, date, cash FROM equity WHERE run_id = ? AND cash < -1e-9",
        [run_id],
    ).fetchall()


def _unbalanced_steps(con: sqlite3.Connection, run_id: str) -> list[sqlite3.Row]:
    """The steps whose cash plus holdings differs from equity by more than
    `VALUE_IDENTITY_TOLERANCE` relative."""
    return con.execute(
        "SELECT e.step, e.date, e.equity, e.cash, COALESCE(SUM(s.value), 0) AS held"
        " FROM equity e LEFT JOIN snapshots s ON s.run_id = e.run_id AND s.step = e.step"
        " WHERE e.run_id = ? GROUP BY e.step"
        " HAVING ABS(e.cash + held - e.equity) > ? * MAX(ABS(e.equity), 1)",
        [run_id, VALUE_IDENTITY_TOLERANCE],
    ).fetchall()


def _overinvested_steps(con: sqlite3.Connection, run_id: str) -> list[sqlite3.Row]:
    """The steps with more invested than equity (beyond `LIMIT_RTOL` relative)."""
    return con.execute(
        "SELECT step, date, invested / equity AS w FROM equity"
        " WHERE run_id = ? AND invested > equity * (1 + ?)",
        [run_id, LIMIT_RTOL],
    ).fetchall()


def _unapproved_fills(con: sqlite3.Connection, run_id: str) -> list[sqlite3.Row]:
    """The fills whose proposal has no approved or amended decision."""
    return con.execute(
        "SELECT f.id, f.date, f.asset, f.proposal_id FROM messages f"
        " WHERE f.run_id = ? AND f.kind = 'fill' AND NOT EXISTS ("
        " SELECT 1 FROM messages d WHERE d.run_id = f.run_id AND d.kind = 'decision'"
        " AND d.proposal_id = f.proposal_id"
        " AND json_extract(d.payload,'$.outcome') IN ('approved','amended'))",
        [run_id],
    ).fetchall()


def _proposals_without_one_decision(con: sqlite3.Connection, run_id: str) -> list[sqlite3.Row]:
    """The proposals with no decision or more than one, with their count `n`."""
    return con.execute(
        "SELECT p.id, p.date, p.asset, p.proposal_id, COUNT(d.id) AS n"
        " FROM messages p LEFT JOIN messages d ON d.run_id = p.run_id"
        " AND d.kind = 'decision' AND d.proposal_id = p.proposal_id"
        " WHERE p.run_id = ? AND p.kind = 'proposal' GROUP BY p.id HAVING n != 1",
        [run_id],
    ).fetchall()


def _inv(label: str, rows: Sequence[Any], template: str) -> CheckResult:
    evidence = tuple(template.format(**dict(r)) for r in rows[:EVIDENCE_ROWS])
    if len(rows) > EVIDENCE_ROWS:
        evidence += (f"... and {len(rows) - EVIDENCE_ROWS} more",)
    return CheckResult(label, not rows, evidence, kind="invariant")


def _core_sells(con: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    """The sell fills of an asset whose last core event before the fill is a designation,
    each with `since`, the date of that designation."""
    events = con.execute(
        "SELECT id, date, asset, json_extract(payload,'$.event') AS event FROM messages"
        " WHERE run_id = ? AND kind = 'notice' AND json_extract(payload,'$.event') IN"
        " ('core_designated','core_revoked','core_expired') ORDER BY id",
        [run_id],
    ).fetchall()
    sells = con.execute(
        "SELECT id, date, asset FROM messages WHERE run_id = ? AND kind = 'fill'"
        " AND json_extract(payload,'$.side') = 'sell' ORDER BY id",
        [run_id],
    ).fetchall()
    out = []
    for sell in sells:
        since = None
        for e in events:
            if e["id"] > sell["id"]:
                break
            if e["asset"] == sell["asset"]:
                since = e["date"] if e["event"] == "core_designated" else None
        if since is not None:
            out.append({**dict(sell), "since": since})
    return out


def check_run(
    db_path: str | Path, run_id: str, expectations: Sequence[Expectation]
) -> list[CheckResult]:
    """Every invariant, then every expectation, of one recorded run."""
    con = connect_readonly(db_path)
    try:
        results = check_invariants(con, run_id)
        results += [check_expectation(con, run_id, exp) for exp in expectations]
    finally:
        con.close()
    return results
