"""Broker arithmetic: turn decided target weights into fills at today's close.

Rules (behaviour.md section 1, docs/architecture.md "Fills"):
- Fills at the day's close, buys at close x (1 + slippage), sells at close x (1 - slippage);
  commission is a fraction of traded notional.
- A target weight is a fraction of the equity *after* the day's trades: the day's
  commission and slippage leave equity, and the fills are sized so that every traded
  position ends exactly at its target (`post_trade_factor` solves for that equity).
- A fill never goes against its decision: an open or increase only buys, a reduce or close
  only sells (when the day's costs would turn a tiny increase into a sale, nothing trades).
- Sells are executed before buys. Cash never goes negative: when the buys cost more than
  the cash available after sells, every buy is scaled down by the same factor, and the
  factor is recorded on each fill (`scale`).
- Quantities are fractional (units of the asset); a trade smaller than `MIN_NOTIONAL` is
  not executed, including a buy the cash scaling shrinks below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from domain.messages import CLOSE, INCREASE, OPEN, REDUCE

MIN_NOTIONAL = 1e-6
_CASH_SAFETY = 1.0 - 1e-12
BUY = "buy"
SELL = "sell"
_SOLVE_TOLERANCE = 1e-15
_SOLVE_ITERATIONS = 200


def side_of(action: str) -> str:
    """The only side a decision may fill on: opens and increases buy, reduces and closes sell."""
    return {OPEN: BUY, INCREASE: BUY, REDUCE: SELL, CLOSE: SELL}[action]


@attrs.frozen
class Order:
    """A decided target for one asset: reach `target_weight` of the equity after the day.

    Attributes:
        side: "buy" (an open or increase: the order may only buy), "sell" (a reduce or
            close: it may only sell), or None (either way).
    """

    proposal_id: str
    asset: str
    target_weight: float
    side: str | None = None


@attrs.frozen
class CostRates:
    """Value a trade loses to costs, per unit of value traded at the close.

    A buy of value v at the close pays v (1 + s)(1 + c): it loses v (s + c + s c). A sale
    of value v receives v (1 - s)(1 - c): it loses v (s + c - s c).
    """

    buy: float
    sell: float

    @classmethod
    def of(cls, slippage_bps: float, commission: float) -> CostRates:
        """The rates for a slippage in basis points and a commission fraction."""
        s, c = slippage_bps / 10_000.0, commission
        return cls(buy=s + c + s * c, sell=s + c - s * c)


NO_COSTS = CostRates(0.0, 0.0)


def _change(target: float, side: str | None, weight: float, factor: float) -> float:
    """Change of value (a fraction of today's equity) that brings `weight` to `target` of
    the post-trade equity `factor` (x today's), within the order's side."""
    if target <= 0.0:
        return -weight
    delta = target * factor - weight
    if side == BUY:
        return max(delta, 0.0)
    if side == SELL:
        return min(delta, 0.0)
    return delta


def post_trade_factor(
    weights: Mapping[str, float],
    targets: Iterable[tuple[str, float, str | None]],
    rates: CostRates,
) -> float:
    """Equity after the day's trades as a fraction of the equity before them.

    Args:
        weights: asset -> weight of today's equity before trading.
        targets: (asset, target weight of the post-trade equity, side) for every asset
            traded today (one entry per asset).
        rates: the cost rates.

    Returns:
        f with f = 1 - sum of each trade's cost, each trade sized so that its asset ends at
        target x f: the fixed point, found by iteration (a contraction: costs are a small
        fraction of the traded value).
    """
    orders = [(weights.get(a, 0.0), t, side) for a, t, side in targets]
    factor = 1.0
    for _ in range(_SOLVE_ITERATIONS):
        cost = 0.0
        for weight, target, side in orders:
            delta = _change(target, side, weight, factor)
            cost += delta * rates.buy if delta > 0 else -delta * rates.sell
        new = 1.0 - cost
        if abs(new - factor) <= _SOLVE_TOLERANCE:
            return new
        factor = new
    return factor


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
    sells, buys = _deltas(orders, cash, quantities, prices, CostRates.of(slippage_bps, commission))
    slip = slippage_bps / 10_000.0
    new_qty = dict(quantities)
    fills: list[Fill] = []
    for order, delta in sells:
        held = new_qty.get(order.asset, 0.0)
        qty = held if order.target_weight <= 0.0 or -delta > held else -delta  # never short
        price = prices[order.asset] * (1.0 - slip)
        notional = qty * price
        fee = notional * commission
        cash += notional - fee
        if held - qty <= 0.0:
            new_qty.pop(order.asset, None)
        else:
            new_qty[order.asset] = held - qty
        fills.append(
            Fill(order.proposal_id, order.asset, SELL, qty, price, notional, fee, -delta, 1.0)
        )
    buy_cost = sum(delta * prices[o.asset] * (1.0 + slip) * (1.0 + commission) for o, delta in buys)
    scale = 1.0
    if buy_cost > cash:
        scale = max(cash, 0.0) / buy_cost * _CASH_SAFETY
    for order, delta in buys:
        qty = delta * scale
        if qty * prices[order.asset] < MIN_NOTIONAL:
            continue  # scaled to dust by the cash: not a trade (no fill, no entry)
        price = prices[order.asset] * (1.0 + slip)
        notional = qty * price
        fee = notional * commission
        cash -= notional + fee
        new_qty[order.asset] = new_qty.get(order.asset, 0.0) + qty
        fills.append(
            Fill(order.proposal_id, order.asset, BUY, qty, price, notional, fee, delta, scale)
        )
    if -1e-9 < cash < 0.0:
        cash = 0.0
    return Execution(fills=tuple(fills), cash=cash, quantities=new_qty, buy_scale=scale)


def _deltas(
    orders: list[Order],
    cash: float,
    quantities: Mapping[str, float],
    prices: Mapping[str, float],
    rates: CostRates,
) -> tuple[list[tuple[Order, float]], list[tuple[Order, float]]]:
    """(sells, buys): each order with its change of units, sized against the post-trade
    equity, in asset order (the last order of an asset wins; tiny trades are dropped)."""
    equity = equity_of(cash, quantities, prices)
    targets: dict[str, Order] = {}
    for order in orders:
        targets[order.asset] = order
    weights = {a: q * prices[a] / equity for a, q in quantities.items()} if equity > 0 else {}
    factor = post_trade_factor(
        weights, [(a, o.target_weight, o.side) for a, o in sorted(targets.items())], rates
    )
    sells: list[tuple[Order, float]] = []
    buys: list[tuple[Order, float]] = []
    for asset in sorted(targets):
        order = targets[asset]
        price = prices[asset]
        change = _change(order.target_weight, order.side, weights.get(asset, 0.0), factor)
        delta = change * equity / price
        if abs(delta) * price >= MIN_NOTIONAL:
            (buys if delta > 0 else sells).append((order, delta))
    return sells, buys
