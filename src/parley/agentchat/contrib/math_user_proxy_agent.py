"""Classic ``autogen.agentchat.contrib.math_user_proxy_agent``: MathChat, a user proxy that runs
the Python (or Wolfram Alpha) queries of an assistant solving a math problem.

Each Python query runs together with the code of the earlier successful ones (their prints
removed), so that variables carry over; a bare expression on the last line is printed. The
chat ends when the assistant writes an answer in ``\\boxed{}`` and no more queries.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Literal

from ...agents.agent import Agent
from ...agents.user_proxy import UserProxyAgent
from ...code_utils import UNKNOWN, execute_code, extract_code, infer_lang
from ...math_utils import get_answer

_QUERY_RULES = (
    "Print every result with 'print', and keep fractions and radicals exact rather than using decimals "
    "(sympy helps). Put each query in its own block:\n"
)
_PYTHON_BLOCK = "```python\n# your code\n```\n"
_STEPS = (
    "Work step by step (without splitting the problem into too many steps). Whenever a step needs a "
    "calculation or an equation solved, write it as a query and wait for me to run it. If a result looks "
    "wrong, fix the query or your reasoning before going on.\n\n"
    "When all queries are done, give the final answer in \\boxed{}.\n\n"
)

PROMPTS = {
    "default": (
        "Solve the math problem below, using Python where it helps.\n\n" + _QUERY_RULES + _PYTHON_BLOCK + "\n"
        "First say the key idea. Then pick one way: (1) write one program that solves the problem, "
        "enumerating cases if needed; (2) reason it out yourself, if it needs no computation; or "
        "(3) proceed as follows. " + _STEPS + "Problem:\n"
    ),
    "python": "Solve the math problem below with Python, step by step.\n\n" + _QUERY_RULES + _PYTHON_BLOCK + "\n"
              + _STEPS + "Problem: ",
    "two_tools": (
        "Solve the math problem below with two tools, Python and Wolfram Alpha, choosing the better one "
        "for each query.\n\nFor Wolfram Alpha, one query per block:\n```wolfram\n# one wolfram query\n```\n"
        "For Python: " + _QUERY_RULES + _PYTHON_BLOCK + "\n" + _STEPS + "Problem: "
    ),
}

TOO_LONG = ("Your requested query response is too long. You might have made a mistake. "
            "Please revise your reasoning and query.")
NO_OUTPUT = "No output found."
NO_PRINT = "No output found. Make sure you print the results."
SAME_AS_LAST = "\nYour query or result is same from the last, please try a new approach."
REVISIT = ("Please revisit the problem statement and your reasoning. If you think this step is correct, solve it "
           "yourself and continue the next step. Otherwise, correct this step.")
MAX_OUTPUT_CHARS = 2000
# Where the script was saved, in a traceback: noise for the model.
_TRACEBACK_FILE = re.compile(r'File "[^"]+\.py", line \d+, in .+\n')


def _is_termination_msg_mathchat(message: Any) -> bool:
    """The chat is over when a message has an answer in ``\\boxed{}`` and no Python or Wolfram query."""
    if isinstance(message, dict):
        message = message.get("content")
    if not isinstance(message, str):
        return False
    if any(lang in ("python", "wolfram") for lang, _ in extract_code(message)):
        return False
    return bool(get_answer(message))


def _add_print_to_last_line(code: str) -> str:
    """``code`` with its last line printed, when nothing is printed and the line is a plain expression."""
    if "print(" in code:
        return code
    lines = code.splitlines()
    if not lines or "\t" in lines[-1] or "=" in lines[-1]:
        return code
    lines[-1] = f"print({lines[-1]})"
    return "\n".join(lines)


def _remove_print(code: str) -> str:
    """``code`` without its top-level ``print(...)`` lines (indented ones stay: removing them could leave an empty block)."""
    return "\n".join(line for line in code.splitlines() if not line.startswith("print("))


class MathUserProxyAgent(UserProxyAgent):
    """(Experimental, as classic) A user proxy for MathChat: runs an assistant's math queries."""

    MAX_CONSECUTIVE_AUTO_REPLY = 15
    DEFAULT_REPLY = ("Continue. Please keep solving the problem until you need to query. "
                     "(If you get to the answer, put it in \\boxed{}.)")

    def __init__(
        self,
        name: str = "MathChatAgent",
        is_termination_msg: Callable[[dict], bool] | None = _is_termination_msg_mathchat,
        human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "NEVER",
        default_auto_reply: str | dict = DEFAULT_REPLY,
        max_invalid_q_per_step: int = 3,
        **kwargs: Any,
    ) -> None:
        """
        Args:
            max_invalid_q_per_step: failed queries in a row after which the assistant is told to
                revisit its reasoning.
            Other arguments: as ``UserProxyAgent``.
        """
        if not isinstance(max_invalid_q_per_step, int) or max_invalid_q_per_step < 0:
            raise ValueError(f"max_invalid_q_per_step must be a non-negative int, got {max_invalid_q_per_step!r}")
        super().__init__(name=name, is_termination_msg=is_termination_msg, human_input_mode=human_input_mode,
                         default_auto_reply=default_auto_reply, **kwargs)
        self.register_reply([Agent, None], MathUserProxyAgent._generate_math_reply, position=2)
        self._max_invalid_q_per_step = max_invalid_q_per_step
        self._reset()

    @staticmethod
    def message_generator(sender: MathUserProxyAgent, recipient: Any, context: dict) -> str:
        """The first message: the prompt of ``context["prompt_type"]`` ("default", "python", "two_tools")
        or ``context["customized_prompt"]``, then ``context["problem"]``. Starts a new problem."""
        sender._reset()
        problem = context.get("problem")
        if not isinstance(problem, str):
            raise TypeError(f"MathUserProxyAgent.message_generator: context['problem'] must be a str, got {problem!r}")
        customized = context.get("customized_prompt")
        if customized is not None:
            return customized + problem
        prompt_type = context.get("prompt_type", "default")
        if prompt_type not in PROMPTS:
            raise ValueError(f"context['prompt_type'] must be one of {sorted(PROMPTS)}, got {prompt_type!r}")
        return PROMPTS[prompt_type] + problem

    def _reset(self) -> None:
        self._valid_q_count = 0
        self._total_q_count = 0
        self._accum_invalid_q_per_step = 0
        self._previous_code = ""
        self.last_reply: str | None = None

    def _run(self, code: str, timeout: float | None = None) -> tuple[int, str]:
        config = self._code_execution_config or {}
        options = {k: config[k] for k in ("work_dir", "use_docker") if k in config}
        exit_code, output, _ = execute_code(code, timeout=timeout or config.get("timeout"), **options)
        return exit_code, output

    def execute_one_python_code(self, pycode: str) -> tuple[str, bool]:
        """Run one query with the code of the earlier successful ones; ``(output or error, ok)``."""
        pycode = pycode.replace("; ", "\n").replace(";", "\n")  # one statement a line, for the print rule
        pycode = self._previous_code + _add_print_to_last_line(pycode)
        exit_code, output = self._run(pycode, timeout=5)
        ok = exit_code == 0
        if not ok:
            output = "Error: " + _TRACEBACK_FILE.sub("", output)
        elif output == "":
            ok = "print" in pycode
            output = NO_OUTPUT if ok else NO_PRINT
        if len(output) > MAX_OUTPUT_CHARS:
            output, ok = TOO_LONG, False
        # What later queries start from: this query without its prints when it worked, else only its imports.
        if ok:
            kept = self._previous_code + "\n" + _remove_print(pycode) + "\n"
        else:
            kept = self._previous_code + "\n" + "".join(line + "\n" for line in pycode.split("\n") if "import" in line)
        if self._run(kept)[0] == 0:
            self._previous_code = kept
        return output, ok

    def execute_one_wolfram_query(self, query: str) -> tuple[str, bool]:
        """Ask Wolfram Alpha (needs ``WOLFRAM_ALPHA_APPID`` and ``pip install wolframalpha``)."""
        output, ok = WolframAlphaAPIWrapper().run(query)
        if output == "":
            return "Error: The wolfram query is invalid.", False
        return output, ok

    def _generate_math_reply(self, messages: list[dict] | None = None, sender: Agent | None = None,
                             config: Any = None) -> tuple[bool, Any]:
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if not messages:
            return False, None
        content = messages[-1].get("content") or ""
        if not isinstance(content, str):
            return False, None
        code_blocks = extract_code(content)
        if len(code_blocks) == 1 and code_blocks[0][0] == UNKNOWN:
            return True, self._default_auto_reply
        outputs = []
        all_ok = True
        for lang, code in code_blocks:
            lang = lang or infer_lang(code)
            if lang == "python":
                output, ok = self.execute_one_python_code(code)
            elif lang == "wolfram":
                output, ok = self.execute_one_wolfram_query(code)
            else:
                output, ok = "Error: Unknown language.", False
            outputs.append(output)
            if not ok:
                all_ok = False
                self._valid_q_count -= 1
        reply = "".join(output + "\n" for output in outputs).strip()
        if self.last_reply == reply:
            return True, reply + SAME_AS_LAST
        self.last_reply = reply
        if not all_ok:
            self._accum_invalid_q_per_step += 1
            if self._accum_invalid_q_per_step > self._max_invalid_q_per_step:
                self._accum_invalid_q_per_step = 0
                reply = REVISIT
        return True, reply


class WolframAlphaAPIWrapper:
    """Wolfram Alpha queries through the ``wolframalpha`` package."""

    def __init__(self, wolfram_alpha_appid: str | None = None) -> None:
        appid = wolfram_alpha_appid or os.environ.get("WOLFRAM_ALPHA_APPID")
        if not appid:
            raise ValueError("Wolfram Alpha needs an app id: set the environment variable WOLFRAM_ALPHA_APPID "
                             "or pass wolfram_alpha_appid")
        try:
            import wolframalpha
        except ImportError:
            raise ImportError("Wolfram Alpha queries need the wolframalpha package: pip install wolframalpha") from None
        self.wolfram_alpha_appid = appid
        self.wolfram_client = wolframalpha.Client(appid)

    def run(self, query: str) -> tuple[str, bool]:
        """``(text, ok)``: the interpretation and the answer, or why there is none."""
        try:
            result = self.wolfram_client.query(query)
        except Exception:  # any failure of the service is an answer the model can act on
            return "Wolfram Alpha wasn't able to answer it. Please try a new query for wolfram or use python.", False
        try:
            if not result["@success"]:
                return "Your Wolfram query is invalid. Please try a new query for wolfram or use python.", False
            pods = list(result.pods)
            assumption = pods[0].text if pods else ""
            answers = [pod.text for pod in pods if pod.title in ("Result", "Results", "Solution", "Solutions") and pod.text]
            answer = "\n".join(answers) or next(result.results).text
        except Exception:  # the result's shape varies by query
            return "Wolfram Alpha wasn't able to answer it. Please try a new query for wolfram or use python.", False
        if not answer:
            return "No good Wolfram Alpha Result was found", False
        return f"Assumption: {assumption} \nAnswer: {answer}", True


__all__ = ["PROMPTS", "MathUserProxyAgent", "WolframAlphaAPIWrapper"]
