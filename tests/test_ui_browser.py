"""Browser tests: the real app in headless Debian Chromium, driven by Playwright.

One app per session over a private index (the bundled corpus plus a file full of HTML/JS that
must render as text). Screenshots of each screen go to artifacts/screenshots/ (git-ignored).
Skipped, loudly, only when /usr/bin/chromium is missing (`make browser` installs it).
"""

from __future__ import annotations

import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1366, "height": 768}

if not CHROMIUM.exists():
    message = (f"\n{'!' * 78}\n!! BROWSER TESTS SKIPPED: {CHROMIUM} is missing. Install Debian's chromium "
               f"(`make browser`,\n!! i.e. apt-get install chromium) to run them.\n{'!' * 78}\n")
    print(message, file=sys.stderr)
    pytest.skip(message, allow_module_level=True)

XSS_DOC = """Operation Bluefin field notes <img src=x onerror="window.__xss=1">
Date: 2025-12-01

Operation Bluefin was a joint maritime logistics drill near Okinawa, and its log quotes <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> verbatim, as a sentence about Operation Bluefin should never run them.
Planners of Operation Bluefin also pasted ${window.__xss=3} and {{constructor.constructor('window.__xss=4')()}} into the notes.
Operation Bluefin ended after three weeks without incident.
"""

ZEPHYR_DOC = "Zephyr Accord note\n\nThe Zephyr Accord was signed in Reykjavik in 2031.\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """The app over the corpus + the XSS file, on a free loopback port."""
    from ingest.index import ingest
    from rag.settings import Settings
    from ui.app import build_app

    corpus = tmp_path_factory.mktemp("ui-corpus")
    for path in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(path, corpus / path.name)
    (corpus / "operation-bluefin-xss.txt").write_text(XSS_DOC, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("ui-index"), corpus=corpus, answer_mode="extractive",
                        openai_api_key="", openai_base_url="", upload_max_mb=1)
    report = ingest([corpus], settings, progress=False)
    assert report.ok and len(report.added) == 6, report.summary()
    app = build_app(settings)
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(), quiet=True)
    yield app.local_url.rstrip("/")
    app.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url + "/")
    page.wait_for_selector("#question textarea, #question input", timeout=30_000)
    page.dialogs = dialogs
    yield page
    assert not dialogs, f"a dialog opened: {dialogs}"
    assert page.evaluate("typeof window.__xss") == "undefined"
    context.close()


def ask(page, question: str, timeout: float = 60_000):
    """Type a question, press Enter, wait until the final answer (not the pending one) shows."""
    before = page.locator("#chat .message-row.bot-row").count()
    box = page.locator("#question textarea, #question input").first
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        """(n) => { const rows = document.querySelectorAll('#chat .message-row.bot-row');
                    if (rows.length <= n) return false;
                    const last = rows[rows.length - 1];
                    return !!last.querySelector('.answer-meta, .error'); }""",
        arg=before, timeout=timeout)
    return page.locator("#chat .message-row.bot-row").last


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / name), full_page=False)


def box(page, selector: str):
    b = page.locator(selector).first.bounding_box()
    return round(b["x"]), round(b["y"]), round(b["width"]), round(b["height"])


def test_answer_with_linked_marker_and_highlighted_passage(page):
    shot(page, "00-start.png")
    layout_before = (box(page, "#chat"), box(page, "#sources .src-panel"), box(page, "#question"))
    answer = ask(page, "What does FOIP stand for?")
    assert "Free and Open Indo-Pacific" in answer.inner_text()
    marker = answer.locator("a.cite", has_text="[1]").first
    assert marker.is_visible()
    # no layout jumps: the chat, the question box and the sources panel kept their place and size
    assert (box(page, "#chat"), box(page, "#sources .src-panel"), box(page, "#question")) == layout_before
    card = page.locator("#sources #src-1-1")
    assert card.is_visible()
    marks = page.locator("#sources article.src-card mark")
    assert marks.count() >= 1
    assert any("Free and Open Indo-Pacific" in t for t in marks.all_inner_texts())
    # clicking a marker brings its card into view in the sources panel
    last_marker = answer.locator("a.cite").last
    target = last_marker.get_attribute("href").lstrip("#")
    last_marker.click()
    page.wait_for_timeout(900)
    panel = page.locator("#sources .src-panel").bounding_box()
    target_box = page.locator(f"#sources #{target}").bounding_box()
    assert panel["y"] - 1 <= target_box["y"] <= panel["y"] + panel["height"] / 2
    shot(page, "01-answer-sources.png")
    # the passage in the context of its document
    context = page.locator(f"#sources #{target} details.src-context")
    context.locator("summary").click()
    ctx = context.locator(".ctx")
    ctx.wait_for(state="visible")
    assert len(ctx.inner_text()) > len(page.locator(f"#sources #{target} .src-passage").inner_text())
    assert ctx.locator(".ctx-passage mark").count() >= 1
    shot(page, "02-passage-in-context.png")
    # Markdown export is ready and New chat clears everything
    assert page.locator("#download-md").is_enabled()
    page.locator("#new-chat").click()
    page.wait_for_function("() => !document.querySelector('#chat .message-row')")
    assert page.locator("#sources article.src-card").count() == 0


def test_abstention_looks_different_and_shows_nearest_passages(page):
    answer = ask(page, "What is the capital of Australia?")
    abstain = answer.locator(".abstain")
    assert abstain.is_visible()
    assert "The documents don't answer this" in abstain.inner_text()
    assert answer.locator(".answer").count() == 0
    assert "Nearest passages (not an answer)" in page.locator("#sources .src-turn-head").first.inner_text()
    assert page.locator("#sources article.src-card").count() >= 1
    styles = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('#chat .abstain'));
                                      return [s.borderLeftWidth, s.borderTopStyle]; }""")
    assert styles == ["5px", "dashed"]
    shot(page, "03-abstention.png")


def test_scope_filter_restricts_retrieval(page):
    page.locator("#scope").get_by_text("Scope: documents and dates").click()
    page.locator("#date-from textarea, #date-from input").first.fill("2030-01-01")
    page.locator("#date-from textarea, #date-from input").first.press("Tab")
    page.wait_for_function("() => document.querySelector('#scope-note').innerText.includes('dated 2030-01-01')")
    answer = ask(page, "What does FOIP stand for?")
    assert answer.locator(".abstain").count() == 1 or answer.locator(".error").count() == 1
    shot(page, "04-scope-filter.png")


def test_upload_a_file_then_ask_about_it_then_remove_it(page, tmp_path):
    upload = tmp_path / "Zephyr Accord (draft).txt"
    upload.write_text(ZEPHYR_DOC, encoding="utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#docs-table").wait_for(state="visible")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.wait_for_function("() => document.querySelector('#upload').innerText.includes('Zephyr Accord (draft).txt')",
                           timeout=30_000)
    page.locator("#add-btn").click()
    page.wait_for_function("() => document.querySelector('#upload-report').innerText.includes('added')",
                           timeout=60_000)
    report = page.locator("#upload-report").inner_text()
    assert "uploads/Zephyr-Accord-draft.txt" in report, report
    page.wait_for_function("() => document.querySelector('#docs-table').innerText.includes('Zephyr')")
    shot(page, "05-documents-upload.png")

    page.get_by_role("tab", name="Ask").click()
    answer = ask(page, "Where was the Zephyr Accord signed?")
    assert "Reykjavik" in answer.inner_text()
    assert answer.locator("a.cite").count() >= 1
    card = page.locator("#sources article.src-card").first
    assert "uploads/Zephyr-Accord-draft.txt" in card.inner_text()
    assert "Reykjavik" in card.locator("mark").first.inner_text()
    shot(page, "06-answer-from-upload.png")

    page.get_by_role("tab", name="Documents").click()
    page.locator("#remove-pick input").first.click()
    page.get_by_role("option", name="uploads/Zephyr-Accord-draft.txt").first.click()
    page.locator("#remove-btn").click()
    page.wait_for_function("() => document.querySelector('#remove-report').innerText.includes('Removed')")
    assert "file itself was not deleted" in page.locator("#remove-report").inner_text()
    page.wait_for_function("() => !document.querySelector('#docs-table').innerText.includes('Zephyr')")


def test_upload_rejects_wrong_type_with_a_reason(page, tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    page.get_by_role("tab", name="Documents").click()
    # the browser picker filters by type; a dropped/forced file still reaches the server check
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    page.wait_for_timeout(1500)
    page.locator("#add-btn").click()
    page.wait_for_function("() => document.querySelector('#upload-report').innerText.trim().length > 0",
                           timeout=30_000)
    text = page.locator("#upload-report").inner_text()
    assert "skipped" in text or "No files" in text, text


def test_document_html_renders_as_text_and_runs_nothing(page):
    answer = ask(page, "What happened in Operation Bluefin?")
    assert answer.locator("a.cite").count() >= 1
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('__xss'))") is False
    panel_text = page.locator("#sources").inner_text()
    assert '<img src=x onerror="window.__xss=1">' in panel_text
    assert "<script>window.__xss=2</script>" in panel_text or "<img src=x" in answer.inner_text()
    assert "${window.__xss=3}" in panel_text or "{{constructor" in panel_text
    shot(page, "07-xss-rendered-as-text.png")
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#docs-table")
    table.wait_for(state="visible")
    page.wait_for_timeout(300)
    assert "<img src=x" in table.inner_text()
    assert page.evaluate("typeof window.__xss") == "undefined"
    shot(page, "08-documents-xss-title.png")
