"""Cross-reference checks: every name in a spec points at something that exists (agents, models,
group chats, chats), group chat transitions stay inside the group, managers and group chats form
no loop, prerequisites form no cycle. Also what validation reports without refusing: executors
that run code unsandboxed, and the modules a build will import."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from .document import RETRIEVE_FUNCTIONS, AgentSpec, TeamSpec
from .errors import SpecIssue, closest


def _unknown(kind: str, name: str, known: list[str]) -> str:
    return f"no {kind} named {name!r}{closest(name, known) or (' (known: ' + ', '.join(known) + ')' if known else '')}"


def check_references(spec: TeamSpec) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    agents = list(spec.agents)
    models = list(spec.models or {})
    groups = spec.group_chats or {}

    def agent_ref(path: str, name: str) -> None:
        if name not in spec.agents:
            issues.append(SpecIssue(path, _unknown("agent", name, agents)))

    for name, agent in spec.agents.items():
        base = f"agents.{name}"
        if isinstance(agent.llm_config, str) and agent.llm_config not in (spec.models or {}):
            issues.append(SpecIssue(f"{base}.llm_config", _unknown("model", agent.llm_config, models)))
        if agent.class_ == "GroupChatManager":
            if agent.groupchat is None:
                issues.append(SpecIssue(f"{base}.groupchat",
                                        "required for a GroupChatManager: the name of a group chat under group_chats"))
            elif agent.groupchat not in groups:
                issues.append(SpecIssue(f"{base}.groupchat", _unknown("group chat", agent.groupchat, list(groups))))
            if agent.code_execution_config:
                issues.append(SpecIssue(f"{base}.code_execution_config", "a GroupChatManager does not run code"))
        elif agent.groupchat is not None:
            issues.append(SpecIssue(f"{base}.groupchat", f"only a GroupChatManager has a groupchat ({name} is a {agent.class_})"))
        if agent.placement is not None:
            issues.extend(_placement_issues(base, agent))
        for i, nested in enumerate(agent.nested_chats or []):
            where = f"{base}.nested_chats[{i}]"
            for trigger in [nested.trigger] if isinstance(nested.trigger, str) else nested.trigger:
                agent_ref(f"{where}.trigger", trigger)
            for j, chat in enumerate(nested.chat_queue):
                agent_ref(f"{where}.chat_queue[{j}].recipient", chat.recipient)
                if chat.sender is not None:
                    agent_ref(f"{where}.chat_queue[{j}].sender", chat.sender)
                if chat.recipient == name and chat.sender in (None, name):
                    issues.append(SpecIssue(f"{where}.chat_queue[{j}].recipient", f"{name} can't have a nested chat with itself"))

    managed: dict[str, str] = {}
    for name, agent in spec.agents.items():
        if agent.class_ == "GroupChatManager" and agent.groupchat in groups:
            if agent.groupchat in managed:
                issues.append(SpecIssue(f"agents.{name}.groupchat",
                                        f"group chat {agent.groupchat!r} already has the manager {managed[agent.groupchat]!r}"))
            managed.setdefault(agent.groupchat, name)
    for gname, group in groups.items():
        base = f"group_chats.{gname}"
        members = set(group.agents)
        for i, member in enumerate(group.agents):
            agent_ref(f"{base}.agents[{i}]", member)
        if len(members) != len(group.agents):
            issues.append(SpecIssue(f"{base}.agents", "names an agent more than once"))
        if gname in managed and managed[gname] in members:
            issues.append(SpecIssue(f"{base}.agents", f"its own manager {managed[gname]!r} can't be a member"))
        if gname not in managed:
            issues.append(SpecIssue(base, "no agent manages it: add an agent with class: GroupChatManager and groupchat: "
                                    + gname))
        transitions = group.allowed_or_disallowed_speaker_transitions or {}
        for source, targets in transitions.items():
            if source not in members:
                issues.append(SpecIssue(f"{base}.allowed_or_disallowed_speaker_transitions.{source}",
                                        f"{source!r} is not in this group chat{closest(source, members)}"))
            for j, target in enumerate(targets):
                if target not in members:
                    issues.append(SpecIssue(f"{base}.allowed_or_disallowed_speaker_transitions.{source}[{j}]",
                                            f"{target!r} is not in this group chat{closest(target, members)}"))
        if isinstance(group.allow_repeat_speaker, list):
            for j, member in enumerate(group.allow_repeat_speaker):
                if member not in members:
                    issues.append(SpecIssue(f"{base}.allow_repeat_speaker[{j}]", f"{member!r} is not in this group chat"))
    # Managers inside group chats (nested teams) must not contain themselves.
    graph = {gname: [spec.agents[m].groupchat for m in group.agents
                     if m in spec.agents and spec.agents[m].class_ == "GroupChatManager" and spec.agents[m].groupchat in groups]
             for gname, group in groups.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        loop = " -> ".join(map(str, error.args[1]))
        issues.append(SpecIssue("group_chats", f"group chats contain each other in a loop: {loop}"))

    for tname, tool in (spec.tools or {}).items():
        base = f"tools.{tname}"
        agent_ref(f"{base}.caller", tool.caller)
        agent_ref(f"{base}.executor", tool.executor)
        caller = spec.agents.get(tool.caller)
        if caller is not None and (caller.llm_config is False or caller.class_ == "GroupChatManager"
                                   or (caller.llm_config is None and caller.class_ != "AssistantAgent")):
            issues.append(SpecIssue(f"{base}.caller",
                                    f"{tool.caller!r} has no model to propose tool calls: give it an llm_config"))

    run = spec.run
    agent_ref("run.initiator", run.initiator)
    if run.recipient is not None:
        agent_ref("run.recipient", run.recipient)
        if run.recipient == run.initiator:
            issues.append(SpecIssue("run.recipient", "the initiator can't chat with itself"))
    ids: dict = {}
    for i, queued in enumerate(run.chats or []):
        agent_ref(f"run.chats[{i}].recipient", queued.recipient)
        if queued.sender is not None:
            agent_ref(f"run.chats[{i}].sender", queued.sender)
        if queued.chat_id is not None:
            if queued.chat_id in ids:
                issues.append(SpecIssue(f"run.chats[{i}].chat_id",
                                        f"{queued.chat_id!r} is also the id of chats[{ids[queued.chat_id]}]"))
            ids.setdefault(queued.chat_id, i)
    order: dict = {}
    for i, queued in enumerate(run.chats or []):
        for j, pre in enumerate(queued.prerequisites or []):
            if pre not in ids:
                issues.append(SpecIssue(f"run.chats[{i}].prerequisites[{j}]", f"no chat has chat_id {pre!r}"))
        if queued.prerequisites and queued.chat_id is None:
            issues.append(SpecIssue(f"run.chats[{i}].chat_id", "required with prerequisites"))
        if queued.chat_id is not None:
            order[queued.chat_id] = [p for p in queued.prerequisites or [] if p in ids]
    try:
        tuple(TopologicalSorter(order).static_order())
    except CycleError as error:
        issues.append(SpecIssue("run.chats", f"prerequisites form a cycle: {' -> '.join(map(str, error.args[1]))}"))
    return issues


def _placement_issues(base: str, agent: AgentSpec) -> list[SpecIssue]:
    """What a placed agent (a Ray actor, parley.distributed.remote) can't be."""
    if agent.class_ == "GroupChatManager":
        return [SpecIssue(f"{base}.placement", "a GroupChatManager runs its group chat's loop, which stays with the run: "
                          "place its members instead")]
    issues = []
    mode = agent.human_input_mode or ("NEVER" if agent.class_ == "AssistantAgent" else
                                      "ALWAYS" if agent.class_ in ("UserProxyAgent", "RetrieveUserProxyAgent") else "TERMINATE")
    if mode != "NEVER":
        issues.append(SpecIssue(f"{base}.human_input_mode", f"a placed agent can't ask a human (it lives in a Ray actor): "
                                f"set human_input_mode: NEVER (it is {mode})"))
    if agent.nested_chats:
        issues.append(SpecIssue(f"{base}.nested_chats", "a placed agent's nested chats would run in its actor with copies "
                                "of the other agents: not supported; drop placement or the nested chats"))
    return issues


def unsandboxed_agents(spec: TeamSpec) -> list[str]:
    """The agents whose code runs on this machine without a sandbox (asked for in the spec)."""
    return [name for name, agent in spec.agents.items()
            if agent.code_execution_config and agent.code_execution_config.unsandboxed]


def imported_modules(spec: TeamSpec) -> list[str]:
    """The modules a build imports (tools, termination functions, speaker selection functions)."""
    paths = [tool.function for tool in (spec.tools or {}).values()]
    paths += [a.is_termination_msg.function for a in spec.agents.values()
              if a.is_termination_msg is not None and a.is_termination_msg.function]
    paths += [g.speaker_selection_method for g in (spec.group_chats or {}).values()
              if g.speaker_selection_method and ":" in g.speaker_selection_method]
    paths += [getattr(a.retrieve_config, key) for a in spec.agents.values() if a.retrieve_config is not None
              for key in RETRIEVE_FUNCTIONS if getattr(a.retrieve_config, key) is not None]
    return sorted({p.split(":")[0] for p in paths})


__all__ = ["check_references", "imported_modules", "unsandboxed_agents"]
