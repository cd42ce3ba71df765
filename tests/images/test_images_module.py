"""parley.images: labels, data URLs, and logs that never carry an image's base64."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from parley import images, runtime_logging

from .conftest import SECRET_KEY


def test_labels_of_files_urls_and_unknown_data_urls(red_png):
    png, png_bytes = red_png
    assert images.label(images.image_url_part(str(png))) == "[image: red.png 7x5]"
    assert images.label({"type": "image_url", "image_url": {"url": "https://example.com/a/cat.jpg?x=1"}}) == "[image: cat.jpg]"
    # A data URL this process did not make: its type and size from its header.
    other = "data:image/png;base64," + base64.b64encode(png_bytes).decode() + ""
    images._known.pop(other, None)
    assert images.label({"type": "image_url", "image_url": {"url": other}}) == "[image: image.png 7x5]"
    broken = {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}}
    assert images.display_text([{"type": "text", "text": "a "}, broken]) == "a [image: image (unreadable data URL)]"


def test_bad_images_are_clear_errors(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match=r"image '.*notes.png': not an image Pillow can read"):
        images.image_url_part(str(text))
    with pytest.raises(TypeError, match="an image must be a file path, an http\\(s\\) URL, a data URL or a PIL image, not int"):
        images.image_url_part(3)


def test_log_lines_carry_an_images_size_and_digest_not_its_base64(red_png, tmp_path, openai_server):
    from parley import UserProxyAgent
    from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent

    png, png_bytes = red_png
    encoded = base64.b64encode(png_bytes).decode()
    assert images.shorten_data_urls(f'"url": "data:image/png;base64,{encoded}"') == (
        f'"url": "data:image/png;base64,<{len(png_bytes)} bytes, sha256 {hashlib.sha256(png_bytes).hexdigest()[:12]}>"')
    log = tmp_path / "runtime.log"
    runtime_logging.start(logger_type="file", config={"filename": str(log)})
    try:
        seer = MultimodalConversableAgent("seer", llm_config={"config_list": [
            {"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}], "cache_seed": None})
        UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0).initiate_chat(
            seer, message=f"<img {png}>", max_turns=1, silent=True)
    finally:
        runtime_logging.stop()
    written = log.read_text()
    assert encoded not in written and SECRET_KEY not in written
    assert f"{len(png_bytes)} bytes, sha256 {hashlib.sha256(png_bytes).hexdigest()[:12]}" in written
    assert all(json.loads(line) for line in written.splitlines())
