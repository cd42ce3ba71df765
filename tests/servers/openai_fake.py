"""A fake OpenAI-compatible server: chat completions, plain and streamed (SSE), tool calls,
usage, and injected faults (see :class:`~tests.servers.base.FakeServer`).

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

import argparse
import asyncio
import itertools
import sys
import time

from aiohttp import web

if __package__ in (None, ""):
    sys.path.insert(0, __file__.rsplit("/tests/", 1)[0])
from tests.servers.base import FakeServer

_ids = itertools.count(1)


def _words(messages: list[dict]) -> int:
    return sum(len(str(m.get("content") or "").split()) for m in messages)


class FakeOpenAIServer(FakeServer):
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
        ]

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body, action = await self.next_action(request)
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--content", default="Hello from the fake server.")
    args = parser.parse_args()
    server = FakeOpenAIServer(delay=args.delay, default={"content": args.content})

    async def run() -> None:
        await server.serve(args.port)
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
