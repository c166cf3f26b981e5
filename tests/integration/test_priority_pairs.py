"""One model run per pair of systems in the priority table, showing which one wins.

core_asset 1, regime_override 2, grace_period 3, holding_period 4, whipsaw 5: the
decisive verdict of the highest priority decides, a regime override drops the blocks
and amends of the systems it lifts, and `overridden` lists the lifted systems and every
other decisive verdict whose outcome differs from the decision (a concurring block is
not overridden). Each test asserts decided_by, outcome and overridden from the decision
payload, and that the losing system did speak.
"""

from __future__ import annotations

import pytest

from domain.scenario import Holding, Intervention, RegimePoint
from tests.integration.builders import (
    day,
    decisions,
    held,
    iso,
    make_scenario,
    notices,
    open_close_reopen,
    proposals,
    run_model,
    script,
    verdicts,
)


def _summary(decision):
    return decision["outcome"], decision["decided_by"], decision["overridden"]


def _stances(db, decision):
    return {s: v["stance"] for s, v in verdicts(db, decision["proposal_id"]).items()}


def _on(items, n):
    (item,) = [i for i in items if i["date"] == iso(n)]
    return item


def test_core_asset_vs_regime_override_when_critical_change_then_core_block_stands():
    # C is an old core holding wanted out; Y is a young non-core one wanted out the same
    # day, which shows the override really was active.
    scenario = make_scenario(
        assets=("C", "Y"),
        days=3,
        portfolio={"C": Holding(0.2, entered=day(-30), core=True)},
        scores=script("C", (0, 0.9), (1, 0.3)) + script("Y", (0, 0.9), (1, 0.3)),
        trending=script("C", (0, 0.0)) + script("Y", (0, 0.9), (1, 0.0)),
        regimes=(RegimePoint(day(1), "Deflation", severity="critical"),),
        enabled={"grace_period": False},
    )
    _, db = run_model(scenario)

    c = _on(decisions(db, "C", action="close"), 1)
    assert _summary(c) == ("blocked", "core_asset", [])
    assert c["final_weight"] == c["from_weight"]
    assert "regime override" not in c["reason"]
    y = _on(decisions(db, "Y", action="close"), 1)
    assert _summary(y) == ("approved", "regime_override", ["holding_period"])
    assert [n["asset"] for n in notices(db, "regime_override_granted")] == ["Y"]
    assert held(db, "C")[-1] == iso(2)


def test_core_asset_vs_regime_override_when_core_decides_then_override_not_spent():
    # C is a young core holding: on day 1 (critical change) core blocks its close and the
    # holding block beneath is moot. On day 2 C's core status is revoked and a second
    # high change comes: the young close should now be lifted.
    scenario = make_scenario(
        assets=("C",),
        days=3,
        portfolio={"C": Holding(0.2, core=True)},
        scores=script("C", (0, 0.9), (1, 0.3)),
        trending=script("C", (0, 0.0)),
        regimes=(
            RegimePoint(day(1), "Deflation", severity="critical"),
            RegimePoint(day(2), "Inflation", severity="high"),
        ),
        interventions=(Intervention(day(2), "revoke_core", asset="C"),),
        enabled={"grace_period": False},
    )
    _, db = run_model(scenario)

    assert _on(decisions(db, "C"), 1)["decided_by"] == "core_asset"
    assert [n["date"] for n in notices(db, "regime_override_granted", asset="C")] == [iso(2)]
    second = _on(decisions(db, "C"), 2)
    assert (second["outcome"], second["decided_by"]) == ("approved", "regime_override")


def test_core_asset_vs_grace_period_when_asset_in_grace_becomes_core_then_core_wins():
    scenario = make_scenario(
        assets=("C",),
        days=6,
        portfolio={"C": Holding(0.3, entered=day(-30))},
        scores=script("C", (0, 0.3)),
        trending=script("C", (0, 0.0)),
        interventions=(Intervention(day(2), "mark_core", asset="C"),),
    )
    _, db = run_model(scenario, max_single_position_size=0.5)  # the cap does not bind

    events = [
        (n["date"], n["event"])
        for n in notices(db, asset="C")
        if n["event"].startswith(("grace_", "core_"))
    ]
    assert events == [
        (iso(0), "grace_started"),
        (iso(1), "grace_decay"),
        (iso(2), "core_designated"),
        (iso(2), "grace_exempt"),
    ]
    assert [p["date"] for p in proposals(db, "C", origin="grace_period")] == [iso(1)]
    after = [d for d in decisions(db, "C") if d["date"] >= iso(2)]
    assert [d["date"] for d in after] == [iso(k) for k in (2, 3, 4, 7)]
    for d in after:
        assert (d["action"], *_summary(d)) == ("close", "blocked", "core_asset", [])
        assert _stances(db, d)["grace_period"] == "abstain"
    assert held(db, "C")[-1] == iso(7)


def test_core_asset_vs_holding_period_when_young_core_asset_is_increased_then_core_grant_wins():
    scenario = make_scenario(
        assets=("C",),
        days=2,
        portfolio={"C": Holding(0.05, core=True)},  # entered today: held 0 days
        scores=script("C", (0, 0.9)),
        trending=script("C", (0, 0.0)),
    )
    _, db = run_model(scenario)

    (increase,) = decisions(db, "C")
    assert (increase["date"], increase["action"]) == (iso(0), "increase")
    assert _summary(increase) == ("approved", "core_asset", ["holding_period"])
    assert increase["final_weight"] == increase["to_weight"] > 0.05
    stances = _stances(db, increase)
    assert (stances["core_asset"], stances["holding_period"]) == ("grant", "block")


def test_core_asset_vs_holding_period_when_young_core_asset_is_closed_then_concurring_blocks():
    scenario = make_scenario(
        assets=("C",),
        days=2,
        portfolio={"C": Holding(0.2, core=True)},
        scores=script("C", (0, 0.9), (1, 0.3)),
        trending=script("C", (0, 0.0)),
    )
    _, db = run_model(scenario)

    close = _on(decisions(db, "C"), 1)
    assert _summary(close) == ("blocked", "core_asset", [])
    stances = _stances(db, close)
    assert (stances["core_asset"], stances["holding_period"]) == ("block", "block")


def test_core_asset_vs_whipsaw_when_core_asset_reopened_inside_window_then_core_grant_wins():
    scenario = open_close_reopen(
        "C", days=6, interventions=(Intervention(day(4), "mark_core", asset="C"),)
    )
    _, db = run_model(scenario)

    reopen = _on(decisions(db, "C"), 4)
    assert reopen["action"] == "open"
    assert _summary(reopen) == ("approved", "core_asset", ["whipsaw"])
    assert _stances(db, reopen)["whipsaw"] == "block"
    assert [n["date"] for n in notices(db, "whipsaw_blocked", asset="C")] == [iso(4)]
    assert held(db, "C")[-1] == iso(7)


def test_regime_override_vs_grace_period_when_high_change_then_grace_amend_lifted():
    # G enters grace on the change day: its close is normally amended into the schedule.
    # G2 entered grace the day before: grace's own decay is a grant, which is never lifted.
    scenario = make_scenario(
        assets=("G", "G2"),
        days=4,
        portfolio={"G": Holding(0.2, entered=day(-30)), "G2": Holding(0.2, entered=day(-30))},
        scores=script("G", (0, 0.9), (2, 0.3)) + script("G2", (0, 0.9), (1, 0.3)),
        trending=script("G", (0, 0.0)) + script("G2", (0, 0.0)),
        regimes=(RegimePoint(day(2), "Inflation", severity="high"),),
    )
    _, db = run_model(scenario)

    g = _on(decisions(db, "G"), 2)
    assert (g["action"], g["origin"]) == ("close", "portfolio_manager")
    assert _summary(g) == ("approved", "regime_override", ["grace_period"])
    assert g["final_weight"] == 0.0
    assert _stances(db, g)["grace_period"] == "amend"
    assert [n["event"] for n in notices(db, asset="G") if n["event"].startswith("grace_")] == [
        "grace_started"
    ]
    assert held(db, "G")[-1] == iso(1)

    g2 = _on(decisions(db, "G2"), 2)
    assert (g2["action"], g2["origin"]) == ("reduce", "grace_period")
    assert _summary(g2) == ("approved", "grace_period", [])
    assert [n["asset"] for n in notices(db, "regime_override_granted")] == ["G"]


def test_amend_close_when_grace_starts_without_regime_change_then_grace_decides():
    scenario = make_scenario(
        assets=("G",),
        days=3,
        portfolio={"G": Holding(0.2, entered=day(-30))},
        scores=script("G", (0, 0.9), (2, 0.3)),
        trending=script("G", (0, 0.0)),
    )
    _, db = run_model(scenario)

    g = _on(decisions(db, "G"), 2)
    assert _summary(g) == ("amended", "grace_period", [])
    assert g["final_weight"] == pytest.approx(0.2, rel=1e-9)


@pytest.mark.parametrize("severity", ["high", "critical"])
def test_regime_override_vs_holding_period_when_change_then_young_close_lifted(severity):
    scenario = make_scenario(
        assets=("H",),
        days=3,
        scores=script("H", (0, 0.9), (1, 0.3)),
        trending=script("H", (0, 0.9)),
        regimes=(RegimePoint(day(1), "Deflation", severity=severity),),
        enabled={"grace_period": False},
    )
    _, db = run_model(scenario)

    close = _on(decisions(db, "H"), 1)
    assert close["action"] == "close"
    assert _summary(close) == ("approved", "regime_override", ["holding_period"])
    assert _stances(db, close)["holding_period"] == "block"
    assert "regime override" in close["reason"]
    assert held(db, "H") == [iso(0)]


@pytest.mark.parametrize(
    ("severity", "critical_lifts_whipsaw", "lifted"),
    [("critical", True, True), ("high", True, False), ("critical", False, False)],
    ids=["critical", "high", "critical-switched-off"],
)
def test_regime_override_vs_whipsaw_when_change_then_only_critical_lifts_reopen_block(
    severity, critical_lifts_whipsaw, lifted
):
    scenario = open_close_reopen(
        days=7, regimes=(RegimePoint(day(7), "Deflation", severity=severity),)
    )
    _, db = run_model(scenario, regime_override_whipsaw_critical=critical_lifts_whipsaw)

    before = _on(decisions(db, "W"), 4)
    assert _summary(before) == ("blocked", "whipsaw", [])
    reopen = _on(decisions(db, "W"), 7)
    assert reopen["action"] == "open"
    assert _stances(db, reopen)["whipsaw"] == "block"
    if lifted:
        assert _summary(reopen) == ("approved", "regime_override", ["whipsaw"])
        assert iso(7) in held(db, "W")
        assert [n["details"]["lifted"] for n in notices(db, "regime_override_granted")] == [
            ["whipsaw"]
        ]
    else:
        assert _summary(reopen) == ("blocked", "whipsaw", [])
        assert iso(7) not in held(db, "W")
        assert not notices(db, "regime_override_granted")


def test_grace_period_vs_holding_period_when_young_position_decays_then_grace_wins():
    scenario = make_scenario(
        assets=("G",),
        days=4,
        scores=script("G", (0, 0.9), (1, 0.3)),
        trending=script("G", (0, 0.9), (1, 0.0)),
    )
    _, db = run_model(scenario)

    # Day 1 (held 1 day): the manager's close is amended into grace, not held by holding.
    close = _on(decisions(db, "G"), 1)
    assert (close["action"], close["origin"]) == ("close", "portfolio_manager")
    assert _summary(close) == ("amended", "grace_period", ["holding_period"])
    # Day 2 (held 2 of 3 days): grace's own decay reduce is granted over the holding block.
    decay = _on(decisions(db, "G"), 2)
    assert (decay["action"], decay["origin"]) == ("reduce", "grace_period")
    assert _summary(decay) == ("approved", "grace_period", ["holding_period"])
    assert decay["final_weight"] == pytest.approx(0.8 * close["final_weight"], rel=1e-12)
    assert _stances(db, decay) == {
        "core_asset": "abstain",
        "grace_period": "grant",
        "holding_period": "block",
        "whipsaw": "abstain",
    }


def test_grace_period_vs_whipsaw_when_expiry_close_of_young_position_then_grace_wins():
    scenario = make_scenario(
        assets=("G",),
        days=6,
        scores=script("G", (0, 0.9), (1, 0.3)),
        trending=script("G", (0, 0.9), (1, 0.0)),
    )
    # 200 hours: the position opened on day 0 is still "young" at grace expiry (day 7).
    _, db = run_model(scenario, whipsaw_min_duration_hours=200)

    expiry = _on(decisions(db, "G"), 7)
    assert (expiry["action"], expiry["origin"]) == ("close", "grace_period")
    assert _summary(expiry) == ("approved", "grace_period", ["whipsaw"])
    assert _stances(db, expiry)["whipsaw"] == "block"
    assert (
        _on(notices(db, "whipsaw_blocked", asset="G"), 7)["details"]["proposal_id"]
        == (expiry["proposal_id"])
    )
    assert held(db, "G")[-1] == iso(4)


def test_holding_period_vs_whipsaw_when_both_block_then_holding_decides_and_none_overridden():
    scenario = make_scenario(
        assets=("H",),
        days=2,
        portfolio={"H": Holding(0.2)},  # entered today: 0 days, 0 hours old
        scores=script("H", (0, 0.3)),
        trending=script("H", (0, 0.0)),
        enabled={"grace_period": False},
    )
    _, db = run_model(scenario)

    close = _on(decisions(db, "H"), 0)
    assert close["action"] == "close"
    # A concurring block is not "overridden" (docs/protections.md, Resolution).
    assert _summary(close) == ("blocked", "holding_period", [])
    stances = _stances(db, close)
    assert (stances["holding_period"], stances["whipsaw"]) == ("block", "block")
    assert [n["date"] for n in notices(db, "whipsaw_blocked", asset="H")] == [iso(0)]
    # A day later only holding blocks (24 hours >= 4): same decider.
    nxt = _on(decisions(db, "H"), 1)
    assert _summary(nxt) == ("blocked", "holding_period", [])
    assert _stances(db, nxt)["whipsaw"] == "approve"
