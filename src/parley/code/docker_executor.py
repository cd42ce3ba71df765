"""Running code in a Docker container (through the Docker SDK), with ``work_dir`` mounted.

One container per executor, started on creation with ``work_dir`` at ``/workspace``; each block
runs in it with ``docker exec`` under coreutils ``timeout``.
"""

from __future__ import annotations

import functools
import os
import uuid
import weakref
from pathlib import Path

from parley.code.base import DEFAULT_MAX_OUTPUT_BYTES, WORKING_DIR, ExecutorSetupError
from parley.code.commandline import SHELL_PROGRAMS, TIMEOUT_EXIT_CODE, TIMEOUT_MSG, CommandLineCodeExecutor
from parley.code.output import BoundedOutput

DEFAULT_IMAGE = "python:3-slim"
_CONTAINER_WORK_DIR = "/workspace"


def _docker_sdk():
    try:
        import docker
    except ImportError:
        raise ExecutorSetupError("the Docker executor needs the Docker SDK. Fix: pip install 'parley[docker]'.") from None
    return docker


@functools.cache
def docker_engine_answers() -> bool:
    """Whether a Docker engine answers a ping (checked once per process)."""
    try:
        docker = _docker_sdk()
        docker.from_env(timeout=5).ping()
    except Exception:  # no SDK, no socket, engine down, no permission: all mean "not usable"
        return False
    return True


def _stop_container(container) -> None:
    try:
        container.stop(timeout=1)
    except Exception:  # already gone
        pass


class DockerCommandLineCodeExecutor(CommandLineCodeExecutor):
    """Runs each block in a long-lived container of ``image``."""

    executor_name = "docker"

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        container_name: str | None = None,
        timeout: float = 60,
        work_dir: str | os.PathLike = Path(WORKING_DIR),
        auto_remove: bool = True,
        stop_container: bool = True,
        *,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        """
        Args:
            image: the image to run code in (pulled when missing).
            container_name: name for the container (default: a random ``parley-exec-...``).
            timeout: seconds a block may run; then it is killed (exit code 124).
            work_dir: host directory mounted at /workspace, where the code runs (default: a dedicated
                ``parley-work`` folder under the current directory, never the current directory itself).
            auto_remove: remove the container when it stops.
            stop_container: stop the container when this executor is garbage-collected or at exit.
            max_output_bytes: output beyond this is cut from the middle, with a marker.
        """
        docker = _docker_sdk()
        super().__init__(work_dir, timeout, max_output_bytes)
        try:
            self._client = docker.from_env()
            self._client.ping()
        except docker.errors.DockerException as exc:
            raise ExecutorSetupError(
                f"no Docker engine answers ({exc}). Fix: start Docker, or set use_docker=False "
                "(or executor='sandbox') in code_execution_config."
            ) from None
        try:
            self._client.images.get(image)
        except docker.errors.ImageNotFound:
            self._client.images.pull(image)
        self.image = image
        self._container = self._client.containers.create(
            image,
            name=container_name or f"parley-exec-{uuid.uuid4().hex[:12]}",
            entrypoint="/bin/sh",
            tty=True,
            detach=True,
            auto_remove=auto_remove,
            volumes={str(self.work_dir): {"bind": _CONTAINER_WORK_DIR, "mode": "rw"}},
            working_dir=_CONTAINER_WORK_DIR,
        )
        self._container.start()
        self._finalizer = weakref.finalize(self, _stop_container, self._container) if stop_container else None

    def _run_file(self, lang: str, path) -> tuple[int, str]:
        program = "python" if lang == "python" else SHELL_PROGRAMS[lang]
        in_container = f"{_CONTAINER_WORK_DIR}/{Path(path).relative_to(self.work_dir).as_posix()}"
        api = self._client.api
        exec_id = api.exec_create(
            self._container.id,
            ["timeout", "--kill-after=1", str(self.timeout), program, in_container],
            workdir=_CONTAINER_WORK_DIR,
        )["Id"]
        output = BoundedOutput(self.max_output_bytes)
        for chunk in api.exec_start(exec_id, stream=True):
            output.write(chunk)
        exit_code = api.exec_inspect(exec_id)["ExitCode"]
        text = output.text()
        if exit_code == TIMEOUT_EXIT_CODE:
            text += ("" if not text or text.endswith("\n") else "\n") + TIMEOUT_MSG
        return exit_code, text

    def restart(self) -> None:
        """Restart the container (processes it ran are stopped; files in work_dir stay)."""
        self._container.restart()

    def stop(self) -> None:
        """Stop the container."""
        if self._finalizer is not None:
            self._finalizer()
        else:
            _stop_container(self._container)
