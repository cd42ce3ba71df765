"""Spec errors that name the path (``agents.Engineer.max_consecutive_auto_reply: ...``), from
pydantic's validation errors and from the reference checks, with the closest valid name
suggested for an unknown key."""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class SpecIssue:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path or '<document>'}{where}: {self.message}"


class SpecError(ValueError):
    """A spec that can't be loaded, built or dumped; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[SpecIssue] | str, path: str = "") -> None:
        if isinstance(issues, str):
            issues = [SpecIssue(path, issues)]
        # Every message goes through the redaction: key-shaped text never reaches a terminal or a log.
        self.issues = [SpecIssue(_redact(i.path), _redact(i.message), i.line) for i in issues]
        super().__init__("\n".join(map(str, self.issues)))


def closest(name: str, choices: Iterable[str]) -> str:
    """", did you mean 'x'?" when a choice is close to ``name``, else ""."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


# Paths under which a value is never shown: model configs and anything named like a credential.
_SECRET_PATH = ("key", "secret", "token", "passw", "auth", "llm_config", "config_list", "base_url", "header", "env")


def _redact(text: str) -> str:
    from ..models.secrets import redact

    return redact(text)


def secret_path(items: Iterable) -> bool:
    return any(isinstance(p, str) and any(w in p.lower() for w in _SECRET_PATH) for p in items)


def shown(value: Any) -> str:
    """A value for an error message: a scalar (key-shaped text masked, cut at 60 characters,
    control characters escaped), else only what kind of value it is (a mapping or a list may
    hold a key under any name, at any depth)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        text = json.dumps(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, str):
        text = json.dumps(_redact(value), ensure_ascii=True)
        return text if len(text) <= 60 else text[:56] + '..."'
    kinds: dict[type, str] = {dict: "a mapping", list: "a list"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def _strip_annotated(tp: Any) -> tuple[Any, list]:
    metadata: list = []
    while typing.get_origin(tp) is typing.Annotated:
        metadata.extend(tp.__metadata__)
        tp = tp.__origin__
    return tp, metadata


def _members(tp: Any) -> list:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [m for m in typing.get_args(tp) if m is not type(None)]
    return [tp]


def _tag_matches(member: Any, tag: str) -> bool:
    member, _ = _strip_annotated(member)
    if isinstance(member, type) and issubclass(member, BaseModel):
        return tag == member.__name__
    origin = typing.get_origin(member)
    if origin is typing.Literal:
        return tag.startswith("literal[")
    if origin is not None:
        return tag.startswith(getattr(origin, "__name__", str(origin)))
    return tag == getattr(member, "__name__", None)


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _walk(root: type[BaseModel], loc: tuple) -> tuple[list, Any, list, Any, list]:
    """Follow ``loc`` through the model types: the path items (without pydantic's union tags), the
    type where it ends, that type's metadata (bounds), the model that holds the last key, and
    the unions passed (their path, and whether the member taken is a model)."""
    path: list = []
    current: Any = root
    metadata: list = []
    parent: Any = root
    unions: list = []
    for item in loc:
        current, meta = _strip_annotated(current)
        metadata = meta or metadata
        members = _members(current)
        if len(members) > 1 and isinstance(item, str):
            chosen = next((m for m in members if _tag_matches(m, item)), None)
            if chosen is not None:
                chosen_type, _ = _strip_annotated(chosen)
                unions.append((format_path(path), isinstance(chosen_type, type) and issubclass(chosen_type, BaseModel)))
                current = chosen
                continue
        current = members[0] if len(members) == 1 else current
        current, meta = _strip_annotated(current)
        metadata = meta or metadata
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            parent = current
            info = _field(current, str(item))
            path.append(item)
            current, metadata = (info.annotation, list(info.metadata)) if info is not None else (Any, [])
        elif origin is dict:
            path.append(item)
            current = typing.get_args(current)[1]
            metadata = []
        elif origin is list:
            path.append(item)
            current = typing.get_args(current)[0]
            metadata = []
        else:
            path.append(item)
            current = Any
    for _ in range(2):  # the bounds of an optional field's type (NonNegativeInt | None)
        current, meta = _strip_annotated(current)
        metadata = meta or metadata
        members = _members(current)
        current = members[0] if len(members) == 1 else current
    return path, current, metadata, parent, unions


def format_path(items: Iterable) -> str:
    text = ""
    for item in items:
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text += ("." if text else "") + str(item)
    return text


def _bound(metadata: list) -> str:
    for item in metadata:
        ge = getattr(item, "ge", None)
        if ge is not None:
            return f" ≥ {ge}"
        inner = _bound(getattr(item, "metadata", None) or [])  # a Field(ge=...) inside Annotated
        if inner:
            return inner
    return ""


_TYPE_WORDS = {"int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
               "string_type": "a string", "bool_type": "true or false", "bool_parsing": "true or false",
               "float_type": "a number", "float_parsing": "a number", "dict_type": "a mapping",
               "model_type": "a mapping", "model_attributes_type": "a mapping", "list_type": "a list"}


def _joined(messages: list[str]) -> str:
    """The members of a union of plain types each failed: "must be A, or B, got X" in one line."""
    import re

    found = [re.fullmatch(r"must be (.*), got (.*)", m, re.DOTALL) for m in messages]
    parts = [p for p in found if p is not None]
    if len(messages) > 1 and len(parts) == len(messages) and len({p.group(2) for p in parts}) == 1:
        return f"must be {', or '.join(p.group(1) for p in parts)}, got {parts[0].group(2)}"
    return "; or ".join(messages)


def from_validation_error(error: Any, root: type[BaseModel]) -> SpecError:
    """A pydantic ValidationError as a SpecError naming each path."""
    issues: list[SpecIssue] = []
    walked = [(item, _walk(root, tuple(item["loc"]))) for item in error.errors(include_url=False)]
    # A union (a reference or a list; a mapping or false): when one member's errors are about the
    # value's insides, the others' "must be a list / must be false" only hide them.
    deep = {point for _, w in walked for point, _ in w[4] if format_path(w[0]) != point}
    by_path: dict[str, list[str]] = {}
    for item, (path_items, _, metadata, parent, unions) in walked:
        if format_path(path_items) in deep and any(point in deep for point, _ in unions):
            continue
        kind, ctx, value = item["type"], item.get("ctx") or {}, item.get("input")
        secret = secret_path(path_items)
        if kind == "extra_forbidden":
            key = str(path_items[-1])
            parent_path = format_path(path_items[:-1])
            suggestion = closest(key, _field_names(parent)) if isinstance(parent, type) else ""
            message = f"unknown key {key!r}{suggestion}"
            issues.append(SpecIssue(parent_path, message))
            continue
        if kind == "missing":
            message = "required"
        elif kind in _TYPE_WORDS:
            message = f"must be {_TYPE_WORDS[kind]}{_bound(metadata) if 'int' in kind else ''}"
        elif kind in ("greater_than_equal", "greater_than"):
            sign = "≥" if kind == "greater_than_equal" else ">"
            message = f"must be {'an integer' if isinstance(value, int) else 'a number'} {sign} {ctx.get('ge', ctx.get('gt'))}"
        elif kind in ("less_than_equal", "less_than"):
            sign = "≤" if kind == "less_than_equal" else "<"
            message = f"must be {'an integer' if isinstance(value, int) else 'a number'} {sign} {ctx.get('le', ctx.get('lt'))}"
        elif kind == "literal_error":
            message = f"must be one of {ctx.get('expected')}"
        elif kind == "too_short":
            message = f"must have at least {ctx.get('min_length')} item(s)"
        elif kind == "string_pattern_mismatch":
            message = f"must match the pattern {ctx.get('pattern')}"
        elif kind == "value_error":
            message = str(ctx.get("error", item["msg"]))
        else:
            message = item["msg"]  # pydantic's own words; the value follows only through shown()
        if kind not in ("missing", "value_error") and not secret:
            message += f", got {shown(value)}"
        by_path.setdefault(format_path(path_items), []).append(message)
    for path, messages in by_path.items():
        issues.append(SpecIssue(path, _joined(list(dict.fromkeys(messages)))))
    return SpecError(issues)


__all__ = ["SpecError", "SpecIssue", "closest", "format_path", "from_validation_error"]
