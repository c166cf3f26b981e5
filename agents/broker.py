"""The broker: fills approved and amended decisions at the day's close."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from agents.base import BulwarkAgent
from agents.protection import notice
from domain.execution import Order, equity_of, execute, side_of
from domain.messages import AMENDED, APPROVED, TradeDecided, TradeFilled

if TYPE_CHECKING:
    from sim.model import BulwarkModel


class BrokerAgent(BulwarkAgent):
    """Keeps the book (cash, units, entry dates) and executes decided targets."""

    name = "broker"

    def __init__(self, model: BulwarkModel, cash: float) -> None:
        super().__init__(model)
        self.cash = float(cash)
        self.quantities: dict[str, float] = {}
        self.entered: dict[str, dt.date] = {}
        self.turnover = 0.0
        self.costs = 0.0

    def seed_book(self, weights: dict[str, float], entered: dict[str, dt.date]) -> None:
        """Hold the starting portfolio: weights of starting cash at the first day's close."""
        prices = self.model.prices_today
        start_cash = self.cash
        for asset in sorted(weights):
            value = weights[asset] * start_cash
            self.quantities[asset] = value / prices[asset]
            self.cash -= value
            self.entered[asset] = entered[asset]

    def equity(self) -> float:
        return equity_of(self.cash, self.quantities, self.model.prices_today)

    def execute(self) -> None:
        """Fill today's decisions: per asset the last decision of the step counts (a block
        keeps the position as it is); sells first, buys scaled down to the cash."""
        last: dict[str, object] = {}
        for env in self.inbox("decision"):
            last[env.message.asset] = env  # a later round's decision replaces an earlier one
        orders = []
        by_proposal = {}
        for env in last.values():
            if env.message.outcome not in (APPROVED, AMENDED):
                continue
            decision: TradeDecided = env.message
            orders.append(
                Order(
                    decision.proposal_id,
                    decision.asset,
                    decision.final_weight,
                    side_of(decision.action),
                )
            )
            by_proposal[decision.proposal_id] = env.id
        self.turnover = 0.0
        self.costs = 0.0
        if not orders:
            return
        cfg = self.model.config
        prices = self.model.prices_today
        before = dict(self.quantities)
        result = execute(
            orders,
            cash=self.cash,
            quantities=self.quantities,
            prices=prices,
            slippage_bps=cfg.slippage_bps,
            commission=cfg.commission,
        )
        self.cash = result.cash
        self.quantities = dict(result.quantities)
        equity_after = self.equity()
        for fill in result.fills:
            if fill.side == "buy" and before.get(fill.asset, 0.0) <= 0.0:
                self.entered[fill.asset] = self.model.date
            if fill.asset not in self.quantities:
                self.entered.pop(fill.asset, None)
            weight_after = self.quantities.get(fill.asset, 0.0) * prices[fill.asset] / equity_after
            slippage_cost = abs(fill.price - prices[fill.asset]) * fill.quantity
            self.turnover += fill.notional
            self.costs += fill.commission + slippage_cost
            self.publish(
                TradeFilled(
                    proposal_id=fill.proposal_id,
                    asset=fill.asset,
                    side=fill.side,
                    quantity=fill.quantity,
                    price=fill.price,
                    notional=fill.notional,
                    commission=fill.commission,
                    weight_after=weight_after,
                    requested_quantity=fill.requested_quantity,
                    scale=fill.scale,
                ),
                in_reply_to=by_proposal[fill.proposal_id],
            )
        if result.buy_scale < 1.0:
            self.publish(
                notice(
                    "buys_scaled",
                    None,
                    scale=result.buy_scale,
                    reason="buys cost more than the cash after sells",
                )
            )
