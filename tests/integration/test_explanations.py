"""Exclusions are explained: every asset of the universe gets a `selection` notice whenever
its place in the plan changes, and `why ASSET DATE` answers from it.

The scenario: B moves exactly like A (B = 2 x A, so |correlation| 1) in bucket X and
becomes a candidate on day 3, when the correlation filter drops it; bucket Y has four
candidates for its three slots (10 positions // 3 buckets with candidates); in bucket Z, G
is a candidate, E's score is below `min_score_new_position` and F is not trending.
"""

from __future__ import annotations

import io
import sqlite3

import pytest
from rich.console import Console

from sim.read.inspect_cli import inspect_command
from sim.read.queries import open_readonly
from sim.read.why import selection_status, why
from tests.integration.builders import iso, make_scenario, notices, run_model, script

RUN = "t"
ZIGZAG = [100, 101, 100, 102, 100, 103, 101, 104, 102, 105, 103]


@pytest.fixture(scope="module")
def explained(tmp_path_factory):
    assets = ("A", "B", "C1", "C2", "C3", "C4", "E", "F", "G")
    scores = script("A", (0, 0.9)) + script("B", (0, 0.5), (3, 0.85)) + script("E", (0, 0.62))
    scores += script("F", (0, 0.9)) + script("G", (0, 0.8))
    for k, asset in enumerate(("C1", "C2", "C3", "C4")):
        scores += script(asset, (0, 0.92 - 0.02 * k))
    trending = tuple(t for a in assets for t in script(a, (0, 0.9 if a != "F" else 0.3)))
    scenario = make_scenario(
        assets=assets,
        days=6,
        paths={"A": ZIGZAG, "B": [2 * p for p in ZIGZAG]},
        buckets={"X": ("A", "B"), "Y": ("C1", "C2", "C3", "C4"), "Z": ("E", "F", "G")},
        scores=scores,
        trending=trending,
    )
    _, mem = run_model(scenario, max_new_positions=10)
    path = tmp_path_factory.mktemp("explain") / "e.db"
    disk = sqlite3.connect(path)
    mem.conn.backup(disk)
    disk.close()
    return path, mem


def _status(path, asset, day):
    conn = open_readonly(path)
    try:
        return why(conn, RUN, asset, iso(day))["selection"]
    finally:
        conn.close()


def test_why_when_dropped_for_correlation_then_names_the_better_asset(explained):
    path, _ = explained
    status = _status(path, "B", 3)
    assert (status["selected"], status["reason"], status["since"]) == (False, "correlation", iso(3))
    assert status["detail"] == "|correlation| 1.00 with A above correlation_limit 0.8 in X"


def test_why_when_bucket_slots_full_then_says_so_with_the_count(explained):
    path, _ = explained
    status = _status(path, "C4", 2)
    assert (status["selected"], status["reason"], status["since"]) == (
        False,
        "bucket_slots_full",
        iso(0),
    )
    assert status["detail"] == "Y slots full (3): 3 better-placed assets"
    assert _status(path, "C3", 2)["reason"] == "kept"  # opened on day 0, kept since


@pytest.mark.parametrize(
    ("asset", "reason", "detail"),
    [
        ("E", "below_open_threshold", "score 0.620 below min_score_new_position 0.65"),
        ("F", "not_trending", "trending 0.30 below trending_confidence_new 0.7"),
        ("B", "below_open_threshold", "score 0.500 below min_score_new_position 0.65"),
    ],
)
def test_why_when_below_a_threshold_then_the_threshold_and_the_number(
    explained, asset, reason, detail
):
    path, _ = explained
    status = _status(path, asset, 1)
    assert (status["reason"], status["detail"]) == (reason, detail)


def test_selection_when_status_unchanged_then_recorded_once(explained):
    _, mem = explained
    events = [(n["asset"], n["date"]) for n in notices(mem, "selection")]
    assert len(events) == len(set(events))
    assert [d for a, d in events if a == "C4"] == [iso(0)]  # full every day: one notice
    assert [d for a, d in events if a == "B"] == [iso(0), iso(3)]
    assert {a for a, _ in events} == {"A", "B", "C1", "C2", "C3", "C4", "E", "F", "G"}


def test_why_command_when_asset_excluded_then_plan_line_printed(explained):
    path, _ = explained
    console = Console(file=io.StringIO(), width=200)
    assert inspect_command([str(path), "why", "C4", iso(2)], console) == 0
    out = console.file.getvalue()
    assert f"not in the plan since {iso(0)}: bucket_slots_full: Y slots full (3)" in out


def test_selection_status_when_before_first_plan_then_none(explained):
    path, _ = explained
    conn = open_readonly(path)
    assert selection_status(conn, RUN, "A", -1) is None
    conn.close()
