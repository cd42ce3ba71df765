"""Image content parts in the shapes providers want.

Agents keep OpenAI's shape (``{"type": "image_url", "image_url": {"url": ...}}``, see
:mod:`parley.images`); OpenAI-compatible servers and Azure take it as is. Anthropic wants
``{"type": "image", "source": {"type": "base64", "media_type": ..., "data": ...}}`` for the
image's bytes and ``{"type": "image", "source": {"type": "url", "url": ...}}`` for a remote one.
"""

from __future__ import annotations

from typing import Any

from .. import images
from .protocol import ModelError


def anthropic_image_block(part: dict, where: str = "anthropic") -> dict:
    """The Anthropic block for an OpenAI-shaped image part; ModelError naming what is wrong."""
    url: Any = images.part_url(part)
    if not isinstance(url, str):  # a PIL image (classic gpt4v_formatter(img_format="pil"))
        url = images.image_url_part(url)["image_url"]["url"]
    if images.is_remote(url):
        return {"type": "image", "source": {"type": "url", "url": url}}
    media_type = images.data_url_type(url)  # the header only: a call re-sends every image in the history
    if media_type is None:
        raise ModelError(f"{where}: image part: the url must be an http(s) URL or a base64 data URL, "
                         f"got {images.shorten_data_urls(url[:80])!r}")
    if media_type not in images.SENDABLE_MEDIA_TYPES:
        try:  # a format Anthropic does not take (BMP, TIFF): sent as PNG
            parsed = images.parse_data_url(url)
            assert parsed is not None
            url, _ = images.encode(parsed[1], "image")
        except (ValueError, ImportError) as error:
            raise ModelError(f"{where}: image part of type {media_type!r} (Anthropic takes "
                             f"{', '.join(sorted(images.SENDABLE_MEDIA_TYPES))}): {error}") from None
        media_type = "image/png"
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": url.partition(",")[2]}}
