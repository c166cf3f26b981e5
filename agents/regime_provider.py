"""The regime provider: publishes the day's market regime."""

from __future__ import annotations

from agents.base import BulwarkAgent
from domain.messages import RegimeUpdated


class RegimeProviderAgent(BulwarkAgent):
    """Reads the regime timeline (scripted or detected) and broadcasts today's state."""

    name = "regime_provider"

    def publish_regime(self) -> RegimeUpdated:
        update = self.model.regime_today.message()
        self.publish(update)
        self.model.regime = update
        return update
