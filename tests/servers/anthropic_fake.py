"""A fake Anthropic Messages API server (``POST /v1/messages``, plain and streamed), strict
like the real one about what it accepts: turns must alternate starting with the user, there is
no "system" role in ``messages``, ``max_tokens`` is required, every ``tool_result`` must answer
a ``tool_use`` of the turn before and come first in its turn, an image block has a base64 source of
a type it takes or a url source. A violation is a 400 whose
message says what is wrong, so conversion bugs fail tests loudly.

Reply actions: ``content`` (str), ``tool_calls`` (``[{"name", "input"}]``), ``stop_reason``
(e.g. ``"refusal"``), ``usage`` (``[input, output]``), ``stream_error`` (a streamed reply stops
after its first text delta with an ``error`` event carrying this message, as an ``overloaded_error``),
plus the faults of :class:`~tests.servers.base.FakeServer`. A streamed reply has a ``ping`` event
after its ``message_start``, as the real API's do.

Run alone (for benchmarks): ``python tests/servers/anthropic_fake.py --delay 0.1`` prints
``PORT <n>`` and serves until killed.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import sys

from aiohttp import web

if __package__ in (None, ""):
    sys.path.insert(0, __file__.rsplit("/tests/", 1)[0])
from tests.servers.base import FakeServer, serve_from_command_line

_ids = itertools.count(1)


def image_problem(source: object, where: str) -> str | None:
    """What the real API would reject in an image block's source, or None."""
    if not isinstance(source, dict):
        return f"{where}: Field required"
    if source.get("type") == "url":
        return None if isinstance(source.get("url"), str) else f"{where}.url: Field required"
    if source.get("type") != "base64":
        return f"{where}.type: Input should be 'base64' or 'url'"
    if source.get("media_type") not in ("image/jpeg", "image/png", "image/gif", "image/webp"):
        return f"{where}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
    try:
        base64.b64decode(source.get("data") or "", validate=True)
    except (binascii.Error, TypeError):
        return f"{where}.data: invalid base64"
    return None


def validation_error(body: dict) -> str | None:
    """What the real API would reject in this request body, or None."""
    if "max_tokens" not in body:
        return "max_tokens: Field required"
    messages = body.get("messages") or []
    if not messages:
        return "messages: at least one message is required"
    if messages[0]["role"] != "user":
        return "messages: first message must use the 'user' role"
    previous_tool_uses: set[str] = set()
    for i, message in enumerate(messages):
        role = message["role"]
        if role not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if i and messages[i - 1]["role"] == role:
            return f"messages: roles must alternate between 'user' and 'assistant' (messages.{i - 1} and {i} are both {role!r})"
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not blocks:
            return f"messages.{i}: content must be non-empty"
        seen_other = False
        tool_uses = set()
        for j, block in enumerate(blocks):
            kind = block.get("type")
            if kind == "text" and not block.get("text"):
                return f"messages.{i}: text content blocks must be non-empty"
            if kind not in ("text", "image", "tool_use", "tool_result"):
                return f"messages.{i}.content.{j}.type: Input tag {kind!r} does not match any of the expected tags"
            if kind == "image":
                problem = image_problem(block.get("source"), f"messages.{i}.content.{j}.source")
                if problem is not None:
                    return problem
            if kind == "tool_result":
                if role != "user":
                    return f"messages.{i}: tool_result blocks are only allowed in user turns"
                if seen_other:
                    return f"messages.{i}: tool_result blocks must come first in the turn"
                if block.get("tool_use_id") not in previous_tool_uses:
                    return f"messages.{i}: tool_result {block.get('tool_use_id')!r} has no tool_use in the previous turn"
            else:
                seen_other = True
            if kind == "tool_use":
                if not isinstance(block.get("input"), dict):
                    return f"messages.{i}: tool_use input must be an object"
                tool_uses.add(block["id"])
        previous_tool_uses = tool_uses
    return None


class FakeAnthropicServer(FakeServer):
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/messages", self.messages)]

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body, action = await self.next_action(request)
        problem = validation_error(body)
        if problem is not None:
            return web.json_response({"type": "error", "error": {"type": "invalid_request_error", "message": problem}}, status=400)
        stream = bool(body.get("stream"))
        if not (stream and action.get("drop")):
            fault = self.fault(request, action)
            if fault is not None:
                return fault
        model = action.get("model", body["model"])
        content = action.get("content")
        tool_uses = [{"type": "tool_use", "id": f"toolu_{next(_ids)}", "name": c["name"], "input": c["input"]} for c in action.get("tool_calls", ())]
        if content is None and not tool_uses:
            content = "Hello from the fake server."
        blocks = ([{"type": "text", "text": content}] if content else []) + tool_uses
        stop_reason = action.get("stop_reason", "tool_use" if tool_uses else "end_turn")
        input_tokens, output_tokens = action.get("usage", (10, len((content or "").split())))
        message_id = f"msg_{next(_ids)}"
        if not stream:
            return web.json_response({
                "id": message_id, "type": "message", "role": "assistant", "model": model, "content": blocks,
                "stop_reason": stop_reason, "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            })
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await self.write_sse(response, {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}, "message_start")
        await self.write_sse(response, {"type": "ping"}, "ping")
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                await self.write_sse(response, {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}, "content_block_start")
                words = block["text"].split(" ")
                for i, word in enumerate(words):
                    text = word if i == len(words) - 1 else word + " "
                    await self.write_sse(response, {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}, "content_block_delta")
                    if action.get("drop"):
                        request.transport.abort()  # type: ignore[union-attr]
                        return response
                    if action.get("stream_error"):
                        await self.write_sse(response, {"type": "error", "error": {
                            "type": "overloaded_error", "message": action["stream_error"]}}, "error")
                        await response.write_eof()
                        return response
            else:
                await self.write_sse(response, {"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}, "content_block_start")
                arguments = json.dumps(block["input"])
                half = len(arguments) // 2
                for part in (arguments[:half], arguments[half:]):
                    await self.write_sse(response, {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": part}}, "content_block_delta")
            await self.write_sse(response, {"type": "content_block_stop", "index": index}, "content_block_stop")
        await self.write_sse(response, {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                        "usage": {"output_tokens": output_tokens}}, "message_delta")
        await self.write_sse(response, {"type": "message_stop"}, "message_stop")
        await response.write_eof()
        return response


def main() -> None:
    serve_from_command_line(FakeAnthropicServer, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
