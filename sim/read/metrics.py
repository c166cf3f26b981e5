"""Run metrics, computed from a run's rows in the event database.

The registry maps a metric name to a function of (connection, run_id) -> float. Returns
are daily simple returns of equity (the first against the initial cash); annualisation
uses 252 trading days and a zero risk-free rate.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

DAYS_PER_YEAR = 252

Metric = Callable[[sqlite3.Connection, str], float]


def _equity(con: sqlite3.Connection, run_id: str) -> np.ndarray:
    rows = con.execute(
        "SELECT equity FROM equity WHERE run_id = ? ORDER BY step", [run_id]
    ).fetchall()
    return np.array([r[0] for r in rows], dtype=float)


def _initial_cash(con: sqlite3.Connection, run_id: str) -> float:
    return float(
        con.execute("SELECT initial_cash FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    )


def _returns(con: sqlite3.Connection, run_id: str) -> np.ndarray:
    equity = _equity(con, run_id)
    if equity.size == 0:
        return equity
    levels = np.concatenate([[_initial_cash(con, run_id)], equity])
    return levels[1:] / levels[:-1] - 1.0


def _count(sql: str) -> Metric:
    def metric(con: sqlite3.Connection, run_id: str) -> float:
        return float(con.execute(sql, [run_id]).fetchone()[0])

    return metric


def _notices(event: str) -> Metric:
    return _count(
        "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'notice'"
        f" AND json_extract(payload, '$.event') = '{event}'"
    )


def total_return(con: sqlite3.Connection, run_id: str) -> float:
    """Final equity over initial cash, minus one."""
    equity = _equity(con, run_id)
    return float(equity[-1] / _initial_cash(con, run_id) - 1.0) if equity.size else 0.0


def max_drawdown(con: sqlite3.Connection, run_id: str) -> float:
    """Largest fall from a running peak (the peak starts at the initial cash), as a fraction."""
    equity = _equity(con, run_id)
    if equity.size == 0:
        return 0.0
    peaks = np.maximum.accumulate(np.concatenate([[_initial_cash(con, run_id)], equity]))[1:]
    return float(np.max(1.0 - equity / peaks))


def volatility(con: sqlite3.Connection, run_id: str) -> float:
    """Annualised standard deviation of daily returns."""
    r = _returns(con, run_id)
    return float(np.std(r, ddof=1) * math.sqrt(DAYS_PER_YEAR)) if r.size > 1 else 0.0


def sharpe(con: sqlite3.Connection, run_id: str) -> float:
    """Annualised mean over standard deviation of daily returns (0 when flat)."""
    r = _returns(con, run_id)
    sd = np.std(r, ddof=1) if r.size > 1 else 0.0
    return float(np.mean(r) / sd * math.sqrt(DAYS_PER_YEAR)) if sd > 0 else 0.0


def sortino(con: sqlite3.Connection, run_id: str) -> float:
    """Annualised mean over downside deviation (root mean square of negative returns)."""
    r = _returns(con, run_id)
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2))) if r.size else 0.0
    return float(np.mean(r) / downside * math.sqrt(DAYS_PER_YEAR)) if downside > 0 else 0.0


def calmar(con: sqlite3.Connection, run_id: str) -> float:
    """Annualised return over maximum drawdown (0 without a drawdown)."""
    equity = _equity(con, run_id)
    dd = max_drawdown(con, run_id)
    if equity.size == 0 or dd <= 0:
        return 0.0
    growth = equity[-1] / _initial_cash(con, run_id)
    annual = growth ** (DAYS_PER_YEAR / equity.size) - 1.0
    return float(annual / dd)


def whipsaw_cycles(con: sqlite3.Connection, run_id: str) -> float:
    """Open-then-close round trips completed within `whipsaw_protection_days` of the open."""
    config = json.loads(
        con.execute("SELECT config FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    )
    window = int(config.get("whipsaw_protection_days", 14))
    rows = con.execute(
        "SELECT f.asset, f.date, json_extract(d.payload, '$.action') FROM messages f"
        " JOIN messages d"
        " ON d.run_id = f.run_id AND d.kind = 'decision' AND d.proposal_id = f.proposal_id"
        " WHERE f.run_id = ? AND f.kind = 'fill' ORDER BY f.id",
        [run_id],
    ).fetchall()
    opened: dict[str, str] = {}
    cycles = 0
    for asset, date, action in rows:
        if action == "open":
            opened[asset] = date
        elif action == "close" and asset in opened:
            start = np.datetime64(opened.pop(asset))
            if (np.datetime64(date) - start).astype(int) < window:
                cycles += 1
    return float(cycles)


METRICS: Mapping[str, Metric] = MappingProxyType(
    {
        "total_return": total_return,
        "max_drawdown": max_drawdown,
        "sharpe": sharpe,
        "sortino": sortino,
        "calmar": calmar,
        "volatility": volatility,
        "turnover": _count("SELECT COALESCE(SUM(turnover), 0) FROM equity WHERE run_id = ?"),
        "costs": _count("SELECT COALESCE(SUM(costs), 0) FROM equity WHERE run_id = ?"),
        "trades": _count("SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'fill'"),
        "whipsaw_cycles": whipsaw_cycles,
        "grace_recoveries": _notices("grace_recovered"),
        "grace_expiries": _notices("grace_expired"),
        "core_designations": _notices("core_designated"),
        "core_revocations": _notices("core_revoked"),
        "regime_overrides": _notices("regime_override_granted"),
        "blocked_decisions": _count(
            "SELECT COUNT(*) FROM messages WHERE run_id = ? AND kind = 'decision'"
            " AND json_extract(payload, '$.outcome') = 'blocked'"
        ),
    }
)

METRIC_HELP: Mapping[str, str] = MappingProxyType(
    {
        "total_return": "final equity / initial cash - 1",
        "max_drawdown": "largest fall from a running peak, as a fraction",
        "sharpe": "annualised mean / sd of daily returns (risk-free 0)",
        "sortino": "annualised mean / downside deviation of daily returns",
        "calmar": "annualised return / max drawdown",
        "volatility": "annualised sd of daily returns",
        "turnover": "sum over days of traded notional / equity",
        "costs": "commission plus slippage paid",
        "trades": "number of fills",
        "whipsaw_cycles": "open-then-close round trips within whipsaw_protection_days",
        "grace_recoveries": "grace_recovered notices",
        "grace_expiries": "grace_expired notices",
        "core_designations": "core_designated notices",
        "core_revocations": "core_revoked notices",
        "regime_overrides": "regime_override_granted notices (overrides that changed a decision)",
        "blocked_decisions": "decisions with outcome blocked",
    }
)


def compute(con: sqlite3.Connection, run_id: str, name: str) -> float:
    """One metric of one run. Raises KeyError for an unknown name."""
    return METRICS[name](con, run_id)
