"""Image messages in the run store (SQLite and PostgreSQL): each image's bytes stored once, by
sha256, in parley_images; messages and prompt records refer to it; readers get the image back."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import sqlalchemy as sa

from parley import UserProxyAgent
from parley.store import RunStore

from .test_cli_runs import parley_runs

pytest.importorskip("PIL")

SECRET = "sk-test-images-0123456789SECRET"


def _png(path, size=(7, 5), colour=(255, 0, 0)):
    from PIL import Image

    Image.new("RGB", size, colour).save(path)
    return path.read_bytes()


def _chat(server, message, turns=2):
    from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent

    seer = MultimodalConversableAgent("seer", llm_config={"config_list": [
        {"model": "gpt-4o", "base_url": server.base_url, "api_key": SECRET}], "cache_seed": None})
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False,
                          max_consecutive_auto_reply=turns - 1, default_auto_reply="And now?")
    user.initiate_chat(seer, message=message, max_turns=turns, silent=True)


def test_each_image_is_stored_once_and_read_back_as_sent(store_url, openai_server, tmp_path):
    openai_server.default = {"content": "A red square."}
    png_bytes = _png(tmp_path / "red.png")
    digest = __import__("hashlib").sha256(png_bytes).hexdigest()
    with RunStore(store_url, session_id=str(uuid.uuid4())) as store:
        _chat(openai_server, f"Describe <img {tmp_path / 'red.png'}> please.")
        _chat(openai_server, f"Again: <img {tmp_path / 'red.png'}>", turns=1)  # another run, another recorder batch
        store.flush()
        runs = store.list_runs()
        assert len(runs) == 2
        with store.engine.connect() as connection:
            [image] = connection.execute(
                sa.text("SELECT digest, media_type, name, width, height, size, data FROM parley_images")).all()
            raw_messages = connection.execute(sa.text("SELECT message FROM parley_messages")).scalars().all()
            prompts = connection.execute(sa.text("SELECT request FROM parley_chat_completions")).scalars().all()
        assert (image.digest, image.media_type, image.name, image.width, image.height, image.size) == (
            digest, "image/png", "red.png", 7, 5, len(png_bytes))
        assert bytes(image.data) == png_bytes
        # Every record names the image; none holds its bytes.
        encoded = base64.b64encode(png_bytes).decode()
        assert len(prompts) == 3 and all(f"parley-image:{digest}" in p and encoded not in p for p in prompts)
        assert not any(encoded in m for m in raw_messages)
        assert sum(f"parley-image:{digest}" in m for m in raw_messages) == 2

        first = min(runs, key=lambda r: r.created_at)
        messages = store.messages(first.id)
        assert [m.sender for m in messages] == ["user", "seer", "user", "seer"]
        parts = messages[0].message["content"]
        assert parts[0] == {"type": "text", "text": "Describe "}
        assert parts[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}}

        exported = json.loads(store.export(first.id))
        assert [(i["digest"], i["name"], i["width"], i["height"]) for i in exported["images"]] == [(digest, "red.png", 7, 5)]
        assert exported["images"][0]["data_url"] == f"data:image/png;base64,{encoded}"
        assert encoded not in json.dumps(exported["messages"])
        markdown = store.export(first.id, format="md")
        assert "[image: red.png 7x5]" in markdown and encoded not in markdown


def test_runs_show_labels_images(tmp_path, openai_server):
    openai_server.default = {"content": "Red."}
    _png(tmp_path / "red.png")
    db = str(tmp_path / "runs.db")
    with RunStore(db) as store:
        _chat(openai_server, f"What is <img {tmp_path / 'red.png'}>?", turns=1)
        [run] = store.list_runs()
    shown = parley_runs("show", run.id, store=db)
    assert shown.returncode == 0, shown.stderr
    assert "What is [image: red.png 7x5]?" in shown.stdout
    assert "base64" not in shown.stdout and SECRET not in shown.stdout


def test_a_failed_image_chat_resumes_sending_the_same_image(store_url, tmp_path):
    from parley import ScriptedModelClient
    from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent

    png_bytes = _png(tmp_path / "red.png")

    def team(fail_at=None):
        requests = []

        def reply(request):
            requests.append(request)
            if len(requests) == fail_at:
                raise RuntimeError("model down")
            return f"reply {len(requests)}"

        seer = MultimodalConversableAgent("seer", llm_config={"config_list": [
            {"model": "scripted", "client": ScriptedModelClient(reply)}]})
        user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False,
                              max_consecutive_auto_reply=5, default_auto_reply="more")
        return user, seer, requests

    with RunStore(store_url) as store:
        user, seer, _ = team(fail_at=2)
        with pytest.raises(RuntimeError, match="model down"):
            user.initiate_chat(seer, message=f"see <img {tmp_path / 'red.png'}>", max_turns=3, silent=True)
        store.flush()
        [run] = store.list_runs()
        user, seer, requests = team()
        store.resume(run.id, [user, seer], silent=True)
        assert requests, "the resumed chat asked the model"
        image = requests[0].messages[1]["content"][1]
        encoded = base64.b64encode(png_bytes).decode()
        assert image == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}}


def test_the_studios_replay_shows_stored_images(sqlite_url, openai_server, tmp_path):
    from parley.studio.event_feed import recorded_events

    openai_server.default = {"content": "Red."}
    png_bytes = _png(tmp_path / "red.png")
    with RunStore(sqlite_url) as store:
        _chat(openai_server, f"What is <img {tmp_path / 'red.png'}>?", turns=1)
        store.flush()
        [run] = store.list_runs()
        [opening, _] = [e for e in recorded_events(store, run.id) if e["type"] == "MessageSent"]
    assert opening["message"]["content"][1]["image_url"]["url"] == (
        "data:image/png;base64," + base64.b64encode(png_bytes).decode())
