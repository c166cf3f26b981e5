"""The protection registry: a new protection is one module plus one row, and its switch
is a parameter a `set` intervention turns off and on mid-run."""

from __future__ import annotations

import json

from domain.catalogue import by_id
from domain.messages import APPROVE
from domain.protections.base import Protection
from domain.protections.registry import BUILTIN, ProtectionRow
from domain.scenario import Intervention
from tests.integration.builders import day, iso, make_scenario, messages, run_model, script
from tests.integration.no_opens import NoOpensProtection

ROW = ProtectionRow(
    NoOpensProtection,
    priority=6,
    switch="force_bucket_distribution",
    flags=("watched",),
    label=lambda flags: "WATCHED" if flags.get("watched") else None,
)
REGISTRY = BUILTIN.with_rows([ROW])
SWITCH = "force_bucket_distribution"


def _scenario():
    """A, B and C are wanted from the first day, G only from day 8 (the second Tuesday).
    The switch goes off on day 2 and back on on day 7."""
    return make_scenario(
        assets=("A", "B", "C", "G"),
        days=10,
        scores=(
            *script("A", (0, 0.9)),
            *script("B", (0, 0.9)),
            *script("C", (0, 0.9)),
            *script("G", (0, 0.3), (8, 0.9)),
        ),
        trending=tuple(s for a in "ABCG" for s in script(a, (0, 0.9))),
        interventions=(
            Intervention(day(2), "set", param=SWITCH, value=False),
            Intervention(day(7), "set", param=SWITCH, value=True),
        ),
    )


def _run():
    return run_model(_scenario(), registry=REGISTRY, enable_bucket_diversification=False)


def test_registry_when_row_added_then_its_rules_join_the_catalogue_and_priority_table():
    assert REGISTRY.names[-1] == "no_opens"
    assert REGISTRY.priorities["no_opens"] == 6
    assert by_id(REGISTRY)["no_opens.block"].params == (SWITCH,)
    assert "no_opens.block" not in by_id(BUILTIN)


def test_run_when_new_row_then_it_reviews_every_proposal_while_switched_on():
    model, db = _run()

    proposals = {p["proposal_id"]: p["date"] for p in messages(db, "proposal")}
    verdicts = [v for v in messages(db, "verdict") if v["system"] == "no_opens"]
    on_days = {iso(n) for n in (0, 1, 7, 8, 9, 10, 11)}

    assert model.has_agent("no_opens")
    assert verdicts and {v["rule"] for v in verdicts} == {"no_opens.block"}
    assert {p for p, d in proposals.items() if d in on_days} == {v["proposal_id"] for v in verdicts}
    assert {proposals[v["proposal_id"]] for v in verdicts} & {iso(2), iso(3), iso(4)} == set()


def test_run_when_switched_off_then_on_by_set_then_opens_blocked_allowed_blocked():
    _, db = _run()

    opens = [
        (d["date"], d["asset"], d["outcome"], d["decided_by"], d["rule"])
        for d in messages(db, "decision")
        if d["action"] == "open" and d["asset"] in ("A", "G")
    ]

    a_opens = [o for o in opens if o[1] == "A"]
    g_opens = [o for o in opens if o[1] == "G"]

    assert a_opens[0] == (iso(0), "A", "blocked", "no_opens", "no_opens.block")
    assert a_opens[-1] == (iso(2), "A", "approved", "orchestrator", "resolution.priority")
    assert g_opens[0][0] == iso(8)
    assert {o[2:] for o in g_opens} == {("blocked", "no_opens", "no_opens.block")}


def test_snapshot_when_switched_off_then_no_flags_of_it_and_back_when_on():
    _, db = _run()

    flags = {
        r["date"]: json.loads(r["flags"])
        for r in db.query("SELECT date, flags FROM snapshots WHERE asset = 'A' ORDER BY step")
    }

    assert "watched" not in flags[iso(3)]
    assert flags[iso(7)]["watched"] is True
    assert REGISTRY.flag_labels({"watched": True, "days_held": 2}) == ["HOLD 2 days", "WATCHED"]


class _OldStatus(Protection):
    """A protection written for the two-argument status hook of before the book view."""

    name = "old_status"

    def review(self, proposal, ctx):
        return self.verdict(proposal, APPROVE, "fine")

    def status(self, asset, day):  # the old signature, on purpose
        return {"old": True}


def test_run_when_protection_has_two_argument_status_then_its_flags_are_recorded():
    registry = BUILTIN.with_rows([ProtectionRow(_OldStatus, priority=7)])
    _model, db = run_model(_scenario(), registry=registry, enable_bucket_diversification=False)

    flags = [json.loads(r["flags"]) for r in db.query("SELECT flags FROM snapshots")]
    assert flags and all(f.get("old") is True for f in flags)
