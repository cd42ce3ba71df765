"""``parley runs`` as a real command on a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import parley
from parley.store import RunStore

from .test_store import pair


def parley_runs(*args: str, store: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "parley.cli", "runs", "--store", store, *args],
                          capture_output=True, text=True, env=env, timeout=60)


def test_list_show_and_export(tmp_path):
    db = str(tmp_path / "runs.db")
    a, b = pair()
    with RunStore(db) as store:
        a.initiate_chat(b, message="the question", silent=True)
        [run] = store.list_runs()
    listed = parley_runs("list", store=db)
    assert listed.returncode == 0, listed.stderr
    assert run.id[:8] in listed.stdout and "finished" in listed.stdout and "alice → bob" in listed.stdout
    assert "the question" in listed.stdout

    shown = parley_runs("show", run.id[:6], store=db)
    assert shown.returncode == 0, shown.stderr
    assert run.id in shown.stdout and "Transcript" in shown.stdout and "B 2" in shown.stdout

    exported = parley_runs("export", run.id, "--format", "json", store=db)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["run"]["id"] == run.id and len(data["messages"]) == run.messages

    markdown = tmp_path / "run.md"
    written = parley_runs("export", run.id, "--format", "md", "-o", str(markdown), store=db)
    assert written.returncode == 0, written.stderr
    assert markdown.read_text().startswith(f"# Run {run.id}")


def test_errors_are_one_clear_line(tmp_path):
    db = str(tmp_path / "runs.db")
    RunStore(db).close()
    missing = parley_runs("show", "does-not-exist", store=db)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"parley runs: no run with id 'does-not-exist' in RunStore('sqlite:///{db}')"
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage" * 100)
    broken = parley_runs("list", store=str(corrupt))
    assert broken.returncode == 2 and "file is not a database" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_the_demo_records_its_run_for_parley_runs(tmp_path):
    db = str(tmp_path / "demo runs.db")  # a space: the printed command quotes it
    demo = subprocess.run([sys.executable, "-m", "parley.cli", "demo", "--model", "scripted", "--store", db,
                           "--work-dir", str(tmp_path / "coding")], capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    [run] = RunStore(db).list_runs()
    assert f"Recorded as run {run.id[:8]}: parley runs --store '{db}' show {run.id[:8]}" in demo.stdout
    shown = parley_runs("show", run.id[:8], store=db)
    assert shown.returncode == 0, shown.stderr
    assert "user_proxy → assistant" in shown.stdout and "execution succeeded" in shown.stdout


def test_reading_a_store_that_does_not_exist_is_a_clear_error_and_creates_no_file(tmp_path):
    db = tmp_path / "nothing here" / "runs.db"
    for args in (("list",), ("show", "abcd1234"), ("export", "abcd1234")):
        result = parley_runs(*args, store=str(db))
        assert result.returncode == 2, result
        assert result.stderr.strip() == (f"parley runs: no run store at {str(db)!r}: nothing has been recorded there "
                                         "(give the store with --store or $PARLEY_STORE_URL)")
        assert not db.exists() and not db.parent.exists()
    env = {k: v for k, v in os.environ.items() if k != "PARLEY_STORE_URL"}  # the default store, .parley/runs.db
    env["PYTHONPATH"] = os.pathsep.join([str(Path(parley.__file__).parents[1]), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-m", "parley.cli", "runs", "list"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 2 and "no run store at" in result.stderr
    assert not (tmp_path / ".parley").exists()
