"""The fuzz targets, one per boundary rule, by rule id."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sim.fuzz.target import Target
from sim.fuzz.targets import (
    core_limit,
    expiry,
    grace,
    holding,
    selection,
    sizing,
    whipsaw,
)

TARGETS: Mapping[str, Target] = MappingProxyType(
    {
        t.rule: t
        for t in (
            holding.MINIMUM,
            holding.FORCED_REVIEW,
            whipsaw.WINDOW,
            whipsaw.MIN_DURATION,
            expiry.GRACE_EXPIRY,
            grace.DECAY,
            grace.RECOVERY,
            expiry.CORE_EXPIRY,
            core_limit.MAX_CORE,
            core_limit.EXTENSION_LIMIT,
            selection.KEEP,
            selection.OPEN,
            selection.MAX_NEW,
            sizing.CAP,
        )
    }
)
"""Every fuzzable rule's target, in catalogue order of the protections and stages."""
