"""run_many: N two-turn chats against a 100 ms endpoint, in-process (asyncio) vs on Ray (1 and 2
worker actors on this machine), every chat recorded in a SQLite run store.

The endpoint is ``tests/servers/openai_fake.py`` in its own process. Reported per mode: wall
time, wall per chat, CPU per chat (this process + the Ray workers + Ray's own raylet/GCS
processes), and for Ray the overhead it adds per chat over in-process (CPU, and wall), after
taking out a fan-out's fixed cost (starting the actors, which import parley and the SDK),
measured by a 1-chat run.

    python bench/bench_distributed.py [--chats 1000] [--concurrency 1000] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER = ROOT / "tests" / "servers" / "openai_fake.py"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

TEAM = {
    "version": 1,
    "name": "bench",
    "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST"}, "cache_seed": None}},
    "agents": {
        "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                 "default_auto_reply": "Continue."},
        "assistant": {"class": "AssistantAgent", "llm_config": "gpt"},
    },
    "run": {"initiator": "user", "recipient": "assistant", "message": "{task}", "max_turns": 2},
}


def _descendants_cpu() -> dict[int, float]:
    """CPU seconds so far of each process under this one (Ray's raylet, GCS and workers)."""
    import psutil

    seconds = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            seconds[child.pid] = times.user + times.system
        except psutil.Error:
            pass
    return seconds


def measure(chats: int, concurrency: int, address: str | None, workers: int, store_dir: Path) -> dict:
    from parley.distributed import ray_workers, run_many

    tasks = [f"Task {i}: say hello." for i in range(chats)]
    server_pid = int(os.environ["BENCH_SERVER_PID"])
    before = _descendants_cpu() if address else {}
    started, cpu_started = time.perf_counter(), time.process_time()
    outcomes = run_many(TEAM, tasks, address=address, workers=workers, max_concurrency=concurrency,
                        store=store_dir / f"{address or 'local'}-{workers}-{chats}.db", progress=False)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finished = sum(o.status == "finished" for o in outcomes)
    if finished != chats:
        raise RuntimeError(f"{finished} of {chats} chats finished: {next(o.error for o in outcomes if o.error)}")
    driver_cpu = cpu
    if address:
        # Each process's CPU during the run: the workers' as they reported it before they were
        # stopped (a worker may be a process Ray had started earlier), the others' from /proc.
        now = {**_descendants_cpu(), **ray_workers.last_stats.get("workers_cpu_s", {})}
        cpu += sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items() if pid != server_pid)
    return {"mode": "in-process" if address is None else f"ray, {workers} worker(s)", "chats": chats,
            "wall_s": wall, "cpu_s": cpu, "driver_cpu_ms_per_chat": 1000 * driver_cpu / chats,
            "wall_ms_per_chat": 1000 * wall / chats, "cpu_ms_per_chat": 1000 * cpu / chats}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, str(SERVER), "--delay", "0.1"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split()[1])  # type: ignore[union-attr]
        os.environ["BENCH_SERVER_PID"] = str(server.pid)
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch) / "OAI_CONFIG_LIST.json"
            config.write_text(json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-bench",
                                           "base_url": f"http://127.0.0.1:{port}/v1"}]))
            os.environ["OAI_CONFIG_LIST"] = str(config)  # before Ray starts: its workers inherit it
            os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])
            store_dir = Path(scratch)
            measure(2, 2, None, 1, store_dir)  # warm-up: imports, the SDK's client
            rows = [measure(args.chats, args.concurrency, None, 1, store_dir)]
            import ray

            head_started = time.perf_counter()
            ray.init(address="local", include_dashboard=False, num_cpus=2, log_to_driver=False)
            head_s = time.perf_counter() - head_started
            # Ray's own processes (raylet, GCS, idle workers) use CPU when no chat runs: measured
            # over a quiet 5 s, so that the overhead can be split into per-chat and background.
            time.sleep(2)
            idle_before = _descendants_cpu()
            time.sleep(5)
            idle_after = _descendants_cpu()
            background_cpu_per_s = sum(seconds - idle_before.get(pid, 0.0) for pid, seconds in idle_after.items()
                                       if pid != server.pid) / 5
            for workers in (1, 2):
                start_row = measure(1, 1, "auto", workers, store_dir)
                row = measure(args.chats, args.concurrency, "auto", workers, store_dir)
                row["fixed_start_s"], row["fixed_cpu_s"] = start_row["wall_s"], start_row["cpu_s"]
                rows.append(row)
            ray.shutdown()
    finally:
        server.kill()
    local = rows[0]
    for row in rows[1:]:
        # A fan-out's fixed cost (actors started, parley and the SDK imported in them) measured by
        # a 1-chat run and taken out: what is left grows with the chats.
        row["overhead_cpu_ms_per_chat"] = (row["cpu_s"] - row["fixed_cpu_s"] - local["cpu_s"]) * 1000 / args.chats
        row["background_cpu_ms_per_chat"] = background_cpu_per_s * row["wall_s"] * 1000 / args.chats
        row["overhead_wall_ms_per_chat"] = (row["wall_s"] - row["fixed_start_s"] - local["wall_s"]) * 1000 / args.chats
    for row in rows:
        print(f"{row['mode']}: this process's CPU {row['driver_cpu_ms_per_chat']:.2f} ms/chat", file=sys.stderr)
    if args.markdown:
        print(f"{args.chats} two-turn chats, 100 ms endpoint, {args.concurrency} at once, SQLite store; "
              f"Ray head start {head_s:.1f} s; Ray's background CPU when idle {background_cpu_per_s * 1000:.0f} ms/s\n")
        print("| mode | wall s | wall ms/chat | CPU ms/chat | fixed start s (1-chat run) "
              "| Ray overhead CPU ms/chat (of it Ray's idle background) | Ray overhead wall ms/chat |")
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['mode']} | {row['wall_s']:.2f} | {row['wall_ms_per_chat']:.2f} | {row['cpu_ms_per_chat']:.2f} | "
                  f"{row.get('fixed_start_s', 0):.2f} | {row.get('overhead_cpu_ms_per_chat', 0):.2f} "
                  f"({row.get('background_cpu_ms_per_chat', 0):.2f}) | "
                  f"{row.get('overhead_wall_ms_per_chat', 0):.2f} |")
    else:
        print(json.dumps({"ray_head_start_s": head_s, "ray_background_cpu_per_s": background_cpu_per_s, "rows": rows},
                         indent=1))


if __name__ == "__main__":
    main()
