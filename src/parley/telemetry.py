"""OpenTelemetry spans from the event stream, following the GenAI semantic conventions.

    import parley.telemetry
    parley.telemetry.enable()                           # the global tracer provider
    parley.telemetry.enable(tracer_provider=provider)   # or your own (any exporter)
    ...
    parley.telemetry.disable()

(or ``runtime_logging.start(logger_type="otel", config={"tracer_provider": provider})``).

Spans, nested as the work was:

- ``invoke_workflow <sender> -> <recipient>``: a chat (``gen_ai.operation.name`` invoke_workflow,
  ``gen_ai.conversation.id``); a nested chat sits inside the turn that started it, a top-level
  chat inside whatever span is current in your code;
- ``invoke_agent <agent>``: one agent turn, from the message it answers (or its selection by a
  group-chat manager) to its reply; a group chat's speakers' turns sit inside the manager's;
- ``chat <model>``: one model call (``gen_ai.request.model``, ``gen_ai.usage.input_tokens`` /
  ``output_tokens``, ``parley.cost``); a failed call of a failover list ends with an error status;
- ``execute_tool <tool>``: one tool call; code blocks are ``execute_tool code_execution``.

Message contents, tool arguments and results are not recorded (the conventions make them opt-in:
they may hold personal data or secrets); events never carry API keys. Needs
``pip install parley[otel]`` (opentelemetry-api; an SDK and exporter to send spans anywhere).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from . import events

_lock = threading.Lock()
_active: TelemetrySink | None = None


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


class _ChatSpans:
    """One chat's open spans."""

    __slots__ = ("span", "turns", "models", "received", "manager_of")

    def __init__(self, span: Any) -> None:
        self.span = span
        self.turns: dict[str, Any] = {}  # agent -> its open turn span
        self.models: dict[str | None, Any] = {}  # agent -> its model call in flight
        self.received: dict[str, float] = {}  # agent -> when it got what it may answer
        self.manager_of: dict[str, str] = {}  # group-chat speaker -> the manager that selected it


class TelemetrySink:
    """A sink turning events into spans on ``tracer``."""

    def __init__(self, tracer: Any, stream: events.EventStream) -> None:
        from opentelemetry import trace

        self._tracer = tracer
        self.stream = stream
        self.event_types = frozenset(_HANDLERS)  # the stream builds no other events for it
        self._trace = trace
        self._chats: dict[int, _ChatSpans] = {}
        self._loose_models: dict[str | None, Any] = {}  # model calls outside any chat (a bare generate_reply)
        self._lock = threading.Lock()  # events may come from several threads

    def __call__(self, event: events.Event) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            with self._lock:
                handler(self, event, events.current_chat_id.get())

    # ------------------------------------------------------------------ helpers

    def _start(self, name: str, parent: Any, start: float, attributes: dict) -> Any:
        context = self._trace.set_span_in_context(parent) if parent is not None else None
        return self._tracer.start_span(name, context=context, start_time=_ns(start), attributes=attributes)

    def _error(self, span: Any, description: str) -> None:
        span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, description))

    def _chat_of(self, chat_id: int | None) -> _ChatSpans | None:
        return self._chats.get(chat_id) if chat_id is not None else None

    def _turn(self, chat: _ChatSpans | None, agent: str | None, start: float) -> Any:
        """The agent's open turn span in ``chat``, opened now if needed (None outside a chat)."""
        if chat is None:
            return None
        if agent is None:
            return chat.span
        span = chat.turns.get(agent)
        if span is None:
            manager = chat.manager_of.get(agent)
            parent = chat.turns.get(manager, chat.span) if manager is not None else chat.span
            span = chat.turns[agent] = self._start(
                f"invoke_agent {agent}", parent, chat.received.get(agent, start),
                {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent},
            )
        return span

    def _end_open(self, chat: _ChatSpans, end: float, failed: bool) -> None:
        for span in chat.models.values():
            self._error(span, "the model call did not complete")
            span.end(_ns(end))
        for span in reversed(list(chat.turns.values())):  # inner turns first
            if failed:
                self._error(span, "the chat ended with an error")
            span.end(_ns(end))
        chat.models.clear()
        chat.turns.clear()

    # ------------------------------------------------------------------ events

    def _chat_started(self, event: events.ChatStarted, current: int | None) -> None:
        outer = self._chat_of(current) if current is not None else None
        parent = self._turn(outer, event.sender, event.time) if outer is not None else None
        workflow = f"{event.sender} -> {event.recipient}"
        attributes: dict[str, str | int] = {
            "gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": workflow,
            "gen_ai.conversation.id": str(event.chat_id),
        }
        if event.max_turns is not None:
            attributes["parley.chat.max_turns"] = event.max_turns
        self._chats[event.chat_id] = _ChatSpans(self._start(f"invoke_workflow {workflow}", parent, event.time, attributes))

    def _chat_finished(self, event: events.ChatFinished, current: int | None) -> None:
        chat = self._chats.pop(event.chat_id, None)
        if chat is None:
            return
        failed = event.reason in ("error", "interrupted")
        self._end_open(chat, event.time, failed)
        chat.span.set_attribute("parley.chat.reason", event.reason)
        if failed:
            self._error(chat.span, f"the chat ended: {event.reason}")
        chat.span.end(_ns(event.time))

    def _message_sent(self, event: events.MessageSent, current: int | None) -> None:
        chat = self._chat_of(event.chat_id if event.chat_id is not None else current)
        if chat is not None:
            chat.received[event.recipient] = event.time

    def _speaker_selected(self, event: events.SpeakerSelected, current: int | None) -> None:
        chat = self._chat_of(current)
        if chat is None:
            return
        manager = self._turn(chat, event.manager, event.time)
        manager.add_event("speaker_selected", {"parley.speaker": event.speaker, "parley.method": event.method,
                                               "parley.round": event.round}, _ns(event.time))
        chat.manager_of[event.speaker] = event.manager
        chat.received[event.speaker] = event.time

    def _reply_chosen(self, event: events.ReplyChosen, current: int | None) -> None:
        chat = self._chat_of(current)
        if chat is None:
            return
        span = self._turn(chat, event.agent, event.time)
        chat.turns.pop(event.agent, None)
        model = chat.models.pop(event.agent, None)
        if model is not None:  # its last model call failed over to nothing
            self._error(model, "the model call did not complete")
            model.end(_ns(event.time))
        span.set_attribute("parley.reply_func", event.reply_func)
        span.end(_ns(event.time))

    def _model_call_started(self, event: events.ModelCallStarted, current: int | None) -> None:
        chat = self._chat_of(current)
        models = chat.models if chat is not None else self._loose_models
        failed = models.pop(event.agent, None)
        if failed is not None:  # the previous entry of a failover list raised
            self._error(failed, "the model call failed; the next config entry was tried")
            failed.end(_ns(event.time))
        parent = self._turn(chat, event.agent, event.time)
        models[event.agent] = self._start(f"chat {event.model}", parent, event.time, {
            "gen_ai.operation.name": "chat", "gen_ai.request.model": event.model, "parley.purpose": event.purpose,
            **({"gen_ai.agent.name": event.agent} if event.agent is not None else {}),
        })

    def _model_called(self, event: events.ModelCalled, current: int | None) -> None:
        chat = self._chat_of(current)
        models = chat.models if chat is not None else self._loose_models
        span = models.pop(event.agent, None)
        if span is None:  # a cache hit: no call was started
            span = self._start(f"chat {event.model}", self._turn(chat, event.agent, event.time), event.time - event.latency_s, {
                "gen_ai.operation.name": "chat", "gen_ai.request.model": event.model, "parley.purpose": event.purpose,
                **({"gen_ai.agent.name": event.agent} if event.agent is not None else {}),
            })
        span.set_attributes({
            "gen_ai.response.model": event.model, "gen_ai.usage.input_tokens": event.prompt_tokens,
            "gen_ai.usage.output_tokens": event.completion_tokens, "parley.cost": event.cost, "parley.cached": event.cached,
        })
        span.end(_ns(event.time))

    def _tool_called(self, event: events.ToolCalled, current: int | None) -> None:
        start = event.time - event.latency_s
        chat = self._chat_of(current)
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": event.tool,
                      "gen_ai.agent.name": event.agent}
        if event.tool_call_id is not None:
            attributes["gen_ai.tool.call.id"] = event.tool_call_id
        span = self._start(f"execute_tool {event.tool}", self._turn(chat, event.agent, start), start, attributes)
        if not event.ok:
            span.set_attribute("error.type", "tool_error")
            self._error(span, "the tool raised")
        span.end(_ns(event.time))

    def _code_executed(self, event: events.CodeExecuted, current: int | None) -> None:
        start = event.time - event.latency_s
        chat = self._chat_of(current)
        span = self._start("execute_tool code_execution", self._turn(chat, event.agent, start), start, {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "code_execution", "gen_ai.agent.name": event.agent,
            "parley.code.language": event.language, "parley.code.exit_code": event.exit_code,
            "parley.code.executor": event.executor,
        })
        if event.exit_code != 0:
            span.set_attribute("error.type", f"exit_code_{event.exit_code}")
            self._error(span, f"the code exited with {event.exit_code}")
        span.end(_ns(event.time))

    def _human_input(self, event: events.HumanInputRequested, current: int | None) -> None:
        chat = self._chat_of(current)
        if chat is not None:
            self._turn(chat, event.agent, event.time).add_event("human_input_requested", timestamp=_ns(event.time))


_HANDLERS: dict[type, Callable[[TelemetrySink, Any, int | None], None]] = {
    events.ChatStarted: TelemetrySink._chat_started,
    events.ChatFinished: TelemetrySink._chat_finished,
    events.MessageSent: TelemetrySink._message_sent,
    events.SpeakerSelected: TelemetrySink._speaker_selected,
    events.ReplyChosen: TelemetrySink._reply_chosen,
    events.ModelCallStarted: TelemetrySink._model_call_started,
    events.ModelCalled: TelemetrySink._model_called,
    events.ToolCalled: TelemetrySink._tool_called,
    events.CodeExecuted: TelemetrySink._code_executed,
    events.HumanInputRequested: TelemetrySink._human_input,
}


def enable(tracer_provider: Any = None, stream: events.EventStream | None = None) -> TelemetrySink:
    """Start making spans from ``stream`` (the default stream) with ``tracer_provider`` (the
    global one when None); returns the sink."""
    global _active
    try:
        from opentelemetry import trace
    except ImportError:
        raise ImportError(
            "parley.telemetry needs OpenTelemetry: pip install 'parley[otel]' (opentelemetry-api, opentelemetry-sdk)"
        ) from None
    from importlib.metadata import PackageNotFoundError, version

    try:
        parley_version = version("parley")
    except PackageNotFoundError:
        parley_version = None
    with _lock:
        if _active is not None:
            raise RuntimeError("telemetry is already enabled; call parley.telemetry.disable() first")
        tracer = trace.get_tracer("parley", parley_version, tracer_provider=tracer_provider)
        _active = TelemetrySink(tracer, stream or events.default_stream)
        _active.stream.add_sink(_active)
        return _active


def disable() -> None:
    """Stop making spans (spans already ended are exported by your provider as usual)."""
    global _active
    with _lock:
        active, _active = _active, None
    if active is not None:
        active.stream.remove_sink(active)


def enabled() -> bool:
    return _active is not None
