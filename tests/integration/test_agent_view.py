"""Agents run over any Mesa model that implements `agents.view.WorldView`: here a small
hand-built world, not `BulwarkModel`. The regime and the scores reach a protection as the
messages they are; the broker's book moves only through its own fills."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import mesa
import numpy as np
import pytest

from agents.broker import BrokerAgent
from agents.orchestrator import OrchestratorAgent
from agents.protection import ProtectionAgent
from domain.config import default_config
from domain.execution import Book, Position
from domain.market import MarketData
from domain.messages import (
    APPROVE,
    OPEN,
    ProposeTrade,
    RegimeUpdated,
    RequestReview,
    ScoresPublished,
    TradeDecided,
)
from domain.protections.base import DayContext, PositionView, Protection, ReviewContext
from domain.protections.registry import BUILTIN
from sim.run.bus import MessageBus

DAY = dt.date(2024, 1, 3)


class World(mesa.Model):
    """The smallest world: one day, two assets, an empty book, no interventions."""

    def __init__(self) -> None:
        super().__init__(rng=0)
        self.bus = MessageBus()
        self.bus.begin_step(0, DAY)
        self.steps_done = 0
        self.date = DAY
        self.round = 0
        self.config = default_config().replace(slippage_bps=0.0, commission=0.0)
        self.registry = BUILTIN
        self.market = MarketData(
            dates=(DAY - dt.timedelta(days=1), DAY),
            start_index=1,
            tickers=("AAA", "BBB"),
            bucket_of={"AAA": "Growth", "BBB": "Value"},
            closes=np.array([[10.0, 20.0], [10.0, 25.0]]),
        )
        self.t = 1
        self.starting_holdings: Mapping[str, object] = {}
        self.prices_today = {"AAA": 10.0, "BBB": 25.0}

    def positions_view(self) -> dict[str, PositionView]:
        return {}

    def drawdown(self) -> float:
        return 0.0

    def interventions_today(self) -> list:
        return []

    def has_agent(self, name: str) -> bool:
        return False


class Recording(Protection):
    """Approves everything and remembers the contexts it was given."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__(default_config(), priority=6)
        self.days: list[DayContext] = []
        self.reviews: list[ReviewContext] = []

    def housekeep(self, ctx: DayContext) -> list:
        self.days.append(ctx)
        return []

    def review(self, proposal: ProposeTrade, ctx: ReviewContext):
        self.reviews.append(ctx)
        return self.verdict(proposal, APPROVE, "fine")


REGIME = RegimeUpdated(
    regime="Reflation",
    previous="Goldilocks",
    changed=True,
    severity="high",
    confidence=0.9,
    stability=0.5,
)


def test_housekeep_and_review_when_regime_and_scores_published_then_contexts_carry_them():
    world = World()
    protection = Recording()
    agent = ProtectionAgent(world, protection)
    world.bus.subscribe("someone")
    world.bus.subscribe("orchestrator")
    world.bus.publish("someone", REGIME)
    world.bus.publish("someone", ScoresPublished(scores={"AAA": 0.7}))

    agent.housekeep()
    proposal = ProposeTrade(
        proposal_id="0:x",
        asset="AAA",
        action=OPEN,
        from_weight=0.0,
        to_weight=0.1,
        score=0.7,
        reason="r",
        origin="someone",
    )
    world.bus.publish("someone", proposal)
    world.bus.publish("someone", REGIME, to="recording")  # any later update replaces it
    world.round = 1
    world.bus.publish("someone", RequestReview(proposal_id="0:x", asset="AAA"), to="recording")
    agent.review_pending()

    (day,) = protection.days
    assert day.regime == REGIME and dict(day.scores) == {"AAA": 0.7}
    assert day.bucket_of == world.market.bucket_of and day.step == 0
    (review,) = protection.reviews
    assert review.regime == REGIME and review.round == 1 and review.position is None
    (verdict,) = world.bus.take("orchestrator", "verdict")
    assert verdict.message.system == "recording" and verdict.in_reply_to is not None


def test_resolve_and_execute_when_open_approved_then_the_book_moves_by_the_fill():
    world = World()
    orchestrator = OrchestratorAgent(world)
    broker = BrokerAgent(world, cash=1000.0)
    world.bus.subscribe("portfolio_manager")
    world.bus.subscribe("regime_provider")
    world.bus.publish("regime_provider", REGIME)
    orchestrator.begin_step()
    world.bus.publish(
        "portfolio_manager",
        ProposeTrade(
            proposal_id="0:pm:0",
            asset="BBB",
            action=OPEN,
            from_weight=0.0,
            to_weight=0.5,
            score=0.8,
            reason="r",
            origin="portfolio_manager",
        ),
    )
    orchestrator.request_reviews()

    assert orchestrator.resolve() is False  # no verdict: approved, nothing held back
    (decision,) = [e.message for e in world.bus.take("portfolio_manager", "decision")]
    assert isinstance(decision, TradeDecided) and decision.outcome == "approved"

    broker.execute()

    assert broker.book.positions["BBB"].entered == DAY
    assert broker.book.positions["BBB"].quantity == pytest.approx(20.0)
    assert broker.book.cash == pytest.approx(500.0)
    (fill,) = [e.message for e in world.bus.take("portfolio_manager", "fill")]
    assert fill.weight_after == pytest.approx(0.5)


def test_equity_when_book_moves_then_valued_again():
    world = World()
    broker = BrokerAgent(world, cash=1000.0)
    broker.seed_book({"AAA": 0.5}, {"AAA": DAY})
    assert broker.equity() == broker.book.equity(world.prices_today) == 1000.0

    world.prices_today = {"AAA": 20.0, "BBB": 25.0}  # the next day's closes
    assert broker.equity() == 1500.0
    broker.book = Book(0.0, {"BBB": Position(2.0, DAY)})
    assert broker.equity() == 50.0


class Flagging(Recording):
    """Flags AAA only."""

    def status(self, asset, day, position=None):
        return {"weight": position.weight} if asset == "AAA" else {}


def test_flags_when_taking_part_then_only_holdings_with_flags_else_none():
    world = World()
    agent = ProtectionAgent(world, Flagging())
    book = {a: PositionView(a, 0.25, DAY) for a in ("AAA", "BBB")}
    assert agent.flags(book) == {}  # not started: takes no part yet

    agent.start()

    assert agent.flags(book) == {"AAA": {"weight": 0.25}}


def test_review_pending_when_asset_held_then_context_names_every_field():
    world = World()
    held = PositionView("AAA", 0.2, DAY)
    world.positions_view = lambda: {"AAA": held}
    protection = Recording()
    agent = ProtectionAgent(world, protection)
    world.bus.subscribe("someone")
    world.bus.subscribe("orchestrator")
    world.bus.publish("someone", REGIME)
    world.bus.publish("someone", ScoresPublished(scores={}))
    agent.housekeep()
    world.bus.publish(
        "someone",
        ProposeTrade(
            proposal_id="0:y",
            asset="AAA",
            action="close",
            from_weight=0.2,
            to_weight=0.0,
            score=0.1,
            reason="r",
            origin="someone",
        ),
    )
    world.bus.publish("someone", RequestReview(proposal_id="0:y", asset="AAA"), to="recording")
    agent.review_pending()

    assert protection.reviews == [
        ReviewContext(
            step=0,
            date=DAY,
            round=0,
            regime=REGIME,
            position=held,
            bucket_of=world.market.bucket_of,
        )
    ]
