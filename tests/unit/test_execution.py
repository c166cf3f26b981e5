import pytest

from domain.execution import Order, equity_of, execute

PRICES = {"A": 100.0, "B": 50.0, "C": 20.0}


def test_execute_when_rebalancing_then_sells_come_before_buys():
    result = execute(
        [Order("p1", "A", 0.0), Order("p2", "B", 0.5)],
        cash=0.0,
        quantities={"A": 10.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    assert [(f.side, f.asset) for f in result.fills] == [("sell", "A"), ("buy", "B")]
    assert result.quantities == {"B": pytest.approx(10.0)}


def test_execute_when_buys_exceed_cash_then_scaled_and_cash_not_negative():
    result = execute(
        [Order("p1", "A", 0.6), Order("p2", "B", 0.6)],
        cash=1000.0,
        quantities={},
        prices=PRICES,
        slippage_bps=0,
        commission=0.001,
    )
    assert result.cash >= 0.0
    assert result.buy_scale == pytest.approx(1000.0 / (1200.0 * 1.001))
    assert all(f.scale == result.buy_scale for f in result.fills)
    assert result.fills[0].requested_quantity == pytest.approx(6.0)
    assert result.fills[0].quantity == pytest.approx(6.0 * result.buy_scale)


def test_execute_when_slippage_and_commission_then_charged_against_trader():
    result = execute(
        [Order("p1", "A", 0.5)],
        cash=1000.0,
        quantities={},
        prices=PRICES,
        slippage_bps=10,
        commission=0.002,
    )
    fill = result.fills[0]
    assert fill.price == pytest.approx(100.1)
    assert fill.commission == pytest.approx(fill.notional * 0.002)
    assert result.cash == pytest.approx(1000.0 - fill.notional - fill.commission)


def test_execute_when_target_weight_then_quantity_from_equity_at_close():
    result = execute(
        [Order("p1", "C", 0.25)],
        cash=500.0,
        quantities={"A": 5.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    equity = equity_of(500.0, {"A": 5.0}, PRICES)
    assert result.quantities["C"] == pytest.approx(0.25 * equity / 20.0)


def test_execute_when_close_then_sells_everything_held():
    result = execute(
        [Order("p1", "A", 0.0)],
        cash=0.0,
        quantities={"A": 3.0},
        prices=PRICES,
        slippage_bps=25,
        commission=0.0,
    )
    assert result.fills[0].quantity == pytest.approx(3.0)
    assert "A" not in result.quantities


def test_execute_when_same_asset_ordered_twice_then_last_order_wins():
    result = execute(
        [Order("p1", "A", 0.5), Order("p2", "A", 0.1)],
        cash=1000.0,
        quantities={},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    assert [f.proposal_id for f in result.fills] == ["p2"]
    assert result.quantities["A"] == pytest.approx(1.0)


def test_execute_when_target_equals_holding_then_no_fill():
    result = execute(
        [Order("p1", "A", 0.5)],
        cash=500.0,
        quantities={"A": 5.0},
        prices=PRICES,
        slippage_bps=0,
        commission=0.0,
    )
    assert result.fills == ()
