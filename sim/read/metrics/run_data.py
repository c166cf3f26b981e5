"""One run's rows as the metrics read them, each read from the event database once, when
first asked for (so computing every metric reads the equity table once)."""

from __future__ import annotations

import json
import sqlite3
from functools import cached_property
from typing import Any

import numpy as np

from sim.read.metrics.positions import Fill, Ledger, ledger, starting_values
from sim.read.metrics.protection import Decision, Overruled


class RunData:
    """Lazy, cached reads of one run of an event database.

    Args:
        con: an open connection to the event database (read-only is enough).
        run_id: the run.
    """

    def __init__(self, con: sqlite3.Connection, run_id: str) -> None:
        self.con = con
        self.run_id = run_id

    def scalar(self, sql: str) -> Any:
        """The first column of the first row of `sql`, whose one parameter is the run id."""
        return self.con.execute(sql, [self.run_id]).fetchone()[0]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Every row of `sql` as tuples (its parameters are the run id, once per `?`)."""
        cur = self.con.execute(sql, [self.run_id] * sql.count("?"))
        return [tuple(r) for r in cur.fetchall()]

    @cached_property
    def config(self) -> dict[str, Any]:
        """Every parameter in force at the start of the run."""
        return json.loads(self.scalar("SELECT config FROM runs WHERE run_id = ?") or "{}")

    @cached_property
    def levels(self) -> np.ndarray:
        """The initial cash, then the equity of each recorded step."""
        cash = float(self.scalar("SELECT initial_cash FROM runs WHERE run_id = ?"))
        equity = self.rows("SELECT equity FROM equity WHERE run_id = ? ORDER BY step")
        return np.array([cash, *(r[0] for r in equity)], dtype=float)

    @cached_property
    def fills(self) -> list[Fill]:
        """Every fill of the run, in order."""
        return [
            _fill(asset, date, json.loads(payload))
            for asset, date, payload in self.rows(
                "SELECT asset, date, payload FROM messages"
                " WHERE run_id = ? AND kind = 'fill' ORDER BY id"
            )
        ]

    @cached_property
    def positions(self) -> Ledger:
        """The run's positions, closed and open (`positions.ledger`)."""
        first = self.rows("SELECT MIN(step), MIN(date) FROM equity WHERE run_id = ?")[0]
        if first[0] is None:
            return Ledger((), {})
        holdings = {
            asset: (quantity, price)
            for asset, quantity, price in self.con.execute(
                "SELECT asset, quantity, price FROM snapshots WHERE run_id = ? AND step = ?",
                [self.run_id, first[0]],
            )
        }
        first_fills = [f for f in self.fills if f.date == first[1]]
        slippage = float(self.config.get("slippage_bps", 0.0))
        starting = starting_values(holdings, first_fills, slippage)
        return ledger(self.fills, starting, first[1])

    @cached_property
    def decisions(self) -> list[Decision]:
        """Every decision of the run with its proposal's target weight, in order."""
        rows = self.rows(
            "SELECT d.payload, json_extract(p.payload, '$.to_weight') FROM messages d"
            " JOIN messages p ON p.run_id = d.run_id AND p.id = d.in_reply_to"
            " WHERE d.run_id = ? AND d.kind = 'decision' ORDER BY d.id"
        )
        out = []
        for payload, target in rows:
            d = json.loads(payload)
            out.append(
                Decision(
                    d["decided_by"],
                    d["outcome"],
                    d.get("rule"),
                    d["final_weight"],
                    float(target),
                    tuple(d.get("overridden") or ()),
                )
            )
        return out

    @cached_property
    def overruled(self) -> list[Overruled]:
        """Every objection a decision overrode, with the rule of the overridden verdict."""
        rows = self.rows(
            "SELECT o.value, json_extract(v.payload, '$.rule') FROM messages d"
            " JOIN json_each(d.payload, '$.overridden') o"
            " LEFT JOIN messages v ON v.run_id = d.run_id AND v.kind = 'verdict'"
            " AND v.proposal_id = d.proposal_id AND json_extract(v.payload, '$.system') = o.value"
            " WHERE d.run_id = ? AND d.kind = 'decision' ORDER BY d.id"
        )
        return [Overruled(name, rule) for name, rule in rows]

    @cached_property
    def systems(self) -> list[str]:
        """Every protection that gave a verdict and every system that decided, sorted."""
        rows = self.rows(
            "SELECT DISTINCT json_extract(payload, '$.system') FROM messages"
            " WHERE run_id = ? AND kind = 'verdict'"
        )
        return sorted({r[0] for r in rows} | {d.decided_by for d in self.decisions})


def _fill(asset: str, date: str, p: dict[str, Any]) -> Fill:
    return Fill(
        asset,
        date,
        p["side"],
        p["quantity"],
        p["price"],
        p["notional"],
        p["commission"],
        p["weight_after"],
    )
