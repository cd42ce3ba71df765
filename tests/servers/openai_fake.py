"""A fake OpenAI-compatible server: chat completions, plain and streamed (SSE), tool calls,
usage, and injected faults (see :class:`~tests.servers.base.FakeServer`); and ``/v1/embeddings``
(a word-hashing vector per input, requests in ``embedding_requests``).

Reply actions: ``content`` (str), ``tool_calls`` (``[{"name", "arguments"}]``, arguments a
string, sent as is even when not valid JSON), ``function_call`` (``{"name", "arguments"}``, the
legacy API's), ``choices`` (more contents, answered as further choices: ``n``), ``finish_reason`` (e.g. ``"content_filter"``),
``usage`` (``[prompt, completion]``, default: word counts), ``model``, ``linger`` (seconds a
streamed reply waits after its ``[DONE]`` before ending its body: a client that stops reading at
``[DONE]`` then releases its connection before the body's end).

Run alone (for benchmarks): ``python tests/servers/openai_fake.py --delay 0.1`` prints
``PORT <n>`` and serves until killed.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import sys
import time

from aiohttp import web

if __package__ in (None, ""):
    sys.path.insert(0, __file__.rsplit("/tests/", 1)[0])
from tests.servers.base import FakeServer, serve_from_command_line

_ids = itertools.count(1)
_IMAGE_DATA_URL = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+=*$")


def _words(messages: list[dict]) -> int:
    return sum(len(str(m.get("content") or "").split()) for m in messages)


def content_problem(body: dict) -> str | None:
    """What the real API would reject in the messages' content parts (text and image_url parts,
    an image's url an http(s) URL or a base64 image data URL), or None."""
    for i, message in enumerate(body.get("messages") or ()):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            where = f"messages[{i}].content[{j}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                if not isinstance(part.get("text"), str):
                    return f"Invalid type for '{where}.text': expected a string"
            elif kind == "image_url":
                if message.get("role") not in (None, "user"):
                    return f"Invalid '{where}': image_url parts are only allowed in user messages"
                url = (part.get("image_url") or {}).get("url") if isinstance(part.get("image_url"), dict) else None
                if not isinstance(url, str) or not (url.startswith(("http://", "https://")) or _IMAGE_DATA_URL.match(url)):
                    return (f"Invalid '{where}.image_url.url': expected a URL or a base64 data URL "
                            "of a png, jpeg, gif or webp image")
            else:
                return f"Invalid value for '{where}.type': {kind!r}"
    return None


def word_hash_vector(text: str, dimensions: int = 64) -> list[float]:
    """The fake's embedding: each lower-cased word adds 1 at a position hashed from it."""
    vector = [0.0] * dimensions
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dimensions] += 1.0
    return vector


class FakeOpenAIServer(FakeServer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.embedding_requests: list[dict] = []

    def reset(self) -> None:
        super().reset()
        self.embedding_requests.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self.chat_completions),
            web.post("/openai/deployments/{deployment}/chat/completions", self.chat_completions),
            web.post("/v1/embeddings", self.embeddings),
        ]

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.embedding_requests.append(body)
        inputs = [body["input"]] if isinstance(body["input"], str) else body["input"]
        data = [{"object": "embedding", "index": i, "embedding": word_hash_vector(text)} for i, text in enumerate(inputs)]
        return web.json_response({"object": "list", "data": data, "model": body.get("model", "fake"),
                                  "usage": {"prompt_tokens": 0, "total_tokens": 0}})

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body, action = await self.next_action(request)
        problem = content_problem(body)
        if problem is not None:
            return web.json_response({"error": {"message": problem, "type": "invalid_request_error"}}, status=400)
        stream = bool(body.get("stream"))
        if not (stream and action.get("drop")):
            fault = self.fault(request, action)
            if fault is not None:
                return fault
        model = action.get("model", request.match_info.get("deployment") or body.get("model", "fake"))
        content = action.get("content")
        tool_calls = [
            {"id": f"call_{next(_ids)}", "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
            for call in action.get("tool_calls", ())
        ]
        function_call = action.get("function_call")
        if content is None and not tool_calls and not function_call:
            content = "Hello from the fake server."
        finish_reason = action.get("finish_reason", "tool_calls" if tool_calls else "function_call" if function_call else "stop")
        prompt_tokens, completion_tokens = action.get("usage", (_words(body["messages"]), len((content or "").split())))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
        completion_id = f"chatcmpl-{next(_ids)}"
        if not stream:
            message = {"role": "assistant", "content": content}
            if tool_calls:
                message["tool_calls"] = tool_calls
            if function_call:
                message["function_call"] = function_call
            more = [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}
                    for i, text in enumerate(action.get("choices", ()), start=1)]
            return web.json_response({
                "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}, *more],
                "usage": usage,
            })
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        def chunk(delta: dict, finish: str | None = None, index: int = 0) -> dict:
            return {"id": completion_id, "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}

        await self.write_sse(response, chunk({"role": "assistant", "content": ""}))
        if content:
            words = content.split(" ")
            for i, word in enumerate(words):
                await self.write_sse(response, chunk({"content": word if i == len(words) - 1 else word + " "}))
                if action.get("drop"):
                    request.transport.abort()  # type: ignore[union-attr]
                    return response
        for index, call in enumerate(tool_calls):
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            await self.write_sse(response, chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                                                  "function": {"name": call["function"]["name"], "arguments": arguments[:half]}}]}))
            await self.write_sse(response, chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]}))
        if function_call:
            arguments = function_call["arguments"]
            half = len(arguments) // 2
            first_part = {"name": function_call["name"], "arguments": arguments[:half]}
            await self.write_sse(response, chunk({"function_call": first_part}))
            await self.write_sse(response, chunk({"function_call": {"arguments": arguments[half:]}}))
        for index, text in enumerate(action.get("choices", ()), start=1):  # n > 1: each further choice in turn
            await self.write_sse(response, chunk({"role": "assistant", "content": text}, index=index))
            await self.write_sse(response, chunk({}, "stop", index=index))
        await self.write_sse(response, chunk({}, finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            await self.write_sse(response, {"id": completion_id, "object": "chat.completion.chunk", "created": 0, "model": model,
                                            "choices": [], "usage": usage})
        await self.write_sse(response, "[DONE]")
        if action.get("linger"):
            await asyncio.sleep(action["linger"])
        await response.write_eof()
        return response


def main() -> None:
    serve_from_command_line(FakeOpenAIServer, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
