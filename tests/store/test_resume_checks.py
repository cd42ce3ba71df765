"""Resume's checks and pieces on their own: the answers it hands to a run waiting for a human,
whether the process that wrote a run is alive, each refusal with its exact message (before
anything changes), whose client a stored model call was, and the result of a chat that finished
before the interruption. Short scripted chats (a turn or two) or stored rows made by the test."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys

import pytest
import sqlalchemy as sa

from parley import ConversableAgent, GroupChat, GroupChatManager, ScriptedModelClient, initiate_chats
from parley.store import ResumeError, RunStore, schema
from parley.store.resume import _agents_by_name, _client_owner, _PrefilledInput, _stored_result, process_alive


class Console:
    """A fallback stream that records what reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def print(self, *objects, sep=" ", end="\n", flush=False):
        self.calls.append(("print", objects, sep, end, flush))

    def input(self, prompt="", *, password=False):
        self.calls.append(("input", prompt, password))
        return "typed"


class AsyncConsole(Console):
    async def a_input(self, prompt="", *, password=False):
        self.calls.append(("a_input", prompt, password))
        return "typed async"


def test_prefilled_answers_come_first_then_the_usual_stream_asks():
    console = Console()
    stream = _PrefilledInput(["one", "two"], console)
    assert stream.input("first?") == "one"
    assert asyncio.run(stream.a_input("second?")) == "two"
    assert console.calls == []  # the prefilled answers ask nobody
    assert stream.input("third?", password=True) == "typed"
    assert asyncio.run(stream.a_input("fourth?", password=True)) == "typed"  # no a_input: its input
    stream.print("a", 1, sep="-", end="!", flush=True)
    stream.print("b")  # the usual defaults passed on
    assert stream.input() == "typed"
    assert console.calls == [("input", "third?", True), ("input", "fourth?", True), ("print", ("a", 1), "-", "!", True),
                             ("print", ("b",), " ", "\n", False), ("input", "", False)]
    asynchronous = AsyncConsole()
    assert asyncio.run(_PrefilledInput([], asynchronous).a_input("fifth?")) == "typed async"
    assert asyncio.run(_PrefilledInput([], asynchronous).a_input()) == "typed async"
    assert asynchronous.calls == [("a_input", "fifth?", False), ("a_input", "", False)]
    assert asyncio.run(_PrefilledInput([], console).a_input()) == "typed"
    assert console.calls[-1] == ("input", "", False)


def test_process_alive():
    import os

    assert process_alive(os.getpid())
    # Asking sends the process nothing (signal 0): one that exits 3 on any signal it can catch exits 0.
    catch_all = ("import signal, sys\n"
                 "for s in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:\n"
                 "    signal.signal(s, lambda *_: sys.exit(3))\n"
                 "print('ready', flush=True)\nsys.stdin.read()")
    catcher = subprocess.Popen([sys.executable, "-c", catch_all], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert catcher.stdout.readline() == b"ready\n"
    assert process_alive(catcher.pid)
    catcher.stdin.close()
    assert catcher.wait(timeout=60) == 0
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid)  # reaped: no such process
    assert process_alive(1)  # init: alive, whether ours to signal or not


def test_agents_are_a_non_empty_list_of_uniquely_named_agents():
    a, b = ConversableAgent("a", llm_config=False), ConversableAgent("b", llm_config=False)
    assert _agents_by_name([a, b]) == {"a": a, "b": b}
    assert _agents_by_name((b,)) == {"b": b}
    for wrong in ([], (), None, {"a": a}, a):
        with pytest.raises(ResumeError, match=r"^agents must be a non-empty list of the run's agents$"):
            _agents_by_name(wrong)
    with pytest.raises(ResumeError, match=r"^agents must be agents, got str$"):
        _agents_by_name([a, "b"])
    with pytest.raises(ResumeError, match=r"^two agents are named 'a'; names must be unique to match a stored run$"):
        _agents_by_name([a, ConversableAgent("a", llm_config=False)])


def test_a_stored_summary_call_is_the_recipients_when_it_has_a_model():
    with_model = ConversableAgent("r", llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(["x"])}]})
    without = ConversableAgent("r", llm_config=False)
    chat = {"sender": "s", "recipient": "r"}
    assert _client_owner({"purpose": "reply", "agent": "s"}, chat, {"r": with_model}) == "s"
    assert _client_owner({"purpose": "summary", "agent": "s"}, chat, {"r": with_model}) == "r"
    assert _client_owner({"purpose": "summary", "agent": "s"}, chat, {"r": without}) == "s"
    assert _client_owner({"purpose": "summary", "agent": "s"}, chat, {}) == "s"
    assert _client_owner({"purpose": "summary", "agent": "s"}, None, {"r": with_model}) == "s"
    assert _client_owner({"purpose": "summary", "agent": "s"}, chat, {"r": object()}) == "s"


def scripted(name: str, replies) -> ConversableAgent:
    return ConversableAgent(name, human_input_mode="NEVER", llm_config={"config_list": [
        {"model": f"model-{name}", "client": ScriptedModelClient(replies, model=f"model-{name}", usage=(3, 2),
                                                                 cost_per_call=0.5)}]})


def failing(name: str, after: int = 0) -> ConversableAgent:
    """An agent whose model answers ``after`` times, then is down."""
    answered = []

    def down(request):
        if len(answered) == after:
            raise RuntimeError("model down")
        answered.append(request)
        return f"{name}{len(answered)}"
    return scripted(name, down)


def test_the_result_of_a_chat_that_finished_before_the_interruption(store_file):
    with RunStore(store_file) as store:
        with store.new_run() as run:
            a, b, c = scripted("a", ["a1", "a2"]), scripted("b", ["b1", "b2"]), scripted("c", ["c1"])
            a.initiate_chat(b, message="first", max_turns=2, silent=True)
            c.initiate_chat(a, message="second", max_turns=1, silent=True)  # later: not the first chat's cost
        first = next(chat for chat in store.records(run.id, "chats") if chat["sender"] == "a")
        result = _stored_result(store, run.id, first)
    assert [(m["role"], m["content"]) for m in result.chat_history] == [
        ("assistant", "first"), ("user", "b1"), ("assistant", "a1"), ("user", "b2")]
    assert result.summary == "b2" and result.human_input == []
    # a's and b's calls of the chat (b twice, a once), not a's later one.
    assert result.cost["usage_including_cached_inference"]["total_cost"] == 1.5
    assert result.cost["usage_including_cached_inference"]["model-b"] == {
        "cost": 1.0, "prompt_tokens": 6, "completion_tokens": 4, "total_tokens": 10}


def test_the_human_input_of_a_finished_chat_is_its_initiators_replies(store_file):
    from parley import IOQueue, io

    with RunStore(store_file) as store:
        with store.new_run() as run, io.set_default(IOQueue(["", "go on", "exit"])):
            a = ConversableAgent("a", llm_config=False, human_input_mode="ALWAYS")
            b = scripted("b", ["b1", "b2", "b3"])
            a.initiate_chat(b, message="hi", silent=True)
        [chat] = store.records(run.id, "chats")
        with store.engine.begin() as connection:  # a reply of another agent, and one of another chat
            connection.execute(schema.human_inputs.insert(), [
                {"run_id": run.id, "chat_id": chat["id"], "agent": "b", "kind": "reply", "text": "not a's",
                 "created_at": 1.0},
                {"run_id": run.id, "chat_id": "another", "agent": "a", "kind": "reply", "text": "not this chat's",
                 "created_at": 1.0}])
        result = _stored_result(store, run.id, chat)
    assert result.human_input == ["", "go on", "exit"]


def interrupted_run(store: RunStore, sender: ConversableAgent, recipient: ConversableAgent, **options) -> str:
    with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
        sender.initiate_chat(recipient, message="go", silent=True, **options)
    return run.id


def test_options_of_a_single_chat_are_refused_with_a_queue_by_name(store_file):
    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1"]), failing("b"))
        before = store.export(run_id, "json")
        for options, named in (({"summary_method": "reflection_with_llm"}, "summary_method"),
                               ({"summary_args": {}}, "summary_args"), ({"cache": object()}, "cache"),
                               ({"silent": True}, "silent"),
                               ({"silent": True, "summary_args": {"x": 1}}, "summary_args, silent")):
            with pytest.raises(ResumeError) as refused:
                store.resume(run_id, chat_queue=[], **options)
            assert str(refused.value) == (f"{named}: with chat_queue, each chat's options come from its entry, as in "
                                          "initiate_chats; set them there")
        # The defaults are no options at all (the queue is checked next).
        with pytest.raises(ResumeError, match="has 1 chats; chat_queue has only 0"):
            store.resume(run_id, chat_queue=[], summary_method="last_msg", summary_args=None, cache=None, silent=False)
        with pytest.raises(ValueError, match="summary_method"):
            store.resume(run_id, [], summary_method="no such method")
        assert store.export(run_id, "json") == before


def test_a_finished_run_is_refused_with_its_reason(store_file):
    with RunStore(store_file) as store:
        with store.new_run() as run:
            scripted("a", ["a1"]).initiate_chat(scripted("b", ["b1"]), message="go", max_turns=1, silent=True)
        with pytest.raises(ResumeError, match=f"^run {run.id} is finished \\(max_turns\\): nothing to resume$"):
            store.resume(run.id[:8], [])
        with store.engine.begin() as connection:
            connection.execute(schema.runs.update().values(reason=None))
        with pytest.raises(ResumeError, match=f"^run {run.id} is finished \\(completed\\): nothing to resume$"):
            store.resume(run.id, [])


def set_writer(store: RunStore, run_id: str, **fields) -> None:
    with store.engine.begin() as connection:
        connection.execute(schema.runs.update().where(schema.runs.c.id == run_id).values(**fields))


def test_a_run_whose_process_still_runs_here_is_refused(store_file):
    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1", "a2"]), failing("b"))
        live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
        try:
            for status in ("running", "waiting_input"):
                set_writer(store, run_id, status=status, pid=live.pid, host=socket.gethostname())
                with pytest.raises(ResumeError, match=f"^run {run_id} is still running in process {live.pid}; "
                                                      "stop it before resuming$"):
                    store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["b1"])])
            # Not refused: a run that failed, or was written on another host, or by this very process,
            # or by a process that is gone (they fail further on, for want of the agents).
            for fields in ({"status": "failed", "host": socket.gethostname()},
                           {"status": "running", "host": "elsewhere"},
                           {"status": "running", "host": socket.gethostname(), "pid": __import__("os").getpid()},
                           {"status": "running", "host": socket.gethostname(), "pid": None}):
                set_writer(store, run_id, **{"pid": live.pid, **fields})
                with pytest.raises(ResumeError, match="needs agent"):
                    store.resume(run_id, [scripted("x", ["x"])])
        finally:
            live.communicate(b"")
        set_writer(store, run_id, status="running", host=socket.gethostname(), pid=live.pid)
        with pytest.raises(ResumeError, match="needs agent"):
            store.resume(run_id, [scripted("x", ["x"])])


def test_a_run_of_several_chats_needs_its_queue(store_file):
    with RunStore(store_file) as store:
        a, b, c = scripted("a", ["a1", "a2"]), scripted("b", ["b1"]), failing("c")
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            a.initiate_chats([{"recipient": b, "message": "one", "max_turns": 1, "silent": True},
                              {"recipient": c, "message": "two", "max_turns": 1, "silent": True}])
        with pytest.raises(ResumeError, match=f"^run {run.id} has 2 top-level chats \\(sequential chats\\): pass "
                                              "chat_queue=, the list of chats it was started with$"):
            store.resume(run.id, [a, b, c])
        queue = [{"sender": a, "recipient": b, "message": "one"}, {"sender": a, "recipient": c, "message": "two"}]
        with pytest.raises(ResumeError, match=f"^run {run.id} has 2 chats; chat_queue has only 1$"):
            store.resume(run.id, chat_queue=queue[:1])
        with pytest.raises(ResumeError, match=f"^chat_queue\\[1\\] is 'a' -> 'b', but chat 2 of run {run.id} was "
                                              "'a' -> 'c'$"):
            store.resume(run.id, chat_queue=[queue[0], {**queue[1], "recipient": b}])
        with pytest.raises(ResumeError, match=r"^chat_queue\[0\] is 'c' -> 'b', but chat 1"):
            store.resume(run.id, chat_queue=[{**queue[0], "sender": c}, queue[1]])
        for entry, shown in (({**queue[0], "sender": "a"}, "None -> 'b'"), ({**queue[0], "recipient": "b"}, "'a' -> None")):
            with pytest.raises(ResumeError, match=f"^chat_queue\\[0\\] is {shown}, but chat 1"):  # names, not agents
                store.resume(run.id, chat_queue=[entry, queue[1]])
        # A chat before the last that did not finish: not a sequence resume can continue.
        first = store.records(run.id, "chats")[0]["id"]
        with store.engine.begin() as connection:
            connection.execute(schema.chats.update().where(schema.chats.c.id == first).values(status="failed"))
        with pytest.raises(ResumeError, match=f"^run {run.id}: chat 1 did not finish but later chats started; not a "
                                              "sequence this can resume$"):
            store.resume(run.id, chat_queue=queue)


def test_a_run_resumed_needs_every_agent_of_its_messages_as_a_conversable_agent(store_file):
    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1", "a2"]), failing("b"))
        with pytest.raises(ResumeError, match=f"^run {run_id} needs agent\\(s\\) 'a', 'b'; got 'x', 'y'$"):
            store.resume(run_id, [scripted("x", ["x"]), scripted("y", ["y"])])
        with store.engine.begin() as connection:  # a message of an agent the chat did not name (a nested one, say)
            connection.execute(schema.messages.update().values(sender="zed", recipient="yan"))
        with pytest.raises(ResumeError, match=f"^run {run_id} has messages of agent\\(s\\) 'yan', 'zed' not given in "
                                              "agents$"):
            store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["b1"])])

        class Named:
            def __init__(self, name):
                self.name = name

        with pytest.raises(ResumeError, match=r"^resume needs ConversableAgent instances$"):
            store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["b1"]), Named("yan"), Named("zed")])


def test_a_run_stopped_before_its_first_message_of_a_callable_cannot_be_resumed(store_file):
    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1"]), failing("b"))
        with store.engine.begin() as connection:  # stopped before the first message; that message was a callable
            connection.execute(schema.messages.delete())
            connection.execute(schema.chats.update().values(message=None))
        with pytest.raises(ResumeError, match=f"^run {run_id} stopped before its first message and that message was "
                                              "not stored \\(a callable\\?\\); start it again$"):
            store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["b1"])])
        with store.engine.begin() as connection:
            connection.execute(schema.chats.update().values(message=json.dumps("go again")))
        result = store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["TERMINATE"])], silent=True)
        assert [m["content"] for m in result.chat_history] == ["go again", "TERMINATE"]
        # Its messages stored, a run whose first message was a callable resumes after them.
        run_id = interrupted_run(store, scripted("a", ["a1"]), failing("b", after=1))
        with store.engine.begin() as connection:
            connection.execute(schema.chats.update().where(schema.chats.c.run_id == run_id).values(message=None))
        result = store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["TERMINATE"])], silent=True)
    assert [m["content"] for m in result.chat_history] == ["go", "b1", "a1", "TERMINATE"]


def test_a_group_chat_is_resumed_with_the_participants_its_manager_brings(store_file):
    def group(down: bool):
        a, b = scripted("a", ["a says"] * 3), (failing("b") if down else scripted("b", ["TERMINATE"]))
        chat = GroupChat([a, b], messages=[], max_round=4, speaker_selection_method="round_robin")
        return a, GroupChatManager(chat, llm_config=False, name="boss")

    with RunStore(store_file) as store:
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
        _, manager = group(down=True)
        run_id = interrupted_run(store, user, manager)
        _, manager = group(down=False)
        assert [s["speaker"] for s in store.records(run_id, "speaker_selections")] == ["a", "b"]
        store.resume(run_id, [user, manager], silent=True)  # a and b come with the manager
        assert store.get_run(run_id).status == "finished"
        assert [(m.sender, m.message["content"]) for m in store.messages(run_id)][-1] == ("b", "TERMINATE")
        # b's selection that led to no message is made again, not twice: one row per round.
        assert [(s["speaker"], s["round"]) for s in store.records(run_id, "speaker_selections")] == [("a", 1), ("b", 2)]


def test_usage_of_a_resumed_run_goes_to_the_rebuilt_agents_by_name(store_file):
    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1", "a2"]), failing("b", after=1))
        a, b = scripted("a", ["a2"]), scripted("b", ["TERMINATE"])
        store.resume(run_id, [a, b], silent=True)
    # a's one call before the failure, none after (b ended the chat); b's one before and one in the resume.
    assert a.get_total_usage()["model-a"]["cost"] == 0.5 and "model-b" not in a.get_total_usage()
    assert b.get_total_usage()["model-b"]["cost"] == 1.0 and "model-a" not in b.get_total_usage()


def test_a_resume_flushes_but_keeps_a_store_that_was_already_recording(store_file):
    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1"]), failing("b"))
        recorder = store.require_recorder()
        store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["TERMINATE"])], silent=True)
        assert store.require_recorder() is recorder  # still attached, the same recorder
        with sa.create_engine(store.url).connect() as connection:  # everything is written already
            assert connection.execute(sa.select(schema.runs.c.status)).scalar_one() == "finished"
    store = RunStore(store_file)  # not recording: attached for the resume, then detached
    try:
        run_id = interrupted_run_detached(store)
        store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["TERMINATE"])], silent=True)
        assert not store.attached
        assert store.get_run(run_id).status == "finished"
    finally:
        store.close()


def interrupted_run_detached(store: RunStore) -> str:
    store.attach()
    try:
        return interrupted_run(store, scripted("a", ["a1"]), failing("b"))
    finally:
        store.detach()


def test_a_malformed_queue_is_refused_by_its_entry(store_file):
    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1"]), failing("b"))
        with pytest.raises(ValueError, match=r"^chat_queue\[0\] has no 'sender'$"):
            store.resume(run_id, chat_queue=[{"recipient": scripted("b", ["b1"]), "message": "go"}])


def test_a_run_waiting_for_a_human_gets_the_answers_given(store_file):
    from parley import IOQueue, io

    class Stopped(IOQueue):
        """The human answers, then the process is stopped while the next question waits."""

        def input(self, prompt="", *, password=False):
            if not self.answers:
                raise KeyboardInterrupt
            return super().input(prompt, password=password)

    def pair():
        return ConversableAgent("a", llm_config=False, human_input_mode="ALWAYS"), scripted("b", ["b1", "b2", "b3"])

    for answers, expected in (("stop", ["go on", "stop", "exit"]), (["more", "exit"], ["go on", "more", "exit"])):
        with RunStore(store_file) as store:
            with pytest.raises(KeyboardInterrupt), store.new_run() as run, io.set_default(Stopped(["go on"])):
                a, b = pair()
                a.initiate_chat(b, message="hi", silent=True)
            assert store.get_run(run.id).status == "interrupted"
            a, b = pair()
            asked = IOQueue([])  # after the answers given: a closed terminal ("exit")
            with io.set_default(asked):
                result = store.resume(run.id, [a, b], human_input=answers, silent=True)
            replies = [h["text"] for h in store.records(run.id, "human_inputs") if h["kind"] == "reply"]
        assert result.human_input == expected and replies == expected
        assert len(asked.prompts) == (1 if isinstance(answers, str) else 0)


def test_a_resumed_sequence_that_fails_again_is_a_failed_run(store_file):
    with RunStore(store_file) as store:
        a, b = scripted("a", ["a1", "a2"]), scripted("b", ["b1"])
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            a.initiate_chats([{"recipient": b, "message": "one", "max_turns": 1, "silent": True},
                              {"recipient": failing("c"), "message": "two", "max_turns": 1, "silent": True}])
        queue = [{"sender": a, "recipient": b, "message": "one", "max_turns": 1, "silent": True},
                 {"sender": a, "recipient": failing("c"), "message": "two", "max_turns": 1, "silent": True}]
        with pytest.raises(RuntimeError, match="model down"):
            store.resume(run.id, chat_queue=queue)
        info = store.get_run(run.id)
    assert (info.status, info.reason) == ("failed", "error")


def test_a_sequence_stopped_before_a_chats_first_message_opens_it_again_with_the_carryover(store_file):
    def queue(c):
        return [{"sender": a, "recipient": b, "message": "one", "max_turns": 1, "silent": True},
                {"sender": a, "recipient": c, "message": "two", "max_turns": 1, "silent": True}]

    with RunStore(store_file) as store:
        a, b = scripted("a", ["a1"]), scripted("b", ["b1"])
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            a.initiate_chats(queue(failing("c")))
        second = store.records(run.id, "chats")[1]["id"]
        with store.engine.begin() as connection:  # the crash came before chat 2's first message was stored
            connection.execute(schema.messages.delete().where(schema.messages.c.chat_id == second))
        results = store.resume(run.id, chat_queue=queue(scripted("c", ["c1"])))
        opening = next(m for m in store.messages(run.id) if m.chat_id == second)
    assert opening.message["content"] == "two\nContext: \nb1"  # chat 1's summary carried over, as uninterrupted
    assert [r.summary for r in results] == ["b1", "c1"]


def test_a_tool_that_ran_before_the_crash_is_not_run_again(store_file):
    import parley

    runs = []

    def count(n: int) -> int:
        runs.append(n)
        return n + 1

    call = {"content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                             "function": {"name": "count", "arguments": '{"n": 1}'}}]}

    def agents(assistant):
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
        parley.register_function(count, caller=assistant, executor=user, description="count")
        return user, assistant

    calls = []

    def call_then_down(request):
        calls.append(request)
        if len(calls) > 1:
            raise RuntimeError("model down")
        return call

    with RunStore(store_file) as store:
        user, assistant = agents(scripted("assistant", call_then_down))
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            user.initiate_chat(assistant, message="count", silent=True)
        assert runs == [1] and len(store.records(run.id, "side_effects")) == 1
        with store.engine.begin() as connection:  # the crash came before the tool's answer was stored
            connection.execute(schema.messages.delete().where(schema.messages.c.message.like('%"role": "tool"%')))
        assert len(store.messages(run.id)) == 2
        user, assistant = agents(scripted("assistant", ["TERMINATE"]))
        result = store.resume(run.id, [user, assistant], silent=True)
    assert runs == [1]  # the stored result was used, the tool not run again
    assert [m.get("content") for m in result.chat_history][-2:] == ["2", "TERMINATE"]


def counting_agent(name: str, replies: list[str]) -> ConversableAgent:
    """Replies in turn; to a summary prompt (the last message a system one), the summary of it."""
    turns = iter(replies)

    def reply(request):
        last = request.messages[-1]
        if last.get("role") == "system" and len(request.messages) > 1:
            return f"summary after {last['content']}"
        return next(turns)
    return scripted(name, reply)


class RecordingCache:
    def __init__(self) -> None:
        self.data: dict = {}

    def get(self, key, default=None):
        return self.data.get(key, default)

    def set(self, key, value):
        self.data[key] = value


def three_chats(a, b, c, d, **third) -> list[dict]:
    return [{"sender": a, "recipient": b, "message": "one", "max_turns": 1, "silent": True},
            {"sender": a, "recipient": c, "message": "two", "max_turns": 1, "silent": True},
            {"sender": b, "recipient": d, "message": "three", "max_turns": 1, **third}]


def test_the_interrupted_chat_of_a_sequence_keeps_its_entrys_options(store_file):
    from parley import IOQueue, io
    from parley.io.console import console_sink

    with RunStore(store_file) as store:
        a, b, c = scripted("a", ["a1", "a2"]), scripted("b", ["b1"]), scripted("c", ["c1"])
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            initiate_chats(three_chats(a, b, c, failing("d"), silent=True))
        assert [chat["status"] for chat in store.records(run.id, "chats")] == ["finished", "finished", "failed"]
        cache = RecordingCache()
        options = {"summary_method": "reflection_with_llm", "summary_args": {"summary_prompt": "THE PROMPT"},
                   "cache": cache, "silent": True}
        shown = IOQueue()
        enabled, console_sink.enabled = console_sink.enabled, True  # the console shows what is not silent
        try:
            with io.set_default(shown):
                results = store.resume(run.id, chat_queue=three_chats(a, b, c, counting_agent("d", ["d1"]), **options))
        finally:
            console_sink.enabled = enabled
        assert results[2].summary == "summary after THE PROMPT"
        assert len(cache.data) == 2  # the chat's model call and its summary's
        assert shown.printed == []  # silent
        info = store.get_run(run.id)
        assert (info.status, info.kind, info.initiator, info.title) == ("finished", "sequential", "a", "one")


def test_a_sequence_resumed_without_silent_shows_its_chat(store_file):
    from parley import IOQueue, io
    from parley.io.console import console_sink

    with RunStore(store_file) as store:
        a, b, c = scripted("a", ["a1", "a2"]), scripted("b", ["b1"]), scripted("c", ["c1"])
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            initiate_chats(three_chats(a, b, c, failing("d"), silent=True))
        shown = IOQueue()
        enabled, console_sink.enabled = console_sink.enabled, True
        try:
            with io.set_default(shown):
                store.resume(run.id, chat_queue=three_chats(a, b, c, scripted("d", ["d1"])))  # no "silent": shown
        finally:
            console_sink.enabled = enabled
        assert "d1" in shown.output


def test_a_sequence_stopped_between_chats_starts_the_next(store_file):
    with RunStore(store_file) as store:
        a, b = scripted("a", ["a1"]), scripted("b", ["b1"])
        queue = [{"sender": a, "recipient": b, "message": "one", "max_turns": 1, "silent": True},
                 {"sender": a, "recipient": scripted("c", ["c1"]), "message": "two", "max_turns": 1, "silent": True}]
        with store.new_run() as run:
            a.initiate_chats(queue[:1])  # stopped after the first chat (its run left running)
        with store.engine.begin() as connection:
            connection.execute(schema.runs.update().values(status="running"))
        results = store.resume(run.id, chat_queue=queue)
        assert [r.summary for r in results] == ["b1", "c1"]
        assert [chat["recipient"] for chat in store.records(run.id, "chats")] == ["b", "c"]
        info = store.get_run(run.id)
        assert (info.status, info.kind, info.initiator, info.title) == ("finished", "sequential", "a", "one")


def test_a_resumed_sequence_stopped_again_is_an_interrupted_run(store_file):
    def stopped(request):
        raise KeyboardInterrupt

    with RunStore(store_file) as store:
        a, b = scripted("a", ["a1"]), scripted("b", ["b1"])
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            a.initiate_chats(three_chats(a, b, failing("c"), scripted("d", ["d1"]), silent=True)[:2])
        with pytest.raises(KeyboardInterrupt):
            store.resume(run.id, chat_queue=three_chats(a, b, scripted("c", stopped), scripted("d", ["d1"]))[:2])
        info = store.get_run(run.id)
    assert (info.status, info.reason) == ("interrupted", "interrupted")


def test_a_resumed_sequence_whose_next_chat_cannot_start_is_a_failed_run(store_file):
    with RunStore(store_file) as store:
        a, b = scripted("a", ["a1"]), scripted("b", ["b1"])
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            a.initiate_chats(three_chats(a, b, failing("c"), scripted("d", ["d1"]), silent=True)[:2])
        queue = three_chats(a, b, scripted("c", ["c1"]), scripted("d", ["d1"]), summary_method="no such method")
        with pytest.raises(ValueError, match="summary_method"):
            store.resume(run.id, chat_queue=queue)
        info = store.get_run(run.id)
    # The failure came between chats: the run's reason says so, not the last chat's ending.
    assert (info.status, info.reason) == ("failed", "error")
    assert store.records(run.id, "chats")[1]["reason"] == "max_turns"


def test_group_chat_members_in_a_queue_get_their_stored_usage(store_file):
    def team(x_replies):
        x, y = scripted("x", x_replies), scripted("y", ["y1", "y2"])
        chat = GroupChat([x, y], messages=[], max_round=3, speaker_selection_method="round_robin")
        return x, GroupChatManager(chat, llm_config=False, name="boss")

    with RunStore(store_file) as store:
        a = ConversableAgent("a", llm_config=False, human_input_mode="NEVER")
        x, boss = team(["x1", "x2"])
        queue = [{"sender": a, "recipient": boss, "message": "group", "silent": True},
                 {"sender": a, "recipient": failing("c"), "message": "two", "max_turns": 1, "silent": True}]
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            a.initiate_chats(queue)
        stored = [call["agent"] for call in store.records(run.id, "model_calls")]
        x, boss = team(["x1", "x2"])  # rebuilt: no usage yet
        queue = [{**queue[0], "recipient": boss}, {**queue[1], "recipient": scripted("c", ["c1"])}]
        store.resume(run.id, chat_queue=queue)
    assert stored.count("x") >= 1
    assert x.get_total_usage()["model-x"]["cost"] == 0.5 * stored.count("x")


def test_a_single_chat_is_resumed_with_the_options_given(store_file):
    from parley import IOQueue, io
    from parley.io.console import console_sink

    with RunStore(store_file) as store:
        run_id = interrupted_run(store, scripted("a", ["a1", "a2"]), failing("b", after=1), max_turns=3)
        cache = RecordingCache()
        shown = IOQueue()
        enabled, console_sink.enabled = console_sink.enabled, True
        try:
            with io.set_default(shown):
                result = store.resume(run_id, [scripted("a", ["a2"]), counting_agent("b", ["b2", "b3"])], silent=True,
                                      cache=cache, summary_method="reflection_with_llm",
                                      summary_args={"summary_prompt": "THE PROMPT"})
        finally:
            console_sink.enabled = enabled
        assert result.summary == "summary after THE PROMPT"
        assert len(cache.data) == 4  # b2, a2, b3 (max_turns 3 from the store) and the summary
        assert shown.printed == []
        assert [m["content"] for m in result.chat_history] == ["go", "b1", "a1", "b2", "a2", "b3"]
        info = store.get_run(run_id)
        assert (info.status, info.reason) == ("finished", "max_turns")
        shown = IOQueue()
        run_id = interrupted_run(store, scripted("a", ["a1"]), failing("b"))
        console_sink.enabled = True
        try:
            with io.set_default(shown):
                store.resume(run_id, [scripted("a", ["a1"]), scripted("b", ["TERMINATE"])])  # not silent: shown
        finally:
            console_sink.enabled = enabled
        assert "TERMINATE" in shown.output
        assert store.get_run(run_id).reason == "completed"  # TERMINATE: as an uninterrupted chat ends


def test_a_group_chat_that_cannot_be_resumed_is_refused_naming_the_run(store_file):
    with RunStore(store_file) as store:
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
        members = [scripted("a", ["a1"]), failing("b")]
        chat = GroupChat(members, messages=[], max_round=3, speaker_selection_method="round_robin",
                         enable_clear_history=True)
        run_id = interrupted_run(store, user, GroupChatManager(chat, llm_config=False, name="boss"))
        with pytest.raises(ResumeError, match=f"^run {run_id} is a group chat with enable_clear_history"):
            store.resume(run_id, [user, GroupChatManager(chat, llm_config=False, name="boss")])
