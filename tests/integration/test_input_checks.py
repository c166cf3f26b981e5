"""The checks behind the malformed-input suite, one module at a time: the strict YAML
composer's bounds and scalar parsers, `requires:` reading, the read-only SQL check, the
event-database path check, `--set` parsing and the market check's accepted cases."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import yaml

from sim.load.config_section import parse_setting
from sim.load.document import load_scenario, unmet_requirements
from sim.load.problems import ScenarioError
from sim.load.yaml_nodes import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    Invalid,
    RefusedYAML,
    compose,
    parse_date,
    parse_int,
    parse_number,
)
from sim.read.sql_check import readonly_select_problem
from sim.run.db_path import db_path_problem

# --- the strict composer ----------------------------------------------------------------


def _laughs(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_compose_when_aliases_add_few_nodes_then_the_alias_is_the_anchored_node() -> None:
    root = compose(_laughs(3))  # 10 + 10*11 + 10*111 nodes added: under the bound
    first, second = root.value[1][1].value[:2]
    assert first is second  # shared, never copied


def test_compose_when_aliases_expand_past_the_bound_then_refused_at_the_alias_line() -> None:
    with pytest.raises(RefusedYAML) as info:
        compose(_laughs(9))
    assert f"more than {MAX_ALIAS_NODES:,} nodes" in info.value.problem
    assert info.value.problem_mark.line + 1 == 4  # a3's aliases pass 10,000


def test_compose_when_nested_past_the_bound_then_refused() -> None:
    deepest = MAX_DEPTH - 1  # the top mapping is the first level
    compose("k: " + "[" * deepest + "]" * deepest)
    with pytest.raises(RefusedYAML, match=f"nested more than {MAX_DEPTH} levels"):
        compose("k: " + "[" * (deepest + 1) + "]" * (deepest + 1))


def test_refused_yaml_when_caught_as_yaml_error_then_it_is_one() -> None:
    assert issubclass(RefusedYAML, yaml.YAMLError)


# --- scalar parsers (shared by the file and the command line) ------------------------------


@pytest.mark.parametrize(("text", "value"), [("7", 7), ("-1_000", -1000), ("+5", 5), ("0", 0)])
def test_parse_int_when_plain_decimal_then_value(text: str, value: int) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e3", "expected an integer, got '1e3'"),
        ("0755", "expected an integer, got '0755' (a leading zero is ambiguous)"),
        ("9" * 1001, "expected an integer, got a number of 1001 digits"),
        ("", "expected an integer, got ''"),
    ],
)
def test_parse_int_when_not_a_plain_integer_then_invalid(text: str, message: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_int(text)
    assert str(info.value) == message


def test_parse_number_when_exponent_then_float_and_when_overflowing_then_invalid() -> None:
    assert parse_number("1e-3") == 0.001
    with pytest.raises(Invalid, match="expected a finite number, got '1e999'"):
        parse_number("1e999")


def test_parse_date_when_outside_1900_to_2200_then_invalid() -> None:
    assert parse_date("2200-12-31") == dt.date(2200, 12, 31)
    with pytest.raises(Invalid, match="from 1900-01-01 to 2200-12-31, got '1899-12-29'"):
        parse_date("1899-12-29")


# --- requires ---------------------------------------------------------------------------


def test_unmet_requirements_when_file_is_not_yaml_text_then_none_and_load_reports_it(
    tmp_path,
) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: s\nrequires: [gone.csv]\ndescription: caf\xe9\n")
    assert unmet_requirements(path) == []
    with pytest.raises(ScenarioError, match=r":3: \(document\): not UTF-8 text \(byte 0xe9\)"):
        load_scenario(path)


def test_unmet_requirements_when_names_are_absent_or_unusable_then_listed(tmp_path) -> None:
    (tmp_path / "here.csv").write_text("date,A\n")
    path = tmp_path / "s.yaml"
    long_name = "x" * 5000
    path.write_text(f"name: s\nrequires: [here.csv, gone.csv, {long_name}, {{a: 1}}]\n")
    assert unmet_requirements(path) == ["gone.csv", long_name]


# --- expect: sql ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM snapshots WHERE weight > 0.2",
        "WITH big AS (SELECT * FROM snapshots WHERE weight > 0.2) SELECT asset FROM big",
        "SELECT json_extract(payload, '$.outcome') FROM messages WHERE kind = 'decision';",
    ],
)
def test_sql_check_when_one_read_only_select_then_accepted(query: str) -> None:
    assert readonly_select_problem(query) is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "WITH x AS (SELECT 1) DELETE FROM runs",
            "expected one read-only SELECT; this statement would delete (runs)",
        ),
        (
            "WITH x AS (SELECT 1) UPDATE equity SET cash = 0",
            "expected one read-only SELECT; this statement would update (equity)",
        ),
        ("SELECT 1; DROP TABLE runs", "expected one SELECT, got more than one statement"),
        ("SELECT * FROM nowhere", "does not compile: no such table: nowhere"),
    ],
)
def test_sql_check_when_not_one_read_only_select_then_the_reason(query: str, message: str) -> None:
    assert readonly_select_problem(query) == message


# --- --db ---------------------------------------------------------------------------------


def test_db_path_when_new_file_or_event_db_or_empty_file_then_usable(tmp_path) -> None:
    assert db_path_problem(tmp_path / "new" / "deeper" / "events.db") is None
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert db_path_problem(empty) is None
    own = tmp_path / "own.db"
    sqlite3.connect(own).execute("CREATE TABLE unrelated (x)").connection.commit()
    assert db_path_problem(own) is None
    assert not (tmp_path / "new").exists()  # the check creates nothing


def test_db_path_when_sqlite_header_but_corrupt_then_problem(tmp_path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    problem = db_path_problem(broken)
    assert problem is not None and problem.startswith("is not a usable SQLite database")


# --- --set ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("grace-period-days=3", ("grace_period_days", 3)),
        ("commission=1e-3", ("commission", 0.001)),
        ("whipsaw_protection=FALSE", ("whipsaw_protection", False)),
        ("rebalance_frequency = weekly", ("rebalance_frequency", "weekly")),
    ],
)
def test_parse_setting_when_valid_then_registry_name_and_canonical_value(text, parsed) -> None:
    assert parse_setting(text) == parsed


# --- the market check: what it accepts ------------------------------------------------------


def _csv_scenario(tmp_path: Path, csv: str, market: str = "", rest: str = "") -> Path:
    (tmp_path / "p.csv").write_text(csv)
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\ncalendar: {start: 2021-01-04, days: 3}\n"
        f"market:\n  source: csv\n  csv: p.csv\n  warmup_days: 0\n{market}{rest}"
    )
    return path


LATE_BBB = "date,AAA,BBB\n2021-01-04,10,\n2021-01-05,11,\n2021-01-06,12,5\n"


def test_market_check_when_unheld_asset_starts_late_then_accepted(tmp_path) -> None:
    path = _csv_scenario(tmp_path, LATE_BBB, rest="portfolio:\n  AAA: {weight: 0.5}\n")
    assert load_scenario(path).portfolio["AAA"].weight == 0.5


def test_market_check_when_held_asset_starts_late_then_refused(tmp_path) -> None:
    path = _csv_scenario(tmp_path, LATE_BBB, rest="portfolio:\n  BBB: {weight: 0.5}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:8: portfolio.BBB: a starting holding needs a price on the first simulated day"
        " 2021-01-04; BBB has no close on or before it"
    ]


def test_market_check_when_held_asset_has_a_path_then_priced_and_accepted(tmp_path) -> None:
    path = _csv_scenario(
        tmp_path,
        LATE_BBB,
        market="  paths: {BBB: [5, 5, 5]}\n",
        rest="buckets: {R: [AAA, BBB]}\nportfolio:\n  BBB: {weight: 0.5}\n",
    )
    assert load_scenario(path).portfolio["BBB"].weight == 0.5


def test_market_check_when_seed_given_then_the_synthetic_market_of_that_seed_is_checked(
    tmp_path,
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nseed: 1\ncalendar: {start: 2021-01-04, days: 2520}\n"
        "buckets: {R: [AAA]}\nassets: {AAA: {start_price: 1e11}}\n"
        "market: {drift: 0.1, volatility: 0.3}\n"
    )
    outcomes = set()
    for seed in range(12):
        try:
            load_scenario(path, seed=seed)
            outcomes.add("ok")
        except ScenarioError as err:
            assert "market: prices must stay finite and in [1e-06, 1e+12]" in str(err)
            outcomes.add("refused")
    assert outcomes == {"ok", "refused"}
