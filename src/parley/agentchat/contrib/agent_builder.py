"""``AgentBuilder``: a team for a task, designed by a model.

``build(task, default_llm_config)`` asks the builder model for the experts the task needs (name,
system message, description) and whether it needs code run, and makes them: ``AssistantAgent``s,
plus a ``UserProxyAgent`` named ``Computer_terminal`` that runs code when it does. ``save`` writes
what was built as JSON and ``load`` makes the same agents again without asking the model.

    builder = AgentBuilder(config_file_or_env="OAI_CONFIG_LIST", builder_model="gpt-4o", agent_model="gpt-4o")
    agents, configs = builder.build("Find and summarise recent papers on X", {"temperature": 0})
    manager = GroupChatManager(GroupChat(agents, messages=[], max_round=12), llm_config=...)
    builder.to_spec().to_yaml()   # the same team as a parley team spec (parley run, the Studio)
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ...agents.assistant import AssistantAgent
from ...agents.user_proxy import UserProxyAgent
from ...messages import content_str
from ...models.config import config_list_from_json

if TYPE_CHECKING:
    from ...spec import Team

BUILD_PROMPT = """Design a team of at most {max_agents} experts who together can complete this task:

{task}

Answer with JSON only, in this form:
{{"agents": [{{"name": "Python_Programmer", \
"system_message": "You are ... (how this expert works, what it must do, and to reply TERMINATE when the task is done)", \
"description": "One sentence saying when this expert should speak"}}],
 "coding": true}}
Names use letters, digits and underscores only. "coding" says whether the task needs code to be run."""

_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_TERMINAL_DEFAULT_REPLY = ("There is no code from the last 1 message for me to execute. "
                           "Group chat manager should let other participants to continue the conversation.")
_TERMINAL_DESCRIPTION = "A computer terminal that runs the code the other agents write."


def _json_in(text: str) -> dict:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match is None:
        raise ValueError(f"AgentBuilder: the builder model answered without JSON: {text[:200]!r}")
    try:
        return json.loads(match.group(0))
    except ValueError as error:
        raise ValueError(f"AgentBuilder: the builder model's JSON is malformed ({error}): {text[:200]!r}") from None


class AgentBuilder:
    def __init__(self, config_file_or_env: str | None = "OAI_CONFIG_LIST", config_file_location: str | None = "",
                 builder_model: str | list | None = None, agent_model: str | list | None = None,
                 builder_model_tags: list | None = None, agent_model_tags: list | None = None, max_agents: int = 5,
                 builder_llm_config: dict | None = None, agent_llm_config: dict | None = None) -> None:
        """``builder_llm_config`` / ``agent_llm_config`` (parley): llm_configs to use instead of
        filtering ``config_file_or_env`` by ``builder_model`` / ``agent_model`` and their tags."""
        if not isinstance(max_agents, int) or max_agents < 1:
            raise ValueError(f"AgentBuilder max_agents must be a positive int, got {max_agents!r}")
        self.max_agents = max_agents
        # Where the agents' models come from, for to_spec (a reference, never the keys it resolves to).
        self._agent_model_reference: dict[str, Any] | None = None if agent_llm_config else self._reference(
            config_file_or_env, config_file_location, agent_model, agent_model_tags)
        self.builder_llm_config = builder_llm_config or self._llm_config(
            config_file_or_env, config_file_location, builder_model, builder_model_tags)
        self.agent_llm_config = agent_llm_config or self._llm_config(
            config_file_or_env, config_file_location, agent_model, agent_model_tags)
        self.agent_procs_assign: dict[str, Any] = {}
        self.cached_configs: dict[str, Any] = {}

    @staticmethod
    def _reference(source: str | None, location: str | None, model: Any, tags: list | None) -> dict[str, Any]:
        """The classic ``config_list_from_json`` arguments that name these models."""
        filter_dict: dict = {}
        if model:
            filter_dict["model"] = model if isinstance(model, list) else [model]
        if tags:
            filter_dict["tags"] = tags
        reference: dict[str, Any] = {"env_or_file": source or "OAI_CONFIG_LIST"}
        if location:
            reference["file_location"] = location
        if filter_dict:
            reference["filter_dict"] = filter_dict
        return reference

    @classmethod
    def _llm_config(cls, source: str | None, location: str | None, model: Any, tags: list | None) -> dict:
        reference = cls._reference(source, location, model, tags)
        config_list = config_list_from_json(reference["env_or_file"], file_location=reference.get("file_location", ""),
                                            filter_dict=reference.get("filter_dict"))
        if not config_list:
            raise ValueError(f"AgentBuilder: no config entry in {source!r} matches {reference.get('filter_dict', {})}")
        return {"config_list": config_list}

    def build(self, building_task: str, default_llm_config: dict | None = None, coding: bool | None = None,
              code_execution_config: dict | None = None, **kwargs: Any) -> tuple[list, dict]:
        """Ask the builder model for a team for ``building_task``; returns ``(agents, configs)``."""
        from ...models.wrapper import OpenAIWrapper

        client = OpenAIWrapper(**self.builder_llm_config)
        response = client.create(messages=[
            {"role": "user", "content": BUILD_PROMPT.format(max_agents=self.max_agents, task=building_task)}])
        answer = _json_in(content_str(client.extract_text_or_completion_object(response)[0]))
        specs = answer.get("agents")
        if not isinstance(specs, list) or not specs:
            raise ValueError(f"AgentBuilder: the builder model proposed no agents: {answer!r}")
        agent_configs: list[dict[str, Any]] = []
        for spec in specs[: self.max_agents]:
            name = _NAME.sub("_", str(spec.get("name", ""))).strip("_") or f"expert_{len(agent_configs) + 1}"
            agent_configs.append({"name": name, "system_message": str(spec.get("system_message", "")),
                                  "description": str(spec.get("description", "")) or None})
        configs = {
            "building_task": building_task,
            "agent_configs": agent_configs,
            "coding": bool(answer.get("coding")) if coding is None else coding,
            "default_llm_config": dict(default_llm_config or {}),
            "code_execution_config": code_execution_config or {"last_n_messages": 1, "work_dir": "groupchat", "timeout": 10},
        }
        return self._build_agents(configs), configs

    def _build_agents(self, configs: dict) -> list:
        self.cached_configs = configs
        llm_config = {**self.agent_llm_config, **configs.get("default_llm_config", {})}
        agents: list = []
        for spec in configs["agent_configs"]:
            agent = AssistantAgent(spec["name"], system_message=spec["system_message"], description=spec.get("description"),
                                   llm_config=llm_config)
            self.agent_procs_assign[spec["name"]] = agent
            agents.append(agent)
        if configs.get("coding"):
            agents.append(UserProxyAgent("Computer_terminal", human_input_mode="NEVER",
                                         code_execution_config=configs["code_execution_config"],
                                         default_auto_reply=_TERMINAL_DEFAULT_REPLY, description=_TERMINAL_DESCRIPTION))
        return agents

    def save(self, filepath: str | None = None) -> str:
        """Write the last build's configs as JSON (default ``save_config_<task>.json``); returns the path."""
        if not self.cached_configs:
            raise ValueError("AgentBuilder.save: nothing was built yet")
        filepath = filepath or "save_config_" + _NAME.sub("_", self.cached_configs["building_task"])[:40] + ".json"
        with open(filepath, "w", encoding="utf-8") as file:
            json.dump(self.cached_configs, file, indent=1)
        return filepath

    def load(self, filepath: str | None = None, config_json: str | None = None, **kwargs: Any) -> tuple[list, dict]:
        """The agents of a saved build (a file, or its JSON text), without asking the model."""
        if config_json is None:
            if filepath is None:
                raise ValueError("AgentBuilder.load needs filepath or config_json")
            with open(filepath, encoding="utf-8") as file:
                config_json = file.read()
        configs = json.loads(config_json)
        return self._build_agents(configs), configs

    def to_spec(self, max_round: int = 12, speaker_selection_method: str = "auto") -> Team:
        """The last build (or load) as a parley team spec: the experts, and ``Computer_terminal``
        when the task needs code (run in the sandbox), in a group chat whose manager the first
        expert starts with the building task. Models are written as the reference the builder was
        given (``config_file_or_env`` filtered by ``agent_model``), never as keys; a builder made
        with an explicit ``agent_llm_config`` has no reference to write, and refuses."""
        from ...spec import Team

        if not self.cached_configs:
            raise ValueError("AgentBuilder.to_spec: nothing was built yet (call build or load first)")
        if self._agent_model_reference is None:
            raise ValueError("AgentBuilder.to_spec: the agents' models were given as agent_llm_config, which a spec "
                             "can't hold (it may carry keys); make the builder with config_file_or_env and agent_model")
        configs = self.cached_configs
        options = {k: v for k, v in configs.get("default_llm_config", {}).items() if k != "config_list"}
        agents: dict[str, dict[str, Any]] = {}
        for expert in configs["agent_configs"]:
            agent: dict[str, Any] = {"class": "AssistantAgent", "llm_config": "agents",
                                     "system_message": expert["system_message"]}
            if expert.get("description"):
                agent["description"] = expert["description"]
            agents[expert["name"]] = agent
        if configs.get("coding"):
            execution = {k: v for k, v in configs["code_execution_config"].items()
                         if k in ("work_dir", "timeout", "last_n_messages")}
            agents["Computer_terminal"] = {
                "class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": execution,
                "default_auto_reply": _TERMINAL_DEFAULT_REPLY, "description": _TERMINAL_DESCRIPTION}
        members = list(agents)
        agents["chat_manager"] = {"class": "GroupChatManager", "llm_config": "agents", "groupchat": "team"}
        return Team.from_dict({
            "version": 1,
            "name": "agent_builder",
            "description": f"Built by AgentBuilder for: {configs['building_task'][:200]}",
            "models": {"agents": {"config_list": self._agent_model_reference, **options}},
            "agents": agents,
            "group_chats": {"team": {"agents": members, "max_round": max_round,
                                     "speaker_selection_method": speaker_selection_method}},
            "run": {"initiator": members[0], "recipient": "chat_manager", "message": "{task}",
                    "task": configs["building_task"]},
        })

    def clear_agent(self, agent_name: str, recycle_endpoint: bool = True) -> None:
        self.agent_procs_assign.pop(agent_name, None)

    def clear_all_agents(self, recycle_endpoint: bool = True) -> None:
        self.agent_procs_assign.clear()


__all__ = ["AgentBuilder"]
