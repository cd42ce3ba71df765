"""The demos behind ``parley demo``: the seed article's examples, runnable offline.

``coding``: the article's first example: an assistant writes code, a user proxy runs it in the
``coding`` folder and reports back, the assistant concludes. ``research``: the article's
7-agent research group chat. Both use the seed's own configuration code
(``config_list_from_json("OAI_CONFIG_LIST", ...)``), which falls back to the embedded local model
when no OAI_CONFIG_LIST is set; ``model="scripted"`` replays a fixed script instead (no model).
"""

from __future__ import annotations

from typing import Any

SEED_CODING_MESSAGE = "今天是什么日期？比较 META 和 TESLA 的年初至今的收益。"
LOCAL_CODING_MESSAGE = "What date is today? Write a short Python script that prints today's date, then tell me the answer."
SEED_RESEARCH_MESSAGE = "Write a 4 paragraph research report about how to use LLMs to enhance personal productivity?"


def _scripted_coder(request: Any) -> str:
    """A deterministic assistant: writes one script, then reads the result and concludes."""
    last = request.messages[-1].get("content") or ""
    if last.startswith("exitcode: 0"):
        output = last.split("Code output:", 1)[-1].strip()
        return (
            f"The script ran and printed: {output}\n"
            "Comparing META and TESLA year-to-date gains needs market data from the network, which this "
            "offline demo cannot reach; with a network, the same loop would download prices with yfinance "
            "and plot them.\n\nTERMINATE"
        )
    if last.startswith("exitcode:"):
        return "The script failed; the error is shown above. TERMINATE"
    return (
        "First, let me get today's date with Python.\n\n"
        "```python\n# filename: today.py\nimport datetime\n\nprint('Today is', datetime.date.today().isoformat())\n```"
    )


def llm_config_for(model: str, scripted_replies: Any) -> dict:
    """The seed's llm_config, on the model the user chose."""
    if model == "scripted":
        from .models.scripted import ScriptedModelClient

        return {"config_list": [{"model": "scripted", "client": ScriptedModelClient(scripted_replies)}]}
    if model == "local":
        from .models.config import config_list_from_json

        # The seed's own line: with no OAI_CONFIG_LIST this is the embedded model.
        config_list = config_list_from_json(env_or_file="OAI_CONFIG_LIST", filter_dict={"model": "gpt-4o-mini"})
        return {"seed": 42, "config_list": config_list, "temperature": 0}
    raise ValueError(f"model must be 'local' or 'scripted', got {model!r}")


def coding_demo(model: str = "local", message: str | None = None, work_dir: str = "coding") -> Any:
    """The seed's first example: returns the ChatResult."""
    from . import AssistantAgent, UserProxyAgent

    if message is None:
        # The tiny embedded model cannot do the seed's market-data task offline; ask it what it can do.
        message = SEED_CODING_MESSAGE if model == "scripted" else LOCAL_CODING_MESSAGE
    assistant = AssistantAgent(name="assistant", llm_config=llm_config_for(model, _scripted_coder))
    user_proxy = UserProxyAgent(
        name="user_proxy",
        human_input_mode="NEVER",
        max_consecutive_auto_reply=10,
        is_termination_msg=lambda x: (x.get("content") or "").rstrip().endswith("TERMINATE"),
        code_execution_config={"work_dir": work_dir, "use_docker": False},
    )
    return user_proxy.initiate_chat(assistant, message=message)


def research_demo(model: str = "local", message: str = SEED_RESEARCH_MESSAGE, human: bool = False) -> Any:
    """The seed's research team (7 agents in a group chat)."""
    from .examples_research import build_research_team

    return build_research_team(model=model, human=human).run(message)
