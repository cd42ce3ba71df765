"""Rendering a stored run: JSON (everything) or Markdown (a transcript people read)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from ..images import display_text


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
        text = display_text(message.get("content"))  # an image as its label, never its base64
    except (TypeError, ValueError):
        text = str(message.get("content"))
    if text:
        parts.append(_markdown_text(text))
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        call_text = f"{function.get('name', '?')}({function.get('arguments', '')})"
        parts.append(f"*calls tool* {_code(call_text)}")
    if message.get("function_call"):
        call = message["function_call"]
        call_text = f"{call.get('name', '?')}({call.get('arguments', '')})"
        parts.append(f"*calls function* {_code(call_text)}")
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
            arguments = _code(" ".join(str(c["arguments"]).split()).replace("|", "\\|"))
            lines.append(f"| {c['agent']} | {c['tool']} | {arguments} | {ok} | {_cell(c['result'])} |")
        lines.append("")
    if data["code_executions"]:
        lines += ["## Code executions", ""]
        for c in data["code_executions"]:
            lines += [f"**{c['agent']}** ran {c['language']} ({c['executor']}): exit code {c['exit_code']}", "",
                      *_fenced(c["code"], c["language"]), "", *_fenced(c["output"]), ""]
    if data["human_inputs"]:
        lines += ["## Human input", ""]
        for h in data["human_inputs"]:
            lines.append(f"- {h['agent']} {'asked' if h['kind'] == 'request' else 'got'}: {_cell(h['text'])}")
        lines.append("")
    if data.get("retrievals"):
        from ..retrieval.reporting import summary

        lines += ["## Retrievals", ""]
        for event in retrieval_events(data["retrievals"]):
            lines.append(f"- {_cell_text(event.agent)}: {_cell_text(summary(event, ids=True))}")
        lines.append("")
    if data["speaker_selections"]:
        lines += ["## Speaker selections", "", "| round | speaker | method |", "|---:|---|---|"]
        for s in data["speaker_selections"]:
            lines.append(f"| {s['round']} | {s['speaker']} | {s['method']} |")
        lines.append("")
    if run.get("summary"):
        lines += ["## Summary", "", _markdown_text(run["summary"]), ""]
    return "\n".join(lines)


def retrieval_events(rows: list[dict]) -> list:
    """The retrieval events stored rows stand for (``parley_retrievals``; JSON columns as text or decoded)."""
    from .. import events

    found: list[events.Event] = []
    for row in rows:
        results, used = (json.loads(value) if isinstance(value, str) else value for value in (row["results"], row["used"]))
        event: events.Event
        if row["kind"] == "documents":
            event = events.DocumentsRetrieved(agent=row["agent"], query=row["query"], collection=row["collection"],
                                              results=results, used=used)
        elif row["kind"] == "memos":
            event = events.MemosRecalled(agent=row["agent"], query=row["query"], memos=results)
        else:
            [memo] = results
            event = events.MemoStored(agent=row["agent"], memo_id=memo["id"], input=memo["input"], output=memo["output"])
        event.time = row["created_at"]
        found.append(event)
    return found


def _cell_text(text: str) -> str:
    """Text on one Markdown line: whitespace joined, `<` and `&` escaped."""
    return _text(" ".join(str(text).split()))


def _cell(text: str) -> str:
    text = " ".join(str(text).split())
    return _text(text[:200] + "…" if len(text) > 200 else text).replace("|", "\\|")


# What a run holds came from models and programs: in the Markdown it stays text. A fence longer
# than any backtick run inside can't be closed by the content; `<` escaped, no raw HTML passes.
_BACKTICKS = re.compile("`+")


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def _fenced(text: str, info: str = "") -> list[str]:
    text = str(text)
    fence = "`" * max(3, _longest_backticks(text) + 1)
    return [fence + " ".join(str(info).split()).replace("`", ""), text, fence]


def _code(text: str) -> str:
    """An inline code span that the text's own backticks can't end."""
    ticks = "`" * (_longest_backticks(text) + 1)
    return f"{ticks} {text} {ticks}"


def _text(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;")


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _markdown_text(text: str) -> str:
    """A message (Markdown itself, as models write it): `<` escaped outside its code blocks, and a
    code block it leaves open closed at its end, so that it can't swallow the rest of the export."""
    out: list[str] = []
    fence: str | None = None
    for line in str(text).split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and not line.strip().strip(fence[0]):
            fence = None
        elif fence is None:
            line = _text(line)
        out.append(line)
    if fence is not None:
        out.append(fence)
    return "\n".join(out)
