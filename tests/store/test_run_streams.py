"""Each run emits to the event stream it chose (``events.use_stream``): a store or telemetry
attached to that stream records exactly that run, even while the same agents serve another run
with another store at the same time."""

from __future__ import annotations

import asyncio

import pytest

from parley import ConversableAgent, ScriptedModelClient, events, telemetry
from parley.store import RunStore


def talker(name: str) -> ConversableAgent:
    async def reply(request):
        await asyncio.sleep(0)  # let the other chat run in between
        n = len(request.messages)
        return "TERMINATE" if n >= 6 else f"{name} {n}"
    return ConversableAgent(name, llm_config={"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply)}]},
                            human_input_mode="NEVER")


async def test_concurrent_runs_sharing_agents_are_recorded_each_in_its_own_store(tmp_path):
    alice, bob = talker("alice"), talker("bob")
    streams = {tag: events.EventStream() for tag in "ab"}
    stores = {tag: RunStore(f"sqlite:///{tmp_path}/{tag}.db").attach(stream=streams[tag]) for tag in "ab"}
    default_store = RunStore(f"sqlite:///{tmp_path}/default.db").attach()

    async def run(tag: str):
        with events.use_stream(streams[tag]):
            return await alice.a_initiate_chat(bob, message=f"hello from {tag}", clear_history=False)

    try:
        await asyncio.gather(run("a"), run("b"))
        for tag, store in stores.items():
            store.flush()
            [info] = store.list_runs()
            stored = store.messages(info.id)
            assert stored[0].message["content"] == f"hello from {tag}"
            other = "b" if tag == "a" else "a"
            assert all(f"from {other}" not in str(m.message) for m in stored)
            # Every model call of the run, and only those (one per reply after the opening message).
            assert len(store.records(info.id, "model_calls")) == len(stored) - 1
        default_store.flush()
        assert default_store.list_runs() == []  # the default stream saw neither run
    finally:
        for store in (*stores.values(), default_store):
            store.close()


def test_use_stream_names_a_stream():
    with pytest.raises(TypeError, match="stream must be an EventStream"):
        with events.use_stream("default"):  # type: ignore[arg-type]
            pass


def test_telemetry_enabled_on_a_runs_stream_sees_that_run_only():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stream = events.EventStream()
    telemetry.enable(tracer_provider=provider, stream=stream)
    try:
        alice, bob = talker("alice"), talker("bob")
        alice.initiate_chat(bob, message="unobserved", max_turns=1, silent=True)
        assert exporter.get_finished_spans() == ()
        with events.use_stream(stream):
            alice.initiate_chat(bob, message="observed", max_turns=1, silent=True)
    finally:
        telemetry.disable()
    names = [s.name for s in exporter.get_finished_spans()]
    assert names.count("invoke_workflow alice -> bob") == 1
    assert "chat scripted" in names


def test_a_run_recorded_from_its_own_stream_is_resumed_into_it(tmp_path):
    def reply(fail_at):
        def answer(request):
            n = len(request.messages)
            if n == fail_at:
                raise RuntimeError("model down")
            return "TERMINATE" if n >= 6 else f"reply {n}"
        return answer

    def agents(fail_at=None):
        return [ConversableAgent(name, human_input_mode="NEVER", llm_config={"config_list": [
            {"model": "scripted", "client": ScriptedModelClient(reply(fail_at if name == "bob" else None))}]})
            for name in ("alice", "bob")]

    stream = events.EventStream()
    store = RunStore(f"sqlite:///{tmp_path}/runs.db").attach(stream=stream)
    try:
        alice, bob = agents(fail_at=4)
        with events.use_stream(stream), pytest.raises(RuntimeError, match="model down"):
            alice.initiate_chat(bob, message="go", silent=True)
        store.flush()
        [run] = store.list_runs()
        assert run.status == "failed"
        with events.capture(kinds=(events.MessageSent,)) as on_default:
            store.resume(run.id, agents(), silent=True)  # called outside use_stream: the store's stream is used
        assert on_default.events == []
        assert store.get_run(run.id).status == "finished"
        assert store.messages(run.id)[-1].message["content"] == "TERMINATE"
    finally:
        store.close()
