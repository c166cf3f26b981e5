"""Every message a rule decided names that rule, over the baseline and the whole library.

Checked by SQL over each run's event DB against the rule catalogue (`python run.py rules`):
every verdict but an abstain, every decision, every notice and every proposal
(`components.rule`, and each value of `components.rules`) carries a catalogue id.

Exempt, and why: an **abstain** verdict decides nothing (the protection has nothing to say
about that proposal), so its `rule` is null, and that is checked too. A portfolio-manager
proposal of an asset the plan did not consider (`components.selection` null) has no
selection rule; none occurs in the library today. Custom protections bring rules of their
own, outside the built-in catalogue: a row a custom protection sent may name a rule it owns
(`<protection>.<name>`; the library's `grace-amends-reduce` has one, `scripted_orders`).

Every other rule id a row names (a fill's, a regime update's or a decision's `rules`, a
score update's, a re-plan request's or a core request's `rule`) must be a catalogue id too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import run
from domain.catalogue import RULES
from sim import compose
from sim.load.document import unmet_requirements

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [
    ROOT / "scenarios" / "baseline.yaml",
    *sorted((ROOT / "scenarios/library").glob("*.yaml")),
]

MISSING_RULE_SQL = """
SELECT id, kind, sender, COALESCE(rule, '<null>') AS rule FROM (
    SELECT id, kind, sender, json_extract(payload, '$.rule') AS rule FROM messages
    WHERE kind IN ('decision', 'notice')
       OR (kind = 'verdict' AND json_extract(payload, '$.stance') != 'abstain')
    UNION ALL
    SELECT id, kind, sender, json_extract(payload, '$.components.rule') FROM messages
    WHERE kind = 'proposal'
      AND NOT (sender = 'portfolio_manager'
               AND json_extract(payload, '$.components.selection') IS NULL)
    UNION ALL
    SELECT m.id, m.kind, m.sender, r.value FROM messages m,
           json_each(json_extract(m.payload, '$.components.rules')) r
    WHERE m.kind = 'proposal'
)
WHERE (rule IS NULL OR rule NOT IN (SELECT id FROM temp.catalogue))
  AND NOT (rule LIKE sender || '.%' AND sender NOT IN (SELECT owner FROM temp.owners))
ORDER BY id
"""

UNKNOWN_TAG_SQL = """
SELECT id, kind, rule FROM (
    SELECT id, kind, sender, json_extract(payload, '$.rule') AS rule FROM messages
    UNION ALL
    SELECT m.id, m.kind, m.sender, r.value FROM messages m, json_each(m.payload, '$.rules') r
    WHERE json_type(m.payload, '$.rules') = 'array'
)
WHERE rule IS NOT NULL AND rule NOT IN (SELECT id FROM temp.catalogue)
  AND NOT (rule LIKE sender || '.%' AND sender NOT IN (SELECT owner FROM temp.owners))
ORDER BY id
"""

ABSTAIN_WITH_RULE_SQL = """
SELECT id FROM messages WHERE kind = 'verdict'
  AND json_extract(payload, '$.stance') = 'abstain' AND json_extract(payload, '$.rule') IS NOT NULL
"""


def _params() -> list[object]:
    return [
        pytest.param(
            p, id=p.stem, marks=[pytest.mark.realdata] if p.stem.startswith("real-") else []
        )
        for p in SCENARIOS
    ]


def _run(path: Path, tmp_path: Path) -> sqlite3.Connection:
    unmet = unmet_requirements(str(path))
    if unmet:
        pytest.skip(f"needs {', '.join(unmet)} (absent)")
    scenario, config = run.prepare(str(path))
    db = tmp_path / "events.db"
    _, code, _ = compose.record_run(scenario, config, db_path=db)
    assert code == run.EXIT_OK
    con = sqlite3.connect(db)
    con.execute("CREATE TEMP TABLE catalogue (id TEXT PRIMARY KEY)")
    con.executemany("INSERT INTO temp.catalogue VALUES (?)", [(i,) for i in RULES])
    con.execute("CREATE TEMP TABLE owners (owner TEXT PRIMARY KEY)")
    owners = {r.owner for r in RULES.values()} | {"portfolio_manager", "orchestrator", "broker"}
    con.executemany("INSERT INTO temp.owners VALUES (?)", [(o,) for o in sorted(owners)])
    return con


@pytest.mark.parametrize("path", _params())
def test_run_when_scenario_recorded_then_every_rule_decided_row_names_a_catalogue_rule(
    path: Path, tmp_path: Path
):
    con = _run(path, tmp_path)

    missing = con.execute(MISSING_RULE_SQL).fetchall()
    decided = con.execute(
        "SELECT COUNT(*) FROM messages WHERE kind IN ('verdict', 'decision', 'notice', 'proposal')"
    ).fetchone()[0]

    assert decided > 0
    assert missing == [], f"{path.name}: rows without a catalogue rule: {missing[:10]}"
    assert con.execute(ABSTAIN_WITH_RULE_SQL).fetchall() == []
    unknown = con.execute(UNKNOWN_TAG_SQL).fetchall()
    assert unknown == [], f"{path.name}: rule ids outside the catalogue: {unknown[:10]}"
