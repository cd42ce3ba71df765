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


# The transcript pyautogen 0.2.35 prints for this chat (compared byte for byte when this test was
# written): three agents in round robin, the manager not silent, stdout not a terminal.
CLASSIC_GROUP_TRANSCRIPT = "".join(
    f"{speaker} (to chat_manager):\n\n{text}\n\n{'-' * 80}\n" + (f"\nNext speaker: {nxt}\n\n" if nxt else "")
    for speaker, text, nxt in (
        ("agent0", "start", "agent1"), ("agent1", "ok", "agent2"), ("agent2", "ok", "agent0"), ("agent0", "ok", None)
    )
)


def test_a_group_chat_printed_to_a_redirected_stdout_is_classics_transcript(capsys):
    from parley import ConversableAgent, GroupChat, GroupChatManager, ScriptedModelClient
    from parley.io.console import console_sink

    team = [ConversableAgent(f"agent{i}", llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(["ok"])}]},
                             human_input_mode="NEVER") for i in range(3)]
    groupchat = GroupChat(team, messages=[], max_round=4, speaker_selection_method="round_robin")
    console_sink.enabled = True  # the autouse fixture turns it off again
    team[0].initiate_chat(GroupChatManager(groupchat, llm_config=False), message="start")
    assert capsys.readouterr().out == CLASSIC_GROUP_TRANSCRIPT


MESSAGE_SHAPES = [
    {"role": "user", "content": "ok"},
    {"role": "assistant", "content": None},
    {"content": ""},
    {"content": "multi\nline\ttab " + ATTACK},
    {"content": [{"type": "text", "text": "look "}, {"type": "image_url", "image_url": {"url": "x"}}]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
        {"id": "c2", "function": {"name": "g", "arguments": "not json"}}]},
    {"role": "assistant", "content": "text", "tool_calls": []},
    {"role": "assistant", "content": "x", "function_call": {"name": "f", "arguments": "{}"}},
    {"role": "tool", "content": "r", "tool_responses": [
        {"tool_call_id": "c1", "content": "r1"}, {"tool_call_id": "c2", "content": None}]},
    {"role": "tool", "content": "r", "tool_call_id": "c9"},
    {"role": "function", "content": "fr", "name": "f"},
]


def test_the_console_writes_to_stdout_exactly_what_it_gives_any_other_stream(capsys):
    """The console's own stream is written in one call per message; other streams get print()."""
    events_: list[events.Event] = [
        events.MessageSent(sender=sender, recipient="bob", message=m) for m in MESSAGE_SHAPES for sender in ("alice", ATTACK)
    ]
    events_ += [
        events.SpeakerSelected(manager="m", speaker="bob", method="auto", round=1), events.Notice(text="note"),
        events.CodeExecutionStarted(agent="a", blocks=1, languages=["python"]), events.TokenStreamed(agent="a", token="tok"),
        events.MessageSent(sender="a", recipient="b", message={"content": "after"}),
    ]
    queue = IOQueue()
    with set_default(queue):
        sink = ConsoleSink()
        for event in events_:
            sink(event)
    sink = ConsoleSink()
    for event in events_:
        sink(event)
    printed = capsys.readouterr().out
    assert printed == queue.output
    assert "alice (to bob):\n\nok\n\n" + "-" * 80 + "\n" in printed
    assert "alice (to bob):\n\n\n" + "-" * 80 + "\n" in printed  # content None: an empty line
    assert "alice (to bob):\n\nlook [image: x]\n\n" in printed  # an image part: its label
    assert not _controls(printed)


class _Terminal:
    """A stdout that says it is a terminal."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_colours_follow_what_stdout_is_now(monkeypatch, capsys):
    sink = ConsoleSink()
    message = events.MessageSent(sender="alice", recipient="bob", message={"content": "hi"})
    sink(message)
    assert capsys.readouterr().out.startswith("alice (to bob):\n")
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    sink(message)
    sink(events.SpeakerSelected(manager="m", speaker="bob", method="auto", round=1))
    assert terminal.written[0].startswith("\033[33malice (to bob):\n\033[0m\nhi\n")
    assert terminal.written[1] == "\033[32m\nNext speaker: bob\n\033[0m\n"
    monkeypatch.undo()
    sink(message)
    assert capsys.readouterr().out.startswith("alice (to bob):\n")


def test_visible_escapes_exactly_the_control_characters_in_any_text():
    import random
    import re

    reference = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    alphabet = [chr(c) for c in range(0xA0)] + ["é", "\u200b", "\u2028", "字", "\U0001f600"]
    rng = random.Random(16)
    for length in (0, 1, 2, 5, 40, 300):
        for ascii_only in (True, False):
            letters = alphabet[:0x80] if ascii_only else alphabet
            for _ in range(200):
                text = "".join(rng.choice(letters) for _ in range(length))
                assert visible(text) == reference.sub(lambda m: f"\\x{ord(m.group()):02x}", text), repr(text)
    assert visible(7) == "7"
    assert visible("plain text, no controls") == "plain text, no controls"
