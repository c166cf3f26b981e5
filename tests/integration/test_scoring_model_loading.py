"""`scoring.model` in a scenario: built-in and user models load, bad ones are rejected at
their line, and a run scores with the model named."""

from __future__ import annotations

import sqlite3
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import run
from sim.load.custom import scoring_model_of
from sim.load.document import load_scenario
from sim.load.problems import ScenarioError

BASE = """\
name: t
seed: 3
calendar: {start: 2024-01-01, days: 10}
buckets:
  Risk Assets: [AAA, BBB, CCC]
"""
# A user model beside the scenario: the last column scores 1, every other one 0.
USER_MODEL = """\
import numpy as np


def last_column(window):
    score = np.zeros(window.shape[1])
    score[-1] = 1.0
    return score, score


def short(window):
    return np.zeros(window.shape[1])


short.window = 5
not_a_function = 3
"""


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "bulwark_fixture_models.py").write_text(USER_MODEL)
    path = tmp_path / "s.yaml"
    path.write_text(BASE + body, encoding="utf-8")
    return path


def problems(tmp_path: Path, body: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, body))
    return [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems]


def test_load_when_no_scoring_section_then_default_blend(tmp_path) -> None:
    scenario = load_scenario(write(tmp_path, ""))
    assert scenario.scoring_model is None and scoring_model_of(scenario) is None


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("scoring: {model: momentum}\n", "momentum"),
        ("scoring: {model: 'bulwark_fixture_models:last_column'}\n", None),
        ("scoring: {model: default}\n", None),
    ],
)
def test_load_when_scoring_model_named_then_it_is_kept(tmp_path, body, name) -> None:
    scenario = load_scenario(write(tmp_path, body))
    expected = name or (None if "default" in body else "bulwark_fixture_models:last_column")
    assert scenario.scoring_model == expected


def test_load_when_user_model_has_a_window_then_the_model_reads_that_many_rows(tmp_path) -> None:
    scenario = load_scenario(write(tmp_path, "scoring: {model: 'bulwark_fixture_models:short'}\n"))
    model = scoring_model_of(scenario)
    assert model is not None and model.window == 5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "scoring: {model: momentun}\n",
            "6: scoring.model: expected 'default' or 'momentum' or module:function, got 'momentun'",
        ),
        (
            "scoring: {model: 'bulwark_fixture_models:missing'}\n",
            "6: scoring.model: cannot import 'bulwark_fixture_models:missing':"
            " module 'bulwark_fixture_models' has no 'missing'",
        ),
        (
            "scoring: {model: 'bulwark_no_such_module:f'}\n",
            "6: scoring.model: cannot import 'bulwark_no_such_module:f':"
            " ModuleNotFoundError: No module named 'bulwark_no_such_module'",
        ),
        (
            "scoring: {model: 'bulwark_fixture_models:not_a_function'}\n",
            "6: scoring.model: 'bulwark_fixture_models:not_a_function' is not a function (got int)",
        ),
        (
            "scoring: {model: momentum, window: 3}\n",
            "6: scoring.window: unknown key 'window' (allowed: model)",
        ),
        ("scoring: {}\n", "6: scoring.model: required key is missing"),
        ("scoring: momentum\n", "6: scoring: expected a mapping, got 'momentum'"),
    ],
)
def test_load_when_scoring_model_is_bad_then_rejected_at_its_line(tmp_path, body, message) -> None:
    assert problems(tmp_path, body) == [message]


def test_load_when_model_window_is_bad_then_rejected(tmp_path) -> None:
    (tmp_path / "bulwark_bad_window.py").write_text("def f(w):\n    return w[-1]\nf.window = 0\n")
    body = "scoring: {model: 'bulwark_bad_window:f'}\n"
    assert problems(tmp_path, body) == [
        "6: scoring.model: 'bulwark_bad_window:f'.window must be an int >= 1, got 0"
    ]


def test_load_when_user_model_is_imported_then_sys_path_is_restored(tmp_path) -> None:
    before = list(sys.path)
    load_scenario(write(tmp_path, "scoring: {model: 'bulwark_fixture_models:last_column'}\n"))
    assert sys.path == before


def _main(*argv: object) -> tuple[int, str]:
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=200))
    return code, out.getvalue()


def test_run_when_bad_model_then_exit_2_one_line_and_nothing_written(tmp_path) -> None:
    path = write(tmp_path, "scoring: {model: 'bulwark_fixture_models:missing'}\n")
    db = tmp_path / "e.db"
    code, out = _main(path, "--db", db)
    assert code == 2 and not db.exists()
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines == [
        f"{path}:6: scoring.model: cannot import 'bulwark_fixture_models:missing':"
        " module 'bulwark_fixture_models' has no 'missing'"
    ]


def test_run_when_user_model_named_then_the_portfolio_manager_scores_with_it(tmp_path) -> None:
    config = "config: {max_new_positions: 3, trending_confidence_new: 0.5}\n"
    path = write(tmp_path, config + "scoring: {model: 'bulwark_fixture_models:last_column'}\n")
    db = tmp_path / "e.db"
    code, out = _main(path, "--db", db, "--quiet")
    assert code == 0, out
    con = sqlite3.connect(db)
    scores = con.execute(
        "SELECT asset, json_extract(payload, '$.components.model_score') FROM messages"
        " WHERE kind = 'proposal' AND json_extract(payload, '$.action') = 'open'"
    ).fetchall()
    assert scores and set(scores) == {("CCC", 1.0)}
    held = con.execute("SELECT DISTINCT asset FROM snapshots WHERE quantity > 0").fetchall()
    assert held == [("CCC",)]
