"""Per-block overhead of each code executor on ``print(1)``.

Target: sandbox <= local + 30 ms. Jupyter's warm per-block cost is reported (kernel already
started). Runs are interleaved (local, sandbox, jupyter, local, ...) so that load on the
machine affects every executor alike; the median of each is reported, and the fastest run, which
a shared machine's load inflates least.

    python bench/bench_executors.py [--runs 40] [--markdown docs/bench/executors.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from parley.code import CodeBlock, JupyterCodeExecutor, LocalCommandLineCodeExecutor, SandboxCodeExecutor

BLOCK = [CodeBlock("print(1)", "python")]


def timed(executor) -> float:
    started = time.perf_counter()
    result = executor.execute_code_blocks(BLOCK)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0 and result.output == "1\n", result
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--markdown", type=Path, help="write the results as a markdown section here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        executors = {
            "local": LocalCommandLineCodeExecutor(work_dir=Path(tmp) / "local"),
            "sandbox": SandboxCodeExecutor(work_dir=Path(tmp) / "sandbox"),
        }
        started = time.perf_counter()
        executors["jupyter"] = JupyterCodeExecutor(work_dir=Path(tmp) / "jupyter")
        jupyter_start = time.perf_counter() - started
        for executor in executors.values():  # warm-up: page cache, kernel imports
            for _ in range(3):
                timed(executor)
        samples: dict[str, list[float]] = {name: [] for name in executors}
        for _ in range(args.runs):
            for name, executor in executors.items():
                samples[name].append(timed(executor))
        executors["jupyter"].stop()

    median = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    p90 = {name: statistics.quantiles(values, n=10)[-1] * 1000 for name, values in samples.items()}
    fastest = {name: min(values) * 1000 for name, values in samples.items()}
    sandbox_extra = median["sandbox"] - median["local"]
    lines = [
        "## Code executors: per-block overhead on `print(1)`",
        "",
        f"Machine: {platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end (a loaded machine inflates every row); "
        f"{args.runs} interleaved runs per executor after warm-up; `python bench/bench_executors.py`.",
        "",
        "| executor | median per block | p90 | fastest |",
        "|---|---|---|---|",
        *(f"| {name} | {median[name]:.1f} ms | {p90[name]:.1f} ms | {fastest[name]:.1f} ms |" for name in samples),
        "",
        f"- Sandbox over local: **{sandbox_extra:+.1f} ms** per block (target: at most +30 ms) — "
        f"{'met' if sandbox_extra <= 30 else 'NOT met'}; fastest runs: {fastest['sandbox'] - fastest['local']:+.1f} ms.",
        f"- Jupyter, warm (kernel running): {median['jupyter']:.1f} ms per block; starting the kernel took {jupyter_start:.2f} s once.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
