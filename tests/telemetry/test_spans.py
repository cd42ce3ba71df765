"""OpenTelemetry spans from real chats (the fake OpenAI server on 127.0.0.1, real tools, real
group chats), checked in the SDK's in-memory exporter: names, nesting, GenAI attributes, and
that no API key shows anywhere."""

from __future__ import annotations

import subprocess
import sys

import pytest

from parley import (
    AssistantAgent, ConversableAgent, GroupChat, GroupChatManager, ScriptedModelClient, UserProxyAgent,
    register_function, runtime_logging, telemetry,
)

SECRET_KEY = "sk-test-SECRET-0123456789abcdef"


def by_name(spans, name):
    found = [s for s in spans if s.name == name]
    assert found, f"no span {name!r} among {[s.name for s in spans]}"
    return found


def parent_of(span, spans):
    if span.parent is None:
        return None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


def add(a: int, b: int) -> int:
    return a + b


def test_a_tool_using_chat_gives_workflow_agent_model_and_tool_spans(spans, openai_server):
    openai_server.add(
        {"tool_calls": [{"name": "add", "arguments": '{"a": 2, "b": 3}'}], "usage": [11, 7]},
        {"content": "5. TERMINATE", "usage": [20, 3]},
    )
    llm_config = {"config_list": [{"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}]}
    assistant = AssistantAgent("assistant", llm_config=llm_config)
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False,
                          is_termination_msg=lambda m: "TERMINATE" in (m.get("content") or ""))
    register_function(add, caller=assistant, executor=user, description="Add two numbers.")
    user.initiate_chat(assistant, message="What is 2 + 3?")
    finished = spans()

    [chat] = by_name(finished, "invoke_workflow user -> assistant")
    assert chat.parent is None
    assert chat.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert chat.attributes["parley.chat.reason"] == "completed"
    assistant_turns = by_name(finished, "invoke_agent assistant")
    user_turns = by_name(finished, "invoke_agent user")
    assert len(assistant_turns) == 2 and len(user_turns) == 2  # the user's second turn: the termination check
    assert user_turns[1].attributes["parley.reply_func"] == "_check_termination_and_human"
    assert all(parent_of(t, finished) is chat for t in assistant_turns + user_turns)
    assert [t.attributes["gen_ai.agent.name"] for t in assistant_turns] == ["assistant", "assistant"]

    calls = by_name(finished, "chat gpt-4o")
    assert [parent_of(c, finished) for c in calls] == assistant_turns
    assert [(c.attributes["gen_ai.usage.input_tokens"], c.attributes["gen_ai.usage.output_tokens"]) for c in calls] == [(11, 7), (20, 3)]
    assert all(c.attributes["gen_ai.operation.name"] == "chat" and c.attributes["gen_ai.request.model"] == "gpt-4o" for c in calls)

    [tool] = by_name(finished, "execute_tool add")
    assert parent_of(tool, finished) is user_turns[0]
    assert tool.attributes["gen_ai.tool.name"] == "add" and tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.call.id"]
    assert tool.status.is_ok

    # Children inside their parents in time; one trace.
    for span in finished:
        parent = parent_of(span, finished)
        if parent is not None:
            assert parent.start_time <= span.start_time <= span.end_time <= parent.end_time, span.name
    assert {s.context.trace_id for s in finished} == {chat.context.trace_id}

    everything = repr([(s.name, dict(s.attributes), [(e.name, dict(e.attributes)) for e in s.events]) for s in finished])
    assert SECRET_KEY not in everything and "SECRET" not in everything


def test_a_failed_model_call_of_a_failover_list_is_an_error_span(spans, openai_server):
    openai_server.add({"status": 400}, {"content": "from the second"})
    llm_config = {"config_list": [
        {"model": "first-model", "base_url": openai_server.base_url, "api_key": SECRET_KEY},
        {"model": "second-model", "base_url": openai_server.base_url, "api_key": SECRET_KEY},
    ]}
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    assistant = ConversableAgent("assistant", llm_config=llm_config, human_input_mode="NEVER")
    user.initiate_chat(assistant, message="hi", max_turns=1)
    finished = spans()
    [failed] = by_name(finished, "chat first-model")
    [ok] = by_name(finished, "chat second-model")
    assert not failed.status.is_ok and ok.status.is_ok
    assert parent_of(failed, finished) is parent_of(ok, finished)
    assert SECRET_KEY not in repr([dict(s.attributes) for s in finished]) + repr([s.status.description for s in finished])


def scripted(tag):
    return {"config_list": [{"model": f"model-{tag}", "api_key": SECRET_KEY,
                             "client": ScriptedModelClient(lambda request: f"{tag} {len(request.messages)}")}]}


def test_group_chat_speaker_turns_sit_inside_the_managers_turn(spans):
    members = [ConversableAgent(n, llm_config=scripted(n), human_input_mode="NEVER") for n in ("alice", "bob")]
    manager = GroupChatManager(GroupChat(members, max_round=5, speaker_selection_method="round_robin"), llm_config=False)
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    user.initiate_chat(manager, message="go")
    finished = spans()
    [chat] = by_name(finished, "invoke_workflow user -> chat_manager")
    [manager_turn] = by_name(finished, "invoke_agent chat_manager")
    assert parent_of(manager_turn, finished) is chat
    speakers = [s for s in finished if s.name in ("invoke_agent alice", "invoke_agent bob")]
    assert len(speakers) == 4  # rounds 1-4 (round 0 is the opening message)
    assert all(parent_of(s, finished) is manager_turn for s in speakers)
    speakers.sort(key=lambda s: s.start_time)
    assert [s.attributes["gen_ai.agent.name"] for s in speakers] == ["alice", "bob", "alice", "bob"]
    assert [e.attributes["parley.speaker"] for e in manager_turn.events if e.name == "speaker_selected"] == ["alice", "bob", "alice", "bob"]
    for speaker in speakers:
        [call] = [s for s in finished if parent_of(s, finished) is speaker]
        assert call.name == f"chat model-{speaker.attributes['gen_ai.agent.name']}"
    assert SECRET_KEY not in repr([dict(s.attributes) for s in finished])


def test_a_nested_chat_sits_inside_the_turn_that_started_it(spans):
    writer = ConversableAgent("writer", llm_config=scripted("w"), human_input_mode="NEVER")
    critic = ConversableAgent("critic", llm_config=scripted("c"), human_input_mode="NEVER")
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    writer.register_nested_chats([{"recipient": critic, "max_turns": 1, "summary_method": "last_msg"}], trigger=user)
    user.initiate_chat(writer, message="write", max_turns=1)
    finished = spans()
    [outer] = by_name(finished, "invoke_workflow user -> writer")
    [inner] = by_name(finished, "invoke_workflow writer -> critic")
    turn = parent_of(inner, finished)
    assert turn.name == "invoke_agent writer" and parent_of(turn, finished) is outer


def test_enable_disable_and_runtime_logging_otel(spans):
    with pytest.raises(RuntimeError, match="already enabled"):
        telemetry.enable()
    telemetry.disable()
    assert not telemetry.enabled()
    a = ConversableAgent("a", llm_config=False, human_input_mode="NEVER", default_auto_reply="ok")
    b = ConversableAgent("b", llm_config=False, human_input_mode="NEVER", default_auto_reply="ok")
    a.initiate_chat(b, message="x", max_turns=1)
    assert spans() == ()  # disabled: nothing recorded

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with pytest.raises(ValueError, match="unknown config key\\(s\\) provider"):
        runtime_logging.start(logger_type="otel", config={"provider": provider})
    runtime_logging.start(logger_type="otel", config={"tracer_provider": provider})
    try:
        assert telemetry.enabled()
        a.initiate_chat(b, message="x", max_turns=1)
    finally:
        runtime_logging.stop()
    assert not telemetry.enabled()
    names = sorted(s.name for s in exporter.get_finished_spans())
    assert names == ["invoke_agent b", "invoke_workflow a -> b"]
    telemetry.enable(tracer_provider=provider)  # for the fixture's disable


def test_import_parley_does_not_import_opentelemetry():
    code = "import sys, parley, parley.runtime_logging, parley.telemetry; print(any(m.startswith('opentelemetry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_a_chat_sits_inside_the_applications_current_span_and_bare_model_calls_get_spans(spans):
    a = ConversableAgent("a", llm_config=scripted("a"), human_input_mode="NEVER")
    b = ConversableAgent("b", llm_config=False, human_input_mode="NEVER", default_auto_reply="ok")
    provider_tracer = telemetry._active._tracer  # the same provider, so the app span is exported too
    with provider_tracer.start_as_current_span("app request"):
        b.initiate_chat(a, message="hi", max_turns=1)
    reply = a.generate_reply(messages=[{"role": "user", "content": "alone"}], sender=b)
    assert reply == "a 2"
    finished = spans()
    [app] = by_name(finished, "app request")
    [chat] = by_name(finished, "invoke_workflow b -> a")
    assert parent_of(chat, finished) is app
    calls = by_name(finished, "chat model-a")
    assert len(calls) == 2
    bare = [c for c in calls if c.parent is None]
    assert len(bare) == 1 and bare[0].attributes["gen_ai.agent.name"] == "a"
