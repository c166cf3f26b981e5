"""Ablation (`sim.ablate`, `run.py ablate`): each protection switched off in turn, beside the
baseline; a row without a protection is the run of the file with it `enabled: false`."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.ablate import ablate, ablation_exit_code, run_row
from sim.api import InvalidInput, run_scenario
from sim.read.ablation import Ablation, RunRow, ablation_dict

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "scenarios" / "baseline.yaml"
LIQUIDITY = REPO / "tests" / "data" / "run" / "with_liquidity.yaml"
BUILTINS = ["core_asset", "grace_period", "holding_period", "whipsaw"]


def cli(*argv: object) -> tuple[int, str]:
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=250))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def baseline() -> Ablation:
    [result] = ablate([BASELINE])
    return result


def _copy_with(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new, 1))
    return copy


def test_ablate_when_baseline_then_baseline_and_one_run_per_protection(baseline):
    assert baseline.scenario == "baseline" and baseline.seed == 42
    assert baseline.baseline.removed is None and baseline.baseline.result == "passed"
    assert [r.removed for r in baseline.runs] == BUILTINS
    grace = baseline.runs[BUILTINS.index("grace_period")]
    assert grace.figures != baseline.baseline.figures  # grace decides in the baseline
    assert baseline.baseline.decisions["grace_period"] > 0
    assert "grace_period" not in grace.decisions


def test_ablate_when_protection_off_then_row_equals_plain_run_with_it_disabled(baseline, tmp_path):
    copy = _copy_with(
        tmp_path,
        BASELINE,
        "\nportfolio:",
        "\nprotections:\n  grace_period: {enabled: false}\nportfolio:",
    )

    plain = run_row(run_scenario(copy), "grace_period")

    assert baseline.runs[BUILTINS.index("grace_period")] == plain


def test_ablate_when_custom_protection_off_then_row_equals_it_disabled_in_file(tmp_path):
    [result] = ablate([LIQUIDITY])
    copy = _copy_with(tmp_path, LIQUIDITY, "priority: 6,", "priority: 6, enabled: false,")

    plain = run_row(run_scenario(copy), "liquidity")

    assert [r.removed for r in result.runs] == [*BUILTINS, "liquidity"]
    assert result.runs[-1] == plain
    assert result.baseline.decisions["liquidity"] > 0 and "liquidity" not in plain.decisions


def test_ablate_cli_when_baseline_json_then_the_api_rows(baseline, capsys):
    code = run.main(["ablate", str(BASELINE), "--json"], console=Console(file=StringIO()))

    record = json.loads(capsys.readouterr().out)
    assert code == 0
    assert record == json.loads(json.dumps(ablation_dict(baseline)))
    grace = record["without"][BUILTINS.index("grace_period")]
    assert grace["decided"] == baseline.baseline.decisions["grace_period"]
    gap = grace["final_equity"] - record["baseline"]["final_equity"]
    assert grace["deltas"]["final_equity"] == gap


def test_ablate_cli_when_scenario_then_table_row_per_protection():
    code, out = cli("ablate", LIQUIDITY)

    rows = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert code == 0
    assert rows == ["baseline", *(f"- {name}" for name in [*BUILTINS, "liquidity"])]
    assert "Ablation: with-liquidity (seed 3)" in out


def test_ablate_when_two_jobs_then_same_rows_as_one(tmp_path):
    one = ablate([LIQUIDITY])
    two = ablate([LIQUIDITY], jobs=2)

    assert one == two


def test_ablate_cli_when_directory_then_one_table_per_scenario_as_json_list(tmp_path, capsys):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a.yaml").write_text(LIQUIDITY.read_text())
    (folder / "b.yaml").write_text(LIQUIDITY.read_text().replace("name: with-liquidity", "name: b"))

    code = run.main(["ablate", str(folder), "--json"], console=Console(file=StringIO()))

    records = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["scenario"] for r in records] == ["with-liquidity", "b"]


def test_ablate_cli_when_a_file_is_invalid_then_exit_2_naming_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ncalendar: {start: 2024-01-01, days: nope}\n")

    code, out = cli("ablate", bad)

    assert code == 2
    assert out.startswith(f"{bad}:") and "days" in out
    assert not list(tmp_path.glob("*.db"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--jobs", "0"], "--jobs: must be in [1, 64]"),
        (["--seed", "x"], "--seed:"),
        (["--preset", "nope"], "--preset nope: unknown preset"),
        (["--set", "nope=1"], "--set nope=1:"),
    ],
)
def test_ablate_cli_when_flag_bad_then_exit_2_one_line(argv, message):
    code, out = cli("ablate", LIQUIDITY, *argv)

    assert code == 2 and message in out and len(out.strip().splitlines()) == 1


def test_run_scenario_when_without_names_no_protection_then_invalid_and_nothing_written(
    tmp_path,
):
    db = tmp_path / "x.db"

    with pytest.raises(InvalidInput, match=r"without: 'nope' is not a protection of this run"):
        run_scenario(LIQUIDITY, db=db, without=["nope"])

    assert not db.exists()


def test_run_scenario_when_without_names_disabled_protection_then_invalid(tmp_path):
    copy = _copy_with(tmp_path, LIQUIDITY, "priority: 6,", "priority: 6, enabled: false,")

    with pytest.raises(InvalidInput, match=r"'liquidity' is not a protection"):
        run_scenario(copy, without=["liquidity"])


def _row(result: str, code: int | None = 0) -> RunRow:
    return RunRow(None, result, code, {})


@pytest.mark.parametrize(
    ("baseline_result", "other", "code"),
    [
        ("passed", _row("failed", 1), 0),
        ("failed", _row("failed", 1), 1),
        ("passed", _row("crashed", 3), 3),
        ("passed", _row("interrupted", 130), 130),
    ],
)
def test_exit_code_when_runs_end_so_then_the_ablations_code(baseline_result, other, code):
    ablation = Ablation(
        "s", "s.yaml", 1, _row(baseline_result, int(baseline_result != "passed")), (other,)
    )

    assert ablation_exit_code([ablation]) == code


def test_ablate_when_done_then_no_database_left_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    ablate([os.fspath(LIQUIDITY)])

    assert not list(tmp_path.rglob("*.db"))
