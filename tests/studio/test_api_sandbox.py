"""Code a model writes in a Studio run runs in the sandbox unless the spec asks otherwise and the
server allows it: the gallery's coding team (which asks for ``use_docker: false``) on a server
without ``--allow-unsandboxed`` can't see the server's files or environment (its model keys)."""

from __future__ import annotations

import pytest

from .conftest import wait_status

CODE = """```python
import os
print("canary seen:", os.path.exists({canary!r}))
print("models seen:", os.environ.get("OAI_CONFIG_LIST") is not None)
```"""


@pytest.mark.parametrize("allowed", [False, True])
def test_the_coding_team_s_code_runs_sandboxed_unless_the_server_allows_otherwise(studio, model_server, tmp_path, allowed):
    canary = tmp_path / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("server file")
    server = studio(args=("--allow-unsandboxed",) if allowed else ())
    model_server.add({"content": CODE.format(canary=str(canary))}, {"content": "All done. TERMINATE"})
    with server.client() as client:
        started = client.post("/api/runs", json={"team": "coding", "message": "look around"})
        assert started.status_code == 201, started.text
        run_id = started.json()["id"]
        wait_status(client, run_id, "finished")
        (execution,) = client.get(f"/api/runs/{run_id}/export").json()["code_executions"]
    assert execution["exit_code"] == 0, execution
    if allowed:  # asked for by the spec, allowed by the server: this machine, as the seed does
        assert "canary seen: True" in execution["output"] and "models seen: True" in execution["output"]
        assert "sandbox" not in execution["executor"].lower()
    else:
        assert "canary seen: False" in execution["output"] and "models seen: False" in execution["output"]
        assert "sandbox" in execution["executor"].lower()
    assert (tmp_path / ".parley/studio/runs" / run_id / "coding").is_dir()  # the spec's work_dir, in the run's own folder
    assert not (tmp_path / "coding").exists()
