import datetime as dt
import json

import pytest

from domain.execution import Book, Position
from domain.messages import NoticeIssued, RequestReview
from domain.payloads import payload_of
from sim import compose
from sim.load.document import load_scenario
from sim.run.bus import MessageBus
from sim.run.recorder import (
    INDEXES,
    DayRecord,
    Recorder,
    day_rows,
    dumps,
    message_records,
    message_row,
    message_values,
    open_db,
)
from sim.run.step_commit import StepBatch, encoded

SMALL = "tests/data/run/small.yaml"


def _recorder():
    db = open_db(":memory:")
    rec = Recorder(db, "r1")
    rec.start_run(
        scenario="s",
        scenario_path="s.yaml",
        scenario_sha256="00",
        seed=1,
        initial_cash=1.0,
        config={"a": 1},
    )
    return db, rec


def _envelopes(n):
    bus = MessageBus()
    bus.subscribe("a")
    bus.begin_step(0, dt.date(2024, 1, 2))
    for k in range(n):
        bus.publish("a", NoticeIssued(event=f"e{k}"))
    return bus.drain()


EQUITY = {
    "step": 0,
    "date": "2024-01-02",
    "equity": 1.0,
    "cash": 1.0,
    "invested": 0.0,
    "drawdown": 0.0,
    "regime": "Goldilocks",
    "n_positions": 0,
    "turnover": 0.0,
    "costs": 0.0,
}


def test_message_row_when_envelope_then_columns_of_event_db():
    bus = MessageBus()
    bus.subscribe("a")
    bus.begin_step(0, dt.date(2024, 1, 2))
    env = bus.publish("a", RequestReview(proposal_id="p9", asset="AAPL"), in_reply_to=7)
    row = message_row(env, "run1")
    assert row["kind"] == "review_request" and row["asset"] == "AAPL"
    assert row["proposal_id"] == "p9" and row["in_reply_to"] == 7 and row["run_id"] == "run1"
    assert row["date"] == "2024-01-02" and row["payload"] == "{}"


def _day(**overrides):
    fields = {
        "step": 3,
        "date": dt.date(2024, 1, 5),
        "book": Book(
            200.0,
            {"B": Position(4.0, dt.date(2024, 1, 2)), "A": Position(2.0, dt.date(2024, 1, 3))},
        ),
        "prices": {"A": 100.0, "B": 50.0, "C": 7.0},
        "bucket_of": {"A": "Growth"},
        "scores": {"A": 0.7, "B": 0.4},
        "flags": {"A": {"days_held": 2}},
        "drawdown": 0.1,
        "regime": "Goldilocks",
        "turnover": 60.0,
        "costs": 0.5,
    }
    return DayRecord(**{**fields, **overrides})


def test_day_rows_when_positions_then_one_row_each_in_asset_order_with_weights():
    rows, _ = day_rows(_day())

    assert [r["asset"] for r in rows] == ["A", "B"]
    a, b = rows
    assert (a["quantity"], a["price"], a["value"], a["weight"]) == (
        2.0,
        100.0,
        200.0,
        0.3333333333333333,
    )
    assert (a["bucket"], b["bucket"]) == ("Growth", "Unknown")
    assert (a["score"], b["score"]) == (0.7, 0.4)
    assert (a["flags"], b["flags"]) == ({"days_held": 2}, {})
    assert (a["step"], a["date"]) == (3, "2024-01-05")


def test_day_rows_when_no_scores_yet_then_score_none():
    rows, _ = day_rows(_day(scores=None))

    assert [r["score"] for r in rows] == [None, None]


def test_day_rows_when_day_recorded_then_equity_row_of_book_and_day():
    _, equity = day_rows(_day())

    assert equity == {
        "step": 3,
        "date": "2024-01-05",
        "equity": 600.0,
        "cash": 200.0,
        "invested": 400.0,
        "drawdown": 0.1,
        "regime": "Goldilocks",
        "n_positions": 2,
        "turnover": 0.1,
        "costs": 0.5,
    }


def test_day_rows_when_empty_book_without_equity_then_zero_weights_not_division_error():
    rows, equity = day_rows(_day(book=Book(0.0), flags={}))

    assert rows == [] and (equity["equity"], equity["turnover"]) == (0.0, 0.0)


def _indexed(db):
    """The secondary indexes (not the primary keys' own)."""
    return {
        (t, tuple(i.columns))
        for t in ("messages", "snapshots")
        for i in db.table(t).indexes
        if not i.name.startswith("sqlite_autoindex")
    }


def test_open_db_when_new_then_tables_exist_and_indexes_wait_for_the_finish():
    db = open_db(":memory:")
    assert {"runs", "messages", "snapshots", "equity", "checks"} <= set(db.table_names())
    assert _indexed(db) == set()


def test_finish_when_run_ends_then_every_secondary_index_built():
    db, rec = _recorder()
    rec.write_step(_envelopes(3), [], EQUITY)
    rec.finish("completed")
    assert _indexed(db) == set(INDEXES)


def test_open_db_when_file_holds_messages_without_indexes_then_indexes_built(tmp_path):
    path = tmp_path / "killed.db"
    db = open_db(path)
    rec = Recorder(db, "r1")
    rec.start_run(
        scenario="s", scenario_path=None, scenario_sha256=None, seed=1, initial_cash=1.0, config={}
    )
    rec.write_step(_envelopes(2), [], EQUITY)
    db.close()  # a writer killed before its finish: rows, no indexes
    assert _indexed(open_db(path)) == set(INDEXES)


def test_write_step_when_written_then_messages_equity_and_run_counters():
    db, rec = _recorder()
    rec.write_step(_envelopes(3), [], EQUITY)
    run_row = db.table("runs").get("r1")
    assert (run_row["status"], run_row["steps_completed"], run_row["messages"]) == ("running", 1, 3)
    assert [r["id"] for r in db.query("SELECT id FROM messages ORDER BY id")] == [1, 2, 3]


def test_write_step_when_it_fails_midway_then_nothing_of_that_step_is_written():
    db, rec = _recorder()
    rec.write_step(_envelopes(2), [], EQUITY)
    with pytest.raises(Exception):  # noqa: B017 - any failure inside the transaction
        rec.write_step(_envelopes(2), [], {**EQUITY, "no_such_column": 1, "step": 1})
    assert db.table("messages").count == 2  # the failed step's messages were rolled back
    assert db.table("equity").count == 1
    assert db.table("runs").get("r1")["steps_completed"] == 1


def test_finish_when_status_then_recorded_and_unknown_status_refused():
    db, rec = _recorder()
    rec.finish("completed")
    assert db.table("runs").get("r1")["status"] == "completed"
    assert db.table("runs").get("r1")["finished_at"]
    with pytest.raises(ValueError):
        rec.finish("exploded")


def test_dumps_when_same_mapping_in_other_order_then_same_bytes():
    assert dumps({"b": 1, "a": [1.5, float("nan")]}) == dumps({"a": [1.5, float("nan")], "b": 1})
    assert dumps({"a": float("nan")}) == '{"a":null}'


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1e-07, 0.1, 1e22, -0.0, 3], "a": {"z": None, "y": True, "x": 'é\n"q'}},
        [1, 2.5, ["x", {"k": 1e-300}]],
        (1, "a"),
        "plain",
        {},
    ],
)
def test_dumps_when_plain_json_then_bytes_of_json_dumps_sorted_compact(value):
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    assert dumps(value) == expected


def test_message_records_when_step_encoded_then_each_row_is_its_message_values():
    bus = MessageBus()
    bus.subscribe("a")
    bus.subscribe("b")
    bus.begin_step(4, dt.date(2024, 1, 2))
    bus.publish("a", NoticeIssued(event="e", asset="X", details={"d": dt.date(2024, 1, 1)}))
    bus.publish("b", RequestReview(proposal_id="p1", asset="Y"), to="a", in_reply_to=1)
    bus.begin_step(5, dt.date(2024, 1, 3))
    bus.publish("a", NoticeIssued(event="f", details={"x": float("nan")}))
    envelopes = bus.drain()
    records = message_records(envelopes, "r9")
    payloads = [payload_of(r[-2][3], r[-1]) for r in records]
    assert payloads == [env.message.payload() for env in envelopes]
    assert [type(records[i][-1][2]) for i in (0, 2)] == [dict, dict]  # details: plain dicts
    rows = encoded(StepBatch(records, [], (), ())).messages
    assert rows == [message_values(env, "r9") for env in envelopes]
    assert [r[3] for r in rows] == ["2024-01-02", "2024-01-02", "2024-01-03"]
    assert rows[0][-1] == '{"details":{"d":"2024-01-01"},"event":"e","rule":null,"rules":[]}'
    assert rows[2][-1] == '{"details":{"x":null},"event":"f","rule":null,"rules":[]}'


def _small_model(**overrides):
    scenario = load_scenario(SMALL)
    config = compose.resolve_run_config(scenario, overrides=overrides)
    db = open_db(":memory:")
    model = compose.build_model(scenario, config, recorder=Recorder(db, "m"))
    return model, db


def test_model_when_run_then_datacollector_frame_has_one_row_per_step():
    model, _ = _small_model()
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == ["date", "equity", "cash", "drawdown", "regime", "positions"]
    assert len(frame) == 40
    assert frame["regime"].iloc[0] == "Goldilocks" and frame["regime"].iloc[-1] == "Deflation"
    assert (frame["drawdown"] >= 0).all() and (frame["cash"] >= 0).all()


def test_model_when_run_then_value_identity_holds_every_step():
    model, db = _small_model()
    model.run()
    for row in db.query("SELECT step, equity, cash, invested FROM equity ORDER BY step"):
        assert row["cash"] + row["invested"] == pytest.approx(row["equity"], rel=1e-9)
        snap = next(
            db.query(
                "SELECT COALESCE(SUM(value),0) AS v FROM snapshots WHERE step=?", [row["step"]]
            )
        )["v"]
        assert snap == pytest.approx(row["invested"], rel=1e-9)


def test_model_when_run_then_stage_order_of_first_step_messages():
    model, db = _small_model()
    model.step()
    kinds = [r["kind"] for r in db.query("SELECT kind FROM messages ORDER BY id")]
    assert kinds[0] == "regime_update" and kinds[1] == "score_update"
    first = {
        k: kinds.index(k) for k in ("proposal", "review_request", "verdict", "decision", "fill")
    }
    assert first["proposal"] < first["review_request"] < first["verdict"] < first["decision"]
    assert first["decision"] < first["fill"]


def test_model_when_every_proposal_then_exactly_one_decision_linked_by_id():
    model, db = _small_model()
    model.run()
    rows = list(
        db.query(
            "SELECT p.proposal_id, COUNT(d.id) AS n FROM messages p LEFT JOIN messages d"
            " ON d.proposal_id = p.proposal_id AND d.kind = 'decision'"
            " WHERE p.kind = 'proposal' GROUP BY p.proposal_id"
        )
    )
    assert rows and all(r["n"] == 1 for r in rows)
    fills_without_decision = next(
        db.query(
            "SELECT COUNT(*) AS n FROM messages f WHERE f.kind='fill' AND NOT EXISTS ("
            " SELECT 1 FROM messages d WHERE d.kind='decision' AND d.proposal_id=f.proposal_id"
            " AND json_extract(d.payload,'$.outcome') IN ('approved','amended'))"
        )
    )["n"]
    assert fills_without_decision == 0


def test_model_when_protection_switched_off_then_no_agent_and_no_verdicts():
    scenario = load_scenario(SMALL)
    import attrs

    from domain.scenario import Protections

    off = attrs.evolve(scenario, protections=Protections(enabled={"whipsaw": False}))
    config = compose.resolve_run_config(off)
    db = open_db(":memory:")
    model = compose.build_model(off, config, recorder=Recorder(db, "m"))
    model.run()
    assert not model.has_agent("whipsaw") and model.has_agent("grace_period")
    systems = {
        r["s"]
        for r in db.query(
            "SELECT DISTINCT json_extract(payload,'$.system') AS s FROM messages"
            " WHERE kind='verdict'"
        )
    }
    assert "whipsaw" not in systems and "holding_period" in systems
