"""Golden scenarios: every case's exact outputs match its pinned record in tests/golden/.

A failure prints the fingerprint fields that changed and the first message that differs.
After an intended change of behaviour, `pytest tests/golden --update-golden` rewrites the
records and prints the same report for each case it changes.
"""

from __future__ import annotations

import pytest

from domain.construction import inputs as construction_inputs
from tests.golden.golden import CASES, REAL_DATA, Case, divergence_report, load, run_case, save


def _skip_without_data(case: Case) -> None:
    if case.real_data and not REAL_DATA.exists():
        pytest.skip(f"needs {REAL_DATA} (the real price data beside the repository)")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_when_case_run_then_matches_pinned_record(case, tmp_path, request):
    _skip_without_data(case)
    fresh = run_case(case, tmp_path / "run.db")
    pinned = load(case)
    if request.config.getoption("--update-golden"):
        if pinned is not None and pinned.fingerprint != fresh.fingerprint:
            print(divergence_report(case, pinned, fresh))
        save(case, fresh)
        return
    assert pinned is not None, f"no golden record for {case.name}: run with --update-golden"
    if pinned.fingerprint != fresh.fingerprint or pinned.rows != fresh.rows:
        pytest.fail(divergence_report(case, pinned, fresh), pytrace=False)


def test_golden_when_cases_listed_then_every_protection_and_market_kind_pinned():
    names = {c.name for c in CASES}
    assert len(CASES) >= 10
    needed = {"baseline", "core-asset", "grace-period", "holding-period", "whipsaw"}
    assert needed <= names
    assert sum(c.real_data for c in CASES) == 3 and "large-synthetic" in names


def test_golden_when_a_rule_number_changes_then_first_divergence_reported(tmp_path, monkeypatch):
    # The grace case pinned, then the rule's number changed (grace expires a day later):
    # the report names the fingerprint fields and the first message that changed.
    case = next(c for c in CASES if c.name == "grace-period")
    pinned = load(case)
    assert pinned is not None
    changed = Case(case.name, case.scenario, sets=("grace_period_days=6",))
    report = divergence_report(case, pinned, run_case(changed, tmp_path / "changed.db"))
    assert report.startswith("golden grace-period (scenarios/library/grace-decay-to-expiry.yaml)")
    assert "first changed message: #" in report
    assert "golden: step" in report and "now   : step" in report


def test_golden_when_a_construction_constant_changes_then_baseline_diverges(tmp_path, monkeypatch):
    # Not a parameter: the holdings' score decay period (30 days) in the code itself.
    monkeypatch.setattr(construction_inputs, "DECAY_PERIOD_DAYS", 29)
    case = CASES[0]
    pinned = load(case)
    assert pinned is not None
    fresh = run_case(case, tmp_path / "decay.db")
    assert fresh.fingerprint["message_sha256"] != pinned.fingerprint["message_sha256"]
    assert "first changed message: #" in divergence_report(case, pinned, fresh)


def test_golden_when_record_saved_twice_then_files_byte_identical(tmp_path, monkeypatch):
    import tests.golden.golden as golden

    case = next(c for c in CASES if c.name == "holding-period")
    monkeypatch.setattr(golden, "HERE", tmp_path)
    record = run_case(case, tmp_path / "a.db")
    save(case, record)
    first = [p.read_bytes() for p in sorted(tmp_path.glob(f"{case.name}.*"))]
    save(case, run_case(case, tmp_path / "b.db"))
    assert [p.read_bytes() for p in sorted(tmp_path.glob(f"{case.name}.*"))] == first
    assert load(case) == record
