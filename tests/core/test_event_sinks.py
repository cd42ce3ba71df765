"""Sinks come and go: a sink given as a bound method (a new object at each attribute access) is
added once and removed by the same method, so a closed ``capture`` or a detached feed stops
receiving events and stops making every event type wanted."""

from parley import events
from parley.events import EventStream, ModelCallLogged, Notice


def test_a_closed_capture_leaves_no_sink_behind():
    stream = EventStream()
    with events.capture(stream, kinds=(Notice,)) as seen:
        stream.emit(Notice(text="during"))
    stream.emit(Notice(text="after"))
    assert [e.text for e in seen.events] == ["during"]
    assert stream._sinks == [] and ModelCallLogged not in stream.wanted


def test_a_bound_method_sink_is_added_once_and_removed():
    class Feed:
        def __init__(self):
            self.got = []

        def sink(self, event):
            self.got.append(event.text)

    stream, feed = EventStream(), Feed()
    stream.add_sink(feed.sink, (Notice,))
    stream.add_sink(feed.sink, (Notice,))
    stream.emit(Notice(text="once"))
    stream.remove_sink(feed.sink)
    stream.emit(Notice(text="gone"))
    assert feed.got == ["once"] and Notice not in stream.wanted
