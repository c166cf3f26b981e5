"""The broker: fills approved and amended decisions at the day's close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from agents.base import BulwarkAgent
from agents.protection import notice
from agents.view import WorldView
from domain.execution import Book, TradingDay, trade_day


class BrokerAgent(BulwarkAgent):
    """Keeps the book (`domain.execution.Book`) and fills the day's decided targets.

    Args:
        model: the world.
        cash: the starting cash.
    """

    name = "broker"

    def __init__(self, model: WorldView, cash: float) -> None:
        super().__init__(model)
        self.book = Book(float(cash))
        self.day = TradingDay(self.book)
        self._equity: tuple[Book, Mapping[str, float], float] | None = None

    def seed_book(self, weights: Mapping[str, float], entered: Mapping[str, dt.date]) -> None:
        """Hold the starting portfolio: weights of starting cash at the first day's close."""
        self.book = Book.seeded(self.book.cash, weights, entered, self.model.prices_today)
        self.day = TradingDay(self.book)

    def equity(self) -> float:
        """The book's value at today's closes (computed once per book and day: the book
        and the day's closes never change, so the objects themselves are the key)."""
        book, prices = self.book, self.model.prices_today
        cached = self._equity
        if cached is None or cached[0] is not book or cached[1] is not prices:
            cached = self._equity = (book, prices, book.equity(prices))
        return cached[2]

    def execute(self) -> None:
        """Fill today's decisions (the last one of each asset counts) and report the fills."""
        decisions = self.inbox("decision")
        cfg = self.model.config
        self.day = trade_day(
            self.book,
            [env.message for env in decisions],
            day=self.model.date,
            prices=self.model.prices_today,
            slippage_bps=cfg.slippage_bps,
            commission=cfg.commission,
            stages=self.model.registry.stages,
        )
        self.book = self.day.book
        reply_to = {env.message.proposal_id: env.id for env in decisions}
        for fill in self.day.fills:
            self.publish(fill, in_reply_to=reply_to[fill.proposal_id])
        if self.day.buy_scale < 1.0:
            self.publish(
                notice(
                    "buys_scaled",
                    None,
                    scale=self.day.buy_scale,
                    reason="buys cost more than the cash after sells",
                )
            )
