"""Protection analytics: decisions counted per deciding system and per rule, overridden
objections, weight held back (docs/metrics.md, "Protection analytics")."""

from __future__ import annotations

import pytest

from sim.read.metrics.protection import (
    NO_RULE,
    PROTECTION,
    RULE,
    Decision,
    Overruled,
    held_back,
    outcome_counts,
    overruled_counts,
)

DECISIONS = [
    Decision("orchestrator", "approved", "resolution.priority", 0.1, 0.1),
    Decision("whipsaw", "blocked", "whipsaw.window", 0.0, 0.08),
    Decision("whipsaw", "blocked", "whipsaw.min_duration", 0.2, 0.0),
    Decision("grace_period", "amended", "grace_period.amendment", 0.3, 0.0),
    Decision("regime_override", "approved", "resolution.regime_override", 0.1, 0.1, ("whipsaw",)),
    Decision("custom", "blocked", None, 0.05, 0.05),  # blocked at its weight: nothing held
]


def test_outcome_counts_when_by_protection_then_each_decision_under_its_decider():
    assert outcome_counts(DECISIONS, "blocked", PROTECTION) == {"whipsaw": 2, "custom": 1}
    assert outcome_counts(DECISIONS, "approved", PROTECTION) == {
        "orchestrator": 1,
        "regime_override": 1,
    }


def test_outcome_counts_when_by_rule_then_each_decision_under_its_rule():
    assert outcome_counts(DECISIONS, "blocked", RULE) == {
        "whipsaw.window": 1,
        "whipsaw.min_duration": 1,
        NO_RULE: 1,
    }


def test_held_back_when_blocked_or_amended_then_gap_to_the_proposed_target():
    assert held_back(DECISIONS, PROTECTION) == {
        "whipsaw": pytest.approx(0.08 + 0.2),
        "grace_period": pytest.approx(0.3),
    }
    assert held_back(DECISIONS, RULE)["whipsaw.window"] == pytest.approx(0.08)


def test_overruled_counts_when_objections_overridden_then_counted_per_protection_and_rule():
    overruled = [
        Overruled("holding_period", "holding_period.minimum"),
        Overruled("holding_period", "holding_period.minimum"),
        Overruled("whipsaw", "whipsaw.window"),
        Overruled("custom", None),
    ]
    assert overruled_counts(overruled, PROTECTION) == {
        "holding_period": 2,
        "whipsaw": 1,
        "custom": 1,
    }
    assert overruled_counts(overruled, RULE) == {
        "holding_period.minimum": 2,
        "whipsaw.window": 1,
        NO_RULE: 1,
    }
