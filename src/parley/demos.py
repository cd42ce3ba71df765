"""The demos behind ``parley demo``: the seed article's examples, runnable offline.

``coding``: the article's first example: an assistant writes code, a user proxy runs it in the
``coding`` folder and reports back, the assistant concludes. ``research``: the article's
7-agent research group chat. Both use the seed's own configuration code
(``config_list_from_json("OAI_CONFIG_LIST", ...)``), which falls back to the embedded local model
when no OAI_CONFIG_LIST is set; ``model="scripted"`` replays a fixed script instead (no model).
"""

from __future__ import annotations

import itertools
from typing import Any

SEED_CODING_MESSAGE = "今天是什么日期？比较 META 和 TESLA 的年初至今的收益。"
# Spelled out for a 135M-parameter model, which otherwise forgets the import.
LOCAL_CODING_MESSAGE = "Write a Python script that uses 'import datetime' and prints today's date."
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
        repetition_guard=True,  # the same code again after a successful run: a note, then the end
    )
    return user_proxy.initiate_chat(assistant, message=message)


# The scripted research team: each agent's reply, recognised by its system message, and the
# manager's choices in order.
SCRIPTED_TEAM_REPLIES = {
    "Planner.": "Plan: 1) Engineer prints three paper abstracts. 2) Scientist categorizes them. "
                "3) ResearchWriter writes the report.",
    "Engineer.": "```python\nfor title in ['Copilots at work', 'LLM email triage', 'Meeting summaries']:\n    print(title)\n```",
    "Scientist.": "Categories: coding assistance (Copilots at work), communication (LLM email triage, Meeting summaries).",
    "Research Report Writer.": "Introduction ... Literature Review ... Methodology ... Results ... Conclusion ... "
                               "References [1-3].",
    "Critic.": "The report cites its sources. Approved. TERMINATE",
}
SCRIPTED_TEAM_SELECTIONS = ("Planner", "Admin", "Engineer", "Executor", "Scientist", "ResearchWriter", "Critic", "Admin")


def scripted_team_model() -> Any:
    """A replay function for the whole research team (agents and manager share it)."""
    selections = iter(SCRIPTED_TEAM_SELECTIONS)

    def reply(request: Any) -> str:
        system = request.messages[0]["content"]
        if system.startswith("You are in a role play game"):
            return next(selections, "Admin")
        for prefix, text in SCRIPTED_TEAM_REPLIES.items():
            if system.startswith(prefix):
                return text
        raise ValueError(f"the scripted research team has no reply for system message {system[:40]!r}")

    return reply


def build_research_team(gpt4o_config=None, work_dir="paper", manager_config=None, unattended=False, in_order=False,
                        writer_config=None):
    """The seed's agents, group chat and manager (its code, ``autogen`` changed to ``parley``, long
    lines wrapped: each system message is the seed's, character for character); returns
    ``(user_proxy, manager)``.

    ``unattended=True`` runs it with no human: the Admin approves whatever it is asked, and the chat
    ends on a message ending with TERMINATE (the seed's team otherwise runs to max_round).
    ``in_order=True`` (with ``unattended``) lets each agent pass the word to one other only, in the
    plan's order: Admin → Planner → Engineer → Executor → Scientist → ResearchWriter → Critic →
    Admin (left to choose, a tiny model bounced between the Engineer and the Executor).
    ``writer_config``: the ResearchWriter's llm_config, when it is not ``gpt4o_config``."""
    from . import AssistantAgent, GroupChat, GroupChatManager, UserProxyAgent

    # Keyword arguments of several types each, spread into the seed's calls.
    unattended_options: dict[str, Any] = {}
    manager_options: dict[str, Any] = {}
    groupchat_options: dict[str, Any] = {}
    guard_options: dict[str, Any] = {}
    if unattended:
        guard_options = {"repetition_guard": True}  # the Executor does not run the same code over and over
        # No one speaks twice in a row: left alone, a small model keeps choosing the same speaker.
        groupchat_options = {"allow_repeat_speaker": False}
        unattended_options = {"human_input_mode": "NEVER", "default_auto_reply": "Approved. Go ahead."}
        manager_options = {"is_termination_msg": lambda m: (m.get("content") or "").rstrip().endswith("TERMINATE")}
    user_proxy = UserProxyAgent(
        name="Admin",
        **unattended_options,
        system_message="A human admin. Interact with a planner to discuss the plan of execution. "
        "This plan needs to be approved by this admin.",
        code_execution_config=False,
    )
    planner = AssistantAgent(
        name="Planner",
        system_message="Planner. Suggest a plan. Revise the plan based on feedback from a critic agent.\
    The plan may involve an engineer who can write code and a scientist who doesn’t write code. \
    Explain the plan first. Be clear which step is performed by an engineer, and which step is performed by a scientist.",
        llm_config=gpt4o_config,
    )
    engineer = AssistantAgent(
        name="Engineer",
        llm_config=gpt4o_config,
        system_message="Engineer. You follow an approved plan. You write Python/shell code to solve tasks."
        "    Wrap the code in a code block that specifies the script type. The user can't modify your code. "
        "Don't include multiple code blocks in one response. "
        "    Do not ask others to copy and paste the result. Check the execution result returned by the executor. "
        "    If the result indicates there is an error, fix the error and output the code again. "
        "Suggest the full code instead of partial code or code changes."
        "    If the error can't be fixed or if the task is not solved even after the code is executed successfully, "
        "analyse the problem.",
    )
    scientist = AssistantAgent(
        name="Scientist",
        llm_config=gpt4o_config,
        system_message="Scientist. You follow an approved plan. You are able to categorize papers after seeing their "
        "abstracts printed. You don't write code."
        "    you provided detailed resource  reports for the ResearchWriter to write comprehensive research reports.",
    )
    executor = UserProxyAgent(
        name="Executor",
        system_message="Executor. Execute the code written by the engineer and report the result.",
        human_input_mode="NEVER",
        code_execution_config={
            "last_n_messages": 3,
            "work_dir": work_dir,
            "use_docker": False,
        },
        **guard_options,
    )
    critic = AssistantAgent(
        name="Critic",
        system_message="Critic. Double check, claims, code and report from other agents and provide feedback. \
  Check whether the final research report includes adding verifiable info such as source ",
        llm_config=gpt4o_config,
    )
    research_report_writer = AssistantAgent(
        name="ResearchWriter",
        system_message="Research Report Writer. Write a research report based on the findings from the papers categorized "
        "by the scientist and exchange with critic to improve "
        "  the quality of the report."
        "  The report should include the following sections: Introduction, Literature Review, Methodology, Results, "
        "Conclusion, and References."
        "  The report should be written in a clear and concise manner. Make sure to include proper citation and references.",
        llm_config=writer_config if writer_config is not None else gpt4o_config,
    )
    if in_order:
        order = [user_proxy, planner, engineer, executor, scientist, research_report_writer, critic, user_proxy]
        groupchat_options = {"allowed_or_disallowed_speaker_transitions": {a: [b] for a, b in itertools.pairwise(order)},
                             "speaker_transitions_type": "allowed"}
    groupchat = GroupChat(
        agents=[user_proxy, planner, engineer, scientist, executor, critic, research_report_writer],
        messages=[],
        max_round=50,
        **groupchat_options,
    )
    manager = GroupChatManager(
        groupchat=groupchat, llm_config=manager_config if manager_config is not None else gpt4o_config, **manager_options
    )
    return user_proxy, manager


def _configured() -> bool:
    """Whether an OAI_CONFIG_LIST names the models (else the demos run the embedded one)."""
    import os

    return bool(os.environ.get("OAI_CONFIG_LIST")) or os.path.exists("OAI_CONFIG_LIST")


TINY_PROSE = {"repetition_cut": 16, "copy_ban": 8}
# The report's shape, for the embedded model's ResearchWriter: the sections its system message
# names, each a heading and one paragraph (a 135M model otherwise paraphrases the last speaker).
# References are left out: a model this small can only make them up.
REPORT_SECTIONS = ("Introduction", "Literature Review", "Methodology", "Results", "Conclusion")
REPORT_GRAMMAR = "root ::= " + ' "\\n\\n" '.join(f'"{name}\\n" para' for name in REPORT_SECTIONS) + \
    "\npara ::= [A-Z] [^\\n]+\n"


def research_demo(model: str = "local", message: str = SEED_RESEARCH_MESSAGE, human: bool = False,
                  work_dir: str = "paper") -> Any:
    """The seed's research team (7 agents in a group chat); ``human`` makes you the Admin."""
    if model == "scripted":
        config = llm_config_for("scripted", scripted_team_model())
    else:
        config = llm_config_for("local", None)
    unattended_local = model == "local" and not human
    tiny = unattended_local and not _configured()  # the embedded model
    writer_config = None
    if tiny:
        # The embedded model's prose: no sentence written twice, no copying of the previous
        # speaker (parley.models.local: repetition_cut, copy_ban); the report in its sections.
        config = {**config, **TINY_PROSE}
        writer_config = {**config, "max_tokens": 800,  # five paragraphs
                         "response_format": {"type": "grammar", "grammar": REPORT_GRAMMAR}}
    user_proxy, manager = build_research_team(config, work_dir=work_dir, unattended=not human, in_order=tiny,
                                              writer_config=writer_config)
    if unattended_local:
        # Keep the unattended demo short; the embedded model goes once through the plan, to the
        # report and the Critic's review of it.
        manager.groupchat.max_round = 7 if tiny else 12
    return user_proxy.initiate_chat(manager, message=message)
