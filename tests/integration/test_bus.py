import datetime as dt

import pytest

from domain.messages import NoticeIssued, RequestReview
from sim.run.bus import MessageBus, UnknownRecipient

DAY = dt.date(2024, 1, 2)


def _bus(*names):
    bus = MessageBus()
    for name in names:
        bus.subscribe(name)
    bus.begin_step(0, DAY)
    return bus


def test_publish_when_broadcast_then_every_other_inbox_gets_it_in_order():
    bus = _bus("a", "b", "c")
    first = bus.publish("a", NoticeIssued(event="one"))
    second = bus.publish("b", NoticeIssued(event="two"))
    assert [e.id for e in bus.take("c")] == [first.id, second.id]
    assert [e.id for e in bus.take("a")] == [second.id]
    assert [e.id for e in bus.take("b")] == [first.id]


def test_publish_when_addressed_then_only_recipient_gets_it():
    bus = _bus("a", "b", "c")
    env = bus.publish("a", RequestReview(proposal_id="p1", asset="X"), to="b")
    assert bus.take("b") == [env] and bus.take("c") == []
    assert env.recipient == "b" and env.sender == "a"


def test_publish_when_stamped_then_envelope_holds_step_date_round_route_and_reply():
    bus = _bus("a", "b")
    bus.begin_step(3, DAY + dt.timedelta(days=1))
    bus.round = 2
    message = RequestReview(proposal_id="p1", asset="X")
    first = bus.publish("b", NoticeIssued(event="x"))
    env = bus.publish("a", message, to="b", in_reply_to=first.id)
    assert (env.id, env.step, env.date, env.round) == (first.id + 1, 3, dt.date(2024, 1, 3), 2)
    assert (env.sender, env.recipient, env.in_reply_to) == ("a", "b", first.id)
    assert env.message is message and env.kind == "review_request"
    assert (first.recipient, first.in_reply_to) == ("*", None)


def test_publish_when_unknown_recipient_then_error_names_it():
    bus = _bus("a")
    with pytest.raises(UnknownRecipient, match="nobody"):
        bus.publish("a", NoticeIssued(event="x"), to="nobody")


def test_take_when_kind_given_then_other_kinds_stay():
    bus = _bus("a", "b")
    bus.publish("a", NoticeIssued(event="x"))
    bus.publish("a", RequestReview(proposal_id="p", asset="X"))
    assert [e.kind for e in bus.take("b", "review_request")] == ["review_request"]
    assert [e.kind for e in bus.take("b")] == ["notice"]


def test_drain_when_step_written_then_log_empties_and_ids_keep_growing():
    bus = _bus("a", "b")
    bus.publish("a", NoticeIssued(event="x"))
    assert [e.id for e in bus.drain()] == [1]
    bus.begin_step(1, DAY + dt.timedelta(days=1))
    bus.round = 2
    env = bus.publish("a", NoticeIssued(event="y"))
    assert (env.id, env.step, env.round) == (2, 1, 2)
    assert bus.drain() == [env] and bus.drain() == []


def test_observe_when_published_then_observer_sees_every_envelope():
    bus = _bus("a", "b")
    seen = []
    bus.observe(seen.append)
    bus.publish("a", NoticeIssued(event="x"))
    bus.publish("b", RequestReview(proposal_id="p", asset="X"), to="a")
    assert [e.kind for e in seen] == ["notice", "review_request"]


def test_observe_when_kinds_given_then_only_those_kinds_reach_it_in_registration_order():
    bus = _bus("a", "b")
    seen = []
    bus.observe(lambda e: seen.append(("all", e.kind)))
    bus.publish("a", NoticeIssued(event="x"))
    bus.observe(lambda e: seen.append(("reviews", e.kind)), frozenset({"review_request"}))
    bus.observe(lambda e: seen.append(("late", e.kind)))
    bus.publish("b", RequestReview(proposal_id="p", asset="X"), to="a")
    bus.publish("a", NoticeIssued(event="y"))
    assert seen == [
        ("all", "notice"),
        ("all", "review_request"),
        ("reviews", "review_request"),
        ("late", "review_request"),
        ("all", "notice"),
        ("late", "notice"),
    ]
