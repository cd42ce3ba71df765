"""Group-chat resume in one process: the crash is simulated by deleting the stored tail after
every possible cut point (the introductions included), which a real SIGKILL can't hit reliably;
test_crash_resume kills real processes. Also the group chats resume refuses, with their reason."""

from __future__ import annotations

import pytest

from parley import ConversableAgent, GroupChat, GroupChatManager, ScriptedModelClient
from parley.io.console import console_sink
from parley.store import ResumeError, RunStore, schema

from . import chat_child


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setattr(chat_child, "DELAY_S", 0.0)
    console_sink.enabled, before = False, console_sink.enabled
    yield
    console_sink.enabled = before


def cut_tail(store: RunStore, run_id: str, keep: int) -> None:
    """What a crash leaves: the first ``keep`` messages, and a run that never finished."""
    ids = [r["id"] for r in store.records(run_id, "messages")]
    with store.engine.begin() as connection:
        connection.execute(schema.messages.delete().where(schema.messages.c.id.in_(ids[keep:])))
        connection.execute(schema.runs.update().where(schema.runs.c.id == run_id).values(status="running", reason=None))
        connection.execute(schema.chats.update().where(schema.chats.c.run_id == run_id).values(status="running"))


def transcript(store: RunStore, run_id: str) -> list[tuple]:
    return [(m.sender, m.recipient, m.message) for m in store.messages(run_id)]


def test_every_cut_point_resumes_to_the_uninterrupted_transcript(sqlite_url):
    with RunStore(sqlite_url) as store:
        with store.new_run() as run:
            user, manager = chat_child.agents("group")
            user.initiate_chat(manager, message="start", silent=True)
        expected = transcript(store, run.id)
        selections = store.records(run.id, "speaker_selections")
        assert len(expected) > 40 and expected[1][0] == "chat_manager"  # the introductions are stored
        for keep in [0, 1, 2, 4, 5, 6, 7, 20, len(expected) - 1]:
            cut_tail(store, run.id, keep)
            user, manager = chat_child.agents("group")
            result = store.resume(run.id, [user, manager], silent=True)
            assert transcript(store, run.id) == expected, f"cut after {keep} messages"
            assert [(s["speaker"], s["round"]) for s in store.records(run.id, "speaker_selections")] == \
                [(s["speaker"], s["round"]) for s in selections]
            assert store.get_run(run.id).status == "finished"
            assert [m["content"] for m in manager.groupchat.messages] == \
                [m[2]["content"] for m in expected if m[0] != "chat_manager"]
            assert result.summary == expected[-1][2]["content"]


def test_participants_passed_explicitly_or_with_the_manager_alike(sqlite_url):
    with RunStore(sqlite_url) as store:
        with store.new_run() as run:
            user, manager = chat_child.agents("group")
            user.initiate_chat(manager, message="start", silent=True)
        expected = transcript(store, run.id)
        cut_tail(store, run.id, 12)
        user, manager = chat_child.agents("group")
        store.resume(run.id, [manager, *manager.groupchat.agents], silent=True)
        assert transcript(store, run.id) == expected


def scripted(tag: str) -> dict:
    return {"config_list": [{"model": "s", "client": ScriptedModelClient(lambda r: f"{tag} {len(r.messages)}")}]}


def team(**groupchat_options) -> tuple[ConversableAgent, GroupChatManager]:
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    members = [ConversableAgent(n, llm_config=scripted(n), human_input_mode="NEVER") for n in ("x", "y")]
    groupchat = GroupChat(members, max_round=6, speaker_selection_method="round_robin", **groupchat_options)
    return user, GroupChatManager(groupchat, llm_config=False)


@pytest.mark.parametrize("case, match", [
    ("clear_history", "enable_clear_history; such group chats can't be resumed yet"),
    ("nested", "nested team\\(s\\) 'inner'; such group chats can't be resumed yet"),
])
def test_group_chats_resume_cannot_rebuild_are_refused_with_the_reason(sqlite_url, case, match):
    if case == "nested":
        user, inner = team()
        inner._name = "inner"
        members = [inner, ConversableAgent("z", llm_config=scripted("z"), human_input_mode="NEVER")]
        manager = GroupChatManager(GroupChat(members, max_round=4, speaker_selection_method="round_robin"), llm_config=False)
    else:
        user, manager = team(enable_clear_history=True)
    with RunStore(sqlite_url) as store:
        with store.new_run() as run:
            user.initiate_chat(manager, message="go", silent=True)
        cut_tail(store, run.id, 2)
        before = transcript(store, run.id)
        with pytest.raises(ResumeError, match=match):
            store.resume(run.id, [user, manager])
        assert transcript(store, run.id) == before
        assert store.get_run(run.id).status == "running"


def test_an_initiator_outside_the_group_resumes_too(sqlite_url):
    with RunStore(sqlite_url) as store:
        with store.new_run() as run:
            user, manager = team()
            result = user.initiate_chat(manager, message="go", silent=True)
        expected = transcript(store, run.id)
        assert len(expected) == 6 and "user" not in manager.groupchat.agent_names
        for keep in range(1, len(expected)):
            cut_tail(store, run.id, keep)
            user, manager = team()
            resumed = store.resume(run.id, [user, manager], silent=True)
            assert transcript(store, run.id) == expected, f"cut after {keep} messages"
            assert resumed.chat_history == result.chat_history
            assert manager.groupchat.messages == [m[2] for m in expected]


def turns_team(user_speaks: bool, introductions: bool = False) -> tuple[ConversableAgent, GroupChatManager]:
    """A round-robin team run with max_turns: each turn the user's message, then three rounds."""
    user = ConversableAgent("user", llm_config=scripted("user"), human_input_mode="NEVER")
    members = [ConversableAgent(n, llm_config=scripted(n), human_input_mode="NEVER") for n in ("x", "y")]
    groupchat = GroupChat([user, *members] if user_speaks else members, max_round=4, speaker_selection_method="round_robin",
                          send_introductions=introductions)
    return user, GroupChatManager(groupchat, llm_config=False)


@pytest.mark.parametrize("user_speaks, introductions", [(True, False), (False, False), (True, True)],
                         ids=["initiator-in-the-group", "initiator-outside", "introduced-each-turn"])
def test_a_group_chat_with_max_turns_resumes_from_every_cut_point(sqlite_url, user_speaks, introductions):
    with RunStore(sqlite_url) as store:
        with store.new_run() as run:
            user, manager = turns_team(user_speaks, introductions)
            result = user.initiate_chat(manager, message="go", max_turns=3, silent=True)
        expected = transcript(store, run.id)
        selections = [(s["speaker"], s["round"]) for s in store.records(run.id, "speaker_selections")]
        spoken = [m for m in expected if m[0] != "chat_manager"]
        assert len(spoken) == 12 and selections.count(("x", 1)) == 3  # three turns of four messages
        assert len(expected) == 12 + (9 if introductions else 0)  # each turn introduces the team to its three members
        assert spoken[4][0] == "user" and store.get_run(run.id).reason == "max_turns"
        for keep in range(1, len(expected)):
            cut_tail(store, run.id, keep)
            user, manager = turns_team(user_speaks, introductions)
            resumed = store.resume(run.id, [user, manager], silent=True)
            assert transcript(store, run.id) == expected, f"cut after {keep} messages"
            assert [(s["speaker"], s["round"]) for s in store.records(run.id, "speaker_selections")] == selections
            assert resumed.chat_history == result.chat_history
            assert manager.groupchat.messages == [m[2] for m in spoken]
            assert store.get_run(run.id).reason == "max_turns"
