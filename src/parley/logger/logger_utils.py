"""Classic ``autogen.logger.logger_utils``: timestamps and JSON-safe views of objects for logs."""

from __future__ import annotations

import datetime
import inspect
from typing import Any


def get_current_ts() -> str:
    """Now, UTC, as ``YYYY-MM-DD HH:MM:SS.ffffff`` (classic's log timestamp format)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def to_dict(obj: Any, exclude: tuple[str, ...] = (), no_recursive: Any = ()) -> Any:
    """A JSON-safe view of ``obj``: scalars as is, containers and objects' attributes recursively,
    keys in ``exclude`` and None-valued dict entries left out, functions as their source line,
    instances of the ``no_recursive`` types as their ``repr``."""
    if isinstance(obj, (int, float, str, bool)) or obj is None:
        return obj
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        try:
            return inspect.getsource(obj).strip()
        except (OSError, TypeError):
            return repr(obj)
    if no_recursive and isinstance(obj, no_recursive):
        return f"{type(obj).__module__}.{type(obj).__qualname__}: {obj!r}"
    if isinstance(obj, dict):
        return {k: to_dict(v, exclude, no_recursive) for k, v in obj.items() if k not in exclude and v is not None}
    if isinstance(obj, (list, tuple, set)):
        return [to_dict(v, exclude, no_recursive) for v in obj]
    if hasattr(obj, "__dict__"):
        return {k: to_dict(v, exclude, no_recursive) for k, v in vars(obj).items() if k not in exclude and not k.startswith("__")}
    return repr(obj)


__all__ = ["get_current_ts", "to_dict"]
