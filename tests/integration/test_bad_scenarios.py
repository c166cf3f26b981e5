"""The malformed-input suite: every scenario in tests/data/bad/ and a table of bad command lines.

The manifest, tests/data/bad/EXPECTED.tsv, gives every `*.yaml` file in tests/data/bad/
exactly one line: `<file name> TAB <the exact first line run.py prints>`, with paths
relative to the repository root (`#` lines are comments). csv/ and bulwark_bad_rules.py
are helpers the scenarios use, not scenarios.

Every file is run through the real command line:

- in-process, `run.main([FILE, "--db", ...])`, for every file, from an empty temporary
  working directory with the file given as an absolute path (so the expected line's
  `tests/data/...` paths are made absolute too): exit code 2, the first output line equal
  to the expected one, no "Traceback" anywhere, and the working directory still empty
  afterwards (no DB at `--db`, no `runs/`). A SIGALRM guard turns a hang into a failure.
- in-process, `run.main(["validate", FILE])`: the same first line, exit code 2.
- in subprocesses, `python run.py FILE` without `--db` for a representative subset (run
  concurrently, each with a timeout): the same, and no `runs/` created.

`BAD_COMMAND_LINES` is the table of bad command lines (seeds, `--set` forms, `--db`
problems, presets, argument errors, `--jobs`, `inspect ... why` with a huge step).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.load.document import load_scenario, validate_files
from sim.load.problems import Problem, ScenarioError

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "tests" / "data" / "bad"
GOOD = REPO / "tests" / "data" / "good" / "minimal.yaml"
MANIFEST = BAD / "EXPECTED.tsv"
#: Seconds after which an in-process run counts as hung (a guard, not a timing assertion).
HANG_GUARD_SECONDS = 60
#: The files also run in a subprocess: the document-level, csv, size and sql failures.
SUBPROCESS_SUBSET = (
    "billion-laughs-requires.yaml",
    "billion-laughs-options.yaml",
    "binary-garbage.yaml",
    "latin1-with-requires.yaml",
    "csv-held-asset-without-price.yaml",
    "csv-inf-close.yaml",
    "calendar-days-billion.yaml",
    "expect-sql-with-delete.yaml",
)


def read_manifest() -> list[tuple[str, str]]:
    """(file name, expected first line) for every manifest line, in file order."""
    rows = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, expected = line.split("\t")
            rows.append((name, expected))
    return rows


MANIFEST_ROWS = read_manifest()


def absolute(expected: str) -> str:
    """The expected line as printed when the scenario is given by absolute path."""
    return expected.replace("tests/data/", f"{REPO}/tests/data/")


class Hung(Exception):
    """An in-process run passed HANG_GUARD_SECONDS."""


@contextlib.contextmanager
def hang_guard() -> Iterator[None]:
    def _alarm(*_: object) -> None:
        raise Hung(f"still running after {HANG_GUARD_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_GUARD_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def main(*argv: object) -> tuple[int, str]:
    """run.main in-process: (exit code, everything printed)."""
    out = StringIO()
    with hang_guard():
        code = run.main([str(a) for a in argv], console=Console(file=out, width=500))
    return code, out.getvalue()


def first_line(text: str) -> str:
    return text.splitlines()[0] if text.strip() else "<no output>"


# --- the manifest ---------------------------------------------------------------------


def test_manifest_when_listing_bad_files_then_every_file_has_exactly_one_line() -> None:
    names = [name for name, _ in MANIFEST_ROWS]
    assert len(names) == len(set(names)), "a file is listed twice"
    assert set(names) == {p.name for p in BAD.glob("*.yaml")}
    assert len(names) >= 140


# --- every file through the command line ----------------------------------------------


@pytest.mark.parametrize(("name", "expected"), MANIFEST_ROWS, ids=[n for n, _ in MANIFEST_ROWS])
def test_run_when_file_is_bad_then_exit_2_expected_line_no_traceback_nothing_written(
    name: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = main(BAD / name, "--db", tmp_path / "db" / "events.db")
    captured = capfd.readouterr()
    assert code == 2, out
    assert first_line(out) == absolute(expected)
    assert "Traceback" not in out + captured.out + captured.err
    assert list(tmp_path.iterdir()) == [], "something was written"


@pytest.mark.parametrize(("name", "expected"), MANIFEST_ROWS, ids=[n for n, _ in MANIFEST_ROWS])
def test_validate_when_file_is_bad_then_exit_2_with_the_same_first_line(
    name: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    code, out = main("validate", f"tests/data/bad/{name}")
    assert code == 2
    assert first_line(out) == expected
    if name != "many-problems.yaml":  # one mistake, one line
        assert len(out.splitlines()) == 1, out


def test_run_when_bad_files_run_in_subprocesses_then_exit_2_and_no_runs_dir(tmp_path) -> None:
    expected = dict(MANIFEST_ROWS)
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(REPO / "run.py"), str(BAD / name)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in SUBPROCESS_SUBSET
    }
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=HANG_GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"{name}: hung")
        assert proc.returncode == 2, (name, out, err)
        assert first_line(out) == absolute(expected[name])
        assert "Traceback" not in out + err
    assert list(tmp_path.iterdir()) == []


# --- a few loader properties the suite relies on --------------------------------------


def test_load_when_file_has_many_problems_then_all_are_reported_sorted_by_line() -> None:
    path = "tests/data/bad/many-problems.yaml"
    with contextlib.chdir(REPO), pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).splitlines() == [
        f"{path}:2: seed: must be in [0, 9223372036854775807], got -1",
        f"{path}:7: cash: expected a number, got 'lots'",
        f"{path}:10: regimes.timeline[0].confidence: must be in [0, 1], got 1.5",
        f"{path}:12: portfolio.ZZZ: ticker 'ZZZ' is not defined in buckets, the csv or"
        " market.paths",
    ]
    assert [p.line for p in info.value.problems] == [2, 7, 10, 12]
    assert info.value.problems[1] == Problem(path, 7, "cash", "expected a number, got 'lots'")


def test_validate_files_when_given_good_and_bad_then_one_result_per_file_in_order() -> None:
    paths = [GOOD, BAD / "negative-cash.yaml", BAD / "empty.yaml"]
    results = validate_files(paths)
    assert [path for path, _ in results] == [str(p) for p in paths]
    assert results[0][1] is None
    assert str(results[1][1]) == f"{BAD}/negative-cash.yaml:6: cash: must be in (0, 1e+15], got -5"
    assert isinstance(results[2][1], ScenarioError)


# --- bad command lines ------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_db(tmp_path_factory) -> Path:
    """An event database with one run of tests/data/run/small.yaml (for `inspect`)."""
    db = tmp_path_factory.mktemp("inspect") / "runs.db"
    code, out = main(REPO / "tests" / "data" / "run" / "small.yaml", "--db", db, "--quiet")
    assert code == 0, out
    return db


def _foreign_db(tmp: Path) -> Path:
    path = tmp / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE runs (id INTEGER, note TEXT)")
    con.commit()
    con.close()
    return path


def _read_only_dir(tmp: Path) -> Path:
    path = tmp / "locked"
    path.mkdir()
    path.chmod(0o555)
    return path


def _read_only_db(tmp: Path) -> Path:
    path = tmp / "locked.db"
    sqlite3.connect(path).close()
    path.chmod(0o444)
    return path


def _text_file(tmp: Path) -> Path:
    path = tmp / "notes.txt"
    path.write_text("not a database\n")
    return path


#: (id, argv with {good} / {tmp} / {db} placeholders, expected first line)
BAD_COMMAND_LINES: list[tuple[str, list[str], str]] = [
    (
        "seed-negative",
        ["{good}", "--seed", "-1"],
        "{good}: --seed: must be in [0, 9223372036854775807], got -1",
    ),
    (
        "seed-exponent",
        ["{good}", "--seed", "1e3"],
        "{good}: --seed: expected an integer, got '1e3'",
    ),
    (
        "seed-leading-zero",
        ["{good}", "--seed", "0755"],
        "{good}: --seed: expected an integer, got '0755' (a leading zero is ambiguous)",
    ),
    (
        "seed-two-pow-63",
        ["{good}", "--seed", "9223372036854775808"],
        "{good}: --seed: must be in [0, 9223372036854775807], got 9223372036854775808",
    ),
    (
        "seed-huge",
        ["{good}", "--seed", "1" + "0" * 30],
        "{good}: --seed: must be in [0, 9223372036854775807], got 1" + "0" * 30,
    ),
    (
        "seed-text",
        ["{good}", "--seed", "seven"],
        "{good}: --seed: expected an integer, got 'seven'",
    ),
    ("seed-empty", ["{good}", "--seed", ""], "{good}: --seed: expected an integer, got ''"),
    (
        "set-exponent-int",
        ["{good}", "--set", "grace_period_days=1e1"],
        "{good}: --set grace_period_days=1e1: expected an integer, got '1e1'",
    ),
    (
        "set-no-equals",
        ["{good}", "--set", "grace_period_days"],
        "{good}: --set grace_period_days: expected name=value",
    ),
    (
        "set-unknown-name",
        ["{good}", "--set", "grace-perod-days=3"],
        "{good}: --set grace-perod-days=3: unknown parameter 'grace_perod_days'"
        " (did you mean 'grace_period_days'?)",
    ),
    (
        "set-yes-for-bool",
        ["{good}", "--set", "whipsaw-protection=yes"],
        "{good}: --set whipsaw-protection=yes: expected true or false, got 'yes'",
    ),
    (
        "set-empty-value",
        ["{good}", "--set", "grace_period_days="],
        "{good}: --set grace_period_days=: a value is required after '='",
    ),
    (
        "set-out-of-range",
        ["{good}", "--set", "grace_period_days=400"],
        "{good}: --set grace_period_days=400: 400 is out of range (allowed 0..365)",
    ),
    (
        "set-cross-field",
        ["{good}", "--set", "max_new_positions=12", "--set", "max_total_positions=10"],
        "{good}: --set: max_new_positions (12) must be <= max_total_positions (10)",
    ),
    (
        "preset-unknown",
        ["{good}", "--preset", "instituional"],
        "{good}: --preset instituional: unknown preset 'instituional' (known: adaptive,"
        " aggressive, conservative, crisis, institutional, momentum)",
    ),
    (
        "db-is-directory",
        ["{good}", "--db", "{tmp}"],
        "{good}: --db {tmp}: is a directory; give a database file",
    ),
    (
        "db-not-sqlite",
        ["{good}", "--db", "{text}"],
        "{good}: --db {text}: is not an SQLite database",
    ),
    (
        "db-parent-is-a-file",
        ["{good}", "--db", "{text}/events.db"],
        "{good}: --db {text}/events.db: cannot be created: {text} is not a directory",
    ),
    (
        "db-of-another-program",
        ["{good}", "--db", "{foreign}"],
        "{good}: --db {foreign}: has a table 'runs' without the columns config,"
        " finished_at, run_id, scenario, scenario_path, scenario_sha256, seed, started_at,"
        " status, steps_completed: not a Bulwark event database",
    ),
    (
        "db-in-read-only-directory",
        ["{good}", "--db", "{locked}/events.db"],
        "{good}: --db {locked}/events.db: cannot be created: {locked} is read-only",
    ),
    (
        "db-read-only-file",
        ["{good}", "--db", "{locked_db}"],
        "{good}: --db {locked_db}: is read-only (a run adds to it)",
    ),
    (
        "db-with-nul",
        ["{good}", "--db", "{tmp}/a\x00b.db"],
        "{good}: --db {tmp}/a\x00b.db: the path contains a NUL character",
    ),
    (
        "follow-without-step",
        ["{good}", "--follow", "AAPL"],
        "{good}: --follow: only used with --step",
    ),
    ("unknown-flag", ["{good}", "--sede", "3"], "run.py: unrecognized arguments: --sede 3"),
    ("seed-without-value", ["{good}", "--seed"], "run.py: argument --seed: expected one argument"),
    (
        "no-scenario",
        [],
        "run.py: the following arguments are required: scenario"
        " (python run.py --help lists every command)",
    ),
    (
        "scenario-missing",
        ["{tmp}/nope.yaml"],
        "{tmp}/nope.yaml:1: (document): cannot read the file: [Errno 2] No such file or"
        " directory: '{tmp}/nope.yaml'",
    ),
    ("jobs-zero", ["{tmp}", "--jobs", "0"], "run.py: --jobs: must be in [1, 64], got 0"),
    ("jobs-text", ["{tmp}", "--jobs", "all"], "run.py: --jobs: expected an integer, got 'all'"),
    (
        "validate-without-files",
        ["validate"],
        "run.py: the following arguments are required: files",
    ),
    (
        "inspect-why-huge-step",
        ["inspect", "{db}", "why", "AAA", "99999999999999999999"],
        "no step 99999999999999999999 in run small-s3-001 (steps 0..39)",
    ),
]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(argv, expected) for _, argv, expected in BAD_COMMAND_LINES],
    ids=[name for name, _, _ in BAD_COMMAND_LINES],
)
def test_run_when_command_line_is_bad_then_exit_2_one_clear_line_nothing_written(
    argv: list[str], expected: str, tmp_path: Path, run_db: Path, monkeypatch, capfd
) -> None:
    monkeypatch.chdir(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    values = {
        "good": str(GOOD),
        "tmp": str(work),
        "db": str(run_db),
        "text": str(_text_file(tmp_path)),
        "foreign": str(_foreign_db(tmp_path)),
        "locked": str(_read_only_dir(tmp_path)),
        "locked_db": str(_read_only_db(tmp_path)),
    }
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out = main(*(a.format(**values) for a in argv))
    captured = capfd.readouterr()
    assert code == 2, out
    assert first_line(out) == expected.format(**values)
    assert "Traceback" not in out + captured.out + captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(work.iterdir()) == []


def test_command_line_table_when_counted_then_at_least_sixteen_cases() -> None:
    assert len(BAD_COMMAND_LINES) >= 16


def test_run_when_set_uses_dashed_name_then_it_is_applied(tmp_path) -> None:
    db = tmp_path / "events.db"
    code, out = main(GOOD, "--db", db, "--quiet", "--set", "grace-period-days=3")
    assert code == 0, out
    config = sqlite3.connect(db).execute("SELECT config FROM runs").fetchone()[0]
    assert json.loads(config)["grace_period_days"] == 3
