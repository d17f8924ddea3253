"""Browser tests: the real app in headless Debian Chromium, driven by Playwright.

One app per session over a private index (the bundled corpus plus a file full of HTML/JS that
must render as text). Screenshots of each screen go to artifacts/screenshots/ (git-ignored).
Skipped, loudly, only when /usr/bin/chromium is missing (`make browser` installs it).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from helpers import free_port
    from openai_stub import Reply, StubOpenAI
except ImportError:  # pragma: no cover
    from tests.helpers import free_port
    from tests.openai_stub import Reply, StubOpenAI

ROOT = Path(__file__).resolve().parents[1]
# `make test` runs this module after the rest, on its own: a real browser waits on the app
# with timeouts, which another worker's load can exhaust.
pytestmark = pytest.mark.serial

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

from playwright.sync_api import expect  # noqa: E402  (only once chromium is known to be there)

XSS_DOC = """Operation Bluefin field notes <img src=x onerror="window.__xss=1"></script><script>window.__xss=5</script>
Date: 2025-12-01

Operation Bluefin was a joint maritime logistics drill near Okinawa, and its log quotes <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> verbatim, as a sentence about Operation Bluefin should never run them.
Planners of Operation Bluefin also pasted ${window.__xss=3} and {{constructor.constructor('window.__xss=4')()}} into the notes.
Operation Bluefin ended after three weeks without incident.
"""

ZEPHYR_DOC = "Zephyr Accord note\n\nThe Zephyr Accord was signed in Reykjavik in 2031.\n"


@pytest.fixture(scope="session")
def ui_briefing(tmp_path_factory):
    """The offline pipeline over a private index: the corpus + the XSS file."""
    from ingest.index import ingest
    from rag.pipeline import Briefing
    from rag.base.settings import Settings

    corpus = tmp_path_factory.mktemp("ui-corpus")
    for path in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(path, corpus / path.name)
    (corpus / "operation-bluefin-xss.txt").write_text(XSS_DOC, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("ui-index"), corpus=corpus, answer_mode="extractive",
                        openai_api_key="", openai_base_url="", upload_max_mb=1)
    report = ingest([corpus], settings, progress=False)
    assert report.ok and len(report.added) == 6, report.summary()
    return Briefing(settings)


def _serve(settings, briefing):
    from ui.app import build_app

    app = build_app(settings, briefing)
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    return app


@pytest.fixture(scope="session")
def app_url(ui_briefing):
    """The app (offline extractive answers) on a free loopback port."""
    app = _serve(ui_briefing.settings, ui_briefing)
    yield app.local_url.rstrip("/")
    app.close()


@pytest.fixture(scope="session")
def llm_app(ui_briefing):
    """A second app in LLM mode, its model a scripted OpenAI-compatible stand-in (no model runs),
    sharing the index and embedder of the first."""
    from rag.pipeline import Briefing

    with StubOpenAI() as stub:
        settings = ui_briefing.settings.model_copy(update={
            "answer_mode": "llm", "openai_base_url": stub.base_url, "openai_api_key": "test",
            "llm_model": "stub-model", "llm_timeout": 10, "llm_max_retries": 0})
        briefing = Briefing(settings, store=ui_briefing.store, embedder=ui_briefing.embedder,
                            retriever=ui_briefing.retriever)
        app = _serve(settings, briefing)
        yield app.local_url.rstrip("/"), stub, briefing
        app.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser, url):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url + "/")
    page.wait_for_selector("#question textarea, #question input", timeout=30_000)
    return context, page, dialogs


@pytest.fixture
def page(browser, app_url):
    context, page, dialogs = _open(browser, app_url)
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


# The sources card with this id sits in the top half of the sources panel's visible area.
CARD_IN_VIEW = """(id) => { const card = document.getElementById(id);
                           const panel = document.querySelector('#sources .src-panel');
                           if (!card || !panel) return false;
                           const p = panel.getBoundingClientRect(), top = card.getBoundingClientRect().top;
                           return p.top - 1 <= top && top <= p.top + p.height / 2; }"""


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
    # clicking a marker scrolls its card, out of view until then, into view in the sources panel
    last_marker = answer.locator("a.cite").last
    target = last_marker.get_attribute("href").lstrip("#")
    assert target != "src-1-1" and not page.evaluate(CARD_IN_VIEW, target), "nothing to scroll to"
    last_marker.click()
    page.wait_for_function(CARD_IN_VIEW, arg=target, timeout=10_000)
    expect(page.locator(f"#sources #{target}")).to_have_class(re.compile(r"\bflash\b"))
    shot(page, "01-answer-sources.png")
    # the passage in the context of its document
    context = page.locator(f"#sources #{target} details.src-context")
    context.locator("summary").click()
    ctx = context.locator(".ctx")
    ctx.wait_for(state="visible")
    assert len(ctx.inner_text()) > len(page.locator(f"#sources #{target} .src-passage").inner_text())
    assert ctx.locator(".ctx-passage mark").count() >= 1
    ctx.locator(".ctx-passage mark").first.scroll_into_view_if_needed()
    shot(page, "02-passage-in-context.png")
    # Markdown export: a download and a copyable text box
    with page.expect_download() as download:
        page.locator("#download-md").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("## What does FOIP stand for?") and "### Sources" in exported
    assert "> " in exported and "[1] **" in exported
    assert download.value.suggested_filename == "briefing-what-does-foip-stand-for.md"
    page.locator("#md-box").get_by_text("Answer as Markdown").click()
    assert page.locator("#answer-md textarea").input_value() == exported
    # New chat clears everything
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
    date_from = page.locator("#date-from textarea, #date-from input").first
    date_from.wait_for(state="visible")
    note_updated = "() => document.querySelector('#scope-note').innerText.includes('dated 2030-01-01')"
    # The accordion animates open; a value typed before it settles can miss the change event.
    for attempt in range(3):
        date_from.fill("2030-01-01")
        date_from.press("Tab")
        try:
            page.wait_for_function(note_updated, timeout=10_000)
            break
        except Exception:
            if attempt == 2:
                raise
            date_from.fill("")
    # answered from the documents without a scope (the first test); nothing is dated 2030 or later
    answer = ask(page, "What does FOIP stand for?")
    expect(answer.locator(".abstain")).to_contain_text("nothing in the selected documents matches")
    assert answer.locator(".answer").count() == 0
    assert page.locator("#sources article.src-card").count() == 0
    shot(page, "04-scope-filter.png")


def test_upload_a_file_then_ask_about_it_then_remove_it(page, tmp_path, ui_briefing):
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
    page.locator("#upload-report").scroll_into_view_if_needed()
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
    assert (Path(ui_briefing.settings.corpus) / "uploads" / "Zephyr-Accord-draft.txt").is_file()
    assert "uploads/Zephyr-Accord-draft.txt" not in {r.source for r in ui_briefing.store.document_records()}


def test_upload_rejects_wrong_type_with_a_reason(page, tmp_path):
    from ui.uploads import ALLOWED_SUFFIXES

    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    page.get_by_role("tab", name="Documents").click()
    # the upload box refuses it in the browser (its file_types), saying why; nothing reaches the index
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    reason = f"Invalid file type: notes.csv. Only {', '.join(ALLOWED_SUFFIXES)} allowed."
    expect(page.get_by_text(reason).first).to_be_visible(timeout=30_000)
    page.locator("#add-btn").click()
    expect(page.locator("#upload-report")).to_have_text("No files were uploaded.", timeout=30_000)


def test_upload_skips_an_empty_file_with_a_reason(page, tmp_path, ui_briefing):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    page.get_by_role("tab", name="Documents").click()
    # a file of an allowed type reaches the server's checks, which skip it and say why
    page.locator("#upload input[type=file]").set_input_files(str(empty))
    expect(page.locator("#upload")).to_contain_text("empty", timeout=30_000)
    page.locator("#add-btn").click()
    expect(page.locator("#upload-report")).to_contain_text("skipped empty.txt: empty file", timeout=30_000)
    assert not (Path(ui_briefing.settings.corpus) / "uploads" / "empty.txt").exists()


def test_document_html_renders_as_text_and_runs_nothing(page):
    answer = ask(page, "What happened in Operation Bluefin?")
    assert answer.locator("a.cite").count() >= 1
    # the markup in the answer and in the passage shows as text ...
    assert '<img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script>' in answer.inner_text()
    panel_text = page.locator("#sources").inner_text()
    for literal in ('<img src=x onerror="window.__xss=1"></script><script>window.__xss=5</script>',
                    "<script>window.__xss=2</script>", "${window.__xss=3}",
                    "{{constructor.constructor('window.__xss=4')()}}"):
        assert literal in panel_text, literal
    # ... and never becomes an element: no <img src=x> whose onerror could fire, no script carrying it
    assert page.locator('img[src="x"]').count() == 0
    # the only scripts mentioning it are Gradio's JSON page config (where `<` is \u003c-escaped)
    assert page.evaluate("""() => [...document.scripts].filter(s => s.textContent.includes('__xss'))
                                  .every(s => s.textContent.startsWith('window.gradio_config'))""")
    assert page.locator("#chat script, #sources script, #docs-table script").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    shot(page, "07-xss-rendered-as-text.png")
    page.get_by_role("tab", name="Documents").click()
    # the title, markup and all, is a cell of text in the documents table
    title = 'Operation Bluefin field notes <img src=x onerror="window.__xss=1">'
    expect(page.locator("#docs-table")).to_contain_text(title)
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    shot(page, "08-documents-xss-title.png")


def test_follow_up_question_keeps_history_and_earlier_sources(page, ui_briefing):
    question, follow_up = "What does FOIP stand for?", "What did Takaichi say about it in her policy speech?"
    first = ui_briefing.ask(question)
    with_history = ui_briefing.ask(follow_up, [{"role": "user", "content": question},
                                              {"role": "assistant", "content": first.text}])
    opening = with_history.text.split(" [")[0]
    assert not ui_briefing.ask(follow_up).text.startswith(opening), "the history would make no difference"

    ask(page, question)
    second = ask(page, follow_up)
    # the follow-up was asked with the conversation so far ("it" = FOIP), as turn 2
    assert second.locator(".answer p").first.inner_text().startswith(opening)
    assert second.locator("a.cite").first.get_attribute("href") == "#src-2-1"
    first_marker = page.locator("#chat .message-row.bot-row").first.locator("a.cite").first
    assert first_marker.get_attribute("href") == "#src-1-1"
    assert page.locator("#chat .message-row.bot-row").count() == 2
    older = page.locator("#sources details.src-older")
    assert older.count() == 1 and not older.evaluate("d => d.open")
    # a marker of the earlier answer opens its folded sources and scrolls to the card
    first_marker.click()
    page.wait_for_function("() => document.querySelector('#sources details.src-older').open", timeout=10_000)
    page.wait_for_function(CARD_IN_VIEW, arg="src-1-1", timeout=10_000)


def test_llm_answer_streams_and_unsupported_sentences_are_flagged(browser, llm_app):
    from rag.llm import MAX_PASSAGES

    url, stub, briefing = llm_app
    question = "What does FOIP stand for?"
    passages = briefing.retriever.retrieve(question, briefing.settings.top_k).passages[:MAX_PASSAGES]
    n = next(i for i, p in enumerate(passages, 1) if "Free and Open Indo-Pacific (FOIP)" in p.text)
    reply = (f"FOIP stands for a Free and Open Indo-Pacific, a shared vision for the region [{n}]. "
             f"Japan will test its own nuclear weapon by 2030 [{n}].")
    stub.script(Reply(content=reply, chunk_delay=0.12))
    context, page, dialogs = _open(browser, url)
    try:
        assert "LLM: stub-model" in page.locator("#app-head").inner_text()
        layout_before = (box(page, "#chat"), box(page, "#sources .src-panel"), box(page, "#question"))
        q = page.locator("#question textarea, #question input").first
        q.fill(question)
        q.press("Enter")
        streaming = page.locator("#chat .answer.streaming")
        streaming.wait_for(timeout=30_000)
        page.wait_for_function("() => document.querySelector('#chat .answer.streaming').innerText.length > 40")
        partial = streaming.inner_text()
        assert partial.startswith("FOIP stands") and "nuclear weapon by 2030" not in partial
        assert (box(page, "#chat"), box(page, "#sources .src-panel"), box(page, "#question")) == layout_before
        shot(page, "09-llm-streaming.png")
        page.locator("#chat .answer-meta").wait_for(timeout=30_000)
        answer = page.locator("#chat .message-row.bot-row").last
        assert "LLM: stub-model" in answer.locator(".answer-meta").inner_text()
        flagged = answer.locator(".unsupported")
        assert flagged.count() == 1
        assert "nuclear weapon by 2030" in flagged.inner_text()
        assert "not supported" in answer.locator(".warn").inner_text()
        assert (box(page, "#chat"), box(page, "#sources .src-panel"), box(page, "#question")) == layout_before
        assert page.locator("#sources article.src-card").count() >= 1
        shot(page, "10-llm-unsupported-flagged.png")
        assert not dialogs
    finally:
        context.close()


# --- questions about the whole collection: per-document table, "Sources differ", timeline -------

PLANTED = ROOT / "eval" / "planted"
# Used when eval/planted/ is not there: a copy of one corpus sentence with its figure changed,
# from a later (made-up) document, so the two documents disagree.
PLANTED_FALLBACK = ("Security strategy note\nDate: 2026-03-01\n\nJapan's National Security Strategy was first "
                    "established under the Abe administration in 2014 and was revised in 2022 under the Kishida "
                    "administration—the first revision in nine years.\n")  # the Asan brief says 2013
PLANTED_FALLBACK_QUESTION = "When was Japan's National Security Strategy first established?"


def _planted() -> tuple[str, str, list[str]]:
    """(file name, text, questions) of the planted document that disagrees with the corpus: the
    first file of eval/planted/manifest.jsonl and the questions of its edits, in manifest order."""
    import json

    manifest = PLANTED / "manifest.jsonl"
    if manifest.is_file():
        entries = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
        name = entries[0]["file"]
        questions = [e["question"] for e in entries if e["file"] == name and e.get("question")]
        return Path(name).name, (PLANTED / name).read_text(encoding="utf-8"), questions
    return "security-strategy-note.txt", PLANTED_FALLBACK, [PLANTED_FALLBACK_QUESTION]


@pytest.fixture(scope="module")
def conflict_app(ui_briefing, tmp_path_factory):
    """An app over the corpus plus one planted copy whose figures differ (its own index, the
    embedder shared with the session's pipeline), and the first of the planted edits' questions
    whose answer reports the disagreement: with "Across all documents" ticked or not."""
    from ingest.index import ingest
    from rag.pipeline import Briefing

    name, text, questions = _planted()
    corpus = tmp_path_factory.mktemp("conflict-corpus")
    for path in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(path, corpus / path.name)
    (corpus / name).write_text(text, encoding="utf-8")
    settings = ui_briefing.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("conflict-index"),
                                                       "corpus": corpus})
    report = ingest([corpus], settings, progress=False)
    assert report.ok and len(report.added) == 6, report.summary()
    briefing = Briefing(settings, embedder=ui_briefing.embedder)
    found = next(((q, across) for q in questions for across in (False, True)
                  if briefing.ask(q, scope="all" if across else "auto").conflicts), None)
    assert found, f"no question about {name} finds the planted disagreement: {questions}"
    app = _serve(settings, briefing)
    yield app.local_url.rstrip("/"), found
    app.close()


def tick_across_all(page) -> None:
    box = page.locator("#scope-all input[type=checkbox]")
    box.check()
    expect(box).to_be_checked()


def test_across_all_documents_shows_a_row_per_document(page, ui_briefing):
    tick_across_all(page)
    answer = ask(page, "Which documents discuss the defense budget?")
    table = answer.locator("table.cov-table")
    expect(table).to_be_visible()
    records = ui_briefing.store.document_records()  # the bundled corpus and the XSS file
    rows = table.locator("tbody tr.cov-row")
    assert rows.count() == len(records)
    titles = rows.locator("th.cov-doc").all_inner_texts()
    bundled = [r for r in records if r.source != "operation-bluefin-xss.txt"]
    assert len(bundled) == 5 and all((r.title or r.source) in titles for r in bundled), titles
    assert rows.locator(".cov-verdict.cov-yes").count() >= 1
    assert "mentions it" in rows.locator(".cov-verdict.cov-yes").first.inner_text()
    assert re.search(rf"\d of {len(records)} documents", table.locator("caption").inner_text())
    # a quoted sentence's marker opens its card in the sources panel
    marker = table.locator("a.cite").first
    target = marker.get_attribute("href").lstrip("#")
    marker.click()
    page.wait_for_function(CARD_IN_VIEW, arg=target, timeout=10_000)
    expect(page.locator(f"#sources #{target} .as-of")).to_contain_text("as of 20")
    table.scroll_into_view_if_needed()
    shot(page, "11-per-document-table.png")


def test_sources_differ_panel_shows_both_sides(browser, conflict_app):
    url, (question, across) = conflict_app
    context, page, dialogs = _open(browser, url)
    try:
        if across:
            tick_across_all(page)
        answer = ask(page, question)
        panel = answer.locator(".conflicts")
        expect(panel).to_be_visible()
        assert "Sources differ" in panel.inner_text()
        sides = panel.locator(".conflict").first.locator(".conflict-side")
        assert sides.count() == 2
        for i in range(2):
            side = sides.nth(i)
            assert side.locator(".side-title").inner_text().strip()
            assert side.locator("a.cite").count() == 1
        values = sides.locator(".side-value").all_inner_texts()
        assert len(values) == 2 and values[0] != values[1], values
        # the two sides sit next to each other
        first, second = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
        assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"] - 1
        assert panel.locator(".badge-newer").count() <= 1
        panel.scroll_into_view_if_needed()
        shot(page, "12-sources-differ.png")
        assert not dialogs
    finally:
        context.close()


def test_change_over_time_shows_a_dated_timeline(page):
    answer = ask(page, "How has the assessment of Japan's defense spending changed over time?")
    timeline = answer.locator(".timeline ol.tl")
    expect(timeline).to_be_visible()
    dates = timeline.locator("time.tl-date").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert len(dates) >= 2 and dates == sorted(dates), dates
    assert timeline.locator(".tl-item").count() == len(dates)
    assert timeline.locator("a.cite").count() == len(dates)
    timeline.scroll_into_view_if_needed()
    shot(page, "13-timeline.png")
