"""run.py params, and the baseline scenario's promised shape."""

import json
from io import StringIO

import yaml
from rich.console import Console

import run
from sim.load.document import load_scenario


def _main(*argv):
    out = StringIO()
    code = run.main(list(argv), console=Console(file=out, width=220))
    return code, out.getvalue()


def test_params_when_basic_tier_then_table_of_basic_parameters():
    code, out = _main("params", "--tier", "basic")
    assert code == 0
    assert "max_total_positions" in out and "min_score_threshold" in out
    assert "core_asset_performance_check_frequency" not in out  # an expert-tier parameter


def test_params_when_preset_and_export_then_resolved_file_written(tmp_path):
    target = tmp_path / "crisis.json"
    code, out = _main("params", "--preset", "crisis", "--export", str(target))
    assert code == 0, out
    exported = json.loads(target.read_text())
    assert exported["min_score_threshold"] == 0.7
    assert exported["max_bucket_allocation"] == 0.35  # the strict-mode clamp, reported
    assert "0.35" in out


def test_params_when_export_then_only_the_export_printed(tmp_path):
    target = tmp_path / "defaults.yaml"
    code, out = _main("params", "--export", str(target))
    assert code == 0, out
    assert (
        out.strip()
        == f"wrote {len(yaml.safe_load(target.read_text()))} parameters to {target} (yaml)"
    )
    assert "Parameters (tier" not in out


def test_params_when_unknown_preset_then_exit_2():
    code, out = _main("params", "--preset", "crisiss")
    assert code == 2 and "crisis" in out


def test_baseline_when_loaded_then_20_assets_4_buckets_a_year_two_shocks():
    scenario = load_scenario("scenarios/baseline.yaml")
    assets = {t for tickers in scenario.buckets.values() for t in tickers}
    assert len(assets) >= 20 and len(scenario.buckets) >= 4
    assert scenario.calendar.days >= 250
    assert len(scenario.regimes.timeline[1:]) >= 2
    assert _main("validate", "scenarios/baseline.yaml")[0] == 0


def test_baseline_when_yaml_parsed_then_it_is_plain_scenario_format():
    with open("scenarios/baseline.yaml") as fh:
        raw = yaml.safe_load(fh)
    assert raw["name"] == "baseline" and raw["market"]["source"] == "synthetic"
