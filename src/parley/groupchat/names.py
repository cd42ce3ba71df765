"""Finding agent names in a model's answer.

Models asked to "only return the role" answer ``Planner``, ``**Planner**``, ``"Planner".``,
``The next speaker is Planner`` or ``research writer``. A name counts as mentioned at word
boundaries, also written with spaces for underscores, with escaped underscores (markdown), and
with spaces between CamelCase words; case-insensitively only when no exact-case mention exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WRAPPING = " \t\r\n\"'`*_.,:;!?()[]{}<>"


def _variants(name: str) -> list[str]:
    variants = [name, name.replace("_", " "), name.replace("_", r"\_"), _CAMEL_BOUNDARY.sub(" ", name)]
    return list(dict.fromkeys(v for v in variants if v))


def _compile_pattern(name: str, ignore_case: bool) -> re.Pattern:
    alternatives = "|".join(re.escape(v) for v in sorted(_variants(name), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE if ignore_case else 0)


# Cached apart from the function itself (mutation testing does not mutate decorated functions).
_pattern = lru_cache(maxsize=1024)(_compile_pattern)


def mentioned_names(text: str, names: Sequence[str], *, any_case: bool = True) -> dict[str, int]:
    """``{name: times mentioned}`` for the names found in ``text``; with ``any_case`` (parley's
    selection), case-insensitively when no exact-case mention exists."""
    for ignore_case in ((False, True) if any_case else (False,)):
        counts = {}
        for name in names:
            count = len(_pattern(name, ignore_case).findall(text))
            if count:
                counts[name] = count
        if counts:
            return counts
    return {}


def parse_speaker_answer(answer: str, names: Sequence[str]) -> tuple[str | None, dict[str, int]]:
    """The one name ``answer`` picks, or None, with the mention counts found.

    A JSON answer ``{"speaker": name}`` (structured output) or an answer that is exactly one name
    (give or take quotes, markdown and punctuation) is taken at its word; otherwise the answer must
    mention exactly one name.
    """
    stripped = answer.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("speaker"), str):
            stripped = value["speaker"].strip()
    bare = stripped.strip(_WRAPPING)
    if bare in names:
        return bare, {bare: 1}
    lowered = {name.lower(): name for name in names}
    if bare.lower() in lowered and len(lowered) == len(names):
        name = lowered[bare.lower()]
        return name, {name: 1}
    counts = mentioned_names(stripped, names)
    if len(counts) == 1:
        return next(iter(counts)), counts
    return None, counts
