"""The book: a frozen value of cash and positions (units, entry date), and a day's fills
applied to it (last decision wins, entry dates, weight after, turnover, costs)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from domain.execution import Book, Order, Position, equity_of, orders_of, trade_day
from domain.messages import AMENDED, APPROVED, BLOCKED, CLOSE, INCREASE, OPEN, REDUCE, TradeDecided

D0 = dt.date(2024, 1, 2)
D1 = dt.date(2024, 1, 3)
PRICES = {"A": 100.0, "B": 50.0}


def decision(
    asset: str, action: str, final: float, outcome: str = APPROVED, pid: str | None = None
) -> TradeDecided:
    return TradeDecided(
        proposal_id=pid or f"p-{asset}",
        asset=asset,
        action=action,
        outcome=outcome,
        from_weight=0.0,
        final_weight=final,
        decided_by="orchestrator",
    )


def day(book: Book, *decisions: TradeDecided, slippage_bps: float = 0.0, commission=0.0):
    return trade_day(
        book,
        decisions,
        day=D1,
        prices=PRICES,
        slippage_bps=slippage_bps,
        commission=commission,
    )


def test_seeded_when_weights_given_then_units_of_starting_cash_and_entry_dates():
    book = Book.seeded(1000.0, {"B": 0.2, "A": 0.5}, {"A": D0, "B": dt.date(2023, 6, 1)}, PRICES)

    assert book.cash == pytest.approx(300.0)
    assert list(book.positions) == ["A", "B"]
    assert book.positions["A"] == Position(5.0, D0)
    assert book.positions["B"] == Position(4.0, dt.date(2023, 6, 1))
    assert book.equity(PRICES) == pytest.approx(1000.0)


def test_book_when_built_then_frozen():
    book = Book(1.0, {"A": Position(1.0, D0)})

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        book.cash = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        book.positions["B"] = Position(1.0, D0)  # type: ignore[index]


def test_orders_of_when_asset_decided_twice_then_last_decision_wins():
    orders = orders_of(
        [
            decision("A", OPEN, 0.3, pid="0:a"),
            decision("B", OPEN, 0.1),
            decision("A", OPEN, 0.2, pid="1:a"),
        ]
    )

    assert orders == [Order("1:a", "A", 0.2, "buy"), Order("p-B", "B", 0.1, "buy")]


def test_orders_of_when_last_decision_blocked_then_no_order_for_that_asset():
    orders = orders_of([decision("A", OPEN, 0.3), decision("A", OPEN, 0.0, BLOCKED, pid="1:a")])

    assert orders == []


def test_orders_of_when_amended_reduce_then_sell_side_order_at_final_weight():
    assert orders_of([decision("A", REDUCE, 0.1, AMENDED)]) == [Order("p-A", "A", 0.1, "sell")]


def test_trade_day_when_no_order_then_same_book_and_no_turnover():
    book = Book(1000.0, {"A": Position(5.0, D0)})

    result = day(book, decision("A", CLOSE, 0.0, BLOCKED))

    assert result.book is book
    assert (result.fills, result.turnover, result.costs, result.buy_scale) == ((), 0.0, 0.0, 1.0)


def test_trade_day_when_asset_bought_from_zero_then_entered_today():
    result = day(Book(1000.0), decision("A", OPEN, 0.5))

    (fill,) = result.fills
    assert result.book.positions["A"].entered == D1
    assert result.book.positions["A"].quantity == pytest.approx(5.0)
    assert fill.weight_after == pytest.approx(0.5)
    assert result.turnover == pytest.approx(500.0)


def test_trade_day_when_held_position_topped_up_then_entry_date_kept():
    book = Book(750.0, {"A": Position(2.5, D0)})

    result = day(book, decision("A", INCREASE, 0.5))

    assert result.book.positions["A"].entered == D0
    assert result.book.positions["A"].quantity == pytest.approx(5.0)


def test_trade_day_when_sold_to_zero_then_position_leaves_the_book():
    book = Book(250.0, {"A": Position(5.0, D0), "B": Position(5.0, D0)})

    result = day(book, decision("A", CLOSE, 0.0))

    assert book.held() == ("A", "B") and result.book.held() == ("B",)
    assert "A" not in result.book.positions
    assert result.book.cash == pytest.approx(750.0)
    assert result.fills[0].weight_after == 0.0


def test_trade_day_when_costs_then_commission_plus_slippage_from_the_close():
    result = day(Book(1000.0), decision("A", OPEN, 0.5), slippage_bps=100.0, commission=0.01)

    (fill,) = result.fills
    assert fill.price == pytest.approx(101.0)
    assert result.costs == pytest.approx(fill.commission + 1.0 * fill.quantity)
    assert result.turnover == pytest.approx(fill.notional)
    equity_after = result.book.equity(PRICES)
    assert fill.weight_after == pytest.approx(fill.quantity * 100.0 / equity_after)
    assert fill.weight_after == pytest.approx(0.5, rel=1e-9)


def test_trade_day_when_buys_exceed_cash_then_scale_reported():
    result = day(Book(100.0), decision("A", OPEN, 0.8), decision("B", OPEN, 0.8))

    assert result.buy_scale < 1.0
    assert result.book.cash >= 0.0


def test_equity_when_positions_given_unsorted_then_same_bits_as_equity_of():
    prices = {"C": 0.1, "A": 1e16, "B": 3.3, "D": 7.7}
    book = Book(0.7, {"D": Position(0.3, D0), "A": Position(1.0, D0), "C": Position(3.0, D0)})
    assert book.equity(prices).hex() == equity_of(0.7, book.quantities, prices).hex()


def test_trade_day_when_one_asset_traded_then_the_others_keep_their_positions():
    book = Book(500.0, {"A": Position(2.5, D0), "B": Position(5.0, D0)})

    result = day(book, decision("A", INCREASE, 0.5))

    assert result.book.positions["B"] == book.positions["B"]
    assert result.book.positions["A"] == Position(result.book.positions["A"].quantity, D0)
    assert result.book.positions["A"].quantity > 2.5
