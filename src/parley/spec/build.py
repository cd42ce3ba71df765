"""Building the agents, group chats, nested chats, tools and the run of a spec.

Import paths are resolved here (and only here), from the allowed modules. The agents get their
constructor parameters under the classic names, only those the spec sets: defaults stay the
classes' own. Each built agent remembers the spec it came from, so ``Team.from_agents`` writes
the same document back (model references included, which a built llm_config no longer shows).
"""

from __future__ import annotations

import copy
import os
import weakref
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Any

from .access import check_env, check_work_dirs
from .document import RETRIEVE_FUNCTIONS, AgentSpec, GroupChatSpec, RunSpec, TeamSpec, dump
from .errors import SpecError
from .imports import allowed_modules, resolve
from .loading import validate_document
from .models import llm_config_for, scripted_llm_config
from .termination import build_predicate

# agent -> (the spec, its name there): how Team.from_agents recognises a built team.
ORIGIN: weakref.WeakKeyDictionary[Any, tuple[TeamSpec, str]] = weakref.WeakKeyDictionary()
_PLAIN = ("system_message", "description", "human_input_mode", "max_consecutive_auto_reply", "default_auto_reply", "silent")
_GROUP_OPTIONS = tuple(name for name in GroupChatSpec.model_fields if name not in ("agents", "speaker_selection_method"))


@dataclass
class BuiltTeam:
    """The objects a spec stands for, and how its run starts."""

    agents: dict[str, Any]
    initiator: Any
    recipient: Any | None
    chat_kwargs: dict = field(default_factory=dict)
    """initiate_chat's options (without message) for a one-chat run."""
    chat_queue: list[dict] | None = None
    """initiate_chats' queue (messages holding ``{task}``) for a run of sequential chats."""

    def first_message(self, template: str | None, task: str | None) -> str:
        return fill(template, task)

    def queue_for(self, task: str | None) -> list[dict]:
        assert self.chat_queue is not None
        return [{**chat, "message": fill(chat.get("message"), task)} if chat.get("message") is not None or i == 0 else dict(chat)
                for i, chat in enumerate(self.chat_queue)]


def fill(template: str | None, task: str | None) -> str:
    """The message: ``{task}`` in the template replaced (the template is ``{task}`` by default)."""
    template = "{task}" if template is None else template
    if "{task}" in template:
        if task is None:
            raise SpecError("this team's message needs a task: give message=... (--message) or set run.task", "run.task")
        return template.replace("{task}", task)
    return template


def _class(name: str) -> type:
    from .. import AssistantAgent, ConversableAgent, GroupChatManager, UserProxyAgent

    classes = {"ConversableAgent": ConversableAgent, "AssistantAgent": AssistantAgent, "UserProxyAgent": UserProxyAgent,
               "GroupChatManager": GroupChatManager}
    if name in classes:
        return classes[name]
    if name == "MultimodalConversableAgent":
        from ..agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent

        return MultimodalConversableAgent
    from ..retrieval.agents import RetrieveAssistantAgent, RetrieveUserProxyAgent  # the retrieval extra only when named

    return {"RetrieveUserProxyAgent": RetrieveUserProxyAgent, "RetrieveAssistantAgent": RetrieveAssistantAgent}[name]


def _retrieve_config(name: str, agent: AgentSpec, allowed: tuple, record: list | None) -> dict:
    """The classic ``retrieve_config``: the spec's values, functions resolved from allowed modules.
    Making the agent reads no document: indexing happens at its first retrieval. For ``spec
    check`` (``record``), which walks the team in a throwaway folder, the documents are named by
    their full paths and the index is kept in memory."""
    assert agent.retrieve_config is not None
    config = agent.retrieve_config.model_dump(exclude_unset=True)
    for key in RETRIEVE_FUNCTIONS:
        if config.get(key) is not None:
            config[key] = resolve(config[key], allowed, f"agents.{name}.retrieve_config.{key}")
    if record is not None:
        import chromadb

        from ..retrieval.documents import is_url

        docs = config.get("docs_path")
        if docs is not None:
            full = [d if is_url(d) else os.path.abspath(d) for d in ([docs] if isinstance(docs, str) else docs)]
            config["docs_path"] = full[0] if isinstance(docs, str) else full
        config["db_config"] = {"client": chromadb.EphemeralClient()}
    return config


def _agent_kwargs(name: str, agent: AgentSpec, llm_configs: dict, allowed: tuple, model: str | None, scripted: dict,
                  record: list | None = None) -> dict:
    kwargs: dict[str, Any] = {key: getattr(agent, key) for key in _PLAIN if key in agent.model_fields_set}
    if agent.llm_config is False:
        kwargs["llm_config"] = False
    elif isinstance(agent.llm_config, str):
        kwargs["llm_config"] = (scripted_llm_config(name, **scripted) if model == "scripted"
                                else copy.deepcopy(llm_configs[agent.llm_config]))
    elif model == "scripted" and agent.class_ in ("AssistantAgent", "GroupChatManager", "RetrieveAssistantAgent"):
        # Their default model (the embedded one / the group's) becomes the scripted one too.
        kwargs["llm_config"] = scripted_llm_config(name, **scripted)
    if agent.code_execution_config is False:
        kwargs["code_execution_config"] = False
    elif record is not None:
        if agent.code_execution_config is not None or agent.class_ in ("UserProxyAgent", "RetrieveUserProxyAgent"):
            # The check runs nothing: code blocks are recorded in place of being executed.
            from .check import RecordingExecutor

            config = agent.code_execution_config.model_dump(exclude_unset=True) if agent.code_execution_config else {}
            kwargs["code_execution_config"] = {"executor": RecordingExecutor(name, record),
                                               **{k: v for k, v in config.items() if k == "last_n_messages"}}
    elif agent.code_execution_config is not None:
        kwargs["code_execution_config"] = agent.code_execution_config.model_dump(exclude_unset=True)
    if agent.is_termination_msg is not None:
        kwargs["is_termination_msg"] = build_predicate(agent.is_termination_msg, allowed, f"agents.{name}.is_termination_msg")
    if agent.retrieve_config is not None:
        kwargs["retrieve_config"] = _retrieve_config(name, agent, allowed, record)
    return kwargs


def _add_teachability(name: str, agent_spec: AgentSpec, agent: Any) -> None:
    """``Teachability(...).add_to_agent(agent)``: opens its memo store (no model call until a message)."""
    if agent_spec.teachability is None:
        return
    from ..retrieval.teachability import Teachability

    try:
        Teachability(**agent_spec.teachability.model_dump(exclude_unset=True)).add_to_agent(agent)
    except (TypeError, ValueError) as error:
        raise SpecError(str(error), f"agents.{name}.teachability") from None


def _groupchat(gname: str, group: GroupChatSpec, agents: dict, allowed: tuple) -> Any:
    from .. import GroupChat

    options: dict[str, Any] = {key: getattr(group, key) for key in _GROUP_OPTIONS if key in group.model_fields_set}
    transitions = options.get("allowed_or_disallowed_speaker_transitions")
    if transitions is not None:
        options["allowed_or_disallowed_speaker_transitions"] = {
            agents[source]: [agents[t] for t in targets] for source, targets in transitions.items()}
    if isinstance(options.get("allow_repeat_speaker"), list):
        options["allow_repeat_speaker"] = [agents[n] for n in options["allow_repeat_speaker"]]
    method = group.speaker_selection_method
    if method is not None:
        options["speaker_selection_method"] = (
            resolve(method, allowed, f"group_chats.{gname}.speaker_selection_method") if ":" in method else method)
    try:
        return GroupChat(agents=[agents[n] for n in group.agents], messages=[], **options)
    except (TypeError, ValueError) as error:
        raise SpecError(str(error), f"group_chats.{gname}") from None


def _checked(spec: TeamSpec, model: str | None, allow_env: tuple[str, ...] | list[str],
             allow_work_dirs: tuple[str, ...] | list[str], record: list | None) -> None:
    if model not in (None, "local", "scripted"):
        raise ValueError(f"model must be 'local' or 'scripted', got {model!r}")
    if model != "scripted":
        check_env(spec, allow_env)
    check_work_dirs(spec, allow_work_dirs, retrieval_only=record is not None)


def build(spec: TeamSpec, *, allow_modules: tuple[str, ...] | list[str] = (), model: str | None = None,
          scripted: dict | None = None, allow_env: tuple[str, ...] | list[str] = (),
          allow_work_dirs: tuple[str, ...] | list[str] = (), record: list | None = None) -> BuiltTeam:
    """The team's objects. ``model="scripted"`` puts a deterministic scripted model in place of
    every model (no network; ``scripted``: options of ``models.scripted_reply``); otherwise the
    spec's references are read now (environment variables only as ``access`` allows, with
    ``allow_env``). A work_dir outside the run's folder needs ``allow_work_dirs``. With ``record``
    (a list), no code and no tool runs: executors and tools append what they were asked to the list.
    An agent with ``placement`` is made in a Ray actor (``place``); not with ``record``."""
    _checked(spec, model, allow_env, allow_work_dirs, record)
    allowed = allowed_modules(allow_modules)
    llm_configs = {} if model == "scripted" else {
        name: llm_config_for(name, ms) for name, ms in (spec.models or {}).items()
        if any(a.llm_config == name and (a.placement is None or record is not None) for a in spec.agents.values())}
    agents: dict[str, Any] = {}
    placed: set[str] = set()

    def make(name: str, **extra: Any) -> None:
        agent_spec = spec.agents[name]
        if agent_spec.placement is not None and record is None:
            agents[name] = place(spec, name, {"allow_modules": tuple(allow_modules), "model": model, "scripted": scripted,
                                              "allow_env": tuple(allow_env), "allow_work_dirs": tuple(allow_work_dirs)})
            placed.add(name)
            ORIGIN[agents[name]] = (spec, name)
            return
        kwargs = _agent_kwargs(name, agent_spec, llm_configs, allowed, model, scripted or {}, record)
        try:
            agents[name] = _class(agent_spec.class_)(name=name, **kwargs, **extra)
        except (TypeError, ValueError) as error:
            raise SpecError(str(error), f"agents.{name}") from None
        _add_teachability(name, agent_spec, agents[name])
        ORIGIN[agents[name]] = (spec, name)

    for name, agent_spec in spec.agents.items():
        if agent_spec.class_ != "GroupChatManager":
            make(name)
    groups = spec.group_chats or {}
    manager_of = {a.groupchat: name for name, a in spec.agents.items() if a.class_ == "GroupChatManager" and a.groupchat}
    order = TopologicalSorter({
        g: [spec.agents[m].groupchat or "" for m in group.agents if spec.agents[m].class_ == "GroupChatManager"]
        for g, group in groups.items()})
    for gname in order.static_order():
        make(manager_of[gname], groupchat=_groupchat(gname, groups[gname], agents, allowed))

    for tname, tool in (spec.tools or {}).items():
        if tool.caller in placed and tool.executor in placed:
            continue  # both sides live in actors, which registered it (build_placed)
        function = resolve(tool.function, allowed, f"tools.{tname}.function")
        if record is not None:
            from .check import recording_tool

            function = recording_tool(tname, function, record)
        _register_tool(tname, tool, function, agents[tool.caller] if tool.caller not in placed else None,
                       agents[tool.executor] if tool.executor not in placed else None)

    for name, agent_spec in spec.agents.items():
        for nested in agent_spec.nested_chats or []:
            queue = []
            for chat in nested.chat_queue:
                entry = chat.model_dump(exclude_unset=True)
                entry["recipient"] = agents[chat.recipient]
                if chat.sender is not None:
                    entry["sender"] = agents[chat.sender]
                queue.append(entry)
            trigger = agents[nested.trigger] if isinstance(nested.trigger, str) else [agents[t] for t in nested.trigger]
            options = {"position": nested.position} if nested.position is not None else {}
            agents[name].register_nested_chats(queue, trigger=trigger, **options)

    return _with_run(spec.run, agents)


def _register_tool(tname: str, tool: Any, function: Any, caller: Any, executor: Any) -> None:
    """Register a tool with its caller and executor; None for a side that lives in an actor
    (a placed agent: the actor registers it there)."""
    from ..tools.registration import register_function

    description = tool.description or (function.__doc__ or tname).strip().splitlines()[0]
    name = tool.name or tname
    try:
        if caller is not None and executor is not None:
            register_function(function, caller=caller, executor=executor, name=name, description=description)
        elif caller is not None:
            caller.register_for_llm(name=name, description=description)(function)
        elif executor is not None:
            executor.register_for_execution(name=name)(function)
    except Exception as error:  # reported for the tool that failed
        raise SpecError(str(error), f"tools.{tname}") from None


def build_placed(spec: TeamSpec, name: str, *, allow_modules: tuple[str, ...] | list[str] = (), model: str | None = None,
                 scripted: dict | None = None, allow_env: tuple[str, ...] | list[str] = (),
                 allow_work_dirs: tuple[str, ...] | list[str] = ()) -> Any:
    """Agent ``name`` of the team by itself, with its model and its sides of the tools: what a
    placed agent's actor makes (``placement``). Its nested chats are refused by validation."""
    _checked(spec, model, allow_env, allow_work_dirs, None)
    allowed = allowed_modules(allow_modules)
    agent_spec = spec.agents[name]
    llm_configs = {} if model == "scripted" or not isinstance(agent_spec.llm_config, str) else {
        agent_spec.llm_config: llm_config_for(agent_spec.llm_config, (spec.models or {})[agent_spec.llm_config])}
    kwargs = _agent_kwargs(name, agent_spec, llm_configs, allowed, model, scripted or {})
    try:
        agent = _class(agent_spec.class_)(name=name, **kwargs)
    except (TypeError, ValueError) as error:
        raise SpecError(str(error), f"agents.{name}") from None
    _add_teachability(name, agent_spec, agent)
    for tname, tool in (spec.tools or {}).items():
        if name in (tool.caller, tool.executor):
            function = resolve(tool.function, allowed, f"tools.{tname}.function")
            _register_tool(tname, tool, function, agent if tool.caller == name else None,
                           agent if tool.executor == name else None)
    return agent


# Placed agents: an agent whose spec has ``placement`` is made in a Ray actor on a node offering
# its resources (``parley.distributed.remote``), and the built team holds its ``RemoteAgent``. The
# actor gets the spec's document and the build's grants and builds that agent alone
# (``build_placed``): its model, its sides of the tools, its code executor live there. Building a
# team with placed agents is what starts their actors; loading or checking a spec starts nothing.

def place(spec: TeamSpec, name: str, options: dict) -> Any:
    """Agent ``name`` of ``spec`` in a Ray actor placed as its spec says; ``options``: the build's
    grants and model choice, which the actor's build applies too."""
    from ..distributed import RemoteAgentError, remote  # Ray only when a team places an agent

    placement = spec.agents[name].placement
    assert placement is not None
    actor_options = {"num_gpus": placement.num_gpus} if placement.num_gpus else None
    try:
        return remote(build_in_actor, args=(dump(spec), name, options), resources=dict(placement.resources),
                      max_restarts=3 if placement.max_restarts is None else placement.max_restarts,
                      actor_options=actor_options)
    except (ImportError, RemoteAgentError) as error:
        raise SpecError(str(error), f"agents.{name}.placement") from None


def build_in_actor(document: dict, name: str, options: dict) -> Any:
    """Runs in the actor: the document validated again and agent ``name`` built from it."""
    return build_placed(validate_document(document), name, **options)


def _with_run(run: RunSpec, agents: dict) -> BuiltTeam:
    options = ("max_turns", "summary_method", "summary_args", "clear_history")
    initiator = agents[run.initiator]
    if run.chats is None:
        kwargs = {key: getattr(run, key) for key in options if key in run.model_fields_set}
        return BuiltTeam(agents, initiator, agents[run.recipient], kwargs)
    chats = list(run.chats)
    ids = {chat.chat_id: chat for chat in chats if chat.chat_id is not None}
    graph = {i: [chats.index(ids[p]) for p in chat.prerequisites or []] for i, chat in enumerate(chats)}
    queue = []
    for i in TopologicalSorter(graph).static_order():  # prerequisites first, else in the order written
        chat = chats[i]
        entry = chat.model_dump(exclude_unset=True, exclude={"prerequisites", "chat_id", "sender"})
        entry["sender"] = agents[chat.sender or run.initiator]
        entry["recipient"] = agents[chat.recipient]
        queue.append(entry)
    return BuiltTeam(agents, initiator, None, chat_queue=queue)


__all__ = ["ORIGIN", "BuiltTeam", "build", "build_placed", "fill"]
