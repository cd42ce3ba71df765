"""The WebSocket of a run's events: everything recorded first, then live, each a JSON object
whose ``type`` is the event class name; a browser that connects later gets the same recorded
events, none twice."""

from __future__ import annotations

import contextlib
import json

from websockets.sync.client import connect

from .conftest import TOKEN, wait_status

RECORDED = {"ChatStarted", "ChatFinished", "MessageSent", "ModelCalled", "ToolCalled", "CodeExecuted",
            "HumanInputRequested", "HumanInputReceived", "SpeakerSelected"}


def _receive_until(socket, kind: str) -> list[dict]:
    received = []
    while True:
        item = json.loads(socket.recv(timeout=60))
        received.append(item)
        if item["type"] == kind:
            return received


def test_replay_then_live_and_a_later_browser_sees_the_same(studio):
    server = studio()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with server.client() as client:
        run_id = client.post("/api/runs", json={"team": "research", "message": "a task", "model": "scripted"}).json()["id"]
        waiting = wait_status(client, run_id, "waiting_input")
        with connect(server.ws_url(run_id), additional_headers=auth, open_timeout=30) as socket:
            replayed = _receive_until(socket, "ReplayFinished")
            assert {k: v for k, v in replayed[-1].items() if k != "time"} == \
                {"type": "ReplayFinished", "run_id": run_id, "status": "waiting_input", "live": True}
            kinds = [item["type"] for item in replayed[:-1]]
            assert kinds[0] == "ChatStarted" and kinds[-1] == "HumanInputRequested"
            assert [item["sender"] for item in replayed if item["type"] == "MessageSent"] == \
                [m["sender"] for m in waiting["messages"]]
            assert replayed[0]["message"] == "a task" and all(item["run_id"] == run_id for item in replayed)
            # Live: the answer, the rest of the chat, the run's end.
            assert client.post(f"/api/runs/{run_id}/input", json={"text": "exit"}).status_code == 200
            live = _receive_until(socket, "RunStatus")
        assert live[-1]["status"] == "finished"
        live_kinds = [item["type"] for item in live]
        assert live_kinds[0] == "HumanInputReceived" and live[0]["reply"] == "exit" and "ChatFinished" in live_kinds
        seen = [(item["type"], item["time"]) for item in replayed + live]
        assert len(seen) == len(set(seen)), "an event was sent twice"
        final = client.get(f"/api/runs/{run_id}").json()

    # A browser opening the finished run gets every recorded event, in the order they happened.
    with connect(server.ws_url(run_id), additional_headers=auth, open_timeout=30) as socket:
        later = _receive_until(socket, "ReplayFinished")
    assert later[-1]["status"] == "finished" and later[-1]["live"] is False
    first_browser = [item for item in replayed[:-1] + live if item["type"] in RECORDED]
    assert [(item["type"], item["time"]) for item in later[:-1]] == [(item["type"], item["time"]) for item in first_browser]
    assert [item["message"] for item in later if item["type"] == "MessageSent"] == [m["message"] for m in final["messages"]]
    later_by_key = {(item["type"], item["time"]): item for item in later[:-1]}
    for item in first_browser:  # the same fields, live or replayed
        assert later_by_key[(item["type"], item["time"])] == item, item


def test_several_browsers_get_every_live_event(studio):
    server = studio()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with server.client() as client:
        run_id = client.post("/api/runs", json={"team": "research", "message": "a task", "model": "scripted"}).json()["id"]
        wait_status(client, run_id, "waiting_input")
        with contextlib.ExitStack() as stack:
            sockets = [stack.enter_context(connect(server.ws_url(run_id), additional_headers=auth, open_timeout=30))
                       for _ in range(5)]
            for socket in sockets:
                _receive_until(socket, "ReplayFinished")
            assert client.post(f"/api/runs/{run_id}/input", json={"text": "exit"}).status_code == 200
            streams = [_receive_until(socket, "RunStatus") for socket in sockets]
    assert all(stream == streams[0] for stream in streams) and len(streams[0]) > 3
