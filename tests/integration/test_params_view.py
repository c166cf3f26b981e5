"""The `params` view: the table and the command (preset, tier, group, export)."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from rich.text import Text

from domain.config import (
    GROUP_TITLES,
    REGISTRY,
    ConfigError,
    config_from_json,
    config_from_yaml,
    params_for,
    resolve,
)
from sim.read.params_view import CHANGED_STYLE, format_value, params_command, params_table


def _console() -> Console:
    return Console(file=io.StringIO(), width=200)


def _output(console: Console) -> str:
    return console.file.getvalue()


def _rows(table) -> list[tuple[str, Text | str]]:
    names = [str(cell) for cell in table.columns[0].cells]
    values = list(table.columns[1].cells)
    return list(zip(names, values, strict=True))


def test_params_table_when_built_then_spec_columns():
    table = params_table(resolve(), tier=None, group=None)
    assert [column.header for column in table.columns] == [
        "name",
        "value",
        "default",
        "range",
        "help",
    ]


def test_params_table_when_all_tiers_then_every_param_in_group_then_registry_order():
    table = params_table(resolve(), tier=None, group=None)
    names = [name for name, _ in _rows(table)]
    params = [name for name in names if name not in GROUP_TITLES.values()]
    assert params == [p.name for p in REGISTRY]
    headers = [name for name in names if name in GROUP_TITLES.values()]
    assert headers == list(GROUP_TITLES.values())


def test_params_table_when_basic_tier_then_only_basic_params():
    table = params_table(resolve(), tier="basic", group=None)
    names = {name for name, _ in _rows(table)} - set(GROUP_TITLES.values())
    assert names == {p.name for p in params_for("basic")}


def test_params_table_when_group_then_only_that_group():
    table = params_table(resolve(), tier=None, group="whipsaw")
    names = [name for name, _ in _rows(table)]
    assert names[0] == GROUP_TITLES["whipsaw"]
    assert names[1:] == [p.name for p in params_for(group="whipsaw")]


def test_params_table_when_value_differs_from_default_then_highlighted():
    table = params_table(resolve("crisis"), tier=None, group=None)
    styles = {
        name: value.style for name, value in _rows(table) if name not in GROUP_TITLES.values()
    }
    changed = resolve("crisis").config.non_defaults()
    assert changed
    for name, style in styles.items():
        assert (style == CHANGED_STYLE) == (name in changed), name


def test_params_table_when_unknown_tier_then_config_error():
    with pytest.raises(ConfigError, match="did you mean 'basic'"):
        params_table(resolve(), tier="basi", group=None)


def test_format_value_when_types_vary_then_readable():
    assert format_value(True) == "true"
    assert format_value(0.1) == "0.1"
    assert format_value(7) == "7"
    assert format_value("daily") == "daily"


def test_params_command_when_preset_then_adjustments_and_table_printed():
    console = _console()
    assert params_command(tier=None, preset="crisis", group=None, export=None, console=console) == 0
    out = _output(console)
    assert "adjusted: diversification_mode=strict clamps max_bucket_allocation 0.4 -> 0.35" in out
    assert "preset: crisis" in out
    for param in REGISTRY:
        assert param.name in out


def test_params_command_when_basic_tier_then_advanced_params_hidden():
    console = _console()
    assert params_command(tier="basic", preset=None, group=None, export=None, console=console) == 0
    out = _output(console)
    assert "grace_period_days" in out
    assert "whipsaw_min_duration_hours" not in out


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_params_command_when_export_then_file_round_trips_to_resolved_config(tmp_path, suffix):
    path = tmp_path / f"conf{suffix}"
    console = _console()
    code = params_command(
        tier="basic", preset="aggressive", group=None, export=str(path), console=console
    )
    assert code == 0
    text = path.read_text()
    cfg = config_from_json(text) if suffix == ".json" else config_from_yaml(text)
    assert cfg == resolve("aggressive").config
    if suffix == ".json":
        assert len(json.loads(text)) == len(REGISTRY)
    assert f"wrote {len(REGISTRY)} parameters" in _output(console)


def test_params_command_when_export_suffix_unknown_then_exit_2_and_nothing_written(tmp_path):
    path = tmp_path / "conf.toml"
    console = _console()
    code = params_command(tier=None, preset=None, group=None, export=str(path), console=console)
    assert code == 2
    assert not path.exists()
    out = _output(console)
    assert "cannot export" in out and ".yaml" in out and ".json" in out


def test_params_command_when_export_dir_missing_then_exit_2(tmp_path):
    path = tmp_path / "missing" / "conf.yaml"
    console = _console()
    code = params_command(tier=None, preset=None, group=None, export=str(path), console=console)
    assert code == 2
    assert "cannot write" in _output(console)


def test_params_command_when_unknown_preset_then_exit_2_with_suggestion():
    console = _console()
    code = params_command(tier=None, preset="momentun", group=None, export=None, console=console)
    assert code == 2
    assert "did you mean 'momentum'" in _output(console)


def test_params_command_when_unknown_group_then_exit_2_with_suggestion():
    console = _console()
    code = params_command(tier=None, preset=None, group="sizng", export=None, console=console)
    assert code == 2
    assert "did you mean 'sizing'" in _output(console)
