"""``OpenAIWrapper``: the classic name for an agent's model access.

It turns an ``llm_config`` into a chain of clients (one per config-list entry, tried in order:
failover), and around every call does what is common to all providers: cache look-up, usage and
cost accounting, and the ``ModelCalled`` / ``TokenStreamed`` events.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .. import events
from ..events import ModelCalled, ModelCallLogged, ModelCallStarted
from ..events import current_stream as _current_stream
from ..events import wanted_anywhere as _wanted_anywhere
from . import pricing
from .llm_config import ENDPOINT_KEYS, WRAPPER_KEYS, check_entry, check_generation_params, check_llm_config
from .pricing import parse_price
from .protocol import ModelClient, ModelConfigError, ModelRequest, ModelResponse
from .secrets import redact_config
from .stream import StreamedReply

if TYPE_CHECKING:
    from .completion import ChatCompletion  # pydantic: imported only by the classic sync create

logger = logging.getLogger(__name__)
_now = time.time
_current_chat = events.current_chat_id.get

_SECRET_KEYS = frozenset({"api_key", "azure_ad_token", "azure_ad_token_provider", "http_client", "client", "default_headers"})


def public_entry(entry: dict) -> dict:
    """A config entry without secrets or live objects: what may be cached (as a hash key)."""
    return {k: v for k, v in entry.items() if k not in _SECRET_KEYS and not callable(v)}


def _add_usage(summary: dict | None, response: ModelResponse) -> dict:
    """``summary`` (a new one when None) with ``response`` counted in it."""
    if summary is None:
        summary = {"total_cost": 0.0}
    summary["total_cost"] += response.cost
    per_model = summary.get(response.model)
    if per_model is None:
        per_model = summary[response.model] = {"cost": 0.0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    per_model["cost"] += response.cost
    per_model["prompt_tokens"] += response.prompt_tokens
    per_model["completion_tokens"] += response.completion_tokens
    per_model["total_tokens"] += response.prompt_tokens + response.completion_tokens
    return summary


def usage_of_calls(
    calls: Iterable[Mapping[str, Any]], total: dict | None = None, actual: dict | None = None,
) -> tuple[dict | None, dict | None]:
    """The total and actual (not cached) usage summaries with stored model calls (rows with
    model, prompt_tokens, completion_tokens, cost, cached) counted in."""
    for call in calls:
        response = ModelResponse(message={}, model=call["model"], prompt_tokens=call["prompt_tokens"],
                                 completion_tokens=call["completion_tokens"], cost=call["cost"])
        total = _add_usage(total, response)
        if not call["cached"]:
            actual = _add_usage(actual, response)
    return total, actual


# Entry fields and params that do not change what the model answers.
_NOT_IN_CACHE_KEY = frozenset({"tags", "price", "max_retries", "timeout"})


def cache_key(entry: dict, request: ModelRequest) -> str:
    """A stable key for what is sent (model, messages, tools, parameters), as classic computes it:
    not where it is sent, so the same request through another ``base_url`` (a restarted local
    server on a new port, a failover entry) is a hit. It never contains the API key."""
    body = {
        "entry": {k: v for k, v in public_entry(entry).items() if k not in _NOT_IN_CACHE_KEY and k not in ENDPOINT_KEYS},
        "messages": request.messages,
        "tools": request.tools,
        **({"functions": request.functions} if request.functions else {}),  # old keys stay valid
        "response_format": request.response_format,
        "params": {k: v for k, v in request.params.items() if k not in _NOT_IN_CACHE_KEY},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


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
        self.total_usage_summary: dict | None = None
        self.actual_usage_summary: dict | None = None
        self._seed_cache: Any = None  # the disk cache for cache_seed, opened on first use
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
        last_error: Exception | None = None
        if cache is None and self.cache_seed is not None:
            if self._seed_cache is None:
                self._seed_cache = _disk_cache(self.cache_seed)
            cache = self._seed_cache
        clients = self._clients
        endpoint: dict | None = None
        if params:
            check_generation_params(params, "create(...)")
        if params and not params.keys().isdisjoint(ENDPOINT_KEYS):
            # A key, URL or other endpoint setting given for this call configures the client
            # for it (as an entry field would); it is never sent as a request parameter.
            params = dict(params)
            endpoint = {k: params.pop(k) for k in ENDPOINT_KEYS & params.keys()}
            clients = self._clients_for_call(endpoint)
        count = len(clients)
        for i in range(count):
            entry = self._config_list[i] if endpoint is None else {**self._config_list[i], **endpoint}
            request_params = self._params[i]
            if params:
                request_params = {**request_params, **params}
            # Positional (keywords cost twice as much, on every call): messages, tools, response
            # format, params, stream, on_token.
            request = ModelRequest(
                messages,
                tools if tools is not None else self.tools,
                response_format if response_format is not None else self.response_format,
                request_params,
                self.stream,
                on_token,
                functions if functions is not None else self.functions if tools is None else None,
            )
            key = None
            started = time.perf_counter()
            if cache is not None:
                key = cache_key(entry, request)
                hit = cache.get(key, None)
                if isinstance(hit, dict):  # anything else (another program's entry) is a miss
                    response = ModelResponse(**hit, cached=True)
                    content = response.message.get("content")
                    if on_token is not None and isinstance(content, str) and content:
                        on_token(content)  # a streamed chat shows cached replies too
                    self._account(request, response, agent, purpose, time.perf_counter() - started)
                    if accept is None or accept(response) or i + 1 == count:
                        if outcome is not None:
                            outcome["config_id"] = i
                        return response
                    continue
            if ModelCallStarted in _wanted_anywhere and ModelCallStarted in _current_stream().wanted:
                events.emit(ModelCallStarted(agent=agent, model=entry.get("model", ""), purpose=purpose))
            try:
                client = clients[i]
                assert client is not None  # _check_registered() above refused unregistered entries
                response = await client.create(request)
            except Exception as error:  # failover: try the next entry
                last_error = error
                if i + 1 < count:
                    events.emit(events.Notice(
                        text=f"model {entry.get('model', '?')!r} failed ({type(error).__name__}); trying the next config entry",
                        level="warning",
                    ))
                    if on_token is not None:
                        on_token.restart()
                continue
            if not response.model:
                response.model = entry.get("model", "")
            price = entry.get("price")
            if price is not None or (not response.cost and pricing.price_for(response.model)):
                # The entry's price wins; else the table, for clients that do not price themselves.
                priced = pricing.cost(response.model, response.prompt_tokens, response.completion_tokens, price)
                response.cost = priced or response.cost
            if key is not None:
                entry_value = {
                    "message": response.message, "model": response.model, "prompt_tokens": response.prompt_tokens,
                    "completion_tokens": response.completion_tokens, "cost": response.cost,
                }
                if response.choices is not None:
                    entry_value["choices"] = response.choices
                cache.set(key, entry_value)
            self._account(request, response, agent, purpose, time.perf_counter() - started)
            if accept is None or accept(response) or i + 1 == count:
                if outcome is not None:
                    outcome["config_id"] = i
                return response
        assert last_error is not None
        raise last_error

    def _account(
        self, request: ModelRequest, response: ModelResponse, agent: str | None, purpose: str, latency: float,
    ) -> None:
        self.total_usage_summary = _add_usage(self.total_usage_summary, response)
        if not response.cached:
            self.actual_usage_summary = _add_usage(self.actual_usage_summary, response)
        if ModelCalled not in _wanted_anywhere and ModelCallLogged not in _wanted_anywhere:
            return  # no sink of any stream listens: no look-up of the run's stream
        stream = _current_stream()  # the run's (events.use_stream)
        publish = stream.publishers[ModelCalled]
        if publish is not None:
            # The event's record (events.record_layout): type, time, then ModelCalled's fields in declaration
            # order; a tuple display, as a call would cost on every message (tests/core/test_event_records.py
            # checks each field lands where the class declares it).
            publish((ModelCalled, _now(), agent, response.model, response.prompt_tokens, response.completion_tokens,
                     response.cost, latency, response.cached, purpose, _current_chat()))
        if ModelCallLogged in stream.wanted:
            stream.emit(ModelCallLogged(
                agent=agent, model=response.model, messages=list(request.messages), params=redact_config(request.params),
                tools=request.tools, response=response.message, prompt_tokens=response.prompt_tokens,
                completion_tokens=response.completion_tokens, cost=response.cost, latency_s=latency, cached=response.cached,
            ))

    def add_stored_usage(self, calls: Iterable[Mapping[str, Any]]) -> None:
        """Count model calls made elsewhere (the run store's rows: model, prompt_tokens,
        completion_tokens, cost, cached) in this client's usage summaries, as if it had made them:
        an agent rebuilt to resume a run then reports the whole run's usage."""
        self.total_usage_summary, self.actual_usage_summary = usage_of_calls(
            calls, self.total_usage_summary, self.actual_usage_summary)

    def clear_usage_summary(self) -> None:
        self.total_usage_summary = None
        self.actual_usage_summary = None

    def print_usage_summary(self, mode: str | Iterable[str] = ("actual", "total")) -> None:
        from ..usage import print_usage

        print_usage(self.actual_usage_summary, self.total_usage_summary, mode)


def entry_path(llm_config: dict, index: int) -> str:
    """Where config entry ``index`` is in ``llm_config``, for error messages."""
    return f"llm_config['config_list'][{index}]" if "config_list" in llm_config else "llm_config"


def _disk_cache(cache_seed: Any) -> Any:
    from ..cache import Cache

    return Cache.disk(cache_seed=cache_seed)
