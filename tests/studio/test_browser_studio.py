"""The Studio in a real browser: Playwright driving Debian's ``chromium`` against a real
``parley studio`` process (tests/studio/conftest.py) and the fake OpenAI server.

One walk through the UI: open the URL with the token, build a team in the builder (a new agent,
a group chat, its speaker transitions drawn by dragging edges in the graph), save and run it,
answer as the human, see it finish; then the runs page: open, replay, export. A screenshot of
each page is saved under the folder the test prints (``$PARLEY_STUDIO_SCREENSHOTS`` if set).
The model's replies carry HTML, which must show as text.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.studio.conftest import TOKEN

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

CHROMIUM = os.environ.get("PARLEY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]

# A model reply that would run script if it were rendered as HTML.
HOSTILE = '<img src=x onerror="window.__xss=1"><b>bold</b> reply'


def hostile_model(body: dict) -> dict:
    return {"content": f"{HOSTILE} {len(body['messages'])}"}


@pytest.fixture
def shots(tmp_path, capsys):
    folder = Path(os.environ.get("PARLEY_STUDIO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\nStudio screenshots: {folder}")
    return folder


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        # --no-sandbox: Chromium's own sandbox needs user namespaces that containers often lack.
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


def drag_edge(page, source: str, target: str) -> None:
    """Drag from ``source``'s lower (source) handle to ``target``'s upper (target) handle."""
    page.get_by_test_id("transition-graph").scroll_into_view_if_needed()
    start = page.locator(f'.react-flow__node[data-id="{source}"] .react-flow__handle.source').bounding_box()
    end = page.locator(f'.react-flow__node[data-id="{target}"] .react-flow__handle.target').bounding_box()
    assert start and end, f"the graph has no handles for {source} and {target}"
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def test_build_run_answer_and_replay_in_the_browser(studio, model_server, browser, shots):
    expect = playwright_api.expect
    model_server.default = hostile_model
    server = studio()
    page = browser.new_page(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))

    # The printed URL: the token stays in this tab (sessionStorage, no cookie) and leaves the address bar.
    page.goto(f"{server.base_url}/?token={TOKEN}")
    expect(page.get_by_role("heading", name="Start from a team")).to_be_visible()
    expect(page.get_by_test_id("gallery-research")).to_contain_text("research")
    assert TOKEN not in page.url
    assert page.context.cookies() == []
    page.screenshot(path=str(shots / "1-gallery.png"), full_page=True)

    # Builder: a blank team, a third agent, a group chat, transitions drawn in the graph.
    page.get_by_role("link", name="New team").click()
    expect(page.get_by_test_id("validation")).to_contain_text("Valid.")
    page.get_by_label("New agent").fill("critic")
    page.get_by_role("button", name="Add agent").click()
    expect(page.get_by_role("button", name="critic", exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Add a group chat").click()
    for source, target in [("user", "assistant"), ("assistant", "critic"), ("critic", "user")]:
        drag_edge(page, source, target)
    transitions = page.get_by_test_id("transitions")
    for edge in ("user → assistant", "assistant → critic", "critic → user"):
        expect(transitions).to_contain_text(edge)
    # The keyboard's way: the transition form; and an arrow selected in the graph goes with Delete.
    page.get_by_label("From").select_option("user")
    page.get_by_label("to", exact=True).select_option("critic")
    page.get_by_role("button", name="Add transition").click()
    expect(transitions).to_contain_text("user → critic")
    edge = page.locator('.react-flow__edge[data-id="user->critic"]')
    expect(edge).to_have_count(1)
    edge.focus()  # arrows are focusable: Enter selects, Delete removes
    page.keyboard.press("Enter")
    page.keyboard.press("Delete")
    expect(edge).to_have_count(0)
    expect(transitions).not_to_contain_text("user → critic")
    page.get_by_label("max round").fill("5")
    page.get_by_label("name", exact=True).fill("picnic")
    expect(page.get_by_test_id("validation")).to_contain_text("Valid.")
    yaml_text = page.locator("#yaml").input_value()
    assert "allowed_or_disallowed_speaker_transitions:" in yaml_text and "max_round: 5" in yaml_text
    page.get_by_test_id("transition-graph").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "2-builder.png"))

    # A mistake typed in the YAML is reported by path, from the server's validation.
    yaml_box = page.locator("#yaml")
    yaml_box.fill(yaml_text.replace("max_round: 5", "max_round: five"))
    expect(page.get_by_test_id("validation")).to_contain_text("group_chats.group.max_round")
    page.screenshot(path=str(shots / "3-builder-invalid.png"))
    yaml_box.fill(yaml_text)
    expect(page.get_by_test_id("validation")).to_contain_text("Valid.")

    # Save and run: the playground with the saved team chosen.
    page.get_by_role("button", name="Save and run").click()
    expect(page.get_by_role("heading", name="Playground")).to_be_visible()
    expect(page.get_by_label("Team", exact=True)).not_to_have_value("")
    page.get_by_label("Task").fill("Plan a picnic.")
    page.screenshot(path=str(shots / "4-playground-start.png"))
    page.get_by_label("Task").press("Control+Enter")

    # The human is asked (the user proxy after the critic): answer in the box.
    human = page.get_by_test_id("human-input")
    expect(human).to_be_visible(timeout=60_000)
    transcript = page.get_by_test_id("transcript")
    expect(transcript.locator('[data-sender="assistant"]')).to_have_count(1)
    expect(transcript.locator('[data-sender="critic"]')).to_have_count(1)
    expect(page.get_by_label("asks you")).to_be_focused()
    page.screenshot(path=str(shots / "5-playground-human.png"), full_page=True)
    page.get_by_label("asks you").fill("Sounds good.")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_test_id("run-status")).to_have_text("finished", timeout=60_000)
    expect(human).to_have_count(0)
    expect(transcript).to_contain_text("you answered: Sounds good.")
    # Model text is text: the markup shows literally and runs nothing.
    expect(transcript.get_by_text("<b>bold</b>").first).to_be_visible()
    assert transcript.locator("img").count() == 0 and transcript.locator("b").count() == 0
    assert page.evaluate("window.__xss") is None
    expect(page.get_by_test_id("usage")).to_contain_text("tokens")
    colours = {sender: transcript.locator(f'[data-sender="{sender}"]').first.evaluate(
        "element => getComputedStyle(element).borderLeftColor") for sender in ("user", "assistant", "critic")}
    assert len(set(colours.values())) == 3, colours  # a colour per agent
    page.screenshot(path=str(shots / "6-playground-finished.png"), full_page=True)
    run_id = page.url.split("#/runs/", 1)[1].split("?")[0]

    # What the browser did is what the server stored: the team and the run.
    with server.client() as client:
        teams = client.get("/api/teams").json()
        assert [t["name"] for t in teams] == ["picnic"]
        spec = client.get(f"/api/teams/{teams[0]['id']}").json()["spec"]
        assert spec["group_chats"]["group"]["allowed_or_disallowed_speaker_transitions"] == {
            "user": ["assistant"], "assistant": ["critic"], "critic": ["user"]}
        assert set(spec["agents"]) == {"user", "assistant", "critic", "chat_manager"}
        run = client.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "finished"
    speakers = [m["sender"] for m in run["messages"] if m["recipient"] == "chat_manager"]
    assert speakers == ["user", "assistant", "critic", "user", "assistant"]
    assert run["messages"][3]["message"]["content"] == "Sounds good."

    # Runs page: the run listed; replay shows the transcript again; export downloads it.
    page.get_by_role("link", name="Runs").click()
    row = page.get_by_test_id("runs").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("finished")
    expect(row).to_contain_text("picnic")
    page.screenshot(path=str(shots / "7-runs.png"), full_page=True)
    with page.expect_download() as download_info:
        row.get_by_role("button", name="Export").click()
    exported = Path(download_info.value.path()).read_text()
    assert "Sounds good." in exported and "sk-fake-key" not in exported
    row.get_by_role("link", name="Replay").click()
    expect(page.get_by_test_id("transcript").locator('[data-sender="assistant"]')).to_have_count(2, timeout=60_000)
    page.screenshot(path=str(shots / "8-replay.png"), full_page=True)

    assert errors == [], errors
    for name in ("1-gallery", "2-builder", "5-playground-human", "6-playground-finished", "7-runs", "8-replay"):
        assert (shots / f"{name}.png").stat().st_size > 5_000


PAIR = {
    "version": 1, "name": "pair",
    "models": {"default": {"config_list": {"env_or_file": "OAI_CONFIG_LIST"}}},
    "agents": {"user": {"class": "UserProxyAgent", "code_execution_config": False},
               "assistant": {"class": "AssistantAgent", "llm_config": "default"}},
    "run": {"initiator": "user", "recipient": "assistant", "message": "{task}"},
}


def test_stop_and_resume_from_the_playground(studio, browser, shots):
    expect = playwright_api.expect
    server = studio()
    with server.client() as client:
        created = client.post("/api/teams", json=PAIR)
        assert created.status_code == 201, created.text
        team_id = created.json()["id"]
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    page.goto(f"{server.base_url}/?token={TOKEN}")
    expect(page.get_by_role("heading", name="Start from a team")).to_be_visible()
    page.get_by_test_id(f"team-{team_id}").get_by_role("link", name="Run").click()
    expect(page.get_by_label("Team", exact=True)).to_have_value(team_id)
    page.get_by_label("Task").fill("Say hello.")
    page.get_by_role("button", name="Start run").click()

    human = page.get_by_test_id("human-input")
    status = page.get_by_test_id("run-status")
    expect(human).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Stop").click()
    expect(status).to_contain_text("(stopped)", timeout=60_000)
    expect(human).to_have_count(0)  # a stopped run asks nothing
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    page.screenshot(path=str(shots / "playground-stopped.png"), full_page=True)

    page.get_by_role("button", name="Resume").click()
    expect(human).to_be_visible(timeout=60_000)  # asked again
    expect(status).to_have_text("waiting input")
    page.get_by_label("asks you").fill("exit")
    page.get_by_label("asks you").press("Control+Enter")
    expect(status).to_have_text("finished", timeout=60_000)
    run_id = page.url.split("#/runs/", 1)[1].split("?")[0]
    with server.client() as client:
        run = client.get(f"/api/runs/{run_id}").json()
    assert [(m["sender"], m["recipient"]) for m in run["messages"]] == [("user", "assistant"), ("assistant", "user")]
    expect(page.get_by_test_id("transcript")).to_contain_text("you answered: exit")
    assert errors == [], errors


def test_without_the_token_the_page_says_so_and_accounts_log_in(studio, browser, tmp_path):
    from tests.studio.test_api_users import adduser

    expect = playwright_api.expect
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    assert adduser(store, "alice", "alice-password-1").returncode == 0
    server = studio(store=store)
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    page.goto(f"{server.base_url}/")
    expect(page.get_by_role("heading", name="Access token needed")).to_be_visible()
    expect(page.get_by_test_id("gallery-research")).to_have_count(0)

    page.goto(f"{server.base_url}/?token={TOKEN}")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("User").fill("alice")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong user name or password")
    page.get_by_label("Password").fill("alice-password-1")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_test_id("gallery-research")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("alice")
    assert page.context.cookies() == []  # the session too is kept by the page and sent as Bearer
    # The page runs only its own files: a script injected into it does not run (the build's CSP).
    assert page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';
                                    document.body.appendChild(s); return window.__inline === undefined; }""")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_a_gallery_team_opens_in_the_builder_as_written(studio, browser, shots):
    expect = playwright_api.expect
    server = studio()
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    page.goto(f"{server.base_url}/?token={TOKEN}")
    # By keyboard: the first Tab reaches the skip link, Enter moves to the page's content.
    expect(page.get_by_test_id("gallery-research")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.get_by_test_id("gallery-research").get_by_role("link", name="Open in builder").focus()
    page.keyboard.press("Enter")
    yaml_box = page.locator("#yaml")
    expect(yaml_box).to_have_value(re.compile(r"^# The seed article's second example"))  # its comments kept
    expect(page.get_by_test_id("validation")).to_contain_text("Valid.")
    expect(page.locator(".react-flow__node")).to_have_count(7)  # the group chat's members
    # A model setting from the schema's form lands in the YAML (rewritten from the document).
    page.get_by_label("temperature").fill("0.5")
    expect(yaml_box).to_have_value(re.compile(r"\n    temperature: 0\.5\n"))
    page.get_by_role("button", name="Engineer", exact=True).click()
    engineer = page.get_by_role("group", name="Agent Engineer", exact=True)
    expect(engineer.get_by_label("system message")).to_have_value(re.compile(r"^Engineer\. You follow an approved plan"))
    expect(engineer.get_by_label("llm config")).to_have_value("gpt4o")
    page.screenshot(path=str(shots / "builder-research.png"), full_page=True)
    # Unsaved changes: leaving asks first; declining stays, accepting leaves.
    page.once("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog"):
        page.get_by_role("link", name="Runs", exact=True).click()
    expect(page).to_have_url(re.compile(r"#/builder\?gallery=research$"))
    expect(yaml_box).to_have_value(re.compile(r"temperature: 0\.5"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    assert errors == [], errors


def test_the_server_s_notes_on_a_run_are_shown(studio, browser):
    expect = playwright_api.expect
    server = studio()
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    page.goto(f"{server.base_url}/?token={TOKEN}")
    page.get_by_test_id("gallery-coding").get_by_role("link", name="Run").click()
    expect(page.get_by_label("Team", exact=True)).to_have_value("coding")
    page.get_by_role("button", name="Start run").click()
    # The gallery's coding team asks for use_docker: false; this server was not started allowing it.
    expect(page.get_by_role("list", name="Notes")).to_contain_text("sandbox")
