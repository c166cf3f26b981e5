"""The portfolio manager's desk: its day state and the plans it makes (no model).

Scores and trending confidences are scripted (`Signals`), so the plan's choices follow
from the scores alone: with two slots per bucket, A1 and A2 take bucket A's slots, A3
(0.97) comes in by a smart bucket override, B1 opens in bucket B.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from domain.calendar import weekdays
from domain.config import resolve
from domain.construction.desk import NOTHING, Desk, Screen, fundamentals_of
from domain.market import MarketData
from domain.messages import (
    APPROVED,
    BLOCKED,
    OPEN,
    NoticeIssued,
    ProposeTrade,
    RegimeUpdated,
    RequestReplan,
    TradeDecided,
)
from domain.protections.base import PositionView
from domain.resolution import PLANNER
from domain.rules import REBALANCE_DAY
from domain.scenario import AssetSpec, SignalOverride, Signals

TICKERS = ("A1", "A2", "A3", "B1")
BUCKETS = {"A1": "A", "A2": "A", "A3": "A", "B1": "B"}
SCORES = {"A1": 0.99, "A2": 0.98, "A3": 0.97, "B1": 0.9}
ROWS = 80
FIRST = 70
"""Row of the first day the tests plan on (a Monday)."""


DATES = weekdays(dt.date(2024, 1, 1), ROWS)


def _market() -> MarketData:
    rng = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (ROWS, len(TICKERS))), axis=0))
    return MarketData(
        dates=DATES, start_index=FIRST, tickers=TICKERS, bucket_of=BUCKETS, closes=closes
    )


MARKET = _market()


def _config(**overrides):
    return resolve(None, {"max_positions_per_bucket": 2, "max_new_positions": 4, **overrides})


def _desk(scores=SCORES) -> Desk:
    signals = Signals(
        scores=[SignalOverride(a, DATES[0], v) for a, v in scores.items()],
        trending=[SignalOverride(a, DATES[0], 1.0) for a in TICKERS],
    )
    return Desk.open(TICKERS, {}, signals)


def _screen(t: int = FIRST, book=None, config=None) -> Screen:
    return Screen(
        market=MARKET,
        t=t,
        date=DATES[t],
        step=t - FIRST,
        config=config or _config().config,
        book=book or {},
        drawdown=0.0,
    )


def _regime(changed: bool = False) -> RegimeUpdated:
    return RegimeUpdated(
        regime="bull",
        previous="bull",
        changed=changed,
        severity="normal",
        confidence=0.9,
        stability=0.9,
    )


def _held(*assets: str, weight: float = 0.2) -> dict[str, PositionView]:
    return {a: PositionView(a, weight, DATES[FIRST - 1]) for a in assets}


def _day(desk: Desk, t: int = FIRST, book=None, config=None, others=(), changed=False):
    """One round 0: score, start the day, plan the rebalance."""
    screen = _screen(t, book, config)
    desk.score(screen)
    desk.start_day(_regime(changed))
    return desk.plan_rebalance(screen, list(others))


def _decision(asset: str, outcome: str, final: float, action: str = OPEN) -> TradeDecided:
    return TradeDecided(
        proposal_id=f"0:0:pm:{asset}",
        asset=asset,
        action=action,
        outcome=outcome,
        from_weight=0.0,
        final_weight=final,
        decided_by="orchestrator",
    )


def _core_notice(*core: str) -> NoticeIssued:
    return NoticeIssued(event="core_designated", asset=core[0], details={"core_assets": core})


# --- scores ---------------------------------------------------------------------------


def test_score_of_when_nothing_scored_yet_then_none():
    assert _desk().score_of("A1") is None


def test_score_when_book_holds_assets_then_publishes_the_holdings_scores():
    desk = _desk()

    published = desk.score(_screen(book=_held("A2", "B1")))

    assert dict(published.scores) == {"A2": 0.98, "B1": 0.9}
    assert desk.score_of("A3") == 0.97
    assert desk.score_of("ZZZ") is None


def test_fundamentals_of_when_asset_has_none_then_nan_for_technical_only_scoring():
    assets = {"A1": AssetSpec(fundamental=0.4), "A2": AssetSpec()}

    values = fundamentals_of(assets, ("A1", "A2", "B1"))

    assert values[0] == 0.4 and np.isnan(values[1]) and np.isnan(values[2])


# --- the rebalance --------------------------------------------------------------------


def test_plan_rebalance_when_rebalance_day_then_notice_selection_changes_and_proposals():
    out = _day(_desk())

    rebalance, *selection = out.notices
    assert (rebalance.event, rebalance.rule) == ("rebalance", REBALANCE_DAY.id)
    assert rebalance.details["reason"] == "daily rebalance day"
    assert rebalance.details["trades"] == len(out.proposals) == 4
    assert [(n.event, n.asset, n.details["reason"]) for n in selection] == [
        ("selection", "A1", "new"),
        ("selection", "A2", "new"),
        ("selection", "A3", "bucket_override"),
        ("selection", "B1", "new"),
    ]
    assert selection[2].rule == "construction.bucket_override"
    assert "rule" not in selection[2].details
    assert [(p.proposal_id, p.asset, p.action, p.origin) for p in out.proposals] == [
        (f"0:0:pm:{n}", a, OPEN, PLANNER) for n, a in enumerate(TICKERS)
    ]
    assert out.proposals[2].reason.startswith("bucket override: score 0.970")
    assert out.proposals[2].components["bucket"] == "A"


def test_plan_rebalance_when_weekly_and_same_week_then_nothing_but_protection_trades_kept():
    config = _config(rebalance_frequency="weekly").config
    desk = _desk()
    _day(desk, config=config)
    guard = ProposeTrade("g", "B1", "close", 0.2, 0.0, None, "hold", "grace_period")

    out = _day(desk, FIRST + 1, book=_held("A1", "B1"), config=config, others=[guard])

    assert out == NOTHING and not desk.planned
    assert desk.trading == {"B1": (0.0, "sell")}


def test_plan_rebalance_when_regime_changes_off_schedule_then_planned_for_the_regime():
    config = _config(rebalance_frequency="weekly").config
    desk = _desk()
    _day(desk, config=config)

    out = _day(desk, FIRST + 1, config=config, changed=True)

    assert desk.planned
    assert out.notices[0].details["reason"] == "regime changed"


def test_plan_rebalance_when_protection_proposed_then_its_asset_locked_not_proposed():
    guard = ProposeTrade("g", "B1", "open", 0.0, 0.1, None, "test", "custom")

    out = _day(_desk(), others=[guard])

    assert [p.asset for p in out.proposals] == ["A1", "A2", "A3"]
    assert "B1" not in {n.asset for n in out.notices}


def test_plan_rebalance_when_selection_unchanged_since_last_plan_then_no_selection_notice():
    desk = _desk()
    _day(desk)

    out = _day(desk, FIRST + 1)

    assert [n.event for n in out.notices] == ["rebalance"]


# --- the re-plan rounds ---------------------------------------------------------------


def test_replan_when_no_plan_today_then_nothing():
    config = _config(rebalance_frequency="weekly").config
    desk = _desk()
    _day(desk, config=config)
    _day(desk, FIRST + 1, config=config)

    out = desk.replan(_screen(FIRST + 1, config=config), RequestReplan(round=1), 1)

    assert out == NOTHING


def test_replan_when_open_blocked_then_not_reopened_and_its_status_says_so():
    desk = _desk()
    _day(desk)
    desk.read_decision(_decision("A1", BLOCKED, 0.0))
    locked = {"A2": 0.2, "A3": 0.2, "B1": 0.2}
    request = RequestReplan(round=1, locked=locked, blocked=("A1",))

    out = desk.replan(_screen(), request, 1)

    assert [(n.event, n.asset, n.details["reason"]) for n in out.notices] == [
        ("selection", "A1", "open_blocked")
    ]
    assert "A1" not in {p.asset for p in out.proposals}
    assert all(p.proposal_id.startswith("0:1:pm:") for p in out.proposals)


def test_replan_when_open_approved_earlier_at_its_target_then_not_proposed_again():
    desk = _desk()
    _day(desk)
    desk.read_decision(_decision("A1", APPROVED, 0.2))
    desk.read_decision(_decision("B1", BLOCKED, 0.0))

    out = desk.replan(_screen(), RequestReplan(round=1, blocked=("B1",)), 1)

    assert [(p.asset, p.to_weight) for p in out.proposals] == [("A2", 0.2), ("A3", 0.2)]


def test_inputs_when_open_approved_earlier_today_then_planned_as_a_holding():
    desk = _desk()
    _day(desk)
    desk.read_decision(_decision("A1", APPROVED, 0.2))
    desk.read_decision(_decision("A2", BLOCKED, 0.0))

    inputs = desk.inputs(_screen(), {}, frozenset())

    assert dict(inputs.weights) == {"A1": 0.2}
    assert inputs.opened == 1


def test_inputs_when_same_day_then_rounds_share_the_day_memo_and_next_day_gets_its_own():
    desk = _desk()
    _day(desk)
    first = desk.inputs(_screen(), {}, frozenset())
    first.returns(20)
    again = desk.inputs(_screen(), {"A1": 0.2}, frozenset({"B1"}))
    assert again.closes is first.closes and again.memo is first.memo
    assert again.returns(20) is first.returns(20)
    tomorrow = desk.inputs(_screen(FIRST + 1), {}, frozenset())
    assert tomorrow.memo is not first.memo
    assert tomorrow.closes[-1].tobytes() == MARKET.closes[FIRST + 1].tobytes()


# --- what the day brings --------------------------------------------------------------


def test_read_decision_when_approved_then_trades_and_when_blocked_then_not():
    desk = _desk()
    desk.read_decision(_decision("A1", APPROVED, 0.2))
    desk.read_decision(_decision("A2", BLOCKED, 0.0))
    desk.read_decision(_decision("A3", APPROVED, 0.0))

    assert desk.trading == {"A1": (0.2, "buy"), "A2": None, "A3": (0.0, "buy")}
    assert desk.decided == {"A1": 0.2, "A2": 0.0, "A3": 0.0}
    assert desk.opened == 1


def test_read_decision_when_same_asset_decided_again_then_last_decision_wins():
    desk = _desk()
    desk.read_decision(_decision("A1", APPROVED, 0.2))
    desk.read_decision(_decision("A1", BLOCKED, 0.0))

    assert desk.trading == {"A1": None} and desk.decided == {"A1": 0.0}


def test_start_day_when_yesterday_negotiated_then_forgotten_but_core_list_kept():
    desk = _desk()
    _day(desk)
    desk.read_decision(_decision("A1", APPROVED, 0.2))
    desk.read_notice(NoticeIssued(event="holding_review", asset="B1"))
    desk.read_notice(_core_notice("A3"))

    desk.start_day(_regime())

    assert (desk.planned, desk.opened, desk.decided, desk.trading) == (False, 0, {}, {})
    assert desk.review_due == set()
    assert desk.core == {"A3"}


def test_read_notice_when_holding_review_due_then_in_the_plan_inputs():
    desk = _desk()
    desk.score(_screen())
    desk.start_day(_regime())

    desk.read_notice(NoticeIssued(event="holding_review", asset="B1"))

    assert desk.inputs(_screen(), {}, frozenset()).review_due == {"B1"}


def test_read_notice_when_core_notice_without_the_list_then_core_unchanged():
    desk = _desk()
    desk.read_notice(_core_notice("A1", "A3"))

    desk.read_notice(NoticeIssued(event="core_refused", asset="B1", details={"reason": "x"}))

    assert desk.core == {"A1", "A3"}


# --- smart overrides asking for core designation ---------------------------------------


def test_take_core_requests_when_override_held_next_day_then_requested_once():
    desk = _desk()
    _day(desk)

    (request,) = desk.take_core_requests(_held("A3"), core_on=True)
    _day(desk, FIRST + 1, book=_held("A1", "A2", "A3", "B1"))

    assert request.asset == "A3" and request.score == 0.97
    assert request.reason.startswith(f"bucket override on {DATES[FIRST].isoformat()}: ")
    assert desk.take_core_requests(_held("A3"), core_on=True) == []


def test_take_core_requests_when_override_lapsed_and_came_back_then_asked_again():
    desk = _desk()
    book = _held("A1", "A2", "A3", "B1")
    _day(desk)
    desk.take_core_requests(_held("A3"), core_on=True)
    _day(desk, FIRST + 1, book=book, config=_config(max_positions_per_bucket=3).config)

    _day(desk, FIRST + 2, book=book)

    assert list(desk.pending) == ["A3"]
    assert desk.pending["A3"].reason.startswith(f"bucket override on {DATES[FIRST + 2]}")


def test_take_core_requests_when_override_not_held_then_dropped():
    desk = _desk()
    _day(desk)

    assert desk.take_core_requests(_held("A1"), core_on=True) == []
    assert desk.take_core_requests(_held("A3"), core_on=True) == []


def test_take_core_requests_when_core_asset_off_then_dropped_and_asked_again_later():
    desk = _desk()
    _day(desk)
    assert desk.take_core_requests(_held("A3"), core_on=False) == []

    _day(desk, FIRST + 1, book=_held("A1", "A2", "A3", "B1"))

    assert [r.asset for r in desk.take_core_requests(_held("A3"), core_on=True)] == ["A3"]


def test_plan_rebalance_when_override_already_core_then_no_request():
    desk = _desk()
    desk.read_notice(_core_notice("A3"))

    _day(desk)

    assert desk.pending == {}


def test_plan_rebalance_when_override_below_core_threshold_then_no_request():
    desk = _desk()

    _day(desk, config=_config(core_asset_override_threshold=0.975).config)

    assert desk.pending == {}


# --- the screen -----------------------------------------------------------------------


def test_days_held_when_entry_date_unknown_then_left_out():
    book = {"A1": PositionView("A1", 0.2, DATES[FIRST - 3]), "B1": PositionView("B1", 0.1, None)}

    screen = _screen(book=book)

    assert screen.days_held() == {"A1": (DATES[FIRST] - DATES[FIRST - 3]).days}
    assert screen.weights() == {"A1": 0.2, "B1": 0.1}
