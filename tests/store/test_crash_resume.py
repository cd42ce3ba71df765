"""Crash tests with real processes: start a run in a subprocess, kill -9 it at a random point,
resume it in another process, and compare with an uninterrupted run of the same chat."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import parley
from parley import events
from parley.store import ResumeError, RunStore

from . import chat_child

CHILD = str(Path(chat_child.__file__))


def reference_transcript(variant: str, answers: list[str] = ()) -> list[tuple]:
    """The transcript of the same chat run once, uninterrupted, in this process."""
    a, b = chat_child.agents(variant)
    with events.capture(kinds=(events.MessageSent,)) as seen, parley.io.set_default(parley.IOQueue(list(answers) + ["exit"])):
        chat_child.start(a, b, variant)
    return [(e.sender, e.recipient, e.message) for e in seen.events]


def stored_transcript(store: RunStore, run_id: str) -> list[tuple]:
    return [(m.sender, m.recipient, m.message) for m in store.messages(run_id)]


def message_count(url: str, run_id: str, store: RunStore | None = None) -> int:
    """How many of the run's messages are stored (-1: the run is not there yet); ``store``: an
    open one to read with (a poll loop's: opening a store per poll is slow in a busy process)."""
    reader = store or RunStore(url)
    try:
        return reader.get_run(run_id).messages
    except KeyError:
        return -1
    finally:
        if store is None:
            reader.close()


def run_child(*args: str, stdin=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, CHILD, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_when(child: subprocess.Popen, url: str, run_id: str, at_messages: int, timeout: float = 30.0) -> int:
    """SIGKILL the child once the store holds at least ``at_messages`` messages of the run."""
    deadline = time.monotonic() + timeout
    store = RunStore(url)
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if message_count(url, run_id, store) >= at_messages:
                break
            time.sleep(0.005)
    finally:
        store.close()
    assert child.poll() is None, f"the run ended before the kill point ({at_messages} messages): {child.stderr.read().decode()[-2000:]}"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    return message_count(url, run_id)


@pytest.mark.slow
@pytest.mark.parametrize("variant, seed", [("free", 1), ("free", 2), ("turns", 3), ("turns", 4), ("group", 5), ("group", 6),
                                           ("group_turns", 11), ("group_turns", 12)])
def test_kill_9_then_resume_gives_the_uninterrupted_transcript(tmp_path, variant, seed):
    expected = reference_transcript(variant)
    kill_at = random.Random(seed).randrange(0, len(expected) // 2)  # well before the end, batches being 200 ms
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = str(uuid.uuid4())
    child = run_child("run", url, run_id, variant)
    stored_at_kill = kill_when(child, url, run_id, kill_at)
    assert child.returncode == -signal.SIGKILL
    store = RunStore(url)
    info = store.get_run(run_id)
    assert info.status == "running"  # nothing recorded its end: it was killed
    assert 0 <= stored_at_kill < len(expected), (kill_at, stored_at_kill)
    assert stored_transcript(store, run_id) == expected[:stored_at_kill]

    resumed = subprocess.run([sys.executable, CHILD, "resume", url, run_id, variant], capture_output=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    transcript = stored_transcript(store, run_id)
    assert len(transcript) == len(expected), f"killed at {stored_at_kill} messages; {len(transcript)} stored, {len(expected)} expected"
    assert transcript == expected
    finished = store.get_run(run_id)
    assert finished.status == "finished"
    if variant == "group":  # one speaker selection per round, none twice; the last one (critic) declined
        rounds = [s["round"] for s in store.records(run_id, "speaker_selections")]
        assert rounds == list(range(1, sum(1 for m in expected if m[0] != "chat_manager") + 1))
    assert finished.reason == ("max_turns" if variant in ("turns", "group_turns") else "completed")
    with pytest.raises(ResumeError, match="is finished"):
        store.resume(run_id, list(chat_child.agents(variant)))
    assert stored_transcript(store, run_id) == expected  # the refusal left the store untouched
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 8, 9, 10])
def test_sequential_chats_killed_mid_run_are_resumed_with_their_carryover(tmp_path, seed):
    a, b = chat_child.agents("sequence")
    with events.capture(kinds=(events.MessageSent,)) as seen:
        results = chat_child.start(a, b, "sequence")
    expected = [(e.sender, e.recipient, e.message) for e in seen.events]
    assert len(expected) == 120 and "Context: \n" in expected[40][2]["content"]  # chat 2 opens with chat 1's summary
    kill_at = random.Random(seed).randrange(0, 80)  # in the first or the second chat
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = str(uuid.uuid4())
    child = run_child("run", url, run_id, "sequence")
    stored_at_kill = kill_when(child, url, run_id, kill_at)
    assert child.returncode == -signal.SIGKILL
    store = RunStore(url)
    assert store.get_run(run_id).status == "running"
    assert stored_transcript(store, run_id) == expected[:stored_at_kill]

    resumed = subprocess.run([sys.executable, CHILD, "resume", url, run_id, "sequence"], capture_output=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    assert stored_transcript(store, run_id) == expected, f"killed at {stored_at_kill} messages"
    assert resumed.stdout.decode().splitlines() == [r.summary for r in results]  # the results of all three chats
    info = store.get_run(run_id)
    assert (info.status, info.kind) == ("finished", "sequential")
    chats = [c for c in store.records(run_id, "chats") if c["parent_id"] is None]
    assert [(c["sender"], c["recipient"], c["status"]) for c in chats] == [
        ("a", "b", "finished"), ("a", "c", "finished"), ("b", "c", "finished")]
    with pytest.raises(ResumeError, match="is finished"):
        store.resume(run_id, chat_queue=chat_child.chat_queue(*chat_child.agents("sequence")))
    store.close()


@pytest.mark.slow
def test_a_run_waiting_for_human_input_is_resumed_in_another_process_with_the_answer(tmp_path):
    answers = ["first answer", "second answer", "third answer", "fourth answer", "fifth answer"]
    expected = reference_transcript("human", answers)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = str(uuid.uuid4())
    child = run_child("run", url, run_id, "human", stdin=subprocess.PIPE)
    child.stdin.write(("\n".join(answers[:3]) + "\n").encode())
    child.stdin.flush()
    store = RunStore(url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests = [h for h in store.records(run_id, "human_inputs") if h["kind"] == "request"]
        except KeyError:
            requests = []
        if len(requests) == 4:
            break
        time.sleep(0.02)
    info = store.get_run(run_id)
    assert info.status == "waiting_input", info
    child.send_signal(signal.SIGKILL)  # nobody answers: the process is stopped while it waits
    child.wait(10)
    assert stored_transcript(store, run_id) == expected[:8]  # 3 answers given, the 4th question pending

    resumed = subprocess.run([sys.executable, CHILD, "resume", url, run_id, "human", *answers[3:]], capture_output=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    assert stored_transcript(store, run_id) == expected
    replies = [h["text"] for h in store.records(run_id, "human_inputs") if h["kind"] == "reply"]
    assert replies == answers + ["exit"]
    assert store.get_run(run_id).status == "finished"
    store.close()


@pytest.mark.slow
def test_a_group_chat_waiting_for_a_participants_human_input_is_resumed_in_another_process(tmp_path):
    answers = ["first answer", "second answer", "third answer"]  # the user's turns: rounds 3, 6, 9
    expected = reference_transcript("group_human", answers)
    assert [m[2]["content"] for m in expected if m[0] == "user"][1:] == answers
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = str(uuid.uuid4())
    child = run_child("run", url, run_id, "group_human", stdin=subprocess.PIPE)
    child.stdin.write(("\n".join(answers[:2]) + "\n").encode())
    child.stdin.flush()
    store = RunStore(url)
    deadline = time.monotonic() + 30
    requests: list = []
    while len(requests) < 3 and time.monotonic() < deadline:
        try:
            requests = [h for h in store.records(run_id, "human_inputs") if h["kind"] == "request"]
        except KeyError:
            pass
        time.sleep(0.02)
    assert store.get_run(run_id).status == "waiting_input"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert stored_transcript(store, run_id) == expected[:9]  # up to the coder's round-8 message

    resumed = subprocess.run([sys.executable, CHILD, "resume", url, run_id, "group_human", answers[2]], capture_output=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    assert stored_transcript(store, run_id) == expected
    assert [h["text"] for h in store.records(run_id, "human_inputs") if h["kind"] == "reply"] == answers
    assert store.get_run(run_id).status == "finished"
    store.close()


def test_resume_refuses_a_run_still_running_in_a_live_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id = str(uuid.uuid4())
    child = run_child("run", url, run_id, "human", stdin=subprocess.PIPE)  # blocks on the first question
    try:
        store = RunStore(url)
        deadline = time.monotonic() + 30
        while message_count(url, run_id) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(ResumeError, match=f"still running in process {child.pid}"):
            store.resume(run_id, list(chat_child.agents("human")))
        store.close()
    finally:
        child.kill()
        child.wait(10)
