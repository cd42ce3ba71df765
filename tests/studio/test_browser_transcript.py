"""The playground's transcript in a real browser for events the fake model can't make (streamed
tokens, tool calls, code runs, images): the page talks to a real ``parley studio`` for
everything but its events WebSocket, which Playwright answers with the events a run would send.
Also: a dropped WebSocket reconnects, and the server's replay shows nothing twice."""

from __future__ import annotations

import json
import re

import pytest

from tests.studio.conftest import TOKEN, wait_status
from tests.studio.test_browser_studio import CHROMIUM, browser, playwright_api, shots  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]

PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
         "rkJggg==")


REMOTE = "https://images.example/leak.png?conversation=secret"  # injected text can make a model emit this


def events(run_id: str) -> list[dict]:
    def event(kind: str, **fields) -> dict:
        return {"type": kind, "run_id": run_id, "time": 1.0, **fields}

    return [
        event("ChatStarted", sender="user_proxy", recipient="assistant", message="What is 2+2?", max_turns=None),
        event("MessageSent", sender="user_proxy", recipient="assistant", message={"content": "What is 2+2?", "role": "user"}),
        event("TokenStreamed", agent="assistant", token="Let"),
        event("TokenStreamed", agent="assistant", token=" me"),
        event("TokenStreamed", agent="assistant", token=" compute"),
    ], [
        event("MessageSent", sender="assistant", recipient="user_proxy", message={
            "content": None, "role": "assistant",
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "calculator", "arguments": '{"a": 2, "b": 2}'}}]}),
        event("ToolCalled", agent="user_proxy", tool="calculator", arguments='{"a": 2, "b": 2}', result="4", ok=True),
        event("MessageSent", sender="user_proxy", recipient="assistant", message={
            "content": "4", "role": "tool", "tool_responses": [{"tool_call_id": "call_1", "role": "tool", "content": "4"}]}),
        event("CodeExecuted", agent="user_proxy", language="python", code="print(2 + 2)", exit_code=0, output="4\n",
              executor="sandbox"),
        event("MessageSent", sender="user_proxy", recipient="assistant", message={
            "content": "exitcode: 0 (execution succeeded)\nCode output: 4\n", "role": "user"}),
        event("MessageSent", sender="assistant", recipient="user_proxy", message={"role": "assistant", "content": [
            {"type": "text", "text": "Here is a plot:"},
            {"type": "image_url", "image_url": {"url": PIXEL}},
            {"type": "image_url", "image_url": {"url": "javascript:alert(1)"}},
            {"type": "image_url", "image_url": {"url": REMOTE}}]}),
        event("ChatFinished", sender="user_proxy", recipient="assistant", reason="terminated", summary="4"),
        event("RunStatus", status="finished", reason="terminated"),
    ]


def test_streamed_tokens_tool_calls_code_runs_and_images(studio, browser, shots):  # noqa: F811
    expect = playwright_api.expect
    server = studio()
    with server.client() as client:  # a real run, so that the page's GET of it answers
        response = client.post("/api/runs", json={"team": "tools", "message": "What is 2+2?", "model": "scripted"})
        assert response.status_code == 201, response.text
        run_id = response.json()["id"]
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sockets: list = []
    page.route_web_socket(re.compile(r".*/api/runs/[^/]+/events$"), lambda socket: sockets.append(socket))

    page.goto(f"{server.base_url}/?token={TOKEN}")
    expect(page.get_by_role("heading", name="Start from a team")).to_be_visible()
    page.goto(f"{server.base_url}/#/runs/{run_id}")
    transcript = page.get_by_test_id("transcript")

    first, rest = events(run_id)
    assert_connected(page, sockets, 1)
    for item in first:
        sockets[-1].send(json.dumps(item))
    # Tokens grow one message, marked as being written.
    streaming = transcript.locator(".streaming")
    expect(streaming).to_contain_text("Let me compute")
    expect(streaming).to_contain_text("typing…")
    for item in rest:
        sockets[-1].send(json.dumps(item))
    expect(streaming).to_have_count(0)  # the complete message took its place
    expect(transcript.locator('[data-sender="assistant"]')).to_have_count(2)

    # Tool call, tool run, tool result, code run, its reply: folded, their output inside.
    folds = transcript.locator("details")
    tool = folds.filter(has_text="ran tool calculator")
    expect(tool).to_have_count(1)
    expect(tool.locator("pre").last).not_to_be_visible()
    tool.locator("summary").click()
    expect(tool.locator("pre").last).to_have_text("4")
    code = folds.filter(has_text="ran python (sandbox)")
    expect(code).to_contain_text("exit 0")
    code.locator("summary").click()
    expect(code.locator("pre.code")).to_have_text("print(2 + 2)")
    expect(folds.filter(has_text="calls calculator")).to_have_count(1)
    expect(folds.filter(has_text="tool result")).to_have_count(1)
    expect(folds.filter(has_text="exitcode: 0 (execution succeeded)")).to_have_count(1)
    # Images: a data: image is shown; a javascript: URL is not an image, only text; a remote image
    # is a link to click, never fetched by itself.
    images = transcript.locator("img")
    expect(images).to_have_count(1)
    assert images.get_attribute("src").startswith("data:image/png;base64,")
    expect(transcript).to_contain_text("[image: javascript:alert(1)]")
    remote = transcript.locator("a.remote-image")
    expect(remote).to_have_attribute("href", REMOTE)
    assert remote.get_attribute("rel") == "noopener noreferrer"
    assert not any("images.example" in url for url in requested), requested
    expect(transcript).to_contain_text("chat finished: terminated")
    expect(transcript).to_contain_text("run finished (terminated)")
    page.screenshot(path=str(shots / "transcript-folded.png"), full_page=True)

    # The WebSocket drops: the page reconnects, the server replays everything, nothing shows twice.
    sockets[-1].close()
    assert_connected(page, sockets, 2)
    for item in first + rest:
        sockets[-1].send(json.dumps(item))
    expect(transcript).to_contain_text("run finished (terminated)")
    expect(transcript.locator('[data-sender="assistant"]')).to_have_count(2)
    expect(folds.filter(has_text="ran tool calculator")).to_have_count(1)
    assert errors == [], errors


def test_a_retrieval_run_replayed_shows_where_its_answer_came_from(studio, browser, tmp_path):  # noqa: F811
    """A real run of a RetrieveUserProxyAgent, opened after it finished: the server's replay of its
    recorded events shows the retrieval line."""
    from tests.studio.test_api_retrieval import QUESTION, rag_team

    expect = playwright_api.expect
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("The staging server listens on port 7311.\n")
    server = studio(args=("--allow-docs", "docs"))
    with server.client() as client:
        team_id = client.post("/api/teams", json=rag_team()).json()["id"]
        run_id = client.post("/api/runs", json={"team": team_id, "message": QUESTION}).json()["id"]
        assert wait_status(client, run_id, "finished", "failed")["status"] == "finished"
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    page.goto(f"{server.base_url}/?token={TOKEN}")
    expect(page.get_by_role("heading", name="Start from a team")).to_be_visible()
    page.goto(f"{server.base_url}/#/runs/{run_id}")
    retrieval = page.get_by_test_id("transcript").locator("details").filter(has_text="retrieved 1 chunk from notes, used 1")
    expect(retrieval).to_have_count(1)
    retrieval.locator("summary").click()
    expect(retrieval.locator('li[data-used="yes"]')).to_contain_text("docs/notes.txt")


def assert_connected(page, sockets: list, count: int) -> None:
    """Wait (for the page's reconnect, as long as it takes) until ``count`` sockets were opened."""
    for _ in range(600):
        if len(sockets) >= count:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the page opened {len(sockets)} event WebSockets, expected {count}")


def test_retrievals_and_memos_are_folded_lines_of_text(studio, browser):  # noqa: F811
    """Where an answer came from: a retrieval (query, sources with distances, which were used),
    recalled and stored memos, each a folded line; their text is shown as text, never as HTML."""
    expect = playwright_api.expect
    server = studio()
    with server.client() as client:
        response = client.post("/api/runs", json={"team": "tools", "message": "hi", "model": "scripted"})
        assert response.status_code == 201, response.text
        run_id = response.json()["id"]
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sockets: list = []
    page.route_web_socket(re.compile(r".*/api/runs/[^/]+/events$"), lambda socket: sockets.append(socket))
    page.goto(f"{server.base_url}/?token={TOKEN}")
    expect(page.get_by_role("heading", name="Start from a team")).to_be_visible()
    page.goto(f"{server.base_url}/#/runs/{run_id}")
    transcript = page.get_by_test_id("transcript")
    assert_connected(page, sockets, 1)

    def event(kind: str, **fields) -> dict:
        return {"type": kind, "run_id": run_id, "time": 1.0, **fields}

    for item in [
        event("DocumentsRetrieved", agent="ragproxyagent", query="What is <b>parley</b>?", collection="docs",
              results=[{"id": "a-0", "source": "docs/a.md", "distance": 0.1234},
                       {"id": "b-0", "source": "docs/b.md", "distance": 0.9}],
              used=["a-0"]),
        event("MemosRecalled", agent="teachable", query="colour?",
              memos=[{"id": "m1", "input": "favourite colour", "output": "blue", "distance": 0.2}]),
        event("MemoStored", agent="teachable", memo_id="m2", input="<img src=x onerror=alert(1)>", output="green"),
        event("RunStatus", status="finished", reason="terminated"),
    ]:
        sockets[-1].send(json.dumps(item))
    expect(transcript).to_contain_text("run finished (terminated)")
    folds = transcript.locator("details")
    retrieval = folds.filter(has_text="retrieved 2 chunks from docs, used 1")
    expect(retrieval).to_have_count(1)
    retrieval.locator("summary").click()
    expect(retrieval.locator("pre").first).to_have_text("What is <b>parley</b>?")
    expect(retrieval.locator('li[data-used="yes"]')).to_have_text("docs/a.md distance 0.123 · used")
    expect(retrieval.locator('li[data-used="no"]')).to_contain_text("docs/b.md")
    recalled = folds.filter(has_text="recalled 1 memo")
    expect(recalled).to_have_count(1)
    recalled.locator("summary").click()
    expect(recalled).to_contain_text("blue")
    stored = folds.filter(has_text="stored a memo")
    stored.locator("summary").click()
    expect(stored.locator("pre").first).to_have_text("<img src=x onerror=alert(1)>")
    expect(transcript.locator("img")).to_have_count(0)
    expect(transcript.locator("b")).to_have_count(0)
    assert errors == [], errors
