"""The Studio's API against a real server process on 127.0.0.1, with the fake OpenAI server: the
gallery's research team answered over the API, the transcript stored and equal to the library's
run with the same answers; teams, validation under the Studio's rules, exports without keys."""

from __future__ import annotations

import json

import pytest

from parley.io import IOQueue, set_default
from parley.spec import gallery
from parley.spec.runs import run_recorded
from parley.store import RunStore

from .conftest import run_info, wait_done, wait_status

ANSWERS = ["Approved: go on with the plan.", "exit"]


def _answer_until_done(client, run_id: str, answers: list[str]) -> list[str]:
    """Answer each human-input request in turn until the run ends; returns the answers given."""
    given = []
    while True:
        info = wait_status(client, run_id, "waiting_input", "finished", "failed", "interrupted")
        if info["status"] != "waiting_input":
            assert info["status"] == "finished", info
            return given
        assert "Replying as Admin" in info["input_request"]["prompt"]
        text = answers[len(given)] if len(given) < len(answers) else "exit"
        response = client.post(f"/api/runs/{run_id}/input", json={"text": text})
        assert response.status_code == 200, response.text
        given.append(text)


def _library_transcript(tmp_path, monkeypatch, model_server, message: str, answers: list[str]) -> list[tuple]:
    """The same team run by the library in this process, the human's answers from a queue."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-fake-key-0123456789",
                                                       "base_url": model_server.base_url}]))
    with RunStore(tmp_path / "library.db") as store, set_default(IOQueue(answers)):
        run_id, _ = run_recorded(gallery.load("research"), store, message=message, silent=True)
        return [(m.sender, m.recipient, m.message.get("content")) for m in store.messages(run_id)]


def test_research_team_answered_over_the_api(studio, tmp_path, monkeypatch, model_server):
    server = studio()
    with server.client() as client:
        started = client.post("/api/runs", json={"team": "research", "message": "LLMs for personal productivity"})
        assert started.status_code == 201, started.text
        run_id = started.json()["id"]
        # Not allowed unsandboxed execution by this server, the Executor's code goes to the sandbox.
        assert any("agents.Executor.code_execution_config" in note and "sandbox" in note for note in started.json()["notes"])
        given = _answer_until_done(client, run_id, ANSWERS)
        assert given, "the Admin was never asked"
        info = wait_done(client, run_id)
        transcript = [(m["sender"], m["recipient"], m["message"].get("content")) for m in info["messages"]]
        assert info["state"] == "done" and info["tokens"] > 0 and info["usage"]["gpt-4o-mini"]["calls"] > len(transcript) // 2
        listed = client.get("/api/runs").json()
        assert [run["id"] for run in listed] == [run_id] and listed[0]["team"] == "research"
        exported = client.get(f"/api/runs/{run_id}/export", params={"format": "json"})
        markdown = client.get(f"/api/runs/{run_id}/export", params={"format": "md"})
    assert exported.status_code == 200 and markdown.status_code == 200
    assert "sk-fake-key" not in exported.text + markdown.text
    assert [(m["sender"], m["recipient"], m["message"].get("content")) for m in exported.json()["messages"]] == transcript
    # The Admin's answers are its messages, the speakers are the group chat's.
    admin_said = [content for sender, _, content in transcript if sender == "Admin"]
    assert admin_said[0] == "LLMs for personal productivity" and given[0] in admin_said
    assert {sender for sender, _, _ in transcript} <= {"Admin", "Planner", "Engineer", "Scientist", "Executor", "Critic",
                                                       "ResearchWriter", "chat_manager"}
    # The run the library makes of the same team with the same answers.
    assert transcript == _library_transcript(tmp_path, monkeypatch, model_server, "LLMs for personal productivity", given)


def test_teams_crud_and_a_run_of_a_saved_team(studio):
    server = studio()
    spec = gallery.load("research").to_dict()
    spec["name"] = "my research"
    with server.client() as client:
        created = client.post("/api/teams", json=spec)
        assert created.status_code == 201, created.text
        team_id = created.json()["id"]
        assert [t["id"] for t in client.get("/api/teams").json()] == [team_id]
        assert client.get(f"/api/teams/{team_id}").json()["spec"]["name"] == "my research"
        spec["description"] = "changed"
        assert client.put(f"/api/teams/{team_id}", json=spec).status_code == 200
        assert client.get(f"/api/teams/{team_id}").json()["spec"]["description"] == "changed"
        yaml_text = client.get(f"/api/teams/{team_id}").json()["yaml"]
        assert client.put(f"/api/teams/{team_id}", json={"yaml": yaml_text}).status_code == 200
        run = client.post("/api/runs", json={"team": team_id, "message": "hi", "model": "scripted"})
        assert run.status_code == 201, run.text
        info = wait_status(client, run.json()["id"], "waiting_input")
        assert info["team_id"] == team_id and info["team"] == "my research"
        assert client.post(f"/api/runs/{info['id']}/input", json={"text": "exit"}).status_code == 200
        assert wait_done(client, info["id"])["status"] == "finished"
        assert client.delete(f"/api/teams/{team_id}").status_code == 204
        assert client.get(f"/api/teams/{team_id}").status_code == 404
        assert client.post("/api/runs", json={"team": "no-such-team"}).status_code == 404
        gallery_names = [item["name"] for item in client.get("/api/gallery").json()]
        assert "research" in gallery_names and "coding" in gallery_names


def _tool_spec(function: str) -> dict:
    spec = gallery.load("tools").to_dict()
    (tool,) = spec["tools"].values()
    tool["function"] = function
    return spec


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda s: _tool_spec("os:system"), "tools.calculator.function", "not allowed on this server"),
    (lambda s: {**s, "models": {"gpt4o": {"config_list": [{"model": "gpt-4o", "api_key": {"env": "HOME"},
                                                            "base_url": "http://attacker.example/v1"}]}}},
     "models.gpt4o.config_list", "server's models"),
    (lambda s: {**s, "models": {"gpt4o": {"config_list": {"env_or_file": "/etc/passwd"}}}},
     "models.gpt4o.config_list", "env_or_file must be OAI_CONFIG_LIST"),
    (lambda s: {**s, "agents": {**s["agents"], "Executor": {**s["agents"]["Executor"],
                                                            "code_execution_config": {"work_dir": "../../home"}}}},
     "agents.Executor.code_execution_config.work_dir", "relative folder"),
    (lambda s: {**s, "agents": {**s["agents"], "Executor": {**s["agents"]["Executor"],
                                                            "code_execution_config": {"work_dir": "/etc"}}}},
     "agents.Executor.code_execution_config.work_dir", "relative folder"),
    (lambda s: {**s, "models": {"gpt4o": {"config_list": [{"model": "gpt-4o", "api_key": "sk-literal-0123456789"}]}}},
     "models.gpt4o.config_list[0].api_key", "literal API key"),
    (lambda s: {**s, "agents": {**s["agents"], "Planner": {**s["agents"]["Planner"], "sytem_message": "x"}}},
     "agents.Planner", "did you mean 'system_message'"),
    # A filter on a hidden field would confirm guesses of the server's key or address (201 vs 422).
    (lambda s: {**s, "models": {"gpt4o": {"config_list": {"env_or_file": "OAI_CONFIG_LIST",
                                                           "filter_dict": {"api_key": "sk-fake-key-0123456789"}}}}},
     "models.gpt4o.config_list.filter_dict.api_key", "only by model, tags, api_type"),
    (lambda s: {**s, "models": {"gpt4o": {"config_list": {"env_or_file": "OAI_CONFIG_LIST",
                                                           "filter_dict": {"base_url": "http://127.0.0.1"}}}}},
     "models.gpt4o.config_list.filter_dict.base_url", "only by model, tags, api_type"),
])
def test_specs_from_the_browser_carry_no_code_and_no_server_secrets(studio, change, path, words):
    server = studio()
    spec = change(gallery.load("research").to_dict())
    with server.client() as client:
        for route in ("/api/teams/validate", "/api/teams"):
            response = client.post(route, json=spec)
            assert response.status_code == 422, response.text
            errors = response.json()["errors"]
            assert any(e["path"].startswith(path) and words in e["message"] for e in errors), errors
            assert "sk-literal" not in response.text and "sk-fake" not in response.text
        response = client.post("/api/runs", json={"team": spec, "message": "hi"})
        assert response.status_code == 422 and any(e["path"].startswith(path) for e in response.json()["errors"])
        assert client.get("/api/runs").json() == []


def test_validate_reports_notes_and_yaml_lines(studio):
    server = studio()
    with server.client() as client:
        valid = client.post("/api/teams/validate", json={"yaml": gallery.text("research")})
        assert valid.status_code == 200 and valid.json()["valid"] is True
        assert any("runs in the sandbox" in note for note in valid.json()["notes"])
        broken = client.post("/api/teams/validate", json={"yaml": "version: 1\nagents:\n  a:\n    max_consecutive_auto_reply: three\n"})
        assert broken.status_code == 422
        assert any(e["path"] == "agents.a.max_consecutive_auto_reply" and e.get("line") == 4 for e in broken.json()["errors"])


def test_unsandboxed_only_when_the_server_allows_it(studio, tmp_path):
    server = studio(args=("--allow-unsandboxed",))
    with server.client() as client:
        notes = client.post("/api/teams/validate", json=gallery.load("research").to_dict()).json()["notes"]
    assert notes == [("agents.Executor.code_execution_config: runs code UNSANDBOXED on the server (asked for in the spec, "
                     "allowed by the server)")]


def test_models_are_listed_without_their_keys(studio, model_server):
    server = studio()
    with server.client() as client:
        response = client.get("/api/models")
    assert response.status_code == 200
    assert response.json() == {"source": "OAI_CONFIG_LIST", "models": [
        {"model": "gpt-4o-mini", "api_type": None, "base_url": f"http://127.0.0.1:{model_server.port}", "tags": [], "has_key": True}]}
    assert "sk-fake" not in response.text


def test_stop_then_resume(studio):
    server = studio()
    with server.client() as client:
        run_id = client.post("/api/runs", json={"team": "research", "message": "hi", "model": "scripted"}).json()["id"]
        wait_status(client, run_id, "waiting_input")
        stopped = client.post(f"/api/runs/{run_id}/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "interrupted"
        info = run_info(client, run_id)
        assert info["state"] == "stopped" and not info["live"]
        assert client.post(f"/api/runs/{run_id}/input", json={"text": "exit"}).status_code == 409
        assert client.post(f"/api/runs/{run_id}/resume").status_code == 200
        assert client.post(f"/api/runs/{run_id}/resume").status_code == 409  # running already
        wait_status(client, run_id, "waiting_input")
        assert client.post(f"/api/runs/{run_id}/input", json={"text": "exit"}).status_code == 200
        assert wait_done(client, run_id)["status"] == "finished"
        assert client.post(f"/api/runs/{run_id}/resume").status_code == 409  # finished
