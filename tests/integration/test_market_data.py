"""Csv reading and `build_market` (synthetic and csv markets, shocks, paths, regimes)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from domain.market import apply_shocks_and_paths, generate_synthetic
from domain.scenario import (
    AssetSpec,
    Calendar,
    Holding,
    MarketSpec,
    RegimePoint,
    RegimeSpec,
    Scenario,
    Shock,
)
from sim.load.prices import CsvError, read_price_csv
from sim.run.market_data import build_market, resolve_csv_path

CSV_DIR = Path(__file__).resolve().parents[1] / "data" / "csv"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
D = dt.date


def csv_scenario(csv: str, start: dt.date, days: int | None = None, **kwargs) -> Scenario:
    warmup = kwargs.pop("warmup", 252)
    shocks = kwargs.pop("shocks", ())
    paths = kwargs.pop("paths", None)
    end = kwargs.pop("end", None)
    return Scenario(
        name="csv",
        calendar=Calendar(start=start, days=days, end=end),
        market=MarketSpec(
            source="csv", csv=csv, warmup_days=warmup, shocks=shocks, paths=paths or {}
        ),
        path=str(CSV_DIR / "scenario.yaml"),
        **kwargs,
    )


# --- read_price_csv -------------------------------------------------------------------


def test_read_when_long_with_adj_close_then_adj_close_preferred_and_sorted():
    prices = read_price_csv(CSV_DIR / "long.csv")
    assert prices.tickers == ("AAA", "BBB", "CCC")
    assert prices.dates[0] == D(2021, 1, 4) and prices.dates[-1] == D(2021, 1, 15)
    assert len(prices.dates) == 10
    np.testing.assert_array_equal(prices.closes[:, 0], np.arange(10.0, 20.0))  # not close = 2x
    assert np.isnan(prices.closes[:2, 2]).all()  # CCC starts on 2021-01-06
    assert prices.closes[2, 2] == 32.0


def test_read_when_adj_close_blank_in_one_row_then_missing_not_raw_close():
    prices = read_price_csv(CSV_DIR / "long.csv")
    bbb = prices.closes[:, prices.tickers.index("BBB")]
    assert np.isnan(bbb[3])  # 2021-01-07 has no adj_close; close (46) would fake a jump
    assert bbb[4] == 24.0


def test_read_when_ticker_has_no_adj_close_at_all_then_close_used(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "date,ticker,close,adj_close\n"
        "2021-01-04,AAA,20,10\n2021-01-04,RAW,7,\n2021-01-05,AAA,22,11\n2021-01-05,RAW,8,\n"
    )
    prices = read_price_csv(path)
    np.testing.assert_array_equal(prices.closes, [[10.0, 7.0], [11.0, 8.0]])


def test_read_when_long_with_close_only_and_capitalised_headers_then_loads():
    prices = read_price_csv(CSV_DIR / "long_close_only.csv")
    assert prices.tickers == ("XYZ",)
    np.testing.assert_array_equal(prices.closes[:, 0], [5.0, 6.0, 7.0])


def test_read_when_wide_then_one_column_per_ticker_and_blank_is_nan():
    prices = read_price_csv(CSV_DIR / "wide.csv")
    assert prices.tickers == ("AAA", "BBB")
    assert len(prices.dates) == 10
    np.testing.assert_array_equal(prices.closes[:, 0], np.arange(10.0, 20.0))
    assert np.isnan(prices.closes[4, 1])


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("day,AAA\n2021-01-04,1\n", "1: (document): no 'date' column (columns: day, AAA)"),
        (
            "date,ticker,open\n2021-01-04,AAA,1\n",
            "1: (document): a long price file needs a close or adj_close column",
        ),
        (
            "date,ticker,close\n2021-01-04,AAA,1\n2021-01-05,AAA,1\n2021-01-04,AAA,2\n",
            "4: date: duplicate row for AAA on 2021-01-04 (first at line 2)",
        ),
        (
            "date,AAA\n2021-01-04,1\n\n2021-01-04,2\n",
            "4: date: duplicate date 2021-01-04 (first at line 2)",
        ),
        ("date,AAA\nnot-a-date,1\n", "2: date: expected a date YYYY-MM-DD, got 'not-a-date'"),
        (
            "date,AAA\n2021-02-30,1\n",
            "2: date: expected a date YYYY-MM-DD, got '2021-02-30' (day is out of range for month)",
        ),
        (
            "date,AAA\n1850-01-04,1\n",
            "2: date: expected a date from 1900-01-01 to 2200-12-31, got '1850-01-04'",
        ),
        ("date,AAA\n2021-01-04,1\n2021-01-05,abc\n", "3: AAA: expected a number, got 'abc'"),
        (
            "date,ticker,close\n2021-01-04,AAA,-3\n",
            "2: close: a price must be a finite number in [1e-06, 1e+12], got -3",
        ),
        (
            "date,AAA\n2021-01-04,inf\n",
            "2: AAA: a price must be a finite number in [1e-06, 1e+12], got inf",
        ),
        ("date,AAA,AAA\n2021-01-04,1,2\n", "1: AAA: duplicate column (columns 2 and 3)"),
        ("date,AAA\n2021-01-04,1,2\n", "2: (document): 3 fields, the header has 2"),
        ("date,ticker,close\n2021-01-04,,1\n", "2: ticker: a ticker is required"),
        ("date,AAA\n", "1: (document): no price rows below the header"),
        ("", "1: (document): the file is empty; expected a header line"),
    ],
)
def test_read_when_file_malformed_then_csv_error_names_line_and_column(tmp_path, text, where):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CsvError) as info:
        read_price_csv(path)
    assert str(info.value) == f"{path}:{where}"


def test_read_when_file_is_not_utf8_then_csv_error_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("date,AAA\n2021-01-04,1\n2021-01-05,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(CsvError) as info:
        read_price_csv(path)
    assert str(info.value) == f"{path}:3: (document): not UTF-8 text (byte 0xe9)"


def test_read_when_rows_are_not_in_date_order_then_they_are_sorted(tmp_path):
    path = tmp_path / "unsorted.csv"
    path.write_text("date,AAA\n2021-01-06,3\n2021-01-04,1\n2021-01-05,2\n")
    prices = read_price_csv(path)
    assert prices.dates == (D(2021, 1, 4), D(2021, 1, 5), D(2021, 1, 6))
    np.testing.assert_array_equal(prices.closes[:, 0], [1.0, 2.0, 3.0])


def test_read_when_missing_markers_are_used_then_they_are_missing(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("date,AAA\n2021-01-04,1\n2021-01-05,NA\n2021-01-06,\n2021-01-07,NaN\n")
    prices = read_price_csv(path)
    assert np.isnan(prices.closes[1:, 0]).all()


# --- build_market: csv ----------------------------------------------------------------


def test_build_when_csv_has_rows_before_start_then_they_become_warmup():
    market, timeline = build_market(
        csv_scenario("long.csv", D(2021, 1, 8), days=4, warmup=3), np.random.default_rng(0)
    )
    assert market.dates[0] == D(2021, 1, 5)  # the last 3 rows before the start
    assert market.start_index == 3
    assert market.sim_dates == (D(2021, 1, 8), D(2021, 1, 11), D(2021, 1, 12), D(2021, 1, 13))
    assert len(timeline) == 4
    assert market.price("AAA", D(2021, 1, 8)) == 14.0
    assert market.price("BBB", D(2021, 1, 7)) == 22.0  # the blank cell: last close holds


def test_build_when_csv_relative_path_then_resolved_next_to_scenario_file():
    sc = csv_scenario("long.csv", D(2021, 1, 4), days=2)
    assert resolve_csv_path(sc) == CSV_DIR / "long.csv"
    absolute = csv_scenario(str(CSV_DIR / "wide.csv"), D(2021, 1, 4), days=2)
    assert resolve_csv_path(absolute) == CSV_DIR / "wide.csv"


def test_build_when_csv_and_end_then_days_up_to_end_and_asset_missing_before_it_exists():
    market, _ = build_market(
        csv_scenario("long.csv", D(2021, 1, 4), end=D(2021, 1, 12)), np.random.default_rng(0)
    )
    assert len(market.sim_dates) == 7
    assert market.start_index == 0
    assert market.price("CCC", D(2021, 1, 5)) is None
    assert market.bucket_of["CCC"] == "Unknown"


def test_build_when_csv_asks_more_days_than_available_then_value_error():
    with pytest.raises(ValueError, match="asks for 30"):
        build_market(csv_scenario("long.csv", D(2021, 1, 4), days=30), np.random.default_rng(0))


def test_build_when_csv_and_buckets_then_universe_is_bucketed_and_named_assets():
    sc = csv_scenario(
        "long.csv",
        D(2021, 1, 4),
        days=5,
        buckets={"Risk Assets": ["BBB"]},
        portfolio={"CCC": Holding(weight=0.1)},
    )
    market, _ = build_market(sc, np.random.default_rng(0))
    assert market.tickers == ("BBB", "CCC")
    assert market.bucket_of == {"BBB": "Risk Assets", "CCC": "Unknown"}


def test_build_when_bucketed_ticker_has_no_csv_prices_and_no_path_then_value_error():
    sc = csv_scenario("long.csv", D(2021, 1, 4), days=5, buckets={"Risk Assets": ["NOPE"]})
    with pytest.raises(ValueError, match="NOPE"):
        build_market(sc, np.random.default_rng(0))


def test_build_when_csv_with_shocks_and_paths_then_both_applied():
    sc = csv_scenario(
        "long.csv",
        D(2021, 1, 6),
        days=5,
        warmup=2,
        buckets={"Risk Assets": ["AAA", "BBB"], "Defensive Assets": ["KO"]},
        shocks=[Shock(date=D(2021, 1, 8), return_=-0.5, bucket="Risk Assets")],
        paths={"KO": [50.0, 51.0]},
    )
    market, _ = build_market(sc, np.random.default_rng(0))
    assert market.tickers == ("KO", "AAA", "BBB")
    assert market.price("AAA", D(2021, 1, 7)) == 13.0
    assert market.price("AAA", D(2021, 1, 8)) == 7.0  # 14 x 0.5
    assert market.price("AAA", D(2021, 1, 12)) == 8.0
    np.testing.assert_array_equal(
        market.closes[:, market.column("KO")], [50, 50, 50, 51, 51, 51, 51]
    )


# --- build_market: synthetic ----------------------------------------------------------


def synthetic_scenario(**kwargs) -> Scenario:
    market = kwargs.pop("market", MarketSpec(warmup_days=30))
    return Scenario(
        name="syn",
        calendar=Calendar(start=D(2021, 1, 4), days=80),
        buckets={"Risk Assets": ["AAPL", "MSFT"], "Defensive Assets": ["KO"]},
        assets={"AAPL": AssetSpec(start_price=150.0)},
        market=market,
        **kwargs,
    )


def test_build_when_synthetic_then_generator_with_shocks_paths_and_scripted_regimes():
    shock = Shock(date=D(2021, 3, 1), return_=-0.12, bucket="Risk Assets")
    spec = MarketSpec(warmup_days=30, shocks=[shock], paths={"KO": [50, 50.5, 51, 50.2]})
    regimes = RegimeSpec(timeline=[RegimePoint(date=D(2021, 2, 1), regime="Deflation")])
    sc = synthetic_scenario(market=spec, regimes=regimes)
    market, timeline = build_market(sc, np.random.default_rng(sc.seed))
    plain = generate_synthetic(sc, np.random.default_rng(sc.seed), [s.regime for s in timeline])
    assert market.closes[market.start_index, market.column("AAPL")] == pytest.approx(150.0)
    expected = apply_shocks_and_paths(plain, [shock], spec.paths)
    np.testing.assert_array_equal(market.closes, expected.closes)
    t = market.index_of(D(2021, 3, 1))
    ratio = market.closes[:, market.column("MSFT")] / plain.closes[:, plain.column("MSFT")]
    np.testing.assert_allclose(ratio[t:], 0.88)
    np.testing.assert_allclose(ratio[:t], 1.0)
    assert market.closes[market.start_index + 2, market.column("KO")] == 51
    changed = [s for s in timeline if s.changed]
    assert len(changed) == 1 and changed[0].severity == "critical"
    assert len(timeline) == 80


def test_build_when_same_seed_then_identical_and_other_seed_then_different():
    sc = synthetic_scenario()
    a, _ = build_market(sc, np.random.default_rng(1))
    b, _ = build_market(sc, np.random.default_rng(1))
    c, _ = build_market(sc, np.random.default_rng(2))
    np.testing.assert_array_equal(a.closes, b.closes)
    assert not np.allclose(a.closes, c.closes)


def test_build_when_regimes_detected_then_timeline_from_prices_and_prices_from_script():
    timeline = [RegimePoint(date=D(2021, 1, 4), regime="Deflation")]
    scripted = synthetic_scenario(regimes=RegimeSpec(timeline=timeline))
    detected = synthetic_scenario(regimes=RegimeSpec(source="detected", timeline=timeline))
    m1, t1 = build_market(scripted, np.random.default_rng(0))
    m2, t2 = build_market(detected, np.random.default_rng(0))
    np.testing.assert_array_equal(m1.closes, m2.closes)  # detection never feeds back
    assert {s.regime for s in t1} == {"Deflation"}
    assert all(0.5 <= s.confidence <= 1.0 for s in t2)
    assert [s.confidence for s in t2] != [s.confidence for s in t1]


# --- real data ------------------------------------------------------------------------


@pytest.mark.realdata
def test_build_when_real_long_csv_then_loads_with_adjusted_closes():
    path = REAL / "prices_daily_long.csv"
    if not path.exists():
        pytest.skip(f"real price data not found at {path}")
    sc = csv_scenario(
        str(path),
        D(2015, 1, 5),
        days=250,
        buckets={"Risk Assets": ["AAPL", "MSFT"], "Fixed Income": ["AGG"], "Commodities": ["GLD"]},
        regimes=RegimeSpec(source="detected"),
    )
    market, timeline = build_market(sc, np.random.default_rng(0))
    assert market.tickers == ("GLD", "AGG", "AAPL", "MSFT")
    assert market.sim_dates[0] == D(2015, 1, 5)
    assert len(market.sim_dates) == 250 and market.start_index == 252
    assert not np.isnan(market.closes).any()
    assert len(timeline) == 250
    prices = read_price_csv(path)
    assert len(prices.tickers) == 56
    agg = prices.closes[prices.dates.index(D(2005, 1, 3)), prices.tickers.index("AGG")]
    assert math.isclose(agg, 53.29970932006836)  # adj_close, not the raw close 102.40
