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

The book (`Book`) is the one record of what is held: cash, and per asset its units and
its entry date. A position is entered on the buy fill that takes its units up from zero
and leaves the book when a sell takes them to zero; adding to a held position keeps its
entry date. `trade_day` turns the day's decisions into orders (the last decision of an
asset wins; a blocked one leaves the position as it is), fills them, and returns the new
book with each fill's weight after the day, the turnover and the costs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

import attrs

from domain.messages import (
    AMENDED,
    APPROVED,
    CLOSE,
    INCREASE,
    OPEN,
    REDUCE,
    TradeDecided,
    TradeFilled,
)
from domain.rules import CASH_FLOOR, COSTS, SELL_BEFORE_BUY

if TYPE_CHECKING:
    from domain.stages import Stages

MIN_NOTIONAL = 1e-6
_CASH_SAFETY = 1.0 - 1e-12
BUY = "buy"
SELL = "sell"
_SOLVE_TOLERANCE = 1e-15
_SOLVE_ITERATIONS = 200


_SIDES: Mapping[str, str] = MappingProxyType({OPEN: BUY, INCREASE: BUY, REDUCE: SELL, CLOSE: SELL})


def side_of(action: str) -> str:
    """The only side a decision may fill on: opens and increases buy, reduces and closes sell."""
    return _SIDES[action]


class Order(NamedTuple):
    """A decided target for one asset: reach `target_weight` of the equity after the day
    (a named tuple: a day makes one per decision it fills).

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
    buy_rate, sell_rate = rates.buy, rates.sell
    factor = 1.0
    for _ in range(_SOLVE_ITERATIONS):
        cost = 0.0
        for weight, target, side in orders:
            # _change(target, side, weight, factor), inline: the solver's inner loop
            if target <= 0.0:
                delta = -weight
            else:
                delta = target * factor - weight
                if (side == BUY and delta < 0.0) or (side == SELL and delta > 0.0):
                    delta = 0.0
            cost += delta * buy_rate if delta > 0 else -delta * sell_rate
        new = 1.0 - cost
        if abs(new - factor) <= _SOLVE_TOLERANCE:
            return new
        factor = new
    return factor


class Fill(NamedTuple):
    """One fill of an order at the day's close (a named tuple: the broker makes one per
    trade of every day; `trade_day` reports it as a `TradeFilled`)."""

    proposal_id: str
    asset: str
    side: str  # "buy" | "sell"
    quantity: float
    price: float
    notional: float
    commission: float
    requested_quantity: float
    scale: float
    rules: tuple[str, ...] = ()
    """The execution rules that shaped this fill: `execution.costs` when it paid commission
    or slippage, `execution.sell_before_buy` for a buy filled after the day's sells (their
    proceeds paid for it), `execution.cash_floor` for a buy the cash scaled down."""


def _fill(
    order: Order,
    side: str,
    qty: float,
    price: float,
    fee: float,
    requested: float,
    scale: float,
    *,
    slip: float,
    sold: bool,
) -> Fill:
    """The fill of `order` with its `Fill.rules`, in that order: costs (it paid a fee, or
    slippage), sell before buy (a buy after the day's sells: `sold`), cash floor (a buy the
    cash scaled down)."""
    rules: tuple[str, ...] = (COSTS.id,) if fee > 0.0 or slip > 0.0 else ()
    if side == BUY:
        rules += (SELL_BEFORE_BUY.id,) if sold else ()
        rules += (CASH_FLOOR.id,) if scale < 1.0 else ()
    notional = qty * price
    return Fill(
        order.proposal_id, order.asset, side, qty, price, notional, fee, requested, scale, rules
    )


@attrs.frozen
class Execution:
    """What the broker did: fills in execution order, and the book afterwards."""

    fills: tuple[Fill, ...]
    cash: float
    quantities: Mapping[str, float]
    buy_scale: float


def fill_price(close: float, side: str, slip: float) -> float:
    """execution.costs: a buy fills at close x (1 + slippage), a sale at close x (1 - it)."""
    return close * (1.0 + slip) if side == BUY else close * (1.0 - slip)


def fee_of(notional: float, commission: float) -> float:
    """execution.costs: the commission on a fill's notional (buys and sells alike)."""
    return notional * commission


def buy_scale(buy_cost: float, cash: float) -> float:
    """execution.cash_floor: the factor on every buy, so that the buys cost at most the
    cash after the sells (1 when they fit)."""
    if buy_cost > cash:
        return max(cash, 0.0) / buy_cost * _CASH_SAFETY
    return 1.0


def _stated_stages(stages: Stages | None) -> Stages:
    if stages is not None:
        return stages
    from domain.stages import DEFAULT_STAGES  # domain.stages imports this module

    return DEFAULT_STAGES


def equity_of(cash: float, quantities: Mapping[str, float], prices: Mapping[str, float]) -> float:
    """Cash plus holdings valued at `prices`."""
    return _valued(cash, sorted(quantities.items()), prices)


def _valued(
    cash: float, holdings: Iterable[tuple[str, float]], prices: Mapping[str, float]
) -> float:
    """Cash plus (asset, units) `holdings`, in asset order, valued at `prices`: the one
    sum behind `equity_of` and `Book.equity`, so both give the same bits."""
    return cash + sum(qty * prices[asset] for asset, qty in holdings)


def execute(
    orders: list[Order],
    *,
    cash: float,
    quantities: Mapping[str, float],
    prices: Mapping[str, float],
    slippage_bps: float,
    commission: float,
    stages: Stages | None = None,
) -> Execution:
    """Fill `orders` against the book. The last order for an asset wins.

    Args:
        orders: decided targets, in decision order.
        cash: cash before trading.
        quantities: units held per asset before trading.
        prices: today's close per asset (every ordered and held asset).
        slippage_bps: slippage in basis points, against the trader on both sides.
        commission: fraction of traded notional paid on each fill.
        stages: the run's stage rules (fill prices, fees, the cash floor; None: stated).

    Returns:
        The fills (sells first, then buys, each in asset order) and the resulting book.
    """
    stages, cash_before = _stated_stages(stages), cash
    sells, buys = _deltas(orders, cash, quantities, prices, CostRates.of(slippage_bps, commission))
    slip = slippage_bps / 10_000.0
    new_qty = dict(quantities)
    fills: list[Fill] = []
    for order, delta in sells:
        held = new_qty.get(order.asset, 0.0)
        qty = held if order.target_weight <= 0.0 or -delta > held else -delta  # never short
        price = stages.fill_price(prices[order.asset], SELL, slip)
        notional = qty * price
        fee = stages.fee(notional, SELL, commission)
        cash += notional - fee
        if held - qty <= 0.0:
            new_qty.pop(order.asset, None)
        else:
            new_qty[order.asset] = held - qty
        fills.append(_fill(order, SELL, qty, price, fee, -delta, 1.0, slip=slip, sold=True))
    buy_cost = sum(delta * prices[o.asset] * (1.0 + slip) * (1.0 + commission) for o, delta in buys)
    scale = stages.buy_scale(buy_cost, cash, cash_before)
    for order, delta in buys:
        qty = delta * scale
        if qty * prices[order.asset] < MIN_NOTIONAL:
            continue  # scaled to dust by the cash: not a trade (no fill, no entry)
        price = stages.fill_price(prices[order.asset], BUY, slip)
        notional = qty * price
        fee = stages.fee(notional, BUY, commission)
        cash -= notional + fee
        new_qty[order.asset] = new_qty.get(order.asset, 0.0) + qty
        fills.append(_fill(order, BUY, qty, price, fee, delta, scale, slip=slip, sold=bool(sells)))
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
    ordered = sorted(targets.items())
    factor = post_trade_factor(weights, [(a, o.target_weight, o.side) for a, o in ordered], rates)
    sells: list[tuple[Order, float]] = []
    buys: list[tuple[Order, float]] = []
    for asset, order in ordered:
        price = prices[asset]
        change = _change(order.target_weight, order.side, weights.get(asset, 0.0), factor)
        delta = change * equity / price
        if abs(delta) * price >= MIN_NOTIONAL:
            (buys if delta > 0 else sells).append((order, delta))
    return sells, buys


# --- the book ---------------------------------------------------------------------------


@attrs.frozen
class Position:
    """One asset on the book: units held and the day the position was entered."""

    quantity: float
    entered: dt.date


def _positions(value: Mapping[str, Position]) -> Mapping[str, Position]:
    return MappingProxyType({asset: value[asset] for asset in sorted(value)})


@attrs.frozen
class Book:
    """Cash and positions, never mutated: a day's fills give a new book (`trade_day`)."""

    cash: float
    positions: Mapping[str, Position] = attrs.field(factory=dict, converter=_positions)

    @classmethod
    def seeded(
        cls,
        cash: float,
        weights: Mapping[str, float],
        entered: Mapping[str, dt.date],
        prices: Mapping[str, float],
    ) -> Book:
        """The starting book: each weight of `cash` bought at `prices`, with no costs.

        Args:
            cash: the starting cash.
            weights: asset -> fraction of the starting cash it holds.
            entered: asset -> its entry date (every asset of `weights`).
            prices: the first day's closes.
        """
        start = left = float(cash)
        positions = {}
        for asset in sorted(weights):
            value = weights[asset] * start
            positions[asset] = Position(value / prices[asset], entered[asset])
            left -= value
        return cls(left, positions)

    @property
    def quantities(self) -> dict[str, float]:
        """asset -> units held, for every position."""
        return {asset: p.quantity for asset, p in self.positions.items()}

    def held(self) -> tuple[str, ...]:
        """The assets with units above zero, sorted."""
        return tuple(a for a, p in self.positions.items() if p.quantity > 0)

    def equity(self, prices: Mapping[str, float]) -> float:
        """Cash plus the positions valued at `prices` (`equity_of`: the positions are in
        asset order already, so the same sum without sorting them again)."""
        return _valued(self.cash, ((a, p.quantity) for a, p in self.positions.items()), prices)

    def after(self, execution: Execution, day: dt.date) -> Book:
        """The book once `execution` (filled against this book on `day`) is done."""
        before = self.positions
        opened = {
            f.asset
            for f in execution.fills
            if f.side == BUY and (f.asset not in before or before[f.asset].quantity <= 0.0)
        }
        positions = {}
        for asset, qty in execution.quantities.items():
            if asset in opened:
                positions[asset] = Position(qty, day)
            elif before[asset].quantity == qty:
                positions[asset] = before[asset]  # not traded: the same (frozen) position
            else:
                positions[asset] = Position(qty, before[asset].entered)
        return Book(execution.cash, positions)


@attrs.frozen
class TradingDay:
    """What a day's decisions did: the book after, the fills, turnover and costs.

    Attributes:
        fills: the day's fills in execution order, as the broker reports them (each
            `Fill` with the weight of its asset in the equity after the day's trades).
        turnover: the notional traded.
        costs: commissions plus slippage (distance of each fill's price from the close,
            times its units).
        buy_scale: the factor the cash scaled every buy by (1 when it did not).
    """

    book: Book
    fills: tuple[TradeFilled, ...] = ()
    turnover: float = 0.0
    costs: float = 0.0
    buy_scale: float = 1.0


def orders_of(decisions: Iterable[TradeDecided]) -> list[Order]:
    """The orders of a day's decisions, in decision order: per asset only the last
    decision counts (a later round replaces an earlier one), and a blocked last decision
    keeps the position as it is (no order)."""
    last: dict[str, TradeDecided] = {}
    for decision in decisions:
        last[decision.asset] = decision
    return [
        Order(d.proposal_id, d.asset, d.final_weight, _SIDES[d.action])  # side_of(d.action)
        for d in last.values()
        if d.outcome in (APPROVED, AMENDED)
    ]


def trade_day(
    book: Book,
    decisions: Iterable[TradeDecided],
    *,
    day: dt.date,
    prices: Mapping[str, float],
    slippage_bps: float,
    commission: float,
    stages: Stages | None = None,
) -> TradingDay:
    """Fill a day's decisions against `book` at `prices` (see the module's rules), through
    the run's stage rules `stages` (the stated ones when None)."""
    stages = _stated_stages(stages)
    orders = stages.orders_of(decisions)
    if not orders:
        return TradingDay(book)
    result = execute(
        orders,
        cash=book.cash,
        quantities=book.quantities,
        prices=prices,
        slippage_bps=slippage_bps,
        commission=commission,
        stages=stages,
    )
    new = book.after(result, day)
    equity_after = new.equity(prices)
    reported = []
    turnover = costs = 0.0
    for fill in result.fills:
        position = new.positions.get(fill.asset)
        units = 0.0 if position is None else position.quantity
        reported.append(_reported(fill, units * prices[fill.asset] / equity_after))
        turnover += fill.notional
        costs += fill.commission + abs(fill.price - prices[fill.asset]) * fill.quantity
    return TradingDay(new, tuple(reported), turnover, costs, result.buy_scale)


def _reported(fill: Fill, weight_after: float) -> TradeFilled:
    """The broker's report of `fill` (positional, in TradeFilled's field order: a message
    per fill of every day)."""
    return TradeFilled(
        fill.proposal_id,
        fill.asset,
        fill.side,
        fill.quantity,
        fill.price,
        fill.notional,
        fill.commission,
        weight_after,
        fill.requested_quantity,
        fill.scale,
        fill.rules,
    )
