"""The console transcript: one sink on the event stream.

It prints what classic AutoGen prints (``sender (to recipient):``, the content, suggested tool
calls, tool responses, a rule) through the current IOStream, with colours when the output is a
terminal. Events marked ``silent`` are skipped.
"""

from __future__ import annotations

import re
import sys

from .. import events
from ..messages import content_str
from . import IOConsole, get_default

_RULE = "-" * 80
# Control characters but newline and tab: ESC (colours, clear screen, titles, OSC 52 clipboard
# writes, terminal queries that type into the host's input), C1 controls, DEL, carriage return
# (overwrites a printed line). Model-written text and code output print them as visible escapes.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: object) -> str:
    """``text`` with every control character but newline and tab shown as an escape (``\\x1b``)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _colour(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m"


class ConsoleSink:
    """Prints the live transcript."""

    shows_silent = False  # silent messages are not printed: the engine need not build them for the console

    def __init__(self) -> None:
        self.enabled = True
        self._status = None  # a rich spinner while a model generates, on an interactive terminal
        self._tty = sys.stdout.isatty()
        self._streamed = False  # tokens were printed and their line is not ended yet
        # What the stream should send here; model-call starts only matter for a terminal's spinner.
        spinner_only = (events.ModelCallStarted, events.ModelCalled)
        self.event_types = frozenset(k for k in self._handlers if self._tty or k not in spinner_only)

    def _start_progress(self, event: events.ModelCallStarted) -> None:
        if not self._tty or self._status is not None or not isinstance(get_default(), IOConsole):
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
        if self._status is not None and type(event) is not events.ModelCallStarted:
            self._stop_progress()  # whatever happens next, the model call is over
        # One dict lookup for the events the console ignores (most of them, on the hot path).
        handler = self._handlers.get(type(event))
        if handler is not None and self.enabled:
            if self._streamed and type(event) is not events.TokenStreamed:
                # A streamed reply ends its line before anything else is printed (classic does too).
                self._streamed = False
                get_default().print("", flush=True)
            handler(self, event)

    def _message(self, event: events.MessageSent) -> None:
        if not event.silent:
            self._print_message(event)

    def _notice(self, event: events.Notice) -> None:
        stream = get_default()
        text = f">>>>>>>> {visible(event.text)}"
        stream.print(_colour(text, "31") if self._colours(stream) else text, flush=True)

    def _code_started(self, event: events.CodeExecutionStarted) -> None:
        stream = get_default()
        if event.blocks == 1 and len(event.languages) == 1:  # classic's lines
            text = f"\n>>>>>>>> EXECUTING CODE BLOCK (inferred language is {visible(event.languages[0])})..."
        else:
            text = (f"\n>>>>>>>> EXECUTING {event.blocks} CODE BLOCKS "
                    f"(inferred languages are [{visible(', '.join(event.languages))}])...")
        stream.print(_colour(text, "31") if self._colours(stream) else text, flush=True)

    def _tool_called(self, event: events.ToolCalled) -> None:
        # Classic prints this for a function it found (not for an unknown name), in magenta.
        if not event.ok and event.result == f"Error: Function {event.tool} not found.":
            return
        stream = get_default()
        text = f"\n>>>>>>>> EXECUTING FUNCTION {visible(event.tool)}..."
        stream.print(_colour(text, "35") if self._colours(stream) else text, flush=True)

    def _speaker(self, event: events.SpeakerSelected) -> None:
        if event.silent:
            return
        stream = get_default()
        text = f"\nNext speaker: {visible(event.speaker)}\n"
        stream.print(_colour(text, "32") if self._colours(stream) else text, flush=True)

    def _token(self, event: events.TokenStreamed) -> None:
        self._streamed = True
        get_default().print(visible(event.token), end="", flush=True)

    def _model_called(self, event: events.ModelCalled) -> None:
        """The spinner (if any) was stopped on arrival; nothing to print."""

    _handlers = {
        events.ModelCallStarted: _start_progress,
        events.ModelCalled: _model_called,
        events.MessageSent: _message,
        events.Notice: _notice,
        events.CodeExecutionStarted: _code_started,
        events.ToolCalled: _tool_called,
        events.SpeakerSelected: _speaker,
        events.TokenStreamed: _token,
    }

    def _print_message(self, event: events.MessageSent) -> None:
        stream = get_default()
        colours = self._colours(stream)
        message = event.message
        header = f"{visible(event.sender)} (to {visible(event.recipient)}):\n"
        lines = [_colour(header, "33") if colours else header]
        if message.get("tool_responses"):
            for response in message["tool_responses"]:
                title = f"***** Response from calling tool ({visible(response.get('tool_call_id', ''))}) *****"
                lines.append(_colour(title, "32") if colours else title)
                lines.append(visible(content_str(response.get("content"))))
                lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
        elif message.get("role") in ("tool", "function"):
            title = f"***** Response from calling {message.get('role')} ({visible(message.get('tool_call_id') or message.get('name', ''))}) *****"
            lines.append(_colour(title, "32") if colours else title)
            lines.append(visible(content_str(message.get("content"))))
            lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
        else:
            content = message.get("content")
            if content is not None:
                lines.append(visible(content_str(content)))
            # Classic's order (function call, then tool calls) and text: the arguments as the model wrote them.
            if message.get("function_call"):
                function = message["function_call"]
                title = f"***** Suggested function call: {visible(function.get('name', '(No function name found)'))} *****"
                lines.append(_colour(title, "32") if colours else title)
                lines.append(f"Arguments: \n{visible(function.get('arguments', '(No arguments found)'))}")
                lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                title = (f"***** Suggested tool call ({visible(call.get('id', 'No tool call id found'))}): "
                         f"{visible(function.get('name', '(No function name found)'))} *****")
                lines.append(_colour(title, "32") if colours else title)
                lines.append(f"Arguments: \n{visible(function.get('arguments', '(No arguments found)'))}")
                lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
        lines.append("\n" + _RULE)
        stream.print("\n".join(lines), flush=True)


console_sink = ConsoleSink()
