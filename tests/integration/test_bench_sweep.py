"""bench/sweep.py's scenario writer: bench_run's Python-built scenario as a file."""

from bench.bench_run import build_scenario
from bench.sweep import scenario_yaml
from sim.load.document import load_scenario


def test_scenario_yaml_when_loaded_back_then_same_book_market_and_regimes(tmp_path):
    built = build_scenario(assets=30, days=40)
    path = tmp_path / "bench.yaml"
    path.write_text(scenario_yaml(built))
    loaded = load_scenario(path)
    assert loaded.buckets == built.buckets and loaded.assets == built.assets
    assert loaded.portfolio == built.portfolio and loaded.calendar == built.calendar
    assert loaded.market.shocks == built.market.shocks
    assert loaded.market.drift == built.market.drift
    assert loaded.market.volatility == built.market.volatility
    assert loaded.regimes.timeline == built.regimes.timeline
