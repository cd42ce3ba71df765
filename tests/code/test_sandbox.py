"""The bubblewrap sandbox, attacked for real: each attempt is contained and the host unaffected."""

import os
import resource
import socket
import threading
import time
from pathlib import Path

import pytest

from parley.code import CodeBlock, ExecutorSetupError, SandboxCodeExecutor

SECRET = "sk-parley-test-secret-0123456789"


def count_processes(marker: str, exclude: frozenset[int] = frozenset()) -> int:
    """Processes whose command line holds ``marker`` (a sandbox's work_dir path): other work on the
    machine must not make the test flaky. ``exclude``: the executor's spare sandbox, waiting."""
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                count += marker.encode() in cmdline.read()
        except OSError:
            continue
    return count


@pytest.fixture
def host(tmp_path):
    """Host files the sandbox must not read, change or delete: a fake home with a canary and a secret."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "canary.txt").write_text("still here")
    (home / ".env").write_text(f"OPENAI_API_KEY={SECRET}\n")
    return home


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # set before the executor exists: it must still not leak
    return SandboxCodeExecutor(work_dir=tmp_path / "work", timeout=20, memory_limit_mb=512, max_processes=32)


def run(executor, code, lang="python"):
    return executor.execute_code_blocks([CodeBlock(code, lang)])


def test_runs_code_and_writes_only_in_work_dir(sandbox):
    result = run(sandbox, "import os\nopen('out.txt', 'w').write('ok')\nprint(os.getcwd())")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(sandbox.work_dir)
    assert (sandbox.work_dir / "out.txt").read_text() == "ok"


def test_cannot_read_files_outside_work_dir(sandbox, host):
    code = f"""
for path in [{str(host / '.env')!r}, '/etc/shadow', {str(Path.home() / '.bashrc')!r}, '/proc/1/environ']:
    try:
        print(path, open(path).read())
    except OSError as exc:
        print(path, 'blocked:', type(exc).__name__)
"""
    result = run(sandbox, code)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert result.output.count("blocked:") == 3
    # /proc/1 is the sandbox's own init (bwrap), whose environment is the scrubbed one.
    assert "/proc/1/environ " in result.output and "LANG=C.UTF-8" in result.output


def test_cannot_write_outside_work_dir(sandbox, host, tmp_path):
    code = f"""
for path in [{str(host / 'canary.txt')!r}, {str(tmp_path / 'new.txt')!r}, '/usr/evil.txt', {str(Path.home() / 'evil.txt')!r}]:
    try:
        open(path, 'w').write('pwned')
        print(path, 'written')
    except OSError as exc:
        print(path, 'blocked:', type(exc).__name__)
open('/tmp/private.txt', 'w').write('private /tmp only')
"""
    result = run(sandbox, code)
    assert result.exit_code == 0, result.output
    # work_dir's parents inside the sandbox lie in its private /tmp: writable there, gone afterwards.
    assert result.output.count("written") == (1 if str(tmp_path).startswith("/tmp/") else 0)
    assert (host / "canary.txt").read_text() == "still here"
    assert not (tmp_path / "new.txt").exists()
    assert not Path("/usr/evil.txt").exists()
    assert not (Path.home() / "evil.txt").exists()
    assert not Path("/tmp/private.txt").exists()


def test_cannot_connect_to_a_service_on_host_loopback(sandbox):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    server.settimeout(0.2)

    def serve():
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not accepted:
            try:
                accepted.append(server.accept())
            except TimeoutError:
                pass

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        code = f"""
import socket, urllib.request
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=3)
    print('connected')
except OSError as exc:
    print('blocked:', type(exc).__name__)
try:
    urllib.request.urlopen('http://example.com', timeout=3)
    print('internet')
except OSError as exc:
    print('blocked:', type(exc).__name__)
"""
        result = run(sandbox, code)
        # The service itself is reachable from the host, so the sandbox's refusal means something.
        with socket.create_connection(("127.0.0.1", port), timeout=3):
            pass
        thread.join()
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    assert "connected" not in result.output and "internet" not in result.output
    assert result.output.count("blocked:") == 2
    assert len(accepted) == 1  # only the host's own connection arrived
    accepted[0][0].close()


def test_environment_holds_no_secrets(sandbox):
    result = run(sandbox, "import os\nprint(sorted(os.environ))\nprint(os.environ.get('OPENAI_API_KEY'))")
    assert result.exit_code == 0
    assert SECRET not in result.output
    assert "OPENAI_API_KEY" not in result.output
    shell = run(sandbox, "env; cat /proc/self/environ /proc/1/environ 2>/dev/null; exit 0", "sh")
    assert SECRET not in shell.output


def test_passing_a_variable_on_purpose(tmp_path):
    executor = SandboxCodeExecutor(work_dir=tmp_path, env={"GREETING": "hello"})
    assert run(executor, "echo $GREETING", "sh").output == "hello\n"


def test_fork_bomb_is_contained(sandbox):
    marker = str(sandbox.work_dir)
    before = count_processes(marker, sandbox.spare_pids())
    peak = [before]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], count_processes(marker))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    sandbox.timeout = 4
    try:
        result = run(sandbox, ":(){ :|:& };:\nsleep 2\necho survived", "bash")
    finally:
        done.set()
        watcher.join()
    assert "Resource temporarily unavailable" in result.output
    # At most max_processes (32) sandboxed processes existed at once, plus bwrap's own.
    assert peak[0] - before <= 32 + 8
    time.sleep(0.5)
    assert count_processes(marker, sandbox.spare_pids()) == before == 0  # none left behind
    assert run(sandbox, "print('next block runs')").output == "next block runs\n"


def test_every_limit_is_set_before_the_code_starts(sandbox):
    result = run(sandbox, "print(open('/proc/self/limits').read())")
    assert result.exit_code == 0, result.output
    limits = {line[:26].strip(): line[26:].split()[:2] for line in result.output.splitlines()[1:] if line.strip()}
    assert limits["Max address space"] == [str(512 * 2**20)] * 2
    assert limits["Max processes"] == ["32", "32"]
    assert limits["Max file size"] == [str(100 * 2**20)] * 2
    assert limits["Max core file size"] == ["0", "0"]
    cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if cpu_hard == resource.RLIM_INFINITY or cpu_hard >= 21:
        assert limits["Max cpu time"] == ["20", "21"]  # the timeout by default; SIGKILL a second after SIGXCPU
    else:  # this process has a lower hard limit (mutmut's runs do): the sandbox stays within it
        assert limits["Max cpu time"] == [str(cpu_hard - 1), str(cpu_hard)]


def test_memory_bomb_is_contained(sandbox):
    result = run(sandbox, "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))")
    assert result.exit_code == 1
    assert "MemoryError" in result.output


def test_infinite_loop_is_stopped_by_timeout(sandbox):
    sandbox.timeout = 2
    started = time.monotonic()
    result = run(sandbox, "print('spinning', flush=True)\nwhile True:\n    pass")
    assert result.exit_code == 124
    assert result.output == "spinning\nTimeout"
    assert time.monotonic() - started < 15


def test_cpu_time_limit(tmp_path):
    executor = SandboxCodeExecutor(work_dir=tmp_path, timeout=30, cpu_time_limit_s=1)
    result = run(executor, "while True:\n    pass")
    assert result.exit_code == 128 + 24
    assert "CPU time limit reached" in result.output


def test_file_size_limit(tmp_path):
    executor = SandboxCodeExecutor(work_dir=tmp_path, max_file_size_mb=1)
    result = run(executor, "head -c 5000000 /dev/zero > big.bin", "sh")
    assert result.exit_code != 0
    assert (tmp_path / "big.bin").stat().st_size <= 2**20


def test_100_mb_of_output_is_cut(sandbox):
    code = "import sys\nchunk = 'x' * 2**20\nfor _ in range(100):\n    sys.stdout.write(chunk)\nprint('THE END')"
    result = run(sandbox, code)
    assert result.exit_code == 0
    assert len(result.output) < sandbox.max_output_bytes + 200
    assert result.output.endswith("THE END\n")
    total = 100 * 2**20 + len("THE END\n")
    assert f"[... {total - sandbox.max_output_bytes} bytes of output cut ...]" in result.output


def test_rm_rf_home_is_contained(sandbox, host):
    (sandbox.work_dir / "keep.txt").write_text("work file")
    result = run(sandbox, f'rm -rf ~ "{host}" "{Path.home()}" 2>&1; ls ~ >/dev/null 2>&1; echo finished', "sh")
    assert "finished" in result.output
    assert (host / "canary.txt").read_text() == "still here"
    assert Path.home().is_dir() and any(Path.home().iterdir())


def test_host_processes_are_invisible_and_unkillable(sandbox):
    code = f"""
import os, signal
print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
for pid in ({os.getpid()}, {os.getppid()}):
    try:
        os.kill(pid, signal.SIGKILL)
        print(pid, 'signalled')
    except OSError as exc:
        print(pid, 'blocked:', type(exc).__name__)
"""
    result = run(sandbox, code)
    assert result.exit_code == 0, result.output
    # The sandbox's /proc shows its own PID namespace: bwrap's init, the code, nothing of the host's.
    visible = eval(result.output.splitlines()[0].removeprefix("pids "))
    assert visible and max(visible) < 10, visible
    assert os.getpid() not in visible and os.getppid() not in visible
    # The host's PIDs do not exist in there (not "permission denied": that would be a shared namespace).
    assert f"{os.getpid()} blocked: ProcessLookupError" in result.output
    assert f"{os.getppid()} blocked: ProcessLookupError" in result.output
    assert run(sandbox, "print('still working')").output == "still working\n"


def test_runs_as_the_calling_user_without_capabilities_and_with_seccomp(sandbox):
    result = run(sandbox, "import os\nprint(os.getuid())\nprint(open('/proc/self/status').read())")
    uid = int(result.output.split()[0])
    assert uid == os.geteuid()  # mapped to itself in a user namespace: files in work_dir keep their owner
    status = dict(line.split(":", 1) for line in result.output.splitlines()[1:] if ":" in line)
    assert int(status["CapEff"], 16) == int(status["CapPrm"], 16) == int(status["CapBnd"], 16) == 0
    assert status["NoNewPrivs"].strip() == "1"
    assert status["Seccomp"].strip() == "2"  # a filter is loaded


def test_bubblewrap_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    with pytest.raises(ExecutorSetupError, match=r"bubblewrap \(bwrap\) is not installed.*apt-get install bubblewrap.*use_docker=False"):
        SandboxCodeExecutor(work_dir=tmp_path / "w")


def test_missing_interpreter_is_a_clear_error(tmp_path):
    with pytest.raises(ExecutorSetupError, match=r"interpreter '/nonexistent/python3' not found.*python_executable"):
        SandboxCodeExecutor(work_dir=tmp_path, python_executable="/nonexistent/python3")


def _cgroup_writable() -> bool:
    from parley.code.cgroup import make_sandbox_cgroup

    group, _ = make_sandbox_cgroup(64 * 2**20, 8)
    if group is None:
        return False
    group.remove()
    return {"memory", "pids"} <= group.controllers


needs_cgroup = pytest.mark.skipif(not _cgroup_writable(), reason="no writable memory and pids cgroup here (unprivileged, or cgroups not delegated)")


@needs_cgroup
def test_memory_and_processes_are_limited_for_the_whole_sandbox(sandbox):
    group = sandbox.cgroup
    assert group is not None and {"memory", "pids"} <= group.controllers
    if group.version == 1:
        assert int((group.dirs["memory"] / "memory.limit_in_bytes").read_text()) == 512 * 2**20
        assert int((group.dirs["pids"] / "pids.max").read_text()) == 32 + 3  # bwrap's monitor, init, a spare sandbox
    else:
        assert int((group.dirs["unified"] / "memory.max").read_text()) == 512 * 2**20
    # Four processes of 200 MiB each: each under the per-process limit (512 MiB), together over the sandbox's.
    code = "import subprocess, sys\nhog = 'b = bytearray(200 * 2**20)\\nfor i in range(0, len(b), 4096): b[i] = 1\\nimport time; time.sleep(3)'\n" \
           "procs = [subprocess.Popen([sys.executable, '-c', hog]) for _ in range(4)]\nprint([p.wait() for p in procs])"
    result = run(sandbox, code)
    assert "-9" in result.output  # some were killed by the cgroup's OOM killer
    assert "(killed: the sandbox's memory limit of 512 MiB was reached)" in result.output
    assert run(sandbox, "print('next')").output == "next\n"


@needs_cgroup
def test_the_cgroup_goes_with_the_executor(tmp_path):
    import gc

    executor = SandboxCodeExecutor(work_dir=tmp_path)
    dirs = list(executor.cgroup.dirs.values())
    assert all(d.is_dir() for d in dirs)
    run(executor, "print(1)")
    del executor
    gc.collect()
    assert not any(d.exists() for d in dirs)


@needs_cgroup
def test_groups_left_by_a_killed_process_are_removed_by_the_next_executor(tmp_path):
    import subprocess
    import sys

    # A process killed before its clean-up ran leaves its empty groups behind.
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    executor = SandboxCodeExecutor(work_dir=tmp_path / "first")
    parents = {d.parent for d in executor.cgroup.dirs.values()}
    stale = [parent / f"parley-sandbox-{child.stdout.strip()}-deadbeef" for parent in parents]
    for group in stale:
        group.mkdir()
    in_use = list(executor.cgroup.dirs.values())  # this process is alive: its groups stay
    SandboxCodeExecutor(work_dir=tmp_path / "second")
    assert not any(group.exists() for group in stale)
    assert all(group.is_dir() for group in in_use)


def test_cgroup_v2_writes_the_limits_into_a_delegated_group(tmp_path):
    from parley.code.cgroup import _make_v2

    # A stand-in for a delegated cgroup v2 directory: what parley writes is what the kernel would read.
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    group = _make_v2(str(tmp_path), "", 300 * 2**20, 40, 1.5)
    (path,) = group.dirs.values()
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (path / "cpu.max").read_text() == "150000 100000"
    assert group.controllers == {"memory", "pids", "cpu"}
    assert (path / "memory.max").read_text() == str(300 * 2**20)
    assert (path / "pids.max").read_text() == "40"
    assert group.procs_files == [path / "cgroup.procs"]
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert group.oom_kills() == 2


def test_cgroup_v2_uses_the_nearest_ancestor_that_hands_out_controllers(tmp_path):
    from parley.code.cgroup import _make_v2

    # Like root on a systemd host: the own scope holds processes (enabling controllers there fails),
    # its slice has memory and pids enabled for its children.
    scope = tmp_path / "user.slice" / "session.scope"
    scope.mkdir(parents=True)
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    (tmp_path / "user.slice" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    (scope / "cgroup.controllers").write_text("cpu memory pids\n")
    (scope / "cgroup.subtree_control").mkdir()  # any write to it fails, as with EBUSY
    group = _make_v2(str(tmp_path), "/user.slice/session.scope", 300 * 2**20, 40, 0.5)
    (path,) = group.dirs.values()
    assert path.parent == tmp_path / "user.slice"
    assert (path / "pids.max").read_text() == "40"
    assert (path / "cpu.max").read_text() == "50000 100000"


def test_default_work_dir_is_a_dedicated_folder_not_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"KEY={SECRET}")
    mode, owner = tmp_path.stat().st_mode, tmp_path.stat().st_uid
    executor = SandboxCodeExecutor()
    assert executor.work_dir == tmp_path / "parley-work"
    result = run(executor, "cat ../.env .env 2>&1; echo end", "sh")
    assert SECRET not in result.output and result.output.endswith("end\n")
    # parley changes neither the owner nor the mode of a directory it did not create.
    assert (tmp_path.stat().st_mode, tmp_path.stat().st_uid) == (mode, owner)


def test_an_existing_work_dir_keeps_its_owner_and_mode(tmp_path):
    work = tmp_path / "mine"
    work.mkdir(mode=0o700)
    before = work.stat()
    executor = SandboxCodeExecutor(work_dir=work)
    assert run(executor, "open('f.txt', 'w').write('x')").exit_code == 0
    after = work.stat()
    assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)
    assert (work / "f.txt").stat().st_uid == os.geteuid()  # the code's files belong to the calling user


def test_the_seccomp_filter_missing_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    from parley.code import seccomp_filter

    real_import = builtins.__import__

    def no_bindings(name, *args, **kwargs):
        if name in ("seccomp", "pyseccomp"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    seccomp_filter.seccomp_program.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_bindings)
    try:
        with pytest.raises(ExecutorSetupError, match=r"seccomp filter needs libseccomp's Python bindings.*pip install pyseccomp"):
            SandboxCodeExecutor(work_dir=tmp_path)
    finally:
        monkeypatch.undo()
        seccomp_filter.seccomp_program.cache_clear()


@pytest.mark.parametrize("options, field", [
    ({"cpu_limit": 0}, "cpu_limit"), ({"cpu_limit": float("nan")}, "cpu_limit"), ({"cpu_limit": "1"}, "cpu_limit"),
    ({"cpu_limit": True}, "cpu_limit"), ({"work_dir_inode_quota": 0}, "work_dir_inode_quota"),
    ({"min_free_inodes": 1.5}, "min_free_inodes"),
])
def test_bad_limits_are_refused_naming_the_field(tmp_path, options, field):
    with pytest.raises(ValueError, match=field):
        SandboxCodeExecutor(work_dir=tmp_path, **options)


def test_the_cpu_quota_is_written_where_a_cpu_cgroup_can_be_made(tmp_path):
    executor = SandboxCodeExecutor(work_dir=tmp_path, cpu_limit=0.25)
    cgroup = executor.cgroup
    if cgroup is None or "cpu" not in cgroup.controllers:
        pytest.skip(f"no cgroup with the cpu controller here ({executor.cgroup_note})")
    if cgroup.version == 1:
        assert (cgroup.dirs["cpu"] / "cpu.cfs_quota_us").read_text().strip() == "25000"
        assert (cgroup.dirs["cpu"] / "cpu.cfs_period_us").read_text().strip() == "100000"
    else:
        assert (cgroup.dirs["unified"] / "cpu.max").read_text().split() == ["25000", "100000"]
    assert cgroup.cpu_seconds() is not None


def test_a_replaced_work_dir_path_is_refused_and_the_held_directory_is_used(tmp_path):
    work = tmp_path / "work"
    executor = SandboxCodeExecutor(work_dir=work)
    work.rename(tmp_path / "moved")
    (tmp_path / "elsewhere").mkdir()
    work.symlink_to(tmp_path / "elsewhere")
    result = run(executor, "print('ran')")
    assert result.exit_code == 1 and "was replaced since the executor was made" in result.output, result
    assert not list((tmp_path / "elsewhere").iterdir())
