"""Images in the run store: each image's bytes stored once, in ``parley_images`` by sha256.

A message or a prompt that holds an image as a ``data:`` URL is stored with that URL replaced by
``parley-image:<digest>`` (:data:`parley.images.STORE_SCHEME`); readers put the data URL back
(:func:`resolve`), so a resumed chat sends the same image and a transcript shows the image's
label. A chat that shows one picture in every prompt stores its bytes once, not once per prompt.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from .. import images
from . import schema

_CACHE_LIMIT = 32  # data URLs kept as keys (they keep their images alive)


class ImageExtractor:
    """The writer thread's: stored forms of messages, and the image rows they need."""

    def __init__(self) -> None:
        self.written: set[str] = set()  # digests known to be in the table
        # data URL -> its digest: the same string object comes back in every prompt of a chat, and
        # a string caches its hash, so it is decoded and hashed once.
        self._digests: dict[str, str] = {}

    def stored_message(self, message: dict, pending: dict[str, dict]) -> dict:
        """``message`` with its images' data URLs replaced by references; rows of images not yet
        written go into ``pending`` (by digest)."""
        content = message.get("content")
        if content.__class__ is not list or not images.has_image(content):
            return message
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                url = images.part_url(part)
                if isinstance(url, str) and url.startswith("data:"):
                    digest = self._digest(url, pending)
                    if digest is not None:
                        image_url = part["image_url"] if isinstance(part["image_url"], dict) else {}
                        part = {**part, "image_url": {**image_url, "url": images.STORE_SCHEME + digest}}
            parts.append(part)
        return {**message, "content": parts}

    def stored_messages(self, messages: Any, pending: dict[str, dict]) -> Any:
        if not isinstance(messages, list):
            return messages
        return [self.stored_message(m, pending) if isinstance(m, dict) else m for m in messages]

    def _digest(self, url: str, pending: dict[str, dict]) -> str | None:
        digest = self._digests.get(url)
        if digest is not None and (digest in self.written or digest in pending):
            return digest
        try:
            parsed = images.parse_data_url(url)
        except ValueError:
            return None  # not an image the store can keep: the message keeps it inline
        assert parsed is not None
        media_type, data = parsed
        digest = images.digest(data)
        if len(self._digests) >= _CACHE_LIMIT:
            del self._digests[next(iter(self._digests))]
        self._digests[url] = digest
        if digest not in self.written and digest not in pending:
            info = images.describe(url)
            pending[digest] = {
                "digest": digest, "media_type": media_type[:100], "name": info.name, "width": info.width,
                "height": info.height, "size": len(data), "data": data, "created_at": time.time(),
            }
        return digest


def write(connection: sa.Connection, rows: Iterable[dict]) -> None:
    """Insert image rows; one already stored (by another run, another process) is left as it is."""
    rows = list(rows)
    if not rows:
        return
    table = schema.images
    dialect = connection.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        connection.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=["digest"]), rows)
        return
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        connection.execute(postgresql.insert(table).on_conflict_do_nothing(index_elements=["digest"]), rows)
        return
    present = set(connection.execute(sa.select(table.c.digest).where(table.c.digest.in_([r["digest"] for r in rows]))).scalars())
    missing = [row for row in rows if row["digest"] not in present]
    if missing:
        connection.execute(table.insert(), missing)


def references(value: Any, found: set[str] | None = None) -> set[str]:
    """The digests of the stored images a message (or a list of them, or any JSON) refers to."""
    found = set() if found is None else found
    if isinstance(value, dict):
        if value.get("type") == "image_url":
            url = images.part_url(value)
            if isinstance(url, str) and url.startswith(images.STORE_SCHEME):
                found.add(url[len(images.STORE_SCHEME):])
        else:
            for item in value.values():
                if isinstance(item, (dict, list)):
                    references(item, found)
    elif isinstance(value, list):
        for item in value:
            references(item, found)
    return found


def load(connection: sa.Connection, digests: Iterable[str]) -> dict[str, str]:
    """Data URLs of stored images by digest; each one's name and size remembered for transcripts."""
    digests = list(digests)
    if not digests:
        return {}
    table = schema.images
    urls = {}
    for row in connection.execute(sa.select(table).where(table.c.digest.in_(digests))).mappings():
        url = images.data_url(row["data"], row["media_type"])
        images.remember(url, images.ImageInfo(name=row["name"] or f"image.{row['media_type'].rpartition('/')[2]}",
                                              media_type=row["media_type"], width=row["width"], height=row["height"]))
        urls[row["digest"]] = url
    return urls


def resolve(value: Any, urls: dict[str, str]) -> Any:
    """``value`` with each reference to a stored image replaced by the image's data URL (a reference
    to an image not in ``urls`` is left as it is)."""
    if isinstance(value, dict):
        if value.get("type") == "image_url":
            url = images.part_url(value)
            if isinstance(url, str) and url.startswith(images.STORE_SCHEME) and url[len(images.STORE_SCHEME):] in urls:
                image_url = value["image_url"] if isinstance(value["image_url"], dict) else {}
                return {**value, "image_url": {**image_url, "url": urls[url[len(images.STORE_SCHEME):]]}}
            return value
        return {key: resolve(item, urls) if isinstance(item, (dict, list)) else item for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, urls) for item in value]
    return value


def metadata_rows(connection: sa.Connection, digests: Iterable[str]) -> list[dict]:
    """The stored images' rows (data as a data URL), for an export."""
    digests = sorted(set(digests))
    if not digests:
        return []
    table = schema.images
    rows = connection.execute(sa.select(table).where(table.c.digest.in_(digests)).order_by(table.c.digest)).mappings().all()
    for r in rows:  # a transcript of the stored messages then shows each reference's label
        images.remember(images.STORE_SCHEME + r["digest"], images.ImageInfo(
            name=r["name"] or "image", media_type=r["media_type"], width=r["width"], height=r["height"]))
    return [{"digest": r["digest"], "name": r["name"], "media_type": r["media_type"], "width": r["width"],
             "height": r["height"], "size": r["size"], "data_url": images.data_url(r["data"], r["media_type"])} for r in rows]
