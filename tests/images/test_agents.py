"""MultimodalConversableAgent's message shapes (classic), the console's image labels, and
VisionCapability's caption path for agents whose model cannot see."""

from __future__ import annotations

import base64

import pytest

import parley
from parley import ConversableAgent, UserProxyAgent
from parley.agentchat.contrib.capabilities.vision_capability import DEFAULT_DESCRIPTION_PROMPT, VisionCapability
from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent
from parley.io.console import console_sink

from .conftest import SECRET_KEY


def _user(**kwargs):
    return UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, **kwargs)


def _scripted(replies=("Seen.",)):
    client = parley.ScriptedModelClient(list(replies))
    client.keep_requests = True
    return client, {"config_list": [{"model": "scripted", "client": client}]}


def test_img_tags_become_parts_in_the_seers_history_and_stay_text_in_the_senders(red_png):
    png, png_bytes = red_png
    client, config = _scripted()
    seer = MultimodalConversableAgent("seer", llm_config=config)
    user = _user(max_consecutive_auto_reply=0)
    user.initiate_chat(seer, message=f"What is <img {png}>?", max_turns=1, silent=True)
    text = f"What is <img {png}>?"
    assert user.chat_messages[seer][0]["content"] == text  # classic: the sender keeps what it wrote
    parts = seer.chat_messages[user][0]["content"]
    assert parts[0] == {"type": "text", "text": "What is "} and parts[2] == {"type": "text", "text": "?"}
    assert parts[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    # The model saw the parts, after the system message as parts (classic).
    [request] = client.requests
    assert request.messages[0] == {"role": "system", "content": [{"type": "text", "text": "You are a helpful AI assistant."}]}
    assert request.messages[-1]["content"] == parts
    assert seer.system_message == [{"type": "text", "text": "You are a helpful AI assistant."}]


def test_classic_message_forms(red_png):
    from PIL import Image

    png, _ = red_png
    to_dict = MultimodalConversableAgent._message_to_dict
    assert to_dict("plain") == {"content": [{"type": "text", "text": "plain"}]}
    # A PIL image in a part (classic gpt4v_formatter(img_format="pil")) is kept as a data URL: storable and sendable.
    pil_part = {"type": "image_url", "image_url": {"url": Image.open(png)}}
    [part] = to_dict({"content": [pil_part], "role": "user"})["content"]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    tool_result = {"role": "tool", "tool_call_id": "c1", "content": "<img x.png> is text here"}
    assert to_dict(tool_result) is tool_result
    with pytest.raises(ValueError, match=r"image '/nonexistent/pic.png': cannot read the file"):
        to_dict("see <img /nonexistent/pic.png>")
    with pytest.raises(ValueError, match="must have a 'content' field"):
        to_dict({"role": "user"})


def test_the_console_shows_image_labels_never_base64(red_png, capsys):
    png, png_bytes = red_png
    _, config = _scripted(["A red square."])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    console_sink.enabled = True
    _user(max_consecutive_auto_reply=0).initiate_chat(seer, message=f"Look at <img {png}> now", max_turns=1)
    printed = capsys.readouterr().out
    assert "user (to seer):\n\nLook at [image: red.png 7x5] now\n" in printed
    assert "base64" not in printed and base64.b64encode(png_bytes).decode()[:20] not in printed


def test_vision_capability_captions_once_for_a_text_only_model(openai_server, red_png):
    openai_server.default = {"content": "A small red rectangle."}
    png, png_bytes = red_png
    client, config = _scripted(["Looks red to me.", "Still red."])
    assistant = ConversableAgent("assistant", llm_config=config, system_message="You help.")
    vision = VisionCapability(lmm_config={"config_list": [
        {"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}], "cache_seed": None})
    vision.add_to_agent(assistant)
    assert assistant.system_message == "You help.\nYou've been given the ability to interpret images."
    user = _user(max_consecutive_auto_reply=1, default_auto_reply="Sure?")
    # The image arrives as parts (from a multimodal sender) and is kept as such in the history.
    message = {"content": [{"type": "text", "text": "What colour is "}, *MultimodalConversableAgent._message_to_dict(
        f"<img {png}>")["content"], {"type": "text", "text": "?"}]}
    user.initiate_chat(assistant, message=message, max_turns=2, silent=True)
    # The vision model was asked once, with the prompt and the image's bytes.
    [caption_request] = openai_server.requests
    prompt, image = caption_request["messages"][0]["content"]
    assert prompt == {"type": "text", "text": DEFAULT_DESCRIPTION_PROMPT}
    assert base64.b64decode(image["image_url"]["url"].split(",", 1)[1]) == png_bytes
    # The text-only model saw captions, never an image part, on both replies.
    assert len(client.requests) == 2
    expected = "What colour is <img red.png> in case you can not see, the caption of this image is: A small red rectangle.\n?"
    for request in client.requests:
        assert request.messages[1]["content"] == expected
        assert not any(isinstance(m.get("content"), list) for m in request.messages)
    assert isinstance(assistant.chat_messages[user][0]["content"], list)  # the history keeps the image


def test_vision_capability_with_a_caption_function_and_img_tags(red_png):
    png, _ = red_png
    seen = []

    def caption(url, image, lmm_client):
        seen.append((url[:22], image.size, lmm_client))
        return "a red block"

    client, config = _scripted(["ok"])
    assistant = ConversableAgent("assistant", llm_config=config)
    VisionCapability(lmm_config=None, custom_caption_func=caption).add_to_agent(assistant)
    _user(max_consecutive_auto_reply=0).initiate_chat(assistant, message=f"Is <img {png}> red?", max_turns=1, silent=True)
    assert seen == [("data:image/png;base64,", (7, 5), None)]
    assert client.requests[0].messages[-1]["content"] == (
        "Is <img red.png> in case you can not see, the caption of this image is: a red block\n red?")
    with pytest.raises(ValueError, match=r"needs lmm_config \(the llm_config of a vision model\) or custom_caption_func"):
        VisionCapability(lmm_config=None)


@pytest.mark.slow
def test_the_local_model_answers_about_an_image_through_captions(openai_server, red_png):
    pytest.importorskip("llama_cpp")
    openai_server.default = {"content": "A red square."}
    png, _ = red_png
    assistant = parley.AssistantAgent("assistant", llm_config={"config_list": [
        {"model": "smollm2-135m", "api_type": "local", "max_tokens": 4}], "cache_seed": None})
    vision = VisionCapability(lmm_config={"config_list": [
        {"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}], "cache_seed": None})
    vision.add_to_agent(assistant)
    message = {"content": MultimodalConversableAgent._message_to_dict(f"What colour is <img {png}>?")["content"]}
    result = _user(max_consecutive_auto_reply=0).initiate_chat(assistant, message=message, max_turns=1, silent=True)
    assert len(openai_server.requests) == 1 and isinstance(result.summary, str) and result.summary


def test_a_seer_in_a_group_chat_sees_the_images_others_name(red_png):
    png, png_bytes = red_png
    client, config = _scripted(["It is red."])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    other = ConversableAgent("other", llm_config=False, default_auto_reply="ok")
    chat = parley.GroupChat([seer, other], messages=[], max_round=2, speaker_selection_method="round_robin")
    manager = parley.GroupChatManager(chat, llm_config=False)
    _user(max_consecutive_auto_reply=0).initiate_chat(manager, message=f"Describe <img {png}>", silent=True)
    [request] = client.requests
    [text, image] = request.messages[-1]["content"]
    assert text == {"type": "text", "text": "Describe "}
    assert base64.b64decode(image["image_url"]["url"].split(",", 1)[1]) == png_bytes


def test_classic_process_last_received_message_with_a_file_path_part(openai_server, red_png):
    openai_server.default = {"content": "Red."}
    png, png_bytes = red_png
    vision = VisionCapability(lmm_config={"config_list": [
        {"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}], "cache_seed": None})
    text = vision.process_last_received_message([{"type": "image_url", "image_url": {"url": str(png)}}])
    # Classic's text: the image as it was named, then its caption; the vision model got the file's bytes.
    assert text == f"<img {png}> in case you can not see, the caption of this image is: Red.\n"
    [request] = openai_server.requests
    assert base64.b64decode(request["messages"][0]["content"][1]["image_url"]["url"].split(",", 1)[1]) == png_bytes
    assert vision.process_last_received_message("no image here") == "no image here"
