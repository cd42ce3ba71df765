"""The gallery: every team loads, validates, checks, round-trips, and runs end to end against
the fake OpenAI server with a seed-style OAI_CONFIG_LIST."""

from __future__ import annotations

import types

import pytest
import yaml

from parley import IOQueue, IOStream, demos, events
from parley.spec import Team, gallery

NAMES = ["coding", "nested", "research", "sequential", "tools"]


def test_the_gallery_lists_its_teams():
    assert gallery.names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_a_gallery_team_loads_validates_checks_and_round_trips(name):
    text = gallery.text(name)
    team = Team.from_yaml(text)
    assert team.name == name
    assert team.to_dict() == yaml.safe_load(text)  # the dump is the document as written
    assert Team.from_yaml(team.to_yaml()) == team
    assert Team.from_dict(team.to_dict()).digest == team.digest
    report = team.validate()
    assert report.not_allowed == []
    assert report.unsandboxed == {"coding": ["user_proxy"], "research": ["Executor"]}.get(name, [])
    check = team.check()
    assert check.ok, check.lines()
    assert sorted(check.spoke) == sorted(n for n, a in team.spec.agents.items() if a.class_ != "GroupChatManager")
    built = team.build(model="scripted")
    captured = (Team.from_agents(built.initiator, chat_queue=built.chat_queue) if built.chat_queue is not None
                else Team.from_agents(built.initiator, built.recipient, **built.chat_kwargs))
    assert captured == team


def test_unknown_gallery_name_suggests():
    with pytest.raises(ValueError, match="no gallery team named 'reserch'; did you mean 'research'?"):
        gallery.text("reserch")


def test_coding_runs_the_seeds_loop(seed_config, tmp_path):
    seed_config.add(
        {"content": "Let me check.\n```python\n# filename: ytd.py\nimport datetime\nprint('today', datetime.date(2024, 12, 19))\n```"},
        {"content": "Today is 2024-12-19.\nTERMINATE"},
    )
    result = gallery.load("coding").run(silent=True)
    history = result.chat_history
    assert history[0]["content"] == "今天是什么日期？比较 META 和 TESLA 的年初至今的收益。"
    assert history[2]["content"].startswith("exitcode: 0 (execution succeeded)\nCode output: \ntoday 2024-12-19")
    assert (tmp_path / "coding" / "ytd.py").exists()
    assert len(seed_config.requests) == 2
    assert seed_config.requests[0]["temperature"] == 0  # (classic reads "seed" as the cache seed: not sent)
    assert seed_config.requests[0]["model"] == "gpt-4o-mini"


def serve_research_script(server) -> None:
    """The demos' scripted research team, answered by the fake server (a fresh script per run)."""
    reply = demos.scripted_team_model()
    server.default = lambda body: {"content": reply(types.SimpleNamespace(messages=body["messages"]))}


def speakers_of(run) -> list[str]:
    with IOStream.set_default(IOQueue(["", "exit"])), events.capture() as seen:
        run()
    return [e.speaker for e in seen.of(events.SpeakerSelected)], [m.sender for m in seen.of(events.MessageSent)]


def test_research_speaker_order_equals_the_python_teams(seed_config):
    serve_research_script(seed_config)
    spec_order = speakers_of(lambda: gallery.load("research").run(silent=True))
    serve_research_script(seed_config)
    config = {"config_list": [{"model": "gpt-4o-mini", "api_key": "sk-fake-key", "base_url": seed_config.base_url}],
              "temperature": 0}
    admin, manager = demos.build_research_team(config)
    python_order = speakers_of(lambda: admin.initiate_chat(manager, message=demos.SEED_RESEARCH_MESSAGE, silent=True))
    assert spec_order == python_order
    assert spec_order[0] == list(demos.SCRIPTED_TEAM_SELECTIONS)


def test_sequential_chats_carry_the_summaries_over(seed_config):
    seed_config.add({"content": "Fact one. Fact two. Fact three."}, {"content": "A post."}, {"content": "A short post."})
    results = gallery.load("sequential").run(message="email triage", silent=True)
    assert [r.summary for r in results] == ["Fact one. Fact two. Fact three.", "A post.", "A short post."]
    first, second, third = (r["messages"] for r in seed_config.requests)
    assert first[-1]["content"] == "Facts about: email triage"
    assert "Fact one. Fact two. Fact three." in second[-1]["content"]  # the carryover
    assert "A post." in third[-1]["content"]


def test_nested_chats_bring_the_critics_review(seed_config):
    seed_config.add({"content": "Draft 1"}, {"content": "Review: shorter title"}, {"content": "Draft 2"})
    result = gallery.load("nested").run(silent=True)
    assert [(m["name"], m["content"]) for m in result.chat_history] == [
        ("Critic", "Write a concise but engaging blogpost about the classic AutoGen API."),
        ("Writer", "Draft 1"), ("Critic", "Review: shorter title"), ("Writer", "Draft 2")]
    review_request = seed_config.requests[1]["messages"]
    assert review_request[0]["content"].startswith("Reviewer.") and review_request[-1]["content"] == "Draft 1"


def test_the_tool_team_calls_its_tool(seed_config):
    seed_config.add(
        {"tool_calls": [{"name": "calculator", "arguments": '{"a": 232, "b": 32, "operator": "-"}'}]},
        {"content": "232 - 32 = 200. TERMINATE"},
    )
    with events.capture() as seen:
        result = gallery.load("tools").run(silent=True)
    (call,) = seen.of(events.ToolCalled)
    assert call.tool == "calculator" and call.ok and call.result == "200.0"
    assert seed_config.requests[0]["tools"][0]["function"]["name"] == "calculator"
    assert result.chat_history[-1]["content"].endswith("TERMINATE")
