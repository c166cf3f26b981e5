import json

import attrs
import pytest

from domain.messages import (
    MESSAGE_TYPES,
    InterventionApplied,
    NoticeIssued,
    ProposalReviewed,
    ProposeTrade,
    RegimeUpdated,
    RequestCoreDesignation,
    RequestReplan,
    RequestReview,
    ScoresPublished,
    TradeDecided,
    TradeFilled,
    message_from_record,
)

EXAMPLES = [
    RegimeUpdated("Deflation", "Goldilocks", True, "critical", 0.8, 0.1, ("Fixed Income",)),
    ScoresPublished(scores={"AAPL": 0.7}),
    ProposeTrade(
        "0:0:pm:1",
        "AAPL",
        "open",
        0.0,
        0.1,
        0.8,
        "new",
        "portfolio_manager",
        {"mom_20": 0.6, "bucket": "Risk"},
    ),
    RequestReview("0:0:pm:1", "AAPL"),
    ProposalReviewed("0:0:pm:1", "AAPL", "whipsaw", "block", 5, "too soon", None),
    TradeDecided(
        "0:0:pm:1",
        "AAPL",
        "open",
        "blocked",
        0.0,
        0.0,
        "whipsaw",
        ("grace_period",),
        "blocked by whipsaw",
    ),
    RequestReplan(1, {"AAPL": 0.0}, 1, 0.1, ("AAPL",)),
    TradeFilled("0:0:pm:1", "AAPL", "buy", 10.0, 100.0, 1000.0, 1.0, 0.1, 10.0, 1.0),
    NoticeIssued("core_revoked", "AAPL", {"underperformance": 0.2}),
    RequestCoreDesignation("AAPL", 0.97, "bucket override"),
    InterventionApplied("set", None, {"param": "max_new_positions", "value": 1}),
]


def test_message_types_when_listed_then_every_kind_once():
    assert sorted(MESSAGE_TYPES) == sorted({type(m).KIND for m in EXAMPLES})


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.KIND)
def test_message_from_record_when_payload_round_trips_json_then_equal(message):
    payload = json.loads(json.dumps(message.payload()))
    back = message_from_record(message.KIND, message.asset_ref, message.proposal_ref, payload)
    assert back == message


def test_message_when_frozen_then_cannot_be_mutated():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        EXAMPLES[2].to_weight = 0.5  # type: ignore[misc]


def test_payload_when_message_then_asset_and_proposal_id_left_to_columns():
    payload = EXAMPLES[2].payload()
    assert "asset" not in payload and "proposal_id" not in payload
    assert payload["components"] == {"mom_20": 0.6, "bucket": "Risk"}


def test_message_from_record_when_unknown_kind_then_key_error():
    with pytest.raises(KeyError):
        message_from_record("telegram", None, None, {})
