"""Classic async chat queues: ``a_initiate_chats`` runs chats at the same time, each after its
prerequisites, and returns ``{chat_id: ChatResult}``."""

from __future__ import annotations

import asyncio

import pytest

from parley import AssistantAgent, ModelRequest, ModelResponse, UserProxyAgent, a_initiate_chats


class SlowModel:
    """A model client that takes a little while and notes when each call starts and ends."""

    def __init__(self, tag: str, log: list, fail: bool = False) -> None:
        self.tag, self.log, self.fail = tag, log, fail

    async def create(self, request: ModelRequest) -> ModelResponse:
        self.log.append(("start", self.tag))
        await asyncio.sleep(0.05)
        self.log.append(("end", self.tag))
        if self.fail:
            raise RuntimeError(f"{self.tag} is down")
        return ModelResponse({"role": "assistant", "content": f"{self.tag} done: {request.messages[-1]['content']}"})


def team(log: list, failing: str | None = None) -> tuple[UserProxyAgent, dict]:
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0)
    workers = {tag: AssistantAgent(tag, llm_config={"config_list": [{"model": "m", "client": SlowModel(tag, log, tag == failing)}]})
               for tag in ("finance", "research", "writer")}
    return user, workers


def queue(workers: dict) -> list[dict]:
    return [
        {"chat_id": 1, "recipient": workers["finance"], "message": "prices", "silent": True},
        {"chat_id": 2, "recipient": workers["research"], "message": "news", "silent": True},
        {"chat_id": 3, "prerequisites": [1, 2], "recipient": workers["writer"], "message": "write it up", "silent": True},
    ]


async def test_chats_run_at_once_after_their_prerequisites():
    log: list = []
    user, workers = team(log)
    results = await user.a_initiate_chats(queue(workers))
    assert list(results) == [1, 2, 3] and [r.chat_id for r in results.values()] == [1, 2, 3]
    # The first two ran at the same time; the third started after both had finished.
    assert log[:2] == [("start", "finance"), ("start", "research")]
    assert log.index(("start", "writer")) > max(log.index(("end", "finance")), log.index(("end", "research")))
    # ... carrying both summaries.
    assert results[3].chat_history[0]["content"] == "write it up\nContext: \nfinance done: prices\nresearch done: news"
    assert user.get_chat_results() is results and user.get_chat_results(3) is results[3]


async def test_a_failed_chat_fails_the_queue_and_stops_the_others():
    log: list = []
    user, workers = team(log, failing="finance")
    with pytest.raises(RuntimeError, match="finance is down"):
        await a_initiate_chats([{**chat, "sender": user} for chat in queue(workers)])
    await asyncio.sleep(0.1)
    assert ("start", "writer") not in log  # its prerequisite failed: it never started


@pytest.mark.parametrize("change, match", [
    (lambda q: q[0].pop("chat_id"), r"chat_queue\[0\] has no 'chat_id'"),
    (lambda q: q[1].update(chat_id=1), r"chat_queue\[1\]: chat_id 1 is used twice"),
    (lambda q: q[2].update(prerequisites=[1, 7]), r"chat_queue\[2\] \(chat_id 3\) has unknown prerequisites \[7\]"),
    (lambda q: q[0].update(prerequisites=[3]), r"the prerequisites form a cycle: 1 -> 3 -> 1"),
])
async def test_bad_queues_are_clear_errors_before_any_chat_starts(change, match):
    log: list = []
    user, workers = team(log)
    chats = queue(workers)
    change(chats)
    with pytest.raises(ValueError, match=match):
        await user.a_initiate_chats(chats)
    assert log == []
