"""``Team.from_agents``: the spec document of a team built in Python.

Walks every agent reachable from the chat's two agents (group chat members, nested chats' agents,
tools' callers), writes each one's constructor parameters that differ from its class's defaults,
and refuses, naming the agent and parameter, what a spec can't hold: a lambda or closure, a
literal API key, a model client object, an agent class of its own. Agents built from a spec keep
its model references (``build.ORIGIN``), so a built team dumps back to the same document.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any

from .build import ORIGIN
from .document import AGENT_CLASSES, CodeExecutionSpec
from .errors import SpecError
from .imports import path_of
from .termination import TerminationPredicate

_ENTRY_KEYS = ("model", "base_url", "api_type", "api_version", "tags", "price")
_MODEL_OPTIONS = ("temperature", "top_p", "max_tokens", "seed", "cache_seed", "timeout")
_WHAT_INSTEAD = ("write {ends_with: WORD}, {contains: WORD}, {equals: WORD}, or {function: 'module:function'} "
                 "(a module-level function)")


def _classes() -> dict[str, Any]:
    from .. import AssistantAgent, ConversableAgent, GroupChatManager, UserProxyAgent

    return {"ConversableAgent": ConversableAgent, "AssistantAgent": AssistantAgent,
            "UserProxyAgent": UserProxyAgent, "GroupChatManager": GroupChatManager}


def _defaults(cls: type) -> dict:
    """The constructor defaults a class's own __init__ (then its bases') declares."""
    defaults: dict = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if parameter.default is not inspect.Parameter.empty:
                defaults[name] = parameter.default
    return defaults


def _nested_chats(agent: Any) -> list[tuple[Any, list[dict], int]]:
    """(trigger, chat_queue, position) of each ``register_nested_chats`` on the agent."""
    found = []
    entries = agent._reply_func_list  # no public listing of registered replies
    for position, entry in enumerate(entries):
        function = entry["reply_func"]
        if getattr(function, "__name__", "") != "nested_chats" or not function.__closure__:
            continue
        cells = dict(zip(function.__code__.co_freevars, (c.cell_contents for c in function.__closure__), strict=True))
        if "chat_queue" in cells:
            found.append((entry["trigger"], cells["chat_queue"], position))
    return found


class _Capture:
    def __init__(self) -> None:
        self.agents: dict[str, Any] = {}
        self.models: dict[str, dict] = {}
        self.group_chats: dict[str, dict] = {}
        self.tools: dict[str, dict] = {}

    def reach(self, initiator: Any, recipient: Any, queue: list[dict] | None) -> list[Any]:
        classes = _classes()
        seen: dict[Any, Any] = {}
        todo = [initiator, recipient, *[a for chat in queue or [] for a in (chat.get("sender"), chat.get("recipient"))]]
        while todo:
            agent = todo.pop(0)
            if agent is None:
                continue
            name = getattr(agent, "name", None)
            if name in seen:
                if seen[name] is not agent:
                    raise SpecError(f"two different agents are named {name!r}: names must be unique in a spec", f"agents.{name}")
                continue
            if not isinstance(agent, tuple(classes.values())):
                raise SpecError(f"{type(agent).__name__} is not an agent a spec can hold", f"agents.{name}")
            seen[name] = agent
            if hasattr(agent, "groupchat") and type(agent).__name__ == "GroupChatManager":
                todo.extend(agent.groupchat.agents)
            for trigger, chat_queue, _ in _nested_chats(agent):
                todo.extend(t for t in (trigger if isinstance(trigger, list) else [trigger]) if hasattr(t, "name"))
                todo.extend(a for chat in chat_queue for a in (chat.get("recipient"), chat.get("sender")))
        return list(seen.values())

    def model_name(self, agent: Any, config: dict) -> str:
        origin = ORIGIN.get(agent)
        where = f"agents.{agent.name}.llm_config"
        if origin is not None:
            spec, name = origin
            reference = spec.agents[name].llm_config
            if isinstance(reference, str):
                self.models[reference] = (spec.models or {})[reference].model_dump(mode="json", exclude_unset=True)
                return reference
        document: dict = {}
        entries = []
        for i, entry in enumerate(config.get("config_list") or []):
            written = {}
            for key, value in entry.items():
                if key == "api_key":
                    raise SpecError("a literal API key can't be written in a spec: give the model as "
                                    "an OAI_CONFIG_LIST reference or api_key: {env: NAME}", f"{where}.config_list[{i}].api_key")
                if key not in _ENTRY_KEYS:
                    raise SpecError(f"{key!r} ({type(value).__name__}) can't be written in a spec",
                                    f"{where}.config_list[{i}].{key}")
                written[key] = value
            entries.append(written)
        document["config_list"] = entries
        for key, value in config.items():
            if key in _MODEL_OPTIONS and value is not None:
                document[key] = value
            elif key not in ("config_list", "tools", "functions", *_MODEL_OPTIONS):
                raise SpecError(f"{key!r} can't be written in a spec", f"{where}.{key}")
        for name, existing in self.models.items():
            if existing == document:
                return name
        name = f"model_{len(self.models) + 1}" if self.models else "model"
        self.models[name] = document
        return name

    def agent(self, agent: Any, class_name: str) -> dict:
        cls: Any = _classes()[class_name]
        defaults = _defaults(cls)
        where = f"agents.{agent.name}"
        written: dict[str, Any] = {"class": class_name}
        system_message = agent.system_message
        if system_message != defaults.get("system_message"):
            written["system_message"] = system_message
        if agent.human_input_mode != defaults.get("human_input_mode"):
            written["human_input_mode"] = agent.human_input_mode
        limit = agent.max_consecutive_auto_reply()
        default_limit = defaults.get("max_consecutive_auto_reply")
        if limit != (default_limit if default_limit is not None else cls.MAX_CONSECUTIVE_AUTO_REPLY):
            written["max_consecutive_auto_reply"] = limit
        if agent._default_auto_reply != "":
            if not isinstance(agent._default_auto_reply, str):
                raise SpecError("only a text default_auto_reply can be written", f"{where}.default_auto_reply")
            written["default_auto_reply"] = agent._default_auto_reply
        if agent.description != self.derived_description(cls, agent):
            written["description"] = agent.description
        config = agent.llm_config
        default_config = defaults.get("llm_config")
        origin = ORIGIN.get(agent)
        if origin is not None:
            # Built from a spec: its reference (a scripted run's stand-in model is not the team's).
            spec, name = origin
            written_spec = spec.agents[name]
            if "llm_config" in written_spec.model_fields_set:
                reference = written_spec.llm_config
                written["llm_config"] = self.model_name(agent, config) if isinstance(reference, str) else reference
        elif config is False:
            if default_config is not False:
                written["llm_config"] = False
        elif config is not None and not (default_config is None and config == getattr(cls, "DEFAULT_CONFIG", None)):
            written["llm_config"] = self.model_name(agent, config)
        code = agent._code_execution_config
        default_code = defaults.get("code_execution_config", False)
        if code != default_code and class_name != "GroupChatManager":
            if code is False:
                written["code_execution_config"] = False
            else:
                fields = set(CodeExecutionSpec.model_fields)
                for key, value in code.items():
                    if key not in fields or (key == "executor" and not isinstance(value, str)):
                        raise SpecError(f"{key!r} ({type(value).__name__}) can't be written in a spec",
                                        f"{where}.code_execution_config.{key}")
                written["code_execution_config"] = dict(code)
        predicate = agent._is_termination_msg
        if isinstance(predicate, TerminationPredicate):
            written["is_termination_msg"] = predicate.spec.model_dump(exclude_none=True)
        elif getattr(predicate, "__module__", "") != "parley.agents.conversable":
            path = path_of(predicate)
            if path is None:
                kind = "a lambda" if getattr(predicate, "__name__", "") == "<lambda>" else "a closure or object"
                raise SpecError(f"{kind} can't be written in a spec: {_WHAT_INSTEAD}", f"{where}.is_termination_msg")
            written["is_termination_msg"] = {"function": path}
        if agent.silent is not None and agent.silent != defaults.get("silent"):
            written["silent"] = agent.silent
        return written

    @staticmethod
    def derived_description(agent_class: Any, agent: Any) -> str:
        system_message = agent.system_message
        if agent_class.__name__ == "UserProxyAgent":
            return agent_class.DEFAULT_USER_PROXY_AGENT_DESCRIPTIONS.get(agent.human_input_mode, "")
        if agent_class.__name__ == "AssistantAgent" and system_message == agent_class.DEFAULT_SYSTEM_MESSAGE:
            return agent_class.DEFAULT_DESCRIPTION
        return system_message if isinstance(system_message, str) else ""

    def group_chat(self, manager: Any) -> str:
        from .. import GroupChat

        origin = ORIGIN.get(manager)
        name = str(origin[0].agents[origin[1]].groupchat) if origin is not None else f"{manager.name}_group"
        groupchat = manager.groupchat
        where = f"group_chats.{name}"
        written: dict[str, Any] = {"agents": [a.name for a in groupchat.agents]}
        # The defaults, as __post_init__ settles them for these transitions (which change allow_repeat_speaker's).
        graph = {key: getattr(groupchat, key) for key in ("allowed_or_disallowed_speaker_transitions", "speaker_transitions_type")
                 if getattr(groupchat, key) is not None}
        probe = GroupChat(agents=list(groupchat.agents), messages=[], **graph)
        # A spec-built group chat writes what its spec wrote, default values included.
        written_keys = origin[0].group_chats[name].model_fields_set if origin is not None and origin[0].group_chats else set()
        for item in dataclasses.fields(GroupChat):
            if item.name in ("agents", "messages") or not item.init:
                continue
            value = getattr(groupchat, item.name)
            if value == getattr(probe, item.name) and item.name not in written_keys and item.name not in graph:
                continue
            if item.name == "speaker_selection_method" and callable(value):
                path = path_of(value)
                if path is None:
                    raise SpecError("a lambda or closure can't be written in a spec: name a module-level function "
                                    "'module:function' or use auto, manual, random, round_robin",
                                    f"{where}.speaker_selection_method")
                value = path
            elif item.name == "allowed_or_disallowed_speaker_transitions":
                value = {source.name: [t.name for t in targets] for source, targets in value.items()}
            elif item.name == "allow_repeat_speaker" and isinstance(value, list):
                value = [a.name for a in value]
            elif item.name == "select_speaker_auto_llm_config":
                raise SpecError("can't be written in a spec yet", f"{where}.{item.name}")
            elif callable(value):
                raise SpecError("a function can't be written here", f"{where}.{item.name}")
            written[item.name] = value
        self.group_chats[name] = written
        return name

    def tools_of(self, agents: list[Any]) -> None:
        for executor in agents:
            for tool_name, function in executor._function_map.items():
                # function_map keeps classic's wrapper (its _origin the registered function), and a
                # Tool wraps the function (.func): the spec names the function itself.
                function = getattr(function, "_origin", function)
                function = getattr(function, "func", function)
                callers = [a for a in agents if isinstance(a.llm_config, dict)
                           and any((t.get("function") or {}).get("name") == tool_name for t in a.llm_config.get("tools") or [])]
                if len(callers) != 1:
                    raise SpecError(f"tool {tool_name!r} needs exactly one caller among the team's agents, found {len(callers)}",
                                    f"tools.{tool_name}")
                path = path_of(function)
                if path is None:
                    raise SpecError("a lambda or closure can't be a tool in a spec: use a module-level function",
                                    f"tools.{tool_name}.function")
                schema = next(t["function"] for t in callers[0].llm_config["tools"] if t["function"]["name"] == tool_name)
                tool: dict[str, Any] = {"function": path, "caller": callers[0].name, "executor": executor.name}
                description = schema.get("description")
                if description and description != (function.__doc__ or tool_name).strip().splitlines()[0]:
                    tool["description"] = description
                key = tool_name
                origin = ORIGIN.get(executor)
                if origin is not None:  # built from a spec: the tool's key there (its name may differ)
                    for spec_key, spec_tool in (origin[0].tools or {}).items():
                        if spec_tool.executor == executor.name and (spec_tool.name or spec_key) == tool_name:
                            key = spec_key
                            if spec_tool.name is not None:
                                tool["name"] = spec_tool.name
                self.tools[key] = tool

    def nested(self, agent: Any) -> list[dict]:
        written = []
        origin = ORIGIN.get(agent)
        registered = _nested_chats(agent)[::-1]  # each registration at the default position goes before the last
        for trigger, chat_queue, _position in registered:
            triggers = trigger if isinstance(trigger, list) else [trigger]
            if not all(hasattr(t, "name") for t in triggers):
                raise SpecError("only agents can be nested chat triggers in a spec", f"agents.{agent.name}.nested_chats")
            queue = []
            for chat in chat_queue:
                entry: dict[str, Any] = {"recipient": chat["recipient"].name}
                for key, value in chat.items():
                    if key == "recipient":
                        continue
                    if key == "sender":
                        entry["sender"] = value.name
                    elif (key in ("message", "summary_method", "summary_args", "max_turns", "clear_history")
                          and not callable(value)):
                        entry[key] = value
                    else:
                        raise SpecError(f"{key!r} can't be written in a spec", f"agents.{agent.name}.nested_chats")
                queue.append(entry)
            written.append({"trigger": triggers[0].name if not isinstance(trigger, list) else [t.name for t in triggers],
                            "chat_queue": queue})
        if origin is not None:
            # Built from a spec: its entries in its order (with their positions) when they are all still there.
            spec_entries = [n.model_dump(mode="json", exclude_unset=True) for n in origin[0].agents[origin[1]].nested_chats or []]
            def key(entry: dict) -> str:
                return json.dumps({k: v for k, v in entry.items() if k != "position"}, sort_keys=True, default=str)

            if sorted(map(key, written)) == sorted(map(key, spec_entries)):
                return spec_entries
        return written


def capture(initiator: Any, recipient: Any, chat_kwargs: dict) -> dict:
    """The document of the team (see ``Team.from_agents``)."""
    queue = chat_kwargs.pop("chat_queue", None)
    if (recipient is None) == (queue is None):
        raise SpecError("give a recipient (one chat) or chat_queue= (sequential chats)", "run")
    state = _Capture()
    agents: list[Any] = state.reach(initiator, recipient, queue)
    origins = list({id(ORIGIN[a][0]): ORIGIN[a][0] for a in agents if a in ORIGIN}.values())
    if len(origins) == 1:  # a team built from one spec keeps its order
        order = list(origins[0].agents)
        agents.sort(key=lambda a: order.index(a.name) if a.name in order else len(order))
    documents: dict[str, dict] = {}
    for agent in agents:
        class_name = type(agent).__name__
        if class_name not in _classes() or _classes()[class_name] is not type(agent):
            # Retrieval and multimodal agents are written in a spec by hand (their config is not captured).
            raise SpecError(f"class {type(agent).__name__} can't be written in a spec from agents (only "
                            f"{', '.join(_classes())}; {', '.join(c for c in AGENT_CLASSES if c not in _classes())} "
                            "are written by hand)",
                            f"agents.{agent.name}.class")
        documents[agent.name] = state.agent(agent, class_name)
    for agent in agents:
        if type(agent).__name__ == "GroupChatManager":
            documents[agent.name]["groupchat"] = state.group_chat(agent)
        nested = state.nested(agent)
        if nested:
            documents[agent.name]["nested_chats"] = nested
    state.tools_of(agents)
    run: dict[str, Any] = {"initiator": initiator.name}
    origin = origins[0] if len(origins) == 1 else None
    message = chat_kwargs.pop("message", None)
    if queue is None:
        run["recipient"] = recipient.name
        if message is not None:
            if not isinstance(message, str):
                raise SpecError("only a text message can be written in a spec", "run.message")
            run["message"] = message
        elif origin is not None:
            run.update({k: v for k, v in (("message", origin.run.message), ("task", origin.run.task)) if v is not None})
        for key in ("max_turns", "summary_method", "summary_args", "clear_history"):
            if key in chat_kwargs:
                value = chat_kwargs.pop(key)
                if callable(value):
                    raise SpecError("a function can't be written in a spec: use last_msg or reflection_with_llm", f"run.{key}")
                run[key] = value
    else:
        chats = []
        for i, chat in enumerate(queue):
            entry: dict[str, Any] = {"recipient": chat["recipient"].name}
            if chat.get("sender") is not None and chat["sender"] is not initiator:
                entry["sender"] = chat["sender"].name
            for key in ("message", "chat_id", "prerequisites", "summary_method", "summary_args", "max_turns", "carryover",
                        "clear_history"):
                if chat.get(key) is not None:
                    if callable(chat[key]):
                        raise SpecError("a function can't be written in a spec", f"run.chats[{i}].{key}")
                    entry[key] = chat[key]
            chats.append(entry)
        run["chats"] = chats
        if origin is not None and origin.run.task is not None:
            run["task"] = origin.run.task
    unknown = [k for k in chat_kwargs if k not in ("silent", "cache")]
    if unknown:
        raise SpecError(f"{unknown[0]!r} can't be written in a spec", f"run.{unknown[0]}")
    document: dict[str, Any] = {"version": 1}
    if origin is not None:
        document.update({k: v for k, v in (("name", origin.name), ("description", origin.description)) if v is not None})
    if state.models:
        document["models"] = state.models
    if state.tools:
        document["tools"] = state.tools
    document["agents"] = documents
    if state.group_chats:
        document["group_chats"] = state.group_chats
    document["run"] = run
    return document


__all__ = ["capture"]
