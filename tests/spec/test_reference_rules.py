"""The cross-reference checks, rule by rule (``parley.spec.references``): each issue's path and
exact message, and what is not an issue. Documents are validated (``TeamSpec``) and checked; no
team is built."""

from __future__ import annotations

import copy

import pytest

from parley.spec.document import TeamSpec
from parley.spec.references import check_references, imported_modules, unsandboxed_agents


def spec_of(document: dict) -> TeamSpec:
    return TeamSpec.model_validate(document)


def issues(document: dict) -> list[str]:
    return [str(issue) for issue in check_references(spec_of(document))]


def two(**agents: dict) -> dict:
    """A chat between ``a`` and ``b``, with the given agents added (or replaced)."""
    return {"version": 1, "agents": {"a": {}, "b": {}, **agents}, "run": {"initiator": "a", "recipient": "b"}}


def group(members: list[str], **options) -> dict:
    """Agents x, y, z; a manager ``m`` of group ``g`` with ``members``; the run from x to m."""
    return {"version": 1, "agents": {"x": {}, "y": {}, "z": {}, "m": {"class": "GroupChatManager", "groupchat": "g"}},
            "group_chats": {"g": {"agents": members, **options}}, "run": {"initiator": "x", "recipient": "m"}}


def test_a_plain_two_agent_chat_has_no_issue():
    assert issues(two()) == []


def test_unknown_names_suggest_the_closest_or_list_the_known():
    assert issues(two(a={"llm_config": "gtp"}) | {"models": {"gpt": {"config_list": []}, "claude": {"config_list": []}}}) == [
        "agents.a.llm_config: no model named 'gtp'; did you mean 'gpt'?"]
    assert issues(two(a={"llm_config": "mistral"}) | {"models": {"gpt": {"config_list": []}, "claude": {"config_list": []}}}) \
        == ["agents.a.llm_config: no model named 'mistral' (known: gpt, claude)"]
    assert issues(two(a={"llm_config": "gpt"})) == ["agents.a.llm_config: no model named 'gpt'"]  # no model at all
    assert issues(two(a={"llm_config": False}, b={"llm_config": None})) == []
    assert issues(two(a={"llm_config": "gpt"}) | {"models": {"gpt": {"config_list": []}}}) == []


def test_a_manager_needs_a_known_group_chat_and_runs_no_code():
    document = group(["x", "y"])
    assert issues(document) == []
    del document["agents"]["m"]["groupchat"]
    assert issues(document) == [
        "agents.m.groupchat: required for a GroupChatManager: the name of a group chat under group_chats",
        "group_chats.g: no agent manages it: add an agent with class: GroupChatManager and groupchat: g"]
    document["agents"]["m"]["groupchat"] = "h"
    assert issues(document) == ["agents.m.groupchat: no group chat named 'h' (known: g)",
                                "group_chats.g: no agent manages it: add an agent with class: GroupChatManager and groupchat: g"]
    document = group(["x", "y"])
    document["agents"]["m"]["code_execution_config"] = {"work_dir": "w"}
    assert issues(document) == ["agents.m.code_execution_config: a GroupChatManager does not run code"]
    document["agents"]["m"]["code_execution_config"] = False
    assert issues(document) == []


def test_only_a_manager_has_a_groupchat():
    document = group(["x", "y"])
    document["agents"]["y"]["groupchat"] = "g"
    document["agents"]["z"] = {"class": "AssistantAgent", "groupchat": "nothing"}
    assert issues(document) == ["agents.y.groupchat: only a GroupChatManager has a groupchat (y is a ConversableAgent)",
                                "agents.z.groupchat: only a GroupChatManager has a groupchat (z is a AssistantAgent)"]


def test_nested_chats_name_known_agents_and_not_the_agent_alone():
    document = two(a={"nested_chats": [
        {"trigger": "q", "chat_queue": [{"recipient": "b"}, {"recipient": "r", "sender": "s"}]},
        {"trigger": ["b", "t"], "chat_queue": [{"recipient": "b", "sender": "b"}]},
    ]})
    assert issues(document) == [
        "agents.a.nested_chats[0].trigger: no agent named 'q' (known: a, b)",
        "agents.a.nested_chats[0].chat_queue[1].recipient: no agent named 'r' (known: a, b)",
        "agents.a.nested_chats[0].chat_queue[1].sender: no agent named 's' (known: a, b)",
        "agents.a.nested_chats[1].trigger: no agent named 't' (known: a, b)",
    ]
    for chat in ({"recipient": "a"}, {"recipient": "a", "sender": "a"}):
        document = two(a={"nested_chats": [{"trigger": "b", "chat_queue": [{"recipient": "b"}, chat]}]})
        assert issues(document) == ["agents.a.nested_chats[0].chat_queue[1].recipient: a can't have a nested chat with itself"]
    # Another agent may send to this one in its nested chat.
    assert issues(two(a={"nested_chats": [{"trigger": "b", "chat_queue": [{"recipient": "a", "sender": "b"}]}]})) == []


def test_a_group_chat_has_one_manager():
    document = group(["x", "y"])
    document["agents"]["n"] = {"class": "GroupChatManager", "groupchat": "g"}
    document["agents"]["o"] = {"class": "GroupChatManager", "groupchat": "g"}
    assert issues(document) == ["agents.n.groupchat: group chat 'g' already has the manager 'm'",
                                "agents.o.groupchat: group chat 'g' already has the manager 'm'"]


def test_group_members_are_known_distinct_agents_other_than_the_manager():
    assert issues(group(["x", "w", "y", "v"])) == ["group_chats.g.agents[1]: no agent named 'w' (known: x, y, z, m)",
                                                    "group_chats.g.agents[3]: no agent named 'v' (known: x, y, z, m)"]
    assert issues(group(["x", "y", "x"])) == ["group_chats.g.agents: names an agent more than once"]
    assert issues(group(["x", "m"])) == ["group_chats.g.agents: its own manager 'm' can't be a member",
                                         "group_chats: group chats contain each other in a loop: g -> g"]


def test_a_group_chat_without_a_manager():
    document = group(["x", "y"])
    document["group_chats"]["h"] = {"agents": ["x", "z"]}
    assert issues(document) == [
        "group_chats.h: no agent manages it: add an agent with class: GroupChatManager and groupchat: h"]


def test_transitions_stay_inside_the_group():
    document = group(["x", "y"], speaker_transitions_type="allowed",
                     allowed_or_disallowed_speaker_transitions={"x": ["y", "z"], "zz": ["x"], "y": ["x", "yy", "q"]})
    assert issues(document) == [
        "group_chats.g.allowed_or_disallowed_speaker_transitions.x[1]: 'z' is not in this group chat",
        "group_chats.g.allowed_or_disallowed_speaker_transitions.zz: 'zz' is not in this group chat",
        "group_chats.g.allowed_or_disallowed_speaker_transitions.y[1]: 'yy' is not in this group chat; did you mean 'y'?",
        "group_chats.g.allowed_or_disallowed_speaker_transitions.y[2]: 'q' is not in this group chat",
    ]
    document = group(["x", "y"], speaker_transitions_type="allowed", allowed_or_disallowed_speaker_transitions={"xx": []})
    assert issues(document) == [
        "group_chats.g.allowed_or_disallowed_speaker_transitions.xx: 'xx' is not in this group chat; did you mean 'x'?"]


def test_repeat_speakers_are_members():
    assert issues(group(["x", "y"], allow_repeat_speaker=["y", "z", "x", "m"])) == [
        "group_chats.g.allow_repeat_speaker[1]: 'z' is not in this group chat",
        "group_chats.g.allow_repeat_speaker[3]: 'm' is not in this group chat"]
    assert issues(group(["x", "y"], allow_repeat_speaker=True)) == []


def nested_groups(loop: bool) -> dict:
    """Group g (managed by m) holds manager n of group h; h holds manager m when ``loop``."""
    return {"version": 1, "agents": {
        "x": {}, "m": {"class": "GroupChatManager", "groupchat": "g"}, "n": {"class": "GroupChatManager", "groupchat": "h"}},
        "group_chats": {"g": {"agents": ["x", "n"]}, "h": {"agents": ["x", "m"] if loop else ["x"]}},
        "run": {"initiator": "x", "recipient": "m"}}


def test_group_chats_may_nest_but_not_in_a_loop():
    assert issues(nested_groups(loop=False)) == []
    (issue,) = issues(nested_groups(loop=True))
    assert issue in ("group_chats: group chats contain each other in a loop: g -> h -> g",
                     "group_chats: group chats contain each other in a loop: h -> g -> h")


def test_a_member_that_manages_an_unknown_group_is_no_loop():
    document = nested_groups(loop=False)
    document["agents"]["n"]["groupchat"] = "nothing"
    document["group_chats"]["g"]["agents"] = ["x", "n", "ghost"]
    assert [i for i in issues(document) if "loop" in i] == []


def tool(**fields) -> dict:
    return {"function": "parley.spec.tools:calculator", "caller": "a", "executor": "b", **fields}


def test_a_tool_names_known_agents():
    document = two(a={"class": "AssistantAgent"}) | {"tools": {"t": tool(caller="c", executor="e")}}
    assert issues(document) == ["tools.t.caller: no agent named 'c' (known: a, b)",
                                "tools.t.executor: no agent named 'e' (known: a, b)"]


@pytest.mark.parametrize("caller, ok", [
    ({"class": "AssistantAgent"}, True),  # an assistant's default model
    ({"class": "AssistantAgent", "llm_config": "gpt"}, True),
    ({"llm_config": "gpt"}, True),
    ({"class": "UserProxyAgent", "llm_config": "gpt"}, True),
    ({}, False),  # a ConversableAgent without llm_config has none
    ({"class": "UserProxyAgent"}, False),
    ({"class": "AssistantAgent", "llm_config": False}, False),
    ({"class": "GroupChatManager", "llm_config": "gpt", "groupchat": "g"}, False),
])
def test_a_tool_caller_needs_a_model(caller, ok):
    document = two(a=caller) | {"tools": {"t": tool()}, "models": {"gpt": {"config_list": []}}}
    found = [i for i in issues(document) if i.startswith("tools.")]
    assert found == ([] if ok else ["tools.t.caller: 'a' has no model to propose tool calls: give it an llm_config"])


def test_the_run_names_known_agents_and_not_the_initiator_twice():
    document = two()
    document["run"] = {"initiator": "c", "recipient": "d"}
    assert issues(document) == ["run.initiator: no agent named 'c' (known: a, b)",
                                "run.recipient: no agent named 'd' (known: a, b)"]
    document["run"] = {"initiator": "a", "recipient": "a"}
    assert issues(document) == ["run.recipient: the initiator can't chat with itself"]


def queue(*chats: dict) -> dict:
    return {"version": 1, "agents": {"a": {}, "b": {}, "c": {}}, "run": {"initiator": "a", "chats": list(chats)}}


def test_queued_chats_name_known_agents():
    assert issues(queue({"recipient": "b"}, {"recipient": "x", "sender": "y"}, {"recipient": "c", "sender": "b"})) == [
        "run.chats[1].recipient: no agent named 'x' (known: a, b, c)",
        "run.chats[1].sender: no agent named 'y' (known: a, b, c)"]


def test_chat_ids_are_distinct():
    assert issues(queue({"recipient": "b", "chat_id": 1}, {"recipient": "c", "chat_id": 2},
                        {"recipient": "b", "chat_id": 1}, {"recipient": "c", "chat_id": 1}, {"recipient": "c"})) == [
        "run.chats[2].chat_id: 1 is also the id of chats[0]", "run.chats[3].chat_id: 1 is also the id of chats[0]"]
    assert issues(queue({"recipient": "b", "chat_id": "one"}, {"recipient": "c", "chat_id": "one"})) == [
        "run.chats[1].chat_id: 'one' is also the id of chats[0]"]


def test_prerequisites_name_chat_ids_of_chats_that_have_one():
    assert issues(queue({"recipient": "b", "chat_id": 1}, {"recipient": "c", "chat_id": 2, "prerequisites": [1, 3, "x"]})) == [
        "run.chats[1].prerequisites[1]: no chat has chat_id 3", "run.chats[1].prerequisites[2]: no chat has chat_id 'x'"]
    assert issues(queue({"recipient": "b", "chat_id": 1}, {"recipient": "c", "prerequisites": [1]})) == [
        "run.chats[1].chat_id: required with prerequisites"]
    assert issues(queue({"recipient": "b", "chat_id": 1}, {"recipient": "c", "chat_id": 2, "prerequisites": []})) == []
    # A later chat may be a prerequisite of an earlier one (the order is the prerequisites').
    assert issues(queue({"recipient": "b", "chat_id": 1, "prerequisites": [2]}, {"recipient": "c", "chat_id": 2})) == []


def test_prerequisites_form_no_cycle():
    (issue,) = issues(queue({"recipient": "b", "chat_id": 1, "prerequisites": [2]},
                            {"recipient": "c", "chat_id": 2, "prerequisites": [1]}))
    assert issue in ("run.chats: prerequisites form a cycle: 1 -> 2 -> 1", "run.chats: prerequisites form a cycle: 2 -> 1 -> 2")
    assert issues(queue({"recipient": "b", "chat_id": "s", "prerequisites": ["s"]})) == [
        "run.chats: prerequisites form a cycle: s -> s"]


def test_only_known_prerequisites_make_the_order():
    # Chat 2 waits on 1 and on an unknown id: the unknown is named, no cycle is reported.
    assert issues(queue({"recipient": "b", "chat_id": 1}, {"recipient": "c", "chat_id": 2, "prerequisites": [1, 5]})) == [
        "run.chats[1].prerequisites[1]: no chat has chat_id 5"]


PLACEMENT = {"resources": {"gpu_box": 1}}


@pytest.mark.parametrize("agent, found", [
    ({"class": "AssistantAgent"}, []),  # NEVER by default
    ({"class": "AssistantAgent", "human_input_mode": "TERMINATE"}, ["TERMINATE"]),
    ({"human_input_mode": "NEVER"}, []),
    ({}, ["TERMINATE"]),  # a ConversableAgent asks at the end by default
    ({"class": "UserProxyAgent"}, ["ALWAYS"]),
    ({"class": "RetrieveUserProxyAgent"}, ["ALWAYS"]),
    ({"class": "RetrieveAssistantAgent"}, ["TERMINATE"]),
    ({"class": "UserProxyAgent", "human_input_mode": "NEVER"}, []),
])
def test_a_placed_agent_asks_no_human(agent, found):
    document = two(a={**agent, "placement": PLACEMENT})
    assert issues(document) == [f"agents.a.human_input_mode: a placed agent can't ask a human (it lives in a Ray actor): "
                                f"set human_input_mode: NEVER (it is {mode})" for mode in found]


def test_a_placed_agent_has_no_nested_chats_and_is_no_manager():
    document = two(a={"class": "AssistantAgent", "placement": PLACEMENT,
                      "nested_chats": [{"trigger": "b", "chat_queue": [{"recipient": "b"}]}]})
    assert issues(document) == [("agents.a.nested_chats: a placed agent's nested chats would run in its actor with copies "
                                "of the other agents: not supported; drop placement or the nested chats")]
    document = group(["x", "y"])
    document["agents"]["m"]["placement"] = PLACEMENT
    assert issues(document) == [("agents.m.placement: a GroupChatManager runs its group chat's loop, which stays with the run: "
                                "place its members instead")]
    assert issues(two(a={"class": "AssistantAgent", "placement": PLACEMENT, "nested_chats": []})) == []


def test_unsandboxed_agents_are_those_that_asked():
    document = two(a={"code_execution_config": {"use_docker": False}}, b={"code_execution_config": {"executor": "local"}},
                   c={"code_execution_config": {"executor": "sandbox"}}, d={"code_execution_config": False},
                   e={}, f={"code_execution_config": {"executor": "jupyter"}}, g={"code_execution_config": {}},
                   h={"code_execution_config": {"use_docker": True}})
    assert unsandboxed_agents(spec_of(document)) == ["a", "b", "f"]


def test_imported_modules_are_every_function_s_module_once_sorted():
    document = group(["x", "y"], speaker_selection_method="sel.mod:pick")
    document["agents"]["x"] = {"class": "AssistantAgent", "is_termination_msg": {"function": "term:done"}}
    document["agents"]["y"] = {"is_termination_msg": {"ends_with": "DONE"}}
    document["agents"]["r"] = {"class": "RetrieveUserProxyAgent", "retrieve_config": {
        "embedding_function": "emb.a:f", "custom_token_count_function": "count:f", "custom_text_split_function": "emb.a:g"}}
    document["agents"]["s"] = {"class": "RetrieveUserProxyAgent", "retrieve_config": {"embedding_function": "other:f"}}
    document["tools"] = {"t": tool(caller="x", executor="y", function="tools.b:f"), "u": tool(caller="x", executor="y")}
    document["group_chats"]["h"] = {"agents": ["x"], "speaker_selection_method": "round_robin"}
    assert imported_modules(spec_of(document)) == ["count", "emb.a", "other", "parley.spec.tools", "sel.mod", "term", "tools.b"]
    assert imported_modules(spec_of(two())) == []


def test_check_references_does_not_change_the_spec():
    document = group(["x", "y", "x"], allow_repeat_speaker=["q"])
    spec = spec_of(document)
    before = copy.deepcopy(spec.model_dump())
    check_references(spec)
    assert spec.model_dump() == before
