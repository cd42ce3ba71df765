"""Telemetry fixtures: an SDK tracer provider with an in-memory exporter, and the fake OpenAI server."""

from __future__ import annotations

import pytest

from parley import telemetry
from parley.io.console import console_sink


@pytest.fixture
def spans():
    """Telemetry on, into an in-memory exporter; yields a function returning the finished spans."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    console_sink.enabled, quiet_before = False, console_sink.enabled
    telemetry.enable(tracer_provider=provider)
    try:
        yield exporter.get_finished_spans
    finally:
        telemetry.disable()
        console_sink.enabled = quiet_before
