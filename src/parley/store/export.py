"""Rendering a stored run: JSON (everything) or Markdown (a transcript people read)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from ..messages import content_str


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def to_json(data: dict) -> str:
    """JSON that any UTF-8 writer takes: lone surrogates (which a Python str may hold) as ``\\uXXXX``
    escapes, which JSON readers turn back into them."""
    return json_surrogates_escaped(json.dumps(data, indent=2, default=str, ensure_ascii=False))


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_surrogates_escaped(text: str) -> str:
    """JSON text with each raw surrogate written as its ``\\uXXXX`` escape (a surrogate can only
    stand inside a JSON string, where the escape means the same)."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _message_text(message: dict) -> str:
    parts = []
    try:
        text = content_str(message.get("content"))
    except (TypeError, ValueError):
        text = str(message.get("content"))
    if text:
        parts.append(text)
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        parts.append(f"*calls tool* `{function.get('name', '?')}({function.get('arguments', '')})`")
    if message.get("function_call"):
        call = message["function_call"]
        parts.append(f"*calls function* `{call.get('name', '?')}({call.get('arguments', '')})`")
    return "\n\n".join(parts) if parts else "*(empty)*"


def to_markdown(data: dict) -> str:
    run: dict[str, Any] = data["run"]
    lines = [
        f"# Run {run['id']}",
        "",
        f"- **Status:** {run['status']}" + (f" ({run['reason']})" if run.get("reason") else ""),
        f"- **Kind:** {run['kind']}",
        f"- **Agents:** {run.get('initiator') or '?'} → {run.get('recipient') or '?'}",
        f"- **Started:** {when(run['created_at'])}; **updated:** {when(run['updated_at'])}",
        (f"- **Messages:** {run['messages']}; **model calls:** {len(data['model_calls'])}; "
         f"**tokens:** {run['tokens']}; **cost:** ${run['cost']:.4f}"),
        "",
        "## Transcript",
        "",
    ]
    for row in data["messages"]:
        lines.append(f"### {row['sender']} → {row['recipient']}")
        lines.append("")
        lines.append(_message_text(row["message"]))
        lines.append("")
    if data["model_calls"]:
        lines += ["## Model calls", "", "| agent | model | purpose | prompt | completion | cost | latency (s) | cached |",
                  "|---|---|---|---:|---:|---:|---:|---|"]
        for c in data["model_calls"]:
            lines.append(
                f"| {c['agent'] or ''} | {c['model']} | {c['purpose']} | {c['prompt_tokens']} | {c['completion_tokens']} "
                f"| {c['cost']:.4f} | {c['latency_s']:.3f} | {'yes' if c['cached'] else 'no'} |"
            )
        lines.append("")
    if data["tool_calls"]:
        lines += ["## Tool calls", "", "| agent | tool | arguments | ok | result |", "|---|---|---|---|---|"]
        for c in data["tool_calls"]:
            ok = "yes" if c["ok"] else "no"
            lines.append(f"| {c['agent']} | {c['tool']} | `{c['arguments']}` | {ok} | {_cell(c['result'])} |")
        lines.append("")
    if data["code_executions"]:
        lines += ["## Code executions", ""]
        for c in data["code_executions"]:
            lines += [f"**{c['agent']}** ran {c['language']} ({c['executor']}): exit code {c['exit_code']}", "",
                      f"```{c['language']}", c["code"], "```", "", "```", c["output"], "```", ""]
    if data["human_inputs"]:
        lines += ["## Human input", ""]
        for h in data["human_inputs"]:
            lines.append(f"- {h['agent']} {'asked' if h['kind'] == 'request' else 'got'}: {_cell(h['text'])}")
        lines.append("")
    if data["speaker_selections"]:
        lines += ["## Speaker selections", "", "| round | speaker | method |", "|---:|---|---|"]
        for s in data["speaker_selections"]:
            lines.append(f"| {s['round']} | {s['speaker']} | {s['method']} |")
        lines.append("")
    if run.get("summary"):
        lines += ["## Summary", "", run["summary"], ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    text = " ".join(str(text).split())
    return (text[:200] + "…" if len(text) > 200 else text).replace("|", "\\|")
