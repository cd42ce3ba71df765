"""One streamed reply over several attempts: a retry after a dropped stream, or failover to the
next config entry, streams the reply again from its start; what was already shown is not shown twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import events


def update_dict_from_chunk(chunk: Any, d: dict[str, Any], field: str) -> int:
    """Fold a streamed delta's ``field`` into ``d[field]``: text is appended, a number or bool
    replaces what was there; 1 when the chunk carried the field (classic counts a completion
    token per such chunk), else 0. Lists and dicts are merged by their own code (tool calls by
    index), so one here is a ``NotImplementedError``."""
    value = getattr(chunk, field, None)
    if value is None:
        return 0
    if isinstance(value, (list, dict)):
        raise NotImplementedError(f"Field {field} is a list or dict, which is currently not supported. "
                                  "Only string and numbers are supported.")
    if isinstance(value, str):
        d[field] = d.get(field, "") + value
    else:
        d[field] = value
    return 1


class StreamedReply:
    """``on_token`` for one model call (``OpenAIWrapper.create``), given to every attempt of it.

    After ``restart()`` (a new attempt begins), the attempt's tokens are held back while they
    repeat what was shown, and shown from where the earlier attempt stopped. An attempt whose reply
    differs from what was shown (sampling, another model) is shown from its start, after a notice:
    whoever follows the tokens then knows the text above was abandoned.
    """

    __slots__ = ("_show", "_shown", "_replay", "_at")

    def __init__(self, show: Callable[[str], None]) -> None:
        self._show = show
        self._shown: list[str] = []  # the tokens shown since the reply (last) started
        self._replay: str | None = None  # while an attempt repeats what was shown: that text
        self._at = 0  # how far into it the attempt has come

    def restart(self) -> None:
        """A new attempt begins: it will stream the reply from its start."""
        if self._shown:
            self._replay, self._at = "".join(self._shown), 0

    def __call__(self, token: str) -> None:
        if self._replay is not None:
            token = self._past_replay(token, self._replay)
            if not token:
                return
        self._shown.append(token)
        self._show(token)

    def _past_replay(self, token: str, replay: str) -> str:
        """What of ``token`` is new: nothing while it repeats ``replay`` (what was shown)."""
        at = self._at
        rest = len(replay) - at
        if replay.startswith(token[:rest], at):
            if len(token) <= rest:
                self._at = at + len(token)
                return ""
            self._replay = None  # caught up: what follows is new
            return token[rest:]
        # A different reply: start over from this attempt's beginning.
        self._replay, self._shown = None, []
        events.emit(events.Notice(text="the retried reply differs from the part streamed above; it follows in full",
                                  level="warning"))
        return replay[:at] + token
