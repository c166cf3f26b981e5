"""Broker arithmetic: turn decided target weights into fills at today's close.

Rules (behaviour.md section 1):
- Fills at the day's close, buys at close x (1 + slippage), sells at close x (1 - slippage);
  commission is a fraction of traded notional.
- Weights are fractions of equity at today's close before any trade.
- Sells are executed before buys. Cash never goes negative: when the buys cost more than
  the cash available after sells, every buy is scaled down by the same factor, and the
  factor is recorded on each fill (`scale`).
- Quantities are fractional (units of the asset); a trade smaller than `MIN_NOTIONAL` is
  not executed.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

MIN_NOTIONAL = 1e-6
_CASH_SAFETY = 1.0 - 1e-12


@attrs.frozen
class Order:
    """A decided target for one asset: reach `target_weight` of today's equity."""

    proposal_id: str
    asset: str
    target_weight: float


@attrs.frozen
class Fill:
    proposal_id: str
    asset: str
    side: str  # "buy" | "sell"
    quantity: float
    price: float
    notional: float
    commission: float
    requested_quantity: float
    scale: float


@attrs.frozen
class Execution:
    """What the broker did: fills in execution order, and the book afterwards."""

    fills: tuple[Fill, ...]
    cash: float
    quantities: Mapping[str, float]
    buy_scale: float


def equity_of(cash: float, quantities: Mapping[str, float], prices: Mapping[str, float]) -> float:
    """Cash plus holdings valued at `prices`."""
    return cash + sum(qty * prices[asset] for asset, qty in sorted(quantities.items()))


def execute(
    orders: list[Order],
    *,
    cash: float,
    quantities: Mapping[str, float],
    prices: Mapping[str, float],
    slippage_bps: float,
    commission: float,
) -> Execution:
    """Fill `orders` against the book. The last order for an asset wins.

    Args:
        orders: decided targets, in decision order.
        cash: cash before trading.
        quantities: units held per asset before trading.
        prices: today's close per asset (every ordered and held asset).
        slippage_bps: slippage in basis points, against the trader on both sides.
        commission: fraction of traded notional paid on each fill.

    Returns:
        The fills (sells first, then buys, each in asset order) and the resulting book.
    """
    equity = equity_of(cash, quantities, prices)
    targets: dict[str, Order] = {}
    for order in orders:
        targets[order.asset] = order
    slip = slippage_bps / 10_000.0

    sells: list[tuple[Order, float]] = []
    buys: list[tuple[Order, float]] = []
    for asset in sorted(targets):
        order = targets[asset]
        price = prices[asset]
        target_qty = max(order.target_weight, 0.0) * equity / price
        delta = target_qty - quantities.get(asset, 0.0)
        if abs(delta) * price < MIN_NOTIONAL:
            continue
        (buys if delta > 0 else sells).append((order, delta))

    new_qty = dict(quantities)
    fills: list[Fill] = []
    for order, delta in sells:
        qty = -delta
        held = new_qty.get(order.asset, 0.0)
        if order.target_weight <= 0.0 or qty > held:
            qty = held  # a close sells everything, never more than held
        price = prices[order.asset] * (1.0 - slip)
        notional = qty * price
        fee = notional * commission
        cash += notional - fee
        remaining = held - qty
        if remaining <= 0.0:
            new_qty.pop(order.asset, None)
        else:
            new_qty[order.asset] = remaining
        fills.append(
            Fill(order.proposal_id, order.asset, "sell", qty, price, notional, fee, -delta, 1.0)
        )

    buy_cost = sum(delta * prices[o.asset] * (1.0 + slip) * (1.0 + commission) for o, delta in buys)
    scale = 1.0
    if buy_cost > cash:
        scale = max(cash, 0.0) / buy_cost * _CASH_SAFETY
    for order, delta in buys:
        qty = delta * scale
        price = prices[order.asset] * (1.0 + slip)
        notional = qty * price
        fee = notional * commission
        cash -= notional + fee
        new_qty[order.asset] = new_qty.get(order.asset, 0.0) + qty
        fills.append(
            Fill(order.proposal_id, order.asset, "buy", qty, price, notional, fee, delta, scale)
        )
    if -1e-9 < cash < 0.0:
        cash = 0.0
    return Execution(fills=tuple(fills), cash=cash, quantities=new_qty, buy_scale=scale)
