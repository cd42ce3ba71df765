"""Retrieval-augmented chat: ``RetrieveUserProxyAgent`` and ``RetrieveAssistantAgent`` (classic API).

The proxy indexes ``docs_path`` into a vector store (Chroma by default) on first use, retrieves
the chunks nearest the problem, and sends them with the question in one of classic's prompts
(``task``: ``default``, ``qa`` or ``code``; or ``customized_prompt``). When the assistant answers
``UPDATE CONTEXT`` (or, with ``customized_answer_prefix``, an answer without that prefix), the
proxy resets both histories and sends the next chunks: first the rest of the current results,
then results of wider searches. Each message it builds is a ``DocumentsRetrieved`` event: the
query, what the store returned with distances, and which chunks went in.

    rag = RetrieveUserProxyAgent("ragproxy", human_input_mode="NEVER",
                                 retrieve_config={"task": "qa", "docs_path": "docs/"})
    rag.initiate_chat(assistant, message=rag.message_generator, problem="What is ...?", n_results=3)
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import warnings
from collections.abc import Callable
from typing import Any, Literal

from .. import events
from ..agents.agent import Agent
from ..agents.assistant import AssistantAgent
from ..agents.conversable import ConversableAgent
from ..agents.user_proxy import UserProxyAgent
from ..code_utils import extract_code
from ..io import get_default as _iostream
from ..messages import content_str
from ..token_count_utils import count_token
from .chunking import VALID_CHUNK_MODES, split_files_to_chunks
from .documents import TEXT_FORMATS, get_files_from_dir
from .embeddings import DEFAULT_EMBEDDING_MODEL
from .reporting import emit as _report
from .vector_db import Document, QueryResults, VectorDB
from .vector_db_factory import VectorDBFactory

logger = logging.getLogger(__name__)

# Classic's prompts, word for word: models and scripts written for classic RetrieveChat expect them
# (the assistant is told to answer exactly `UPDATE CONTEXT`).
PROMPT_DEFAULT = """You're a retrieve augmented chatbot. You answer user's questions based on your own knowledge and the
context provided by the user. You should follow the following steps to answer a question:
Step 1, you estimate the user's intent based on the question and context. The intent can be a code generation task or
a question answering task.
Step 2, you reply based on the intent.
If you can't answer the question with or without the current context, you should reply exactly `UPDATE CONTEXT`.
If user's intent is code generation, you must obey the following rules:
Rule 1. You MUST NOT install any packages because all the packages needed are already installed.
Rule 2. You must follow the formats below to write your code:
```language
# your code
```

If user's intent is question answering, you must give as short an answer as possible.

User's question is: {input_question}

Context is: {input_context}

The source of the context is: {input_sources}

If you can answer the question, in the end of your answer, add the source of the context in the format of `Sources: source1, source2, ...`.
"""

PROMPT_CODE = """You're a retrieve augmented coding assistant. You answer user's questions based on your own knowledge and the
context provided by the user.
If you can't answer the question with or without the current context, you should reply exactly `UPDATE CONTEXT`.
For code generation, you must obey the following rules:
Rule 1. You MUST NOT install any packages because all the packages needed are already installed.
Rule 2. You must follow the formats below to write your code:
```language
# your code
```

User's question is: {input_question}

Context is: {input_context}
"""

PROMPT_QA = """You're a retrieve augmented chatbot. You answer user's questions based on your own knowledge and the
context provided by the user.
If you can't answer the question with or without the current context, you should reply exactly `UPDATE CONTEXT`.
You must give as short an answer as possible.

User's question is: {input_question}

Context is: {input_context}
"""

UPDATE_CONTEXT_IN_PROMPT = "you should reply exactly `UPDATE CONTEXT`"
_TASKS = ("code", "qa", "default")
_WIDER_SEARCHES = 4  # after the current results run out: searches for 3, 5, 7, 9 times n_results

# Every key classic's retrieve_config knew, plus n_results (the default for message_generator).
_CONFIG_KEYS = frozenset({
    "task", "vector_db", "db_config", "client", "docs_path", "extra_docs", "new_docs", "model", "chunk_token_size",
    "context_max_tokens", "chunk_mode", "must_break_at_empty_line", "embedding_model", "embedding_function",
    "customized_prompt", "customized_answer_prefix", "update_context", "collection_name", "get_or_create", "overwrite",
    "custom_token_count_function", "custom_text_split_function", "custom_text_types", "recursive", "distance_threshold",
    "n_results",
})


def chunk_id(content: str) -> str:
    """A chunk's id: a hash of its text, so the same chunk indexed twice is one document."""
    return hashlib.blake2b(content.encode("utf-8"), digest_size=8).hexdigest()


def _max_tokens_of(model: str) -> int:
    # Classic's sizes by model family (chunk size 40% and context 80% of these by default).
    if "32k" in model:
        return 32000
    if "16k" in model:
        return 16000
    if "gpt-4" in model:
        return 8000
    return 4000


class RetrieveUserProxyAgent(UserProxyAgent):
    """A user proxy that answers with retrieved document chunks (classic ``retrieve_config``; see the module doc)."""

    def __init__(self, name: str = "RetrieveChatAgent", human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "ALWAYS",
                 is_termination_msg: Callable[[dict], bool] | None = None, retrieve_config: dict | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, human_input_mode=human_input_mode, **kwargs)
        config = {} if retrieve_config is None else retrieve_config
        if not isinstance(config, dict):
            raise TypeError(f"retrieve_config must be a dict or None, not {type(config).__name__}")
        unknown = sorted(set(config) - _CONFIG_KEYS)
        if unknown:
            raise ValueError(f"retrieve_config: unknown key(s) {', '.join(map(repr, unknown))}; "
                             f"known keys: {', '.join(sorted(_CONFIG_KEYS))}")
        self._retrieve_config = config
        self._task = config.get("task", "default")
        if not isinstance(self._task, str) or self._task.lower() not in _TASKS:
            raise ValueError(f"retrieve_config['task'] must be one of {', '.join(_TASKS)}, got {self._task!r}")
        if config.get("embedding_model", DEFAULT_EMBEDDING_MODEL) != DEFAULT_EMBEDDING_MODEL:
            raise ValueError(f"retrieve_config['embedding_model']: only {DEFAULT_EMBEDDING_MODEL!r} ships offline; for another "
                             "model pass embedding_function (e.g. parley.retrieval.OpenAIEmbedding(config))")
        self._docs_path = config.get("docs_path")
        self._new_docs = bool(config.get("new_docs", True))
        self._collection_name = config.get("collection_name", "autogen-docs")
        if not isinstance(self._collection_name, str) or not self._collection_name:
            raise ValueError(f"retrieve_config['collection_name'] must be a non-empty str, got {self._collection_name!r}")
        self._model = config.get("model", "gpt-4")
        max_tokens = _max_tokens_of(str(self._model))
        self._chunk_token_size = config.get("chunk_token_size", int(max_tokens * 0.4))
        if not isinstance(self._chunk_token_size, int) or self._chunk_token_size < 1:
            raise ValueError(f"retrieve_config['chunk_token_size'] must be a positive int, got {self._chunk_token_size!r}")
        self._context_max_tokens = config.get("context_max_tokens", max_tokens * 0.8)
        self._chunk_mode = config.get("chunk_mode", "multi_lines")
        if self._chunk_mode not in VALID_CHUNK_MODES:
            raise ValueError(f"retrieve_config['chunk_mode'] must be one of {', '.join(sorted(VALID_CHUNK_MODES))}, "
                             f"got {self._chunk_mode!r}")
        self._must_break_at_empty_line = bool(config.get("must_break_at_empty_line", True))
        self._embedding_function = config.get("embedding_function")
        if self._embedding_function is not None and not callable(self._embedding_function):
            raise TypeError("retrieve_config['embedding_function'] must be a callable (list[str] -> list[list[float]]), "
                            f"not {type(self._embedding_function).__name__}")
        self.customized_prompt = config.get("customized_prompt")
        self.customized_answer_prefix = str(config.get("customized_answer_prefix", "") or "").upper()
        self.update_context = bool(config.get("update_context", True))
        self._get_or_create = bool(config.get("get_or_create", False)) if self._docs_path is not None else True
        self._overwrite = bool(config.get("overwrite", False))
        self.custom_token_count_function = config.get("custom_token_count_function", count_token)
        self.custom_text_split_function = config.get("custom_text_split_function")
        self._custom_text_types = config.get("custom_text_types", TEXT_FORMATS)
        self._recursive = bool(config.get("recursive", True))
        self._distance_threshold = config.get("distance_threshold", -1)
        if not isinstance(self._distance_threshold, (int, float)):
            raise TypeError(f"retrieve_config['distance_threshold'] must be a number, got {self._distance_threshold!r}")
        self._default_n_results = config.get("n_results", 20)
        if not isinstance(self._default_n_results, int) or self._default_n_results < 1:
            raise ValueError(f"retrieve_config['n_results'] must be a positive int, got {self._default_n_results!r}")
        db_config = config.get("db_config") or {}
        if not isinstance(db_config, dict):
            raise TypeError(f"retrieve_config['db_config'] must be a dict, not {type(db_config).__name__}")
        db_config = dict(db_config)
        if config.get("client") is not None:  # classic's deprecated chromadb client: the Chroma store uses it
            db_config.setdefault("client", config["client"])
        self._vector_db = self._make_vector_db(config.get("vector_db", "chroma"), db_config)
        self._collection_ready = False
        self._is_termination_msg = self._is_termination_msg_retrievechat if is_termination_msg is None else is_termination_msg
        self.problem = ""
        self.n_results = self._default_n_results
        self._results: QueryResults = []
        self._reset()
        self.register_reply(Agent, RetrieveUserProxyAgent._generate_retrieve_user_reply, position=2)
        self.register_hook(hookable_method="process_message_before_send", hook=self._check_update_context_before_send)

    def _make_vector_db(self, vector_db: Any, db_config: dict) -> VectorDB:
        if isinstance(vector_db, str):
            if self._embedding_function is not None:
                db_config["embedding_function"] = self._embedding_function
            return VectorDBFactory.create_vector_db(vector_db, **db_config)
        if vector_db is None or not isinstance(vector_db, VectorDB):
            raise TypeError("retrieve_config['vector_db'] must be 'chroma', 'pgvector' or an object with the VectorDB "
                            f"methods, not {type(vector_db).__name__}")
        return vector_db

    # ------------------------------------------------------------------ indexing

    def _init_db(self) -> None:
        """Create (or open) the collection and add the chunks of ``docs_path`` not already in it."""
        db = self._vector_db
        if not self._docs_path:
            try:
                db.get_collection(self._collection_name)
            except ValueError:
                raise ValueError(f"retrieve_config has no docs_path and collection {self._collection_name!r} does not "
                                 "exist: give docs_path or create the collection first") from None
            db.active_collection = db.create_collection(self._collection_name, overwrite=False, get_or_create=True)
            return
        db.active_collection = db.create_collection(self._collection_name, overwrite=self._overwrite,
                                                    get_or_create=self._get_or_create)
        files = get_files_from_dir(self._docs_path, self._custom_text_types, self._recursive)
        if self.custom_text_split_function is not None:
            chunks, sources = split_files_to_chunks(files, custom_text_split_function=self.custom_text_split_function)
        else:
            chunks, sources = split_files_to_chunks(files, self._chunk_token_size, self._chunk_mode,
                                                    self._must_break_at_empty_line)
        logger.info("found %d chunks in %d files", len(chunks), len(files))
        existing = ({str(d["id"]) for d in db.get_docs_by_ids(None, self._collection_name, include=[])}
                    if self._new_docs else set())
        docs: dict[str, Document] = {}
        for content, source in zip(chunks, sources, strict=True):
            doc_id = chunk_id(content)
            if doc_id not in existing and doc_id not in docs:
                docs[doc_id] = Document(id=doc_id, content=content, metadata=source)
        db.insert_docs(list(docs.values()), collection_name=self._collection_name, upsert=True)

    # ------------------------------------------------------------------ retrieval

    def retrieve_docs(self, problem: str, n_results: int = 20, search_string: str = "") -> None:
        """Search for ``problem``; the results (``QueryResults``) go to ``self._results``.
        ``search_string``: only chunks that contain it."""
        if not self._collection_ready:
            self._init_db()
            self._collection_ready = True
        kwargs = {"where_document": {"$contains": search_string}} if search_string else {}
        self._results = self._vector_db.retrieve_docs(queries=[problem], collection_name=self._collection_name,
                                                      n_results=n_results, distance_threshold=self._distance_threshold,
                                                      **kwargs)
        self._search_string = search_string
        self._query = problem

    def _reset(self, intermediate: bool = False) -> None:
        self._doc_idx = -1  # the last result position taken into a context
        self._results = []
        self._query = ""
        if not intermediate:
            self._search_string = ""
            self._intermediate_answers: set[str] = set()
            self._doc_contents: list[str] = []
            self._doc_ids: list[str] = []  # every chunk sent in this chat so far
        self._current_docs_in_context: list[str] = []
        self._current_ids: list[str] = []

    def _get_context(self, results: QueryResults) -> str:
        """The next chunks of ``results`` not sent yet, as many as fit in ``context_max_tokens`` (at most ``n_results``)."""
        contents: list[str] = []
        self._current_docs_in_context = []
        self._current_ids = []
        used_tokens = 0
        if not results:
            return ""
        for position, (doc, _distance) in enumerate(results[0]):
            if position <= self._doc_idx or str(doc["id"]) in self._doc_ids:
                continue
            tokens = self.custom_token_count_function(doc["content"], self._model)
            if tokens > self._context_max_tokens:
                _iostream().print(f"Skip doc_id {doc['id']} as it is too long to fit in the context.", flush=True)
                self._doc_idx = position
                continue
            if used_tokens + tokens > self._context_max_tokens:
                break
            _iostream().print(f"Adding content of doc {doc['id']} to context.", flush=True)
            used_tokens += tokens
            contents.append(doc["content"])
            metadata = doc.get("metadata")
            if isinstance(metadata, dict):
                self._current_docs_in_context.append(metadata.get("source", ""))
            self._doc_idx = position
            self._doc_ids.append(str(doc["id"]))
            self._current_ids.append(str(doc["id"]))
            self._doc_contents.append(doc["content"])
            if len(contents) >= self.n_results:
                break
        return "".join(c + "\n" for c in contents)

    def _emit_retrieval(self) -> None:
        if events.DocumentsRetrieved not in events.current_stream().wanted:
            return
        results = [{"id": doc["id"], "source": (doc.get("metadata") or {}).get("source", ""), "distance": distance}
                   for doc, distance in (self._results[0] if self._results else [])]
        _report(events.DocumentsRetrieved(agent=self.name, query=self._query or self.problem,
                                          collection=self._collection_name, results=results, used=list(self._current_ids)))

    def _generate_message(self, doc_contents: str, task: str = "default") -> str:
        self._emit_retrieval()
        if not doc_contents:
            _iostream().print("No more context, will terminate.", flush=True)
            return "TERMINATE"
        if self.customized_prompt:
            return self.customized_prompt.format(input_question=self.problem, input_context=doc_contents)
        task = task.upper()
        if task == "CODE":
            return PROMPT_CODE.format(input_question=self.problem, input_context=doc_contents)
        if task == "QA":
            return PROMPT_QA.format(input_question=self.problem, input_context=doc_contents)
        return PROMPT_DEFAULT.format(input_question=self.problem, input_context=doc_contents,
                                     input_sources=self._current_docs_in_context)

    def _next_context(self) -> str:
        """The rest of the current results; when none is left, wider searches for the same problem.

        A search no wider than the current results is skipped (classic restarted at 3 × n_results
        on every update, and so stopped after the third chunk when n_results was 1)."""
        contents = self._get_context(self._results)
        seen = len(self._results[0]) if self._results else 0
        for widening in range(1, _WIDER_SEARCHES + 1):
            if contents:
                break
            n = self.n_results * (2 * widening + 1)
            if n <= seen:
                continue
            self._reset(intermediate=True)
            self.retrieve_docs(self.problem, n, self._search_string)
            contents = self._get_context(self._results)
            seen = len(self._results[0]) if self._results else 0
            if seen < n:
                break  # the store has no more to give
        return contents

    # ------------------------------------------------------------------ the conversation

    def _check_update_context(self, message: Any) -> tuple[bool, bool]:
        text = content_str(message.get("content")) if isinstance(message, dict) else message if isinstance(message, str) else ""
        asks_update = "UPDATE CONTEXT" in text.upper() and UPDATE_CONTEXT_IN_PROMPT not in text
        lacks_prefix = bool(self.customized_answer_prefix) and self.customized_answer_prefix not in text.upper()
        return asks_update, lacks_prefix

    def _is_termination_msg_retrievechat(self, message: dict | str) -> bool:
        """Stop when the answer has no Python code to run and asks for no more context."""
        text = content_str(message.get("content")) if isinstance(message, dict) else message
        if not text:
            return False
        has_python = any(lang == "python" for lang, _ in extract_code(text))
        asks_update, lacks_prefix = self._check_update_context(text)
        return not (has_python or asks_update or lacks_prefix)

    def _check_update_context_before_send(self, sender: Any, message: Any, recipient: Any, silent: bool) -> Any:
        """A human who types ``UPDATE CONTEXT`` sends the next chunks instead."""
        text = content_str(message.get("content")) if isinstance(message, dict) else message
        if not isinstance(text, str) or text.strip().upper() != "UPDATE CONTEXT":
            return message
        new_text = self._generate_message(self._next_context(), task=self._task)
        return {**message, "content": new_text} if isinstance(message, dict) else new_text

    async def _generate_retrieve_user_reply(self, messages: list[dict] | None = None, sender: Agent | None = None,
                                            config: Any = None) -> tuple[bool, str | None]:
        """After ``UPDATE CONTEXT`` (or an answer without ``customized_answer_prefix``): reset both
        histories and reply with the next context. The search runs in a worker thread, so other
        chats on the event loop go on meanwhile."""
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if not messages:
            return False, None
        message = messages[-1]
        asks_update, lacks_prefix = self._check_update_context(message)
        if not ((asks_update or lacks_prefix) and self.update_context):
            return False, None
        _iostream().print("Updating context and resetting conversation.", flush=True)
        first_line = content_str(message.get("content")).split("\n")[0].strip()
        first_sentence = re.split(r"(?<=[.!?])\s+", first_line)[0]
        self._intermediate_answers.add(first_sentence)
        if asks_update:
            contents = await asyncio.to_thread(self._next_context)
        else:
            contents = await asyncio.to_thread(self._context_for_answer, first_sentence)
        self.clear_history()
        if isinstance(sender, ConversableAgent):
            sender.clear_history()
        return True, self._generate_message(contents, task=self._task)

    def _context_for_answer(self, answer: str) -> str:
        """Search with a partial answer, and add its nearest chunks to those sent so far."""
        contents = ""
        for widening in range(_WIDER_SEARCHES + 1):
            n = self.n_results * (2 * widening + 1)
            self._reset(intermediate=True)
            self.retrieve_docs(answer, n, self._search_string)
            self._get_context(self._results)
            contents = "\n".join(self._doc_contents)
            if contents or not self._results or n > len(self._results[0]):
                break
        return contents

    @staticmethod
    def message_generator(sender: RetrieveUserProxyAgent, recipient: Agent, context: dict) -> str:
        """The first message of a chat: retrieves for ``context["problem"]`` (``n_results``, default 20
        or retrieve_config's; ``search_string``) and fills the prompt."""
        if not isinstance(sender, RetrieveUserProxyAgent):
            raise TypeError("message_generator is for chats started by a RetrieveUserProxyAgent")
        sender._reset()
        problem = context.get("problem", "")
        if not isinstance(problem, str):
            raise TypeError(f"problem must be a str, not {type(problem).__name__}")
        n_results = context.get("n_results", sender._default_n_results)
        if not isinstance(n_results, int) or n_results < 1:
            raise ValueError(f"n_results must be a positive int, got {n_results!r}")
        sender.problem = problem
        sender.n_results = n_results
        sender.retrieve_docs(problem, n_results, context.get("search_string", ""))
        return sender._generate_message(sender._get_context(sender._results), sender._task)


class RetrieveAssistantAgent(AssistantAgent):
    """Classic's (deprecated there too): an AssistantAgent that ends the chat after code ran successfully
    and passes ``UPDATE CONTEXT`` on. A plain AssistantAgent works as the proxy's partner."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn("RetrieveAssistantAgent is deprecated (as in classic AutoGen): use AssistantAgent",
                      DeprecationWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
        self.register_reply(Agent, RetrieveAssistantAgent._generate_retrieve_assistant_reply)

    def _generate_retrieve_assistant_reply(self, messages: list[dict] | None = None, sender: Agent | None = None,
                                           config: Any = None) -> tuple[bool, str | None]:
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if not messages:
            return False, None
        text = content_str(messages[-1].get("content"))
        if "exitcode: 0 (execution succeeded)" in text:
            return True, "TERMINATE"
        if "UPDATE CONTEXT" in text[-20:].upper() or "UPDATE CONTEXT" in text[:20].upper():
            return True, "UPDATE CONTEXT"
        return False, None


__all__ = ["PROMPT_CODE", "PROMPT_DEFAULT", "PROMPT_QA", "RetrieveAssistantAgent", "RetrieveUserProxyAgent", "chunk_id"]
