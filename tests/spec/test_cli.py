"""The spec commands: parley spec / gallery / run / resume, in real processes where it matters
(``parley run`` killed with SIGKILL mid group chat, then ``parley resume`` in a new process)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from parley.cli import main
from parley.spec import Team, gallery
from parley.store import RunStore
from tests.servers.openai_fake import FakeOpenAIServer

from .base_specs import team_document

SRC = str(Path(__file__).resolve().parents[2] / "src")
ROOT = str(Path(__file__).resolve().parents[2])


def parley(*args: str, cwd, env=None, **options) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT]), **(env or {})}
    return subprocess.run([sys.executable, "-m", "parley.cli", *args], cwd=cwd, env=environment, capture_output=True, check=False,
                          text=True, timeout=120, **options)


def test_help_lists_the_commands_and_imports_nothing_heavy():
    code = ("import sys\nfrom parley.cli import main\ntry:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pydantic', 'yaml', 'sqlalchemy', 'parley.spec', 'parley.agents') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True, timeout=60, check=False)
    assert "--allow-module" in done.stdout and "--message" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
    usage = subprocess.run([sys.executable, "-m", "parley.cli", "--help"], env={**os.environ, "PYTHONPATH": SRC},
                           capture_output=True, text=True, timeout=60, check=False).stdout
    for command in ("run", "resume", "spec", "gallery"):
        assert re.search(rf"^\s+{command}\s", usage, re.MULTILINE), usage


def test_spec_validate_and_check(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(Team.from_dict(team_document()).to_yaml(), encoding="utf-8")
    assert main(["spec", "validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{good}: valid (base: 6 agents, sha256 ")
    assert "agents.Executor.code_execution_config: runs code UNSANDBOXED" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("max_consecutive_auto_reply: 3", "max_consecutive_auto_reply: three"))
    assert main(["spec", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "three" in text)
    assert f'agents.Engineer.max_consecutive_auto_reply (line {line}): must be an integer ≥ 0, got "three"' in err
    # The Critic's nested chat is triggered by the Engineer, who only ever talks to the manager.
    assert main(["spec", "check", str(good)]) == 1
    out = capsys.readouterr().out
    assert "agents.Reviewer: never speaks in the walk (not reachable)" in out and out.endswith("check: problems found\n")
    assert main(["spec", "check", "research"]) == 0  # a gallery team by name
    assert capsys.readouterr().out.splitlines()[-1] == "check: ok"


def test_spec_check_reports_what_is_not_reachable(tmp_path, capsys):
    document = team_document()
    document["group_chats"]["team"]["allowed_or_disallowed_speaker_transitions"] = {
        "Admin": ["Engineer"], "Engineer": ["Admin"], "Executor": ["Critic"], "Critic": ["Executor"]}
    path = tmp_path / "island.json"
    path.write_text(json.dumps(document))
    assert main(["spec", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "agents.Executor: never speaks in the walk (not reachable)" in out and out.endswith("check: problems found\n")


def test_spec_schema_is_the_documents_json_schema(capsys):
    assert main(["spec", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "TeamSpec" and "agents" in schema["required"]
    assert "max_consecutive_auto_reply" in schema["$defs"]["AgentSpec"]["properties"]


def test_gallery_commands(capsys):
    assert main(["gallery", "list"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == gallery.names()
    assert main(["gallery", "export", "research"]) == 0
    assert capsys.readouterr().out == gallery.text("research")
    assert main(["gallery", "show", "research"]) == 0
    assert "chat_manager (GroupChatManager, model gpt4o, manages research)" in capsys.readouterr().out
    assert main(["gallery", "show", "reserch"]) == 1
    assert "did you mean 'research'?" in capsys.readouterr().err


def test_run_records_the_spec_and_its_hash(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    done = parley("run", "sequential", "--model", "scripted", "--store", url, "--message", "tea", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = re.search(r"recording as run (\S+)", done.stdout).group(1)
    assert f"Recorded as run {run_id}" in done.stdout
    from parley.spec.runs import stored_spec

    with RunStore(url, create=False) as store:
        team, options = stored_spec(store, run_id)
        assert team == gallery.load("sequential") and options == {"model": "scripted", "task": "tea", "allow_modules": [],
                                                                       "allow_env": [], "allow_work_dirs": []}
        assert store.messages(run_id)[0].message["content"] == "Facts about: tea"
        assert store.get_run(run_id).status == "finished"


def test_resume_refuses_a_run_without_a_spec(tmp_path, capsys):
    from parley import ConversableAgent

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with RunStore(url) as store, store.new_run() as run:
        ConversableAgent("a", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=1).initiate_chat(
            ConversableAgent("b", llm_config=False, human_input_mode="NEVER", default_auto_reply="ok"), message="hi", silent=True)
    assert main(["resume", run.id, "--store", url]) == 1
    assert f"run {run.id} was not started from a spec" in capsys.readouterr().err


GROUP_SPEC = {
    "version": 1,
    "name": "relay",
    "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST", "filter_dict": {"model": "gpt-4o-mini"}}, "temperature": 0}},
    "agents": {
        "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False},
        "Planner": {"class": "AssistantAgent", "system_message": "Planner.", "llm_config": "gpt"},
        "Coder": {"class": "AssistantAgent", "system_message": "Coder.", "llm_config": "gpt"},
        "Critic": {"class": "AssistantAgent", "system_message": "Critic.", "llm_config": "gpt"},
        "manager": {"class": "GroupChatManager", "llm_config": "gpt", "groupchat": "relay"},
    },
    "group_chats": {"relay": {"agents": ["user", "Planner", "Coder", "Critic"], "max_round": 16, "send_introductions": True}},
    "run": {"initiator": "user", "recipient": "manager", "message": "{task}", "task": "plan a picnic"},
}


def deterministic(body: dict) -> dict:
    """The fake model's answer, a function of the request alone: a run resumed in another
    process gets the answers the uninterrupted run got."""
    messages = body["messages"]
    for message in reversed(messages):
        match = re.search(r"select the next role from \[(.*?)\] to play", str(message.get("content") or ""))
        if match:
            names = re.findall(r"'([^']*)'", match.group(1))
            return {"content": names[len(messages) % len(names)]}
    return {"content": f"{messages[0]['content'][:8]} answers message {len(messages)}"}


def transcript(url: str, run_id: str) -> list[tuple]:
    with RunStore(url, create=False) as store:
        return [(m.sender, m.recipient, m.message.get("content")) for m in store.messages(run_id)]


def stored_count(url: str, run_id: str) -> int:
    try:
        with RunStore(url, create=False) as store:
            return store.get_run(run_id).messages
    except Exception:  # noqa: BLE001 - not there yet
        return -1


def run_status(url: str, run_id: str) -> str | None:
    try:
        with RunStore(url, create=False) as store:
            return store.get_run(run_id).status
    except Exception:  # noqa: BLE001 - not there yet
        return None


@pytest.mark.slow
def test_run_killed_mid_group_chat_then_resumed_in_a_new_process(tmp_path):
    server = FakeOpenAIServer(delay=0.1, default=deterministic).start()
    try:
        env = {"OAI_CONFIG_LIST": json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-fake", "base_url": server.base_url}])}
        spec = tmp_path / "relay.yaml"
        spec.write_text(yaml.safe_dump(GROUP_SPEC), encoding="utf-8")
        whole = f"sqlite:///{tmp_path / 'whole.db'}"
        done = parley("run", str(spec), "--store", whole, "--run-id", "whole-run", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        expected = transcript(whole, "whole-run")
        assert len(expected) > 16 and expected[1][0] == "manager"  # the introductions, then the rounds

        killed = f"sqlite:///{tmp_path / 'killed.db'}"
        child = subprocess.Popen([sys.executable, "-m", "parley.cli", "run", str(spec), "--store", killed, "--run-id", "killed-run"],
                                 cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT]), **env},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while stored_count(killed, "killed-run") < 5 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert child.poll() is None, "the run ended before the kill"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        at_kill = stored_count(killed, "killed-run")
        assert 5 <= at_kill < len(expected) - 4  # mid group chat
        # A unique id prefix; the base team's Executor runs code unsandboxed, which a resume asks for again.
        resumed = parley("resume", "kill", "--store", killed, "--allow-unsandboxed", cwd=tmp_path, env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert "continuing run killed-run" in resumed.stdout
        assert transcript(killed, "killed-run") == expected
        with RunStore(killed, create=False) as store:
            assert store.get_run("killed-run").status == "finished"
            assert "sk-fake" not in store.export("killed-run")  # the key stays in OAI_CONFIG_LIST
            with store.engine.connect() as connection:
                stored = connection.exec_driver_sql("SELECT document, options FROM parley_run_specs").one()
            assert "sk-fake" not in "".join(stored) and '"env_or_file": "OAI_CONFIG_LIST"' in stored[0]
    finally:
        server.stop()


@pytest.mark.slow
def test_sequential_chats_killed_then_resumed(tmp_path):
    def answer(body: dict) -> dict:
        return {"content": f"{body['messages'][0]['content'][:6]} on {len(body['messages'])} messages"}

    server = FakeOpenAIServer(delay=0.4, default=answer).start()
    try:
        env = {"OAI_CONFIG_LIST": json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-fake", "base_url": server.base_url}])}
        whole = f"sqlite:///{tmp_path / 'whole.db'}"
        assert parley("run", "sequential", "--store", whole, "--run-id", "whole", cwd=tmp_path, env=env).returncode == 0
        expected = transcript(whole, "whole")
        assert len(expected) == 6 and "Resear on 2 messages" in expected[2][2]  # the carryover reached the writer
        killed = f"sqlite:///{tmp_path / 'killed.db'}"
        child = subprocess.Popen([sys.executable, "-m", "parley.cli", "run", "sequential", "--store", killed, "--run-id", "cut"],
                                 cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT]), **env},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while stored_count(killed, "cut") < 2 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert child.poll() is None, "the run ended before the kill"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert 2 <= stored_count(killed, "cut") < 6
        resumed = parley("resume", "cut", "--store", killed, "--allow-unsandboxed", cwd=tmp_path, env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert transcript(killed, "cut") == expected
    finally:
        server.stop()


def test_run_asks_the_human_on_the_terminal(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    done = parley("run", "research", "--model", "scripted", "--store", url, "--run-id", "asked", cwd=tmp_path, input="exit\n")
    assert done.returncode == 0, done.stderr
    assert "Replying as Admin" in done.stdout and "note: agents.Executor.code_execution_config: runs code UNSANDBOXED" in done.stderr
    with RunStore(url, create=False) as store:
        assert [h["text"] for h in store.records("asked", "human_inputs") if h["kind"] == "reply"] == ["exit"]


@pytest.mark.slow
def test_a_run_killed_while_waiting_for_the_human_resumes_with_the_answer(tmp_path):
    whole = f"sqlite:///{tmp_path / 'whole.db'}"
    assert parley("run", "research", "--model", "scripted", "--store", whole, "--run-id", "whole", cwd=tmp_path,
                  input="exit\n").returncode == 0
    expected = transcript(whole, "whole")
    waiting = f"sqlite:///{tmp_path / 'waiting.db'}"
    child = subprocess.Popen([sys.executable, "-m", "parley.cli", "run", "research", "--model", "scripted", "--store", waiting,
                              "--run-id", "waiting"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT])},
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, status = time.monotonic() + 60, None
    while status != "waiting_input" and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        status = run_status(waiting, "waiting")
    assert status == "waiting_input" and child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    resumed = parley("resume", "waiting", "--store", waiting, "--answer", "exit", "--allow-unsandboxed", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert transcript(waiting, "waiting") == expected
