"""The console transcript: one sink on the event stream.

It prints what classic AutoGen prints (``sender (to recipient):``, the content, suggested tool
calls, tool responses, a rule) through the current IOStream, with colours when the output is a
terminal. Events marked ``silent`` are skipped. An image shows as its label (``[image: cat.png
640x480]``), never as its base64.

A classic script prints every message, often to a file or a pipe, so printing is on the hot path:
each message's text is built once and written in one call, headers are cached per agent pair, and
whether stdout is a terminal is asked once per stdout object, not once per message.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .. import events
from ..images import display_text
from ..messages import content_str
from . import IOConsole, IOStream, get_default

if TYPE_CHECKING:
    from rich.status import Status

_RULE = "-" * 80
# Control characters but newline and tab: ESC (colours, clear screen, titles, OSC 52 clipboard
# writes, terminal queries that type into the host's input), C1 controls, DEL, carriage return
# (overwrites a printed line). Model-written text and code output print them as visible escapes.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The same set within ASCII (C1 controls are not ASCII), for bytes.translate's fast scan.
_ASCII_CONTROL = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible(text: object) -> str:
    """``text`` with every control character but newline and tab shown as an escape (``\\x1b``)."""
    if type(text) is not str:
        text = str(text)
    # Most text has no control character: say so without the regex's slower scan, at C speed.
    # Short text (names, "TERMINATE") is checked without a copy; longer ASCII text has none if
    # deleting them with bytes.translate deletes nothing (isprintable stops at the first newline).
    if len(text) < 128 and text.isprintable():
        return text
    if text.isascii():
        data = text.encode("ascii")
        if len(data.translate(None, _ASCII_CONTROL)) == len(data):
            return text
    elif text.isprintable():
        return text
    return _CONTROL.sub(_escape, text)


def _colour(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m"


# Per agent pair / per speaker: the same few names print thousands of times in a run.
@functools.lru_cache(maxsize=1024)
def _header(sender: str, recipient: str, colours: bool) -> str:
    header = f"{visible(sender)} (to {visible(recipient)}):\n"
    return _colour(header, "33") if colours else header


@functools.lru_cache(maxsize=1024)
def _next_speaker(speaker: str, colours: bool) -> str:
    text = f"\nNext speaker: {visible(speaker)}\n"
    return _colour(text, "32") if colours else text


class ConsoleSink:
    """Prints the live transcript."""

    shows_silent = False  # silent messages are not printed: the engine need not build them for the console

    def __init__(self) -> None:
        self.enabled = True
        self._status: Status | None = None  # a rich spinner while a model generates, on an interactive terminal
        self._tty = sys.stdout.isatty()
        self._streamed = False  # tokens were printed and their line is not ended yet
        # The stdout object last asked whether it is a terminal, and its answer (asking is a system
        # call; a redirected or captured stdout is a new object, and is asked again).
        self._stdout: Any = None
        self._stdout_tty = False
        # What the stream should send here; model-call starts only matter for a terminal's spinner.
        spinner_only = (events.ModelCallStarted, events.ModelCalled)
        self.event_types = frozenset(k for k in self._handlers if self._tty or k not in spinner_only)

    def _start_progress(self, event: events.ModelCallStarted) -> None:
        if not self._tty or self._status is not None or not isinstance(get_default(), IOConsole):
            return
        from rich.console import Console  # only for interactive terminals: keeps import light

        what = "choosing the next speaker" if event.purpose == "speaker_selection" else "thinking"
        status = self._status = Console().status(f"{event.agent or 'model'} is {what} ({event.model})…", spinner="dots")
        status.start()

    def _stop_progress(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _colours(self, stream: IOStream) -> bool:
        """Colours only for the console when stdout is a terminal."""
        if not isinstance(stream, IOConsole):
            return False
        out = sys.stdout
        if out is not self._stdout:
            self._stdout = out
            self._stdout_tty = out is not None and out.isatty()
        return self._stdout_tty

    @staticmethod
    def _write(stream: IOStream, text: str) -> None:
        """Print ``text`` and a newline, flushed as classic flushes every line."""
        if type(stream) is IOConsole:
            # What IOConsole.print does (builtins.print), in one write instead of two.
            out = sys.stdout
            if out is not None:  # print() prints nothing without a stdout (pythonw)
                out.write(text + "\n")
                out.flush()
        else:
            stream.print(text, flush=True)

    def __call__(self, event: events.Event) -> None:
        if self._status is not None and type(event) is not events.ModelCallStarted:
            self._stop_progress()  # whatever happens next, the model call is over
        # One dict lookup for the events the console ignores (most of them, on the hot path).
        handler = self._handlers.get(type(event))
        if handler is not None and self.enabled:
            if self._streamed and type(event) is not events.TokenStreamed:
                # A streamed reply ends its line before anything else is printed (classic does too).
                self._streamed = False
                self._write(get_default(), "")
            handler(self, event)

    def _notice(self, event: events.Notice) -> None:
        stream = get_default()
        text = f">>>>>>>> {visible(event.text)}"
        self._write(stream, _colour(text, "31") if self._colours(stream) else text)

    def _code_started(self, event: events.CodeExecutionStarted) -> None:
        stream = get_default()
        if event.blocks == 1 and len(event.languages) == 1:  # classic's lines
            text = f"\n>>>>>>>> EXECUTING CODE BLOCK (inferred language is {visible(event.languages[0])})..."
        else:
            text = (f"\n>>>>>>>> EXECUTING {event.blocks} CODE BLOCKS "
                    f"(inferred languages are [{visible(', '.join(event.languages))}])...")
        self._write(stream, _colour(text, "31") if self._colours(stream) else text)

    def _tool_called(self, event: events.ToolCalled) -> None:
        # Classic prints this for a function it found (not for an unknown name), in magenta.
        if not event.ok and event.result == f"Error: Function {event.tool} not found.":
            return
        stream = get_default()
        text = f"\n>>>>>>>> EXECUTING FUNCTION {visible(event.tool)}..."
        self._write(stream, _colour(text, "35") if self._colours(stream) else text)

    def _retrieval(self, event: events.Event) -> None:
        """One line for documents retrieved, memos recalled, a memo stored: where an answer came from."""
        from ..retrieval.reporting import summary  # loaded when a retrieval happens: keeps import parley light

        stream = get_default()
        text = f">>>>>>>> {visible(summary(event))}"
        self._write(stream, _colour(text, "36") if self._colours(stream) else text)

    def _speaker(self, event: events.SpeakerSelected) -> None:
        if event.silent:
            return
        stream = get_default()
        self._write(stream, _next_speaker(event.speaker, self._colours(stream)))

    def _token(self, event: events.TokenStreamed) -> None:
        self._streamed = True
        get_default().print(visible(event.token), end="", flush=True)

    def _model_called(self, event: events.ModelCalled) -> None:
        """The spinner (if any) was stopped on arrival; nothing to print."""

    def _message(self, event: events.MessageSent) -> None:
        if event.silent:
            return
        stream = get_default()
        colours = self._colours(stream)
        message = event.message
        header = _header(event.sender, event.recipient, colours)
        if message.get("tool_calls") is None and message.get("role") not in ("tool", "function") and not (
            message.get("tool_responses") or message.get("function_call")
        ):
            # A plain text message (nearly all of them): header, content, rule.
            content = message.get("content")
            if content is None:
                self._write(stream, f"{header}\n\n{_RULE}")
            else:
                text = content if type(content) is str else display_text(content)
                self._write(stream, f"{header}\n{visible(text)}\n\n{_RULE}")
            return
        lines = [header]
        if message.get("tool_responses"):
            for response in message["tool_responses"]:
                title = f"***** Response from calling tool ({visible(response.get('tool_call_id', ''))}) *****"
                lines.append(_colour(title, "32") if colours else title)
                lines.append(visible(content_str(response.get("content"))))
                lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
        elif message.get("role") in ("tool", "function"):
            called = visible(message.get("tool_call_id") or message.get("name", ""))
            title = f"***** Response from calling {message.get('role')} ({called}) *****"
            lines.append(_colour(title, "32") if colours else title)
            lines.append(visible(content_str(message.get("content"))))
            lines.append(_colour("*" * len(title), "32") if colours else "*" * len(title))
        else:
            content = message.get("content")
            if content is not None:
                lines.append(visible(display_text(content)))
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
        self._write(stream, "\n".join(lines))

    # event type -> the method that shows it
    _handlers: ClassVar[dict[type, Callable[[ConsoleSink, Any], None]]] = {
        events.ModelCallStarted: _start_progress,
        events.ModelCalled: _model_called,
        events.MessageSent: _message,
        events.Notice: _notice,
        events.CodeExecutionStarted: _code_started,
        events.ToolCalled: _tool_called,
        events.SpeakerSelected: _speaker,
        events.TokenStreamed: _token,
        events.DocumentsRetrieved: _retrieval,
        events.MemosRecalled: _retrieval,
        events.MemoStored: _retrieval,
    }


console_sink = ConsoleSink()
