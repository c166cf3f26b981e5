"""The Bulwark model: one Mesa step per trading day, stages in a fixed order.

A run is a pure function of (scenario, seed, configuration): every random number comes
from the model's seeded generator (`self.rng`), every agent iterates sorted inputs, and
the only outputs are the messages on the bus (recorded by the recorder) and the
DataCollector's table.

Agents talk only through messages. Besides their inboxes they read the model through
`agents.view.WorldView` only: the day, the negotiation round, the configuration, the
market up to today (`market.window(t, n)`), the book before today's trades (weights and
entry dates), today's interventions and the starting holdings. No agent writes to the
model: the regime and the day's scores travel as RegimeUpdated and ScoresPublished
messages, the broker keeps the book (`domain.execution.Book`) and the model reads it,
and a `set` intervention changes the configuration when its InterventionApplied message
is published. The model imports the agents; the agents import nothing of `sim`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from agents.broker import BrokerAgent
from agents.orchestrator import OrchestratorAgent
from agents.portfolio_manager import PortfolioManagerAgent
from agents.protection import CoreAssetAgent, ProtectionAgent
from agents.regime_provider import RegimeProviderAgent
from domain.config import Config
from domain.envelope import Envelope
from domain.market import MarketData
from domain.messages import InterventionApplied, RegimeUpdated
from domain.protections.base import PositionView, Protection, StartingHolding
from domain.protections.registry import BUILTIN, CORE_ASSET, Registry
from domain.regimes import RegimeState
from domain.scenario import Intervention, Scenario
from sim.load.custom import scoring_model_of
from sim.run.bus import MessageBus
from sim.run.market_data import build_market
from sim.run.recorder import DayRecord, Recorder

MarketBuilder = Callable[[Scenario, np.random.Generator], tuple[MarketData, Sequence[RegimeState]]]


class BulwarkModel(mesa.Model):
    """Simulates one scenario.

    Args:
        scenario: the loaded scenario.
        config: the resolved configuration (attribute access by parameter name).
        protections: the protections to run (built-in ones, then custom; one switched off
            by its configuration switch runs as an agent that abstains).
        seed: the run's seed (the scenario's unless overridden).
        recorder: where each finished step is written; None keeps messages in memory only.
        market_builder: builds the market and the regime timeline from the model's rng.
        registry: the run's protection registry (the orchestrator reads its override lifts).
    """

    def __init__(
        self,
        scenario: Scenario,
        config: Config,
        protections: Sequence[Protection],
        *,
        seed: int,
        recorder: Recorder | None = None,
        market_builder: MarketBuilder = build_market,
        registry: Registry = BUILTIN,
    ) -> None:
        super().__init__(rng=seed)
        self.scenario = scenario
        self.config = config
        self.registry = registry
        self.recorder = recorder
        self.bus = MessageBus()
        # before any agent observes the bus
        self.bus.observe(self._apply_setting, frozenset({InterventionApplied.KIND}))
        self.market, timeline = market_builder(scenario, self.rng)
        self.sim_dates = self.market.sim_dates
        self.steps_done = 0
        self.t = self.market.start_index
        self.date = self.sim_dates[0]
        self.regime: RegimeUpdated | None = None
        self.peak_equity = float(scenario.cash)
        self.running = True
        self._column = {ticker: j for j, ticker in enumerate(self.market.tickers)}
        self._prices_key: int | None = None
        self._prices: Mapping[str, float] = {}
        self._positions_key: int | None = None
        self._positions: dict[str, PositionView] = {}
        self._interventions = _by_simulated_day(scenario.interventions, self.sim_dates)
        self.starting_holdings = {
            asset: StartingHolding(asset, h.weight, h.entered or self.sim_dates[0], h.core)
            for asset, h in sorted(scenario.portfolio.items())
        }
        self._build_agents(timeline, protections)
        self.datacollector = mesa.DataCollector(model_reporters=_REPORTERS)

    def _build_agents(
        self, timeline: Sequence[RegimeState], protections: Sequence[Protection]
    ) -> None:
        """Every agent, in bus registration order, and the broker's starting book."""
        self.regime_provider = RegimeProviderAgent(self, timeline)
        self.portfolio_manager = PortfolioManagerAgent(
            self, self.scenario.assets, self.scenario.signals, scoring_model_of(self.scenario)
        )
        self.orchestrator = OrchestratorAgent(self)
        protection_agents = [
            (CoreAssetAgent if p.name == CORE_ASSET else ProtectionAgent)(self, p)
            for p in sorted(protections, key=lambda p: (p.priority, p.name))
        ]
        self.protection_agents = AgentSet(protection_agents, random=self.random)
        self._protections = tuple(protection_agents)  # the same agents, cheap to iterate
        self.broker = BrokerAgent(self, cash=self.scenario.cash)
        self.broker.seed_book(
            {a: h.weight for a, h in self.starting_holdings.items()},
            {a: h.entered for a, h in self.starting_holdings.items()},
        )

    # --- the day ----------------------------------------------------------------------
    def step(self) -> None:
        """One trading day, stage by stage."""
        self.advance_market()
        self.regime = self.regime_provider.publish_regime()
        if self.steps_done == 0:
            for agent in self._protections:
                agent.start()
        self.portfolio_manager.apply_interventions()
        self.portfolio_manager.publish_scores()
        for agent in self._protections:
            agent.housekeep()
        self.orchestrator.begin_step()
        for round_ in range(self.config.max_negotiation_rounds + 1):
            self.bus.round = round_
            self.portfolio_manager.propose(round_)
            self.orchestrator.request_reviews()
            for agent in self._protections:
                agent.review_pending()
            if not self.orchestrator.resolve():
                break
        self.broker.execute()
        self.snapshot()
        self.steps_done += 1
        if self.steps_done >= len(self.sim_dates):
            self.running = False

    def advance_market(self) -> None:
        """Move to today's close."""
        self.t = self.market.start_index + self.steps_done
        self.date = self.sim_dates[self.steps_done]
        self.bus.begin_step(self.steps_done, self.date)
        self.bus.clear_inboxes()

    def snapshot(self) -> None:
        """Collect the day's figures and write the step's batch (`sim.run.recorder.day_rows`)."""
        self.datacollector.collect(self)
        self.peak_equity = max(self.peak_equity, self.broker.equity())
        envelopes = self.bus.drain()
        if self.recorder is not None:
            self.recorder.record_step(envelopes, self.day_record())

    def day_record(self) -> DayRecord:
        """What the finished day leaves for the event database."""
        book, board = self.broker.book, self.portfolio_manager.board
        scores = None
        if board is not None:
            column = self._column
            scores = {a: float(board.score[column[a]]) for a in book.positions}
        prices, equity = self.prices_today, self.broker.equity()
        after = {
            asset: PositionView(
                asset, p.quantity * prices[asset] / equity if equity else 0.0, p.entered
            )
            for asset, p in book.positions.items()
        }
        flags: dict[str, dict[str, Any]] = {asset: {} for asset in after}
        for agent in self._protections:  # in priority order: a later flag of a name wins
            for asset, found in agent.flags(after).items():
                flags[asset].update(found)
        return DayRecord(
            step=self.steps_done,
            date=self.date,
            book=book,
            prices=prices,
            bucket_of=self.market.bucket_of,
            scores=scores,
            flags=flags,
            drawdown=self.drawdown(),
            regime=self.regime.regime,
            turnover=self.broker.day.turnover,
            costs=self.broker.day.costs,
        )

    def _apply_setting(self, env: Envelope) -> None:
        """A published `set` intervention changes the configuration from then on."""
        message = env.message
        if isinstance(message, InterventionApplied) and message.action == "set":
            self.set_param(message.details["param"], message.details["value"])

    # --- the agents' view (agents.view.WorldView) ----------------------------------------
    @property
    def round(self) -> int:
        """The negotiation round under way."""
        return self.bus.round

    @property
    def prices_today(self) -> Mapping[str, float]:
        """Today's closes of every asset that has one (computed once a day)."""
        if self._prices_key != self.t:
            self._prices = self.market.day_closes(self.t)
            self._prices_key = self.t
        return self._prices

    def positions_view(self) -> dict[str, PositionView]:
        """The book before today's trades (computed once a day, the broker fills at the end)."""
        if self._positions_key != self.steps_done:
            book, prices = self.broker.book, self.prices_today
            equity = self.broker.equity()
            self._positions = {
                a: PositionView(a, p.quantity * prices[a] / equity, p.entered)
                for a, p in book.positions.items()
                if p.quantity > 0
            }
            self._positions_key = self.steps_done
        return self._positions

    def drawdown(self) -> float:
        """How far the equity is below its peak so far (0 at the peak)."""
        equity = self.broker.equity()
        peak = max(self.peak_equity, equity)
        return 1.0 - equity / peak if peak > 0 else 0.0

    def interventions_today(self) -> list[Intervention]:
        """The scenario's interventions to carry out today."""
        return self._interventions.get(self.date, [])

    def has_agent(self, name: str) -> bool:
        """Whether protection `name` runs and is switched on under the configuration now."""
        return any(agent.name == name and agent.switched_on for agent in self._protections)

    def set_param(self, name: str, value: Any) -> None:
        """Change one parameter from now on (a scenario `set` intervention)."""
        self.config = self.config.replace(**{name: value})
        for agent in self.protection_agents:
            agent.protection.reconfigure(self.config)

    # --- running ----------------------------------------------------------------------
    def run(self, on_step: Callable[[BulwarkModel], None] | None = None) -> None:
        """Run every remaining day (calling `on_step` after each)."""
        while self.running:
            self.step()
            if on_step is not None:
                on_step(self)


_REPORTERS: Mapping[str, Callable[[BulwarkModel], Any]] = {
    "date": lambda m: m.date.isoformat(),
    "equity": lambda m: m.broker.equity(),
    "cash": lambda m: m.broker.book.cash,
    "drawdown": lambda m: m.drawdown(),
    "regime": lambda m: m.regime.regime if m.regime else None,
    "positions": lambda m: len(m.broker.book.held()),
}
"""The DataCollector's columns, one row per step."""


def _by_simulated_day(
    interventions: Sequence[Intervention], sim_dates: Sequence[dt.date]
) -> dict[dt.date, list[Intervention]]:
    """Interventions by the simulated day they apply on: one dated on a weekend or holiday
    is applied on the next simulated day (its message records `rolled_from`); the loader
    refuses one after the last."""
    out: dict[dt.date, list[Intervention]] = {}
    for iv in interventions:
        i = bisect.bisect_left(sim_dates, iv.date)
        if i < len(sim_dates):
            out.setdefault(sim_dates[i], []).append(iv)
    return out
