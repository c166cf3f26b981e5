"""One price csv reader (`sim.load.prices`): the loader and the market take both layouts.

The same prices written long (`date,symbol,price`) and wide (`date` + one column per
ticker) load through `load_scenario` and build the same market; a bad cell of a long file
is reported at the csv's line and column, as in a wide file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import numpy as np
import pytest

from sim.load.document import load_scenario
from sim.load.problems import ScenarioError
from sim.run.market_data import build_market

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"
D = dt.date

# Grouped by ticker, SPY in descending order, TLT starting later with a blank cell.
LONG = """\
date,symbol,price
2021-01-08,SPY,104
2021-01-07,SPY,103
2021-01-06,SPY,102
2021-01-05,SPY,101
2021-01-04,SPY,100
2021-01-06,TLT,52
2021-01-07,TLT,
2021-01-08,TLT,53
"""
WIDE = """\
date,SPY,TLT
2021-01-04,100,
2021-01-05,101,
2021-01-06,102,52
2021-01-07,103,
2021-01-08,104,53
"""
# No buckets: the csv defines the tickers the portfolio and the signals name.
SCENARIO = """\
name: layout
calendar: {{start: 2021-01-05, days: 4}}
market: {{source: csv, csv: {csv}, warmup_days: 1}}
signals:
  trending: [{{asset: TLT, from: 2021-01-06, value: 0.9}}]
portfolio:
  SPY: {{weight: 0.5, entered: 2021-01-04}}
"""


def write_scenario(directory: Path, csv_name: str, csv_text: str) -> Path:
    (directory / csv_name).write_text(csv_text)
    path = directory / f"{Path(csv_name).stem}.yaml"
    path.write_text(SCENARIO.format(csv=csv_name))
    return path


def test_load_when_csv_is_long_date_symbol_price_then_same_market_as_the_wide_file(
    tmp_path,
) -> None:
    long_scenario = load_scenario(write_scenario(tmp_path, "long.csv", LONG))
    wide_scenario = load_scenario(write_scenario(tmp_path, "wide.csv", WIDE))
    assert (
        attrs.evolve(
            long_scenario,
            market=attrs.evolve(long_scenario.market, csv=wide_scenario.market.csv),
            path=wide_scenario.path,
            sha256=wide_scenario.sha256,
        )
        == wide_scenario
    )
    long_market, _ = build_market(long_scenario, np.random.default_rng(0))
    wide_market, _ = build_market(wide_scenario, np.random.default_rng(0))
    assert long_market.dates == wide_market.dates
    assert long_market.tickers == wide_market.tickers == ("SPY", "TLT")
    assert long_market.start_index == wide_market.start_index == 1
    np.testing.assert_array_equal(long_market.closes, wide_market.closes)
    assert long_market.price("SPY", D(2021, 1, 4)) == 100.0  # the warm-up row
    assert long_market.price("TLT", D(2021, 1, 7)) == 52.0  # the blank holds the last close
    assert long_market.price("TLT", D(2021, 1, 5)) is None  # before its first close


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("date,symbol,price\n2021-01-04,SPY,100\n2021-01-05,SPY,0\n", "3: price: a price must"),
        ("date,symbol,price\n2021-01-04,SPY,-1\n", "2: price: a price must"),
        ("date,symbol,price\n2021-01-04,SPY,inf\n", "2: price: a price must"),
        ("date,symbol,price\n2021-01-04,SPY,ten\n", "2: price: expected a number, got 'ten'"),
        ("date,symbol,price\n04/01/2021,SPY,1\n", "2: date: expected a date YYYY-MM-DD"),
        ("date,symbol,price\n2021-01-04,,1\n", "2: symbol: a ticker is required"),
        (
            "date,symbol,price\n2021-01-04,SPY,1\n2021-01-05,SPY,2\n2021-01-04,SPY,3\n",
            "4: date: duplicate row for SPY on 2021-01-04 (first at line 2)",
        ),
        ("date,symbol,volume\n2021-01-04,SPY,5\n", "1: (document): a long price file needs"),
    ],
)
def test_load_when_long_csv_has_a_bad_cell_then_the_csv_line_and_column_are_named(
    tmp_path, content, where
) -> None:
    path = write_scenario(tmp_path, "prices.csv", content)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    assert str(problem).startswith(f"{tmp_path / 'prices.csv'}:{where}")


@pytest.mark.realdata
def test_load_when_real_prices_are_long_or_wide_then_the_same_market(tmp_path) -> None:
    long_file, wide_file = REAL / "prices_daily_long.csv", REAL / "adj_close_wide.csv"
    if not (long_file.exists() and wide_file.exists()):
        pytest.skip(f"real price data not found in {REAL}")
    text = (LIBRARY / "real-2008-lehman.yaml").read_text()
    relative = "../../../shared/data/real/prices_daily_long.csv"
    assert relative in text
    markets = []
    for csv in (long_file, wide_file):
        path = tmp_path / f"{csv.stem}.yaml"
        path.write_text(text.replace(relative, str(csv)))
        scenario = load_scenario(path)
        markets.append(build_market(scenario, np.random.default_rng(0))[0])
    long_market, wide_market = markets
    assert long_market.dates == wide_market.dates
    assert long_market.tickers == wide_market.tickers
    assert long_market.sim_dates[0] == D(2008, 9, 2)
    np.testing.assert_array_equal(long_market.closes, wide_market.closes)
