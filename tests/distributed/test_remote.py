"""Remote agents (parley.distributed.remote) on the Ray head of conftest (127.0.0.1, resources
node_a and node_b standing for two nodes): a group chat member in an actor pinned to node_b
gives the transcript of the all-local chat, also when its actor is killed mid-reply; a two-agent
chat with a remote user proxy that runs code in the sandbox where it lives."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

pytest.importorskip("ray", reason="Ray is not installed: pip install 'parley[ray]'")

from parley import AssistantAgent, GroupChat, GroupChatManager, ScriptedModelClient, UserProxyAgent, events
from parley.distributed import RemoteAgent, RemoteAgentError, remote
from parley.store import RunStore

from .factories import scripted_member

BOB = ("Bob", "Bob counts the stock in the warehouse.")


def selector(prompts: list[str]):
    """The manager's "auto" selection model: alice and bob in turn (from the count of messages
    in the transcript it is shown); it keeps the prompts it was sent."""
    def choose(request) -> str:
        prompts.append("\n".join(str(m.get("content")) for m in request.messages))
        spoken = sum(1 for m in request.messages if m["role"] != "system")
        return "alice" if spoken % 2 else "bob"
    return choose


def team(bob, prompts: list[str], alice_fails_at: int | None = None):
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, default_auto_reply="")
    alice = scripted_member("alice", "Alice plans the count.", fail_at=alice_fails_at)
    groupchat = GroupChat([user, alice, bob], messages=[], max_round=6, speaker_selection_method="auto")
    manager = GroupChatManager(groupchat, llm_config={"config_list": [
        {"model": "selector", "client": ScriptedModelClient(selector(prompts))}]})
    return user, manager, groupchat


def group_chat(bob, prompts: list[str]):
    user, manager, groupchat = team(bob, prompts)
    with events.capture() as captured:
        result = user.initiate_chat(manager, message="Count the stock, please.", silent=True)
    return result, groupchat, captured


def test_a_group_chat_member_on_the_second_node_gives_the_local_transcript(ray_head):
    local_prompts: list[str] = []
    local_bob = scripted_member("bob", BOB[1])
    local, local_group, _ = group_chat(local_bob, local_prompts)

    bob = remote(scripted_member, args=("bob", BOB[1]), resources={"node_b": 1})
    assert isinstance(bob, RemoteAgent) and bob.description == BOB[1] and bob.system_message == "You are bob."
    prompts: list[str] = []
    try:
        result, group, captured = group_chat(bob, prompts)
    finally:
        bob.close()  # it holds node_b, which the next tests' actors need

    assert group.messages == local_group.messages
    assert [m["name"] for m in group.messages] == ["user", "alice", "bob", "alice", "bob", "alice"]
    assert result.chat_history == local.chat_history and result.summary == local.summary
    assert result.cost == local.cost
    # bob's model calls, counted in the actor, as local bob's were here.
    assert bob.client.total_usage_summary == local_bob.client.total_usage_summary
    assert bob.client.total_usage_summary["scripted"]["completion_tokens"] > 0
    assert prompts == local_prompts and f"bob: {BOB[1]}" in prompts[0]  # the manager saw bob's description
    # bob's model calls were made in the actor and reported here, with this chat's id.
    calls = [e for e in captured.of(events.ModelCalled) if e.agent == "bob"]
    assert len(calls) == 2 and {e.chat_id for e in calls} == {result.chat_id}
    assert bob.retries == 0


def test_a_member_whose_actor_is_killed_mid_reply_is_asked_again(ray_head, tmp_path):
    local_bob = scripted_member("bob", BOB[1])
    local, local_group, _ = group_chat(local_bob, [])

    marker = tmp_path / "bob.pids"
    bob = remote(scripted_member, args=("bob", BOB[1]), kwargs={"marker": str(marker), "delay": 1.0},
                 resources={"node_b": 1}, max_restarts=2)
    killed: list[int] = []

    def kill_bob_mid_reply() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started = marker.read_text().split() if marker.exists() else []
            if len(started) == 2:
                pid = int(started[1])  # bob's second reply has begun, in this process
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_bob_mid_reply)
    killer.start()
    try:
        result, group, captured = group_chat(bob, [])
        killer.join(10)
        restarted = bob.pid()
    finally:
        bob.close()

    assert killed, "bob's actor was never seen replying"
    assert group.messages == local_group.messages and result.summary == local.summary
    assert result.cost == local.cost
    # The first actor's model usage is not lost with it.
    assert bob.client.total_usage_summary == local_bob.client.total_usage_summary
    assert bob.retries == 1
    pids = [int(line) for line in marker.read_text().split()]
    assert pids[:2] == killed * 2 and set(pids[2:]) == {restarted} and restarted != killed[0]  # restarted, asked again
    assert any("died while answering" in e.text for e in captured.of(events.Notice))


def test_a_remote_user_proxy_runs_the_code_where_it_lives(ray_head, tmp_path):
    script = ScriptedModelClient(lambda request: "```python\nprint(6 * 7)\n```" if len(request.messages) == 2
                                 else "TERMINATE")
    assistant = AssistantAgent("coder", llm_config={"config_list": [{"model": "scripted", "client": script}]})
    runner = remote("tests.distributed.factories:code_runner", args=(str(tmp_path / "work"),), resources={"node_b": 1})
    assert runner.code_executor is None  # nothing runs code on this side
    try:
        with events.capture() as captured:
            result = runner.initiate_chat(assistant, message="What is 6 times 7? Print it.", silent=True)
        assert runner.pid() != os.getpid()
    finally:
        runner.close()

    contents = [m["content"] for m in result.chat_history]
    assert contents[0] == "What is 6 times 7? Print it." and "print(6 * 7)" in contents[1]
    assert contents[2].startswith("exitcode: 0 (execution succeeded)") and "42" in contents[2]
    assert contents[3:] == ["TERMINATE"]  # the runner's agent, in the actor, saw the end
    executed = captured.of(events.CodeExecuted)
    assert [(e.agent, e.exit_code, e.output.strip()) for e in executed] == [("runner", 0, "42")]
    assert (tmp_path / "work").is_dir()  # the sandbox's work dir, made by the actor


def test_agents_that_cannot_be_remote_are_refused_with_the_reason(ray_head):
    with pytest.raises(RemoteAgentError, match="human_input_mode must be 'NEVER'"):
        remote("tests.distributed.factories:asks_a_human")
    with pytest.raises(RemoteAgentError, match="no such warehouse"):
        remote("tests.distributed.factories:fails_to_build")
    with pytest.raises(ValueError, match="resources"):
        remote(scripted_member, resources={"node_b": -1})
    with pytest.raises(TypeError, match="agent_factory"):
        remote("not a factory")
    with pytest.raises(RemoteAgentError, match="no_such_node"):
        remote(scripted_member, args=("bob", "b"), resources={"no_such_node": 1}, start_timeout=2)


def test_a_run_with_a_remote_member_is_recorded_and_resumes(ray_head, tmp_path):
    local_bob = scripted_member("bob", BOB[1])
    expected, _, _ = group_chat(local_bob, [])
    with RunStore(tmp_path / "runs.db") as store:
        bob = remote(scripted_member, args=("bob", BOB[1]), resources={"node_b": 1})
        try:
            user, manager, _ = team(bob, [], alice_fails_at=2)  # after bob's first reply
            with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
                user.initiate_chat(manager, message="Count the stock, please.", silent=True)
        finally:
            bob.close()
        # bob's model call, made in the actor, is in the run's records as a local agent's would be.
        assert [c["agent"] for c in store.records(run.id, "model_calls")].count("bob") == 1
        bob = remote(scripted_member, args=("bob", BOB[1]), resources={"node_b": 1})  # as in a new process
        try:
            user, manager, _ = team(bob, [])
            result = store.resume(run.id, [user, manager], silent=True)
        finally:
            bob.close()
    assert result.chat_history == expected.chat_history
    assert bob.client.total_usage_summary == local_bob.client.total_usage_summary  # the stored call counted once


def test_an_error_inside_the_remote_agent_is_the_chat_s_own_and_not_retried(ray_head):
    bob = remote(scripted_member, args=("bob", BOB[1]), kwargs={"fail_at": 1}, resources={"node_b": 1})
    try:
        user, manager, _ = team(bob, [])
        with pytest.raises(RuntimeError, match="model down"):
            user.initiate_chat(manager, message="Count the stock, please.", silent=True)
        assert bob.retries == 0
    finally:
        bob.close()


def test_generate_reply_asks_the_actor_with_this_side_s_system_message_and_exclusions(ray_head):
    from parley import ConversableAgent

    bob = remote(scripted_member, args=("bob", BOB[1]), resources={"node_b": 1})
    try:
        asking = [{"role": "user", "content": "How many crates?", "name": "alice"}]
        assert bob.generate_reply(asking, sender=None) == "bob on alice's word (2 messages)"
        # Without its model, bob falls back to its default auto reply ("" for an AssistantAgent).
        assert bob.generate_reply(asking, exclude=[ConversableAgent.generate_oai_reply]) == ""
        assert bob.generate_reply(asking, exclude=[ConversableAgent.a_generate_oai_reply]) == ""
        # A system message updated here is the one the actor's model is given.
        who = [{"role": "user", "content": "Please say who you are.", "name": "alice"}]
        assert bob.generate_reply(who) == "You are bob."
        bob.update_system_message("You are Robert, who counts.")
        assert bob.generate_reply(who) == "You are Robert, who counts."
    finally:
        bob.close()


def test_a_remote_assistant_asks_its_openai_endpoint_from_the_actor(ray_head, fake_openai):
    from .factories import two_agents

    user, assistant, _ = two_agents()
    local = user.initiate_chat(assistant, message="Ask: crates", silent=True, max_turns=2)
    local_requests = list(fake_openai.requests)
    fake_openai.requests.clear()

    user, _, _ = two_agents()
    remote_assistant = remote("tests.distributed.factories:openai_assistant", resources={"node_b": 1})
    try:
        result = user.initiate_chat(remote_assistant, message="Ask: crates", silent=True, max_turns=2)
    finally:
        remote_assistant.close()
    assert result.chat_history == local.chat_history and result.chat_history[-1]["content"] == "done: Ask: crates (turn 2)"
    assert fake_openai.requests == local_requests and len(local_requests) == 2  # the same requests, made by the actor
    assert result.cost == local.cost  # the remote assistant's usage, reported by its actor
    assert result.cost["usage_including_cached_inference"]["gpt-4o-mini"]["completion_tokens"] > 0
