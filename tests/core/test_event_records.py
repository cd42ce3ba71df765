"""Event records: sinks that take ``(type, time, *fields)`` tuples instead of event objects."""

from __future__ import annotations

from parley import events
from tests.core.test_two_agent_chat import make_pair


def test_publishers_are_nothing_the_record_sink_itself_or_a_fan_out():
    stream = events.EventStream()
    assert stream.publishers[events.MessageSent] is None
    records: list = []
    keep = records.append  # one bound method: sinks are removed by identity
    stream.add_sink(keep, [events.MessageSent], records=True)
    assert stream.publishers[events.MessageSent] is keep  # called directly: no Python frame
    assert stream.publishers[events.ModelCalled] is None and events.MessageSent in stream.wanted

    objects: list = []
    show = objects.append
    stream.add_sink(show, [events.MessageSent])
    publish = stream.publishers[events.MessageSent]
    record = (events.MessageSent, 12.5, "a", "b", {"content": "hi", "role": "user"}, False, 3, "f")
    publish(record)
    assert records == [record]
    [event] = objects
    assert isinstance(event, events.MessageSent) and event.time == 12.5 and event.produced_by == "f"
    assert events.record_of(event) == record

    # An event emitted as an object reaches the record sink as its record.
    stream.emit(events.MessageSent("c", "d", {"content": "yo"}, True, None, None))
    assert records[-1][0] is events.MessageSent and records[-1][2:] == ("c", "d", {"content": "yo"}, True, None, None)
    stream.remove_sink(show)
    stream.remove_sink(keep)
    assert stream.publishers[events.MessageSent] is None and not stream.wanted


def test_a_silent_sink_gets_no_silent_records():
    class Loud:
        shows_silent = False

        def __init__(self) -> None:
            self.seen: list = []

        def __call__(self, event: events.Event) -> None:
            self.seen.append(event)

    stream = events.EventStream()
    loud = stream.add_sink(Loud(), [events.MessageSent])
    assert stream.publishers_silent[events.MessageSent] is None
    assert stream.publishers[events.MessageSent] is not None
    stream.emit(events.MessageSent("a", "b", {"content": "x"}, True), silent=True)
    assert loud.seen == []


def test_a_chat_publishes_the_same_records_as_its_events():
    user, assistant = make_pair(["one", "two TERMINATE"])
    records: list = []
    keep = records.append
    events.default_stream.add_sink(keep, [events.MessageSent, events.ModelCalled], records=True)
    try:
        with events.capture(kinds=(events.MessageSent, events.ModelCalled)) as captured:
            user.initiate_chat(assistant, message="q", silent=True)
    finally:
        events.default_stream.remove_sink(keep)
    assert [type(e) for e in captured.events] == [r[0] for r in records]
    assert [events.record_of(e) for e in captured.events] == records  # same fields, same times
    kinds = [r[0].__name__ for r in records]
    assert kinds == ["MessageSent", "ModelCalled", "MessageSent", "MessageSent", "ModelCalled", "MessageSent"]
    message = events.event_of(records[2])
    assert (message.sender, message.recipient, message.produced_by) == ("assistant", "user_proxy", "_reply_with_model")
    call = events.event_of(records[1])
    assert call.agent == "assistant" and call.purpose == "reply" and call.chat_id == message.chat_id is not None


def test_record_layout_and_readers_come_from_the_event_classes():
    for kind in (events.MessageSent, events.ModelCalled):
        fields = {name: f"<{name}>" for name in kind.__match_args__}
        event = kind(**fields)
        event.time = 7.0
        record = events.record_of(event)
        layout = events.record_layout(kind)
        assert list(layout) == ["type", "time", *kind.__match_args__] and len(layout) == len(record)
        expected = {"type": kind, "time": 7.0, **{name: f"<{name}>" for name in kind.__match_args__}}
        assert all(record[i] == expected[name] for name, i in layout.items())
        assert events.event_of(record) == event
    read = events.record_reader(events.MessageSent, "produced_by", "sender", "time")
    record = (events.MessageSent, 1.0, "a", "b", {}, False, None, "f")
    assert read(record) == ("f", "a", 1.0)


def test_the_engines_records_match_the_event_classes():
    # The engine builds MessageSent and ModelCalled records positionally: each field must land
    # where the class declares it.
    user, assistant = make_pair(["hello", "TERMINATE"])
    stream = events.EventStream()
    records: list = []
    keep = records.append
    stream.add_sink(keep, [events.MessageSent, events.ModelCalled], records=True)
    with events.use_stream(stream):
        user.initiate_chat(assistant, message="hi", max_turns=1, silent=True)
    messages = [events.event_of(r) for r in records if r[0] is events.MessageSent]
    calls: list = [events.event_of(r) for r in records if r[0] is events.ModelCalled]
    assert [(m.sender, m.recipient, m.message["content"], m.silent, m.produced_by) for m in messages] == [
        ("user_proxy", "assistant", "hi", True, None), ("assistant", "user_proxy", "hello", True, "_reply_with_model")]
    assert len({m.chat_id for m in messages}) == 1 and messages[0].chat_id is not None
    [call] = calls
    assert (call.agent, call.purpose, call.chat_id, call.cached) == ("assistant", "reply", messages[0].chat_id, False)
    assert isinstance(call.model, str) and call.prompt_tokens >= 0 and call.latency_s >= 0
