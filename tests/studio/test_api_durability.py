"""Runs are durable: ``kill -9`` of the server mid-run (or while the run waits for its human),
a restart, and the run goes on to the uninterrupted run's transcript, nothing lost or repeated."""

from __future__ import annotations

from parley.store import RunStore
from tests.spec.test_cli import GROUP_SPEC

from .conftest import run_info, wait_done, wait_for, wait_status

RELAY = GROUP_SPEC  # the four-agent relay group chat the CLI tests run


def transcript(info: dict) -> list[tuple]:
    return [(m["sender"], m["recipient"], m["message"].get("content")) for m in info["messages"]]


def test_kill_9_mid_run_then_restart_completes_the_run(studio, store_url, model_server):
    store = store_url
    server = studio(store=store)
    with server.client() as client:
        whole = client.post("/api/runs", json={"team": RELAY}).json()["id"]
        expected = transcript(wait_status(client, whole, "finished"))
        assert len(expected) > 16 and expected[1][0] == "manager"  # the introductions, then the rounds
        model_server.delay = 0.1  # slow enough to kill it mid group chat
        run_id = client.post("/api/runs", json={"team": RELAY}).json()["id"]
        wait_for(lambda: len(run_info(client, run_id)["messages"]) >= 5, "five messages")
    server.kill()
    assert server.process.returncode == -9
    stored = RunStore(store, create=False)
    try:
        at_kill = stored.get_run(run_id)
    finally:
        stored.close()
    assert at_kill.status == "running" and 5 <= at_kill.messages < len(expected) - 4  # killed mid group chat

    restarted = studio(store=store)
    assert f"resumed 1 run(s): {run_id}" in restarted.output()
    with restarted.client() as client:
        done = wait_done(client, run_id)
        assert transcript(done) == expected and done["status"] == "finished"
        assert run_info(client, whole)["status"] == "finished"  # a finished run is not resumed
        assert "sk-fake" not in client.get(f"/api/runs/{run_id}/export").text


def test_a_run_waiting_for_its_human_waits_through_a_restart(studio, store_url):
    store = store_url
    server = studio(store=store)
    with server.client() as client:
        whole = client.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        wait_status(client, whole, "waiting_input")
        assert client.post(f"/api/runs/{whole}/input", json={"text": "exit"}).status_code == 200
        expected = transcript(wait_status(client, whole, "finished"))
        run_id = client.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        asked = wait_status(client, run_id, "waiting_input")
    server.kill()

    restarted = studio(store=store)
    with restarted.client() as client:
        again = wait_status(client, run_id, "waiting_input")  # asked again, still waiting
        assert again["live"] and again["input_request"] == asked["input_request"]
        assert transcript(again) == transcript(asked)
        assert client.post(f"/api/runs/{run_id}/input", json={"text": "exit"}).status_code == 200
        assert transcript(wait_status(client, run_id, "finished")) == expected


def test_an_answer_the_run_had_not_recorded_is_given_again_after_a_crash(studio, tmp_path):
    """POST input stores the answer with the Studio's row before the run gets it: a server that
    dies before the run recorded the answer is resumed with it (here the state such a crash
    leaves is made by hand: the question asked, the answer stored, the reply not recorded)."""
    import sqlalchemy as sa

    store = f"sqlite:///{tmp_path / 'runs.db'}"
    server = studio(store=store)
    with server.client() as client:
        whole = client.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        wait_status(client, whole, "waiting_input")
        assert client.post(f"/api/runs/{whole}/input", json={"text": "exit"}).status_code == 200
        expected = transcript(wait_status(client, whole, "finished"))
        run_id = client.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        wait_status(client, run_id, "waiting_input")
    server.kill()
    engine = sa.create_engine(store)
    with engine.begin() as connection:
        asked_at = connection.exec_driver_sql(
            "SELECT created_at FROM parley_human_inputs WHERE run_id = ? AND kind = 'request' ORDER BY id DESC LIMIT 1",
            (run_id,)).scalar()
        connection.exec_driver_sql("UPDATE parley_studio_runs SET answer = 'exit', answer_for = ? WHERE run_id = ?",
                                   (asked_at, run_id))
    engine.dispose()

    restarted = studio(store=store)
    with restarted.client() as client:
        done = wait_status(client, run_id, "finished")  # not asked again: the stored answer was given
        assert transcript(done) == expected
        replies = [e for e in client.get(f"/api/runs/{run_id}/export").json()["human_inputs"] if e["kind"] == "reply"]
        assert [reply["text"] for reply in replies] == ["exit"]


def test_a_server_stopped_cleanly_resumes_its_runs_when_started_again(studio, tmp_path):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    server = studio(store=store)
    with server.client() as client:
        run_id = client.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        asked = wait_status(client, run_id, "waiting_input")
        stopped_by_user = client.post("/api/runs", json={"team": "research", "message": "go", "model": "scripted"}).json()["id"]
        wait_status(client, stopped_by_user, "waiting_input")
        assert client.post(f"/api/runs/{stopped_by_user}/stop").status_code == 200
    server.stop()  # SIGTERM: the runs' tasks are cancelled, the runs stay theirs to resume
    assert server.process.returncode in (0, -15), server.output()  # uvicorn re-raises the signal once shut down
    stored = RunStore(store, create=False)
    try:
        assert stored.get_run(run_id).status == "interrupted"  # the shutdown cancelled it (a kill would leave "waiting_input")
    finally:
        stored.close()

    restarted = studio(store=store)
    assert f"resumed 1 run(s): {run_id}" in restarted.output()
    with restarted.client() as client:
        assert transcript(wait_status(client, run_id, "waiting_input")) == transcript(asked)
        kept = run_info(client, stopped_by_user)
        assert kept["status"] == "interrupted" and kept["state"] == "stopped" and not kept["live"]  # a user's stop holds
