"""Side effects on resume, with real processes: a run killed (SIGKILL) right after a code execution
or tool call was recorded is resumed in another process, which reuses the stored result instead
of running the code again: the file it appends to has each line once, and the transcript equals
an uninterrupted run's. Two-agent chats (code, tools) and a group chat (code)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from parley.store import RunStore

from . import chat_child
from .test_crash_resume import CHILD, reference_transcript, stored_transcript

STEPS = [f"step {k}" for k in range(1, chat_child.STEPS + 1)]


def lines(folder) -> list[str]:
    path = folder / "log.txt"
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize("variant, hang_after", [("code", 1), ("code", 4), ("tools", 2), ("tools", 6), ("group_code", 3)])
def test_killed_right_after_a_side_effect_is_recorded_the_resume_does_not_repeat_it(tmp_path, monkeypatch, variant, hang_after):
    monkeypatch.setenv("CHAT_CHILD_WORK_DIR", str(tmp_path / "reference"))
    expected = reference_transcript(variant)
    assert lines(tmp_path / "reference") == STEPS
    assert len(expected) == 2 * len(STEPS) + (1 if variant == "group_code" else 2)  # a two-agent chat ends with TERMINATE
    kind = "tool" if variant == "tools" else "code"

    work = tmp_path / "work"
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = str(uuid.uuid4())
    env = {**os.environ, "CHAT_CHILD_WORK_DIR": str(work), "CHAT_CHILD_HANG_AFTER_EFFECT": str(hang_after)}
    child = subprocess.Popen([sys.executable, CHILD, "run", url, run_id, variant], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (work / "recorded").exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() is None, child.stderr.read().decode()[-3000:]
    assert (work / "recorded").exists()
    child.send_signal(signal.SIGKILL)  # right after the result was committed, before the reply carrying it was built
    child.wait(10)
    assert lines(work) == STEPS[:hang_after]
    store = RunStore(url)
    assert store.get_run(run_id).status == "running"
    assert stored_transcript(store, run_id) == expected[:2 * hang_after]  # the result's message was never sent
    assert len(store.records(run_id, "side_effects")) == hang_after

    env.pop("CHAT_CHILD_HANG_AFTER_EFFECT")
    resumed = subprocess.run([sys.executable, CHILD, "resume", url, run_id, variant], env=env, capture_output=True, timeout=120, check=False)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    assert lines(work) == STEPS  # each line once: the recorded execution was not run again
    assert stored_transcript(store, run_id) == expected
    effects = store.records(run_id, "side_effects")
    assert [e["kind"] for e in effects] == [kind] * len(STEPS)  # one record per execution, none twice
    if kind == "code":
        assert len(store.records(run_id, "code_executions")) == len(STEPS)
    else:
        assert [c["arguments"] for c in store.records(run_id, "tool_calls")] == [f'{{"line": "{s}"}}' for s in STEPS]
    assert store.get_run(run_id).status == "finished"
    store.close()
