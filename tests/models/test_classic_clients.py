"""Classic's client classes on their classic paths: ``autogen.oai.client.OpenAIClient`` around an
openai SDK client, ``autogen.oai.anthropic.AnthropicClient`` on parley's Anthropic provider,
``autogen.oai.gemini`` and ``GPTAssistantAgent`` saying what to use instead."""

from __future__ import annotations

import openai
import pytest

from .conftest import SECRET_KEY

HI = [{"role": "user", "content": "2+2?"}]


def test_openai_client_wraps_the_sdk_client(openai_server):
    from parley.oai.client import OpenAIClient

    openai_server.add({"content": "4", "usage": [1000, 1000]}, {"content": "Paris"})
    client = OpenAIClient(openai.OpenAI(api_key=SECRET_KEY, base_url=openai_server.base_url))
    response = client.create({"model": "gpt-4o-mini", "messages": HI, "temperature": 0})
    assert client.message_retrieval(response) == ["4"]
    assert client.cost(response) == pytest.approx(0.00015 + 0.0006)
    assert client.get_usage(response) == {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000,
                                          "cost": pytest.approx(0.00075), "model": "gpt-4o-mini"}
    assert openai_server.requests[0]["temperature"] == 0
    client.create({"model": "gpt-4o-mini", "prompt": "Capital of France?"})
    assert openai_server.requests[1]["messages"] == [{"role": "user", "content": "Capital of France?"}]


def test_anthropic_client_takes_openai_shaped_params(anthropic_server):
    pytest.importorskip("anthropic")
    from parley.oai.anthropic import AnthropicClient

    anthropic_server.add({"content": "4"})
    client = AnthropicClient(api_key=SECRET_KEY, base_url=anthropic_server.base_url)
    messages = [{"role": "system", "content": "Be brief."}, *HI]
    response = client.create({"model": "claude-3-5-sonnet-20240620", "messages": messages, "max_tokens": 50, "seed": 1})
    assert client.message_retrieval(response) == ["4"] and response.model.startswith("claude")
    sent = anthropic_server.requests[0]
    assert sent["system"] == "Be brief." and sent["max_tokens"] == 50 and "seed" not in sent
    assert client.get_usage(response)["total_tokens"] == response.usage.total_tokens
    with pytest.raises(ValueError, match="must name the 'model'"):
        client.create({"messages": HI})


def test_gemini_and_gpt_assistant_say_what_to_use_instead():
    from parley.agentchat.contrib.gpt_assistant_agent import GPTAssistantAgent
    from parley.oai.gemini import GeminiClient

    with pytest.raises(ImportError, match=r"google-generativeai.*OpenAI-compatible endpoint"):
        GeminiClient(api_key="k")
    with pytest.raises(NotImplementedError, match=r"Assistants API.*AssistantAgent"):
        GPTAssistantAgent("helper", instructions="Help.", llm_config={"config_list": [{"model": "gpt-4o"}]})
