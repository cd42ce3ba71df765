"""The sync facade in a forked child: it gets its own event loop and worker threads."""

import subprocess
import sys
import textwrap

CHILD_PROGRAM = textwrap.dedent(
    """
    import asyncio, os, sys
    from parley import _sync

    async def loop_id():
        return id(asyncio.get_running_loop())

    async def nested():
        # A sync call made while a loop runs goes to a worker thread.
        return _sync.run_sync(loop_id())

    parent_loop = _sync.run_sync(loop_id())
    _sync.run_sync(nested())  # the parent now has a worker pool with a live thread
    pid = os.fork()
    if pid == 0:
        child_loop = _sync.run_sync(loop_id())
        _sync.run_sync(nested())  # would wait forever on the parent's pool
        os._exit(0 if child_loop != parent_loop else 3)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


def test_a_forked_child_runs_sync_calls_on_its_own_loop_and_threads():
    result = subprocess.run([sys.executable, "-c", CHILD_PROGRAM], timeout=60, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
