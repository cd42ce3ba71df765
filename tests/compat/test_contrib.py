"""Classic contrib agents on their classic paths, used as a classic script would."""

from __future__ import annotations

import parley
from parley import ConversableAgent, GroupChat, GroupChatManager
from tests.conftest import scripted_config


def team():
    writer = ConversableAgent("writer", llm_config=scripted_config(["Draft: leaves fall"]), human_input_mode="NEVER")
    critic = ConversableAgent("critic", llm_config=scripted_config(["Good. TERMINATE"]), human_input_mode="NEVER")
    groupchat = GroupChat([writer, critic], messages=[], max_round=4, speaker_selection_method="round_robin")
    return GroupChatManager(groupchat, llm_config=False, is_termination_msg=lambda m: "TERMINATE" in (m.get("content") or ""))


def test_society_of_mind_answers_with_the_inner_chat_prepared_by_its_model():
    from parley.agentchat.contrib.society_of_mind_agent import SocietyOfMindAgent

    client = parley.ScriptedModelClient(["Leaves fall in autumn."])
    client.keep_requests = True
    society = SocietyOfMindAgent("society", chat_manager=team(), llm_config={"config_list": [{"model": "s", "client": client}]})
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=0)
    result = user.initiate_chat(society, message="Write about autumn.", max_turns=1)
    assert result.summary == "Leaves fall in autumn."
    inner = society.chat_manager.groupchat.messages
    assert [m["name"] for m in inner] == ["society", "writer", "critic"]
    prompt = client.requests[-1].messages
    assert "Write about autumn." in prompt[0]["content"] and "writer: Draft: leaves fall" in prompt[1]["content"]


def test_society_of_mind_without_a_model_answers_with_the_last_inner_message():
    from parley.agentchat.contrib.society_of_mind_agent import SocietyOfMindAgent

    society = SocietyOfMindAgent("society", chat_manager=team())
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=0)
    result = user.initiate_chat(society, message="Write about autumn.", max_turns=1)
    assert result.summary == "Good."


def test_text_analyzer_agent():
    from parley.agentchat.contrib.text_analyzer_agent import TextAnalyzerAgent

    client = parley.ScriptedModelClient(["yes"])
    client.keep_requests = True
    analyzer = TextAnalyzerAgent(llm_config={"config_list": [{"model": "s", "client": client}]})
    assert analyzer.analyze_text("The sky is blue.", "Does the TEXT mention a colour? Answer yes or no.") == "yes"
    sent = client.requests[-1].messages
    assert sent[0]["role"] == "system" and "expert in text analysis" in sent[0]["content"]
    assert sent[-1]["content"].startswith("INSTRUCTIONS: Does the TEXT mention a colour?")
    assert "TEXT: The sky is blue." in sent[-1]["content"]


def test_img_utils(tmp_path):
    from PIL import Image

    from parley.agentchat.contrib import img_utils

    path = tmp_path / "red.png"
    Image.new("RGB", (1024, 1024), (255, 0, 0)).save(path)
    uri = img_utils.pil_to_data_uri(img_utils.get_pil_image(str(path)))
    assert uri.startswith("data:image/png;base64,")
    assert img_utils.get_pil_image(uri).getpixel((0, 0)) == (255, 0, 0)
    parts = img_utils.gpt4v_formatter(f"What colour is <img {path}> here?")
    assert [p["type"] for p in parts] == ["text", "image_url", "text"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png")
    prompt, images = img_utils.llava_formatter(f"Look <img {path}> and <img {path}>", order_image_tokens=True)
    assert prompt == "Look <image 0> and <image 1>" and len(images) == 2
    assert img_utils.extract_img_paths("see a.png and http://x.com/b.jpg") == ["a.png", "http://x.com/b.jpg"]
    assert img_utils.num_tokens_from_gpt_image(str(path)) == 170 * 4 + 85
    assert img_utils.num_tokens_from_gpt_image(str(path), low_quality=True) == 85


def test_agent_builder_builds_saves_and_loads_a_team(tmp_path):
    import json

    from parley.agentchat.contrib.agent_builder import AgentBuilder

    design = {"agents": [{"name": "Data Analyst", "system_message": "You analyse data. Reply TERMINATE when done.",
                          "description": "Speaks about data."},
                         {"name": "Writer", "system_message": "You write the report.", "description": "Writes."}],
              "coding": True}
    builder = AgentBuilder(builder_llm_config=scripted_config(["Here you go:\n```json\n" + json.dumps(design) + "\n```"]),
                           agent_llm_config=scripted_config(["ok"]))
    agents, configs = builder.build("Analyse sales and write a report", {"temperature": 0})
    assert [a.name for a in agents] == ["Data_Analyst", "Writer", "Computer_terminal"]
    assert agents[0].system_message.startswith("You analyse data") and agents[0].description == "Speaks about data."
    assert agents[2].code_execution_config["work_dir"] == "groupchat"
    path = builder.save(str(tmp_path / "team.json"))
    reloader = AgentBuilder(builder_llm_config=scripted_config(["unused"]), agent_llm_config=scripted_config(["ok"]))
    loaded, loaded_configs = reloader.load(path)
    assert [a.name for a in loaded] == [a.name for a in agents] and loaded_configs == configs


def test_math_chat_runs_the_queries_with_earlier_state_and_ends_at_a_boxed_answer(tmp_path):
    from parley import AssistantAgent
    from parley.agentchat.contrib.math_user_proxy_agent import MathUserProxyAgent

    client = parley.ScriptedModelClient([
        "```python\nz = 2\n```",  # nothing printed: an error the model is told about, and z is not kept
        "Key idea: solve it.\n```python\nx = 5\ny = x**3\nprint(x)\n```",
        "```python\ny\n```",  # a bare expression is printed, and y carries over from the last query
        "```python\n1/0\n```",
        "So x is \\boxed{5}.",
    ])
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "s", "client": client}]})
    math = MathUserProxyAgent(code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    result = math.initiate_chat(assistant, message=math.message_generator, problem="$x^3=125$. What is x?",
                                prompt_type="python", silent=True)
    first = result.chat_history[0]["content"]
    assert first.endswith("Problem: $x^3=125$. What is x?") and "\\boxed{}" in first
    replies = [m["content"] for m in result.chat_history if m["name"] == "MathChatAgent"][1:]
    assert replies[:3] == ["No output found. Make sure you print the results.", "5", "125"]
    assert replies[3].startswith("Error: ") and "ZeroDivisionError: division by zero" in replies[3] and ".py" not in replies[3]
    assert result.chat_history[-1]["content"] == "So x is \\boxed{5}." and len(result.chat_history) == 10


def test_math_chat_refuses_an_unknown_prompt_type_and_a_missing_wolfram_app_id(monkeypatch):
    import pytest

    from parley.agentchat.contrib.math_user_proxy_agent import MathUserProxyAgent

    math = MathUserProxyAgent(code_execution_config={"use_docker": False})
    with pytest.raises(ValueError, match=r"context\['prompt_type'\] must be one of"):
        math.message_generator(math, None, {"problem": "1+1", "prompt_type": "latex"})
    monkeypatch.delenv("WOLFRAM_ALPHA_APPID", raising=False)
    with pytest.raises(ValueError, match="WOLFRAM_ALPHA_APPID"):
        math.execute_one_wolfram_query("2x=3")


def test_img_utils_without_pillow_names_the_extra_to_install(monkeypatch):
    import sys

    import pytest

    from parley.agentchat.contrib.img_utils import get_pil_image

    monkeypatch.setitem(sys.modules, "PIL", None)  # how the import system marks a package as unavailable
    with pytest.raises(ImportError, match=r"needs Pillow, which is not installed: pip install 'parley\[images\]'"):
        get_pil_image("picture.png")


def test_contrib_replies_with_neither_messages_nor_sender_decline_without_a_none_conversation():
    import asyncio

    import pytest

    from parley.agentchat.contrib.math_user_proxy_agent import MathUserProxyAgent
    from parley.agentchat.contrib.society_of_mind_agent import SocietyOfMindAgent
    from parley.agentchat.contrib.text_analyzer_agent import TextAnalyzerAgent

    math = MathUserProxyAgent(code_execution_config={"use_docker": False})
    assert math._generate_math_reply(None, None) == (False, None)  # was an IndexError
    society = SocietyOfMindAgent("society", chat_manager=team())
    assert asyncio.run(society.generate_inner_monologue_reply(None, None)) == (False, None)
    analyzer = TextAnalyzerAgent(llm_config=False)
    with pytest.raises(ValueError, match="needs two messages"):
        asyncio.run(analyzer._analyze_in_reply(None, None))
    for agent in (math, society, analyzer):
        assert None not in agent.chat_messages  # no conversation with "no one" was created


def test_agent_builder_writes_its_team_as_a_spec_with_the_model_reference_not_the_keys(tmp_path, monkeypatch):
    import json

    from parley.agentchat.contrib.agent_builder import AgentBuilder
    from parley.spec import Team

    key = "sk-proj-builderSecret0123456789abcdef"
    config_file = tmp_path / "OAI_CONFIG_LIST"
    config_file.write_text(json.dumps([{"model": "gpt-4o-mini", "api_key": key, "base_url": "http://127.0.0.1:9/v1"},
                                       {"model": "gpt-4o", "api_key": key}]))
    monkeypatch.chdir(tmp_path)
    design = {"agents": [{"name": "Analyst", "system_message": "You analyse. Reply TERMINATE when done.",
                          "description": "Speaks about data."}, {"name": "Writer", "system_message": "You write."}],
              "coding": True}
    builder = AgentBuilder(config_file_or_env="OAI_CONFIG_LIST", config_file_location=str(tmp_path),
                           agent_model="gpt-4o-mini", builder_llm_config=scripted_config([json.dumps(design)]))
    agents, _ = builder.build("Analyse sales and write a report", {"temperature": 0, "cache_seed": None})
    assert agents[0].llm_config["config_list"][0]["api_key"] == key  # the agents got the real entries

    team = builder.to_spec(max_round=8)
    text = team.to_yaml()
    assert key not in text and "api_key" not in text
    document = team.to_dict()
    assert document["models"]["agents"] == {
        "config_list": {"env_or_file": "OAI_CONFIG_LIST", "file_location": str(tmp_path),
                        "filter_dict": {"model": ["gpt-4o-mini"]}},
        "temperature": 0, "cache_seed": None}
    assert list(document["agents"]) == ["Analyst", "Writer", "Computer_terminal", "chat_manager"]
    assert document["group_chats"]["team"]["agents"] == ["Analyst", "Writer", "Computer_terminal"]
    assert document["group_chats"]["team"]["max_round"] == 8
    assert document["run"]["initiator"] == "Analyst" and document["run"]["task"] == "Analyse sales and write a report"
    assert team.validate().unsandboxed == []  # the terminal runs code in the sandbox
    assert Team.from_yaml(text).to_dict() == document

    built = team.build()  # the reference resolves to the same entry the builder used
    assert built.recipient.name == "chat_manager"
    assert built.initiator.llm_config["config_list"][0]["model"] == "gpt-4o-mini"


def test_agent_builder_to_spec_refuses_without_a_reference_or_a_build():
    import json

    import pytest

    from parley.agentchat.contrib.agent_builder import AgentBuilder

    builder = AgentBuilder(builder_llm_config=scripted_config([json.dumps({"agents": [{"name": "A"}]})]),
                           agent_llm_config=scripted_config(["ok"]))
    with pytest.raises(ValueError, match="nothing was built yet"):
        builder.to_spec()
    builder.build("a task")
    with pytest.raises(ValueError, match="agent_llm_config"):
        builder.to_spec()
