"""run_many on a Ray head started here (127.0.0.1, two custom resources standing for two
nodes): the same results as in-process, and a worker killed with SIGKILL mid-run whose chats
are resumed from the store by another worker, no finished turn asked of the model twice."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter

import pytest

pytest.importorskip("ray", reason="Ray is not installed: pip install 'parley[ray]'")

from parley.distributed import ray_workers, run_many
from parley.store import RunStore

from .conftest import echo_reply, team_document


def task_number(body: dict) -> int:
    """The number of the task a request belongs to ("item 12": 12), -1 for others."""
    first = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return int(first.rsplit(" ", 1)[-1]) if first.rsplit(" ", 1)[-1].isdigit() else -1


def prompts_asked(requests: list[dict]) -> Counter:
    """How many times each distinct prompt was sent."""
    return Counter(json.dumps(body["messages"], sort_keys=True) for body in requests)


def faulty(reply):
    """``reply`` behind injected faults, each on a request's first arrival only (the model
    client's retry then gets the answer): an HTTP 503 for every 10th task, an answer later than
    the client's timeout for every 25th. The same faults hit the same requests in every run."""
    seen: set[str] = set()
    lock = threading.Lock()

    def answer(body: dict) -> dict:
        key = json.dumps(body["messages"], sort_keys=True)
        number = task_number(body)
        with lock:
            fresh = key not in seen
            seen.add(key)
        if fresh and number % 10 == 3:
            return {"status": 503, "retry_after": "0", "error": "overloaded"}
        if fresh and number % 25 == 7:
            return {**reply(body), "delay": 3.0}  # past the 1 s timeout: the client gives up and asks again
        return reply(body)
    answer.seen = seen  # type: ignore[attr-defined]
    return answer


def test_500_chats_with_injected_faults_give_the_in_process_results(ray_head, fake_openai, tmp_path):
    document = team_document()
    document["models"]["gpt"]["timeout"] = 1
    tasks = [f"item {i}" for i in range(498)] + ["please refuse", {"topic": "no task"}]
    fake_openai.default = answer = faulty(echo_reply)
    local = run_many(document, tasks, store=tmp_path / "local.db", max_concurrency=64, progress=False)
    asked_in_process = prompts_asked(fake_openai.requests)
    fault_hit = {key for body in fake_openai.requests if task_number(body) % 10 == 3 or task_number(body) % 25 == 7
                 for key in prompts_asked([body])}
    fake_openai.requests.clear()
    answer.seen.clear()
    on_ray = run_many(document, tasks, address="auto", store=tmp_path / "ray.db", max_concurrency=64, progress=False)
    assert [o.same_result() for o in on_ray] == [o.same_result() for o in local]
    assert [o.index for o in on_ray] == list(range(500)) and sum(o.status == "finished" for o in on_ray) == 498
    assert on_ray[498].error and "refused by policy" in on_ray[498].error and "tasks[499].task" in on_ray[499].error
    # The same prompts in both runs: 2 turns of 498 chats and 1 refused request. Every prompt a fault
    # hit was asked again (the client's retry got the answer). How many more retries a run makes
    # depends on the machine's load (an answer slower than the 1 s timeout is asked again), so
    # only the prompts and the retries that must happen are compared.
    asked_on_ray = prompts_asked(fake_openai.requests)
    assert set(asked_on_ray) == set(asked_in_process) and len(asked_on_ray) == 2 * 498 + 1
    assert len(fault_hit) == sum(2 for i in range(498) if i % 10 == 3 or i % 25 == 7)
    assert all(asked_on_ray[key] >= 2 and asked_in_process[key] >= 2 for key in fault_hit)
    with RunStore(tmp_path / "ray.db", create=False) as store:
        assert {info.id for info in store.list_runs(limit=None)} == {o.run_id for o in on_ray}
        assert all(len(store.messages(o.run_id)) == 4 for o in on_ray[:498])


def test_a_factory_team_on_workers_placed_by_a_custom_resource(ray_head, fake_openai, tmp_path):
    outcomes = run_many("tests.distributed.factories:two_agents", ["x", "y"], address="auto",
                        store=tmp_path / "runs.db", progress=False, worker_resources={"node_b": 0.5})
    assert [o.summary for o in outcomes] == ["done: Ask: x (turn 2)", "done: Ask: y (turn 2)"]


def numbered_reply(counter: list) -> object:
    """Replies that carry the number of the request they answer; second turns take 3 s."""
    lock = threading.Lock()

    def reply(body: dict) -> dict:
        with lock:
            counter[0] += 1
            number = counter[0]
        return {"content": f"reply {number}", "delay": 3.0 if len(body["messages"]) > 2 else 0.3}  # second turns: long
    return reply


def test_a_killed_worker_s_chats_resume_without_asking_a_finished_turn_again(ray_head, fake_openai, tmp_path):
    counter = [0]
    fake_openai.default = numbered_reply(counter)
    chats = 60
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(outcomes=run_many(
        team_document(), [f"item {i}" for i in range(chats)], address="auto", store=tmp_path / "runs.db",
        max_concurrency=chats, workers=2, progress=False)))
    runner.start()
    # Kill the busiest worker while second turns are in flight (3 s each), the first turns of
    # those chats answered and recorded (the store's writer commits every 0.2 s).
    deadline = time.monotonic() + 120
    while len(fake_openai.requests) < chats + chats // 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.6)
    pool = ray_workers.current_pool
    assert pool is not None
    # Its pid as the pool learnt it at the start: a pid call now would wait behind the chats
    # filling the actor's slots, until after the turns this test means to interrupt.
    victim = pool.started_pids[pool.load.index(max(pool.load))]
    assert victim is not None
    killed_at = counter[0]
    os.kill(victim, signal.SIGKILL)
    runner.join(180)
    assert not runner.is_alive()
    outcomes = result["outcomes"]
    assert [o.status for o in outcomes] == ["finished"] * chats
    resumed = [o for o in outcomes if o.attempts == 2]
    assert resumed, "no chat ran on the killed worker"

    # Reply n answered request n (the server numbers them in arrival order). A stored reply is a
    # finished turn: its request must never be sent again after it was answered. (One sent
    # before it, in flight when the worker died, is the unfinished turn being redone.)
    bodies = [json.dumps(body["messages"], sort_keys=True) for body in fake_openai.requests]
    reused = 0
    with RunStore(tmp_path / "runs.db", create=False) as store:
        for outcome in outcomes:
            messages = [m.message for m in store.messages(outcome.run_id)]
            assert len(messages) == 4 and outcome.summary == messages[-1]["content"]
            for message in messages:
                if message["content"].startswith("reply "):
                    number = int(message["content"].split()[1])
                    asked_again = bodies[number:].count(bodies[number - 1])
                    assert asked_again == 0, (outcome.run_id, message["content"])
                    if outcome.attempts == 2 and number <= killed_at:
                        reused += 1  # a turn the killed worker finished, taken from the store
    assert reused > 0, "no resumed chat reused a turn the killed worker had finished"
