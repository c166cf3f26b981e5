"""The step-through: keys pressed in a pseudo-terminal (pexpect), the plain-text mode, the
controller and the key parser.

The scenario is tests/data/inspect/whipsaw.yaml (see test_inspect.py): blocks by
holding_period on steps 1-3, AAA's grace period from step 3 (2024-01-04), a regime change
on step 7 (2024-01-10) and whipsaw blocks of AAA's reopen from step 8 (2024-01-11).
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from rich.console import Console

from domain.protections.registry import flag_labels
from sim.read.step_keys import Command, CommandLine, parse_command
from sim.read.step_text import step_lines
from sim.read.stepper import Stepper, StepThroughResult, step_through
from tests.integration.step_harness import start_model

REPO = Path(__file__).resolve().parents[2]
SCENARIO = str(REPO / "tests" / "data" / "inspect" / "whipsaw.yaml")
HARNESS = str(REPO / "tests" / "integration" / "step_harness.py")
# Only keeps a broken test from hanging (nothing asserts on time).
GUARD_SECONDS = 60
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Terminal:
    """The step-through harness in a pseudo-terminal: press keys, read whole frames."""

    def __init__(self, db: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        self.child = pexpect.spawn(
            sys.executable,
            [HARNESS, SCENARIO, "--db", str(db), *args],
            cwd=str(REPO),
            env=env,
            dimensions=(60, 200),
            encoding="utf-8",
            timeout=GUARD_SECONDS,
        )
        self.raw = ""

    def frame(self, marker: str) -> str:
        """Read until a frame holding `marker` has been drawn up to its footer; return the
        text drawn since the last key (escape sequences removed)."""
        while True:
            text = ANSI.sub("", self.raw)
            at = text.find(marker)
            keys = text.rfind("q quit")
            end = text.find("╯", keys) if keys >= 0 else -1
            if 0 <= at < end:  # the footer, drawn last, is complete after the marker
                return text
            try:
                self.raw += self.child.read_nonblocking(1_000_000, timeout=GUARD_SECONDS)
            except (pexpect.TIMEOUT, pexpect.EOF) as err:
                raise AssertionError(f"{marker!r} never shown; the screen:\n{text}") from err

    def press(self, keys: str, marker: str) -> str:
        """Type `keys` and return the frame that shows `marker`."""
        self.raw = ""
        self.child.send(keys)
        return self.frame(marker)

    def quit(self, key: str = "q") -> str:
        """Quit with `key`; return what was printed after leaving the screen."""
        self.child.send(key)
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.exitstatus == 0
        return ANSI.sub("", self.child.before)


def db_rows(db: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def full_db(tmp_path_factory) -> Path:
    """The scenario run to the end through the plain-text mode."""
    db = tmp_path_factory.mktemp("stepper") / "full.db"
    model, recorder = start_model(SCENARIO, str(db))
    step_through(model, Console(file=io.StringIO()), interactive=False)
    recorder.finish("completed")
    return db


# --- under a pseudo-terminal ------------------------------------------------------------


def test_step_through_when_keys_pressed_then_screen_shows_each_step(tmp_path):
    db = tmp_path / "keys.db"
    term = Terminal(db)
    first = term.frame("step 0 of 0..13")
    assert "2024-01-01" in first and "regime Goldilocks (normal)" in first
    # 0.95 of the equity bought at 0.1 % commission: equity 1,000,000 / (1 + 0.00095)
    assert f"equity {1e6 / 1.00095:,.2f}" in first and "drawdown 0.09%" in first
    assert "Holdings after step 0" in first and "HOLD 0 days" in first
    assert "APPROVED by orchestrator" in first and "events: none" in first

    step1 = term.press("\r", "step 1 of 0..13")
    assert "BLOCKED by holding_period" in step1
    assert "holding_period block" in step1 and "whipsaw abstain" in step1
    assert "held 1 of 3 minimum days" in step1
    assert "CCC     open 0.0000 -> 0.0000 (score 0.850, round 1" in step1  # withdrawn

    assert "2024-01-03" in term.press("n", "step 2 of 0..13")
    term.press("g", "go to step: _")
    term.press("6", "go to step: 6_")
    assert "2024-01-09" in term.press("\r", "went to step 6")

    step7 = term.press("c", "continued from step 6: regime change Goldilocks -> Reflation")
    assert "step 7 of 0..13" in step7
    assert "regime Reflation (normal, changed from Goldilocks)" in step7

    step8 = term.press("c", "continued from step 7: notice whipsaw_blocked AAA")
    assert "step 8 of 0..13" in step8 and "2024-01-11" in step8
    assert "BLOCKED by whipsaw" in step8 and "whipsaw block" in step8
    assert "AAA open blocked by whipsaw" in step8

    back = term.press("g2\r", "went to step 2")
    assert "step 2 of 0..13 (recorded; the model is at step 8)" in back

    followed = term.press("aAAA\r", "following AAA")
    assert "Following AAA" in followed and "HOLD 2 days" in followed

    step3 = term.press("c", "continued from step 2: notice grace_started AAA")
    assert "step 3 of 0..13 (recorded; the model is at step 8)" in step3
    assert "GRACE day 0" in step3 and "AMENDED by grace_period" in step3

    after = term.quit()
    assert "step-through quit at step 3 (2024-01-04)" in after
    assert "the event database holds steps 0..8 of 0..13" in after
    assert db_rows(db, "SELECT status, steps_completed FROM runs") == [("interrupted", 9)]


def test_step_through_when_quit_early_then_db_complete_up_to_last_finished_step(tmp_path, full_db):
    db = tmp_path / "quit.db"
    term = Terminal(db)
    term.frame("step 0 of 0..13")
    term.press("g4\r", "went to step 4")
    term.quit()
    assert db_rows(db, "SELECT status, steps_completed FROM runs") == [("interrupted", 5)]
    for table, order in (("messages", "id"), ("snapshots", "step, asset"), ("equity", "step")):
        sql = f"SELECT * FROM {table} WHERE step <= 4 ORDER BY {order}"
        assert db_rows(db, sql) == db_rows(full_db, sql), table
    assert db_rows(db, "SELECT MAX(step) FROM messages") == [(4,)]


def test_step_through_when_command_edited_or_cancelled_then_only_entered_command_runs(tmp_path):
    term = Terminal(tmp_path / "edit.db")
    term.frame("step 0 of 0..13")
    term.press("g7", "go to step: 7_")
    term.press("\x7f", "go to step: _")
    assert "step 3 of 0..13" in term.press("3\r", "went to step 3")
    term.press("a", "follow asset: _")
    cancelled = term.press("\x1b", "step 3 of 0..13")
    assert "follow asset" not in cancelled
    unknown = term.press("aZZZ\r", "unknown ticker 'ZZZ'")
    assert "Following" not in unknown
    assert "no step 99: steps are 0..13" in term.press("g99\r", "no step 99")
    term.quit()


def test_step_through_when_end_of_run_then_next_says_finished_and_run_completed(tmp_path):
    db = tmp_path / "end.db"
    term = Terminal(db)
    term.frame("step 0 of 0..13")
    assert "2024-01-18" in term.press("g13\r", "went to step 13")
    term.press("n", "the run is finished (step 13 is the last); q quits")
    term.press("c", "no event of interest after step 13: the run is finished")
    after = term.quit()
    assert "step-through quit at step 13" in after
    assert db_rows(db, "SELECT status, steps_completed FROM runs") == [("completed", 14)]


def test_step_through_when_end_of_input_then_quits(tmp_path):
    db = tmp_path / "eof.db"
    term = Terminal(db)
    term.frame("step 0 of 0..13")
    term.quit("\x04")
    assert db_rows(db, "SELECT status, steps_completed FROM runs") == [("interrupted", 1)]


# --- plain text -------------------------------------------------------------------------


def test_step_through_when_stdout_not_a_terminal_then_plain_text_for_every_step(tmp_path):
    db = tmp_path / "plain.db"
    done = subprocess.run(
        [sys.executable, HARNESS, SCENARIO, "--db", str(db)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    out = done.stdout
    assert "\x1b" not in out
    headers = [line for line in out.splitlines() if line.startswith("=== step ")]
    assert [h.split()[2] for h in headers] == [str(s) for s in range(14)]
    step8 = out[out.index("=== step 8 ") : out.index("=== step 9 ")]
    assert "events: notice whipsaw_blocked AAA; AAA open blocked by whipsaw" in step8
    assert "    verdict whipsaw (priority 5) block: whipsaw: AAA completed 1" in step8
    assert "    decision blocked by whipsaw: whipsaw: AAA completed 1" in step8
    assert db_rows(db, "SELECT status, steps_completed FROM runs") == [("completed", 14)]


def test_step_lines_when_followed_asset_then_its_lines_marked(full_db):
    model, _ = start_model(SCENARIO, ":memory:")
    stepper = Stepper(model, follow="AAA")
    stepper.goto(3)
    lines = step_lines(stepper.data(), total=stepper.total, follow="AAA")
    assert lines[0].startswith("=== step 3 of 0..13 | 2024-01-04 | regime Goldilocks (normal)")
    assert "> AAA [Risk Assets] weight 0.4843 score 0.300" in "\n".join(lines)
    assert any(line.startswith(">     decision amended by grace_period") for line in lines)
    assert any(line.startswith("> notice AAA from grace_period: grace_started") for line in lines)
    assert not any(line.startswith("> ") and "BBB" in line for line in lines)


def test_step_through_when_plain_then_result_finished_and_every_step_printed():
    model, _ = start_model(SCENARIO, ":memory:")
    console = Console(file=io.StringIO(), width=100)
    result = step_through(model, console, interactive=False)
    assert result == StepThroughResult(steps_done=14, finished=True, quit=False)
    assert console.file.getvalue().count("=== step ") == 14


# --- the controller ---------------------------------------------------------------------


def test_stepper_when_continue_then_stops_at_every_step_with_an_event():
    model, _ = start_model(SCENARIO, ":memory:")
    stepper = Stepper(model)
    stepper.start()
    stops = [stepper.cursor]
    while not (stepper.finished and stepper.cursor == stepper.last):
        stepper.continue_()
        stops.append(stepper.cursor)
    assert stops == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    stepper.goto(6)
    stepper.continue_()
    assert stepper.cursor == 7


def test_stepper_when_following_then_continue_skips_other_assets_events():
    model, _ = start_model(SCENARIO, ":memory:")
    stepper = Stepper(model, follow="BBB")
    stepper.start()
    stops = []
    for _ in range(4):
        stepper.continue_()
        stops.append(stepper.cursor)
    assert stops == [1, 2, 7, 13]
    assert stepper.status == "no event of interest after step 7: the run is finished"


def test_stepper_when_goto_backwards_then_record_shown_and_model_not_rewound():
    model, _ = start_model(SCENARIO, ":memory:")
    stepper = Stepper(model)
    stepper.start()
    stepper.goto(5)
    assert model.steps_done == 6
    stepper.goto(2)
    assert stepper.cursor == 2 and model.steps_done == 6
    assert stepper.data()["date"] == "2024-01-03"
    stepper.next()
    assert stepper.cursor == 3 and model.steps_done == 6


def test_stepper_when_model_has_no_recorder_then_value_error():
    model, _ = start_model(SCENARIO, ":memory:")
    model.recorder = None
    with pytest.raises(ValueError, match="recorder"):
        Stepper(model)


def test_stepper_when_unknown_follow_then_status_and_not_following():
    model, _ = start_model(SCENARIO, ":memory:")
    stepper = Stepper(model, follow="AAX")
    assert stepper.follow is None
    assert stepper.status == "unknown ticker 'AAX' (did you mean AAA?)"
    stepper.set_follow("AAA")
    assert stepper.follow == "AAA"
    stepper.set_follow(None)
    assert stepper.follow is None and stepper.status == "stopped following"


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("\r", [Command("next")]),
        ("\n", [Command("next")]),
        ("n", [Command("next")]),
        ("c", [Command("continue")]),
        ("q", [Command("quit")]),
        ("\x04", [Command("quit")]),
        ("g12\r", [Command("goto", 12)]),
        ("g 12\r", [Command("goto", 12)]),
        ("g1\x7f4\r", [Command("goto", 4)]),
        ("gx\r", [Command("invalid", "g needs a step number, got 'x'")]),
        ("aMSFT\r", [Command("follow", "MSFT")]),
        ("a\r", [Command("follow", None)]),
        ("g5\x1bn", [Command("next")]),
        ("xyz", []),
        ("cn", [Command("continue"), Command("next")]),
    ],
)
def test_command_line_when_keys_typed_then_commands(keys, expected):
    line = CommandLine()
    got = [c for c in (line.feed(k) for k in keys) if c is not None]
    assert got == expected


def test_command_line_when_command_pending_then_prompt_shows_it():
    line = CommandLine()
    line.feed("g")
    line.feed("4")
    assert line.prompt == "go to step: 4_"
    line.feed("\r")
    assert line.prompt == ""


def test_parse_command_when_unknown_text_then_none():
    assert parse_command("x") is None


def test_flag_labels_when_flags_then_core_grace_hold_whipsaw():
    flags = {"core": True, "core_until": "2024-04-01", "grace_day": 2, "days_held": 1}
    assert flag_labels({**flags, "whipsaw_cycles": 2}) == [
        "CORE until 2024-04-01",
        "GRACE day 2",
        "HOLD 1 day",
        "WHIPSAW 2 cycles",
    ]
    assert flag_labels({"days_held": 0, "whipsaw_cycles": 0}) == ["HOLD 0 days"]


def test_run_when_step_through_quit_early_then_says_checks_not_run_and_exits_130(tmp_path):
    db = tmp_path / "cli-quit.db"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    child = pexpect.spawn(
        sys.executable,
        ["run.py", SCENARIO, "--db", str(db), "--step"],
        cwd=str(REPO),
        env=env,
        dimensions=(60, 200),
        encoding="utf-8",
        timeout=GUARD_SECONDS,
    )
    child.expect("q quit")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    after = ANSI.sub("", child.before)
    assert child.exitstatus == 130
    assert (
        "run inspect-whipsaw-s5-001 interrupted (quit from the step-through) after 1 steps;"
        " checks not run"
    ) in after
    assert "Checks" not in after and "held" not in after
    assert db_rows(db, "SELECT status, error FROM runs") == [
        ("interrupted", "quit from the step-through")
    ]
