""""auto" speaker selection: the manager's model picks the next speaker.

Classic AutoGen builds two temporary agents and runs a nested chat for every selection; here the
manager's model is called directly with one prompt: the select-speaker message (roles and
candidates), the conversation, the select-speaker prompt. An answer naming no or several
candidates is answered with the classic re-ask prompts, up to ``max_retries_for_selecting_speaker``
times; then the most-mentioned candidate if there is one, else the next candidate in turn (with a
notice). Where the model supports structured output the answer is constrained to
``{"speaker": <candidate>}``, so it can only name a candidate.

The conversation is shown to the model as plain ``"<name>: <text>"`` user messages (tool calls and
results as text), because several providers (and the embedded model's chat template) drop the
``name`` field, and a selector that cannot see who said what cannot pick who speaks next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import events
from ..io import get_default as _iostream
from ..messages import content_str
from .names import parse_speaker_answer

if TYPE_CHECKING:
    from ..agents.agent import Agent
    from ..chat.participant import Participant
    from ..models.wrapper import OpenAIWrapper
    from .groupchat import GroupChat


def transcript_line(message: dict) -> dict:
    """One group message as the plain text message the selector reads."""
    text = content_str(message.get("content"))
    calls = [call.get("function", {}) for call in message.get("tool_calls") or ()]
    if message.get("function_call"):
        calls.append(message["function_call"])
    for call in calls:
        text += f"\n(calls {call.get('name', '?')} with {call.get('arguments', '')})"
    if message.get("role") in ("tool", "function") and not message.get("name"):
        text = f"Tool result: {text}"
    name = message.get("name")
    return {"role": "user", "content": f"{name}: {text.strip()}" if name else text.strip()}


def _wants_structured_output(groupchat: GroupChat, client: OpenAIWrapper) -> bool:
    if groupchat.select_speaker_structured_output is not None:
        return groupchat.select_speaker_structured_output
    entries = getattr(client, "config_list", None) or []
    return bool(entries) and all(str(entry.get("api_type", "")).lower() == "local" for entry in entries)


def speaker_response_format(names: list[str]) -> dict:
    """A JSON schema whose only valid answers name one of ``names``."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "speaker",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"speaker": {"type": "string", "enum": list(names)}},
                "required": ["speaker"],
                "additionalProperties": False,
            },
        },
    }


def _say(groupchat: GroupChat, text: str) -> None:
    if groupchat.select_speaker_auto_verbose:
        _iostream().print(f">>>>>>>> {text}", flush=True)


async def auto_select_speaker(groupchat: GroupChat, last_speaker: Agent, selector: Participant, candidates: list[Agent]) -> Agent:
    """Ask ``selector``'s model to pick one of ``candidates``."""
    client = groupchat.selection_client() or selector.client
    if client is None:
        fallback = groupchat.next_in_turn(last_speaker, candidates)
        events.emit(events.Notice(
            text=f"speaker selection 'auto' needs a model but {selector.name!r} has none "
            f"(llm_config=False): {fallback.name!r} speaks next in turn",
            level="warning",
        ))
        return fallback
    names = [agent.name for agent in candidates]
    by_name = {agent.name: agent for agent in candidates}
    role = groupchat.role_for_select_speaker_messages
    agentlist = f"{names}"
    transcript = groupchat.selection_transcript()
    transforms = groupchat.select_speaker_transform_messages
    if transforms is not None:  # e.g. keep the selection prompt short on a long chat
        transcript = transforms.apply_transforms(transcript)
    prompt = [{"role": "system", "content": groupchat.select_speaker_msg(candidates)}, *transcript]
    closing = groupchat.select_speaker_prompt(candidates)
    if closing is not None:
        prompt.append({"role": role, "content": closing})
    response_format = speaker_response_format(names) if _wants_structured_output(groupchat, client) else None
    attempts = 1 + groupchat.max_retries_for_selecting_speaker
    totals: dict[str, int] = {}
    for attempt in range(1, attempts + 1):
        response = await client.a_create(
            prompt, response_format=response_format, agent=selector.name, purpose="speaker_selection",
        )
        answer = content_str(response.message.get("content"))
        name, counts = parse_speaker_answer(answer, names)
        for key, count in counts.items():
            totals[key] = totals.get(key, 0) + count
        if name is not None:
            _say(groupchat, f"Select speaker attempt {attempt} of {attempts} successfully selected: {name}")
            return by_name[name]
        several = len(counts) > 1
        _say(groupchat, f"Select speaker attempt {attempt} of {attempts} failed as it "
             + ("included multiple agent names." if several else "did not include any agent names."))
        if attempt < attempts:
            template = groupchat.select_speaker_auto_multiple_template if several else groupchat.select_speaker_auto_none_template
            prompt = [*prompt, {"role": "assistant", "content": answer or "(no answer)"},
                      {"role": role, "content": template.format(agentlist=agentlist)}]
    if totals:
        ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            chosen = by_name[ranked[0][0]]
            events.emit(events.Notice(
                text=f"speaker selection: no single name after {attempts} attempt(s); {chosen.name!r} was mentioned most",
                level="warning",
            ))
            return chosen
    fallback = groupchat.next_in_turn(last_speaker, candidates)
    events.emit(events.Notice(
        text=f"speaker selection: the model named no single candidate in {attempts} attempt(s); "
        f"{fallback.name!r} speaks next in turn",
        level="warning",
    ))
    return fallback
