"""``OpenAIWrapper``: the classic name for an agent's model access.

It turns an ``llm_config`` into one model client per config-list entry and composes the wrappers
that are common to all providers around them (``accounting.py``, ``cached.py``, ``failover.py``):

    FailoverClient            tries each entry in order (only with more than one entry)
      EntryClient             the entry's generation parameters under the call's
        UsageRecorder         the reply's model and cost, the usage summaries, ModelCalled
          CachedClient        the call's cache, when there is one
            CallAnnouncer     ModelCallStarted
              the provider's client (itself maybe a RetryingClient)

and streams tokens (``TokenStreamed``) when ``stream`` is set.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from .. import events
from .accounting import CallAnnouncer, UsageRecorder, UsageSummary
from .accounting import usage_of_calls as usage_of_calls  # the store's resume imports it from here
from .cached import CachedClient
from .cached import cache_key as cache_key  # classic-era import path
from .cached import public_entry as public_entry
from .failover import EntryClient, FailoverClient
from .llm_config import ENDPOINT_KEYS, WRAPPER_KEYS, check_entry, check_generation_params, check_llm_config
from .pricing import parse_price
from .protocol import ModelClient, ModelConfigError, ModelRequest, ModelResponse
from .stream import StreamedReply

if TYPE_CHECKING:
    from .completion import ChatCompletion  # pydantic: imported only by the classic sync create

logger = logging.getLogger(__name__)


_ENTRY_CACHE_KEYS = frozenset({"cache_seed", "cache"})


def legacy_functions(llm_config: dict) -> list[dict] | None:
    """The legacy ``functions`` schemas of ``llm_config`` (checked by :func:`offered_tools`)."""
    return list(llm_config.get("functions") or []) or None


def offered_tools(llm_config: dict) -> list[dict] | None:
    """The tools the model is offered: ``tools``, and the legacy ``functions`` as tools (the model
    answers with tool calls, which an agent's ``function_map`` executes just the same)."""
    tools = list(llm_config.get("tools") or [])
    functions = llm_config.get("functions") or []
    if not isinstance(functions, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in functions):
        raise ModelConfigError("llm_config['functions'] must be a list of function schemas, each with a 'name'")
    tools.extend({"type": "function", "function": function} for function in functions)
    return tools or None


class OpenAIWrapper:
    """Model access for one agent, from an ``llm_config``.

    Entries are tried in order; when one raises, the next is tried (failover) and the last
    error is raised if all fail.
    """

    def __init__(self, *, config_list: list[dict] | None = None, **base_config: Any) -> None:
        llm_config = dict(base_config)
        if config_list is not None:
            llm_config["config_list"] = config_list
        entries = check_llm_config(llm_config, at_request=False)
        if "seed" in llm_config and "cache_seed" not in llm_config:
            # Classic 0.1/early 0.2 scripts asked for caching with ``seed``; it is also sent to the
            # model as the provider's sampling seed, as classic 0.2 sends it.
            llm_config["cache_seed"] = llm_config["seed"]
        self.cache_seed = llm_config.get("cache_seed")
        self.stream = bool(llm_config.get("stream", False))
        self.tools = offered_tools(llm_config)
        self.functions: list[dict] | None = legacy_functions(llm_config)
        self.response_format = llm_config.get("response_format")
        generation = {k: v for k, v in llm_config.items() if k not in WRAPPER_KEYS and k not in ENDPOINT_KEYS and k != "model"}
        if not isinstance(generation.get("seed", 0), int):
            del generation["seed"]  # a string seed can only be a cache key (models take an int)
        self._config_list: list[dict] = []
        self._params: list[dict] = []
        self._clients: list[ModelClient | None] = []
        for i, entry in enumerate(entries):
            entry = dict(entry)
            if "price" not in entry and "price" in llm_config:
                entry["price"] = llm_config["price"]
            if entry.get("price") is not None:
                parse_price(entry["price"], f"llm_config['config_list'][{i}]['price']")
            self._config_list.append(entry)
            params = dict(generation)
            # An entry's cache settings are the wrapper's business, never request parameters.
            params.update({k: v for k, v in entry.items()
                           if k not in ENDPOINT_KEYS and k not in _ENTRY_CACHE_KEYS and k != "model"})
            self._params.append(params)
            self._clients.append(self._build_client(entry, entry_path(llm_config, i)))
        self._usage = UsageSummary()  # shared by every entry's UsageRecorder
        self._seed_cache: Any = None  # the disk cache for cache_seed, opened on first use
        # The composed clients (built on first use, again after register_model_client).
        self._composed_plain: ModelClient | None = None
        self._composed_seeded: ModelClient | None = None
        self._unregistered = sum(1 for client in self._clients if client is None)
        runtime_logging = sys.modules.get("parley.runtime_logging")
        if runtime_logging is not None and runtime_logging.logging_enabled():
            runtime_logging.log_new_wrapper(self, {"config_list": config_list, "base_config": base_config})

    @staticmethod
    def _build_client(entry: dict, where: str | None = None) -> ModelClient | None:
        """The entry's client; with ``where`` (its path in the llm_config), an entry that only a
        request can refuse (no model) gets a client that refuses every request."""
        if "client" in entry:
            client = entry["client"]
            if not callable(getattr(client, "create", None)):
                raise ModelConfigError("config entry 'client' must be a model client with an async create(request)")
            return client
        if "model_client_cls" in entry:
            return None  # filled in by register_model_client
        from .providers import DeferredClient, build_client

        if where is not None:
            try:
                check_entry(entry, where)
            except ModelConfigError as problem:
                return DeferredClient(entry, problem)
        return build_client(entry)

    def _clients_for_call(self, endpoint: dict) -> list[ModelClient | None]:
        """The clients of every entry with ``endpoint`` fields (given to one call) laid over it."""
        clients: list[ModelClient | None] = []
        for i, (entry, client) in enumerate(zip(self._config_list, self._clients, strict=True)):
            if "client" in entry or "model_client_cls" in entry:
                clients.append(client)  # a custom client is configured by its own code
                continue
            merged = {**entry, **endpoint}
            check_entry(merged, f"create(...) with llm_config['config_list'][{i}]")
            clients.append(self._build_client(merged))
        return clients

    @property
    def config_list(self) -> list[dict]:
        return self._config_list

    def register_model_client(self, model_client_cls: type, **kwargs: Any) -> None:
        """Classic: instantiate ``model_client_cls(config, **kwargs)`` for the first entry naming it
        that has no client yet; one call per entry, as classic (each may get its own ``kwargs``).
        A call when every such entry has one only warns; a class no entry names is a ValueError."""
        from .custom import ClassicClientAdapter

        already = False
        for i, entry in enumerate(self._config_list):
            if entry.get("model_client_cls") != model_client_cls.__name__:
                continue
            if self._clients[i] is None:
                self._clients[i] = ClassicClientAdapter(model_client_cls(entry, **kwargs), entry)
                self._unregistered -= 1
                self._composed_plain = self._composed_seeded = None
                return
            already = True
        if already:
            logger.warning(f"Model client {model_client_cls.__name__} is already registered. "
                           "Add more entries in the config_list to use multiple model clients.")
            return
        raise ValueError(
            f'Model client "{model_client_cls.__name__}" is being registered but was not found in the config_list. '
            f'Please make sure to include an entry in the config_list with "model_client_cls": "{model_client_cls.__name__}"'
        )

    def _check_registered(self) -> None:
        for entry, client in zip(self._config_list, self._clients, strict=True):
            if client is None:
                raise RuntimeError(
                    f"model client class {entry['model_client_cls']!r} is not registered: "
                    f"call agent.register_model_client(model_client_cls={entry['model_client_cls']})"
                )

    def create(self, **config: Any) -> ChatCompletion:
        """Classic: call the model and wait for the answer, an ``openai.types.chat.ChatCompletion``
        (a stand-in of the same shape without the openai SDK) with ``cost``, ``config_id`` and
        ``pass_filter`` set.

        ``config`` holds ``messages`` and any generation parameters (``temperature``, ...), and
        optionally ``cache``, ``cache_seed``, ``agent``, ``tools``, ``response_format``, a
        ``context`` to fill message templates (``instantiate``) and a ``filter_func(context=...,
        response=...)`` that passes a reply over for the next entry's. Endpoint fields
        (``api_key``, ``base_url``, ...) configure the client for this call. Async code uses ``a_create``.
        """
        from .._sync import run_sync
        from .completion import to_chat_completion

        messages = config.pop("messages", None)
        prompt = config.pop("prompt", None)
        if (prompt is None) == (messages is None):
            raise ValueError("Either prompt or messages should be in create config but not both.")
        context = config.pop("context", None)
        allow_format_str_template = config.pop("allow_format_str_template", False)
        if prompt is not None:
            # Classic sent a prompt to the legacy completions endpoint; chat models take it as
            # the user's message.
            prompt = self.instantiate(prompt, context, allow_format_str_template)
            if not isinstance(prompt, str):
                raise TypeError("OpenAIWrapper.create: prompt must be a str (or a template giving one), "
                                f"got {type(prompt).__name__}")
            messages = [{"role": "user", "content": prompt}]
        elif not isinstance(messages, list):
            raise TypeError("OpenAIWrapper.create needs messages=[{'role': ..., 'content': ...}, ...]")
        elif context is not None:
            messages = [{**m, "content": self.instantiate(m.get("content"), context, allow_format_str_template)}
                        if isinstance(m, dict) else m for m in messages]
        cache = config.pop("cache", None)
        cache_seed = config.pop("cache_seed", None)
        if cache is None and cache_seed is not None:
            cache = _disk_cache(cache_seed)
        agent = config.pop("agent", None)
        filter_func = config.pop("filter_func", None)
        accept = None
        if filter_func is not None:
            if not callable(filter_func):
                raise TypeError(
                    f"OpenAIWrapper.create: filter_func must be callable (context=..., response=...) -> bool, got {filter_func!r}"
                )

            def accept(response: ModelResponse) -> bool:
                # The returned reply is the last one judged: its verdict is its pass_filter.
                outcome["pass_filter"] = passed = bool(filter_func(context=context, response=to_chat_completion(response)))
                return passed
        outcome: dict[str, Any] = {"pass_filter": True}
        tools = config.pop("tools", None)
        functions = config.pop("functions", None)
        if functions is not None:  # classic's legacy schemas, offered as tools where a provider lacks them
            tools = offered_tools({"tools": tools, "functions": functions})
        response = run_sync(self.a_create(
            messages, tools=tools, response_format=config.pop("response_format", None),
            agent=getattr(agent, "name", agent), cache=cache, params=config or None, accept=accept, outcome=outcome,
            functions=functions,
        ))
        return to_chat_completion(response, config_id=outcome.get("config_id"), pass_filter=outcome["pass_filter"])

    @staticmethod
    def _update_dict_from_chunk(chunk: Any, d: dict[str, Any], field: str) -> int:
        """Classic name of :func:`parley.models.stream.update_dict_from_chunk` (a streamed delta's field into ``d``)."""
        from .stream import update_dict_from_chunk

        return update_dict_from_chunk(chunk, d, field)

    @staticmethod
    def extract_text_or_completion_object(response: ChatCompletion) -> list:
        """Classic: each choice's text, or its message object when it calls tools."""
        from .completion import extract_text_or_completion_object

        return extract_text_or_completion_object(response)

    @staticmethod
    def instantiate(template: Any, context: dict | None = None, allow_format_str_template: bool = False) -> Any:
        """Classic: a message template filled from ``context`` (a callable of it, or with
        ``allow_format_str_template`` a ``str.format`` template)."""
        if not context or template is None:
            return template
        if isinstance(template, str):
            return template.format(**context) if allow_format_str_template else template
        return template(context) if callable(template) else template

    async def a_create(
        self,
        messages: list[dict],
        *,
        tools: list[dict] | None = None,
        response_format: dict | None = None,
        agent: str | None = None,
        purpose: str = "reply",
        cache: Any = None,
        params: dict | None = None,
        accept: Callable[[ModelResponse], bool] | None = None,
        outcome: dict | None = None,
        functions: list[dict] | None = None,
    ) -> ModelResponse:
        """Call the model with failover over the config list (the engine's call). A reply that
        ``accept`` (classic's ``filter_func``) refuses is passed over for the next entry's, but
        the last entry's is returned whatever it is. ``outcome["config_id"]`` is set to the index
        of the entry whose reply is returned."""
        if self._unregistered:
            self._check_registered()
        on_token = None
        if self.stream:
            def show(token: str, _agent: str | None = agent) -> None:
                events.emit(events.TokenStreamed(agent=_agent, token=token))
            on_token = StreamedReply(show)  # one reply over retries and failover
        if cache is None and self.cache_seed is not None:
            if self._seed_cache is None:
                self._seed_cache = _disk_cache(self.cache_seed)
            cache = self._seed_cache
        client = None
        if params:
            check_generation_params(params, "create(...)")
            params = dict(params)
            if not params.keys().isdisjoint(ENDPOINT_KEYS):
                # A key, URL or other endpoint setting given for this call configures the client
                # for it (as an entry field would); it is never sent as a request parameter.
                endpoint = {k: params.pop(k) for k in ENDPOINT_KEYS & params.keys()}
                client = self._compose(self._clients_for_call(endpoint), cache, endpoint)
        if client is None:
            client = self._composed_plain if cache is None else None  # the common call: no look-up
            if client is None:
                client = self._composed(cache)
        # Positional (keywords cost twice as much, on every call): messages, tools, response
        # format, params, stream, on_token, functions, agent, purpose.
        request = ModelRequest(
            messages,
            tools if tools is not None else self.tools,
            response_format if response_format is not None else self.response_format,
            params or {},
            self.stream,
            on_token,
            functions if functions is not None else self.functions if tools is None else None,
            agent,
            purpose,
        )
        if accept is None and outcome is None:
            return await client.create(request)
        if not isinstance(client, FailoverClient):
            client = FailoverClient([client], [self._config_list[0].get("model", "?")])
        index, response = await client.first_accepted(request, accept)
        if outcome is not None:
            outcome["config_id"] = index
        return response

    def _composed(self, cache: Any) -> ModelClient:
        """The entries' clients composed with ``cache`` (kept for no cache and the ``cache_seed`` one)."""
        if cache is None:
            if self._composed_plain is None:
                self._composed_plain = self._compose(self._clients, None)
            return self._composed_plain
        if cache is self._seed_cache:
            if self._composed_seeded is None:
                self._composed_seeded = self._compose(self._clients, cache)
            return self._composed_seeded
        return self._compose(self._clients, cache)  # a chat's cache: composed for the call

    def _compose(self, clients: list[ModelClient | None], cache: Any, endpoint: dict | None = None) -> ModelClient:
        """The one client a call asks: each entry's client under the common wrappers, with
        failover across the entries when there are several (module docstring)."""
        composed: list[ModelClient] = []
        models: list[str] = []
        for i, client in enumerate(clients):
            entry = self._config_list[i] if endpoint is None else {**self._config_list[i], **endpoint}
            model = entry.get("model", "")
            chain: ModelClient = CallAnnouncer(cast(ModelClient, client), model)  # registered: _check_registered()
            if cache is not None:
                chain = CachedClient(chain, cache, entry)
            chain = UsageRecorder(chain, self._usage, model, entry.get("price"))
            if self._params[i]:
                chain = EntryClient(chain, self._params[i])
            composed.append(chain)
            models.append(model or "?")
        return composed[0] if len(composed) == 1 else FailoverClient(composed, models)

    @property
    def total_usage_summary(self) -> dict | None:
        """Classic: every reply's usage and cost, by model (cached replies included); None before any."""
        return self._usage.total

    @total_usage_summary.setter
    def total_usage_summary(self, summary: dict | None) -> None:
        self._usage.total = summary

    @property
    def actual_usage_summary(self) -> dict | None:
        """Classic: the usage and cost of the replies a model made (not served from a cache)."""
        return self._usage.actual

    @actual_usage_summary.setter
    def actual_usage_summary(self, summary: dict | None) -> None:
        self._usage.actual = summary

    def add_stored_usage(self, calls: Iterable[Mapping[str, Any]]) -> None:
        """Count model calls made elsewhere (the run store's rows: model, prompt_tokens,
        completion_tokens, cost, cached) in this client's usage summaries, as if it had made them:
        an agent rebuilt to resume a run then reports the whole run's usage."""
        self._usage.count_stored(calls)

    def clear_usage_summary(self) -> None:
        self._usage.clear()

    def print_usage_summary(self, mode: str | Iterable[str] = ("actual", "total")) -> None:
        from ..usage import print_usage

        print_usage(self.actual_usage_summary, self.total_usage_summary, mode)


def entry_path(llm_config: dict, index: int) -> str:
    """Where config entry ``index`` is in ``llm_config``, for error messages."""
    return f"llm_config['config_list'][{index}]" if "config_list" in llm_config else "llm_config"


def _disk_cache(cache_seed: Any) -> Any:
    from ..cache import Cache

    return Cache.disk(cache_seed=cache_seed)
