"""Classic ``autogen.agentchat.contrib.img_utils``: images in messages (needs Pillow).

An image is given as a file path, an ``http(s)`` URL, a ``data:`` URI, bare base64 or a PIL image; prompts
name images with ``<img path-or-url>`` tags, which ``gpt4v_formatter`` turns into OpenAI's
multimodal content parts and ``llava_formatter`` into ``<image>`` tokens.
"""

from __future__ import annotations

import base64
import copy
import io
import math
import os
import re
from typing import Any, Literal, overload

from ..utils import parse_tags_from_content

_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_DATA_URI = re.compile(r"^data:image/[a-zA-Z0-9.+-]+;base64,(.*)$", re.DOTALL)


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("agentchat.contrib.img_utils needs Pillow, which is not installed: "
                          "pip install 'parley[images]'") from None
    return Image


def get_pil_image(image_file: Any) -> Any:
    """The image as an RGB PIL image, from a path, an http(s) URL, a data URI or a PIL image."""
    Image = _pil()
    if isinstance(image_file, Image.Image):
        return image_file.convert("RGB")
    if not isinstance(image_file, str):
        raise TypeError(f"get_pil_image: expected a path, URL, data URI or PIL image, not {type(image_file).__name__}")
    match = _DATA_URI.match(image_file)
    if match:
        source: Any = io.BytesIO(base64.b64decode(match.group(1)))
    elif image_file.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(image_file, follow_redirects=True, timeout=30)
        response.raise_for_status()
        source = io.BytesIO(response.content)
    else:
        source = image_file.strip("'\"")
        if not os.path.exists(source) and _BASE64.match(source):
            source = io.BytesIO(base64.b64decode(source))  # classic: a bare base64 string is the image itself
    return Image.open(source).convert("RGB")


@overload
def get_image_data(image_file: Any, use_b64: Literal[True] = True) -> str: ...
@overload
def get_image_data(image_file: Any, use_b64: Literal[False]) -> bytes: ...
@overload
def get_image_data(image_file: Any, use_b64: bool) -> bytes | str: ...


def get_image_data(image_file: Any, use_b64: bool = True) -> bytes | str:
    """The image as PNG bytes, or their base64 text."""
    buffer = io.BytesIO()
    get_pil_image(image_file).save(buffer, format="PNG")
    data = buffer.getvalue()
    return base64.b64encode(data).decode("utf-8") if use_b64 else data


def convert_base64_to_data_uri(base64_image: str) -> str:
    """A data URI for base64 image data (the type told from its first bytes)."""
    head = base64.b64decode(base64_image[:32] + "=" * (-len(base64_image[:32]) % 4))
    kind = ("jpeg" if head.startswith(b"\xff\xd8") else "gif" if head.startswith(b"GIF8")
            else "webp" if head[8:12] == b"WEBP" else "png")
    return f"data:image/{kind};base64,{base64_image}"


def pil_to_data_uri(image: Any) -> str:
    """A PNG data URI for a PIL image."""
    return convert_base64_to_data_uri(get_image_data(image))


def extract_img_paths(paragraph: str) -> list[str]:
    """The image URLs and file names (by extension) in a text."""
    pattern = r"\b(?:http[s]?://\S+\.(?:jpg|jpeg|png|gif|bmp)|\S+\.(?:jpg|jpeg|png|gif|bmp))\b"
    return re.findall(pattern, paragraph, flags=re.IGNORECASE)


def gpt4v_formatter(prompt: str, img_format: str = "uri") -> list[dict]:
    """The prompt as OpenAI content parts: text, and each ``<img ...>`` as an image part
    (``img_format``: ``"uri"`` a data URI, ``"url"`` the source as written, ``"pil"`` a PIL image)."""
    if img_format not in ("uri", "url", "pil"):
        raise ValueError(f"gpt4v_formatter: img_format must be 'uri', 'url' or 'pil', got {img_format!r}")
    parts: list[dict] = []
    end = 0
    for tag in parse_tags_from_content("img", prompt):
        match = tag["match"]
        if prompt[end: match.start()]:
            parts.append({"type": "text", "text": prompt[end: match.start()]})
        source = tag["attr"].get("src") or next(iter(tag["attr"].values()), "")
        image: Any
        if img_format == "url":
            image = source
        elif img_format == "uri":  # classic's steps: PNG base64, then its data URI
            image = convert_base64_to_data_uri(get_image_data(source))
        else:
            image = get_pil_image(source)
        parts.append({"type": "image_url", "image_url": {"url": image}})
        end = match.end()
    if prompt[end:]:
        parts.append({"type": "text", "text": prompt[end:]})
    return parts


def llava_formatter(prompt: str, order_image_tokens: bool = False) -> tuple[str, list[str]]:
    """The prompt with each ``<img ...>`` replaced by ``<image>`` (``<image 0>``, ... when
    ordered), and the images as base64 PNG data, in order."""
    images: list[str] = []
    out, end = [], 0
    for tag in parse_tags_from_content("img", prompt):
        match = tag["match"]
        out.append(prompt[end: match.start()])
        out.append(f"<image {len(images)}>" if order_image_tokens else "<image>")
        source = tag["attr"].get("src") or next(iter(tag["attr"].values()), "")
        images.append(get_image_data(source))
        end = match.end()
    out.append(prompt[end:])
    return "".join(out), images


def message_formatter_pil_to_b64(messages: list[dict]) -> list[dict]:
    """A copy of the messages whose PIL images in image parts are data URIs."""
    Image = _pil()
    result = copy.deepcopy(messages)
    for message in result:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if (isinstance(part, dict) and part.get("type") == "image_url"
                        and isinstance(part["image_url"].get("url"), Image.Image)):
                    part["image_url"]["url"] = pil_to_data_uri(part["image_url"]["url"])
    return result


def num_tokens_from_gpt_image(image_data: Any, model: str = "gpt-4-vision", low_quality: bool = False) -> int:
    """Prompt tokens of one image for OpenAI vision models, by OpenAI's published rule: 85 at low
    detail; at high detail, the image scaled into 2048x2048 then its short side to 768, 170 per
    512-pixel tile plus 85."""
    if low_quality:
        return 85
    width, height = get_pil_image(image_data).size
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    width, height = width * scale, height * scale
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    return 170 * tiles + 85


__all__ = ["convert_base64_to_data_uri", "extract_img_paths", "get_image_data", "get_pil_image", "gpt4v_formatter",
           "llava_formatter", "message_formatter_pil_to_b64", "num_tokens_from_gpt_image", "pil_to_data_uri"]
