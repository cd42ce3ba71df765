"""A Studio run of a team with a RetrieveUserProxyAgent: its documents only from folders the
server allows (--allow-docs), its index in the run's folder, and its retrieval in the run's
events (what the playground shows as where an answer came from)."""

from __future__ import annotations

import json

from websockets.sync.client import connect

from .conftest import TOKEN, wait_status
from .test_api_events import _receive_until

QUESTION = "Which port does the staging server listen on?"


def rag_team(docs_path: str = "docs") -> dict:
    return {
        "version": 1, "name": "rag",
        "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST", "filter_dict": {"model": "gpt-4o-mini"}}}},
        "agents": {
            "ragproxy": {"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                         "retrieve_config": {"task": "qa", "docs_path": docs_path, "collection_name": "notes"}},
            "assistant": {"class": "AssistantAgent", "llm_config": "gpt"},
        },
        "run": {"initiator": "ragproxy", "recipient": "assistant", "task": QUESTION, "max_turns": 1},
    }


def test_documents_only_from_folders_the_server_allows(studio, tmp_path):
    (tmp_path / "docs").mkdir()
    server = studio()
    with server.client() as client:
        for docs_path in ("docs", "OAI_CONFIG_LIST", "/etc", "https://example.com/notes.md"):
            response = client.post("/api/teams", json=rag_team(docs_path))
            assert response.status_code == 422, response.text
            [error] = response.json()["errors"]
            assert error["path"] == "agents.ragproxy.retrieve_config.docs_path"
            assert "--allow-docs" in error["message"] and "allowed now: none" in error["message"]
        escaping = rag_team()
        escaping["agents"]["ragproxy"]["retrieve_config"]["db_config"] = {"path": "../../../shared"}
        response = client.post("/api/teams", json=escaping)
        assert response.status_code == 422
        assert "agents.ragproxy.retrieve_config.db_config.path" in [e["path"] for e in response.json()["errors"]]
        teachable = rag_team()
        teachable["agents"]["assistant"]["teachability"] = {"path_to_db_dir": "../memos"}
        response = client.post("/api/teams", json=teachable)
        assert response.status_code == 422
        assert "agents.assistant.teachability.path_to_db_dir" in [e["path"] for e in response.json()["errors"]]


def test_a_retrieval_run_records_where_its_answer_came_from(studio, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("The staging server listens on port 7311.\n\nThe parrot is Captain Pixel.\n")
    server = studio(args=("--allow-docs", "docs"))
    with server.client() as client:
        outside = client.post("/api/teams", json=rag_team("../elsewhere"))
        assert outside.status_code == 422 and "allowed now: 'docs'" in outside.text
        created = client.post("/api/teams", json=rag_team())
        assert created.status_code in (200, 201), created.text
        started = client.post("/api/runs", json={"team": created.json()["id"], "message": QUESTION})
        assert started.status_code == 201, started.text
        run_id = started.json()["id"]
        info = wait_status(client, run_id, "finished", "failed")
        assert info["status"] == "finished", server.output()
    with connect(server.ws_url(run_id), additional_headers={"Authorization": f"Bearer {TOKEN}"},
                 open_timeout=30) as socket:
        events = _receive_until(socket, "ReplayFinished")
    [retrieval] = [e for e in events if e["type"] == "DocumentsRetrieved"]
    assert retrieval["agent"] == "ragproxy" and retrieval["query"] == QUESTION and retrieval["collection"] == "notes"
    assert retrieval["results"][0]["source"] == "docs/notes.txt" and retrieval["used"] == [retrieval["results"][0]["id"]]
    first = next(e for e in events if e["type"] == "MessageSent")
    assert "port 7311" in json.dumps(first["message"])
    # The index is the run's own, in its folder; nothing was written in the server's folder.
    assert (tmp_path / ".parley" / "studio" / "runs" / run_id / "index").is_dir()
    assert not (tmp_path / "tmp").exists()
