"""Market paths: MarketData, the synthetic generator, history cutting, shocks and paths."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from domain.market import (
    MarketData,
    apply_shocks_and_paths,
    factor_loadings,
    generate_synthetic,
    market_from_history,
    resolve_level,
)
from domain.scenario import (
    AssetSpec,
    Calendar,
    CorrelationSpec,
    LevelSpec,
    MarketSpec,
    RegimePoint,
    RegimeSpec,
    Scenario,
    Shock,
)

REPO = Path(__file__).resolve().parents[2]
START = dt.date(2021, 1, 4)  # a Monday

BUCKETS_4X5 = {
    "Bonds": ["B1", "B2", "B3", "B4", "B5"],
    "Commodities": ["C1", "C2", "C3", "C4", "C5"],
    "Defensive Assets": ["D1", "D2", "D3", "D4", "D5"],
    "Risk Assets": ["R1", "R2", "R3", "R4", "R5"],
}


def scenario(
    *,
    buckets=None,
    days: int = 60,
    warmup: int = 20,
    drift: LevelSpec | None = None,
    volatility: LevelSpec | None = None,
    correlation: CorrelationSpec | None = None,
    shocks=(),
    paths=None,
    assets=None,
    timeline=(),
) -> Scenario:
    return Scenario(
        name="t",
        calendar=Calendar(start=START, days=days),
        buckets=buckets or {"Risk Assets": ["AAA", "BBB"], "Defensive Assets": ["CCC"]},
        assets=assets or {},
        market=MarketSpec(
            drift=drift or LevelSpec(default=0.06),
            volatility=volatility or LevelSpec(default=0.20),
            correlation=correlation or CorrelationSpec(),
            shocks=shocks,
            paths=paths or {},
            warmup_days=warmup,
        ),
        regimes=RegimeSpec(timeline=timeline),
    )


def log_returns(market: MarketData) -> np.ndarray:
    return np.diff(np.log(market.closes), axis=0)


def generate(sc: Scenario, seed: int = 0, regimes=None) -> MarketData:
    return generate_synthetic(sc, np.random.default_rng(seed), regimes)


# --- MarketData -----------------------------------------------------------------------


def small_market() -> MarketData:
    dates = [dt.date(2021, 1, 4) + dt.timedelta(days=i) for i in range(5)]
    closes = np.array(
        [
            [10.0, np.nan],
            [11.0, np.nan],
            [12.0, 20.0],
            [np.nan, 21.0],
            [14.0, 22.0],
        ]
    )
    return MarketData(
        dates=dates,
        start_index=2,
        tickers=("X", "Y"),
        bucket_of={"X": "Risk Assets"},
        closes=closes,
    )


def test_price_when_day_has_no_close_then_last_close_before_it():
    market = small_market()
    assert market.price("X", dt.date(2021, 1, 7)) == 12.0  # NaN row: last close holds
    assert market.price("X", dt.date(2021, 1, 8)) == 14.0
    assert market.price("X", dt.date(2021, 1, 30)) == 14.0  # after the last date


def test_price_when_asset_not_yet_existing_or_unknown_then_none():
    market = small_market()
    assert market.price("Y", dt.date(2021, 1, 5)) is None
    assert market.price("Y", dt.date(2021, 1, 6)) == 20.0
    assert market.price("X", dt.date(2020, 12, 31)) is None
    assert market.price("ZZZ", dt.date(2021, 1, 6)) is None


def test_day_closes_when_a_close_is_nan_then_absent_and_the_rest_plain_floats():
    market = small_market()
    for t in range(len(market.dates)):
        row = market.closes[t].tolist()
        expected = {a: c for a, c in zip(market.tickers, row, strict=True) if c == c}
        closes = market.day_closes(t)
        assert dict(closes) == expected
        assert list(closes) == list(expected) and len(closes) == len(expected)
        for asset in market.tickers:
            assert (asset in closes) is (asset in expected)
        assert all(type(closes[a]) is float for a in expected)
    assert "ZZZ" not in market.day_closes(4)
    with pytest.raises(KeyError):
        market.day_closes(3)["X"]  # no close that day
    with pytest.raises(KeyError):
        market.day_closes(3)["ZZZ"]


def test_window_when_called_then_rows_up_to_t_only():
    market = small_market()
    np.testing.assert_array_equal(market.window(2, 2), market.closes[1:3])
    np.testing.assert_array_equal(market.window(1, 10), market.closes[0:2])
    with pytest.raises(IndexError):
        market.window(5, 1)
    with pytest.raises(ValueError):
        market.window(1, 0)


def test_accessors_when_called_then_sim_dates_index_column_and_buckets():
    market = small_market()
    assert market.sim_dates == market.dates[2:]
    assert market.index_of(dt.date(2021, 1, 6)) == 2
    with pytest.raises(KeyError):
        market.index_of(dt.date(2021, 2, 1))
    assert market.column("Y") == 1
    assert market.bucket_of["Y"] == "Unknown"
    assert market.bucket_assets("Risk Assets") == ("X",)
    assert market.bucket_assets("Unknown") == ("Y",)


def test_closes_when_written_then_read_only_and_independent_of_input():
    source = np.ones((2, 1))
    market = MarketData(
        dates=[START, START + dt.timedelta(days=1)],
        start_index=0,
        tickers=("X",),
        bucket_of={},
        closes=source,
    )
    source[0, 0] = 5.0
    assert market.closes[0, 0] == 1.0
    with pytest.raises(ValueError):
        market.closes[0, 0] = 2.0


def test_construct_when_dates_not_ascending_or_shape_wrong_then_value_error():
    with pytest.raises(ValueError, match="ascending"):
        MarketData(
            dates=[START, START],
            start_index=0,
            tickers=("X",),
            bucket_of={},
            closes=np.ones((2, 1)),
        )
    with pytest.raises(ValueError, match="shape"):
        MarketData(
            dates=[START], start_index=0, tickers=("X",), bucket_of={}, closes=np.ones((2, 1))
        )


# --- generator: levels and loadings ------------------------------------------------------


def test_resolve_level_when_several_keys_match_then_documented_order_wins():
    spec = LevelSpec(
        default=0.01,
        by_key={"Risk Assets": 0.02, "AAA": 0.03},
        by_regime={"Deflation": {"Risk Assets": 0.04, "AAA": 0.05}},
    )
    assert resolve_level(spec, "Deflation", "AAA", "Risk Assets") == 0.05
    assert resolve_level(spec, "Deflation", "BBB", "Risk Assets") == 0.04
    assert resolve_level(spec, "Goldilocks", "AAA", "Risk Assets") == 0.03
    assert resolve_level(spec, "Goldilocks", "BBB", "Risk Assets") == 0.02
    assert resolve_level(spec, "Goldilocks", "CCC", "Defensive Assets") == 0.01


def test_factor_loadings_when_valid_targets_then_squares_sum_to_targets():
    a, b, c = factor_loadings(0.6, 0.2)
    assert a**2 == pytest.approx(0.2)
    assert a**2 + b**2 == pytest.approx(0.6)
    assert a**2 + b**2 + c**2 == pytest.approx(1.0)


@pytest.mark.parametrize(("within", "across"), [(0.2, 0.6), (1.2, 0.2), (0.5, -0.1)])
def test_factor_loadings_when_targets_inconsistent_then_value_error(within, across):
    with pytest.raises(ValueError, match="correlations"):
        factor_loadings(within, across)


# --- generator: statistics on long paths ----------------------------------------------


@pytest.fixture(scope="module")
def long_market() -> MarketData:
    sc = scenario(
        buckets=BUCKETS_4X5,
        days=2520,
        warmup=0,
        volatility=LevelSpec(default=0.20, by_key={"Commodities": 0.40, "R1": 0.60}),
        correlation=CorrelationSpec(within_bucket=0.6, across_buckets=0.2),
    )
    return generate(sc, seed=11)


def test_generate_when_long_path_then_realised_volatility_within_10pct(long_market):
    realised = log_returns(long_market).std(axis=0, ddof=1) * math.sqrt(252)
    for ticker, vol in zip(long_market.tickers, realised, strict=True):
        target = 0.60 if ticker == "R1" else 0.40 if ticker.startswith("C") else 0.20
        assert abs(vol / target - 1) <= 0.10, (ticker, vol, target)


def test_generate_when_long_path_then_realised_correlations_within_005(long_market):
    corr = np.corrcoef(log_returns(long_market), rowvar=False)
    buckets = [long_market.bucket_of[t] for t in long_market.tickers]
    within, across = [], []
    for i, j in itertools.combinations(range(len(buckets)), 2):
        (within if buckets[i] == buckets[j] else across).append(corr[i, j])
    assert abs(np.mean(within) - 0.6) <= 0.05
    assert abs(np.mean(across) - 0.2) <= 0.05
    # Single pairs carry sampling noise (standard error about 0.02): a looser bound.
    assert np.max(np.abs(np.array(within) - 0.6)) <= 0.08
    assert np.max(np.abs(np.array(across) - 0.2)) <= 0.08


def test_generate_when_zero_across_and_high_within_then_correlations_follow():
    sc = scenario(
        buckets=BUCKETS_4X5,
        days=2520,
        warmup=0,
        correlation=CorrelationSpec(within_bucket=0.85, across_buckets=0.0),
    )
    market = generate(sc, seed=5)
    corr = np.corrcoef(log_returns(market), rowvar=False)
    buckets = [market.bucket_of[t] for t in market.tickers]
    within = [
        corr[i, j] for i, j in itertools.combinations(range(20), 2) if buckets[i] == buckets[j]
    ]
    across = [
        corr[i, j] for i, j in itertools.combinations(range(20), 2) if buckets[i] != buckets[j]
    ]
    assert abs(np.mean(within) - 0.85) <= 0.05
    assert abs(np.mean(across)) <= 0.05


def test_generate_when_long_path_then_drift_sign_and_size_roughly_right():
    # Loose tolerance (±0.08 on a bucket's mean annual drift): the standard error of a
    # 10-year mean with 10% volatility is about 0.025 even when averaged over a bucket.
    sc = scenario(
        buckets={"Up": ["U1", "U2", "U3", "U4"], "Down": ["D1", "D2", "D3", "D4"]},
        days=2520,
        warmup=0,
        drift=LevelSpec(default=0.0, by_key={"Up": 0.25, "Down": -0.15}),
        volatility=LevelSpec(default=0.10),
    )
    market = generate(sc, seed=3)
    annual = log_returns(market).mean(axis=0) * 252 + 0.10**2 / 2
    for bucket, target in (("Up", 0.25), ("Down", -0.15)):
        cols = [market.column(t) for t in market.bucket_assets(bucket)]
        assert abs(annual[cols].mean() - target) <= 0.08, (bucket, annual[cols])


def test_generate_when_by_regime_drift_then_mean_return_changes_in_that_regime():
    switch = dt.date(2022, 1, 3)
    sc = scenario(
        buckets={"Risk Assets": ["R1", "R2", "R3"], "Defensive Assets": ["D1"]},
        days=504,
        warmup=0,
        drift=LevelSpec(default=0.10, by_regime={"Deflation": {"Risk Assets": -0.60}}),
        volatility=LevelSpec(default=0.05),
        timeline=[RegimePoint(date=switch, regime="Deflation")],
    )
    market = generate(sc, seed=2)
    returns = log_returns(market)  # row k is the return into day k + 1
    deflation = np.array([d >= switch for d in market.dates[1:]])
    risk = [market.column(t) for t in ("R1", "R2", "R3")]
    defensive = market.column("D1")
    assert returns[~deflation][:, risk].mean() * 252 > 0.0
    assert returns[deflation][:, risk].mean() * 252 < -0.40
    assert returns[deflation][:, defensive].mean() * 252 > 0.0


def test_generate_when_regimes_passed_explicitly_then_they_drive_levels():
    calm = LevelSpec(default=0.2, by_regime={"Inflation": {"Risk Assets": 0.0}})
    sc = scenario(days=10, warmup=0, volatility=calm)
    market = generate(sc, regimes=["Inflation"] * 10)
    steps = log_returns(market)[:, market.column("AAA")]
    np.testing.assert_allclose(steps, 0.06 / 252)  # no noise at zero volatility
    with pytest.raises(ValueError, match="regimes_by_day"):
        generate(sc, regimes=["Inflation"] * 9)


def test_generate_when_warmup_then_warmup_days_use_first_regime():
    # Zero volatility in the first regime makes warm-up returns exactly the drift.
    sc = scenario(
        days=30,
        warmup=15,
        volatility=LevelSpec(default=0.3, by_regime={"Deflation": {"Risk Assets": 0.0}}),
        timeline=[
            RegimePoint(date=START, regime="Deflation"),
            RegimePoint(date=START + dt.timedelta(days=14), regime="Goldilocks"),
        ],
    )
    market = generate(sc)
    assert market.start_index == 15
    aaa = log_returns(market)[:, market.column("AAA")]
    np.testing.assert_allclose(aaa[:24], 0.06 / 252)  # warm-up and the Deflation days
    assert np.std(aaa[25:]) > 0.005


def test_generate_when_called_then_weekday_calendar_with_warmup_before_start():
    market = generate(scenario(days=10, warmup=7))
    assert len(market.dates) == 17
    assert market.sim_dates[0] == START
    assert all(d.weekday() < 5 for d in market.dates)
    assert market.dates[0] == dt.date(2020, 12, 24)
    assert market.dates[6] == dt.date(2021, 1, 1)


def test_generate_when_start_price_given_then_first_simulated_close_equals_it():
    sc = scenario(assets={"AAA": AssetSpec(start_price=150.0)}, warmup=30)
    market = generate(sc)
    assert market.closes[market.start_index, market.column("AAA")] == pytest.approx(150.0)
    assert market.closes[market.start_index, market.column("BBB")] == pytest.approx(100.0)
    assert market.closes[0, market.column("AAA")] != pytest.approx(150.0)


def test_generate_when_columns_then_sorted_by_bucket_then_ticker():
    sc = scenario(buckets={"Zeta": ["A2", "A1"], "Alpha": ["Z9"]})
    assert generate(sc).tickers == ("Z9", "A1", "A2")


def test_generate_when_same_seed_then_identical_and_different_seed_then_different():
    sc = scenario()
    np.testing.assert_array_equal(generate(sc, seed=4).closes, generate(sc, seed=4).closes)
    assert not np.allclose(generate(sc, seed=4).closes, generate(sc, seed=5).closes)


_HASH_SCRIPT = """
import datetime as dt, hashlib, numpy as np
from domain.market import generate_synthetic
from domain.scenario import Calendar, MarketSpec, Scenario
sc = Scenario(name="t", calendar=Calendar(start=dt.date(2021, 1, 4), days=60),
              buckets={"Risk Assets": ["AAA", "BBB", "EEE"], "Defensive Assets": ["CCC", "DDD"],
                       "Commodities": ["GLD"]},
              market=MarketSpec(warmup_days=20))
m = generate_synthetic(sc, np.random.default_rng(9))
print(hashlib.sha256(m.closes.tobytes() + repr(m.tickers).encode()).hexdigest())
"""


def test_generate_when_separate_process_with_other_hash_seed_then_identical():
    local = {}
    exec(_HASH_SCRIPT.replace("print(", "out = ("), local)
    hashes = set()
    for hash_seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", _HASH_SCRIPT],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        hashes.add(result.stdout.strip())
    assert hashes == {local["out"]}


# --- shocks ---------------------------------------------------------------------------


def shocked(sc: Scenario, shocks, paths=None) -> tuple[MarketData, MarketData]:
    base = generate(sc, seed=7)
    return base, apply_shocks_and_paths(base, shocks, paths or {})


def test_shock_when_bucket_targeted_then_lands_on_that_day_and_bucket_only():
    day = dt.date(2021, 2, 1)
    base, after = shocked(scenario(), [Shock(date=day, return_=-0.12, bucket="Risk Assets")])
    ratio = after.closes / base.closes
    t = after.index_of(day)
    for ticker in after.tickers:
        j = after.column(ticker)
        np.testing.assert_allclose(ratio[:t, j], 1.0)
        expected = 0.88 if after.bucket_of[ticker] == "Risk Assets" else 1.0
        np.testing.assert_allclose(ratio[t:, j], expected)


def test_shock_when_assets_targeted_then_only_those_assets_move():
    day = dt.date(2021, 2, 10)
    base, after = shocked(scenario(), [Shock(date=day, return_=0.3, assets=("BBB",))])
    ratio = after.closes / base.closes
    t = after.index_of(day)
    np.testing.assert_allclose(ratio[t:, after.column("BBB")], 1.3)
    np.testing.assert_allclose(ratio[:t, after.column("BBB")], 1.0)
    np.testing.assert_allclose(ratio[:, after.column("AAA")], 1.0)
    np.testing.assert_allclose(ratio[:, after.column("CCC")], 1.0)


def test_shock_when_multi_day_then_compounds_to_total_over_the_days():
    day = dt.date(2021, 2, 2)
    base, after = shocked(scenario(), [Shock(date=day, return_=-0.20, days=3, all=True)])
    ratio = after.closes / base.closes
    t = after.index_of(day)
    step = 0.8 ** (1 / 3)
    np.testing.assert_allclose(ratio[t - 1], 1.0)
    np.testing.assert_allclose(ratio[t], step)
    np.testing.assert_allclose(ratio[t + 1], step**2)
    np.testing.assert_allclose(ratio[t + 2 :], 0.8)


def test_shock_when_two_overlap_then_both_apply():
    day = dt.date(2021, 2, 2)
    base, after = shocked(
        scenario(),
        [
            Shock(date=day, return_=-0.10, all=True),
            Shock(date=day, return_=-0.20, assets=("AAA",)),
        ],
    )
    ratio = after.closes / base.closes
    t = after.index_of(day)
    np.testing.assert_allclose(ratio[t:, after.column("AAA")], 0.9 * 0.8)
    np.testing.assert_allclose(ratio[t:, after.column("BBB")], 0.9)


def test_shock_when_dated_on_weekend_then_lands_on_next_trading_day():
    saturday = dt.date(2021, 1, 30)
    base, after = shocked(scenario(), [Shock(date=saturday, return_=-0.5, all=True)])
    ratio = after.closes / base.closes
    t = after.index_of(dt.date(2021, 2, 1))
    np.testing.assert_allclose(ratio[t - 1], 1.0)
    np.testing.assert_allclose(ratio[t], 0.5)


def test_shock_when_last_day_and_several_days_then_truncated_at_end():
    sc = scenario(days=10)
    last = generate(sc).sim_dates[-1]
    base, after = shocked(sc, [Shock(date=last, return_=-0.19, days=2, all=True)])
    np.testing.assert_allclose((after.closes / base.closes)[-1], 0.81**0.5)
    np.testing.assert_allclose((after.closes / base.closes)[-2], 1.0)


@pytest.mark.parametrize(
    ("shock", "message"),
    [
        (Shock(date=dt.date(2020, 12, 31), return_=-0.1, all=True), "outside"),
        (Shock(date=dt.date(2022, 1, 3), return_=-0.1, all=True), "outside"),
        (Shock(date=START, return_=-1.0, all=True), "-100%"),
        (Shock(date=START, return_=-0.1, assets=("NOPE",)), "unknown assets"),
        (Shock(date=START, return_=-0.1, bucket="Nope"), "no asset"),
        (Shock(date=START, return_=-0.1), "no target"),
    ],
)
def test_shock_when_invalid_then_value_error(shock, message):
    with pytest.raises(ValueError, match=message):
        apply_shocks_and_paths(generate(scenario()), [shock])


# --- paths ----------------------------------------------------------------------------


def test_path_when_given_then_overrides_closes_holds_last_and_flat_warmup():
    sc = scenario(warmup=10)
    base, after = shocked(sc, [], {"CCC": [50, 50.5, 51, 50.2]})
    j, s = after.column("CCC"), after.start_index
    np.testing.assert_array_equal(after.closes[s : s + 4, j], [50, 50.5, 51, 50.2])
    np.testing.assert_array_equal(after.closes[s + 4 :, j], 50.2)
    np.testing.assert_array_equal(after.closes[:s, j], 50.0)
    for other in ("AAA", "BBB"):
        k = after.column(other)
        np.testing.assert_array_equal(after.closes[:, k], base.closes[:, k])


def test_path_when_shock_on_explicit_day_then_ignored_for_path_asset_only():
    day = START + dt.timedelta(days=1)
    base, after = shocked(
        scenario(), [Shock(date=day, return_=-0.3, all=True)], {"CCC": [50, 51, 52]}
    )
    t = after.index_of(day)
    np.testing.assert_array_equal(after.closes[t:, after.column("CCC")][:2], [51, 52])
    np.testing.assert_array_equal(after.closes[t + 2 :, after.column("CCC")], 52)
    np.testing.assert_allclose(
        after.closes[t:, after.column("AAA")], base.closes[t:, base.column("AAA")] * 0.7
    )


def test_path_when_shock_after_its_last_value_then_held_value_is_shocked():
    day = dt.date(2021, 2, 1)
    _, after = shocked(scenario(), [Shock(date=day, return_=-0.5, all=True)], {"CCC": [50, 52]})
    t, j = after.index_of(day), after.column("CCC")
    assert after.closes[t - 1, j] == 52
    np.testing.assert_allclose(after.closes[t:, j], 26.0)


def test_path_when_ticker_not_in_market_then_added_in_bucket_order():
    base = generate(scenario())
    after = apply_shocks_and_paths(base, [], {"NEW": [10.0], "GLD": [5.0]}, {"GLD": "Commodities"})
    assert after.tickers == ("GLD", "CCC", "AAA", "BBB", "NEW")
    assert after.bucket_of["NEW"] == "Unknown"
    np.testing.assert_array_equal(after.closes[:, after.column("NEW")], 10.0)
    np.testing.assert_array_equal(after.closes[:, after.column("AAA")], base.closes[:, 1])


def test_path_when_longer_than_run_then_truncated():
    sc = scenario(days=3)
    _, after = shocked(sc, [], {"AAA": [1, 2, 3, 4, 5]})
    np.testing.assert_array_equal(after.closes[after.start_index :, after.column("AAA")], [1, 2, 3])


@pytest.mark.parametrize("bad", [[], [10, 0], [10, -1], [10, float("nan")]])
def test_path_when_values_invalid_then_value_error(bad):
    with pytest.raises(ValueError, match="path of AAA"):
        apply_shocks_and_paths(generate(scenario()), [], {"AAA": bad})


# --- history markets ------------------------------------------------------------------


def history(n: int = 12) -> tuple[list[dt.date], np.ndarray]:
    dates = [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(n)]
    closes = np.column_stack([np.arange(1.0, n + 1), np.arange(1.0, n + 1) * 10])
    closes[:5, 1] = np.nan  # Y starts on day 5
    return dates, closes


def test_history_when_rows_before_start_then_last_warmup_rows_kept():
    dates, closes = history()
    market = market_from_history(
        dates, ["X", "Y"], closes, {}, start=dt.date(2021, 1, 8), days=3, warmup_days=4
    )
    assert market.dates[0] == dt.date(2021, 1, 4)
    assert market.start_index == 4
    assert market.sim_dates == (dt.date(2021, 1, 8), dt.date(2021, 1, 9), dt.date(2021, 1, 10))
    assert np.isnan(market.closes[:2, market.column("Y")]).all()  # before Y exists
    assert market.closes[2, market.column("Y")] == 60.0


def test_history_when_fewer_rows_than_warmup_then_all_kept_and_end_honoured():
    dates, closes = history()
    market = market_from_history(
        dates, ["X", "Y"], closes, {}, start=dt.date(2021, 1, 3), end=dt.date(2021, 1, 5)
    )
    assert market.start_index == 2
    assert len(market.sim_dates) == 3


def test_history_when_gap_after_first_close_then_forward_filled_and_empty_rows_dropped():
    dates, closes = history()
    closes[7, 0] = np.nan
    closes[9, :] = np.nan
    market = market_from_history(dates, ["X", "Y"], closes, {"Y": "Bonds"}, start=dates[0], days=10)
    assert dates[9] not in market.dates
    assert market.closes[7, market.column("X")] == 7.0
    assert market.tickers == ("Y", "X")


def test_history_when_too_few_days_or_none_then_value_error():
    dates, closes = history()
    with pytest.raises(ValueError, match="asks for 20"):
        market_from_history(dates, ["X", "Y"], closes, {}, start=dates[0], days=20)
    with pytest.raises(ValueError, match="no trading day"):
        market_from_history(dates, ["X", "Y"], closes, {}, start=dt.date(2022, 1, 1), end=dates[-1])
