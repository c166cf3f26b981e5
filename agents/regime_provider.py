"""The regime provider: publishes the day's market regime."""

from __future__ import annotations

from collections.abc import Sequence

from agents.base import BulwarkAgent
from agents.view import WorldView
from domain.messages import RegimeUpdated
from domain.regimes import RegimeState


class RegimeProviderAgent(BulwarkAgent):
    """Reads the regime timeline (scripted or detected) and broadcasts today's state.

    Args:
        model: the world.
        timeline: the regime of every simulated day, in order.
    """

    name = "regime_provider"

    def __init__(self, model: WorldView, timeline: Sequence[RegimeState]) -> None:
        super().__init__(model)
        self._timeline = tuple(timeline)

    def publish_regime(self) -> RegimeUpdated:
        """Broadcast today's regime; returns the message."""
        update = self._timeline[self.model.steps_done].message()
        self.publish(update)
        return update
