"""Which ``<img path>`` tags may read files on this host: those the local user wrote, not those in
a model's reply, a peer's message or a group chat's other speakers (unless ``local_images="all"``,
classic AutoGen); and what any read refuses (symlinks, FIFOs, devices, huge files)."""

from __future__ import annotations

import base64
import os

import pytest

import parley
from parley import ConversableAgent, UserProxyAgent
from parley import images as images_module
from parley.agentchat.contrib.capabilities.vision_capability import VisionCapability
from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent

from .conftest import write_image


@pytest.fixture
def private_png(tmp_path):
    """An image the chat was never shown: (path, its base64)."""
    folder = tmp_path / "private"
    folder.mkdir()
    path = folder / "passport.png"
    return path, base64.b64encode(write_image(path, (3, 3), (1, 2, 3))).decode()


def _scripted(replies):
    client = parley.ScriptedModelClient(list(replies))
    client.keep_requests = True
    return client, {"config_list": [{"model": "scripted", "client": client}]}


def _user(**kwargs):
    return UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, **kwargs)


def _sent(client):
    return str([request.messages for request in client.requests])


def test_a_models_reply_naming_a_host_file_sends_nothing_of_it(private_png):
    path, b64 = private_png
    client, config = _scripted([f"Let me look: <img {path}>", "done"])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    user = _user(max_consecutive_auto_reply=1, default_auto_reply="go on")
    user.initiate_chat(seer, message="hello", max_turns=2, silent=True)
    assert len(client.requests) == 2
    assert b64 not in _sent(client)
    # The tag stays the text the model wrote.
    assert seer.chat_messages[user][1]["content"] == [{"type": "text", "text": f"Let me look: <img {path}>"}]


def test_a_peers_message_naming_a_host_file_sends_nothing_of_it(private_png):
    path, b64 = private_png
    client, config = _scripted(["hi peer", "seen"])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    peer = ConversableAgent("peer", llm_config=False, default_auto_reply=f"look <img {path}>")
    seer.initiate_chat(peer, message="hello peer", max_turns=2, silent=True)
    [request] = client.requests
    assert f"look <img {path}>" in str(request.messages[-1]) and b64 not in _sent(client)


def test_a_group_chat_speakers_tag_reads_no_host_file_but_the_users_does(private_png, red_png):
    path, b64 = private_png
    png, png_bytes = red_png
    client, config = _scripted(["It is red."])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    other = ConversableAgent("other", llm_config=False, default_auto_reply=f"and <img {path}>")
    chat = parley.GroupChat([other, seer], messages=[], max_round=3, speaker_selection_method="round_robin")
    manager = parley.GroupChatManager(chat, llm_config=False)
    _user(max_consecutive_auto_reply=0).initiate_chat(manager, message=f"Describe <img {png}>", silent=True)
    [request] = client.requests
    assert base64.b64encode(png_bytes).decode() in str(request.messages)  # the user's image
    assert b64 not in str(request.messages)


def test_local_images_all_restores_classic(private_png):
    path, b64 = private_png
    client, config = _scripted([f"Let me look: <img {path}>", "done"])
    seer = MultimodalConversableAgent("seer", llm_config=config, local_images="all")
    _user(max_consecutive_auto_reply=1, default_auto_reply="go on").initiate_chat(
        seer, message="hello", max_turns=2, silent=True)
    assert b64 in _sent(client)
    with pytest.raises(ValueError, match="MultimodalConversableAgent: local_images must be 'user' or 'all'"):
        MultimodalConversableAgent("seer", llm_config=config, local_images="none")


def test_vision_capability_captions_no_host_file_a_peer_names(private_png):
    path, _ = private_png
    seen = []

    def caption(url, image, lmm_client):
        seen.append(url)
        return "something"

    client, config = _scripted(["hi", "ok"])
    assistant = ConversableAgent("assistant", llm_config=config)
    VisionCapability(lmm_config=None, custom_caption_func=caption).add_to_agent(assistant)
    peer = ConversableAgent("peer", llm_config=False, default_auto_reply=f"what is <img {path}>?")
    assistant.initiate_chat(peer, message="hello", max_turns=2, silent=True)
    assert seen == []  # nothing read, nothing captioned
    assert f"what is <img {path}>?" in str(client.requests[-1].messages[-1])
    with pytest.raises(ValueError, match="VisionCapability: local_images must be 'user' or 'all'"):
        VisionCapability(lmm_config=None, custom_caption_func=caption, local_images="x")


def test_symlinks_fifos_devices_and_huge_files_are_refused(tmp_path, private_png, monkeypatch):
    path, _ = private_png
    link = tmp_path / "plot.png"
    link.symlink_to(path)  # what sandboxed code could leave in a work_dir
    with pytest.raises(ValueError, match=r"plot\.png'.*symbolic link"):
        images_module.image_url_part(str(link))
    fifo = tmp_path / "trap.png"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"trap\.png'.*not a regular file"):  # refused at once, no hang
        images_module.image_url_part(str(fifo))
    with pytest.raises(ValueError, match="not a regular file"):
        images_module.image_url_part("/dev/zero")
    big = tmp_path / "big.png"
    with open(big, "wb") as file:
        file.truncate(images_module.MAX_IMAGE_FILE_BYTES + 1)
    with pytest.raises(ValueError, match=r"more than \d+ \(MAX_IMAGE_FILE_BYTES\)"):
        images_module.image_url_part(str(big))
    # The user's own initial message naming a FIFO fails with that error instead of hanging the chat.
    _, config = _scripted(["x"])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    with pytest.raises(ValueError, match="not a regular file"):
        _user().initiate_chat(seer, message=f"<img {fifo}>", max_turns=1, silent=True)


@pytest.fixture
def image_host(red_png):
    """A loopback server handing out the red PNG; asks lists the paths asked for."""
    import http.server
    import threading

    _, png_bytes = red_png
    asks: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asks.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png_bytes)))
            self.end_headers()
            self.wfile.write(png_bytes)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asks
    server.shutdown()


def test_a_peers_url_or_file_part_makes_the_vision_capability_fetch_or_read_nothing(image_host, private_png):
    base, asks = image_host
    path, _ = private_png
    seen = []

    def caption(url, image, lmm_client):
        seen.append(url)
        return "a picture"

    _, config = _scripted(["hi", "ok", "ok"])
    assistant = ConversableAgent("assistant", llm_config=config)
    VisionCapability(lmm_config=None, custom_caption_func=caption).add_to_agent(assistant)
    peer = ConversableAgent("peer", llm_config=False, default_auto_reply=f"see <img {base}/internal-admin.png>")
    assistant.initiate_chat(peer, message="hello", max_turns=2, silent=True)
    assert asks == [] and seen == []
    # A file path inside an image part another agent sent is not read either.
    part_peer = ConversableAgent("part_peer", llm_config=False, default_auto_reply={
        "content": [{"type": "image_url", "image_url": {"url": str(path)}}]})
    assistant.initiate_chat(part_peer, message="hello", max_turns=2, silent=True)
    assert seen == []
    # The user's own message still is.
    _user(max_consecutive_auto_reply=0).initiate_chat(
        assistant, message=f"and <img {base}/mine.png>?", max_turns=1, silent=True)
    assert asks == ["/mine.png"] and seen == [f"{base}/mine.png"]


def test_a_resumed_chats_user_messages_keep_their_images_and_model_replies_do_not_gain_any(red_png, private_png):
    png, _ = red_png
    path, _ = private_png
    _, config = _scripted(["x"])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    user = _user()
    mine, theirs = f"resumed: look at <img {png}>", f"resumed reply <img {path}>"
    user.restore_delivery(seer, {"content": mine, "role": "user", "name": "user"}, None)
    seer.restore_delivery(user, {"content": theirs, "role": "user", "name": "seer"}, "generate_oai_reply")
    assert images_module.written_by_user(mine) and not images_module.written_by_user(theirs)


def test_a_summary_carried_into_the_next_chat_reads_no_host_file_but_the_users_own_tag_does(red_png, private_png):
    png, png_bytes = red_png
    path, b64 = private_png
    _, writer_config = _scripted([f"Summary: see <img {path}>"])
    writer = ConversableAgent("writer", llm_config=writer_config)
    seer_client, seer_config = _scripted(["Seen."])
    seer = MultimodalConversableAgent("seer", llm_config=seer_config)
    user = _user(max_consecutive_auto_reply=0)
    user.initiate_chats([
        {"recipient": writer, "message": "write", "max_turns": 1, "summary_method": "last_msg", "silent": True},
        {"recipient": seer, "message": f"And this: <img {png}>", "max_turns": 1, "silent": True},
    ])
    [request] = seer_client.requests
    sent = str(request.messages)
    assert base64.b64encode(png_bytes).decode() in sent  # the user's own image
    assert b64 not in sent and f"<img {path}>" in sent  # the model's tag stayed text


def test_a_broken_or_huge_image_from_a_model_stays_text_and_the_chat_goes_on():
    import io

    from PIL import Image

    tiff = io.BytesIO()
    Image.new("L", (8000, 6000), 0).save(tiff, format="TIFF", compression="tiff_lzw")  # a few hundred kB
    bomb = "data:image/tiff;base64," + base64.b64encode(tiff.getvalue()).decode()
    with pytest.raises(ValueError, match=r"8000x6000 image is more than \d+ pixels to convert"):
        images_module.image_url_part(bomb)
    broken = "data:image/png;base64,bm90IGFuIGltYWdl"
    client, config = _scripted([f"here <img {broken}> and <img {bomb}>", "done"])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    user = _user(max_consecutive_auto_reply=1, default_auto_reply="go on")
    user.initiate_chat(seer, message="hello", max_turns=2, silent=True)
    assert len(client.requests) == 2
    assert seer.chat_messages[user][1]["content"] == [
        {"type": "text", "text": f"here <img {broken}> and <img {bomb}>"}]


def test_a_human_reply_naming_a_file_is_read(red_png):
    png, png_bytes = red_png
    client, config = _scripted(["What should I look at?", "Red."])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    user = UserProxyAgent("user", human_input_mode="ALWAYS", code_execution_config=False)
    with parley.IOStream.set_default(parley.IOQueue([f"this one, typed: <img {png}>", "exit"])):
        user.initiate_chat(seer, message="hello", silent=True)
    assert len(client.requests) == 2
    assert base64.b64encode(png_bytes).decode() in str(client.requests[1].messages[-1])


def test_the_programs_own_receive_is_the_local_users(red_png):
    png, png_bytes = red_png
    _, config = _scripted(["x"])
    seer = MultimodalConversableAgent("seer", llm_config=config)
    user = _user()
    seer.receive(f"received: <img {png}>", user, request_reply=False, silent=True)
    [_, image] = seer.chat_messages[user][-1]["content"]
    assert base64.b64decode(image["image_url"]["url"].split(",", 1)[1]) == png_bytes
