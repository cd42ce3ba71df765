"""An image in a MultimodalConversableAgent's message reaches each provider's server in that
provider's shape, with the file's own bytes; a model that cannot see refuses it clearly."""

from __future__ import annotations

import base64

import pytest

from parley import UserProxyAgent
from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent
from parley.models.protocol import ModelError
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY


def _user():
    return UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0)


def _ask(entry, message):
    seer = MultimodalConversableAgent("seer", llm_config={"config_list": [entry], "cache_seed": None})
    return _user().initiate_chat(seer, message=message, max_turns=1, silent=True)


def _data_url_bytes(url, media_type):
    prefix = f"data:{media_type};base64,"
    assert url.startswith(prefix), url[:40]
    return base64.b64decode(url[len(prefix):])


def test_an_image_file_reaches_an_openai_server_as_an_image_part_with_its_bytes(openai_server, red_png, blue_jpeg):
    openai_server.add({"content": "A red square and a blue bar."})
    (png, png_bytes), (jpeg, jpeg_bytes) = red_png, blue_jpeg
    result = _ask({"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY},
                  f"What is in <img {png}> and <img {jpeg}>? Compare with <img https://example.com/pics/cat.jpg>.")
    assert result.summary == "A red square and a blue bar."
    [body] = openai_server.requests
    user = body["messages"][-1]
    assert user["role"] == "user"
    assert [p["type"] for p in user["content"]] == ["text", "image_url", "text", "image_url", "text", "image_url", "text"]
    assert user["content"][0]["text"] == "What is in "
    # The files' own bytes, not re-encoded: PNG as PNG, JPEG as JPEG.
    assert _data_url_bytes(user["content"][1]["image_url"]["url"], "image/png") == png_bytes
    assert _data_url_bytes(user["content"][3]["image_url"]["url"], "image/jpeg") == jpeg_bytes
    # A remote image stays a URL: the provider fetches it, parley does not.
    assert user["content"][5]["image_url"]["url"] == "https://example.com/pics/cat.jpg"


def test_azure_gets_the_same_image_part(openai_server, red_png):
    png, png_bytes = red_png
    _ask({"model": "my-gpt4o", "api_type": "azure", "base_url": openai_server.azure_endpoint, "api_key": SECRET_KEY,
          "api_version": "2024-06-01"}, f"<img {png}>")
    assert openai_server.paths[-1].startswith("/openai/deployments/my-gpt4o/chat/completions")
    [part] = openai_server.requests[-1]["messages"][-1]["content"]
    assert _data_url_bytes(part["image_url"]["url"], "image/png") == png_bytes


def test_a_format_no_vision_api_takes_is_sent_as_png(openai_server, green_bmp):
    import io

    from PIL import Image

    bmp, _ = green_bmp
    _ask({"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}, f"<img {bmp}>")
    [part] = openai_server.requests[-1]["messages"][-1]["content"]
    image = Image.open(io.BytesIO(_data_url_bytes(part["image_url"]["url"], "image/png")))
    assert image.format == "PNG" and image.size == (3, 3) and image.convert("RGB").getpixel((1, 1)) == (0, 255, 0)


def test_the_anthropic_server_receives_its_image_block_shape(anthropic_server, red_png, blue_jpeg):
    anthropic_server.add({"content": "Two images."})
    (png, png_bytes), (jpeg, jpeg_bytes) = red_png, blue_jpeg
    result = _ask({"model": "claude-3-5-sonnet-20241022", "api_type": "anthropic", "base_url": anthropic_server.base_url,
                   "api_key": SECRET_KEY}, f"Look: <img {png}> <img {jpeg}> <img https://example.com/cat.png>")
    assert result.summary == "Two images."
    [body] = anthropic_server.requests
    assert body["system"] == "You are a helpful AI assistant."
    [turn] = body["messages"]
    blocks = turn["content"]
    assert [b["type"] for b in blocks] == ["text", "image", "text", "image", "text", "image"]
    assert blocks[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                     "data": base64.b64encode(png_bytes).decode()}}
    assert blocks[3]["source"]["media_type"] == "image/jpeg"
    assert base64.b64decode(blocks[3]["source"]["data"]) == jpeg_bytes
    assert blocks[5] == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}


async def test_anthropic_refuses_a_part_that_is_not_an_image_url_naming_it(anthropic_server):
    w = OpenAIWrapper(config_list=[{"model": "claude-3-5-sonnet-20241022", "api_type": "anthropic",
                                    "base_url": anthropic_server.base_url, "api_key": SECRET_KEY}])
    with pytest.raises(ModelError, match="image part: the url must be an http\\(s\\) URL or a base64 data URL") as error:
        await w.a_create([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "/tmp/x.png"}}]}])
    assert SECRET_KEY not in str(error.value)
    assert anthropic_server.requests == []  # refused before anything was sent


async def test_the_local_model_refuses_an_image_clearly_instead_of_dropping_it(red_png):
    pytest.importorskip("llama_cpp")
    from parley.agentchat.contrib.img_utils import pil_to_data_uri  # noqa: F401 (Pillow is there)
    from parley.images import image_url_part

    png, _ = red_png
    w = OpenAIWrapper(config_list=[{"model": "smollm2-135m", "api_type": "local"}])
    messages = [{"role": "system", "content": "You are helpful."},
                {"role": "user", "content": [{"type": "text", "text": "What colour? "}, image_url_part(str(png))]}]
    with pytest.raises(ModelError, match=r"messages\[1\] has an image, and the local model cannot see images.*"
                                         r"VisionCapability"):
        await w.a_create(messages)


async def test_anthropic_refuses_an_image_in_the_system_prompt_instead_of_dropping_it(anthropic_server, red_png):
    from parley.images import image_url_part

    png, _ = red_png
    w = OpenAIWrapper(config_list=[{"model": "claude-3-5-sonnet-20241022", "api_type": "anthropic",
                                    "base_url": anthropic_server.base_url, "api_key": SECRET_KEY}])
    messages = [{"role": "system", "content": [{"type": "text", "text": "Compare with "}, image_url_part(str(png))]},
                {"role": "user", "content": "hi"}]
    with pytest.raises(ModelError, match="the system message has an image, and Anthropic's system prompt takes only text"):
        await w.a_create(messages)
    assert anthropic_server.requests == []
