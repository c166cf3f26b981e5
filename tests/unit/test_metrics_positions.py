"""Closed positions from fills: open to close, costs included, starting holdings valued at
the first day's close (docs/metrics.md, "Closed positions")."""

from __future__ import annotations

import pytest

from sim.read.metrics.positions import (
    ClosedPosition,
    Fill,
    ledger,
    starting_values,
    win_rate,
)


def _buy(asset, date, quantity, price, commission=0.0):
    return Fill(asset, date, "buy", quantity, price, quantity * price, commission, 0.1)


def _sell(asset, date, quantity, price, commission=0.0, weight_after=0.1):
    return Fill(asset, date, "sell", quantity, price, quantity * price, commission, weight_after)


def test_ledger_when_bought_added_trimmed_and_closed_then_pnl_is_cash_in_minus_cash_out():
    fills = [
        _buy("A", "d1", 10, 100.0, commission=1.0),
        _buy("A", "d2", 10, 110.0, commission=1.0),
        _sell("A", "d3", 5, 120.0, commission=0.5),
        _sell("A", "d4", 15, 90.0, commission=1.5, weight_after=0.0),
    ]
    closed = ledger(fills, {}, "d0").closed
    cost = 1000.0 + 1.0 + 1100.0 + 1.0
    proceeds = 600.0 - 0.5 + 1350.0 - 1.5
    assert closed == (ClosedPosition("A", "d1", "d4", cost, proceeds - cost),)


def test_ledger_when_closed_and_reopened_then_two_positions_and_one_still_open():
    fills = [
        _buy("A", "d1", 1, 100.0),
        _sell("A", "d2", 1, 105.0, weight_after=0.0),
        _buy("A", "d3", 1, 104.0),
        _buy("B", "d3", 2, 50.0),
        _sell("B", "d5", 2, 49.0, weight_after=0.0),
    ]
    book = ledger(fills, {}, "d0")
    assert [(p.asset, p.opened, p.closed, p.pnl) for p in book.closed] == [
        ("A", "d1", "d2", pytest.approx(5.0)),
        ("B", "d3", "d5", pytest.approx(-2.0)),
    ]
    assert list(book.open) == ["A"] and book.open["A"].cost == pytest.approx(104.0)


def test_ledger_when_starting_holding_sold_then_cost_is_its_first_close_value():
    book = ledger([_sell("S", "d4", 10, 12.0, weight_after=0.0)], {"S": 100.0}, "d0")
    assert book.closed == (ClosedPosition("S", "d0", "d4", 100.0, 20.0),)


def test_ledger_when_sell_without_position_then_error_names_asset_and_day():
    with pytest.raises(ValueError, match="sell of X on d2 with no open position"):
        ledger([_sell("X", "d2", 1, 10.0)], {}, "d0")


def test_starting_values_when_first_day_trades_then_starting_quantity_is_snapshot_less_fills():
    holdings = {"KEEP": (30.0, 10.0), "TRIM": (6.0, 20.0), "NEW": (5.0, 40.0)}
    fills = [
        _sell("TRIM", "d0", 4.0, 19.98),
        _buy("NEW", "d0", 5.0, 40.04),
        _sell("GONE", "d0", 8.0, 49.95),  # sold whole on day 0: its close is 49.95 / (1 - 10bp)
    ]
    values = starting_values(holdings, fills, slippage_bps=10.0)
    assert values == {
        "KEEP": pytest.approx(300.0),
        "TRIM": pytest.approx(200.0),
        "GONE": pytest.approx(400.0),
    }


def test_win_rate_when_positions_closed_then_share_above_zero_and_none_when_none():
    closed = [ClosedPosition("A", "a", "b", 1.0, pnl) for pnl in (5.0, -1.0, 0.0, 2.0)]
    assert win_rate(closed) == 0.5
    assert win_rate([]) is None
