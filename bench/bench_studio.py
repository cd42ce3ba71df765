"""parley Studio: how soon a run's events reach the browsers watching it.

A Studio server (uvicorn, in this process) with 10 WebSocket clients on one run; events are
emitted into that run at a steady rate (default 1,000/s for 5 s) through parley's event stream,
as an agent's would be, from a thread other than the server's loop (as sync agent code runs).
Each client notes when each event arrives; the latency is that time minus the event's own
``time`` (set when it was emitted; same clock). Reports the median, p99 and worst latency over
all clients and events, the events each client got, and the rate achieved. Target: ≤ 100 ms at
1,000 events/s to 10 browsers (issue #18).

    python bench/bench_studio.py [--clients 10] [--rate 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import uvicorn
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parley import events
from parley.io.console import console_sink
from parley.store import schema
from parley.studio.app import create_app
from parley.studio.event_feed import current_run
from parley.studio.settings import StudioSettings

TOKEN = "bench-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(folder: str) -> tuple[uvicorn.Server, StudioSettings, object]:
    settings = StudioSettings(host="127.0.0.1", port=free_port(), store=os.path.join(folder, "runs.db"), token=TOKEN)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, name="studio", daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, settings, app


def add_run(app: object) -> str:
    """A run row the clients may watch (the store's and the Studio's), without agents."""
    studio = app.state.studio  # type: ignore[attr-defined]
    run_id = str(uuid.uuid4())
    now = time.time()
    with studio.store.engine.begin() as connection:
        connection.execute(schema.runs.insert().values(id=run_id, kind="chat", status="running", created_at=now, updated_at=now))
        connection.execute(schema.studio_runs.insert().values(run_id=run_id, owner=None, state="done", created_at=now))
    return run_id


async def watch(url: str, expected: int, ready: asyncio.Event, counts: list[int], latencies: list[float]) -> None:
    async with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}"}, max_queue=None) as ws:
        while json.loads(await ws.recv())["type"] != "ReplayFinished":
            pass
        counts.append(0)
        index = len(counts) - 1
        ready.set()
        while counts[index] < expected:
            item = json.loads(await ws.recv())
            if item["type"] == "MessageSent":
                latencies.append(time.time() - item["time"])
                counts[index] += 1


def clients_process(url: str, clients: int, expected: int) -> None:
    """``--clients-of URL``: the browsers, in a process of their own (their decoding does not
    compete with the server for its GIL); prints READY once all are connected, then the results as JSON."""
    async def main() -> None:
        counts: list[int] = []
        latencies: list[float] = []
        readies = [asyncio.Event() for _ in range(clients)]
        tasks = [asyncio.create_task(watch(url, expected, ready, counts, latencies)) for ready in readies]
        for ready in readies:
            await ready.wait()
        print("READY", flush=True)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
        print(json.dumps({"counts": counts, "latencies": latencies}), flush=True)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rate", type=float, default=1000.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    if args.clients_of:
        clients_process(args.clients_of, args.clients, total)
        return
    console_sink.enabled = False  # the server's own terminal is not what is measured
    with tempfile.TemporaryDirectory() as folder:
        server, settings, app = start_server(folder)
        run_id = add_run(app)
        url = f"ws://127.0.0.1:{settings.port}/api/runs/{run_id}/events"
        clients = subprocess.Popen([sys.executable, __file__, "--clients-of", url, "--clients", str(args.clients),
                                    "--rate", str(args.rate), "--seconds", str(args.seconds)], stdout=subprocess.PIPE, text=True)
        assert clients.stdout is not None and clients.stdout.readline().strip() == "READY"
        current_run.set(run_id)
        message = {"role": "user", "content": "x" * 200}
        started = time.perf_counter()
        for i in range(total):
            delay = started + i / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            events.emit(events.MessageSent(sender="a", recipient="b", message=message))
        emitted_s = time.perf_counter() - started
        result = json.loads(clients.stdout.readline())
        clients.wait(60)
        server.should_exit = True
        time.sleep(0.5)
    counts, latencies = result["counts"], result["latencies"]
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"{args.clients} clients, {total} events at {total / emitted_s:,.0f}/s emitted over {emitted_s:.2f} s "
          f"(load {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs)")
    print(f"events received per client: {sorted(set(counts))} (of {total})")
    print(f"latency: median {statistics.median(latencies) * 1000:.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
