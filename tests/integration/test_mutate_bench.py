"""bench/mutate_growth.py runs (tiny pairs; no timing assertions)."""

from __future__ import annotations

import pytest

from bench.mutate_growth import Timing, fit, library_order, main, measure, parse_pairs


def test_measure_when_two_scenarios_one_mutant_then_runs_counted_and_score_read():
    paths = library_order()[:2]

    timing = measure(paths, 1, jobs=1)

    assert (timing.scenarios, timing.mutants, timing.total) == (2, 1, 1)
    assert 2 <= timing.runs <= 2 + 2
    assert timing.wall > 0 and 0 <= timing.killed <= 1


def test_fit_when_two_timings_then_the_line_through_both():
    timings = [Timing(1, 1, 10, 3.0, 2.0, 0, 1), Timing(2, 2, 30, 7.0, 3.0, 0, 1)]

    assert fit(timings) == pytest.approx((1.0, 0.2))
    assert fit(timings, "cpu") == pytest.approx((1.5, 0.05))


def test_library_order_when_called_twice_then_same_shuffled_order():
    first = library_order()

    assert first == library_order() != sorted(first)


def test_parse_pairs_when_bad_pair_then_exit_with_its_text():
    assert parse_pairs("2x3, 4x5") == [(2, 3), (4, 5)]
    with pytest.raises(SystemExit, match="'4x'"):
        parse_pairs("2x3,4x")


def test_main_when_two_tiny_pairs_then_table_and_fit_printed(capsys):
    assert main(["--pairs", "1x1,2x1", "--jobs", "1"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("| scenarios | mutants | runs |")
    assert [line.split("|")[1].strip() for line in out[3:5]] == ["1", "2"]
    assert out[-2].startswith("fit over the pairs: wall = ")
    assert out[-1].startswith("CPU (this process and its workers): ")
