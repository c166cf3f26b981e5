"""The Bulwark model: one Mesa step per trading day, stages in a fixed order.

A run is a pure function of (scenario, seed, configuration): every random number comes
from the model's seeded generator (`self.rng`), every agent iterates sorted inputs, and
the only outputs are the messages on the bus (recorded by the recorder) and the
DataCollector's table.

Agents talk only through messages. Besides messages they may read two read-only views
of the environment: the market (closes up to today, `self.market.window(self.t, n)`)
and the broker's book (units, cash, entry dates), as a trader reads a screen.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from agents.broker import BrokerAgent
from agents.orchestrator import OrchestratorAgent
from agents.portfolio_manager import PortfolioManagerAgent
from agents.protection import CoreAssetAgent, ProtectionAgent
from agents.regime_provider import RegimeProviderAgent
from domain.market import MarketData
from domain.protections.base import PositionView, Protection, StartingHolding
from domain.protections.registry import CORE_ASSET
from domain.regimes import RegimeState
from domain.scenario import Intervention, Scenario
from sim.bus import MessageBus
from sim.market_data import build_market
from sim.recorder import Recorder

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
    """

    def __init__(
        self,
        scenario: Scenario,
        config: Any,
        protections: Sequence[Protection],
        *,
        seed: int,
        recorder: Recorder | None = None,
        market_builder: MarketBuilder = build_market,
    ) -> None:
        super().__init__(rng=seed)
        self.scenario = scenario
        self.config = config
        self.recorder = recorder
        self.bus = MessageBus()
        self.market, timeline = market_builder(scenario, self.rng)
        self.timeline = tuple(timeline)
        self.sim_dates = self.market.sim_dates
        self.steps_done = 0
        self.t = self.market.start_index
        self.date = self.sim_dates[0]
        self.regime = None
        self.scores_today: dict[str, float] = {}
        self.peak_equity = float(scenario.cash)
        self.running = True
        self._prices_key: int | None = None
        self._prices: dict[str, float] = {}
        self._positions_key: int | None = None
        self._positions: dict[str, PositionView] = {}
        # an intervention dated on a weekend or holiday is applied on the next simulated
        # day (the message records `rolled_from`); the loader refuses one after the last
        self._interventions: dict[dt.date, list[Intervention]] = {}
        for iv in scenario.interventions:
            i = bisect.bisect_left(self.sim_dates, iv.date)
            if i < len(self.sim_dates):
                self._interventions.setdefault(self.sim_dates[i], []).append(iv)

        self.regime_provider = RegimeProviderAgent(self)
        self.portfolio_manager = PortfolioManagerAgent(self)
        self.orchestrator = OrchestratorAgent(self)
        protection_agents = [
            (CoreAssetAgent if p.name == CORE_ASSET else ProtectionAgent)(self, p)
            for p in sorted(protections, key=lambda p: (p.priority, p.name))
        ]
        self.protection_agents = AgentSet(protection_agents, random=self.random)
        self.broker = BrokerAgent(self, cash=scenario.cash)

        start = self.sim_dates[0]
        self.starting_holdings = {
            asset: StartingHolding(asset, h.weight, h.entered or start, h.core)
            for asset, h in sorted(scenario.portfolio.items())
        }
        self.broker.seed_book(
            {a: h.weight for a, h in self.starting_holdings.items()},
            {a: h.entered for a, h in self.starting_holdings.items()},
        )
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "date": lambda m: m.date.isoformat(),
                "equity": lambda m: m.broker.equity(),
                "cash": lambda m: m.broker.cash,
                "drawdown": lambda m: m.drawdown(),
                "regime": lambda m: m.regime.regime if m.regime else None,
                "positions": lambda m: sum(1 for q in m.broker.quantities.values() if q > 0),
            }
        )

    # --- the day ----------------------------------------------------------------------
    def step(self) -> None:
        """One trading day, stage by stage."""
        self.advance_market()
        self.regime_provider.publish_regime()
        if self.steps_done == 0:
            self.protection_agents.do("start")
        self.portfolio_manager.apply_interventions()
        self.portfolio_manager.publish_scores()
        self.protection_agents.do("housekeep")
        self.orchestrator.begin_step()
        for round_ in range(self.config.max_negotiation_rounds + 1):
            self.bus.round = round_
            self.portfolio_manager.propose(round_)
            self.orchestrator.request_reviews()
            self.protection_agents.do("review_pending")
            self.orchestrator.resolve()
            if not self.orchestrator.replan_requested:
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
        """Collect the day's figures and write the step's batch."""
        self.datacollector.collect(self)
        equity = self.broker.equity()
        self.peak_equity = max(self.peak_equity, equity)
        if self.recorder is None:
            self.bus.drain()
            return
        prices = self.prices_today
        board = self.portfolio_manager.board
        column = {t: j for j, t in enumerate(self.market.tickers)}
        rows = []
        invested = 0.0
        for asset in sorted(self.broker.quantities):
            qty = self.broker.quantities[asset]
            value = qty * prices[asset]
            invested += value
            flags: dict[str, Any] = {}
            for agent in self.protection_agents:
                flags.update(agent.status(asset))
            rows.append(
                {
                    "step": self.steps_done,
                    "date": self.date.isoformat(),
                    "asset": asset,
                    "bucket": self.market.bucket_of.get(asset, "Unknown"),
                    "quantity": qty,
                    "price": prices[asset],
                    "value": value,
                    "weight": value / equity if equity else 0.0,
                    "score": float(board.score[column[asset]]) if board is not None else None,
                    "flags": flags,
                }
            )
        self.recorder.write_step(
            self.bus.drain(),
            rows,
            {
                "step": self.steps_done,
                "date": self.date.isoformat(),
                "equity": equity,
                "cash": self.broker.cash,
                "invested": invested,
                "drawdown": self.drawdown(),
                "regime": self.regime.regime,
                "n_positions": len(rows),
                "turnover": self.broker.turnover / equity if equity else 0.0,
                "costs": self.broker.costs,
            },
        )

    # --- environment views --------------------------------------------------------------
    @property
    def regime_today(self) -> RegimeState:
        return self.timeline[self.steps_done]

    @property
    def prices_today(self) -> dict[str, float]:
        """Today's closes of every asset that has one (computed once a day)."""
        if self._prices_key != self.t:
            row = self.market.closes[self.t]
            ok = ~np.isnan(row)
            self._prices = dict(
                zip(np.asarray(self.market.tickers)[ok].tolist(), row[ok].tolist(), strict=True)
            )
            self._prices_key = self.t
        return self._prices

    def positions_view(self) -> dict[str, PositionView]:
        """The book before today's trades (computed once a day, the broker fills at the end)."""
        if self._positions_key != self.steps_done:
            equity = self.broker.equity()
            prices = self.prices_today
            self._positions = {
                a: PositionView(a, q * prices[a] / equity, self.broker.entered.get(a))
                for a, q in sorted(self.broker.quantities.items())
                if q > 0
            }
            self._positions_key = self.steps_done
        return self._positions

    def drawdown(self) -> float:
        equity = self.broker.equity()
        peak = max(self.peak_equity, equity)
        return 1.0 - equity / peak if peak > 0 else 0.0

    def interventions_today(self) -> list[Intervention]:
        return self._interventions.get(self.date, [])

    def has_agent(self, name: str) -> bool:
        """Whether protection `name` runs and is switched on under the configuration now."""
        return any(agent.name == name and agent.switched_on for agent in self.protection_agents)

    def set_param(self, name: str, value: Any) -> None:
        """Change one parameter from today on (a scenario `set` intervention)."""
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
