"""`run.py DIR` with the single-run flags: --quiet, --json, --db (a folder or one file,
with --jobs), --seed, --preset and --set."""

from __future__ import annotations

import json
import shutil
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run
from domain.config import PRESETS

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "data" / "run" / "small.yaml"


def cli(*argv: object) -> tuple[int, str]:
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=250))
    return code, out.getvalue()


def library(tmp_path: Path, *, passing: int = 1, failing: bool = True, broken: bool = True):
    """A directory of scenarios: `passing` copies of small.yaml (all named `small`), one
    whose expectation fails (`fails`) and one that is invalid (`broken`)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for n in range(passing):
        shutil.copy(SMALL, lib / f"small-{n}.yaml")
    if failing:
        text = SMALL.read_text().replace("name: small", "name: fails")
        (lib / "fails.yaml").write_text(text + "expect:\n  - never: {action: open, asset: '*'}\n")
    if broken:
        (lib / "broken.yaml").write_text("name: broken\n")
    return lib


def runs_of(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT run_id, status, seed, json_extract(config, '$.grace_period_days'),"
            " steps_completed, messages FROM runs ORDER BY run_id"
        ).fetchall()


def test_run_dir_when_json_quiet_and_jobs_then_one_record_per_scenario(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    code, out = cli(library(tmp_path), "--jobs", "2", "--quiet", "--json")
    records = json.loads(capsys.readouterr().out)
    assert code == 1 and out == ""
    by_path = {Path(r["path"]).name: r for r in records}
    assert [Path(r["path"]).name for r in records] == ["broken.yaml", "fails.yaml", "small-0.yaml"]
    assert (by_path["small-0.yaml"]["result"], by_path["small-0.yaml"]["exit_code"]) == (
        "passed",
        0,
    )
    assert by_path["small-0.yaml"]["run_id"] == "small-s3-001"
    assert by_path["small-0.yaml"]["db"] == str(Path("runs") / "small.db")
    assert len(by_path["small-0.yaml"]["checks"]) == 8
    fails = by_path["fails.yaml"]
    assert (fails["result"], fails["exit_code"], fails["failed"][0][:9]) == (
        "failed",
        1,
        "never ope",
    )
    assert [c["kind"] for c in fails["checks"] if not c["passed"]] == ["expectation"]
    broken = by_path["broken.yaml"]
    assert (broken["result"], broken["exit_code"], broken["steps"]) == ("invalid", 2, 0)
    assert "broken.yaml" in broken["failed"][0]


def test_run_dir_when_db_is_one_file_and_jobs_2_then_every_run_in_it_with_its_own_id(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    lib = library(tmp_path, passing=4, failing=False, broken=False)
    code, out = cli(lib, "--jobs", "2", "--db", tmp_path / "all.db", "--quiet")
    assert (code, out) == (0, "")
    rows = runs_of(tmp_path / "all.db")
    assert [r[:2] for r in rows] == [(f"small-s3-00{n}", "completed") for n in range(1, 5)]
    assert len({r[4:] for r in rows}) == 1  # the same run four times: same steps, messages
    assert not (tmp_path / "runs").exists()


def test_run_dir_when_db_is_a_folder_then_one_database_per_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = cli(library(tmp_path, broken=False), "--db", "out/")
    assert code == 1 and "2 scenarios: 1 passed, 1 failed, 0 skipped" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fails.db", "small.db"]
    assert [r[0] for r in runs_of(tmp_path / "out" / "small.db")] == ["small-s3-001"]


def test_run_dir_when_seed_preset_and_set_then_every_run_uses_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lib = library(tmp_path, broken=False)
    code, _ = cli(lib, "--seed", "11", "--preset", "crisis", "--set", "grace-period-days=4")
    assert code == 1
    for name in ("small", "fails"):
        [row] = runs_of(tmp_path / "runs" / f"{name}.db")
        assert (row[0], row[2], row[3]) == (f"{name}-s11-001", 11, 4)
    with sqlite3.connect(tmp_path / "runs" / "small.db") as con:
        config = json.loads(con.execute("SELECT config FROM runs").fetchone()[0])
    from_preset = {k: v for k, v in PRESETS["crisis"].items() if k != "max_total_positions"}
    assert {k: config[k] for k in from_preset} == from_preset  # the file sets max_total


def test_run_dir_when_quiet_then_only_the_bad_rows_and_nothing_when_all_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = cli(library(tmp_path), "--quiet")
    assert code == 1
    assert "fails" in out and "broken" in out and "small" not in out
    assert "3 scenarios: 1 passed, 2 failed, 0 skipped" in out
    (tmp_path / "good").mkdir()
    only_good = library(tmp_path / "good", failing=False, broken=False)
    assert cli(only_good, "--quiet") == (0, "")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--seed", "x"], "run.py: --seed: expected an integer, got 'x'"),
        (["--preset", "panic"], "run.py: --preset panic: unknown preset 'panic'"),
        (["--set", "grace_period_dayz=1"], "run.py: --set grace_period_dayz=1: unknown parameter"),
        (["--db", "{notes}"], "run.py: --db {notes}: is not an SQLite database"),
        (["--step"], "run.py: unrecognized arguments: --step"),
    ],
    ids=["seed", "preset", "set", "db-file", "step"],
)
def test_run_dir_when_a_flag_is_bad_then_exit_2_one_line_and_nothing_written(
    flags, expected, tmp_path, monkeypatch
):
    lib = library(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out = cli(lib, *(f.format(notes=notes) for f in flags))
    assert code == 2
    assert out.startswith(expected.format(notes=notes)) and out.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_run_dir_when_db_folder_read_only_then_exit_2_naming_it(tmp_path, monkeypatch):
    lib = library(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    monkeypatch.chdir(tmp_path)
    code, out = cli(lib, "--db", f"{locked}/")
    assert code == 2
    assert out.strip() == f"run.py: --db {locked}/: cannot be created: {locked} is read-only"
    assert list(locked.iterdir()) == []
