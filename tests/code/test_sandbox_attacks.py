"""The sandbox attack suite (issue 14): every attack in ``sandbox_attacks.py``, as root here and as
an unprivileged user in a child process, straight through the executor and through the agent path."""

import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.code.sandbox_attacks import ATTACKS, AttackSkipped, run_attack

UNPRIVILEGED_PYTHON = "/usr/bin/python3"  # the venv's interpreter may sit under /root (mode 0700)


def test_the_suite_is_big_enough():
    assert len({attack.name for attack in ATTACKS}) == len(ATTACKS) >= 30


@pytest.mark.parametrize("path", ["direct", "agent"])
@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_leaves_the_host_unaffected(attack, path, tmp_path):
    try:
        run_attack(attack, path, tmp_path)
    except AttackSkipped as exc:
        pytest.skip(str(exc))


def _unprivileged_runner_problem() -> str | None:
    if os.geteuid() != 0:
        return None  # already unprivileged: the parametrized tests above are that run
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    if not os.access(UNPRIVILEGED_PYTHON, os.X_OK):
        return f"{UNPRIVILEGED_PYTHON} is missing"
    probe = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", UNPRIVILEGED_PYTHON, "-c",
         "import sys; sys.path.insert(0, 'src'); import parley.agents.user_proxy, parley.code.seccomp_filter as s; s.seccomp_program()"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=60, check=False,
    )
    if probe.returncode != 0:
        return f"parley does not import for nobody with {UNPRIVILEGED_PYTHON}: {probe.stderr.strip()[-300:]}"
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="already running unprivileged: the tests above cover it")
def test_every_attack_as_an_unprivileged_user():
    problem = _unprivileged_runner_problem()
    if problem:
        pytest.skip(f"cannot run the suite as an unprivileged user here: {problem}")
    nobody = pwd.getpwnam("nobody")
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
         UNPRIVILEGED_PYTHON, str(Path(__file__).with_name("sandbox_attacks.py"))],
        cwd="/tmp", env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": str(repo)},
        capture_output=True, text=True, timeout=1200, check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["uid"] == nobody.pw_uid
    # Disk attacks need a tmpfs mounted as root: skipped for nobody, with the reason.
    failures = {name: outcome for name, outcome in report["results"].items()
                if outcome != "ok" and not outcome.startswith("skipped: needs root")}
    assert len(report["results"]) == 2 * len(ATTACKS)
    assert not failures, json.dumps(failures, indent=1)
