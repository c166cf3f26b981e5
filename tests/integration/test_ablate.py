"""Ablation (`sim.ablate`, `run.py ablate`): each protection switched off in turn, beside the
baseline; a row without a protection is the run of the file with it `enabled: false`."""

from __future__ import annotations

import contextlib
import json
import os
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.ablate import ablate, ablation_exit_code, run_row
from sim.api import InvalidInput, run_scenario
from sim.read.ablation import FIGURES, Ablation, RunRow

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "scenarios" / "baseline.yaml"
LIQUIDITY = REPO / "tests" / "data" / "run" / "with_liquidity.yaml"
BUILTINS = ["core_asset", "grace_period", "holding_period", "whipsaw"]


def cli(*argv: object) -> tuple[int, str]:
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=250))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def baseline() -> dict:
    """`run.py ablate scenarios/baseline.yaml --json`, parsed."""
    out = StringIO()
    with contextlib.redirect_stdout(out):
        code = run.main(["ablate", str(BASELINE), "--json"], console=Console(file=StringIO()))
    assert code == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def liquidity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Ablation, Path]:
    """The ablation of the custom-protection scenario, run from an empty folder."""
    here = os.getcwd()
    folder = tmp_path_factory.mktemp("cwd")
    os.chdir(folder)
    try:
        [result] = ablate([LIQUIDITY])
    finally:
        os.chdir(here)
    return result, folder


def _copy_with(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new, 1))
    return copy


def test_ablate_cli_when_baseline_then_baseline_and_one_row_per_protection(baseline):
    assert (baseline["scenario"], baseline["seed"]) == ("baseline", 42)
    assert baseline["baseline"]["result"] == "passed"
    assert [w["protection"] for w in baseline["without"]] == BUILTINS
    grace = baseline["without"][BUILTINS.index("grace_period")]
    assert grace["decided"] == baseline["baseline"]["decisions_by_system"]["grace_period"] > 0
    assert "grace_period" not in grace["decisions_by_system"]
    gap = grace["final_equity"] - baseline["baseline"]["final_equity"]
    assert grace["deltas"]["final_equity"] == gap != 0


def test_ablate_when_protection_off_then_row_equals_plain_run_with_it_disabled(baseline, tmp_path):
    copy = _copy_with(
        tmp_path,
        BASELINE,
        "\nportfolio:",
        "\nprotections:\n  grace_period: {enabled: false}\nportfolio:",
    )

    plain = run_row(run_scenario(copy), "grace_period")

    grace = baseline["without"][BUILTINS.index("grace_period")]
    assert {f.name: grace[f.name] for f in FIGURES} == plain.figures
    assert grace["decisions_by_system"] == plain.decisions
    assert (grace["result"], grace["exit_code"]) == (plain.result, plain.exit_code)
    assert grace["failed_checks"] == list(plain.failed)


def test_ablate_when_custom_protection_off_then_row_equals_it_disabled_in_file(liquidity, tmp_path):
    result, _ = liquidity
    copy = _copy_with(tmp_path, LIQUIDITY, "priority: 6,", "priority: 6, enabled: false,")

    plain = run_row(run_scenario(copy), "liquidity")

    assert [r.removed for r in result.runs] == [*BUILTINS, "liquidity"]
    assert result.runs[-1] == plain
    assert result.baseline.decisions["liquidity"] > 0 and "liquidity" not in plain.decisions


def test_ablate_when_done_then_no_database_left_behind(liquidity):
    _, folder = liquidity

    assert not list(folder.rglob("*"))


def test_ablate_when_two_jobs_then_same_rows_as_one(liquidity):
    assert ablate([LIQUIDITY], jobs=2) == [liquidity[0]]


def test_ablate_cli_when_scenario_then_table_row_per_protection():
    code, out = cli("ablate", LIQUIDITY)

    rows = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert code == 0
    assert rows == ["baseline", *(f"- {name}" for name in [*BUILTINS, "liquidity"])]
    assert "Ablation: with-liquidity (seed 3)" in out


def test_ablate_cli_when_directory_then_one_table_per_scenario_as_json_list(tmp_path, capsys):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "sub").mkdir()
    (folder / "sub" / "a.yaml").write_text(LIQUIDITY.read_text())
    (folder / "notes.txt").write_text("not a scenario")

    code = run.main(["ablate", str(folder), "--json"], console=Console(file=StringIO()))

    records = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["scenario"] for r in records] == ["with-liquidity"]
    assert records[0]["path"] == str(folder / "sub" / "a.yaml")


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
