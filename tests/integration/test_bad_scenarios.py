"""Every file under tests/data/bad/ is rejected with exactly the expected problem lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import Problem, ScenarioError, load_scenario, validate_files

REPO = Path(__file__).resolve().parents[2]
BAD = "tests/data/bad"

# (file, the exact `file:line: field: message` the loader must report, and nothing else)
CASES: list[tuple[str, str]] = [
    ("wrong-type-return", "9: market.shocks[1].return: expected a number, got 'ten'"),
    ("unknown-top-key", "6: sead: unknown key 'sead' (did you mean 'seed'?)"),
    (
        "unknown-nested-key",
        "8: market.volatilty: unknown key 'volatilty' (did you mean 'volatility'?)",
    ),
    ("duplicate-key", "8: seed: duplicate key 'seed' (first at line 6)"),
    ("yes-for-bool", "8: protections.whipsaw.enabled: expected true or false, got 'yes'"),
    ("no-for-bool", "6: portfolio.NO.core: expected true or false, got 'no'"),
    ("yes-for-config-bool", "7: config.whipsaw_protection: expected true or false, got 'on'"),
    ("sexagesimal-cash", "6: cash: expected a number, got '1:30'"),
    ("leading-zero-seed", "6: seed: expected an integer, got '0755' (a leading zero is ambiguous)"),
    ("quoted-number", "6: seed: expected an integer, got quoted text '7'"),
    ("infinite-volatility", "7: market.volatility.default: expected a finite number, got '.inf'"),
    (
        "undefined-ticker",
        "8: portfolio.XYZ: ticker 'XYZ' is not defined in buckets, the csv or market.paths",
    ),
    (
        "date-outside-calendar",
        "8: market.shocks[0].date: 2021-09-01 is outside the calendar (2021-01-04 to 2021-01-29)",
    ),
    (
        "bad-severity",
        "8: regimes.timeline[0].severity: expected one of normal, high, critical, got 'severe'",
    ),
    ("negative-path-price", "8: market.paths.KO[1]: must be > 0, got -3"),
    ("negative-cash", "6: cash: must be > 0, got -5"),
    ("weights-above-one", "6: portfolio: weights sum to 1.05, above 1"),
    ("bad-date-format", "3: calendar.start: expected a date YYYY-MM-DD, got '2021/01/04'"),
    (
        "unknown-config-param",
        "7: config.grace_perod_days: unknown parameter 'grace_perod_days'"
        " (did you mean 'grace_period_days'?)",
    ),
    ("config-cross-field", "6: config: max_new_positions (12) must be <= max_total_positions (10)"),
    ("bad-preset", "6: preset: unknown preset 'instituional' (did you mean 'institutional'?)"),
    (
        "shock-two-targets",
        "8: market.shocks[0]: a shock needs exactly one target: assets, bucket or all: true;"
        " got assets and bucket",
    ),
    (
        "custom-not-importable",
        "8: protections.custom[0].class: cannot import 'no_such_rules_module:Guard':"
        " ModuleNotFoundError: No module named 'no_such_rules_module'",
    ),
    (
        "custom-not-protection",
        "8: protections.custom[0].class: 'bulwark_bad_rules:NotAProtection' is not a subclass"
        " of domain.protections.base.Protection",
    ),
    (
        "custom-builtin-name",
        "9: protections.custom[1].name: 'whipsaw' is a built-in protection; choose another",
    ),
    ("expect-two-kinds", "7: expect[0]: an expectation has exactly one kind, got never and notice"),
    (
        "timeline-not-increasing",
        "10: regimes.timeline[2].date: dates must be strictly increasing:"
        " 2021-01-11 is not after 2021-01-11 (line 9)",
    ),
    (
        "yaml-syntax",
        "7: (yaml): invalid YAML: expected ',' or ']', but got ':'"
        " (while parsing a flow sequence at line 6)",
    ),
    ("empty", "1: (document): the file is empty; expected a mapping"),
    ("top-level-list", "1: (document): expected a mapping at the top, got a list"),
    ("bad-name", "1: name: expected a name of [a-z0-9-]+, got 'My Scenario'"),
    (
        "correlation-across-above-within",
        "7: market.correlation: across_buckets (0.5) must be <= within_bucket (0.3)",
    ),
    (
        "ticker-in-two-buckets",
        "6: buckets.Defensive Assets[1]: ticker 'AAPL' is already in bucket 'Risk Assets' (line 4)",
    ),
    ("extend-core-without-days", "7: interventions[0].days: required for action extend_core"),
    (
        "favored-unknown-bucket",
        "8: regimes.favored_buckets.Goldilocks[1]:"
        " bucket 'Growth Stocks' is not defined in buckets",
    ),
    ("csv-missing", "5: market.csv: file not found: tests/data/nowhere/prices.csv"),
    (
        "explicit-tag",
        "6: seed: explicit YAML tags are not supported (got '!!int');"
        " write the plain value, or quote it for text",
    ),
    ("merge-key", "9: assets.MSFT.<<: merge keys (<<) are not supported"),
    ("signal-to-before-from", "8: signals.scores[0].to: to 2021-01-11 is before from 2021-01-20"),
    (
        "entered-after-start",
        "7: portfolio.AAPL.entered: entered 2021-01-05 is after calendar.start 2021-01-04",
    ),
    (
        "unknown-decided-by",
        "7: expect[0].decision.decided_by: unknown system 'whipsw' (did you mean 'whipsaw'?)",
    ),
    ("misspelt-required-key", "1: nmae: unknown key 'nmae' (did you mean 'name'?)"),
    (
        "synthetic-without-buckets",
        "3: buckets: a synthetic market needs at least one bucket of tickers",
    ),
    (
        "set-unknown-param",
        "7: interventions[0].param: unknown parameter 'max_new_postions'"
        " (did you mean 'max_new_positions'?)",
    ),
]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[c[0] for c in CASES])
def test_load_when_file_is_bad_then_exactly_the_expected_problem_is_reported(
    name: str, expected: str
) -> None:
    path = f"{BAD}/{name}.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}:{expected}"
    assert len(info.value.problems) == 1


def test_table_when_listing_bad_files_then_every_file_has_a_case() -> None:
    on_disk = {p.stem for p in (REPO / BAD).glob("*.yaml")}
    assert on_disk == {name for name, _ in CASES} | {"many-problems"}
    assert len(on_disk) >= 20


def test_load_when_file_has_many_problems_then_all_are_reported_sorted_by_line() -> None:
    path = f"{BAD}/many-problems.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).splitlines() == [
        f"{path}:2: seed: must be >= 0, got -1",
        f"{path}:7: cash: expected a number, got 'lots'",
        f"{path}:10: regimes.timeline[0].confidence: must be in [0, 1], got 1.5",
        f"{path}:12: portfolio.ZZZ: ticker 'ZZZ' is not defined in buckets, the csv or"
        " market.paths",
    ]
    assert [p.line for p in info.value.problems] == [2, 7, 10, 12]
    assert info.value.problems[0] == Problem(path, 2, "seed", "must be >= 0, got -1")


def test_validate_files_when_given_good_and_bad_then_one_result_per_file_in_order() -> None:
    paths = ["tests/data/good/minimal.yaml", f"{BAD}/negative-cash.yaml", f"{BAD}/empty.yaml"]
    results = validate_files(paths)
    assert [path for path, _ in results] == paths
    assert results[0][1] is None
    assert isinstance(results[1][1], ScenarioError)
    assert str(results[1][1]) == f"{BAD}/negative-cash.yaml:6: cash: must be > 0, got -5"
    assert isinstance(results[2][1], ScenarioError)


def test_load_when_path_is_absolute_then_problems_name_it_as_given() -> None:
    path = str(REPO / BAD / "negative-cash.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems[0].file == path
    assert str(info.value).startswith(f"{path}:6: ")
