"""The console transcript: one sink on the event stream.

It prints what classic AutoGen prints (``sender (to recipient):``, the content, suggested tool
calls, tool responses, a rule) through the current IOStream, with colours when the output is a
terminal. Events marked ``silent`` are skipped.
"""

from __future__ import annotations

import json
import sys

from .. import events
from ..messages import content_str
from . import IOConsole, get_default

_RULE = "-" * 80


def _colour(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m"


class ConsoleSink:
    """Prints the live transcript."""

    def __init__(self) -> None:
        self.enabled = True
        self._status = None  # a rich spinner while a model generates, on an interactive terminal

    def _start_progress(self, event: events.ModelCallStarted) -> None:
        stream = get_default()
        if not self._colours(stream) or self._status is not None:
            return
        from rich.console import Console  # only for interactive terminals: keeps import light

        what = "choosing the next speaker" if event.purpose == "speaker_selection" else "thinking"
        self._status = Console().status(f"{event.agent or 'model'} is {what} ({event.model})…", spinner="dots")
        self._status.start()

    def _stop_progress(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _colours(self, stream: object) -> bool:
        return isinstance(stream, IOConsole) and sys.stdout.isatty()

    def __call__(self, event: events.Event) -> None:
        if not self.enabled:
            return
        kind = type(event)
        if kind is events.ModelCallStarted:
            self._start_progress(event)
            return
        if self._status is not None:
            self._stop_progress()
        if kind is events.MessageSent:
            if event.silent:
                return
            self._print_message(event)
        elif kind is events.Notice:
            stream = get_default()
            text = f">>>>>>>> {event.text}"
            stream.print(_colour(text, "31") if self._colours(stream) else text, flush=True)
        elif kind is events.CodeExecutionStarted:
            stream = get_default()
            text = f"\n>>>>>>>> EXECUTING {event.blocks} CODE BLOCK(S) (inferred language: {', '.join(event.languages)})..."
            stream.print(_colour(text, "31") if self._colours(stream) else text, flush=True)
        elif kind is events.SpeakerSelected:
            if event.silent:
                return
            stream = get_default()
            text = f"\nNext speaker: {event.speaker}\n"
            stream.print(_colour(text, "32") if self._colours(stream) else text, flush=True)
        elif kind is events.TokenStreamed:
            stream = get_default()
            stream.print(event.token, end="", flush=True)

    def _print_message(self, event: events.MessageSent) -> None:
        stream = get_default()
        colours = self._colours(stream)
        message = event.message
        header = f"{event.sender} (to {event.recipient}):\n"
        lines = [_colour(header, "33") if colours else header]
        if message.get("tool_responses"):
            for response in message["tool_responses"]:
                title = f"***** Response from calling tool ({response.get('tool_call_id', '')}) *****"
                lines.append(_colour(title, "32") if colours else title)
                lines.append(content_str(response.get("content")))
                lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
        elif message.get("role") in ("tool", "function"):
            title = f"***** Response from calling {message.get('role')} ({message.get('tool_call_id') or message.get('name', '')}) *****"
            lines.append(_colour(title, "32") if colours else title)
            lines.append(content_str(message.get("content")))
            lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
        else:
            content = message.get("content")
            if content is not None:
                lines.append(content_str(content))
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                title = f"***** Suggested tool call ({call.get('id', '')}): {function.get('name', '')} *****"
                lines.append(_colour(title, "32") if colours else title)
                arguments = function.get("arguments", "")
                try:
                    arguments = json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
                except (TypeError, ValueError):
                    pass
                lines.append(f"Arguments: \n{arguments}")
                lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
            if message.get("function_call"):
                function = message["function_call"]
                title = f"***** Suggested function call: {function.get('name', '')} *****"
                lines.append(_colour(title, "32") if colours else title)
                lines.append(f"Arguments: \n{function.get('arguments', '')}")
        lines.append("\n" + _RULE)
        stream.print("\n".join(lines), flush=True)


console_sink = ConsoleSink()
