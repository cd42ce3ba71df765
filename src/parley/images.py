"""Images in messages: OpenAI-shaped ``image_url`` content parts, and what the rest of parley
needs to know about them.

A message's ``content`` may be a list of parts; an image part is
``{"type": "image_url", "image_url": {"url": ...}}`` where the URL is an ``http(s)`` address (sent
as is: parley never fetches it) or a ``data:`` URL holding the image's bytes in base64. A local
file becomes a data URL of the file's own bytes (PNG, JPEG, GIF and WebP, the formats every
vision API takes, are not re-encoded; other formats are converted to PNG). Providers convert the
part to their own shape (``models.content_parts``).

What a transcript shows for an image is its label, ``[image: cat.png 640x480]``, never the
base64: the name of the file it came from when this process made it (or the run store kept it),
its size read from the image's header. :func:`shorten_data_urls` does the same for log lines.

Reading images needs Pillow (``pip install 'parley[images]'``); URLs and labels of remote images do not.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import dataclasses
import errno
import hashlib
import io
import logging
import os
import re
import stat
import threading
import urllib.parse
from typing import Any

from .messages import parse_tags_from_content

logger = logging.getLogger(__name__)

# The media types OpenAI, Azure OpenAI and Anthropic all accept; anything else is converted to PNG.
SENDABLE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_PIL_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^;,]*)*?);base64,(?P<data>.*)$", re.DOTALL)
# A data URL inside any text (a JSON log line): its type, and its base64 of 64 characters or more.
_DATA_URL_IN_TEXT = re.compile(r"data:(image/[\w.+-]+);base64,([A-Za-z0-9+/=]{64,})")
MAX_IMAGE_FILE_BYTES = 20 * 1024 * 1024
"""The largest image file read for a message (OpenAI's own limit per image): a bigger file, or a
device that never ends, is refused before it fills memory."""
MAX_CONVERTED_PIXELS = 40_000_000
"""The largest image (in pixels) converted to PNG; a few kB of compressed TIFF can declare a
picture whose conversion takes hundreds of MB. Formats sent as they are are never decoded."""
# Not a symlink's target (a work_dir's sandboxed code may leave one pointing anywhere), never
# blocking on a FIFO (checked as not a regular file right after the open).
_IMAGE_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
LOCAL_IMAGES = ("user", "all")
"""Which messages' ``<img path>`` tags may read local files: ``"user"`` (the default) only text
the local user wrote (an initial message, a human reply, a system message); ``"all"`` any message,
a model's reply or a peer's included (classic AutoGen)."""
local_images: contextvars.ContextVar[str | None] = contextvars.ContextVar("parley_local_images", default=None)
"""The ``local_images`` setting of the agent converting a message now; None: the program itself
calls (``tagged_content_parts`` on its own text), which may read any file it names."""
# Texts the local user wrote (initial messages, human replies) that hold <img> tags, noted when
# they are sent (ConversableAgent.deliver): their tags may read local files. Bounded, oldest first.
_user_texts: dict[str, None] = {}
_USER_TEXTS_LIMIT = 4096  # references to texts the histories hold anyway
_user_texts_lock = threading.Lock()
# Texts inside a user's message that are not the user's (carried-over summaries holding <img> tags).
_foreign_texts: dict[str, None] = {}
_FOREIGN_TEXTS_LIMIT = 256
STORE_SCHEME = "parley-image:"
"""The URL scheme of an image part in the run store's JSON: ``parley-image:<sha256>`` names the
image's row in ``parley_images`` (the bytes stored once, not in every record that shows it)."""


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("images in messages need Pillow, which is not installed: pip install 'parley[images]'") from None
    return Image


@dataclasses.dataclass(frozen=True, slots=True)
class ImageInfo:
    """What a transcript says about one image."""

    name: str
    """The file name it came from (or a URL's last path segment); ``image.<ext>`` when unknown."""
    media_type: str | None = None
    """``image/png`` and the like; None for a remote image (not fetched)."""
    width: int | None = None
    height: int | None = None

    @property
    def label(self) -> str:
        size = f" {self.width}x{self.height}" if self.width is not None and self.height is not None else ""
        return f"[image: {self.name}{size}]"


# Labels of the images this process put into messages or read back from the store, by URL. Keyed
# by the URL string itself: a string caches its hash, and the history holds the same object, so a
# lookup costs no hashing of megabytes after the first. The keys keep their images alive: bounded
# by count and by size, oldest entries first (a forgotten image is labelled from its header).
_known: dict[str, ImageInfo] = {}
_KNOWN_LIMIT = 1024
_KNOWN_CHARS = 64 * 1024 * 1024
_known_chars = 0
_known_lock = threading.Lock()  # chats and the run store's writer thread both add to it


def remember(url: str, info: ImageInfo) -> None:
    """Say what the image at ``url`` (a data URL) is called, for transcripts."""
    global _known_chars
    with _known_lock:
        if url not in _known:
            _known_chars += len(url)
            while _known and (len(_known) >= _KNOWN_LIMIT or _known_chars > _KNOWN_CHARS):
                _known_chars -= len(oldest := next(iter(_known)))
                del _known[oldest]
        _known[url] = info


def parse_data_url(url: str) -> tuple[str, bytes] | None:
    """``(media type, bytes)`` of a base64 ``data:`` URL, or None when ``url`` is not one.

    Raises ValueError when it is a data URL whose base64 is broken."""
    if not url.startswith("data:"):
        return None
    match = _DATA_URL.match(url)
    if match is None:
        raise ValueError(f"not a base64 data URL: {shorten_data_urls(url[:80])!r}")
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except binascii.Error as error:
        raise ValueError(f"the base64 of data URL {shorten_data_urls(url[:60])!r}... is broken: {error}") from None
    return (match.group("type") or "application/octet-stream"), data


def data_url_type(url: str) -> str | None:
    """The media type of a base64 ``data:`` URL, from its header alone; None when ``url`` is not one."""
    if not url.startswith("data:"):
        return None
    header, comma, _ = url[:200].partition(",")
    if not comma or not header.endswith(";base64"):
        return None
    return header[5:].partition(";")[0] or None


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def digest(data: bytes) -> str:
    """The image's identity in the run store: sha256 of its bytes, hex."""
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> tuple[str | None, int, int]:
    """``(media type or None for a format no vision API takes, width, height)`` from the image's header."""
    Image = _pil()
    try:
        with Image.open(io.BytesIO(data)) as image:
            return _PIL_FORMATS.get(image.format or ""), image.width, image.height
    except Exception as error:  # Pillow raises several kinds for data that is not an image
        raise ValueError(f"not an image Pillow can read: {error}") from None


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def encode(data: bytes, name: str) -> tuple[str, ImageInfo]:
    """A data URL for image bytes (kept as they are when every provider takes the format, else
    converted to PNG), and its info."""
    media_type, width, height = sniff(data)
    if media_type is None:
        if width * height > MAX_CONVERTED_PIXELS:
            raise ValueError(f"a {width}x{height} image is more than {MAX_CONVERTED_PIXELS} pixels to convert to PNG")
        Image = _pil()
        with Image.open(io.BytesIO(data)) as image:
            data = _png(image.convert("RGBA") if image.mode not in ("RGB", "RGBA", "L", "LA") else image)
        media_type = "image/png"
    url = data_url(data, media_type)
    info = ImageInfo(name=name, media_type=media_type, width=width, height=height)
    remember(url, info)
    return url, info


def is_remote(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def image_url_part(source: Any) -> dict:
    """The content part for an image given as a file path, an ``http(s)`` URL (kept as a URL), a
    ``data:`` URL or a PIL image."""
    if isinstance(source, str):
        source = source.strip().strip("'\"")
        if is_remote(source):
            return {"type": "image_url", "image_url": {"url": source}}
        parsed = parse_data_url(source)
        if parsed is not None:
            if source not in _known:
                url, _ = encode(parsed[1], f"image.{parsed[0].rpartition('/')[2]}")
                return {"type": "image_url", "image_url": {"url": url}}
            return {"type": "image_url", "image_url": {"url": source}}
        path = os.path.expanduser(source)
        try:
            data = read_image_file(path)
        except ValueError as error:
            raise ValueError(f"image {source!r}: {error}") from None
        try:
            url, _ = encode(data, os.path.basename(path))
        except ValueError as error:
            raise ValueError(f"image {source!r}: {error}") from None
        return {"type": "image_url", "image_url": {"url": url}}
    Image = _pil()
    if isinstance(source, Image.Image):
        name = os.path.basename(getattr(source, "filename", "") or "") or "image.png"
        url, _ = encode(_png(source), name)
        return {"type": "image_url", "image_url": {"url": url}}
    raise TypeError(f"an image must be a file path, an http(s) URL, a data URL or a PIL image, not {type(source).__name__}")


def read_image_file(path: str) -> bytes:
    """The bytes of the image file at ``path``: a regular file (not a symlink, FIFO or device) of at
    most :data:`MAX_IMAGE_FILE_BYTES`. Raises ValueError saying why not."""
    try:
        fd = os.open(path, _IMAGE_FILE_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ValueError("cannot read the file: it is a symbolic link (name the file it points to)") from None
        raise ValueError(f"cannot read the file: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("cannot read the file: not a regular file")
        if info.st_size > MAX_IMAGE_FILE_BYTES:
            raise ValueError(f"the file has {info.st_size} bytes, more than {MAX_IMAGE_FILE_BYTES} (MAX_IMAGE_FILE_BYTES)")
        data = file.read(MAX_IMAGE_FILE_BYTES + 1)
    if len(data) > MAX_IMAGE_FILE_BYTES:  # it grew while read
        raise ValueError(f"the file has more than {MAX_IMAGE_FILE_BYTES} bytes (MAX_IMAGE_FILE_BYTES)")
    return data


def check_local_images(value: Any, owner: str) -> str:
    if value not in LOCAL_IMAGES:
        raise ValueError(f"{owner}: local_images must be 'user' or 'all', got {value!r}")
    return value


def note_user_text(text: str) -> None:
    """Say that the local user wrote ``text`` (its ``<img path>`` tags may read local files)."""
    with _user_texts_lock:
        _user_texts.pop(text, None)
        _user_texts[text] = None
        while len(_user_texts) > _USER_TEXTS_LIMIT:
            del _user_texts[next(iter(_user_texts))]


def note_foreign_text(text: str) -> None:
    """Say that ``text`` is not the local user's although it may be sent inside a message that is
    (a chat's summary carried over into the next chat's first message): its tags read no file."""
    with _user_texts_lock:
        _foreign_texts.pop(text, None)
        _foreign_texts[text] = None
        while len(_foreign_texts) > _FOREIGN_TEXTS_LIMIT:
            del _foreign_texts[next(iter(_foreign_texts))]


def _foreign_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for foreign in list(_foreign_texts):
        at = text.find(foreign)
        while at != -1:
            spans.append((at, at + len(foreign)))
            at = text.find(foreign, at + 1)
    return spans


def written_by_user(text: str) -> bool:
    """Whether the local user wrote ``text`` (see :func:`note_user_text`)."""
    return text in _user_texts


def may_read_local_files(text: str) -> bool:
    """Whether ``<img path>`` tags in ``text`` may read local files now (see :data:`local_images`)."""
    mode = local_images.get()
    return mode is None or mode == "all" or text in _user_texts


def tagged_content_parts(text: str, *, local_files: bool | None = None) -> list[dict]:
    """``text`` as content parts: each ``<img path-or-url>`` tag an image part (:func:`image_url_part`),
    the text around the tags text parts.

    ``local_files``: whether tags naming local files are read (None: :func:`may_read_local_files`).
    A tag that may not read its file stays text: a model's reply or a peer's message naming
    ``/root/.ssh/...`` sends nothing from this host."""
    foreign: list[tuple[int, int]] = []
    if local_files is None:
        local_files = may_read_local_files(text)
        if local_files and local_images.get() == "user":
            foreign = _foreign_spans(text)  # a model's summary carried into the user's message
    parts: list[dict] = []
    end = 0

    def add_text(piece: str) -> None:
        if parts and parts[-1].get("type") == "text":
            parts[-1] = {"type": "text", "text": parts[-1]["text"] + piece}
        else:
            parts.append({"type": "text", "text": piece})

    for tag in parse_tags_from_content("img", text):
        match = tag["match"]
        if match.start() > end:
            add_text(text[end:match.start()])
        source = tag["attr"].get("src") or next(iter(tag["attr"].values()), "")
        bare = source.strip().strip("'\"") if isinstance(source, str) else source
        readable = local_files and not any(start <= match.start() and match.end() <= end_ for start, end_ in foreign)
        if readable:
            parts.append(image_url_part(source))  # the user's own tag: a broken image is their error to see
        elif not isinstance(bare, str) or is_remote(bare) or bare.startswith("data:"):
            try:
                parts.append(image_url_part(source))
            except ValueError as error:  # someone else's broken image must not end the chat
                logger.warning("an <img> tag in a message the local user did not write stays text: %s", error)
                add_text(match.group(0))
        else:
            logger.warning("an <img> tag naming local file %s in a message the local user did not write stays "
                           "text (local_images='all' reads it)", ascii(bare)[:200])
            add_text(match.group(0))
        end = match.end()
    if end < len(text):
        add_text(text[end:])
    return parts


def part_url(part: dict) -> Any:
    """The URL (or, classic style, the PIL image) of an ``image_url`` part."""
    value = part.get("image_url")
    return value.get("url") if isinstance(value, dict) else value


def describe(url: Any) -> ImageInfo:
    """What a transcript should say about the image at ``url``; reads only a data URL's header."""
    if not isinstance(url, str):  # a PIL image in a classic-style part
        size = getattr(url, "size", None)
        name = os.path.basename(getattr(url, "filename", "") or "") or "image"
        return ImageInfo(name=name, width=size[0] if size else None, height=size[1] if size else None)
    known = _known.get(url)
    if known is not None:
        return known
    if url.startswith(STORE_SCHEME):
        return ImageInfo(name=f"{url[len(STORE_SCHEME):][:12]} (stored)")
    if url.startswith("data:"):
        try:
            parsed = parse_data_url(url)
            assert parsed is not None
            media_type, data = parsed
            _, width, height = sniff(data)
        except ValueError:
            return ImageInfo(name="image (unreadable data URL)")
        except ImportError:  # no Pillow: the size is not known
            media_type = data_url_type(url) or "image/png"
            return ImageInfo(name=f"image.{media_type.rpartition('/')[2]}", media_type=media_type)
        info = ImageInfo(name=f"image.{media_type.rpartition('/')[2]}", media_type=media_type, width=width, height=height)
        remember(url, info)
        return info
    path = urllib.parse.urlsplit(url).path
    return ImageInfo(name=os.path.basename(path.rstrip("/")) or shorten_data_urls(url[:60]))


def label(part: dict) -> str:
    """``[image: name WxH]`` for an image part."""
    return describe(part_url(part)).label


def display_text(content: Any) -> str:
    """A message's content as a transcript shows it: text, and each image as its label."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, dict) and part.get("type") in ("image_url", "image"):
                pieces.append(label(part) if part.get("type") == "image_url" else "[image]")
            elif isinstance(part, dict) and part.get("type") == "text":
                pieces.append(str(part.get("text", "")))
            else:
                pieces.append(str(part))
        return "".join(pieces)
    return str(content)


def has_image(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") in ("image_url", "image") for part in content)


def _shortened(match: re.Match[str]) -> str:
    try:
        data = base64.b64decode(match.group(2))
    except binascii.Error:
        return f"data:{match.group(1)};base64,<{len(match.group(2))} characters of broken base64>"
    return f"data:{match.group(1)};base64,<{len(data)} bytes, sha256 {digest(data)[:12]}>"


def shorten_data_urls(text: str) -> str:
    """``text`` with each image data URL's base64 replaced by its size and digest: for log lines."""
    if "data:image/" not in text:
        return text
    return _DATA_URL_IN_TEXT.sub(_shortened, text)


__all__ = ["LOCAL_IMAGES", "MAX_CONVERTED_PIXELS", "MAX_IMAGE_FILE_BYTES", "STORE_SCHEME", "ImageInfo",
           "check_local_images", "data_url", "data_url_type", "describe", "digest", "display_text", "encode",
           "has_image", "image_url_part", "label", "local_images", "may_read_local_files", "note_foreign_text",
           "note_user_text", "parse_data_url", "part_url", "read_image_file", "remember", "shorten_data_urls", "sniff",
           "tagged_content_parts", "written_by_user"]
