"""``UserProxyAgent``: stands in for the human; asks them, and runs code it receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from .conversable import ConversableAgent

# Classic default ``{}``: code execution on, with default settings (read-only: a default is shared).
_DEFAULT_CODE_EXECUTION: Mapping[str, Any] = MappingProxyType({})


class UserProxyAgent(ConversableAgent):
    """Classic UserProxyAgent: human input ALWAYS by default, code execution on, no model."""

    DEFAULT_USER_PROXY_AGENT_DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "ALWAYS": "An attentive HUMAN user who can answer questions about the task, and can perform tasks such as "
        "running Python code or inputting command line commands at a Linux terminal and reporting back the "
        "execution results.",
        "TERMINATE": "A user that can run Python code or input command line commands at a Linux terminal and "
        "report back the execution results.",
        "NEVER": "A computer terminal that performs no other action than running Python scripts (provided to it "
        "quoted in ```python code blocks), or sh shell scripts (provided to it quoted in ```sh code blocks).",
    }

    def __init__(
        self,
        name: str,
        is_termination_msg: Callable[[dict], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: Literal["ALWAYS", "TERMINATE", "NEVER"] = "ALWAYS",
        function_map: dict[str, Callable] | None = None,
        code_execution_config: Mapping[str, Any] | Literal[False] = _DEFAULT_CODE_EXECUTION,
        default_auto_reply: str | dict = "",
        llm_config: dict | Literal[False] | None = False,
        system_message: str | list = "",
        description: str | None = None,
        repetition_guard: bool = False,
        **kwargs: Any,
    ) -> None:
        """``repetition_guard=True``: code sent again after it ran successfully is not run again
        but answered with a note, and a second repeat ends the chat (:mod:`.repetition_guard`)."""
        if not isinstance(repetition_guard, bool):
            raise TypeError(f"repetition_guard must be True or False, not {repetition_guard!r}")
        super().__init__(
            name=name,
            system_message=system_message,
            is_termination_msg=is_termination_msg,
            max_consecutive_auto_reply=max_consecutive_auto_reply,
            human_input_mode=human_input_mode,
            function_map=function_map,
            code_execution_config=code_execution_config,
            llm_config=llm_config,
            default_auto_reply=default_auto_reply,
            description=(
                description if description is not None else self.DEFAULT_USER_PROXY_AGENT_DESCRIPTIONS.get(human_input_mode, "")
            ),
            **kwargs,
        )
        if repetition_guard:
            from . import repetition_guard as guard

            guard.install(self)
