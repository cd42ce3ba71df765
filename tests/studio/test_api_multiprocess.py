"""Several Studio processes on one store serve the same runs: any of them shows a run, answers
its human and streams its events; when the process running it dies, another takes it over and
finishes it to the uninterrupted transcript."""

from __future__ import annotations

import json

from websockets.sync.client import connect

from .conftest import TOKEN, run_info, wait_for, wait_status
from .test_api_durability import RELAY, transcript


def test_a_run_of_one_process_answered_and_watched_through_another(studio, store_url):
    first = studio(store=store_url)
    second = studio(store=store_url)
    with first.client() as one, second.client() as two:
        run_id = one.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        asked = wait_status(one, run_id, "waiting_input")
        seen_there = wait_status(two, run_id, "waiting_input")
        assert seen_there["input_request"] == asked["input_request"] and not seen_there["live"]
        assert two.post(f"/api/runs/{run_id}/resume").status_code == 409  # the first process runs it
        with connect(second.ws_url(run_id), additional_headers={"Authorization": f"Bearer {TOKEN}"}, open_timeout=30) as socket:
            replayed = []
            while (item := json.loads(socket.recv(timeout=60)))["type"] != "ReplayFinished":
                replayed.append(item)
            assert replayed[-1]["type"] == "HumanInputRequested" and item["live"] is False
            assert two.post(f"/api/runs/{run_id}/input", json={"text": "exit"}).status_code == 200  # picked up by the first
            tailed = []
            while (item := json.loads(socket.recv(timeout=60)))["type"] != "RunStatus":
                tailed.append(item)
        assert item["status"] == "finished"
        assert tailed[0]["type"] == "HumanInputReceived" and tailed[0]["reply"] == "exit" and tailed[-1]["type"] == "ChatFinished"
        done = wait_status(one, run_id, "finished")
        assert transcript(run_info(two, run_id)) == transcript(done)
        assert two.post(f"/api/runs/{run_id}/input", json={"text": "again"}).status_code == 409


def test_when_the_process_running_a_run_dies_another_takes_it_over(studio, store_url, model_server):
    first = studio(store=store_url)
    second = studio(store=store_url)
    with first.client() as one:
        whole = one.post("/api/runs", json={"team": RELAY}).json()["id"]
        expected = transcript(wait_status(one, whole, "finished"))
        model_server.delay = 0.1
        run_id = one.post("/api/runs", json={"team": RELAY}).json()["id"]
        wait_for(lambda: len(run_info(one, run_id)["messages"]) >= 5, "five messages")
    first.kill()
    with second.client() as two:
        taken = wait_for(lambda: run_info(two, run_id)["live"] or run_info(two, run_id)["status"] == "finished",
                         "the second process to take the run over")
        assert taken
        assert transcript(wait_status(two, run_id, "finished")) == expected
    assert f"took over run {run_id}" in second.output()


def test_a_run_stopped_through_another_process_stops(studio, store_url):
    first = studio(store=store_url)
    second = studio(store=store_url)
    with first.client() as one, second.client() as two:
        run_id = one.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        wait_status(one, run_id, "waiting_input")
        assert two.post(f"/api/runs/{run_id}/stop").status_code == 200
        stopped = wait_status(one, run_id, "interrupted")  # the first process cancelled it
        assert stopped["state"] == "stopped" and not stopped["live"]
        assert two.post(f"/api/runs/{run_id}/resume").status_code == 200  # free now: the second takes it on
        resumed = wait_status(two, run_id, "waiting_input")
        assert resumed["live"] and not run_info(one, run_id)["live"]
