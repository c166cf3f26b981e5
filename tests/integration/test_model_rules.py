"""Every protection rule, driven through the whole model and read back from the event DB.

Prices are flat explicit paths unless a rule needs them to move, and scores and
trending confidences are scripted day by day, so each test knows exactly which trade
the portfolio manager proposes on which day. Day offsets are calendar days from
`builders.MONDAY` (2024-01-01); trading days are Monday to Friday.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.scenario import Holding, Intervention, RegimePoint
from sim.compose import resolve_run_config
from sim.load.document import load_scenario
from tests.integration.builders import (
    RUN_ID,
    day,
    decisions,
    fills,
    held,
    iso,
    make_scenario,
    messages,
    notices,
    open_close_reopen,
    proposals,
    run_model,
    script,
)

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
GRACE_EVENTS = ("grace_started", "grace_decay", "grace_recovered", "grace_expired", "grace_exempt")


def _grace_notices(db, asset):
    return [n for n in notices(db, asset=asset) if n["event"] in GRACE_EVENTS]


# --- grace period ------------------------------------------------------------------------


def _falling_half():
    """A holds half the book, entered a month ago; its score is 0.3 from the first day."""
    return make_scenario(
        assets=("A",),
        days=8,
        portfolio={"A": Holding(0.5, entered=day(-30))},
        scores=script("A", (0, 0.3)),
        trending=script("A", (0, 0.0)),
    )


def test_decay_when_score_falls_below_threshold_then_weights_follow_schedule_and_close_at_expiry():
    # neither the cap nor the bucket limit binds here
    _, db = run_model(
        _falling_half(), max_single_position_size=0.5, enable_bucket_diversification=False
    )

    events = _grace_notices(db, "A")
    assert [(n["date"], n["event"]) for n in events] == [
        (iso(0), "grace_started"),
        (iso(1), "grace_decay"),
        (iso(2), "grace_decay"),
        (iso(3), "grace_decay"),
        (iso(4), "grace_decay"),
        (iso(7), "grace_expired"),
    ]
    start = events[0]["details"]["start_weight"]
    assert start == pytest.approx(0.5, rel=1e-12)
    assert [n["details"]["grace_day"] for n in events[1:]] == [1, 2, 3, 4, 7]

    got = decisions(db, "A")
    assert [(d["date"], d["action"], d["origin"], d["outcome"], d["decided_by"]) for d in got] == [
        (iso(0), "close", "portfolio_manager", "amended", "grace_period"),
        (iso(1), "reduce", "grace_period", "approved", "grace_period"),
        (iso(2), "reduce", "grace_period", "approved", "grace_period"),
        (iso(3), "reduce", "grace_period", "approved", "grace_period"),
        (iso(4), "reduce", "grace_period", "approved", "grace_period"),
        (iso(7), "close", "grace_period", "approved", "grace_period"),
    ]
    schedule = [1.0, 0.8, 0.64, 0.512, 0.4096]
    finals = [d["final_weight"] for d in got]
    assert finals[:5] == pytest.approx([start * f for f in schedule], rel=1e-12)
    assert finals[5] == 0.0

    # Fills land on the schedule: targets are weights of the equity after the day's costs.
    assert [(f["date"], f["side"]) for f in fills(db, "A")] == [
        (iso(1), "sell"),
        (iso(2), "sell"),
        (iso(3), "sell"),
        (iso(4), "sell"),
        (iso(7), "sell"),
    ]
    weights_after = [f["weight_after"] for f in fills(db, "A")]
    assert weights_after[:4] == pytest.approx([start * f for f in schedule[1:]], rel=1e-9)
    assert weights_after[4] == 0.0
    assert held(db, "A") == [iso(0), iso(1), iso(2), iso(3), iso(4)]
    flags = [
        json.loads(r["flags"]).get("grace_day")
        for r in db.query("SELECT flags FROM snapshots WHERE asset = 'A' ORDER BY step")
    ]
    assert flags == [0, 1, 2, 3, 4]


def test_decay_when_grace_starts_above_the_cap_then_cut_to_the_cap_and_held_there():
    # A former core position above the cap enters grace: grace may cut faster than the
    # limits, never slower, so every amendment and decay target stops at the cap (0.2),
    # until the schedule (0.5 x 0.8^k) falls below it, and A closes at expiry.
    _, db = run_model(_falling_half())

    got = decisions(db, "A")
    assert [(d["date"], d["action"], d["outcome"], d["decided_by"]) for d in got] == [
        (iso(k), "close", "amended", "grace_period") for k in (0, 1, 2, 3, 4)
    ] + [(iso(7), "close", "approved", "grace_period")]
    assert [d["final_weight"] for d in got[:5]] == [0.2] * 5
    sells = fills(db, "A")
    assert [f["date"] for f in sells] == [iso(0), iso(7)]
    assert sells[0]["weight_after"] == pytest.approx(0.2, rel=1e-12)
    weights = [r["weight"] for r in db.query("SELECT weight FROM snapshots WHERE asset = 'A'")]
    assert max(weights) <= 0.2 * (1 + 1e-9)


def test_recover_when_score_returns_to_threshold_during_grace_then_grace_ends_without_close():
    scenario = make_scenario(
        assets=("A",),
        days=6,
        portfolio={"A": Holding(0.2, entered=day(-30))},
        scores=script("A", (0, 0.3), (2, 0.6)),  # exactly min_score_threshold from day 2
        trending=script("A", (0, 0.0)),
    )
    # neither the cap nor the bucket limit binds here
    _, db = run_model(scenario, max_single_position_size=0.5, enable_bucket_diversification=False)

    events = _grace_notices(db, "A")
    assert [(n["date"], n["event"]) for n in events] == [
        (iso(0), "grace_started"),
        (iso(1), "grace_decay"),
        (iso(2), "grace_recovered"),
    ]
    assert events[2]["details"]["grace_day"] == 2
    assert [p["date"] for p in proposals(db, "A", origin="grace_period")] == [iso(1)]
    assert not [p for p in proposals(db, "A") if p["action"] == "close" and p["date"] >= iso(2)]
    assert held(db, "A") == [iso(k) for k in (0, 1, 2, 3, 4, 7)]


def test_close_when_grace_started_midweek_then_weekend_counts_and_close_on_day_five():
    scenario = make_scenario(
        assets=("A",),
        days=6,
        portfolio={"A": Holding(0.2, entered=day(-30))},
        scores=script("A", (0, 0.9), (2, 0.3)),  # grace starts Wednesday
        trending=script("A", (0, 0.0)),
    )
    _, db = run_model(scenario)

    events = _grace_notices(db, "A")
    assert [(n["date"], n["event"], n["details"].get("grace_day")) for n in events] == [
        (iso(2), "grace_started", None),
        (iso(3), "grace_decay", 1),
        (iso(4), "grace_decay", 2),
        (iso(7), "grace_expired", 5),  # Saturday and Sunday count: day 5 is Monday
    ]
    expiry = decisions(db, "A")[-1]
    assert (expiry["date"], expiry["action"], expiry["outcome"]) == (iso(7), "close", "approved")


@pytest.mark.parametrize(
    ("config", "enabled"),
    [({"enable_core_asset_management": False}, None), ({}, {"core_asset": False})],
    ids=["config-switch", "scenario-switch"],
)
def test_start_grace_when_core_management_off_and_holding_flagged_core_then_grace_applies(
    config, enabled
):
    scenario = make_scenario(
        assets=("C",),
        days=3,
        portfolio={"C": Holding(0.2, entered=day(-30), core=True)},
        scores=script("C", (0, 0.3)),
        trending=script("C", (0, 0.0)),
        enabled=enabled,
    )
    _, db = run_model(scenario, **config)

    assert [n["event"] for n in _grace_notices(db, "C")][:1] == ["grace_started"]
    first = decisions(db, "C")[0]
    assert (first["outcome"], first["decided_by"]) == ("amended", "grace_period")
    assert held(db, "C")[:1] == [iso(0)]


# --- core asset ------------------------------------------------------------------------

# C falls 12% by day 7 (a warning: above half the threshold) and 20% by day 14 (above it);
# its bucket peer P stays flat, so the bucket average without C is 0.
CORE_PATH = [100.0] * 5 + [88.0] * 5 + [80.0]


def _core_scenario():
    return make_scenario(
        assets=("C", "P"),
        days=12,
        buckets={"Eq": ("C", "P")},
        paths={"C": CORE_PATH},
        portfolio={"C": Holding(0.2, entered=day(-30), core=True)},
        scores=script("C", (0, 0.3)) + script("P", (0, 0.5)),
        trending=script("C", (0, 0.0)) + script("P", (0, 0.0)),
        enabled={"grace_period": False},
    )


def test_close_core_asset_when_it_underperforms_bucket_then_revoked_and_close_no_longer_blocked():
    _, db = run_model(_core_scenario())

    closes = decisions(db, "C", action="close")
    before = [d for d in closes if d["date"] < iso(14)]
    assert [d["date"] for d in before] == [iso(k) for k in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)]
    assert {(d["outcome"], d["decided_by"]) for d in before} == {("blocked", "core_asset")}
    assert all(d["final_weight"] == d["from_weight"] for d in before)

    core_events = [n for n in notices(db, asset="C") if n["event"].startswith("core_")]
    assert [(n["date"], n["event"]) for n in core_events] == [
        (iso(0), "core_designated"),
        (iso(7), "core_warning"),
        (iso(14), "core_revoked"),
    ]
    warning, revoked = core_events[1]["details"], core_events[2]["details"]
    assert warning["underperformance"] == pytest.approx(0.12)
    assert warning["recommendation"] == "MONITOR_CLOSELY"
    assert revoked["underperformance"] == pytest.approx(0.20)
    assert revoked["bucket_average"] == 0.0
    assert revoked["peers"] == ["P"]
    assert (revoked["manual"], revoked["recommendation"]) == (False, "RECOMMEND_REVOKE")

    after = [d for d in closes if d["date"] >= iso(14)]
    assert [(d["date"], d["outcome"], d["decided_by"]) for d in after] == [
        (iso(14), "approved", "orchestrator")
    ]
    assert held(db, "C")[-1] == iso(11)


def test_check_core_when_underperformance_within_threshold_then_stays_core_and_close_blocked():
    _, db = run_model(_core_scenario(), core_asset_underperformance_threshold=0.25)

    assert not notices(db, "core_revoked")
    assert [(n["date"], n["details"]["recommendation"]) for n in notices(db, "core_warning")] == [
        (iso(14), "MONITOR_CLOSELY")
    ]
    closes = decisions(db, "C", action="close")
    assert len(closes) == 12
    assert {(d["outcome"], d["decided_by"]) for d in closes} == {("blocked", "core_asset")}
    assert held(db, "C")[-1] == iso(15)


def test_close_core_asset_when_expiry_days_pass_then_core_expires_and_close_approved():
    scenario = make_scenario(
        assets=("C",),
        days=5,
        portfolio={"C": Holding(0.2, entered=day(-30), core=True)},
        scores=script("C", (0, 0.3)),
        trending=script("C", (0, 0.0)),
        enabled={"grace_period": False},
    )
    _, db = run_model(scenario, core_asset_expiry_days=3)

    assert [n["date"] for n in notices(db, "core_expired", asset="C")] == [iso(3)]
    assert [(d["date"], d["outcome"], d["decided_by"]) for d in decisions(db, "C")] == [
        (iso(0), "blocked", "core_asset"),
        (iso(1), "blocked", "core_asset"),
        (iso(2), "blocked", "core_asset"),
        (iso(3), "approved", "orchestrator"),
    ]


# --- whipsaw -----------------------------------------------------------------------------


@pytest.mark.parametrize(("window", "reopen_day"), [(14, 17), (7, 10)])
def test_reopen_when_cycle_inside_whipsaw_window_then_blocked_until_cycle_leaves_it(
    window, reopen_day
):
    _, db = run_model(open_close_reopen(days=14), whipsaw_protection_days=window)

    got = decisions(db, "W")
    assert [(d["date"], d["action"], d["outcome"]) for d in got[:2]] == [
        (iso(0), "open", "approved"),
        (iso(3), "close", "approved"),
    ]
    reopens = got[2:]
    blocked = [d for d in reopens if d["date"] < iso(reopen_day)]
    assert blocked and blocked[0]["date"] == iso(4)
    assert {(d["action"], d["outcome"], d["decided_by"]) for d in blocked} == {
        ("open", "blocked", "whipsaw")
    }
    assert all(d["final_weight"] == 0.0 for d in blocked)
    warned = notices(db, "whipsaw_blocked", asset="W")
    assert [n["details"]["proposal_id"] for n in warned] == [d["proposal_id"] for d in blocked]
    assert warned[0]["details"]["days_until_reset"] == reopen_day - 4
    assert {n["details"]["recent_cycles"] for n in warned} == {1}

    first_allowed = next(d for d in reopens if d["date"] >= iso(reopen_day))
    assert (first_allowed["date"], first_allowed["outcome"], first_allowed["decided_by"]) == (
        iso(reopen_day),
        "approved",
        "orchestrator",
    )
    assert [(f["date"], f["side"]) for f in fills(db, "W")][-1] == (iso(reopen_day), "buy")


# --- holding period and regime override ------------------------------------------------


def _young_closes(*regimes: RegimePoint):
    """H opened day 0, wanted out on day 1, closed, reopened day 3, wanted out day 4; K
    opened day 3 and wanted out day 4. Grace and whipsaw are off to isolate the rule."""
    return make_scenario(
        assets=("H", "K"),
        days=6,
        scores=script("H", (0, 0.9), (1, 0.3), (3, 0.9), (4, 0.3))
        + script("K", (0, 0.3), (3, 0.9), (4, 0.3)),
        trending=script("H", (0, 0.9)) + script("K", (0, 0.9)),
        enabled={"grace_period": False, "whipsaw": False},
        regimes=regimes,
    )


def test_close_young_position_when_held_exactly_minimum_days_then_approved():
    scenario = make_scenario(
        assets=("H",),
        days=5,
        scores=script("H", (0, 0.9), (1, 0.3)),
        trending=script("H", (0, 0.9)),
        enabled={"grace_period": False},
    )
    _, db = run_model(scenario)

    got = decisions(db, "H", action="close")
    assert [(d["date"], d["outcome"], d["decided_by"]) for d in got] == [
        (iso(1), "blocked", "holding_period"),
        (iso(2), "blocked", "holding_period"),
        (iso(3), "approved", "orchestrator"),
    ]
    assert "held 2 of 3 minimum days" in got[1]["reason"]
    assert held(db, "H") == [iso(0), iso(1), iso(2)]


CHANGES_ON_2_AND_4 = (
    RegimePoint(day(2), "Inflation", severity="high"),
    RegimePoint(day(4), "Deflation", severity="critical"),
)


def test_close_young_position_when_regime_changes_then_override_lifts_holding_once_per_cooldown():
    _, db = run_model(_young_closes(*CHANGES_ON_2_AND_4))

    h = decisions(db, "H", action="close")
    assert [(d["date"], d["outcome"], d["decided_by"], d["overridden"]) for d in h] == [
        (iso(1), "blocked", "holding_period", []),
        (iso(2), "approved", "regime_override", ["holding_period"]),
        (iso(4), "blocked", "holding_period", []),
        (iso(7), "approved", "orchestrator", []),
    ]
    assert "held 1 of 3 minimum days" in h[0]["reason"]
    assert "held 1 of 3 minimum days" in h[2]["reason"]  # the reopen restarted the clock

    granted = notices(db, "regime_override_granted")
    assert [(n["date"], n["asset"], n["details"]["lifted"]) for n in granted] == [
        (iso(2), "H", ["holding_period"]),
        (iso(4), "K", ["holding_period"]),  # the cooldown is per asset
    ]
    assert granted[0]["details"]["proposal_id"] == h[1]["proposal_id"]
    k = decisions(db, "K", action="close")
    assert [(d["date"], d["outcome"], d["decided_by"]) for d in k] == [
        (iso(4), "approved", "regime_override")
    ]


@pytest.mark.parametrize(("cooldown", "lifted_again"), [(2, True), (3, False)])
def test_close_young_position_when_second_change_at_cooldown_edge_then_lifted_only_after_it(
    cooldown, lifted_again
):
    _, db = run_model(_young_closes(*CHANGES_ON_2_AND_4), regime_override_cooldown=cooldown)

    second = next(d for d in decisions(db, "H", action="close") if d["date"] == iso(4))
    expected = ("approved", "regime_override") if lifted_again else ("blocked", "holding_period")
    assert (second["outcome"], second["decided_by"]) == expected
    h_grants = [n["date"] for n in notices(db, "regime_override_granted", asset="H")]
    assert h_grants == ([iso(2), iso(4)] if lifted_again else [iso(2)])


@pytest.mark.parametrize(
    ("severity", "config"),
    [
        ("normal", {}),
        ("high", {"regime_override_enabled": False}),
        ("high", {"regime_severity_threshold": "critical"}),
    ],
    ids=["normal-change", "override-disabled", "below-threshold"],
)
def test_close_young_position_when_change_does_not_qualify_then_holding_block_stands(
    severity, config
):
    scenario = _young_closes(RegimePoint(day(2), "Inflation", severity=severity))
    _, db = run_model(scenario, **config)

    on_change = next(d for d in decisions(db, "H", action="close") if d["date"] == iso(2))
    assert (on_change["outcome"], on_change["decided_by"]) == ("blocked", "holding_period")
    assert not notices(db, "regime_override_granted")


def test_review_holding_when_max_period_reached_then_notice_and_closed_below_entry_score():
    scenario = make_scenario(
        assets=("H",),
        days=4,
        portfolio={"H": Holding(0.2, entered=day(-88))},
        scores=script("H", (0, 0.62)),  # keeps (>= 0.6) but fails the review (< 0.65)
        trending=script("H", (0, 0.0)),
    )
    _, db = run_model(scenario)

    reviews = notices(db, "holding_review", asset="H")
    assert [(n["date"], n["details"]["days_held"]) for n in reviews] == [(iso(2), 90)]
    assert reviews[0]["details"]["meets_required"] is False
    assert [(d["date"], d["action"], d["outcome"]) for d in decisions(db, "H")] == [
        (iso(2), "close", "approved")
    ]


# --- one decision per proposal ---------------------------------------------------------


def _busy_scenario():
    assets = tuple(f"A{i}" for i in range(10))
    scores = []
    for i, asset in enumerate(assets):
        period = 3 + i % 5
        high, low = 0.92 - 0.01 * i, 0.3 + 0.02 * i
        scores += script(
            asset, *((k, high if (k // period) % 2 == 0 else low) for k in range(0, 60, period))
        )
    return make_scenario(
        assets=(),
        days=40,
        name="busy",
        buckets={"X": assets[:4], "Y": assets[4:7], "Z": assets[7:]},
        portfolio={
            "A0": Holding(0.15, entered=day(-40), core=True),
            "A1": Holding(0.15, entered=day(-40)),
            "A5": Holding(0.1),
        },
        scores=scores,
        trending=[s for asset in assets for s in script(asset, (0, 0.9))],
        regimes=(
            RegimePoint(day(9), "Inflation", severity="high"),
            RegimePoint(day(20), "Deflation", severity="critical"),
            RegimePoint(day(30), "Reflation", severity="normal"),
        ),
        interventions=(Intervention(day(15), "mark_core", asset="A3"),),
    )


def _run_baseline():
    scenario = load_scenario(BASELINE)
    return run_model(scenario, resolved=resolve_run_config(scenario))


@pytest.mark.parametrize(
    "runner",
    [lambda: run_model(_busy_scenario(), max_total_positions=4), _run_baseline],
    ids=["busy", "baseline"],
)
def test_resolve_when_run_is_busy_then_every_proposal_has_exactly_one_decision(runner):
    model, db = runner()

    n_proposals = next(
        db.query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT proposal_id) AS ids FROM messages"
            " WHERE run_id = ? AND kind = 'proposal'",
            [RUN_ID],
        )
    )
    assert n_proposals["n"] == n_proposals["ids"] > 50
    wrong = list(
        db.query(
            "SELECT p.proposal_id, COUNT(d.id) AS n FROM messages p"
            " LEFT JOIN messages d ON d.run_id = p.run_id AND d.proposal_id = p.proposal_id"
            "  AND d.kind = 'decision' AND d.in_reply_to = p.id"
            " WHERE p.run_id = ? AND p.kind = 'proposal'"
            " GROUP BY p.proposal_id HAVING COUNT(d.id) != 1",
            [RUN_ID],
        )
    )
    assert wrong == []
    orphans = list(
        db.query(
            "SELECT d.proposal_id FROM messages d WHERE d.run_id = ? AND d.kind = 'decision'"
            " AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.run_id = d.run_id"
            "  AND p.kind = 'proposal' AND p.proposal_id = d.proposal_id)",
            [RUN_ID],
        )
    )
    assert orphans == []
    # Every protection answered every proposal once.
    per_proposal = {
        r["n"]
        for r in db.query(
            "SELECT proposal_id, COUNT(*) AS n FROM messages WHERE run_id = ?"
            " AND kind = 'verdict' GROUP BY proposal_id",
            [RUN_ID],
        )
    }
    assert per_proposal == {len(model.protection_agents)}


def test_run_when_scenario_is_busy_then_every_system_decides_and_replans_happen():
    _, db = run_model(_busy_scenario(), max_total_positions=4)

    deciders = {d["decided_by"] for d in messages(db, "decision")}
    assert deciders >= {
        "core_asset",
        "regime_override",
        "grace_period",
        "holding_period",
        "whipsaw",
        "orchestrator",
    }
    assert max(d["round"] for d in messages(db, "decision")) >= 1


# --- switching a protection off --------------------------------------------------------


@pytest.mark.parametrize(
    ("enabled", "config", "agents"),
    [
        ({"whipsaw": False}, {}, ["core_asset", "holding_period"]),
        (None, {"whipsaw_protection": False}, ["core_asset", "holding_period", "whipsaw"]),
    ],
    ids=["scenario-switch", "config-switch"],
)
def test_switch_off_when_whipsaw_disabled_then_no_verdicts_and_reopen_approved(
    enabled, config, agents
):
    # Off in the scenario: no agent. Off by its configuration switch: an agent that abstains
    # silently (so a `set` can switch it on mid-run).
    model, db = run_model(open_close_reopen(days=6, enabled=enabled), **config)

    assert not model.has_agent("whipsaw")
    assert sorted(a.name for a in model.protection_agents) == agents
    assert not list(
        db.query(
            "SELECT id FROM messages WHERE run_id = ? AND (sender = 'whipsaw'"
            " OR json_extract(payload, '$.system') = 'whipsaw'"
            " OR json_extract(payload, '$.decided_by') = 'whipsaw')",
            [RUN_ID],
        )
    )
    assert not notices(db, "whipsaw_blocked")
    assert [
        (d["date"], d["action"], d["outcome"], d["decided_by"]) for d in decisions(db, "W")
    ] == [
        (iso(0), "open", "approved", "orchestrator"),
        (iso(3), "close", "approved", "orchestrator"),
        (iso(4), "open", "approved", "orchestrator"),
    ]
    assert held(db, "W")[-1] == iso(7)


def test_switch_on_when_whipsaw_set_on_mid_run_then_cycle_seen_while_off_blocks_reopen():
    # Off at the start, the whipsaw agent still observes the open (day 0) and the close
    # (day 3); switched on by a `set` on day 4, it blocks the reopen that day.
    scenario = open_close_reopen(
        days=6,
        interventions=(Intervention(day(4), "set", param="whipsaw_protection", value=True),),
    )
    model, db = run_model(scenario, whipsaw_protection=False)

    whipsaw = [v for v in messages(db, "verdict") if v["system"] == "whipsaw"]
    opens = [(d["date"], d["outcome"], d["decided_by"], d["rule"]) for d in decisions(db, "W")]

    assert model.has_agent("whipsaw")
    assert whipsaw and min(v["date"] for v in whipsaw) == iso(4)
    assert opens[:2] == [
        (iso(0), "approved", "orchestrator", "resolution.priority"),
        (iso(3), "approved", "orchestrator", "resolution.priority"),
    ]
    assert opens[2] == (iso(4), "blocked", "whipsaw", "whipsaw.window")
