"""Regimes: severity map, favoured buckets, scripted timeline and the detected rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from domain.calendar import weekdays
from domain.market import MarketData, generate_synthetic
from domain.regimes import (
    DEFAULT_FAVORED_BUCKETS,
    SEVERITY_MAP,
    DetectorParams,
    RegimeState,
    apply_hysteresis,
    detected_timeline,
    detection_proxies,
    favored_buckets,
    inflation_hedge_buckets,
    quadrant,
    scripted_timeline,
    severity_of,
)
from domain.scenario import Calendar, MarketSpec, RegimePoint, RegimeSpec, Scenario

START = dt.date(2021, 1, 4)
DAYS = weekdays(START, days=60)


def day(i: int) -> dt.date:
    return DAYS[i]


# --- severity and favoured buckets -------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "regime", "severity"),
    [
        ("Goldilocks", "Deflation", "critical"),
        ("Goldilocks", "Inflation", "high"),
        ("Deflation", "Inflation", "critical"),
        ("Reflation", "Deflation", "critical"),
        ("Goldilocks", "Reflation", "normal"),
        ("Inflation", "Deflation", "normal"),
        ("Deflation", "Goldilocks", "normal"),
        ("Inflation", "Goldilocks", "normal"),
        ("Goldilocks", "Stagflation", "normal"),
        ("Deflation", "Deflation", "normal"),
        (None, "Deflation", "normal"),
    ],
)
def test_severity_of_when_transition_then_from_map(previous, regime, severity):
    assert severity_of(previous, regime) == severity


def test_severity_map_when_read_then_exactly_the_rule_book_entries():
    assert dict(SEVERITY_MAP) == {
        ("Goldilocks", "Deflation"): "critical",
        ("Goldilocks", "Inflation"): "high",
        ("Deflation", "Inflation"): "critical",
        ("Reflation", "Deflation"): "critical",
    }


def test_favored_buckets_when_no_override_then_rule_book_defaults():
    assert DEFAULT_FAVORED_BUCKETS["Goldilocks"] == ("Risk Assets", "Growth")
    assert DEFAULT_FAVORED_BUCKETS["Reflation"] == (
        "Cyclicals",
        "Value",
        "International",
        "Commodities",
    )
    assert DEFAULT_FAVORED_BUCKETS["Inflation"] == ("Commodities", "Real assets")
    assert DEFAULT_FAVORED_BUCKETS["Deflation"] == ("Defensive Assets", "Fixed Income")
    assert favored_buckets("Deflation", None) == ("Defensive Assets", "Fixed Income")
    assert favored_buckets("Stagflation", None) == ()


def test_favored_buckets_when_scenario_overrides_one_regime_then_only_that_one_replaced():
    spec = RegimeSpec(
        timeline=[
            RegimePoint(date=day(0), regime="Goldilocks"),
            RegimePoint(date=day(3), regime="Deflation"),
        ],
        favored_buckets={"Goldilocks": ["Tech"]},
    )
    states = scripted_timeline(spec, DAYS[:5])
    assert states[0].favored_buckets == ("Tech",)
    assert states[4].favored_buckets == ("Defensive Assets", "Fixed Income")


# --- scripted timeline ----------------------------------------------------------------


def test_scripted_when_no_timeline_then_goldilocks_full_confidence_never_changes():
    states = scripted_timeline(RegimeSpec(), DAYS)
    assert len(states) == len(DAYS)
    assert {s.regime for s in states} == {"Goldilocks"}
    assert not any(s.changed for s in states)
    assert {s.confidence for s in states} == {1.0}
    assert {s.stability for s in states} == {1.0}
    assert {s.severity for s in states} == {"normal"}
    assert states[0].previous is None
    assert states[1].previous == "Goldilocks"


def test_scripted_when_change_then_changed_only_that_day_with_mapped_severity():
    spec = RegimeSpec(
        timeline=[
            RegimePoint(date=day(0), regime="Goldilocks", confidence=0.85),
            RegimePoint(date=day(10), regime="Deflation"),
        ]
    )
    states = scripted_timeline(spec, DAYS)
    assert [i for i, s in enumerate(states) if s.changed] == [10]
    assert states[10] == RegimeState(
        regime="Deflation",
        previous="Goldilocks",
        changed=True,
        severity="critical",
        confidence=1.0,
        stability=0.0,
        favored_buckets=("Defensive Assets", "Fixed Income"),
    )
    assert states[11].severity == "normal"
    assert states[11].previous == "Deflation"
    assert states[9].confidence == 0.85


def test_scripted_when_point_has_explicit_severity_then_it_wins():
    spec = RegimeSpec(
        timeline=[
            RegimePoint(date=day(0), regime="Goldilocks"),
            RegimePoint(date=day(5), regime="Reflation", severity="critical"),
            RegimePoint(date=day(8), regime="Deflation", severity="normal"),
        ]
    )
    states = scripted_timeline(spec, DAYS)
    assert states[5].severity == "critical"  # the map says normal
    assert states[8].severity == "normal"  # the map says critical


def test_scripted_when_first_point_after_start_then_goldilocks_before_it():
    spec = RegimeSpec(timeline=[RegimePoint(date=day(4), regime="Inflation", confidence=0.7)])
    states = scripted_timeline(spec, DAYS)
    assert [s.regime for s in states[:4]] == ["Goldilocks"] * 4
    assert states[3].confidence == 1.0
    assert states[4].changed and states[4].severity == "high"
    assert states[4].confidence == 0.7


def test_scripted_when_point_on_weekend_or_before_start_then_applies_next_trading_day():
    spec = RegimeSpec(
        timeline=[
            RegimePoint(date=dt.date(2020, 12, 1), regime="Deflation"),
            RegimePoint(date=dt.date(2021, 1, 9), regime="Reflation"),  # a Saturday
        ]
    )
    states = scripted_timeline(spec, DAYS)
    assert states[0].regime == "Deflation" and not states[0].changed
    assert states[4].regime == "Deflation"
    assert states[5].regime == "Reflation" and states[5].changed  # Monday 2021-01-11


def test_scripted_when_two_points_same_day_then_last_in_file_order_wins():
    spec = RegimeSpec(
        timeline=[
            RegimePoint(date=day(2), regime="Inflation"),
            RegimePoint(date=day(2), regime="Deflation"),
        ]
    )
    assert scripted_timeline(spec, DAYS)[2].regime == "Deflation"


def test_scripted_when_stability_not_scripted_then_days_since_change_over_20():
    spec = RegimeSpec(timeline=[RegimePoint(date=day(10), regime="Deflation")])
    states = scripted_timeline(spec, DAYS)
    assert states[9].stability == 1.0  # no change yet
    assert states[10].stability == 0.0
    assert states[11].stability == pytest.approx(0.05)
    assert states[20].stability == pytest.approx(0.5)
    assert states[30].stability == 1.0
    assert states[45].stability == 1.0


def test_scripted_when_stability_and_confidence_scripted_then_hold_until_next_point():
    spec = RegimeSpec(
        timeline=[
            RegimePoint(date=day(0), regime="Goldilocks", confidence=0.6, stability=0.3),
            RegimePoint(date=day(5), regime="Goldilocks", confidence=0.9),
        ]
    )
    states = scripted_timeline(spec, DAYS)
    assert [s.stability for s in states[:5]] == [0.3] * 5
    assert [s.confidence for s in states[:5]] == [0.6] * 5
    assert states[5].stability == 1.0 and states[5].confidence == 0.9
    assert not states[5].changed  # same regime: only confidence moved


def test_message_when_state_converted_then_regime_updated_fields_match():
    state = scripted_timeline(RegimeSpec(), DAYS[:1])[0]
    message = state.message()
    assert message.kind == "regime_update"
    assert (message.regime, message.previous, message.changed) == ("Goldilocks", None, False)
    assert message.favored_buckets == ("Risk Assets", "Growth")


# --- detected: building blocks --------------------------------------------------------


@pytest.mark.parametrize(
    ("growth", "inflation", "regime"),
    [
        (0.1, -0.1, "Goldilocks"),
        (0.1, 0.1, "Reflation"),
        (-0.1, 0.1, "Inflation"),
        (-0.1, -0.1, "Deflation"),
        (0.0, 0.0, "Deflation"),
    ],
)
def test_quadrant_when_proxies_signed_then_regime(growth, inflation, regime):
    assert quadrant(growth, inflation) == regime


def test_hysteresis_when_new_quadrant_lasts_four_days_then_no_switch():
    raw = ["Goldilocks"] * 3 + ["Deflation"] * 4 + ["Goldilocks"] * 3
    assert apply_hysteresis(raw, 5) == ["Goldilocks"] * 10


def test_hysteresis_when_new_quadrant_lasts_five_days_then_switch_on_fifth():
    raw = ["Goldilocks"] * 2 + ["Deflation"] * 6
    assert apply_hysteresis(raw, 5) == ["Goldilocks"] * 6 + ["Deflation"] * 2


def test_hysteresis_when_streak_interrupted_then_count_restarts():
    raw = ["Deflation"] * 3 + [None] + ["Deflation"] * 4 + ["Inflation"] + ["Deflation"] * 5
    held = apply_hysteresis(raw, 5)
    assert held[:13] == ["Goldilocks"] * 13
    assert held[13] == "Deflation"


def test_hysteresis_when_persistence_one_then_immediate_and_zero_rejected():
    assert apply_hysteresis(["Reflation", "Inflation"], 1) == ["Reflation", "Inflation"]
    with pytest.raises(ValueError):
        apply_hysteresis(["Reflation"], 0)


def test_inflation_hedge_buckets_when_names_suggest_hedges_then_selected():
    names = ["Commodities", "Real assets", "Risk Assets", "Inflation Linked", "Gold", "Bonds"]
    assert inflation_hedge_buckets(names) == (
        "Commodities",
        "Gold",
        "Inflation Linked",
        "Real assets",
    )


# --- detected: markets built by hand ----------------------------------------------------


def market_from_returns(
    returns: dict[str, np.ndarray], buckets: dict[str, str], warmup: int
) -> MarketData:
    tickers = sorted(returns)
    n = len(next(iter(returns.values()))) + 1
    log_level = np.vstack(
        [np.zeros(len(tickers)), np.cumsum(np.column_stack([returns[t] for t in tickers]), axis=0)]
    )
    dates = weekdays(dt.date(2020, 1, 6), days=n)
    return MarketData(
        dates=dates,
        start_index=warmup,
        tickers=tickers,
        bucket_of=buckets,
        closes=100 * np.exp(log_level),
    )


HEDGED = {"E1": "Equities", "E2": "Equities", "K1": "Commodities"}


def hedged_market(phases: list[tuple[int, float, float]], warmup: int, seed: int = 0) -> MarketData:
    """Equities E1, E2 and commodity K1 with (days, equity drift, commodity drift) phases."""
    rng = np.random.default_rng(seed)
    equity = np.concatenate([np.full(n, e) for n, e, _ in phases])
    hedge = np.concatenate([np.full(n, k) for n, _, k in phases])
    noise = rng.normal(0.0, 0.0005, (3, len(equity)))
    return market_from_returns(
        {"E1": equity + noise[0], "E2": equity + noise[1], "K1": hedge + noise[2]},
        HEDGED,
        warmup,
    )


@pytest.mark.parametrize(
    ("equity", "hedge", "regime"),
    [
        (0.002, -0.001, "Goldilocks"),
        (0.001, 0.004, "Reflation"),
        (-0.003, 0.002, "Inflation"),
        (-0.002, -0.003, "Deflation"),
    ],
)
def test_detected_when_steady_trends_then_matching_quadrant(equity, hedge, regime):
    market = hedged_market([(150, equity, hedge)], warmup=80)
    states = detected_timeline(market, RegimeSpec(source="detected"))
    assert len(states) == len(market.sim_dates)
    assert {s.regime for s in states} == {regime}
    assert min(s.confidence for s in states) > 0.9


def test_detected_when_trend_turns_then_switch_after_persistence_with_mapped_severity():
    market = hedged_market([(100, 0.002, -0.001), (100, -0.003, -0.004)], warmup=90)
    states = detected_timeline(market, RegimeSpec(source="detected"))
    growth, inflation, _ = detection_proxies(market)
    raw = [quadrant(g, i) for g, i in zip(growth, inflation, strict=True)]
    raw_flip = next(t for t in range(101, len(raw)) if raw[t] == "Deflation")
    assert all(r == "Deflation" for r in raw[raw_flip:])  # the turn is clean
    changes = [i for i, s in enumerate(states) if s.changed]
    assert [states[i].regime for i in changes] == ["Deflation"]
    change = changes[0]
    assert change + market.start_index == raw_flip + 4  # fifth day in a row
    assert states[change].severity == "critical"  # Goldilocks -> Deflation
    assert states[change].previous == "Goldilocks"
    assert states[change].stability == 0.0
    assert states[change + 1].stability == pytest.approx(0.05)


def test_detected_when_raw_quadrant_disagrees_with_held_regime_then_confidence_half():
    market = hedged_market([(100, 0.002, -0.001), (100, -0.003, 0.004)], warmup=90)
    states = detected_timeline(market, RegimeSpec(source="detected"))
    change = next(i for i, s in enumerate(states) if s.changed)
    assert [s.confidence for s in states[change - 4 : change]] == [0.5] * 4
    assert all(0.5 <= s.confidence <= 1.0 for s in states)


def test_detected_when_history_shorter_than_lookback_then_goldilocks_half_confidence():
    market = hedged_market([(40, -0.003, -0.003)], warmup=10)
    states = detected_timeline(market, RegimeSpec(source="detected"))
    assert {s.regime for s in states} == {"Goldilocks"}
    assert {s.confidence for s in states} == {0.5}


def test_detected_when_favored_override_then_used():
    market = hedged_market([(150, -0.002, -0.003)], warmup=80)
    spec = RegimeSpec(source="detected", favored_buckets={"Deflation": ["Bonds"]})
    assert detected_timeline(market, spec)[-1].favored_buckets == ("Bonds",)


def alternating(n: int, drift: float, sigma: float) -> np.ndarray:
    return drift + sigma * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)


def test_detected_when_no_hedge_bucket_and_volatility_rises_then_inflation_up():
    returns = np.concatenate([alternating(100, 0.002, 0.002), alternating(40, 0.002, 0.02)])
    market = market_from_returns({"E1": returns}, {"E1": "Equities"}, warmup=100)
    growth, inflation, _ = detection_proxies(market)
    assert growth[-1] > 0 and inflation[-1] > 0
    assert detected_timeline(market, RegimeSpec())[-1].regime == "Reflation"


def test_detected_when_no_hedge_bucket_and_volatility_falls_then_inflation_down():
    returns = np.concatenate([alternating(100, -0.002, 0.02), alternating(40, -0.002, 0.002)])
    market = market_from_returns({"E1": returns}, {"E1": "Equities"}, warmup=100)
    growth, inflation, _ = detection_proxies(market)
    assert growth[-1] < 0 and inflation[-1] < 0
    assert detected_timeline(market, RegimeSpec())[-1].regime == "Deflation"


def test_detected_when_params_given_then_lookback_and_persistence_used():
    market = hedged_market([(100, 0.002, -0.001), (100, -0.003, 0.004)], warmup=90)
    slow = detected_timeline(market, RegimeSpec(), DetectorParams(persistence=30))
    fast = detected_timeline(market, RegimeSpec(), DetectorParams(lookback=20, persistence=1))
    first = {
        name: next(i for i, s in enumerate(states) if s.changed)
        for name, states in (("slow", slow), ("fast", fast))
    }
    assert first["fast"] < first["slow"]


def test_detected_when_prices_after_day_t_change_then_regimes_up_to_t_unchanged():
    scenario = Scenario(
        name="t",
        calendar=Calendar(start=START, days=400),
        buckets={"Risk Assets": ["A", "B", "C"], "Commodities": ["K", "L"]},
        market=MarketSpec(warmup_days=120),
    )
    market = generate_synthetic(scenario, np.random.default_rng(3))
    spec = RegimeSpec(source="detected")
    original = detected_timeline(market, spec)
    assert sum(s.changed for s in original) >= 2  # the check below is not vacuous
    for t in (market.start_index, market.start_index + 150, market.start_index + 300):
        closes = np.array(market.closes)
        crash = np.linspace(0.7, 0.2, len(closes) - t - 1)[:, None]
        closes[t + 1 :, :3] *= crash  # risk assets collapse, commodities untouched
        altered = MarketData(
            dates=market.dates,
            start_index=market.start_index,
            tickers=market.tickers,
            bucket_of=market.bucket_of,
            closes=closes,
        )
        changed = detected_timeline(altered, spec)
        k = t - market.start_index
        assert changed[: k + 1] == original[: k + 1]
        assert changed[k + 1 :] != original[k + 1 :]
