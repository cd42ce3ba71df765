"""``Teachability``: an agent that remembers what users teach it, across chats and processes.

    teachability = Teachability(path_to_db_dir="./tmp/teachable_agent_db", llm_config=llm_config)
    teachability.add_to_agent(assistant)

Before the agent replies to a message, a ``TextAnalyzerAgent`` (on ``llm_config``, else the agent's)
is asked whether the message teaches something (a fact, or advice for a kind of task); what it
teaches is stored as a memo (``MemoStore``). When memos exist, the message is first used as a
query (and, for a task, its generalised form too), and the memos nearer than ``recall_threshold``
are appended to the text the agent's model sees (not to the stored history), as classic did.
Each lookup is a ``MemosRecalled`` event and each new memo a ``MemoStored`` event.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import events
from .._sync import run_sync
from ..agentchat.contrib.capabilities.agent_capability import AgentCapability
from ..agentchat.contrib.text_analyzer_agent import TextAnalyzerAgent
from ..io import get_default as _iostream
from ..messages import content_str
from .memos import DEFAULT_PATH, Memo, MemoStore
from .reporting import emit as _report
from .vector_db import VectorDB

# The analyzer's questions (classic's wording: what the model is asked decides what is learned).
_IS_TASK = "Does any part of the TEXT ask the agent to perform a task or solve a problem? Answer with just one word, yes or no."
_ADVICE = ("Briefly copy any advice from the TEXT that may be useful for a similar but different task in the future. "
           "But if no advice is present, just respond with 'none'.")
_TASK_FOR_STORAGE = "Briefly copy just the task from the TEXT, then stop. Don't solve it, and don't include any advice."
_TASK_FOR_RECALL = "Copy just the task from the TEXT, then stop. Don't solve it, and don't include any advice."
_GENERALIZE = ("Summarize very briefly, in general terms, the type of task described in the TEXT. "
               "Leave out details that might not appear in a similar problem.")
_HAS_INFO = "Does the TEXT contain information that could be committed to memory? Answer with just one word, yes or no."
_QUESTION = ("Imagine that the user forgot this information in the TEXT. How would they ask you for this information? "
             "Include no other text in your response.")
_ANSWER = "Copy the information from the TEXT that should be committed to memory. Add no explanation."


class Teachability(AgentCapability):
    """Classic ``Teachability(verbosity=0, reset_db=False, path_to_db_dir="./tmp/teachable_agent_db",
    recall_threshold=1.5, max_num_retrievals=10, llm_config=None)``; ``vector_db``: keep the memos
    in another store (a ``PGVectorDB``) instead of Chroma at ``path_to_db_dir``.

    ``verbosity``: 0 quiet, 1 memory operations, 2 the analyzer's answers, 3 memo lists.
    ``recall_threshold``: the largest memo distance recalled (0 identical, 4 opposite).
    """

    def __init__(self, verbosity: int = 0, reset_db: bool = False, path_to_db_dir: str = DEFAULT_PATH,
                 recall_threshold: float = 1.5, max_num_retrievals: int = 10, llm_config: dict | bool | None = None,
                 *, vector_db: VectorDB | None = None) -> None:
        if not isinstance(recall_threshold, (int, float)) or recall_threshold < 0:
            raise ValueError(f"recall_threshold must be a non-negative number, got {recall_threshold!r}")
        if not isinstance(max_num_retrievals, int) or max_num_retrievals < 1:
            raise ValueError(f"max_num_retrievals must be a positive int, got {max_num_retrievals!r}")
        self.verbosity = verbosity or 0
        self.path_to_db_dir = path_to_db_dir
        self.recall_threshold = recall_threshold
        self.max_num_retrievals = max_num_retrievals
        self.llm_config = llm_config
        self.analyzer: TextAnalyzerAgent | None = None
        self.teachable_agent: Any = None
        self.memo_store = MemoStore(self.verbosity, reset_db, path_to_db_dir, vector_db=vector_db)

    def add_to_agent(self, agent: Any) -> None:
        """Make ``agent`` teachable: its received messages are looked up and learned from before it replies."""
        self.teachable_agent = agent
        if self.llm_config is None:
            self.llm_config = agent.llm_config
        if not self.llm_config:
            raise ValueError("Teachability needs an llm_config (for its TextAnalyzerAgent): give llm_config= or "
                             "add it to an agent that has one")
        self.analyzer = TextAnalyzerAgent(llm_config=self.llm_config if isinstance(self.llm_config, dict) else None)
        agent.register_hook(hookable_method="process_last_received_message", hook=self.a_process_last_received_message)
        agent.update_system_message(
            agent.system_message + "\nYou've been given the special ability to remember user teachings from prior conversations.")

    def prepopulate_db(self) -> None:
        self.memo_store.prepopulate()

    async def a_process_last_received_message(self, text: dict | str) -> str:
        """The text with related memos appended; stores what it teaches."""
        text = content_str(text.get("content")) if isinstance(text, dict) else text
        expanded = text
        # The store's calls (embedding, disk or PostgreSQL) run in a worker thread: other chats on
        # this event loop go on meanwhile.
        if await asyncio.to_thread(lambda: self.memo_store.last_memo_id) > 0:
            expanded = await self._consider_memo_retrieval(text)
        await self._consider_memo_storage(text)
        return expanded

    def process_last_received_message(self, text: dict | str) -> str:
        return run_sync(self.a_process_last_received_message(text))

    async def _analyze(self, text: str, instructions: str) -> str:
        if self.analyzer is None:
            raise RuntimeError("Teachability is not added to an agent yet: call add_to_agent(agent) first")
        answer = await self.analyzer.a_analyze_text(text, instructions)
        if self.verbosity >= 2:
            _iostream().print(f"\nANALYZER: {instructions}\n  -> {answer}", flush=True)
        return answer

    async def _store(self, input_text: str, output_text: str) -> None:
        memo = await asyncio.to_thread(self.memo_store.add_memo, input_text, output_text)
        _report(events.MemoStored(agent=self._agent_name, memo_id=memo.id, input=memo.input, output=memo.output))

    @property
    def _agent_name(self) -> str:
        return getattr(self.teachable_agent, "name", "")

    async def _consider_memo_storage(self, comment: str) -> None:
        if "yes" in (await self._analyze(comment, _IS_TASK)).lower():
            advice = await self._analyze(comment, _ADVICE)
            if "none" not in advice.lower():
                task = await self._analyze(comment, _TASK_FOR_STORAGE)
                general_task = await self._analyze(task, _GENERALIZE)
                if self.verbosity >= 1:
                    _iostream().print("\nREMEMBER THIS TASK-ADVICE PAIR", flush=True)
                await self._store(general_task, advice)
        if "yes" in (await self._analyze(comment, _HAS_INFO)).lower():
            question = await self._analyze(comment, _QUESTION)
            answer = await self._analyze(comment, _ANSWER)
            if self.verbosity >= 1:
                _iostream().print("\nREMEMBER THIS QUESTION-ANSWER PAIR", flush=True)
            await self._store(question, answer)
        if self.verbosity >= 3:
            await asyncio.to_thread(self.memo_store.list_memos)

    async def _consider_memo_retrieval(self, comment: str) -> str:
        found = await self._recall(comment)
        if "yes" in (await self._analyze(comment, _IS_TASK)).lower():
            task = await self._analyze(comment, _TASK_FOR_RECALL)
            general_task = await self._analyze(task, _GENERALIZE)
            found.extend(await self._recall(general_task))
        outputs: list[str] = []
        for memo in found:  # the same memo found twice is added once, in the order found
            if memo.output not in outputs:
                outputs.append(memo.output)
        if not outputs:
            return comment
        info = "\n# Memories that might help\n" + "".join(f"- {output}\n" for output in outputs)
        if self.verbosity >= 1:
            _iostream().print("\nMEMOS APPENDED TO LAST MESSAGE...\n" + info, flush=True)
        return comment + "\n" + info

    async def _recall(self, query: str) -> list[Memo]:
        related = await asyncio.to_thread(self.memo_store.related, query, self.max_num_retrievals, self.recall_threshold)
        _report(events.MemosRecalled(agent=self._agent_name, query=query, memos=[
            {"id": memo.id, "input": memo.input, "output": memo.output, "distance": distance} for memo, distance in related]))
        if not related and self.verbosity >= 1:
            _iostream().print("\nTHE CLOSEST MEMO IS BEYOND THE THRESHOLD:", flush=True)
            await asyncio.to_thread(self.memo_store.get_nearest_memo, query)
        return [memo for memo, _ in related]


__all__ = ["Teachability"]
