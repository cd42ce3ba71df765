"""Model references resolved into ``llm_config`` dicts at build time: an ``OAI_CONFIG_LIST``
(environment variable or file, as the seed reads it, the embedded model when there is none) with
``filter_dict``, or entries whose key is ``api_key: {env: NAME}``. Also the scripted model that
``--model scripted`` and ``parley spec check`` put in place of every model."""

from __future__ import annotations

import os
import re
from typing import Any

from .access import key_for_entry
from .document import ConfigListReference, ModelSpec
from .errors import SpecError

_OPTIONS = ("temperature", "top_p", "max_tokens", "seed", "cache_seed", "timeout")


def llm_config_for(name: str, spec: ModelSpec) -> dict:
    """The classic llm_config a model reference stands for (its secrets read now)."""
    where = f"models.{name}.config_list"
    if isinstance(spec.config_list, ConfigListReference):
        from ..models.config import config_list_from_json

        ref = spec.config_list
        try:
            config_list = config_list_from_json(ref.env_or_file, file_location=ref.file_location or "",
                                                filter_dict=ref.filter_dict)
        except Exception as error:  # a config that can't be read is this reference's error
            from ..models.secrets import redact

            raise SpecError(f"{ref.env_or_file}: {redact(str(error))}", where) from None
        if not config_list:
            raise SpecError(f"{ref.env_or_file} has no entry matching filter_dict {ref.filter_dict}", where)
    else:
        config_list = []
        for i, entry in enumerate(spec.config_list):
            data = entry.model_dump(exclude_none=True)
            if entry.api_key is not None:
                value = os.environ.get(entry.api_key.env)
                if not value:
                    raise SpecError(f"environment variable {entry.api_key.env} is not set", f"{where}[{i}].api_key")
                data["api_key"] = value
            elif (placeholder := key_for_entry(entry)) is not None:
                data["api_key"] = placeholder  # not $OPENAI_API_KEY: this endpoint is the spec's choice
            config_list.append(data)
    config: dict[str, Any] = {"config_list": config_list}
    config.update({key: getattr(spec, key) for key in _OPTIONS if getattr(spec, key) is not None})
    return config


def scripted_reply(agent: str, terminate_after: int = 12, explore: dict | None = None):
    """A deterministic reply of the request alone (so a resumed run replays it): a speaker
    selection names a candidate in turn, an agent says who it is and how much it has seen, and
    ends with TERMINATE once the conversation is ``terminate_after`` messages long. With
    ``explore`` (a dict of counts shared by the team), a selection names the candidate chosen
    least so far instead, so that a walk reaches every agent it can."""

    def reply(request: Any) -> str:
        last = str(request.messages[-1].get("content") or "") if request.messages else ""
        first = str(request.messages[0].get("content") or "") if request.messages else ""
        match = re.search(r"select the next role from \[(.*?)\] to play", last) or re.search(
            r"select the next role from \[(.*?)\] to play", first)
        if match:
            names = re.findall(r"'((?:[^'\\]|\\.)*)'", match.group(1))
            if names and explore is not None:
                chosen = min(names, key=lambda n: explore.get(n, 0))
                explore[chosen] = explore.get(chosen, 0) + 1
                return chosen
            if names:
                return names[len(request.messages) % len(names)]
        count = len(request.messages)
        if count >= terminate_after:
            return f"{agent}: finished after {count} messages. TERMINATE"
        return f"{agent}: reply to {count} messages"

    return reply


def scripted_llm_config(agent: str, terminate_after: int = 12, explore: dict | None = None) -> dict:
    from ..models.scripted import ScriptedModelClient

    reply = scripted_reply(agent, terminate_after, explore)
    return {"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply)}]}


__all__ = ["llm_config_for", "scripted_llm_config", "scripted_reply"]
