"""Classic AutoGen's "auto" selection steps, for code that drives them itself.

Classic selects a speaker in a nested two-agent chat: a checking agent judges each answer of the
selecting agent (``GroupChat._validate_speaker_name``, a reply function), and the nested chat's
last message, ``[AGENT SELECTED]<name>`` or ``[AGENT SELECTION FAILED]<why>``, is read back
(``GroupChat._process_speaker_selection_result``). parley asks the model directly
(:mod:`parley.groupchat.auto`); these functions judge an answer the same way parley does
(:func:`parley.groupchat.names.parse_speaker_answer`), in classic's shapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..agents.agent import Agent
from ..chat.result import ChatResult
from .names import parse_speaker_answer

if TYPE_CHECKING:
    from .groupchat import GroupChat

SELECTED = "[AGENT SELECTED]"
FAILED = "[AGENT SELECTION FAILED]"


def validate_speaker_name(
    groupchat: GroupChat, messages: list[dict], attempts_left: int, attempt: int, agents: list[Agent],
) -> tuple[bool, dict | None]:
    """Judge the last answer in ``messages``. One name: ``[AGENT SELECTED]<name>`` is appended.
    Several or none with attempts left: the re-ask message (classic's templates) is returned for
    the selector. Otherwise ``[AGENT SELECTION FAILED]<why>`` is appended."""
    from ..messages import content_str
    from .auto import _say

    names = [agent.name for agent in agents]
    name, counts = parse_speaker_answer(content_str(messages[-1].get("content")), names)
    total = attempt + attempts_left
    if name is not None:
        messages.append({"role": "user", "content": f"{SELECTED}{name}"})
        _say(groupchat, f"Select speaker attempt {attempt} of {total} successfully selected: {name}")
        return True, None
    several = len(counts) > 1
    _say(groupchat, f"Select speaker attempt {attempt} of {total} failed as it "
         + ("included multiple agent names." if several else "did not include any agent names."))
    if attempts_left:
        template = groupchat.select_speaker_auto_multiple_template if several else groupchat.select_speaker_auto_none_template
        return True, {
            "content": template.format(agentlist=f"{names}"),
            "name": "checking_agent",
            "override_role": groupchat.role_for_select_speaker_messages,
        }
    why = "returned multiple names" if several else "did not include any agent names"
    messages.append({"role": "user", "content": f"{FAILED}Select speaker attempt #{attempt} of {total} failed as it {why}."})
    return True, None


def process_speaker_selection_result(groupchat: GroupChat, result: ChatResult, last_speaker: Agent,
                                     agents: list[Agent] | None) -> Agent | None:
    """The agent a selection chat's ``result`` chose; after a failure, the one after ``last_speaker``."""
    if not result.chat_history:
        return None
    final = result.chat_history[-1].get("content") or ""
    if isinstance(final, str) and final.startswith(SELECTED):
        return groupchat.agent_by_name(final[len(SELECTED):])
    return groupchat.next_agent(last_speaker, agents)
