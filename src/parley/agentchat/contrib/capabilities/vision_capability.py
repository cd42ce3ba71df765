"""``VisionCapability``: a text-only agent that understands images, through a vision model's captions.

    vision = VisionCapability(lmm_config={"config_list": vision_models})
    vision.add_to_agent(assistant)   # assistant: any ConversableAgent, the local model's included

Before the agent replies, each image in the messages its model is about to see (image parts,
and ``<img path-or-url>`` tags in the last message, as classic) is described by the vision model
(``lmm_config``) or by ``custom_caption_func(url, pil_image, lmm_client)``; the model then sees
the text with each image replaced by ``<img name> in case you can not see, the caption of this
image is: ...`` (classic's words). The stored history keeps the images. Captions are kept per
image, so a picture is described once however many replies see it.

Classic registers on ``process_last_received_message``; parley's hook of that name passes text
(an image part would arrive as ``<image>``), so this one works on ``process_all_messages_before_reply``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ...._sync import run_sync
from ....images import (
    check_local_images,
    describe,
    image_url_part,
    is_remote,
    local_images,
    part_url,
    tagged_content_parts,
    written_by_user,
)
from ....messages import content_str
from ...utils import parse_tags_from_content
from .agent_capability import AgentCapability

DEFAULT_DESCRIPTION_PROMPT = (
    "Write a detailed caption for this image. "
    "Pay special attention to any details that might be useful or relevant "
    "to the ongoing conversation."
)
logger = logging.getLogger(__name__)
_CAPTIONS_KEPT = 64  # by URL: the keys keep their images alive


class VisionCapability(AgentCapability):
    """Captions images for an agent whose model cannot see them."""

    def __init__(self, lmm_config: dict | bool | None, description_prompt: str | None = DEFAULT_DESCRIPTION_PROMPT,
                 custom_caption_func: Callable | None = None, *, local_images: str = "user") -> None:
        """
        Args:
            lmm_config: the llm_config of a model that sees images (an OpenAI, Azure or Anthropic
                vision model), which writes the captions.
            description_prompt: what the vision model is asked with each image.
            custom_caption_func: ``f(image_url, pil_image, lmm_client) -> str``, used instead of
                the vision model's captions when given.
            local_images: which messages' ``<img path>`` tags may read files on this host:
                ``"user"`` only those the local user wrote; ``"all"`` any (classic AutoGen).
        """
        self._local_images = check_local_images(local_images, "VisionCapability")
        if not lmm_config and custom_caption_func is None:
            raise ValueError("VisionCapability needs lmm_config (the llm_config of a vision model) or custom_caption_func")
        if lmm_config is not None and lmm_config is not False and not isinstance(lmm_config, dict):
            raise TypeError(f"VisionCapability: lmm_config must be a dict, not {type(lmm_config).__name__}")
        if custom_caption_func is not None and not callable(custom_caption_func):
            raise TypeError("VisionCapability: custom_caption_func must be callable (image_url, pil_image, lmm_client) -> str")
        self._lmm_config = lmm_config
        self._description_prompt = description_prompt or DEFAULT_DESCRIPTION_PROMPT
        self._custom_caption_func = custom_caption_func
        self._parent_agent: Any = None
        self._captions: dict[str, str] = {}
        if lmm_config:
            from ....models.wrapper import OpenAIWrapper

            self._lmm_client: Any = OpenAIWrapper(**lmm_config)
        else:
            self._lmm_client = None

    def add_to_agent(self, agent: Any) -> None:
        self._parent_agent = agent
        system_message, added = agent.system_message, "\nYou've been given the ability to interpret images."
        if isinstance(system_message, list):
            agent.update_system_message([*system_message, {"type": "text", "text": added}])
        else:
            agent.update_system_message((system_message or "") + added)
        agent.register_hook(hookable_method="process_all_messages_before_reply", hook=self._caption_messages)

    # ------------------------------------------------------------------ classic entry point

    def process_last_received_message(self, content: str | list) -> str:
        """Classic: ``content`` (text with ``<img ...>`` tags, or content parts) as text with each
        image followed by its caption."""
        return run_sync(self.a_process_last_received_message(content))

    async def a_process_last_received_message(self, content: str | list) -> str:
        if isinstance(content, str):
            parts: list = tagged_content_parts(content)
        elif isinstance(content, list):
            parts = content
        else:
            raise TypeError(f"VisionCapability: content must be a str or a list of parts, not {type(content).__name__}")
        pieces = []
        for part in parts:
            if not isinstance(part, dict):
                raise TypeError(f"VisionCapability: content parts must be dicts, not {type(part).__name__}")
            if part.get("type") == "text":
                pieces.append(part.get("text", ""))
            elif part.get("type") == "image_url":
                url = part_url(part)
                # A data URL is named, not written out: its base64 would fill the text model's context.
                shown = url if isinstance(url, str) and not url.startswith("data:") else describe(url).name
                caption = await self._caption(url)
                pieces.append(f"<img {shown}> in case you can not see, the caption of this image is: {caption}\n")
            else:
                raise ValueError(f"VisionCapability: unknown content part type {part.get('type')!r}")
        return "".join(pieces)

    # ------------------------------------------------------------------ the hook

    async def _caption_messages(self, messages: list[dict]) -> list[dict]:
        """The messages with every image part captioned, and ``<img>`` tags in the last one."""
        out = None
        last = len(messages) - 1
        for i, message in enumerate(messages):
            content = message.get("content")
            if content.__class__ is list:
                if not any(isinstance(p, dict) and p.get("type") == "image_url" for p in content):
                    continue
            elif not (i == last and content.__class__ is str and "<img" in content and parse_tags_from_content("img", content)):
                continue
            if out is None:
                out = list(messages)
            # A model's or a peer's message reads no local file and makes this host fetch nothing.
            trusted = self._local_images == "all" or (content.__class__ is str and written_by_user(content))
            token = local_images.set("all" if trusted else "user")
            try:
                out[i] = {**message, "content": await self.a_process_last_received_message(content)}
            finally:
                local_images.reset(token)
        return messages if out is None else out

    async def _a_describe(self, url: str) -> str:
        """The vision model's caption of the image at ``url`` (an http(s) or data URL)."""
        response = await self._lmm_client.a_create(
            [{"role": "user", "content": [{"type": "text", "text": self._description_prompt},
                                          {"type": "image_url", "image_url": {"url": url}}]}],
            agent=getattr(self._parent_agent, "name", None), purpose="image_caption")
        return content_str(response.message.get("content"))

    def _get_image_caption(self, img_data: str) -> str:
        """Classic: the vision model's caption of an image given as base64 data."""
        if self._lmm_client is None:
            raise ValueError("VisionCapability: no lmm_config to caption images with")
        from ..img_utils import convert_base64_to_data_uri

        return run_sync(self._a_describe(convert_base64_to_data_uri(img_data)))

    async def _caption(self, url: Any) -> str:
        key = url if isinstance(url, str) else None
        if key is not None and key in self._captions:
            return self._captions[key]
        if (local_images.get() == "user" and isinstance(url, str) and not url.startswith("data:")
                and (not is_remote(url) or self._custom_caption_func is not None
                     or type(self)._get_image_caption is not _own_get_image_caption)):
            # A file path in a part someone else sent, or a URL this host would have to fetch for
            # the caption function: neither is read (local_images="all" reads both).
            logger.warning("VisionCapability: image %s from a message the local user did not write is not read",
                           ascii(url)[:200])
            return ""
        if self._custom_caption_func is not None:
            from ..img_utils import get_pil_image

            caption = self._custom_caption_func(url, get_pil_image(url), self._lmm_client)
            if hasattr(caption, "__await__"):
                caption = await caption
        elif type(self)._get_image_caption is not _own_get_image_caption:
            # Classic's customisation point, replaced by a subclass (or a test): it takes base64 PNG data.
            from .. import img_utils

            caption = self._get_image_caption(img_utils.get_image_data(url))
        elif self._lmm_client is not None:
            if not (isinstance(url, str) and (is_remote(url) or url.startswith("data:"))):
                url = image_url_part(url)["image_url"]["url"]  # a file path or a PIL image: its bytes
            caption = await self._a_describe(url)
        else:
            caption = ""
        caption = str(caption)
        if key is not None:
            if len(self._captions) >= _CAPTIONS_KEPT:
                del self._captions[next(iter(self._captions))]
            self._captions[key] = caption
        return caption


_own_get_image_caption = VisionCapability._get_image_caption  # to tell when it has been replaced

__all__ = ["DEFAULT_DESCRIPTION_PROMPT", "VisionCapability"]

