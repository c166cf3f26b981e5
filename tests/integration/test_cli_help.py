"""The command line explains itself: `run.py --help` lists every registered command, every
command's `--help` ends with examples, and output to a pipe is not cropped."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.read.cli_help import EXAMPLES_HEADING, Command
from sim.read.console import WIDE_WIDTH, make_console, output_width
from sim.read.inspect_cli import HANDLERS

REPO = Path(__file__).resolve().parents[2]
LONG = REPO / "scenarios" / "library" / "core-underperformance-revocation.yaml"
LONG_RUN = "core-underperformance-revocation-s7-001"
ELLIPSIS = "…"


def _overview(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = run.main(argv, console=Console(file=out, width=100))
    return code, out.getvalue()


def test_help_when_asked_then_every_registered_command_on_one_line():
    code, text = _overview(["--help"])
    assert code == 0
    lines = text.splitlines()
    for command in (*run.RUN_FORMS, *run.COMMANDS.values()):
        matching = [line for line in lines if line.strip().startswith(command.usage + "  ")]
        assert len(matching) == 1, (command.usage, text)
        assert command.summary in matching[0]


def test_help_when_command_registered_then_overview_lists_it(monkeypatch):
    extra = Command("plot DB --out DIR", "the report's charts as PNG", lambda argv, c: 0)
    monkeypatch.setitem(run.COMMANDS, "plot", extra)
    code, text = _overview(["-h"])
    assert code == 0 and "plot DB --out DIR" in text and "the report's charts as PNG" in text


def test_main_when_no_arguments_then_one_line_naming_help_and_exit_2():
    code, text = _overview([])
    assert code == 2 and text.splitlines() == [
        "run.py: the following arguments are required: scenario (python run.py --help lists"
        " every command)"
    ]


def _help_argvs() -> list[list[str]]:
    words = [[name, "--help"] for name in run.COMMANDS]
    forms = [["scenarios/baseline.yaml", "--help"], ["scenarios/library", "--help"]]
    subs = [["inspect", "runs/x.db", name, "--help"] for name in HANDLERS]
    return [*words, *forms, *subs]


@pytest.mark.parametrize("argv", _help_argvs(), ids=" ".join)
def test_help_when_command_asked_then_options_and_an_example(argv, capsys):
    code = run.main(argv, console=Console(file=io.StringIO()))
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("usage: ")
    examples = out.split(EXAMPLES_HEADING, 1)[1]
    first = argv[0] if argv[0] in run.COMMANDS else ""
    assert f"  python run.py {first}" in examples, out


def test_output_width_when_columns_set_then_used_else_wide_default():
    assert output_width({}) == WIDE_WIDTH
    assert output_width({"COLUMNS": "120"}) == 120
    assert output_width({"COLUMNS": "wide"}) == WIDE_WIDTH
    assert output_width({"COLUMNS": "0"}) == WIDE_WIDTH


def test_make_console_when_not_a_terminal_then_wide():
    console = make_console(io.StringIO(), environ={})
    assert not console.is_terminal and console.width == WIDE_WIDTH


# --- through a pipe -----------------------------------------------------------------------


def _piped(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [sys.executable, "run.py", *map(str, argv)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def long_db(tmp_path_factory) -> Path:
    """The library scenario with the longest name, run through a pipe."""
    db = tmp_path_factory.mktemp("piped") / "long.db"
    done = _piped(LONG, "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ELLIPSIS not in done.stdout
    assert f"Bulwark run {LONG_RUN}" in done.stdout
    return db


def test_run_when_piped_then_baseline_summary_and_checks_not_cropped(tmp_path):
    done = _piped(REPO / "scenarios" / "baseline.yaml", "--db", tmp_path / "b.db")
    assert done.returncode == 0, done.stderr
    assert ELLIPSIS not in done.stdout
    # one line each: no label is wrapped into a narrow cell
    for label in (
        "no non-core position above the cap after a rebalance",
        "no fill without an approved or amended decision",
    ):
        assert label in done.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["runs"], [LONG_RUN, "core-underperformance-revocation "]),
        (["summary"], [f"Bulwark run {LONG_RUN}"]),
        (
            ["timeline", "C"],
            ["portfolio_manager", "core asset immunity: C is core until 2024-03-31"],
        ),
        (["blocked"], ["core_asset"]),
        (["protections", "C"], [f"Protection periods of C in {LONG_RUN}"]),
    ],
    ids=["runs", "summary", "timeline", "blocked", "protections"],
)
def test_inspect_when_piped_then_names_in_full_and_no_ellipsis(long_db, argv, expected):
    done = _piped("inspect", long_db, *argv)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ELLIPSIS not in done.stdout
    for text in expected:
        assert text in done.stdout, done.stdout
