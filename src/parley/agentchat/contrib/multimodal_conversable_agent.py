"""``MultimodalConversableAgent``: an agent whose model sees images.

Text it receives or sends with ``<img path-or-url>`` tags is stored as OpenAI content parts
(classic): the text around each tag as a text part, the image as an ``image_url`` part. A local
file becomes a base64 data URL of its bytes; an ``http(s)`` URL stays a URL (the provider fetches
it, parley does not). The history then goes to any provider that sees images: OpenAI-compatible
servers and Azure as is, Anthropic as its image blocks. A model that cannot see (the embedded
local one) refuses it with an error; give a text-only agent ``VisionCapability`` instead.

    seer = MultimodalConversableAgent("seer", llm_config={"config_list": vision_models})
    user.initiate_chat(seer, message="What is in this picture? <img photos/cat.jpg>")
"""

from __future__ import annotations

import copy
from typing import Any

from ...agents.conversable import ConversableAgent
from ...images import check_local_images, image_url_part, local_images, tagged_content_parts

DEFAULT_LMM_SYS_MSG = """You are a helpful AI assistant."""
DEFAULT_MODEL = "gpt-4-vision-preview"


def _normalised(parts: list) -> list:
    """A copy of content parts whose images are URLs: a PIL image (classic
    ``gpt4v_formatter(img_format="pil")``) becomes a data URL, so the history can be stored and sent."""
    out = []
    for part in parts:
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = part["image_url"].get("url") if isinstance(part.get("image_url"), dict) else part.get("image_url")
            if not isinstance(url, str):
                part = {**part, "image_url": {**(part["image_url"] if isinstance(part.get("image_url"), dict) else {}),
                                              "url": image_url_part(url)["image_url"]["url"]}}
        out.append(part)
    return out


class MultimodalConversableAgent(ConversableAgent):
    """Classic ``MultimodalConversableAgent``: ``<img ...>`` tags in its messages become image parts."""

    DEFAULT_CONFIG = {"model": DEFAULT_MODEL}  # noqa: RUF012 (classic: a class attribute, read by ConversableAgent)

    def __init__(self, name: str, system_message: str | list | None = DEFAULT_LMM_SYS_MSG,
                 is_termination_msg: Any = None, *args: Any, local_images: str = "user", **kwargs: Any) -> None:
        """``local_images``: which messages' ``<img path>`` tags may read files on this host:
        ``"user"`` only those the local user wrote (initial messages, human replies, the system
        message); ``"all"`` any, a model's reply and a peer's included (classic AutoGen)."""
        self._local_images = check_local_images(local_images, "MultimodalConversableAgent")
        super().__init__(name, system_message, is_termination_msg, *args, **kwargs)
        self._tag_parts: dict[str, list[dict]] = {}  # tagged text -> its parts, for group-chat prompts
        self.update_system_message(system_message)

    def update_system_message(self, system_message: Any) -> None:
        """Set the system message; ``<img ...>`` tags in it become image parts too (classic)."""
        # The program wrote it: its tags may read local files.
        token = local_images.set(None)
        try:
            self._oai_system_message[0]["content"] = self._message_to_dict(system_message)["content"]
        finally:
            local_images.reset(token)
        self._oai_system_message[0]["role"] = "system"

    @staticmethod
    def _message_to_dict(message: Any) -> dict:
        """A str becomes content parts; a list is taken as content parts; a dict's str content becomes parts."""
        if isinstance(message, str):
            return {"content": tagged_content_parts(message)}
        if isinstance(message, list):
            return {"content": _normalised(message)}
        if isinstance(message, dict):
            if "content" not in message and not ("tool_calls" in message or "function_call" in message):
                raise ValueError("MultimodalConversableAgent: a message dict must have a 'content' field")
            if message.get("role") in ("tool", "function") or "tool_responses" in message:
                return message  # a tool's result stays text: providers take only text there
            content = message.get("content")
            if isinstance(content, str):
                return {**copy.copy(message), "content": tagged_content_parts(content)}
            if isinstance(content, list):
                return {**copy.copy(message), "content": _normalised(content)}
            return message
        raise ValueError(f"MultimodalConversableAgent: unsupported message type {type(message).__name__}")

    def deliver(self, message: dict | str, recipient: Any, silent: bool, produced_by: str | None = None) -> None:
        token = local_images.set(self._local_images)  # its own copy's tags read files only as local_images says
        try:
            super().deliver(message, recipient, silent, produced_by)
        finally:
            local_images.reset(token)

    def accept(self, message: dict, sender: Any, silent: bool, produced_by: str | None = None) -> None:
        # What it receives is stored (and shown) with its images as parts.
        token = local_images.set(self._local_images)
        try:
            converted = self._message_to_dict(message)
        finally:
            local_images.reset(token)
        super().accept(converted, sender, silent, produced_by)

    async def _model_reply(self, client: Any, prompt: list[dict], response_format: dict | None = None,
                           params: dict | None = None) -> tuple[bool, str | dict | None]:
        # A group chat hands its participants the transcript's text without a receive (classic
        # sends each a copy, which its _message_to_dict converts): tags still in the prompt's
        # user messages are converted here, so the model sees those images too.
        converted = None
        for i, message in enumerate(prompt):
            content = message.get("content")
            if content.__class__ is str and "<img" in content and message.get("role") == "user":
                parts = self._tag_parts.get(content)
                if parts is None:
                    token = local_images.set(self._local_images)
                    try:
                        parts = tagged_content_parts(content)
                    finally:
                        local_images.reset(token)
                    if len(self._tag_parts) >= 64:
                        del self._tag_parts[next(iter(self._tag_parts))]
                    self._tag_parts[content] = parts
                if converted is None:
                    converted = list(prompt)  # the prompt may be a cached list: never edited in place
                converted[i] = {**message, "content": parts}
        return await super()._model_reply(client, prompt if converted is None else converted, response_format, params)


__all__ = ["DEFAULT_LMM_SYS_MSG", "DEFAULT_MODEL", "MultimodalConversableAgent"]
