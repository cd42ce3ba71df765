"""Resuming sequential chats (``initiate_chats`` in one ``RunStore.new_run``) in this process:
after a failure in a later chat, and the clear errors for a queue that does not match."""

from __future__ import annotations

import pytest

import parley
from parley import ConversableAgent, ScriptedModelClient, events
from parley.store import ResumeError, RunStore


def team(failing: str | None = None) -> dict:
    """Three agents whose replies depend on the request only; ``failing`` one's model is down."""
    def config(tag: str):
        def reply(request):
            if tag == failing:
                raise RuntimeError("model down")
            return f"{tag} answers {len(request.messages)} messages"
        # A cost a binary float sums exactly, whatever the order of the calls.
        return {"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply, cost_per_call=0.25)}]}
    return {name: ConversableAgent(name, llm_config=config(name), human_input_mode="NEVER") for name in ("ann", "ben", "cat")}


def queue(agents: dict) -> list[dict]:
    ann, ben, cat = agents["ann"], agents["ben"], agents["cat"]
    return [
        # Summarised by ben's model (the recipient's), recorded for ann (the sender), as classic does.
        {"sender": ann, "recipient": ben, "message": "plan", "max_turns": 2, "silent": True,
         "summary_method": "reflection_with_llm"},
        {"sender": ann, "recipient": cat, "message": "build", "max_turns": 2, "silent": True},
        {"sender": ben, "recipient": cat, "message": "review", "max_turns": 2, "silent": True},
    ]


def transcript(store: RunStore, run_id: str) -> list[tuple]:
    return [(m.sender, m.recipient, m.message["content"]) for m in store.messages(run_id)]


def test_a_sequence_that_failed_in_its_second_chat_is_resumed_to_the_uninterrupted_result(sqlite_url):
    uninterrupted = team()
    with events.capture(kinds=(events.MessageSent,)) as seen:
        expected_results = [(r.summary, r.cost) for r in parley.initiate_chats(queue(uninterrupted))]
    expected = [(e.sender, e.recipient, e.message["content"]) for e in seen.events]
    assert "Context: \nben answers" in expected[4][2]  # chat 2 opens with chat 1's summary

    with RunStore(sqlite_url) as store:
        with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
            parley.initiate_chats(queue(team(failing="cat")))
        assert store.get_run(run.id).status == "failed"
        assert transcript(store, run.id) == expected[:5]  # chat 1, then chat 2's opening message

        agents = team()  # as if in a new process: no usage yet
        results = store.resume(run.id, chat_queue=queue(agents))
        # Summaries and costs: the finished chat's from the store, the others counting the calls
        # made before the failure (given to the rebuilt agents from the store).
        assert [(r.summary, r.cost) for r in results] == expected_results
        assert results[1].cost["usage_including_cached_inference"]["total_cost"] > 0
        for name, agent in agents.items():
            assert agent.get_total_usage() == uninterrupted[name].get_total_usage(), name
        assert transcript(store, run.id) == expected
        assert results[0].chat_history[0] == {"content": "plan", "role": "assistant", "name": "ann"}  # ann's own copy
        info = store.get_run(run.id)
        assert (info.status, info.kind, info.messages) == ("finished", "sequential", 12)


def test_a_sequence_needs_its_queue_and_a_queue_that_matches(sqlite_url):
    with RunStore(sqlite_url) as store:
        with pytest.raises(RuntimeError), store.new_run() as run:
            parley.initiate_chats(queue(team(failing="cat")))
        before = (store.get_run(run.id), transcript(store, run.id))
        agents = team()
        with pytest.raises(ResumeError, match="2 top-level chats .* pass chat_queue="):
            store.resume(run.id, list(agents.values()))
        swapped = queue(agents)
        swapped[1] = {**swapped[1], "recipient": agents["ben"]}
        with pytest.raises(ResumeError, match=r"chat_queue\[1\] is 'ann' -> 'ben', but chat 2 of run .* was 'ann' -> 'cat'"):
            store.resume(run.id, chat_queue=swapped)
        with pytest.raises(ResumeError, match="cache, silent: with chat_queue, each chat's options come from its entry"):
            store.resume(run.id, chat_queue=queue(agents), silent=True, cache=object())
        with pytest.raises(ResumeError, match="has 2 chats; chat_queue has only 1"):
            store.resume(run.id, chat_queue=queue(agents)[:1])
        with pytest.raises(TypeError, match=r"chat_queue\[0\] must be a dict"):
            store.resume(run.id, chat_queue=["not a chat"])
        assert (store.get_run(run.id), transcript(store, run.id)) == before  # the refusals left the store untouched
