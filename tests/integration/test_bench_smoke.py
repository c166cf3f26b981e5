"""The benchmark script runs (tiny size; no timing assertions)."""

from bench.bench_run import bench, build_scenario


def test_bench_when_tiny_then_runs_end_to_end_and_counts_messages(tmp_path):
    result = bench(assets=20, days=20, frequency="daily", seed=0, db_path=str(tmp_path / "b.db"))
    assert result.exit_code == 0
    assert result.messages > 0 and result.steps == 20


def test_build_scenario_when_sizes_given_then_that_many_assets_and_days():
    scenario = build_scenario(assets=30, days=40)
    assert sum(len(t) for t in scenario.buckets.values()) == 30
    assert scenario.calendar.days == 40


def test_bench_when_writer_forced_then_used_or_not_with_the_same_messages(tmp_path):
    results = {
        writer: bench(
            assets=10,
            days=15,
            frequency="daily",
            seed=0,
            db_path=str(tmp_path / f"{writer}.db"),
            writer=writer,
        )
        for writer in ("process", "in-process")
    }
    assert results["process"].timings.writer_process is True
    assert results["in-process"].timings.writer_process is False
    assert results["process"].messages == results["in-process"].messages > 0
    assert results["process"].kinds == results["in-process"].kinds
