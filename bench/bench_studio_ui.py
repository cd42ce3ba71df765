"""The Studio UI's first page load (issue #18): headless Chromium (Debian's ``chromium``, driven
by Playwright) opens a local ``parley studio`` and waits for the gallery's teams to be on screen.

Target: <= 1 s. Each load is in a fresh browser context (empty cache), opening the printed URL
``/?token=T`` (the page keeps the token in sessionStorage), timed from the navigation to the
first gallery card rendered: index.html, the JS and CSS, React's first render, ``/api/me`` and
``/api/gallery``. Also reported: the bytes the first page loads, and the builder's (a separate
chunk loaded when the builder opens) builder-open time.

    python bench/bench_studio_ui.py [--repeats 10]

Prints one JSON line: medians and bests in milliseconds, sizes in bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-studio-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_studio(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen([sys.executable, "-m", "parley.cli", "studio", "--port", str(port), "--token", TOKEN,
                                "--store", f"sqlite:///{folder / 'runs.db'}"], cwd=folder, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/api/health", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise SystemExit("parley studio did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("PARLEY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        process, base = start_studio(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                loads, builder, transferred = [], [], []
                for i in range(args.repeats + 1):  # the first: warm-up (the server's first requests, disk cache)
                    context = browser.new_context()
                    page = context.new_page()
                    sizes: list[int] = []
                    page.on("response", lambda r, sizes=sizes: sizes.append(int(r.headers.get("content-length") or 0)))
                    # The printed URL, as a user opens it; the cache stays empty (a cold load).
                    start = time.perf_counter()
                    page.goto(f"{base}/?token={TOKEN}", wait_until="commit")
                    page.wait_for_selector("[data-testid^=gallery-]")
                    loaded = time.perf_counter()
                    first_bytes = sum(sizes)
                    page.get_by_role("link", name="Builder", exact=True).click()
                    page.wait_for_selector("#yaml")  # the builder on screen (its validation follows 300 ms after)
                    opened = time.perf_counter()
                    if i:
                        loads.append((loaded - start) * 1000)
                        builder.append((opened - loaded) * 1000)
                        transferred.append(first_bytes)
                    context.close()
                browser.close()
        finally:
            process.terminate()
            process.wait(30)
    static = ROOT / "src" / "parley" / "studio" / "static" / "assets"
    print(json.dumps({
        "first_load_ms_median": round(statistics.median(loads), 1), "first_load_ms_best": round(min(loads), 1),
        "builder_open_ms_median": round(statistics.median(builder), 1),
        "first_load_bytes": statistics.median(transferred),
        "js_bytes": {p.name: p.stat().st_size for p in sorted(static.glob("*.js"))},
        "repeats": args.repeats, "target_ms": 1000,
    }))


if __name__ == "__main__":
    main()
