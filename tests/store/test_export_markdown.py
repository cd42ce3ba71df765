"""The Markdown export keeps what a run holds as text: code and output can't close their fences,
message text can't carry raw HTML (checked by rendering it with a CommonMark parser)."""

from __future__ import annotations

import pytest

from parley.store.export import to_markdown

markdown_it = pytest.importorskip("markdown_it")

HOSTILE = "done\n```\n<script>alert(1)</script>\n````\n<img src=x onerror=alert(2)>"
OPEN = "see:\n```html\n<p>unclosed"  # a code block the message leaves open


def _data() -> dict:
    run = {"id": "r1", "status": "finished", "reason": None, "kind": "chat", "initiator": "user", "recipient": "assistant",
           "created_at": 0.0, "updated_at": 0.0, "messages": 1, "tokens": 0, "cost": 0.0, "summary": "<b>sum</b>"}
    return {"run": run, "model_calls": [], "human_inputs": [], "speaker_selections": [],
            "messages": [{"sender": "assistant", "recipient": "user", "message": {
                "content": HOSTILE, "tool_calls": [{"function": {"name": "f", "arguments": '{"a": "``` x"}'}}]}},
                         {"sender": "user", "recipient": "assistant", "message": {"content": OPEN}}],
            "tool_calls": [{"agent": "user", "tool": "f", "arguments": "`a` | ``b``", "ok": True, "result": "<i>r</i>"}],
            "code_executions": [{"agent": "user", "language": "python", "executor": "sandbox", "exit_code": 0,
                                 "code": "print('```')", "output": HOSTILE}]}


def test_no_fence_is_broken_and_no_raw_html_passes():
    markdown = to_markdown(_data())
    tokens = markdown_it.MarkdownIt("commonmark").parse(markdown)
    assert not [t for t in tokens if t.type == "html_block"]
    inline_html = [c for t in tokens if t.children for c in t.children if c.type == "html_inline"]
    assert inline_html == []
    fences = [t for t in tokens if t.type == "fence"]
    # The message's own code blocks stay code (as written); the export's fences hold code and output whole.
    assert [f.content for f in fences] == ["<script>alert(1)</script>\n", "<p>unclosed\n", "print('```')\n", HOSTILE + "\n"]
    assert fences[2].info == "python"
    assert any(t.type == "inline" and t.content == "Code executions" for t in tokens)  # not swallowed by OPEN's block
    html = markdown_it.MarkdownIt("commonmark").render(markdown)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;img src=x" in html  # the message text still says what it said
