"""``GroupChat``: the participants, the shared transcript and the rules for who speaks next.

Classic fields, defaults and helper methods (``agent_names``, ``agent_by_name``, ``next_agent``,
``select_speaker_msg``, ``manual_select_speaker``, ...), checked when and as classic checks them
(duplicate names and dead ends in a transition graph are accepted with a warning; a custom
selection function's choice overrides the graph). Differences that make it more reliable: a
transition graph naming an outsider, or a selection function returning something that is not a
participant, fails with an error naming the agent or edge; and a dead end (a speaker no one may
follow) ends the chat with a notice instead of silently opening the floor to everyone.
"""

from __future__ import annotations

import inspect
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .. import events
from .._sync import sync_twin
from ..agents.agent import Agent
from ..errors import AgentNameConflict, UndefinedNextAgent
from ..io import get_default as _iostream
from . import transitions
from .auto import auto_select_speaker, transcript_line
from .names import mentioned_names

if TYPE_CHECKING:
    from ..chat.participant import Participant
    from ..chat.result import ChatResult
    from ..models.wrapper import OpenAIWrapper

SELECTION_METHODS = ("auto", "manual", "random", "round_robin")
logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Topology:
    """Per-speaker candidates and round-robin successors, derived once from agents + graph."""

    key: tuple
    members: frozenset
    graph: dict
    next_in_turn: dict


@dataclass
class GroupChat:
    """A group chat's participants, transcript and speaker-selection rules (classic fields)."""

    agents: list
    """The participants, in round-robin order; names must be unique."""
    messages: list = field(default_factory=list)
    """The shared transcript: every message, each with the speaker's ``name``."""
    max_round: int = 10
    """Most messages in one run, the opening message included."""
    admin_name: str = "Admin"
    """The participant who takes over on Ctrl-C; messages under this name are accepted by ``resume``."""
    func_call_filter: bool = True
    """After a tool/function call, only agents that can execute it may speak."""
    speaker_selection_method: Literal["auto", "manual", "random", "round_robin"] | Callable = "auto"
    """How the next speaker is chosen, or ``f(last_speaker, groupchat) -> Agent | method name | None``."""
    max_retries_for_selecting_speaker: int = 2
    """How many times "auto" re-asks the model after an answer naming no or several candidates."""
    allow_repeat_speaker: bool | list | None = None
    """Whether (or which) agents may speak twice in a row; None means True without a graph."""
    allowed_or_disallowed_speaker_transitions: dict | None = None
    """``{agent: [agents]}``: who may (or may not) speak after whom."""
    speaker_transitions_type: Literal["allowed", "disallowed"] | None = None
    """Whether the graph lists allowed or disallowed transitions."""
    enable_clear_history: bool = False
    """Let a message containing "clear history [agent] [n]" clear the agents' histories."""
    send_introductions: bool = False
    """Start each run by telling every participant who is in the chat."""
    select_speaker_message_template: str = """You are in a role play game. The following roles are available:
                {roles}.
                Read the following conversation.
                Then select the next role from {agentlist} to play. Only return the role."""
    """First message of an "auto" selection prompt; ``{roles}`` and ``{agentlist}`` are filled in."""
    select_speaker_prompt_template: str | None = (
        "Read the above conversation. Then select the next role from {agentlist} to play. Only return the role."
    )
    """Last message of an "auto" selection prompt (None: none)."""
    select_speaker_auto_multiple_template: str = """You provided more than one name in your text, please return just the name of the next speaker. To determine the speaker use these prioritised rules:
    1. If the context refers to themselves as a speaker e.g. "As the..." , choose that speaker's name
    2. If it refers to the "next" speaker name, choose that name
    3. Otherwise, choose the first provided speaker's name in the context
    The names are case-sensitive and should not be abbreviated or changed.
    Respond with ONLY the name of the speaker and DO NOT provide a reason."""  # noqa: E501 (classic's text, verbatim)
    """Re-ask prompt after an answer naming several candidates."""
    select_speaker_auto_none_template: str = """You didn't choose a speaker. As a reminder, to determine the speaker use these prioritised rules:
    1. If the context refers to themselves as a speaker e.g. "As the..." , choose that speaker's name
    2. If it refers to the "next" speaker name, choose that name
    3. Otherwise, choose the first provided speaker's name in the context
    The names are case-sensitive and should not be abbreviated or changed.
    The only names that are accepted are {agentlist}.
    Respond with ONLY the name of the speaker and DO NOT provide a reason."""  # noqa: E501 (classic's text, verbatim)
    """Re-ask prompt after an answer naming no candidate."""
    select_speaker_auto_verbose: bool = False
    """Print each "auto" selection attempt and its outcome."""
    role_for_select_speaker_messages: str = "system"
    """Role of the selection prompts ("system" or "user")."""
    select_speaker_structured_output: bool | None = None
    """Ask the model for ``{"speaker": <one of the candidates>}`` through ``response_format``
    (a JSON schema whose enum lists the candidates). None: only when every model entry of the
    manager is the embedded model (api_type "local"), which always supports it."""

    select_speaker_auto_llm_config: dict | None = None
    """The llm_config of "auto" selection (None: the manager's)."""
    select_speaker_auto_model_client_cls: Any = None
    """A custom model client class (or a list, one per entry) for ``select_speaker_auto_llm_config``."""
    select_speaker_transform_messages: Any = None
    """A ``TransformMessages`` applied to the conversation shown to the model in "auto" selection."""

    allowed_speaker_transitions_dict: dict = field(init=False, repr=False)

    DEFAULT_INTRO_MSG = (
        "Hello everyone. We have assembled a great team today to answer questions and solve tasks. In attendance are:"
    )
    _VALID_SPEAKER_SELECTION_METHODS: ClassVar[list[str]] = list(SELECTION_METHODS)

    def __post_init__(self) -> None:
        from ..agents.conversable import ConversableAgent

        if not isinstance(self.agents, list):
            raise TypeError(f"GroupChat agents must be a list of agents, not {type(self.agents).__name__}")
        seen: dict[str, int] = {}
        for i, agent in enumerate(self.agents):
            if not isinstance(agent, ConversableAgent):
                raise TypeError(f"GroupChat agents[{i}] must be a ConversableAgent (or subclass), not {type(agent).__name__}")
            if agent.name in seen:
                # Classic accepts this; looking the name up with raise_on_name_conflict raises AgentNameConflict.
                logger.warning("GroupChat agents[%d] and agents[%d] are both named %r: speaker selection and resume "
                               "find agents by name and will take the first", seen[agent.name], i, agent.name)
            seen.setdefault(agent.name, i)
        if not isinstance(self.messages, list):
            raise TypeError(f"GroupChat messages must be a list of message dicts, not {type(self.messages).__name__}")
        if not isinstance(self.max_round, int) or isinstance(self.max_round, bool) or self.max_round < 1:
            # 0 rounds would run a chat that silently does nothing.
            raise ValueError("GroupChat max_round must be a positive int (the most rounds the chat may take), "
                             f"got {self.max_round!r}")
        # speaker_selection_method is checked when a speaker is selected, as classic does.
        retries = self.max_retries_for_selecting_speaker
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ValueError(f"GroupChat max_retries_for_selecting_speaker must be a non-negative int, got {retries!r}")
        for name in ("select_speaker_message_template", "select_speaker_auto_multiple_template",
                     "select_speaker_auto_none_template",
                     "role_for_select_speaker_messages"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} cannot be empty or None. (GroupChat {name} must be a non-empty str, got {value!r})")
        transforms = self.select_speaker_transform_messages
        if transforms is not None and not callable(getattr(transforms, "add_to_agent", None)):
            raise ValueError("select_speaker_transform_messages must be None or MessageTransforms.")
        self._speaker_selection_transforms = transforms
        if self.select_speaker_auto_llm_config is not None and not isinstance(self.select_speaker_auto_llm_config, dict):
            raise ValueError("GroupChat select_speaker_auto_llm_config must be an llm_config dict or None")
        self._selection_client: OpenAIWrapper | None = None
        self._checked_method: object = None
        if self.select_speaker_prompt_template == "":
            self.select_speaker_prompt_template = None
        if self.select_speaker_structured_output not in (None, True, False):
            raise ValueError("GroupChat select_speaker_structured_output must be True, False or None, "
                             f"got {self.select_speaker_structured_output!r}")
        self.allowed_speaker_transitions_dict = self._build_graph()
        self._topology: _Topology | None = None
        self._transcript_source: list | None = None
        self._transcript: list[dict] = []

    def _build_graph(self) -> dict:
        graph = self.allowed_or_disallowed_speaker_transitions
        graph_given = graph is not None
        given_kind: object = self.speaker_transitions_type
        kind: str | None = None
        if given_kind is not None:
            if not isinstance(given_kind, str) or given_kind.lower() not in transitions.TRANSITION_TYPES:
                raise ValueError("GroupChat speaker_transitions_type must be 'allowed', 'disallowed' or None, "
                                 f"got {given_kind!r}")
            kind = given_kind.lower()
            self.speaker_transitions_type = "allowed" if kind == "allowed" else "disallowed"
        if graph_given and self.allow_repeat_speaker is not None:
            raise ValueError(
                "GroupChat: give either allowed_or_disallowed_speaker_transitions or allow_repeat_speaker, not both "
                "(put self loops in the graph instead)"
            )
        if graph is not None:
            if kind is None:
                raise ValueError(
                    "GroupChat allowed_or_disallowed_speaker_transitions is given but speaker_transitions_type is None: "
                    "set it to 'allowed' or 'disallowed'"
                )
            return transitions.allowed_graph(graph, kind, self.agents)
        if self.allow_repeat_speaker is None:
            self.allow_repeat_speaker = True
        repeat = self.allow_repeat_speaker
        if not isinstance(repeat, (bool, list)):
            raise ValueError("GroupChat allow_repeat_speaker should be a bool or a list of Agents.")
        if isinstance(repeat, list):
            for agent in repeat:
                if agent not in self.agents:
                    raise ValueError(f"GroupChat allow_repeat_speaker names {getattr(agent, 'name', agent)!r}, "
                                     "which is not an agent of this group chat")
        return transitions.full_graph(self.agents, repeat)

    def selection_client(self) -> OpenAIWrapper | None:
        """The model client of "auto" selection when ``select_speaker_auto_llm_config`` is given
        (built on first use, custom client classes registered), else None: the manager's."""
        if self.select_speaker_auto_llm_config is None:
            return None
        if self._selection_client is None:
            from ..models.wrapper import OpenAIWrapper

            client = OpenAIWrapper(**self.select_speaker_auto_llm_config)
            classes = self.select_speaker_auto_model_client_cls
            for cls in classes if isinstance(classes, list) else [classes] if classes is not None else []:
                client.register_model_client(cls)
            self._selection_client = client
        return self._selection_client

    # ----------------------------------------------------------------- classic helpers

    @property
    def agent_names(self) -> list[str]:
        return [agent.name for agent in self.agents]

    def reset(self) -> None:
        """Clear the transcript."""
        self.messages.clear()

    def append(self, message: dict, speaker: Agent) -> None:
        """Add a message to the transcript under the speaker's name, with text content (classic)."""
        from ..messages import content_str

        if message.get("role") != "function":
            message["name"] = speaker.name
        message["content"] = content_str(message.get("content"))
        self.messages.append(message)

    def agent_by_name(self, name: str, recursive: bool = False, raise_on_name_conflict: bool = False) -> Agent | None:
        """The participant named ``name`` (with ``recursive``, also inside nested group chats)."""
        agents = self.nested_agents() if recursive else self.agents
        found = [agent for agent in agents if agent.name == name]
        if raise_on_name_conflict and len(found) > 1:
            raise AgentNameConflict(f"Found multiple agents with the same name: {name!r} "
                                    "(in this group chat and its nested teams)")
        return found[0] if found else None

    def nested_agents(self) -> list[Agent]:
        """The participants, and those of the group chats among them, recursively."""
        agents = list(self.agents)
        for agent in self.agents:
            inner = getattr(agent, "groupchat", None)
            if isinstance(inner, GroupChat):
                agents.extend(inner.nested_agents())
        return agents

    def next_agent(self, agent: Agent, agents: list[Agent] | None = None) -> Agent:
        """The participant after ``agent`` in list order, among ``agents`` (default: all)."""
        order = self.agents
        if agents is None or agents is order:
            agents = order
        elif not any(a in order for a in agents):
            raise UndefinedNextAgent()
        index = next((i for i, a in enumerate(order) if a is agent), -1)
        eligible = set(agents)
        for step in range(1, len(order) + 1):
            candidate = order[(index + step) % len(order)]
            if candidate in eligible:
                return candidate
        raise UndefinedNextAgent()

    def _participant_roles(self, agents: list[Agent] | None = None) -> str:
        agents = self.agents if agents is None else agents
        return "\n".join(f"{agent.name}: {agent.description}".strip() for agent in agents)

    def select_speaker_msg(self, agents: list[Agent] | None = None) -> str:
        """The first message of an "auto" selection prompt: roles and candidate names."""
        agents = self.agents if agents is None else agents
        return self.select_speaker_message_template.format(
            roles=self._participant_roles(agents), agentlist=f"{[a.name for a in agents]}"
        )

    def select_speaker_prompt(self, agents: list[Agent] | None = None) -> str | None:
        """The last message of an "auto" selection prompt (None when the template is None)."""
        if self.select_speaker_prompt_template is None:
            return None
        agents = self.agents if agents is None else agents
        return self.select_speaker_prompt_template.format(agentlist=f"{[a.name for a in agents]}")

    def introductions_msg(self, agents: list[Agent] | None = None) -> str:
        return f"{self.DEFAULT_INTRO_MSG}\n\n{self._participant_roles(agents)}"

    def _mentioned_agents(self, message_content: Any, agents: list[Agent] | None) -> dict[str, int]:
        from ..messages import content_str

        if isinstance(message_content, dict):
            message_content = message_content.get("content")
        agents = self.agents if agents is None else agents
        # Classic's step matches names in their own case only; parley's selection is laxer (names.py).
        return mentioned_names(content_str(message_content), [a.name for a in agents], any_case=False)

    def manual_select_speaker(self, agents: list[Agent] | None = None) -> Agent | None:
        """Ask the human to pick (a number or a name); None when they pass or can't answer."""
        agents = self.agents if agents is None else agents
        stream = _iostream()
        stream.print("Please select the next speaker from the following list:")
        for i, agent in enumerate(agents, 1):
            stream.print(f"{i}: {agent.name}")
        prompt = "Enter the number of the next speaker (enter nothing or `q` to take the next in turn): "
        for _ in range(3):
            events.emit(events.HumanInputRequested(agent="speaker_selection", prompt=prompt))
            try:
                answer = stream.input(prompt).strip()
            except EOFError:
                events.emit(events.Notice(text="no human input available (end of input): taking the next speaker in turn",
                                          level="warning"))
                return None
            events.emit(events.HumanInputReceived(agent="speaker_selection", reply=answer))
            if answer in ("", "q"):
                return None
            if answer.isdigit() and 1 <= int(answer) <= len(agents):
                return agents[int(answer) - 1]
            by_name = {agent.name: agent for agent in agents}
            if answer in by_name:
                return by_name[answer]
            stream.print(f"Invalid input. Please enter a number between 1 and {len(agents)}.")
        stream.print("No valid choice after 3 tries: taking the next speaker in turn.")
        return None

    def random_select_speaker(self, agents: list[Agent] | None = None) -> Agent:
        return random.choice(self.agents if agents is None else agents)

    # ----------------------------------------------------------------- candidates

    def _current_topology(self) -> _Topology:
        graph = self.allowed_speaker_transitions_dict
        key = (id(self.agents), len(self.agents), id(graph))
        topology = self._topology
        if topology is None or topology.key != key:
            # Rebuilt only when agents or the graph were replaced or resized after construction.
            members = frozenset(self.agents)
            next_in_turn = {agent: self.next_agent(agent, targets) for agent, targets in graph.items() if targets}
            if self.agents:
                next_in_turn[None] = self.agents[0]
            topology = self._topology = _Topology(key, members, graph, next_in_turn)
        return topology

    def _candidates(self, last_speaker: Agent, topology: _Topology | None = None) -> list[Agent]:
        """Who may speak after ``last_speaker``: the graph's successors (everyone when the last
        speaker is not a participant), narrowed to the agents able to execute a pending call."""
        if topology is None:
            topology = self._current_topology()
        if last_speaker in topology.members:
            candidates = topology.graph.get(last_speaker) or []
        else:
            candidates = self.agents
        if self.func_call_filter and self._last_message_calls():
            executors = self._executors_of(self.messages[-1])
            allowed = [a for a in executors if a in candidates]
            if executors and not allowed:
                events.emit(events.Notice(
                    text=f"no agent allowed to speak after {last_speaker.name!r} can execute the pending call; "
                    f"letting {', '.join(a.name for a in executors)} answer it",
                    level="warning",
                ))
            return allowed or executors or candidates
        return candidates

    def _last_message_calls(self) -> bool:
        """Whether the transcript's last message calls a function or tool (someone must execute it)."""
        if not self.messages:
            return False
        last = self.messages[-1]
        return bool(last.get("function_call") or last.get("tool_calls"))

    def _executors_of(self, message: dict) -> list[Agent]:
        names = []
        if message.get("function_call"):
            names.append(message["function_call"].get("name"))
        for call in message.get("tool_calls") or ():
            if call.get("type", "function") == "function":
                names.append(call.get("function", {}).get("name"))
        able = [a for a in self.agents if all(n in a.function_map for n in names)]
        if able:
            return able
        able = [a for a in self.agents if a.function_map]
        if not able:
            raise ValueError(  # classic's sentence first (scripts match it), then how to fix it
                f"No agent can execute the function {', '.join(str(n) for n in names)}. Please check the function_map "
                "of the agents: register the function with an agent of the group chat (function_map or register_for_execution)"
            )
        return able

    # ----------------------------------------------------------------- selection

    def _check_chosen(self, chosen: Agent, last_speaker: Agent, source: str) -> None:
        # A custom function's choice overrides the transition graph, as classic; it must be a participant.
        if chosen not in self._current_topology().members:
            raise ValueError(f"{source} returned the agent {chosen.name!r}, which is not a participant of this group chat")

    async def a_choose_speaker(self, last_speaker: Agent, selector: Participant) -> tuple[Agent | None, str]:
        """The next speaker and the method that chose it; (None, method) ends the chat."""
        choice = self.choose_speaker_now(last_speaker, selector)
        return choice if type(choice) is tuple else await choice

    def choose_speaker_now(self, last_speaker: Agent, selector: Participant) -> Any:
        """``a_choose_speaker`` without a coroutine where nothing needs awaiting (round robin,
        random, a single candidate): the ``(speaker, method)`` tuple itself, else an awaitable of it.
        The manager's rounds call this, so a round-robin turn pays for no coroutine."""
        if len(self.agents) < 2:
            raise ValueError(
                f"GroupChat has {len(self.agents)} agent(s); a group chat needs at least 2 (use a two-agent chat instead)"
            )
        method = self.speaker_selection_method
        if callable(method):
            return self._choose_by_callable(method, last_speaker, selector)
        if method is not self._checked_method:  # checked when selecting, as classic; once per value
            if not isinstance(method, str) or method.lower() not in SELECTION_METHODS:
                raise ValueError(
                    f"GroupChat speaker_selection_method must be one of {', '.join(SELECTION_METHODS)} (case-insensitive) "
                    f"or a callable (last_speaker, groupchat) -> Agent | str | None; got {method!r}"
                )
            self._checked_method = method
        return self._choose_by_method(method.lower(), last_speaker, selector)

    async def _choose_by_callable(self, method: Callable, last_speaker: Agent, selector: Participant) -> tuple[Agent | None, str]:
        source = f"speaker_selection_method {getattr(method, '__name__', method)!r}"
        chosen = method(last_speaker, self)
        if inspect.isawaitable(chosen):
            chosen = await chosen
        if chosen is None:
            return None, "custom"
        if isinstance(chosen, Agent):
            self._check_chosen(chosen, last_speaker, source)
            return chosen, "custom"
        if not isinstance(chosen, str) or chosen.lower() not in SELECTION_METHODS:
            raise TypeError(
                f"{source} returned {chosen!r} ({type(chosen).__name__}); it must return an agent of the group chat, "
                f"one of {', '.join(SELECTION_METHODS)}, or None to end the chat"
            )
        choice = self._choose_by_method(chosen.lower(), last_speaker, selector)
        return choice if type(choice) is tuple else await choice

    def _choose_by_method(self, method: str, last_speaker: Agent, selector: Participant) -> Any:
        """(speaker, method) by a named method, or an awaitable of it ("auto" asks a model)."""
        topology = self._current_topology()
        if method == "round_robin":
            # The common turn in one look-up: the last speaker's successor in the graph, unless a
            # pending function call narrows the candidates to the agents that can execute it.
            successor = topology.next_in_turn.get(last_speaker)
            if successor is not None and not (self.func_call_filter and self._last_message_calls()):
                return successor, method
        candidates = self._candidates(last_speaker, topology)
        if not candidates:
            events.emit(events.Notice(
                text=f"no agent may speak after {last_speaker.name!r} (its transitions lead nowhere): ending the group chat",
                level="warning",
            ))
            return None, method
        if len(candidates) == 1:
            return candidates[0], method
        if method == "round_robin":
            return self.next_in_turn(last_speaker, candidates, topology), method
        if method == "random":
            return self.random_select_speaker(candidates), method
        if method == "manual":
            chosen = self.manual_select_speaker(candidates)
            return (chosen if chosen is not None else self.next_in_turn(last_speaker, candidates, topology)), method
        return self._auto_choice(last_speaker, selector, candidates)

    async def _auto_choice(self, last_speaker: Agent, selector: Participant, candidates: list[Agent]) -> tuple[Agent | None, str]:
        return await auto_select_speaker(self, last_speaker, selector, candidates), "auto"

    def selection_transcript(self) -> list[dict]:
        """The conversation as "auto" selection shows it to the model (``auto.transcript_line``),
        extended as it grows (rendering it anew each round costs O(history))."""
        messages = self.messages
        rendered = self._transcript
        if self._transcript_source is not messages or len(rendered) > len(messages):
            rendered = self._transcript = []
            self._transcript_source = messages
        for i in range(len(rendered), len(messages)):
            rendered.append(transcript_line(messages[i]))
        return rendered

    def next_in_turn(self, last_speaker: Agent, candidates: list[Agent], topology: _Topology | None = None) -> Agent:
        """The candidate after ``last_speaker`` in turn (the speaker-transition graph's order)."""
        if topology is None:
            topology = self._current_topology()
        if last_speaker in topology.members:
            if candidates is topology.graph.get(last_speaker):
                return topology.next_in_turn[last_speaker]
        elif candidates is self.agents:
            return topology.next_in_turn[None]
        return self.next_agent(last_speaker, candidates)

    async def a_select_speaker(self, last_speaker: Agent, selector: Participant) -> Agent | None:
        """Classic: the next speaker (None when the rules end the chat)."""
        speaker, _ = await self.a_choose_speaker(last_speaker, selector)
        return speaker

    select_speaker = sync_twin(a_select_speaker)

    # ----------------------------------------------------------------- classic step names

    def _prepare_and_select_agents(self, last_speaker: Agent) -> tuple[Agent | None, list[Agent], None]:
        """Classic: ``(the speaker when only one may speak, else None, who may speak, None)``;
        raises when a pending function call has no agent to execute it."""
        candidates = self._candidates(last_speaker)
        return (candidates[0] if len(candidates) == 1 else None), candidates, None

    def _validate_speaker_name(
        self, recipient: Agent, messages: list[dict], sender: Agent | None, config: Any, attempts_left: int, attempt: int,
        agents: list[Agent],
    ) -> tuple[bool, dict | None]:
        from .classic_selection import validate_speaker_name

        return validate_speaker_name(self, messages, attempts_left, attempt, agents)

    def _process_speaker_selection_result(
        self, result: ChatResult, last_speaker: Agent, agents: list[Agent] | None,
    ) -> Agent | None:
        from .classic_selection import process_speaker_selection_result

        return process_speaker_selection_result(self, result, last_speaker, agents)
