"""parley's exceptions, one tree under ``ParleyError``.

    ParleyError
    ├── ConfigError (ValueError)        a bad llm_config / config-list entry (models: ModelConfigError …)
    ├── ModelError (RuntimeError)       a model call failed (models: TransientModelError, ContextOverflowError)
    ├── ExecutionError (RuntimeError)   code cannot be run here (code: ExecutorSetupError …)
    ├── StoreError                      the run store cannot be used
    │   ├── RunNotFoundError (KeyError)
    │   └── ResumeError                 a run cannot be resumed
    └── the conversation errors below (UsageError, AgentNameConflict, …)

Code classifies errors by these types (``except ModelError``), never by type-name strings. Each
also derives from the built-in type parley raised before (``ValueError``, ``RuntimeError``), so
``except ValueError`` keeps working, and the conversation errors carry classic AutoGen's names so
that ``from autogen.exception_utils import AgentNameConflict`` code catches what parley raises.
"""

from __future__ import annotations


class ParleyError(Exception):
    """Base of the exceptions parley raises about conversations and teams."""


class ConfigError(ParleyError, ValueError):
    """A configuration is invalid; the message names the field and the fix."""


class ModelError(ParleyError, RuntimeError):
    """A model call failed in a way that retrying will not fix (bad request, refusal, bad config)."""


class ExecutionError(ParleyError, RuntimeError):
    """Code cannot be executed as configured; the message names the problem and the fix."""


class StoreError(ParleyError):
    """The store cannot be used: a bad URL, a database that cannot be reached or is not ours."""


class RunNotFoundError(StoreError, KeyError):
    """No run has this id."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class ResumeError(StoreError):
    """A run cannot be resumed: it is finished, still running, or the agents do not match it."""


class UsageError(ParleyError, ValueError, AssertionError):
    """A call that cannot work as made: a required argument or setting is missing.

    Classic AutoGen raised ``AssertionError`` in these places, so this is one too.
    """


class AgentNameConflict(ParleyError, ValueError):
    """Several agents of a group chat (or of its nested teams) have the name looked up."""

    def __init__(self, msg: str = "Found multiple agents with the same name.") -> None:
        super().__init__(msg)


class NoEligibleSpeaker(ParleyError):
    """No agent may speak next: the group chat ends (the manager catches it)."""

    def __init__(self, message: str = "No eligible speakers.") -> None:
        self.message = message
        super().__init__(message)


class SenderRequired(ParleyError, ValueError):
    """A reply function needs to know who sent the messages, and no sender was given."""

    def __init__(self, message: str = "Sender is required but not provided.") -> None:
        self.message = message
        super().__init__(message)


class InvalidCarryOverType(ParleyError, TypeError):
    """A chat's ``carryover`` is neither a str nor a list of str / messages."""

    def __init__(
        self, message: str = "Carryover should be a string or a list of strings. Not adding carryover to the message.",
    ) -> None:
        self.message = message
        super().__init__(message)


class UndefinedNextAgent(ParleyError, ValueError):
    """The candidate agents given for the next speaker are none of the group chat's agents."""

    def __init__(self, message: str = "The provided agents list does not overlap with agents in the group.") -> None:
        self.message = message
        super().__init__(message)


class ModelToolNotSupportedError(ParleyError):
    """A tool (or function) call was sent to a model whose API does not support tools."""

    def __init__(self, model: str) -> None:
        self.message = f"Tools are not supported with {model} models. Refer to the documentation at https://platform.openai.com/docs/guides/reasoning#limitations"
        super().__init__(self.message)


__all__ = [
    "AgentNameConflict",
    "ConfigError",
    "ExecutionError",
    "InvalidCarryOverType",
    "ModelError",
    "ModelToolNotSupportedError",
    "NoEligibleSpeaker",
    "ParleyError",
    "ResumeError",
    "RunNotFoundError",
    "SenderRequired",
    "StoreError",
    "UndefinedNextAgent",
    "UsageError",
]
