"""The scenario loader: good files structure into the expected values; every rule rejects."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from domain.scenario import (
    UNKNOWN_BUCKET,
    CustomProtection,
    ExpectDecision,
    ExpectFinal,
    ExpectMetric,
    ExpectNever,
    ExpectNotice,
    ExpectSql,
    Holding,
    Intervention,
    RegimePoint,
    Scenario,
    Shock,
    Window,
)
from sim.load.document import load_scenario
from sim.load.problems import Problem, ScenarioError

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "tests" / "data" / "good"

# Five lines; a body appended by the tests below starts at line 6.
BASE = """\
name: t
calendar: {start: 2021-01-04, days: 20}
buckets:
  Risk Assets: [AAPL, MSFT]
  Defensive Assets: [JNJ, KO]
"""


def write(tmp_path: Path, body: str, *, base: bool = True, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text((BASE if base else "") + body, encoding="utf-8")
    return path


def load_text(tmp_path: Path, body: str, *, base: bool = True) -> Scenario:
    return load_scenario(write(tmp_path, body, base=base))


def problems(tmp_path: Path, body: str, *, base: bool = True) -> list[str]:
    """Problems as 'line: field: message' (the file prefix dropped)."""
    path = write(tmp_path, body, base=base)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems]


# --- good files ---------------------------------------------------------------------


def test_load_when_minimal_file_then_defaults_fill_everything_else() -> None:
    scenario = load_scenario(GOOD / "minimal.yaml")
    assert scenario.name == "minimal"
    assert scenario.calendar.start == dt.date(2021, 1, 4)
    assert scenario.calendar.days == 20
    assert scenario.seed == 0
    assert scenario.cash == 1_000_000.0
    assert scenario.preset is None
    assert dict(scenario.buckets) == {"Risk Assets": ("AAPL", "MSFT")}
    assert scenario.market.source == "synthetic"
    assert scenario.market.drift.default == 0.06
    assert scenario.market.volatility.default == 0.20
    assert scenario.market.warmup_days == 252
    assert scenario.regimes.timeline == ()
    assert scenario.protections.is_enabled("whipsaw")
    assert scenario.expect == ()


def test_load_when_full_file_then_yaml_11_traps_stay_text() -> None:
    scenario = load_scenario(GOOD / "full.yaml")
    assert scenario.buckets["Odd Names"] == ("NO", "0755", "1:30", "on")
    assert scenario.assets["NO"].start_price == 100.0
    assert scenario.portfolio["0755"] == Holding(weight=0.05, entered=None, core=False)
    assert scenario.market.drift.by_key["NO"] == -0.01
    assert scenario.market.shocks[1].assets == ("AAPL", "0755")
    options = scenario.protections.custom[0].options
    assert options == {"min_adv": 1_000_000.0, "illiquid": ["NO"], "note": "yes", "code": "0755"}


def test_load_when_full_file_then_every_section_is_structured() -> None:
    scenario = load_scenario(GOOD / "full.yaml")
    assert scenario.name == "full-featured-2"
    assert scenario.description.startswith("Every key of the format.")
    assert scenario.seed == 7
    assert scenario.cash == 2_500_000.0
    assert scenario.preset == "institutional"
    assert dict(scenario.config) == {
        "grace_period_days": 7,
        "rebalance_frequency": "weekly",
        "whipsaw_protection": False,
        "max_new_positions": 2,
    }
    assert scenario.buckets[UNKNOWN_BUCKET] == ("CASHX",)
    assert scenario.bucket_of()["CASHX"] == UNKNOWN_BUCKET
    assert scenario.assets["AAPL"].fundamental == 0.8
    assert scenario.assets["JNJ"].fundamental is None
    market = scenario.market
    assert market.drift.by_key["Risk Assets"] == 0.12
    assert market.drift.by_regime["Deflation"] == {"Risk Assets": -0.30, "KO": 0.02}
    assert market.volatility.by_key == {"TSLA": 0.55}
    assert market.correlation.within_bucket == 0.6
    assert market.shocks[0] == Shock(date=dt.date(2021, 3, 1), return_=-0.12, bucket="Risk Assets")
    assert market.shocks[2] == Shock(date=dt.date(2021, 3, 2), return_=-0.05, days=3, all=True)
    assert market.paths["KO"] == (50.0, 50.5, 51.0, 50.2)
    timeline = scenario.regimes.timeline
    assert timeline[0] == RegimePoint(dt.date(2021, 1, 4), "Goldilocks", confidence=0.85)
    assert timeline[2].severity == "high" and timeline[2].stability == 0.4
    assert scenario.regimes.favored_buckets["Stagflation"] == ("Defensive Assets", "Unknown")
    assert scenario.signals.scores[0].to == dt.date(2021, 2, 1)
    assert scenario.signals.trending[0].to is None
    assert scenario.portfolio["AAPL"] == Holding(0.15, dt.date(2020, 11, 2), core=True)
    assert scenario.interventions[0] == Intervention(
        date=dt.date(2021, 2, 1), action="extend_core", asset="AAPL", days=30, reason="conviction"
    )
    assert scenario.interventions[1].reason == "manual intervention"
    assert scenario.interventions[3].param == "max_new_positions"
    assert scenario.interventions[3].value == 1
    assert not scenario.protections.is_enabled("whipsaw")
    assert scenario.protections.is_enabled("grace_period")
    assert scenario.protections.custom[0] == CustomProtection(
        name="liquidity",
        class_path="bulwark_fixture_rules:LiquidityGuard",
        priority=7,
        options=scenario.protections.custom[0].options,
    )


def test_load_when_full_file_then_expectations_keep_their_lines() -> None:
    expect = load_scenario(GOOD / "full.yaml").expect
    assert expect[0] == ExpectNever(
        action="close",
        asset="AAPL",
        between=Window(dt.date(2021, 1, 4), dt.date(2021, 3, 31)),
        line=66,
    )
    assert isinstance(expect[1], ExpectNotice) and expect[1].line == 67
    assert expect[2] == ExpectDecision(
        action="open", asset="TSLA", outcome="blocked", decided_by="liquidity", min=1, line=68
    )
    # "*" means any asset; a lone max makes min 0
    assert expect[3] == ExpectDecision(action="close", asset=None, min=0, max=0, line=69)
    assert expect[4] == ExpectFinal(("AAPL",), ("TSLA",), equity_min=900000.0, line=70)
    assert expect[5] == ExpectMetric(name="max_drawdown", max=0.25, line=71)
    assert isinstance(expect[6], ExpectSql) and expect[6].line == 72


def test_load_when_csv_source_then_csv_is_resolved_from_the_scenario_directory() -> None:
    scenario = load_scenario(GOOD / "csv-source.yaml")
    assert scenario.market.source == "csv"
    assert scenario.market.csv == str((REPO / "tests" / "data" / "prices_tiny.csv").resolve())
    assert scenario.calendar.end == dt.date(2021, 1, 8)
    assert scenario.market.warmup_days == 2
    assert set(scenario.portfolio) == {"SPY", "TLT"}
    assert scenario.buckets == {}


def test_load_when_any_file_then_path_and_sha256_are_recorded(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    scenario = load_scenario("tests/data/good/minimal.yaml")
    assert scenario.path == "tests/data/good/minimal.yaml"
    expected = hashlib.sha256((GOOD / "minimal.yaml").read_bytes()).hexdigest()
    assert scenario.sha256 == expected


# --- scalars: YAML 1.1 is never applied ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e6", 1e6), ("1_000_000", 1e6), ("2.5E+3", 2500.0), (".5", 0.5), ("0.5", 0.5), ("7", 7)],
)
def test_load_when_number_is_plain_decimal_then_it_is_accepted(tmp_path, text, value) -> None:
    assert load_text(tmp_path, f"cash: {text}\n").cash == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0755", "expected a number, got '0755' (a leading zero is ambiguous)"),
        ("1:30", "expected a number, got '1:30'"),
        (".inf", "expected a finite number, got '.inf'"),
        (".nan", "expected a finite number, got '.nan'"),
        ("1e999", "expected a finite number, got '1e999'"),
        ("0x10", "expected a number, got '0x10'"),
        ("'5'", "expected a number, got quoted text '5'"),
        ("true", "expected a number, got 'true'"),
        ("[1]", "expected a number, got a list"),
    ],
)
def test_load_when_number_is_not_plain_decimal_then_rejected(tmp_path, text, message) -> None:
    assert problems(tmp_path, f"cash: {text}\n") == [f"6: cash: {message}"]


@pytest.mark.parametrize(("text", "message"), [("5.0", "'5.0'"), ("1e3", "'1e3'")])
def test_load_when_integer_field_gets_a_fraction_then_rejected(tmp_path, text, message) -> None:
    assert problems(tmp_path, f"seed: {text}\n") == [f"6: seed: expected an integer, got {message}"]


@pytest.mark.parametrize(("text", "value"), [("true", True), ("False", False), ("TRUE", True)])
def test_load_when_bool_is_true_or_false_then_accepted(tmp_path, text, value) -> None:
    body = f"portfolio:\n  AAPL: {{weight: 0.1, core: {text}}}\n"
    assert load_text(tmp_path, body).portfolio["AAPL"].core is value


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "n", "Yes", "1"])
def test_load_when_bool_is_yaml_11_word_then_rejected(tmp_path, text) -> None:
    body = f"portfolio:\n  AAPL: {{weight: 0.1, core: {text}}}\n"
    assert problems(tmp_path, body) == [
        f"7: portfolio.AAPL.core: expected true or false, got '{text}'"
    ]


def test_load_when_bool_is_quoted_then_rejected(tmp_path) -> None:
    body = "portfolio:\n  AAPL: {weight: 0.1, core: 'true'}\n"
    assert problems(tmp_path, body) == [
        "7: portfolio.AAPL.core: expected true or false, got quoted text 'true'"
    ]


def test_load_when_date_is_quoted_iso_then_accepted(tmp_path) -> None:
    body = "name: t\ncalendar: {start: \"2021-01-04\", end: '2021-01-08'}\nbuckets: {R: [A]}\n"
    scenario = load_text(tmp_path, body, base=False)
    assert scenario.calendar.end == dt.date(2021, 1, 8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2021-02-30",
            "expected a date YYYY-MM-DD, got '2021-02-30' (day is out of range for month)",
        ),
        ("20210104", "expected a date YYYY-MM-DD, got '20210104'"),
        ("2021-1-4", "expected a date YYYY-MM-DD, got '2021-1-4'"),
        ("04/01/2021", "expected a date YYYY-MM-DD, got '04/01/2021'"),
    ],
)
def test_load_when_date_is_not_iso_then_rejected(tmp_path, text, message) -> None:
    body = f"name: t\ncalendar: {{start: {text}, days: 5}}\nbuckets: {{R: [A]}}\n"
    assert problems(tmp_path, body, base=False) == [f"2: calendar.start: {message}"]


def test_load_when_text_field_holds_yaml_11_words_then_text_is_kept(tmp_path) -> None:
    body = "description: NO\nregimes:\n  timeline: [{date: 2021-01-04, regime: off}]\n"
    scenario = load_text(tmp_path, body)
    assert scenario.description == "NO"
    assert scenario.regimes.timeline[0].regime == "off"


def test_load_when_anchor_and_alias_are_used_then_alias_is_expanded(tmp_path) -> None:
    body = "portfolio:\n  AAPL: &h {weight: 0.1}\n  MSFT: *h\n"
    scenario = load_text(tmp_path, body)
    assert scenario.portfolio["MSFT"] == Holding(weight=0.1)


def test_load_when_options_alias_is_recursive_then_rejected(tmp_path) -> None:
    body = (
        "protections:\n  custom:\n"
        "    - {name: g, class: 'bulwark_fixture_rules:LiquidityGuard', options: &o {k: [*o]}}\n"
    )
    path = write(tmp_path, body)
    (tmp_path / "bulwark_fixture_rules.py").write_text(
        (GOOD / "bulwark_fixture_rules.py").read_text()
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p).split(": ", 1)[1] for p in info.value.problems] == [
        "protections.custom[0].options.k[0]: a recursive alias is not supported"
    ]


def test_load_when_explicit_str_tag_then_rejected(tmp_path) -> None:
    assert problems(tmp_path, "description: !!str 5\n") == [
        "6: description: explicit YAML tags are not supported (got '!!str');"
        " write the plain value, or quote it for text"
    ]


def test_load_when_duplicate_key_is_nested_then_reported_at_the_second(tmp_path) -> None:
    body = "market:\n  correlation:\n    within_bucket: 0.5\n    within_bucket: 0.4\n"
    assert problems(tmp_path, body) == [
        "9: market.correlation.within_bucket: duplicate key 'within_bucket' (first at line 8)"
    ]


def test_load_when_unknown_key_has_no_close_match_then_allowed_keys_are_listed(tmp_path) -> None:
    assert problems(tmp_path, "signals:\n  zzz: []\n") == [
        "7: signals.zzz: unknown key 'zzz' (allowed: scores, trending)"
    ]


def test_load_when_file_has_two_documents_then_one_yaml_problem(tmp_path) -> None:
    assert problems(tmp_path, "---\nseed: 1\n") == [
        "6: (yaml): invalid YAML: but found another document"
        " (expected a single document in the stream at line 1)"
    ]


def test_load_when_file_is_missing_then_one_document_problem(tmp_path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert len(info.value.problems) == 1
    assert info.value.problems[0].field == "(document)"
    assert "cannot read the file" in info.value.problems[0].message


# --- required keys and cascades -----------------------------------------------------


def test_load_when_name_and_calendar_are_missing_then_both_are_reported(tmp_path) -> None:
    assert problems(tmp_path, "seed: 1\nbuckets: {R: [A]}\n", base=False) == [
        "1: name: required key is missing",
        "1: calendar: required key is missing",
    ]


def test_load_when_buckets_are_broken_then_tickers_are_not_also_reported(tmp_path) -> None:
    body = (
        "name: t\ncalendar: {start: 2021-01-04, days: 5}\nbuckets:\n  R: AAPL\n"
        "portfolio:\n  AAPL: {weight: 0.1}\n"
    )
    assert problems(tmp_path, body, base=False) == [
        "4: buckets.R: expected a list of tickers, got 'AAPL'"
    ]


def test_load_when_calendar_is_broken_then_dates_are_not_also_checked(tmp_path) -> None:
    body = (
        "name: t\ncalendar: {start: soon, days: 5}\nbuckets: {R: [A]}\n"
        "regimes: {timeline: [{date: 2030-01-01, regime: Goldilocks}]}\n"
    )
    assert problems(tmp_path, body, base=False) == [
        "2: calendar.start: expected a date YYYY-MM-DD, got 'soon'"
    ]


# --- calendar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        ("{start: 2021-01-04}", "2: calendar: give exactly one of days or end"),
        (
            "{start: 2021-01-04, days: 5, end: 2021-02-01}",
            "2: calendar: give days or end, not both",
        ),
        (
            "{start: 2021-01-04, end: 2021-01-01}",
            "2: calendar.end: end 2021-01-01 is before start 2021-01-04",
        ),
        ("{start: 2021-01-04, days: 0}", "2: calendar.days: must be in [1, 25000], got 0"),
        (
            "{start: 2021-01-09, end: 2021-01-10}",
            "2: calendar: no trading day (Mon-Fri) from 2021-01-09 to 2021-01-10",
        ),
    ],
)
def test_load_when_calendar_is_inconsistent_then_rejected(tmp_path, calendar, message) -> None:
    body = f"name: t\ncalendar: {calendar}\nbuckets: {{R: [A]}}\n"
    assert problems(tmp_path, body, base=False) == [message]


def test_load_when_calendar_has_end_then_window_ends_there(tmp_path) -> None:
    body = (
        "name: t\ncalendar: {start: 2021-01-04, end: 2021-01-08}\nbuckets: {R: [A]}\n"
        "interventions: [{date: 2021-01-11, action: mark_core, asset: A}]\n"
    )
    assert problems(tmp_path, body, base=False) == [
        "4: interventions[0].date: 2021-01-11 is outside the calendar (2021-01-04 to 2021-01-08)"
    ]


# --- name, buckets, universe --------------------------------------------------------


def test_load_when_ticker_is_listed_twice_in_a_bucket_then_rejected(tmp_path) -> None:
    body = "name: t\ncalendar: {start: 2021-01-04, days: 5}\nbuckets:\n  R: [A, B, A]\n"
    assert problems(tmp_path, body, base=False) == [
        "4: buckets.R[2]: ticker 'A' is listed twice (first at line 4)"
    ]


@pytest.mark.parametrize(
    ("bucket", "message"),
    [
        ("R: []", "4: buckets.R: expected a non-empty list of tickers"),
        ("R: ['*']", "4: buckets.R[0]: '*' is not a ticker (it means any asset, only in expect)"),
        ("R: [~]", "4: buckets.R[0]: a value is required, got nothing"),
    ],
)
def test_load_when_bucket_content_is_bad_then_rejected(tmp_path, bucket, message) -> None:
    body = f"name: t\ncalendar: {{start: 2021-01-04, days: 5}}\nbuckets:\n  {bucket}\n"
    assert problems(tmp_path, body, base=False) == [message]


def test_load_when_ticker_is_only_in_paths_then_it_is_in_the_unknown_bucket(tmp_path) -> None:
    body = "market:\n  paths: {GLD: [10, 11]}\nportfolio:\n  GLD: {weight: 0.1}\n"
    scenario = load_text(tmp_path, body)
    assert scenario.buckets[UNKNOWN_BUCKET] == ("GLD",)
    assert scenario.portfolio["GLD"].weight == 0.1


def test_load_when_undefined_ticker_is_close_to_a_known_one_then_suggested(tmp_path) -> None:
    body = "signals:\n  trending: [{asset: AAPl, from: 2021-01-04, value: 0.9}]\n"
    assert problems(tmp_path, body) == [
        "7: signals.trending[0].asset: ticker 'AAPl' is not defined in buckets, the csv or"
        " market.paths (did you mean 'AAPL'?)"
    ]


@pytest.mark.parametrize(
    "where",
    [
        "assets:\n  ZZZ: {fundamental: 0.5}\n",
        "market:\n  shocks: [{date: 2021-01-05, assets: [ZZZ], return: -0.1}]\n",
        "signals:\n  scores: [{asset: ZZZ, from: 2021-01-04, value: 0.9}]\n",
        "interventions: [{date: 2021-01-05, action: revoke_core, asset: ZZZ}]\n",
        "expect: [{never: {action: close, asset: ZZZ}}]\n",
        "expect: [{final: {holdings_exclude: [ZZZ]}}]\n",
        "market:\n  volatility: {ZZZ: 0.3}\n",
    ],
)
def test_load_when_asset_is_undefined_anywhere_then_rejected(tmp_path, where) -> None:
    found = problems(tmp_path, where)
    assert len(found) == 1
    assert "'ZZZ' is" in found[0] and "defined in buckets, the csv or market.paths" in found[0]


def test_load_when_csv_is_wide_then_its_columns_are_the_tickers(tmp_path) -> None:
    (tmp_path / "wide.csv").write_text("date,SPY,NO\n2021-01-04,1,2\n")
    body = (
        "name: t\ncalendar: {start: 2021-01-04, days: 1}\n"
        "market: {source: csv, csv: wide.csv}\nportfolio:\n  NO: {weight: 0.2}\n"
    )
    assert load_text(tmp_path, body, base=False).portfolio["NO"].weight == 0.2


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("", "1: (document): the file is empty; expected a header line"),
        ("day,SPY\n2021-01-04,1\n", "1: (document): no 'date' column (columns: day, SPY)"),
        (
            "date,ticker,volume\n2021-01-04,SPY,5\n",
            "1: (document): a long price file needs a close or adj_close column",
        ),
        ("date,SPY\n2021-01-04,1\n2021-01-05,x\n", "3: SPY: expected a number, got 'x'"),
    ],
)
def test_load_when_csv_is_unusable_then_the_csv_line_and_column_are_reported(
    tmp_path, content, where
) -> None:
    (tmp_path / "p.csv").write_text(content)
    body = "name: t\ncalendar: {start: 2021-01-04, days: 1}\nmarket: {source: csv, csv: p.csv}\n"
    path = write(tmp_path, body, base=False)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [f"{tmp_path / 'p.csv'}:{where}"]


def test_load_when_bucket_ticker_is_not_in_the_csv_then_rejected(tmp_path) -> None:
    (tmp_path / "p.csv").write_text("date,SPY\n2021-01-04,1\n")
    body = (
        "name: t\ncalendar: {start: 2021-01-04, days: 1}\nbuckets: {R: [SPY, QQQ]}\n"
        "market: {source: csv, csv: p.csv}\n"
    )
    assert problems(tmp_path, body, base=False) == [
        "3: buckets.R[1]: ticker 'QQQ' has no prices: it is not in the csv or market.paths"
    ]


@pytest.mark.parametrize(
    ("market", "message"),
    [
        ("{source: csv}", "6: market.csv: required when market.source is csv"),
        ("{csv: x.csv}", "6: market.csv: only used with market.source: csv"),
        ("{source: xls}", "6: market.source: expected one of synthetic, csv, got 'xls'"),
        ("{warmup_days: -1}", "6: market.warmup_days: must be in [0, 5000], got -1"),
    ],
)
def test_load_when_market_source_is_inconsistent_then_rejected(tmp_path, market, message) -> None:
    assert problems(tmp_path, f"market: {market}\n") == [message]


def test_load_when_scenario_name_is_not_a_slug_then_rejected(tmp_path) -> None:
    body = "name: Core_Dip\ncalendar: {start: 2021-01-04, days: 5}\nbuckets: {R: [A]}\n"
    assert problems(tmp_path, body, base=False) == [
        "1: name: expected a name of [a-z0-9-]+, got 'Core_Dip'"
    ]


# --- market -------------------------------------------------------------------------


def test_load_when_drift_is_a_number_then_it_is_the_default(tmp_path) -> None:
    assert load_text(tmp_path, "market: {drift: -0.1}\n").market.drift.default == -0.1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("market: {volatility: -0.1}", "6: market.volatility: must be in [0, 10], got -0.1"),
        (
            "market: {volatility: {by_regime: {Goldilocks: {KO: -1}}}}",
            "6: market.volatility.by_regime.Goldilocks.KO: must be in [0, 10], got -1",
        ),
        (
            "market: {drift: {Growth: 0.1}}",
            "6: market.drift.Growth: 'Growth' is neither a bucket nor a ticker defined in"
            " buckets, the csv or market.paths",
        ),
        (
            "market: {drift: {by_regime: {Boom: {KO: 0.1}}}}",
            "6: market.drift.by_regime.Boom: unknown regime 'Boom'"
            " (known: Goldilocks, Reflation, Inflation, Deflation)",
        ),
        (
            "market: {correlation: {across_buckets: 0.7}}",
            "6: market.correlation: across_buckets (0.7) must be <= within_bucket (0.6)",
        ),
        (
            "market: {correlation: {within_bucket: 1}}",
            "6: market.correlation.within_bucket: must be in [0, 1), got 1",
        ),
        (
            "market: {correlation: {across_buckets: -0.1}}",
            "6: market.correlation.across_buckets: must be in [0, 1), got -0.1",
        ),
        ("market: {paths: {KO: []}}", "6: market.paths.KO: expected a non-empty list of prices"),
    ],
)
def test_load_when_market_value_is_out_of_bounds_then_rejected(tmp_path, body, message) -> None:
    assert problems(tmp_path, body + "\n") == [message]


@pytest.mark.parametrize(
    ("shock", "message"),
    [
        (
            "{date: 2021-01-05, return: -0.1}",
            "8: market.shocks[0]: a shock needs exactly one target: assets, bucket or all: true",
        ),
        (
            "{date: 2021-01-05, all: false, return: -0.1}",
            "8: market.shocks[0]: a shock needs exactly one target: assets, bucket or all: true",
        ),
        (
            "{date: 2021-01-05, all: true, bucket: Risk Assets, return: -0.1}",
            "8: market.shocks[0]: a shock needs exactly one target: assets, bucket or all: true;"
            " got bucket and all",
        ),
        (
            "{date: 2021-01-05, all: true, return: -1}",
            "8: market.shocks[0].return: must be in (-1, 100], got -1",
        ),
        (
            "{date: 2021-01-05, all: true, return: -0.1, days: 0}",
            "8: market.shocks[0].days: must be in [1, 25000], got 0",
        ),
        (
            "{date: 2021-01-05, bucket: Growth, return: -0.1}",
            "8: market.shocks[0].bucket: bucket 'Growth' is not defined in buckets",
        ),
        ("{date: 2021-01-05, all: true}", "8: market.shocks[0].return: required key is missing"),
        (
            "{date: 2021-01-05, assets: [], return: 0.1}",
            "8: market.shocks[0].assets: expected a non-empty list of tickers",
        ),
    ],
)
def test_load_when_shock_is_bad_then_rejected(tmp_path, shock, message) -> None:
    assert problems(tmp_path, f"market:\n  shocks:\n  - {shock}\n") == [message]


# --- regimes ------------------------------------------------------------------------


def test_load_when_timeline_names_a_new_regime_then_it_is_valid_elsewhere(tmp_path) -> None:
    body = (
        "regimes:\n  timeline: [{date: 2021-01-04, regime: Stagflation}]\n"
        "  favored_buckets: {Stagflation: [Defensive Assets]}\n"
    )
    scenario = load_text(tmp_path, body)
    assert scenario.regimes.favored_buckets == {"Stagflation": ("Defensive Assets",)}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "regimes:\n  favored_buckets: {Goldilocs: [Risk Assets]}\n",
            "7: regimes.favored_buckets.Goldilocs: unknown regime 'Goldilocs'"
            " (did you mean 'Goldilocks'?)",
        ),
        (
            "regimes:\n  source: detected\n  timeline: [{date: 2021-01-04, regime: Goldilocks}]\n",
            "8: regimes.timeline: a timeline is only used with regimes.source: scripted",
        ),
        (
            "regimes:\n  timeline: [{date: 2021-01-04, regime: Goldilocks, stability: 2}]\n",
            "7: regimes.timeline[0].stability: must be in [0, 1], got 2",
        ),
        (
            "regimes:\n  timeline: [{date: 2021-01-01, regime: Goldilocks}]\n",
            "7: regimes.timeline[0].date: 2021-01-01 is outside the calendar"
            " (2021-01-04 to 2021-01-29)",
        ),
        (
            "regimes:\n  timeline:\n  - {date: 2021-01-11, regime: Goldilocks}\n"
            "  - {date: 2021-01-05, regime: Deflation}\n",
            "9: regimes.timeline[1].date: dates must be strictly increasing:"
            " 2021-01-05 is not after 2021-01-11 (line 8)",
        ),
    ],
)
def test_load_when_regimes_are_bad_then_rejected(tmp_path, body, message) -> None:
    assert problems(tmp_path, body) == [message]


# --- signals, portfolio -------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "{asset: AAPL, from: 2021-01-04, value: 1.2}",
            "7: signals.scores[0].value: must be in [0, 1], got 1.2",
        ),
        (
            "{asset: AAPL, from: 2021-01-04, to: 2021-03-01, value: 0.5}",
            "7: signals.scores[0].to: 2021-03-01 is outside the calendar"
            " (2021-01-04 to 2021-01-29)",
        ),
        ("{asset: AAPL, value: 0.5}", "7: signals.scores[0].from: required key is missing"),
    ],
)
def test_load_when_signal_is_bad_then_rejected(tmp_path, item, message) -> None:
    assert problems(tmp_path, f"signals:\n  scores: [{item}]\n") == [message]


def test_load_when_weights_sum_to_exactly_one_then_accepted(tmp_path) -> None:
    body = "portfolio:\n  AAPL: {weight: 0.7}\n  JNJ: {weight: 0.2}\n  KO: {weight: 0.1}\n"
    assert sum(h.weight for h in load_text(tmp_path, body).portfolio.values()) == pytest.approx(1)


@pytest.mark.parametrize(
    ("holding", "message"),
    [
        ("{weight: 0}", "7: portfolio.AAPL.weight: must be in (0, 1], got 0"),
        ("{weight: 1.5}", "7: portfolio.AAPL.weight: must be in (0, 1], got 1.5"),
        ("{core: true}", "7: portfolio.AAPL.weight: required key is missing"),
        ("0.2", "7: portfolio.AAPL: expected a mapping, got '0.2'"),
    ],
)
def test_load_when_holding_is_bad_then_rejected(tmp_path, holding, message) -> None:
    assert problems(tmp_path, f"portfolio:\n  AAPL: {holding}\n") == [message]


# --- config and presets -------------------------------------------------------------


def test_load_when_preset_and_config_are_valid_then_overrides_are_coerced(tmp_path) -> None:
    body = "preset: crisis\nconfig:\n  grace_period_days: 3\n  commission: 0\n"
    scenario = load_text(tmp_path, body)
    assert scenario.preset == "crisis"
    assert dict(scenario.config) == {"grace_period_days": 3, "commission": 0.0}
    assert isinstance(scenario.config["commission"], float)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("grace_period_days: ten", "7: config.grace_period_days: expected an integer, got 'ten'"),
        (
            "grace_period_days: -1",
            "7: config.grace_period_days: -1 is out of range (allowed 0..365)",
        ),
        (
            "rebalance_frequency: hourly",
            "7: config.rebalance_frequency: 'hourly' is not one of daily, weekly, monthly",
        ),
        (
            "grace_period_days: '5'",
            "7: config.grace_period_days: expected an integer, got quoted text '5'",
        ),
        ("commission: 1:30", "7: config.commission: expected a number, got '1:30'"),
    ],
)
def test_load_when_config_value_is_bad_then_rejected(tmp_path, config, message) -> None:
    assert problems(tmp_path, f"config:\n  {config}\n") == [message]


def test_load_when_preset_has_no_close_name_then_known_presets_are_listed(tmp_path) -> None:
    found = problems(tmp_path, "preset: zzz\n")
    assert found == [
        "6: preset: unknown preset 'zzz' (known: adaptive, aggressive, conservative, crisis,"
        " institutional, momentum)"
    ]


def test_load_when_config_breaks_a_cross_rule_then_reported_at_the_config_key(tmp_path) -> None:
    body = "seed: 1\nconfig:\n  min_score_threshold: 0.9\n  min_score_new_position: 0.7\n"
    found = problems(tmp_path, body)
    assert len(found) == 1 and found[0].startswith("7: config: min_score_threshold (0.9)")


# --- interventions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "{date: 2021-01-05, action: revoke_core, asset: AAPL, days: 3}",
            "7: interventions[0].days: not used with action revoke_core",
        ),
        (
            "{date: 2021-01-05, action: mark_core}",
            "7: interventions[0].asset: required for action mark_core",
        ),
        (
            "{date: 2021-01-05, action: set, param: max_new_positions}",
            "7: interventions[0].value: required for action set",
        ),
        (
            "{date: 2021-01-05, action: set, param: max_new_positions, value: lots}",
            "7: interventions[0].value: expected an integer, got 'lots'",
        ),
        (
            "{date: 2021-01-05, action: set, param: whipsaw_protection, value: off}",
            "7: interventions[0].value: expected true or false, got 'off'",
        ),
        (
            "{date: 2021-01-05, action: set, param: max_new_positions, value: 1, asset: AAPL}",
            "7: interventions[0].asset: not used with action set",
        ),
        (
            "{date: 2021-01-05, action: retire, asset: AAPL}",
            "7: interventions[0].action: expected one of extend_core, revoke_core, mark_core,"
            " set, got 'retire'",
        ),
        (
            "{date: 2021-01-05, action: extend_core, asset: AAPL, days: 0}",
            "7: interventions[0].days: must be in [1, 36500], got 0",
        ),
    ],
)
def test_load_when_intervention_is_bad_then_rejected(tmp_path, item, message) -> None:
    assert problems(tmp_path, f"interventions:\n  - {item}\n") == [message]


# --- protections --------------------------------------------------------------------


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "bulwark_fixture_rules.py").write_text(
        (GOOD / "bulwark_fixture_rules.py").read_text()
    )
    return tmp_path


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        (
            "{name: Liq, class: 'bulwark_fixture_rules:LiquidityGuard'}",
            "8: protections.custom[0].name: expected a name of [a-z_][a-z0-9_]*, got 'Liq'",
        ),
        (
            "{name: orchestrator, class: 'bulwark_fixture_rules:LiquidityGuard'}",
            "8: protections.custom[0].name: 'orchestrator' is reserved; choose another",
        ),
        (
            "{name: liq, class: 'bulwark_fixture_rules:LiquidityGuard', priority: 5}",
            "8: protections.custom[0].priority: must be in [6, 9223372036854775807], got 5",
        ),
        (
            "{name: liq, class: 'bulwark_fixture_rules:LiquidityGuard', enabled: no}",
            "8: protections.custom[0].enabled: expected true or false, got 'no'",
        ),
        (
            "{name: liq, class: bulwark_fixture_rules.LiquidityGuard}",
            "8: protections.custom[0].class: expected module.path:ClassName,"
            " got 'bulwark_fixture_rules.LiquidityGuard'",
        ),
        (
            "{name: liq, class: 'bulwark_fixture_rules:Missing'}",
            "8: protections.custom[0].class: cannot import 'bulwark_fixture_rules:Missing':"
            " module 'bulwark_fixture_rules' has no 'Missing'",
        ),
        (
            "{name: liq, class: 'bulwark_fixture_rules:LiquidityGuard', options: [1]}",
            "8: protections.custom[0].options: expected a mapping, got a list",
        ),
    ],
)
def test_load_when_custom_protection_is_bad_then_rejected(rules_dir, custom, message) -> None:
    assert problems(rules_dir, f"protections:\n  custom:\n  - {custom}\n") == [message]


def test_load_when_custom_names_repeat_then_the_second_is_rejected(rules_dir) -> None:
    body = (
        "protections:\n  custom:\n"
        "  - {name: liq, class: 'bulwark_fixture_rules:LiquidityGuard'}\n"
        "  - {name: liq, class: 'bulwark_fixture_rules:LiquidityGuard'}\n"
    )
    assert problems(rules_dir, body) == [
        "9: protections.custom[1].name: duplicate custom protection name 'liq' (first at line 8)"
    ]


def test_load_when_custom_is_valid_then_defaults_apply(rules_dir) -> None:
    body = (
        "protections:\n  custom:\n  - {name: liq, class: 'bulwark_fixture_rules:LiquidityGuard'}\n"
    )
    custom = load_text(rules_dir, body).protections.custom[0]
    assert (custom.priority, custom.enabled, dict(custom.options)) == (6, True, {})


def test_load_when_custom_module_fails_at_import_then_error_is_reported(tmp_path) -> None:
    (tmp_path / "bulwark_broken_rules.py").write_text("raise RuntimeError('boom')\n")
    body = "protections:\n  custom:\n  - {name: b, class: 'bulwark_broken_rules:Guard'}\n"
    assert problems(tmp_path, body) == [
        "8: protections.custom[0].class: cannot import 'bulwark_broken_rules:Guard':"
        " RuntimeError: boom"
    ]


def test_load_when_custom_is_imported_then_sys_path_is_restored(rules_dir) -> None:
    import sys

    before = list(sys.path)
    body = (
        "protections:\n  custom:\n  - {name: liq, class: 'bulwark_fixture_rules:LiquidityGuard'}\n"
    )
    load_text(rules_dir, body)
    assert sys.path == before


# --- expectations -------------------------------------------------------------------


def test_load_when_decided_by_names_a_custom_protection_then_accepted(rules_dir) -> None:
    body = (
        "protections:\n  custom:\n  - {name: liq, class: 'bulwark_fixture_rules:LiquidityGuard'}\n"
        "expect:\n  - decision: {decided_by: liq, between: [2021-01-05, ~]}\n"
    )
    decision = load_text(rules_dir, body).expect[0]
    assert decision.decided_by == "liq"
    assert decision.between == Window(start=dt.date(2021, 1, 5), end=None)


def test_load_when_never_names_any_asset_then_star_is_kept(tmp_path) -> None:
    never = load_text(tmp_path, "expect:\n  - never: {action: close, asset: '*'}\n").expect[0]
    assert never == ExpectNever(action="close", asset="*", line=7)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "never: {action: sell, asset: AAPL}",
            "7: expect[0].never.action: expected one of open, close, increase, reduce, got 'sell'",
        ),
        ("never: {action: close}", "7: expect[0].never.asset: required key is missing"),
        (
            "never: {action: close, asset: AAPL, between: [2021-01-20, 2021-01-10]}",
            "7: expect[0].never.between[1]: 2021-01-10 is before the window start 2021-01-20",
        ),
        (
            "never: {action: close, asset: AAPL, between: [2021-01-04, 2021-12-31]}",
            "7: expect[0].never.between[1]: 2021-12-31 is outside the calendar"
            " (2021-01-04 to 2021-01-29)",
        ),
        (
            "notice: {event: Core-Revoked}",
            "7: expect[0].notice.event: expected an event name of [a-z_]+, got 'Core-Revoked'",
        ),
        (
            "notice: {event: core_revoked, min: -1}",
            "7: expect[0].notice.min: must be in [0, 9223372036854775807], got -1",
        ),
        (
            "decision: {outcome: rejected}",
            "7: expect[0].decision.outcome: expected one of approved, blocked, amended,"
            " got 'rejected'",
        ),
        (
            "final: {holdings_include: [AAPL], holdings_exclude: [AAPL]}",
            "7: expect[0].final.holdings_exclude[0]: 'AAPL' is also in holdings_include",
        ),
        (
            "final: {equity_min: 100, equity_max: 50}",
            "7: expect[0].final.equity_max: equity_max (50) must be >= equity_min (100)",
        ),
        (
            "metric: {name: Sharpe, min: 1}",
            "7: expect[0].metric.name: expected a metric name of [a-z_]+, got 'Sharpe'",
        ),
        ("metric: {name: sharpe}", "7: expect[0].metric: give min, max or both"),
        (
            "metric: {name: sharpe, min: 2, max: 1}",
            "7: expect[0].metric.max: max (1) must be >= min (2)",
        ),
        (
            "sql: {label: x, query: DELETE FROM runs}",
            "7: expect[0].sql.query: expected a SELECT (or WITH) query",
        ),
        ("sql: {query: SELECT 1}", "7: expect[0].sql.label: required key is missing"),
        (
            "nevr: {action: close, asset: AAPL}",
            "7: expect[0].nevr: unknown key 'nevr' (did you mean 'never'?)",
        ),
    ],
)
def test_load_when_expectation_is_bad_then_rejected(tmp_path, item, message) -> None:
    assert problems(tmp_path, f"expect:\n  - {item}\n") == [message]


def test_load_when_expectation_is_empty_then_kinds_are_listed(tmp_path) -> None:
    assert problems(tmp_path, "expect:\n  - {}\n") == [
        "7: expect[0]: expected one of never, notice, decision, final, metric, sql"
    ]


def test_load_when_notice_has_defaults_then_min_is_one(tmp_path) -> None:
    notice = load_text(tmp_path, "expect:\n  - notice: {event: core_revoked, asset: '*'}\n")
    assert notice.expect[0] == ExpectNotice(event="core_revoked", asset=None, min=1, line=7)


# --- the error types ----------------------------------------------------------------


def test_str_when_problem_is_formatted_then_file_line_field_message() -> None:
    problem = Problem("scenarios/x.yaml", 14, "market.shocks[1].return", "expected a number")
    assert str(problem) == "scenarios/x.yaml:14: market.shocks[1].return: expected a number"


def test_scenario_error_when_given_unsorted_duplicates_then_sorted_and_unique() -> None:
    a = Problem("f", 9, "b", "m")
    b = Problem("f", 2, "a", "m")
    error = ScenarioError([a, b, a])
    assert error.problems == (b, a)
    assert str(error) == "f:2: a: m\nf:9: b: m"


def test_load_when_set_interventions_break_a_cross_rule_then_the_breaking_one_is_named(
    tmp_path,
) -> None:
    body = (
        "config: {max_total_positions: 8}\n"
        "interventions:\n"
        "  - {date: 2021-01-12, action: set, param: max_new_positions, value: 6}\n"
        "  - {date: 2021-01-05, action: set, param: max_total_positions, value: 5}\n"
    )
    # in date order: total 5 first (fine with max_new 3), then max_new 6 > 5
    assert problems(tmp_path, body) == [
        "8: interventions[0].value: max_new_positions (6) must be <= max_total_positions (5)"
    ]


def test_load_protection_class_when_valid_then_the_class_is_returned(rules_dir) -> None:
    from domain.protections.base import Protection
    from sim.load.custom import load_protection_class

    cls = load_protection_class("bulwark_fixture_rules:LiquidityGuard", rules_dir)
    assert issubclass(cls, Protection) and cls.__name__ == "LiquidityGuard"
    with pytest.raises(TypeError, match="not a subclass"):
        load_protection_class("bulwark_fixture_rules:NotAProtection", rules_dir)
