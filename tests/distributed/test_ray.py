"""run_many on a Ray head started here (127.0.0.1, two custom resources standing for two
nodes): the same results as in-process, and a worker killed with SIGKILL mid-run whose chats
are resumed from the store by another worker, no finished turn asked of the model twice."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

pytest.importorskip("ray", reason="Ray is not installed: pip install 'parley[ray]'")

from parley.distributed import ray_workers, run_many
from parley.store import RunStore

from .conftest import team_document


def test_the_same_results_as_in_process(ray_head, fake_openai, tmp_path):
    tasks = [f"item {i}" for i in range(100)] + ["please refuse", {"topic": "no task"}]
    local = run_many(team_document(), tasks, store=tmp_path / "local.db", max_concurrency=32, progress=False)
    fake_openai.requests.clear()
    on_ray = run_many(team_document(), tasks, address="auto", store=tmp_path / "ray.db", max_concurrency=32, progress=False)
    assert [o.same_result() for o in on_ray] == [o.same_result() for o in local]
    assert sum(o.status == "finished" for o in on_ray) == 100
    assert len(fake_openai.requests) == 201
    with RunStore(tmp_path / "ray.db", create=False) as store:
        assert {info.id for info in store.list_runs(limit=None)} == {o.run_id for o in on_ray}
        assert all(len(store.messages(o.run_id)) == 4 for o in on_ray[:100])


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
