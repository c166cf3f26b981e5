"""`inspect DB datasette`: the metadata file, its canned queries run on a real run (by
sqlite3, and through Datasette's own Python API when it is installed), the `checks` table
they read, and the column descriptions kept equal to the schema."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
import yaml
from rich.console import Console

import run
from sim.read.datasette import CANNED_QUERIES, database_name, metadata
from sim.read.db_docs import COLUMN_DOCS, TABLE_DOCS
from sim.run.recorder import SCHEMA

REPO = Path(__file__).resolve().parents[2]
WHIPSAW = REPO / "tests" / "data" / "inspect" / "whipsaw.yaml"
RUN = "inspect-whipsaw-s5-001"
# an expectation the run cannot meet: its check fails, with evidence
FAILING = "  - final: {equity_min: 2000000}\n"
PARAMS = {
    "why_blocked": {"asset": "AAA", "date": "2024-01-11"},
    "rule_decisions": {"rule": "whipsaw.window"},
    "protection_timeline": {"asset": "AAA"},
    "failed_checks": {},
}


def _main(*argv: str | Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=200))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, Path]:
    """The whipsaw fixture with a failing expectation, run, and its metadata written."""
    folder = tmp_path_factory.mktemp("datasette")
    scenario = folder / "whipsaw.yaml"
    scenario.write_text(WHIPSAW.read_text() + FAILING)
    db = folder / "whipsaw.db"
    code, out = _main(scenario, "--db", db, "--quiet")
    assert code == 1, out
    code, out = _main("inspect", db, "datasette")
    assert code == 0, out
    meta = folder / "whipsaw.datasette.json"
    assert f"wrote {meta}" in out and f"datasette {db} --metadata {meta}" in out
    return db, meta


def _rows(db: Path, name: str) -> list[dict]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(CANNED_QUERIES[name].sql, PARAMS[name])]


def _check_answers(rows: dict[str, list[dict]]) -> None:
    """What each canned query must answer on the whipsaw run."""
    blocked = rows["why_blocked"]
    assert {r["protection"] for r in blocked} >= {"whipsaw", "holding_period", "core_asset"}
    deciding = [r for r in blocked if r["decided"]]
    assert [(r["protection"], r["stance"], r["rule"]) for r in deciding] == [
        ("whipsaw", "block", "whipsaw.window")
    ]
    assert all(r["action"] == "open" and r["date"] == "2024-01-11" for r in blocked)
    ruled = rows["rule_decisions"]
    assert {r["kind"] for r in ruled} >= {"verdict", "decision", "notice"}
    assert all(r["run_id"] == RUN for r in ruled)
    timeline = rows["protection_timeline"]
    assert any(r["grace_day"] is not None for r in timeline)
    assert any("whipsaw_blocked" in (r["events"] or "") for r in timeline)
    assert any(r["weight"] is None for r in timeline)  # a day AAA was not held
    failed = rows["failed_checks"]
    assert [(r["run_id"], r["kind"]) for r in failed] == [(RUN, "expectation")]
    assert "final" in failed[0]["label"] and "equity" in failed[0]["evidence"]


def test_canned_queries_when_run_by_sqlite_then_each_answers_its_question(recorded):
    db, _ = recorded
    _check_answers({name: _rows(db, name) for name in CANNED_QUERIES})


def test_datasette_when_metadata_and_db_opened_then_every_canned_query_runs(recorded):
    datasette_app = pytest.importorskip(
        "datasette.app", reason="datasette is not installed (a test extra: pip install -e .[test])"
    )
    db, meta_path = recorded
    meta = json.loads(meta_path.read_text())
    name = database_name(db)

    async def serve() -> tuple[dict[str, list[dict]], str]:
        ds = datasette_app.Datasette([str(db)], metadata=meta)
        answers = {}
        for query, params in PARAMS.items():
            response = await ds.client.get(
                f"/{name}/{query}.json", params={**params, "_shape": "objects"}
            )
            assert response.status_code == 200, response.text
            answers[query] = response.json()["rows"]
        page = await ds.client.get(f"/{name}/messages")
        return answers, page.text

    answers, page = asyncio.run(serve())
    _check_answers(answers)
    assert answers == {q: _rows(db, q) for q in CANNED_QUERIES}
    assert COLUMN_DOCS["messages"]["in_reply_to"].split(" (")[0] in page


def test_checks_when_run_checked_then_stored_in_order_with_evidence(recorded):
    db, _ = recorded
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT seq, kind, passed, evidence FROM checks ORDER BY seq"
        ).fetchall()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    kinds = [r[1] for r in rows]
    assert kinds == sorted(kinds, key=lambda k: k != "invariant")  # invariants first
    assert kinds.count("expectation") == 5
    failed = [r for r in rows if not r[2]]
    assert len(failed) == 1 and json.loads(failed[0][3])


def test_datasette_when_yaml_out_then_same_metadata_as_yaml(recorded, tmp_path):
    db, meta_path = recorded
    out = tmp_path / "meta.yaml"
    code, text = _main("inspect", db, "datasette", "--out", out)
    assert code == 0, text
    assert yaml.safe_load(out.read_text()) == json.loads(meta_path.read_text())


def test_datasette_when_out_suffix_unknown_then_exit_2_and_nothing_written(recorded, tmp_path):
    db, _ = recorded
    out = tmp_path / "meta.txt"
    code, text = _main("inspect", db, "datasette", "--out", out)
    assert code == 2 and "use a .json, .yaml, .yml file" in text
    assert not out.exists()


def test_datasette_when_db_has_no_checks_table_then_query_left_out_and_runs_named(
    recorded, tmp_path
):
    db, _ = recorded
    old = tmp_path / "old.db"
    with sqlite3.connect(db) as src, sqlite3.connect(old) as dst:
        src.backup(dst)
        dst.execute("DROP TABLE checks")
    code, text = _main("inspect", old, "datasette", "--json")
    assert code == 0, text
    data = json.loads(text)
    assert data["left_out"] == ["failed_checks"] and data["unchecked_runs"] == [RUN]
    meta = json.loads(Path(data["metadata"]).read_text())["databases"]["old"]
    assert "checks" not in meta["tables"] and "failed_checks" not in meta["queries"]


def test_column_docs_when_compared_with_schema_then_every_column_described_once():
    assert set(TABLE_DOCS) == set(COLUMN_DOCS) == set(SCHEMA)
    for table, spec in SCHEMA.items():
        assert list(COLUMN_DOCS[table]) == list(spec["columns"]), table
        assert all(text.strip() for text in COLUMN_DOCS[table].values()), table
    tables = metadata("x")["databases"]["x"]["tables"]
    assert {t: m["columns"] for t, m in tables.items()} == COLUMN_DOCS


def test_event_db_doc_when_read_then_each_table_paragraph_names_its_columns():
    text = (REPO / "docs" / "event-db.md").read_text()
    for table, spec in SCHEMA.items():
        start = text.index(f"**{table}**")
        paragraph = text[start : text.find("\n\n", start)]
        words = set(re.findall(r"[a-z0-9_]+", paragraph))
        missing = [c for c in spec["columns"] if c not in words]
        assert not missing, (table, missing)


def test_canned_queries_when_listed_then_each_reads_only_known_tables():
    for name, query in CANNED_QUERIES.items():
        assert set(query.tables) <= set(SCHEMA), name
        read = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)", query.sql))
        assert read - {"days", "json_each"} <= set(query.tables), (name, read)
