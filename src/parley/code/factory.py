"""From a classic ``code_execution_config`` dict to an executor.

Keys: ``work_dir``, ``use_docker``, ``timeout``, ``last_n_messages`` (read by the agent),
``executor`` (an executor, or a name: local, sandbox, jupyter, docker, or the classic
commandline-local / commandline-docker / ipython-embedded / jupyter-local), ``max_output_bytes``,
and options for the named executor under its name (``{"executor": "sandbox", "sandbox": {...}}``).

``use_docker=False`` runs code on this machine, as asked. Otherwise parley never falls back
silently to unsandboxed execution: Docker when an engine answers, else the bubblewrap sandbox,
else an error that says how to choose.
"""

from __future__ import annotations

import os
import threading

from parley import events
from parley.code.base import (
    DEFAULT_MAX_OUTPUT_BYTES,
    WORKING_DIR,
    CodeExecutor,
    ExecutorSetupError,
    prepare_work_dir,
)

# Classic `execute_code` waited 600 s by default (the executor classes default to 60 s).
DEFAULT_TIMEOUT = 600

_KNOWN_KEYS = {"work_dir", "use_docker", "timeout", "last_n_messages", "executor", "max_output_bytes"}
_EXECUTOR_NAMES = {
    "local": "local",
    "commandline-local": "local",
    "sandbox": "sandbox",
    "jupyter": "jupyter",
    "jupyter-local": "jupyter",
    "ipython-embedded": "jupyter",
    "docker": "docker",
    "commandline-docker": "docker",
}

_cache: dict[str, CodeExecutor] = {}
_cache_lock = threading.Lock()


def executor_from_config(config: dict) -> CodeExecutor:
    """The executor a ``code_execution_config`` asks for (the same object for the same config)."""
    if not isinstance(config, dict):
        raise TypeError(f"code_execution_config must be a dict (or False), not {type(config).__name__}")
    executor = config.get("executor")
    if executor is not None and not isinstance(executor, str):
        if isinstance(executor, CodeExecutor):
            return executor
        raise ValueError(
            f"code_execution_config['executor'] must be a code executor or one of {sorted(_EXECUTOR_NAMES)}, got {executor!r}"
        )
    option_key = executor if isinstance(executor, str) else None
    unknown = set(config) - _KNOWN_KEYS - {option_key}
    if unknown:
        raise ValueError(
            f"unknown code_execution_config key(s) {sorted(unknown)}; known keys: {sorted(_KNOWN_KEYS)}"
            + (" (executor options go under the executor's name)" if executor else "")
        )
    # A relative work_dir means a different directory after a chdir, hence the cwd in the key.
    key = repr(sorted((k, v) for k, v in config.items() if k != "last_n_messages")) + "|" + os.getcwd()
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _build(config, executor)
        return _cache[key]


def _build(config: dict, executor_name: str | None) -> CodeExecutor:
    common = {
        "work_dir": config.get("work_dir") or WORKING_DIR,
        "timeout": config.get("timeout") or DEFAULT_TIMEOUT,
        "max_output_bytes": config.get("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES),
    }
    if not isinstance(common["work_dir"], (str, os.PathLike)):
        raise ValueError(f"code_execution_config['work_dir'] must be a path, got {common['work_dir']!r}")
    timeout = common["timeout"]
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"code_execution_config['timeout'] must be a positive number of seconds, got {timeout!r}")
    use_docker = config.get("use_docker")
    if executor_name is not None:
        kind = _EXECUTOR_NAMES.get(executor_name)
        if kind is None:
            raise ValueError(
                f"code_execution_config['executor'] {executor_name!r} is not known; choose one of {sorted(_EXECUTOR_NAMES)}"
            )
        options = config.get(executor_name, {})
        if not isinstance(options, dict):
            raise ValueError(f"code_execution_config[{executor_name!r}] must be a dict of executor options")
        return _make(kind, {**common, **options}, use_docker)
    if use_docker is False:
        return _make("local", common, use_docker)
    if not (use_docker is None or use_docker is True or isinstance(use_docker, (str, list, tuple))):
        raise ValueError(
            f"code_execution_config['use_docker'] must be True, False, an image name or a list of images, got {use_docker!r}"
        )
    from parley.code.docker_executor import docker_engine_answers

    if docker_engine_answers():
        return _make("docker", common, use_docker)
    try:
        executor = _make("sandbox", common, use_docker)
    except ExecutorSetupError as exc:
        raise ExecutorSetupError(
            "code execution needs an isolated place to run, and none is available: no Docker engine answers, "
            f"and the bubblewrap sandbox cannot be used ({exc}). Choose one: start a Docker engine; or install "
            "bubblewrap (apt-get install bubblewrap); or, to run model-written code on this machine without "
            "isolation, set code_execution_config={'use_docker': False, ...}."
        ) from None
    events.emit(events.Notice(text="No Docker engine answers: running code in the bubblewrap sandbox instead.", level="info"))
    return executor


def _make(kind: str, options: dict, use_docker) -> CodeExecutor:
    if kind == "local":
        from parley.code.local import LocalCommandLineCodeExecutor

        # Parents made too (classic's legacy path made them); absolute, as the other executors report it.
        options = {**options, "work_dir": prepare_work_dir(options["work_dir"])}
        return LocalCommandLineCodeExecutor(**options)
    if kind == "sandbox":
        from parley.code.sandbox import SandboxCodeExecutor

        return SandboxCodeExecutor(**options)
    if kind == "jupyter":
        from parley.code.jupyter_executor import JupyterCodeExecutor

        return JupyterCodeExecutor(**options)
    from parley.code.docker_executor import DockerCommandLineCodeExecutor

    if isinstance(use_docker, str) and "image" not in options:
        options = {**options, "image": use_docker}
    elif isinstance(use_docker, (list, tuple)) and use_docker and "image" not in options:
        options = {**options, "image": use_docker[0]}
    return DockerCommandLineCodeExecutor(**options)
