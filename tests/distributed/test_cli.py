"""parley run SPEC --tasks tasks.jsonl [--ray [ADDRESS]] --out results.jsonl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from parley.cli import main

from .conftest import team_document

SRC = str(Path(__file__).resolve().parents[2] / "src")


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "team.yaml"
    spec.write_text(yaml.safe_dump(team_document()))
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('"first"\n{"task": "second"}\n\n"please refuse"\n')
    return spec, tasks


def test_tasks_in_process_to_a_results_file(fake_openai, tmp_path, capsys):
    spec, tasks = write_inputs(tmp_path)
    out = tmp_path / "results.jsonl"
    code = main(["run", str(spec), "--tasks", str(tasks), "--out", str(out), "--store", str(tmp_path / "runs.db")])
    assert code == 1  # one chat failed
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in results] == ["finished", "finished", "failed"]
    assert [r["summary"] for r in results[:2]] == ["done: Task: first (turn 2)", "done: Task: second (turn 2)"]
    assert "refused by policy" in results[2]["error"]
    assert "2 of 3 chats finished" in capsys.readouterr().err


def test_a_bad_tasks_line_names_the_line(tmp_path, capsys):
    spec, tasks = write_inputs(tmp_path)
    tasks.write_text('"ok"\n[1, 2]\n')
    assert main(["run", str(spec), "--tasks", str(tasks), "--store", str(tmp_path / "runs.db")]) == 1
    assert "line 2" in capsys.readouterr().err


def test_tasks_on_ray_from_the_command_line(ray_head, fake_openai, tmp_path):
    spec, tasks = write_inputs(tmp_path)
    out = tmp_path / "results.jsonl"
    done = subprocess.run([sys.executable, "-m", "parley.cli", "run", str(spec), "--tasks", str(tasks), "--ray",
                           "--out", str(out), "--store", str(tmp_path / "runs.db")],
                          env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["summary"] for r in results[:2]] == ["done: Task: first (turn 2)", "done: Task: second (turn 2)"]
    assert results[2]["status"] == "failed"
    assert "sk-fake-key" not in out.read_text() + done.stderr + done.stdout


@pytest.mark.parametrize("flag", [["--ray"], ["--out", "x.jsonl"]])
def test_ray_and_out_need_tasks(tmp_path, capsys, flag):
    spec, _ = write_inputs(tmp_path)
    assert main(["run", str(spec), *flag, "--store", str(tmp_path / "runs.db")]) == 1
    assert "--tasks" in capsys.readouterr().err
