"""The one ordered chat sequence (``chat.sequential.a_run_chats_in_order``): ``initiate_chats``
runs through it, and so does a resumed sequence, which supplies the results of the chats that
already finished and resumes the interrupted one."""

from __future__ import annotations

from parley import AssistantAgent, ChatResult, ScriptedModelClient, UserProxyAgent
from parley.chat.sequential import a_run_chats_in_order


def agents():
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0)
    model = ScriptedModelClient(lambda request: f"answer to: {request.messages[-1]['content']}")
    model.keep_requests = True
    writer = AssistantAgent("writer", llm_config={"config_list": [{"model": "m", "client": model}]})
    return user, writer, model


def queue(user, writer):
    return [{"sender": user, "recipient": writer, "message": f"task {i}", "silent": True, "summary_method": "last_msg"}
            for i in range(4)]


async def test_a_supplied_sequence_runs_only_what_is_left_with_everything_carried_over():
    user, writer, model = agents()
    done = [ChatResult(summary="first done"), ChatResult(summary="second done")]
    resumed = []

    async def resume_interrupted(entry: dict) -> ChatResult:
        resumed.append(entry)
        return ChatResult(summary="third resumed")

    results = await a_run_chats_in_order(queue(user, writer), done, resume_interrupted)
    assert [entry["message"] for entry in resumed] == ["task 2"]  # the next chat, resumed not started
    assert resumed[0]["carryover"] == ["first done", "second done"]
    assert results[:3] == [*done, results[2]] and results[2].summary == "third resumed"
    # Only the last chat ran, with every earlier summary carried into its first message.
    [request] = model.requests
    assert "task 3" in request.messages[-1]["content"]
    assert "first done" in request.messages[-1]["content"] and "third resumed" in request.messages[-1]["content"]
    assert results[3].summary.startswith("answer to: task 3")


async def test_without_supplied_results_every_chat_runs():
    user, writer, model = agents()
    results = await a_run_chats_in_order(queue(user, writer))
    assert len(model.requests) == 4
    assert [r.summary.split("\n")[0] for r in results] == [f"answer to: task {i}" for i in range(4)]
