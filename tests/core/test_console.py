"""The console transcript: streamed replies end their line; control characters from messages are
shown as visible escapes (finding 8 of the sandbox review): code output, tool output, names and arguments can hold terminal escape
sequences (clear screen, window title, OSC 52 clipboard writes, queries that type into the host's
input)."""

from parley import events
from parley.io import IOQueue, set_default
from parley.io.console import ConsoleSink, visible

ATTACK = "\x1b]52;c;Y3VybCBldmlsfHNo\x07\x1b[2J\x9b31m\x7f\rforged\x00"


def _printed(message: dict, sender: str = "assistant") -> str:
    stream = IOQueue()
    with set_default(stream):
        ConsoleSink()(events.MessageSent(sender=sender, recipient="user", message=message))
    return stream.output


def _controls(text: str) -> list[str]:
    return [hex(ord(ch)) for ch in text if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F]


def test_visible_keeps_newlines_and_tabs_and_escapes_the_rest():
    assert visible("a\tb\nc") == "a\tb\nc"
    assert visible(ATTACK) == "\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\x1b[2J\\x9b31m\\x7f\\x0dforged\\x00"


def test_message_content_tool_calls_tool_output_and_names_are_printed_without_control_characters():
    for message, sender in (
        ({"role": "assistant", "content": ATTACK}, "assistant"),
        ({"role": "assistant", "content": None, "tool_calls": [
            {"id": ATTACK, "type": "function", "function": {"name": ATTACK, "arguments": ATTACK}}]}, "assistant"),
        ({"role": "tool", "content": ATTACK, "tool_responses": [{"tool_call_id": ATTACK, "content": ATTACK}]}, "tools"),
        ({"role": "assistant", "content": "hi", "function_call": {"name": ATTACK, "arguments": ATTACK}}, ATTACK),
    ):
        printed = _printed(message, sender)
        assert not _controls(printed), (message, printed)
        assert "\\x1b]52;c;" in printed, printed


def test_a_streamed_reply_ends_its_line_before_the_next_message():
    stream = IOQueue()
    sink = ConsoleSink()
    with set_default(stream):
        for token in ("streamed ", "words"):
            sink(events.TokenStreamed(agent="assistant", token=token))
        sink(events.MessageSent(sender="assistant", recipient="user", message={"role": "assistant", "content": "x"}))
    assert "streamed words\n" in stream.output
    assert not any(line.startswith("streamed words") and line != "streamed words" for line in stream.output.splitlines())
