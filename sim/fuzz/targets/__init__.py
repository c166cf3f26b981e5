"""The fuzz targets, one per boundary rule, by rule id."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sim.fuzz.target import Target
from sim.fuzz.targets import holding

TARGETS: Mapping[str, Target] = MappingProxyType(
    {t.rule: t for t in (holding.MINIMUM, holding.FORCED_REVIEW)}
)
"""Every fuzzable rule's target, in catalogue order of the protections and stages."""
