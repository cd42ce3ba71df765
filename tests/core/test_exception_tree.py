"""One exception tree: every error parley raises on purpose is a ParleyError, classified by type."""

from __future__ import annotations

import asyncio

import pytest

import parley
from parley import errors
from parley.code import ExecutorSetupError
from parley.models.protocol import MissingPackageError, ModelConfigError, ModelError
from parley.models.retry import TransientModelError
from parley.store import ResumeError, RunNotFoundError, RunStore, StoreError


def test_the_tree():
    assert issubclass(ModelConfigError, errors.ConfigError) and issubclass(MissingPackageError, errors.ConfigError)
    assert ModelError is errors.ModelError and issubclass(TransientModelError, errors.ModelError)
    assert issubclass(ExecutorSetupError, errors.ExecutionError)
    assert StoreError is errors.StoreError and ResumeError is errors.ResumeError and RunNotFoundError is errors.RunNotFoundError
    for kind in (errors.ConfigError, errors.ModelError, errors.ExecutionError, errors.StoreError, errors.UsageError,
                 errors.AgentNameConflict, ResumeError, RunNotFoundError):
        assert issubclass(kind, errors.ParleyError), kind
    # The built-in types raised before still catch them.
    assert issubclass(errors.ConfigError, ValueError) and issubclass(errors.ModelError, RuntimeError)
    assert issubclass(RunNotFoundError, KeyError)


def test_a_bad_config_entry_is_a_config_error():
    with pytest.raises(errors.ConfigError, match="api_type"):
        parley.ConversableAgent("a", llm_config={"config_list": [{"model": "m", "api_type": "nonsense"}]}).generate_reply(
            messages=[{"role": "user", "content": "hi"}])


def test_an_unknown_run_is_a_store_error(tmp_path):
    with RunStore(f"sqlite:///{tmp_path}/runs.db") as store:
        with pytest.raises(errors.StoreError, match="no-such-run"):
            store.get_run("no-such-run")


def test_a_cancelled_run_is_classified_by_type(tmp_path):
    # RunContext reports a run left by cancellation as interrupted (asyncio.CancelledError by type).
    async def cancelled():
        with RunStore(f"sqlite:///{tmp_path}/runs.db") as store:
            try:
                with store.new_run() as run:
                    raise asyncio.CancelledError
            except asyncio.CancelledError:
                pass
            store.flush()
            return store.get_run(run.id).status

    assert asyncio.run(cancelled()) == "interrupted"
