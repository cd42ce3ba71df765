"""Images in the run store: a chat about one picture, in a runtime-logging session, so every
prompt record holds the picture. Measures the database's size with each image stored once
(``parley_images``), against the base64 that records holding the image inline would carry, and
the time per turn with the store on.

    python bench/bench_images.py [--turns 20] [--side 320]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import sqlalchemy as sa
from PIL import Image

from parley import ScriptedModelClient, UserProxyAgent
from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent
from parley.io.console import console_sink
from parley.store import RunStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--side", type=int, default=320, help="the picture's width and height (random pixels: incompressible)")
    args = parser.parse_args()
    console_sink.enabled = False
    folder = tempfile.mkdtemp()
    picture = os.path.join(folder, "noise.png")
    Image.frombytes("RGB", (args.side, args.side), os.urandom(args.side * args.side * 3)).save(picture)
    image_bytes = os.path.getsize(picture)
    database = os.path.join(folder, "runs.db")
    seer = MultimodalConversableAgent("seer", llm_config={"config_list": [
        {"model": "scripted", "client": ScriptedModelClient(["I see noise."])}]})
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False,
                          max_consecutive_auto_reply=args.turns, default_auto_reply="Look again.")
    with RunStore(database, session_id=str(uuid.uuid4())) as store:
        started = time.perf_counter()
        user.initiate_chat(seer, message=f"What is this? <img {picture}>", max_turns=args.turns, silent=True)
        store.flush()
        elapsed = time.perf_counter() - started
        with store.engine.connect() as connection:
            prompts = connection.execute(sa.text("SELECT count(*) FROM parley_chat_completions")).scalar()
            images = connection.execute(sa.text("SELECT count(*), sum(size) FROM parley_images")).one()
    inline = (4 * ((image_bytes + 2) // 3)) * (prompts + 1)  # base64 in each prompt record and the one message
    print(f"picture: {image_bytes / 1e3:.0f} kB; {args.turns} turns, {prompts} prompt records")
    print(f"parley_images: {images[0]} row(s), {images[1] / 1e3:.0f} kB")
    print(f"database file: {os.path.getsize(database) / 1e6:.2f} MB "
          f"(inline base64 alone would be {inline / 1e6:.2f} MB)")
    print(f"{elapsed / args.turns * 1000:.1f} ms per turn, store on (a scripted model: the store's and the agents' own time)")


if __name__ == "__main__":
    main()
