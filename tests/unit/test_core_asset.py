"""Core asset protection: designation, limits, expiry, extensions, performance checks, immunity."""

from __future__ import annotations

import math

import pytest

from domain.messages import ABSTAIN, BLOCK, CLOSE, GRANT, INCREASE, OPEN, REDUCE
from domain.protections.base import StartingHolding
from domain.protections.core_asset import (
    MONITOR_CLOSELY,
    RECOMMEND_REVOKE,
    RETAIN,
    CoreAssetProtection,
)
from domain.protections.registry import PRIORITIES
from tests.unit.protection_support import (
    CurvePrices,
    FakePrices,
    config,
    day,
    day_ctx,
    notices,
    proposal,
    review_ctx,
)

BUCKET = "Risk Assets"


def make(**overrides) -> CoreAssetProtection:
    return CoreAssetProtection(config(**overrides), priority=PRIORITIES["core_asset"])


def bucket_prices(returns: dict[str, float]) -> FakePrices:
    """Prices giving each asset `returns[asset]` between day(-40) and day(5) onwards."""
    closes = {a: {day(-40): 100.0, day(5): 100.0 * (1 + r)} for a, r in returns.items()}
    return FakePrices(closes, {BUCKET: tuple(sorted(returns))})


def check_ctx(when, prices):
    return day_ctx(when, bucket_of={a: BUCKET for a in prices.bucket_assets(BUCKET)}, prices=prices)


def test_start_when_holdings_flagged_core_then_designated_in_sorted_order_up_to_max():
    core = make(max_core_assets=2)
    holdings = {
        a: StartingHolding(asset=a, weight=0.1, entered=day(-10), core=True)
        for a in ("CCC", "AAA", "BBB")
    }
    holdings["DDD"] = StartingHolding(asset="DDD", weight=0.1, entered=day(-10), core=False)

    out = core.start(day(0), holdings)

    assert [(n.event, n.asset) for n in out] == [
        ("core_designated", "AAA"),
        ("core_designated", "BBB"),
        ("core_refused", "CCC"),
    ]
    assert core.core_assets() == ("AAA", "BBB")
    assert core.record("AAA").designated == day(0)


def test_designate_when_max_core_assets_reached_then_refused_with_reason_and_core_list():
    core = make(max_core_assets=3)
    for a in ("AAA", "BBB", "CCC"):
        assert notices(core.designate(a, day(0), reason="desk"), "core_designated")

    (refused,) = core.designate("DDD", day(1), reason="desk call", score=0.97)

    assert refused.event == "core_refused"
    assert "max_core_assets (3)" in refused.details["reason"]
    assert list(refused.details["core_assets"]) == ["AAA", "BBB", "CCC"]
    assert not core.is_core("DDD", day(1))


def test_designate_when_already_core_then_refused_and_expiry_unchanged():
    core = make()
    core.designate("AAA", day(0), reason="first")

    (refused,) = core.designate("AAA", day(10), reason="again")

    assert refused.event == "core_refused"
    assert "already core" in refused.details["reason"]
    assert "AAA" in refused.details["core_assets"]
    assert core.record("AAA").expiry == day(90)


def test_designate_when_refused_then_notice_names_the_refusing_rule():
    core = make(max_core_assets=1)
    (first,) = core.designate("AAA", day(0), reason="desk")

    (again,) = core.designate("AAA", day(1), reason="desk")
    (beyond,) = core.designate("BBB", day(1), reason="desk")

    assert (first.event, first.rule) == ("core_designated", "core_asset.designation")
    assert (again.event, again.rule) == ("core_refused", "core_asset.already_core")
    assert (beyond.event, beyond.rule) == ("core_refused", "core_asset.max_core")


def test_housekeep_when_expiry_day_reached_then_core_expired_and_removed():
    core = make(core_asset_expiry_days=90)
    core.designate("AAA", day(0), reason="desk")

    before = core.housekeep(day_ctx(day(89)))
    on_day = core.housekeep(day_ctx(day(90)))

    assert notices(before, "core_expired") == []
    assert core.is_core("AAA", day(90)) is False
    assert [(n.event, n.asset) for n in on_day] == [("core_expired", "AAA")]
    assert core.core_assets() == ()


def test_extend_when_within_limit_then_expiry_moves_later_by_days():
    core = make(core_asset_expiry_days=90, core_asset_extension_limit=2)
    core.designate("AAA", day(0), reason="desk")

    (first,) = core.extend("AAA", day(10), days=30, reason="conviction")
    (second,) = core.extend("AAA", day(20), days=15, reason="conviction")

    assert first.event == "core_extended" and second.event == "core_extended"
    assert core.record("AAA").expiry == day(135)
    assert core.record("AAA").extensions == 2


def test_extend_when_extension_limit_reached_then_refused_and_expiry_unchanged():
    core = make(core_asset_extension_limit=2)
    core.designate("AAA", day(0), reason="desk")
    core.extend("AAA", day(1), days=10, reason="x")
    core.extend("AAA", day(2), days=10, reason="x")

    (third,) = core.extend("AAA", day(3), days=10, reason="x")

    assert third.event == "core_extension_refused"
    assert "2 of 2" in third.details["reason"]
    assert core.record("AAA").expiry == day(110)


def test_extend_when_not_core_then_refused():
    (out,) = make().extend("AAA", day(0), days=10, reason="x")

    assert out.event == "core_extension_refused"


def test_revoke_when_core_then_core_revoked_and_immunity_gone():
    core = make()
    core.designate("AAA", day(0), reason="desk")

    (out,) = core.revoke("AAA", day(5), reason="desk changed its mind")

    assert out.event == "core_revoked"
    assert out.details["manual"] is True
    assert core.review(proposal("AAA", CLOSE), review_ctx(day(5))).stance == ABSTAIN


def test_switched_off_when_core_assets_then_every_core_asset_revoked_not_manual():
    # A `set` intervention turns enable_core_asset_management off mid-run: the record must
    # say that the core assets lost their immunity, or a later sale looks like a breach.
    core = make()
    core.designate("AAA", day(0), reason="desk")
    core.designate("BBB", day(0), reason="desk")

    out = core.switched_off(day(3))

    assert [(n.event, n.asset, n.details["manual"], n.rule) for n in out] == [
        ("core_revoked", "AAA", False, "core_asset.switch_off"),
        ("core_revoked", "BBB", False, "core_asset.switch_off"),
    ]
    assert out[0].details["reason"] == "core asset management switched off"
    assert core.core_assets() == () and core.switched_off(day(4)) == []


def test_revoke_when_not_core_then_refusal_notice():
    (out,) = make().revoke("AAA", day(0), reason="x")

    assert out.event == "core_revoke_refused"


def test_housekeep_when_fewer_than_check_frequency_days_then_no_performance_check():
    core = make()
    core.designate("AAA", day(0), reason="desk", bucket=BUCKET)
    prices = bucket_prices({"AAA": -0.30, "BBB": 0.10})

    early = core.housekeep(check_ctx(day(6), prices))
    due = core.housekeep(check_ctx(day(7), prices))

    assert early == []
    assert core.record("AAA") is None
    assert [n.event for n in due] == ["core_revoked"]


def test_housekeep_when_check_done_then_next_check_waits_a_full_period():
    core = make()
    core.designate("AAA", day(0), reason="desk", bucket=BUCKET)
    fine = bucket_prices({"AAA": 0.0, "BBB": 0.0})
    awful = bucket_prices({"AAA": -0.30, "BBB": 0.10})

    core.housekeep(check_ctx(day(7), fine))
    between = core.housekeep(check_ctx(day(13), awful))
    due = core.housekeep(check_ctx(day(14), awful))

    assert between == []
    assert [n.event for n in due] == ["core_revoked"]


def test_housekeep_when_underperforming_bucket_excluding_itself_then_revoked():
    # Excluding AAA: average 0.08, underperformance 0.18 > 0.15 -> revoke.
    # Including AAA the average would be 0.02 and underperformance 0.12 (a warning only).
    core = make(core_asset_underperformance_threshold=0.15)
    core.designate("AAA", day(0), reason="desk", bucket=BUCKET)
    prices = bucket_prices({"AAA": -0.10, "BBB": 0.10, "CCC": 0.06})

    (out,) = core.housekeep(check_ctx(day(7), prices))

    assert out.event == "core_revoked"
    assert out.details["recommendation"] == RECOMMEND_REVOKE
    assert out.details["bucket_average"] == pytest.approx(0.08)
    assert out.details["underperformance"] == pytest.approx(0.18)
    assert list(out.details["peers"]) == ["BBB", "CCC"]
    assert not core.is_core("AAA", day(7))


def test_housekeep_when_underperformance_above_half_threshold_then_warning():
    core = make(core_asset_underperformance_threshold=0.15)
    core.designate("AAA", day(0), reason="desk", bucket=BUCKET)
    prices = bucket_prices({"AAA": 0.0, "BBB": 0.10})

    (out,) = core.housekeep(check_ctx(day(7), prices))

    assert out.event == "core_warning"
    assert out.details["recommendation"] == MONITOR_CLOSELY
    assert core.is_core("AAA", day(7))
    assert core.record("AAA").recommendation == MONITOR_CLOSELY
    assert len(core.record("AAA").warnings) == 1


def test_housekeep_when_underperformance_below_half_threshold_then_retain_without_notice():
    core = make(core_asset_underperformance_threshold=0.15)
    core.designate("AAA", day(0), reason="desk", bucket=BUCKET)
    prices = bucket_prices({"AAA": 0.0, "BBB": 0.07})

    out = core.housekeep(check_ctx(day(7), prices))

    assert out == []
    assert core.record("AAA").recommendation == RETAIN
    assert core.record("AAA").underperformance == pytest.approx(0.07)
    assert core.record("AAA").last_check == day(7)


def test_housekeep_when_many_warnings_then_only_latest_ten_kept():
    core = make(core_asset_expiry_days=365)
    core.designate("AAA", day(0), reason="desk", bucket=BUCKET)
    decay = math.log(0.9) / 30  # AAA loses 10% over any 30 days, BBB is flat
    prices = CurvePrices(
        {"AAA": lambda t: 100.0 * math.exp(decay * t), "BBB": lambda t: 100.0},
        {BUCKET: ("AAA", "BBB")},
    )

    events = []
    for n in range(1, 13):
        events += core.housekeep(check_ctx(day(7 * n), prices))

    warnings = core.record("AAA").warnings
    assert [e.event for e in events] == ["core_warning"] * 12
    assert len(warnings) == 10
    assert warnings[0].startswith(day(21).isoformat())
    assert warnings[-1].startswith(day(84).isoformat())


def test_housekeep_when_no_peer_prices_then_no_check_and_retried_next_day():
    core = make()
    core.designate("AAA", day(0), reason="desk", bucket=BUCKET)
    alone = FakePrices({"AAA": {day(-40): 100.0, day(5): 50.0}}, {BUCKET: ("AAA",)})

    out = core.housekeep(check_ctx(day(7), alone))

    assert out == []
    assert core.record("AAA").last_check == day(0)
    peers = bucket_prices({"AAA": -0.5, "BBB": 0.0})
    assert [n.event for n in core.housekeep(check_ctx(day(8), peers))] == ["core_revoked"]


@pytest.mark.parametrize("action", [CLOSE, REDUCE])
def test_review_when_core_and_exit_then_blocked(action):
    core = make()
    core.designate("AAA", day(0), reason="desk")

    v = core.review(proposal("AAA", action, 0.2, 0.0), review_ctx(day(3)))

    assert v.stance == BLOCK
    assert v.priority == 1
    assert v.reason == f"core asset immunity: AAA is core until {day(90).isoformat()}"


@pytest.mark.parametrize("action", [OPEN, INCREASE])
def test_review_when_core_and_entry_then_granted(action):
    core = make()
    core.designate("AAA", day(0), reason="desk")

    v = core.review(proposal("AAA", action, 0.1, 0.2), review_ctx(day(3)))

    assert v.stance == GRANT


def test_review_when_not_core_then_abstain():
    v = make().review(proposal("AAA", CLOSE), review_ctx(day(0)))

    assert v.stance == ABSTAIN


def test_status_when_core_then_flag_and_until_date():
    core = make()
    core.designate("AAA", day(0), reason="desk")

    assert core.status("AAA", day(1)) == {"core": True, "core_until": day(90).isoformat()}
    assert core.status("BBB", day(1)) == {}


def test_report_when_core_assets_then_one_entry_each_with_lifecycle_fields():
    core = make()
    core.designate("BBB", day(0), reason="desk", score=0.97, bucket=BUCKET)
    core.designate("AAA", day(1), reason="desk")
    core.extend("AAA", day(2), days=10, reason="x")

    report = core.report(day(5))

    assert list(report) == ["AAA", "BBB"]
    assert report["AAA"]["expiry"] == day(101).isoformat()
    assert report["AAA"]["extensions"] == 1
    assert report["AAA"]["days_to_expiry"] == 96
    assert report["BBB"]["recommendation"] == RETAIN
    assert report["BBB"]["designation_score"] == 0.97
