"""What model calls cost, and that they happen: wrappers around a model client.

:class:`UsageRecorder` completes each response with its model and cost and counts it in a
:class:`UsageSummary` (classic's ``total_usage_summary`` / ``actual_usage_summary``), then
publishes ``ModelCalled`` (and ``ModelCallLogged``). It sits above a cache, so cached replies are
counted too (in the total only), as classic counts them. :class:`CallAnnouncer` emits
``ModelCallStarted`` just before the model itself is asked (below a cache: a hit starts no call).
"""

from __future__ import annotations

import time
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any

from .. import events
from ..events import ModelCalled, ModelCallLogged, ModelCallStarted
from ..events import current_stream as _current_stream
from ..events import wanted_anywhere as _wanted_anywhere
from . import pricing
from .protocol import ModelClient, ModelRequest, ModelResponse
from .secrets import redact_config

_now = time.time
_perf_counter = time.perf_counter
_current_chat = events.current_chat_id.get


def add_usage(summary: dict | None, response: ModelResponse) -> dict:
    """``summary`` (a new one when None) with ``response`` counted in it."""
    if summary is None:
        summary = {"total_cost": 0.0}
    summary["total_cost"] += response.cost
    per_model = summary.get(response.model)
    if per_model is None:
        per_model = summary[response.model] = {"cost": 0.0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    per_model["cost"] += response.cost
    per_model["prompt_tokens"] += response.prompt_tokens
    per_model["completion_tokens"] += response.completion_tokens
    per_model["total_tokens"] += response.prompt_tokens + response.completion_tokens
    return summary


def usage_of_calls(
    calls: Iterable[Mapping[str, Any]], total: dict | None = None, actual: dict | None = None,
) -> tuple[dict | None, dict | None]:
    """The total and actual (not cached) usage summaries with stored model calls (rows with
    model, prompt_tokens, completion_tokens, cost, cached) counted in."""
    for call in calls:
        response = ModelResponse(message={}, model=call["model"], prompt_tokens=call["prompt_tokens"],
                                 completion_tokens=call["completion_tokens"], cost=call["cost"])
        total = add_usage(total, response)
        if not call["cached"]:
            actual = add_usage(actual, response)
    return total, actual


class UsageSummary:
    """Classic's two usage summaries (None until a call is counted): ``total`` counts every reply,
    ``actual`` only those a model made (not served from a cache)."""

    __slots__ = ("total", "actual")

    def __init__(self) -> None:
        self.total: dict | None = None
        self.actual: dict | None = None

    def count(self, response: ModelResponse) -> None:
        self.total = add_usage(self.total, response)
        if not response.cached:
            self.actual = add_usage(self.actual, response)

    def count_stored(self, calls: Iterable[Mapping[str, Any]]) -> None:
        """Count model calls made elsewhere (the run store's rows), as if they were made here."""
        self.total, self.actual = usage_of_calls(calls, self.total, self.actual)

    def clear(self) -> None:
        self.total = self.actual = None


class UsageRecorder:
    """Completes, counts and publishes each response of ``client`` (one config entry's): the
    entry's ``model`` when the client names none, the entry's ``price`` (else the price table,
    for clients that do not price themselves), counted in ``summary``, published as ``ModelCalled``
    with the request's ``agent`` and ``purpose`` and the latency of the call."""

    __slots__ = ("client", "summary", "model", "price")

    def __init__(self, client: ModelClient, summary: UsageSummary, model: str, price: Any) -> None:
        self.client = client
        self.summary = summary
        self.model = model
        self.price = price

    async def create(self, request: ModelRequest) -> ModelResponse:
        started = _perf_counter()
        response = await self.client.create(request)
        latency = _perf_counter() - started
        if not response.model:
            response.model = self.model
        price = self.price
        if price is not None or (not response.cost and pricing.price_for(response.model)):
            # Below this, a cache keeps replies as the client gave them: a hit is priced here too.
            priced = pricing.cost(response.model, response.prompt_tokens, response.completion_tokens, price)
            response.cost = priced or response.cost
        summary = self.summary  # UsageSummary.count, inline: this runs on every model call
        summary.total = add_usage(summary.total, response)
        if not response.cached:
            summary.actual = add_usage(summary.actual, response)
        if ModelCalled in _wanted_anywhere or ModelCallLogged in _wanted_anywhere:
            publish_call(request, response, latency)
        return response


def publish_call(request: ModelRequest, response: ModelResponse, latency: float) -> None:
    """``ModelCalled`` (and ``ModelCallLogged``) to the run's stream (``events.use_stream``)."""
    stream = _current_stream()
    publish = stream.publishers[ModelCalled]
    if publish is not None:
        # The event's record (events.record_layout): type, time, then ModelCalled's fields in declaration
        # order; a tuple display, as a call would cost on every message (tests/core/test_event_records.py
        # checks each field lands where the class declares it).
        publish((ModelCalled, _now(), request.agent, response.model, response.prompt_tokens, response.completion_tokens,
                 response.cost, latency, response.cached, request.purpose, _current_chat()))
    if ModelCallLogged in stream.wanted:
        stream.emit(ModelCallLogged(
            agent=request.agent, model=response.model, messages=list(request.messages), params=redact_config(request.params),
            tools=request.tools, response=response.message, prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens, cost=response.cost, latency_s=latency, cached=response.cached,
        ))


class CallAnnouncer:
    """Emits ``ModelCallStarted`` (a terminal's spinner, a telemetry span) as ``client`` is asked."""

    __slots__ = ("client", "model")

    def __init__(self, client: ModelClient, model: str) -> None:
        self.client = client
        self.model = model

    def create(self, request: ModelRequest) -> Coroutine[Any, Any, ModelResponse]:
        # A plain function handing back the client's coroutine: no coroutine of its own per call.
        if ModelCallStarted in _wanted_anywhere and ModelCallStarted in _current_stream().wanted:
            events.emit(ModelCallStarted(agent=request.agent, model=self.model, purpose=request.purpose))
        return self.client.create(request)
