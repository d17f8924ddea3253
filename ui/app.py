"""The Gradio app: `build_app(settings)` wires components to the pipeline; `launch(settings)` checks
the bind address and auth, indexes the corpus on a first start, and serves it.

The app is thin: what it shows is built by the pure functions in `ui.format` (all document text
escaped there); uploads are handled by `ui.uploads`.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402  (the environment above must be set before gradio is imported)

from rag.errors import BriefingError  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Answer  # noqa: E402
from ui import format as fmt  # noqa: E402
from ui.style import CSS  # noqa: E402
from ui.uploads import ALLOWED_SUFFIXES, UPLOAD_DIR, ingest_files, save_uploads  # noqa: E402

log = logging.getLogger("briefing.ui")

# Clicking an [n] marker in the chat opens and scrolls to the matching card in the sources panel
# (including cards of earlier answers, folded in <details>), and briefly flashes it.
_CITE_JS = """
if (!window.__briefingCiteHandler) {
  window.__briefingCiteHandler = true;
  document.addEventListener('click', function (ev) {
    var link = ev.target && ev.target.closest ? ev.target.closest('a.cite') : null;
    if (!link) return;
    ev.preventDefault();
    ev.stopPropagation();
    var id = (link.getAttribute('href') || '').replace(/^#/, '');
    var card = id ? document.getElementById(id) : null;
    if (!card) return;
    for (var d = card.closest('details'); d; d = d.parentElement ? d.parentElement.closest('details') : null) {
      d.open = true;
    }
    var panel = card.closest('.src-panel');
    if (panel) {
      var pr = panel.getBoundingClientRect();
      if (pr.top < 0 || pr.bottom > window.innerHeight) panel.scrollIntoView({block: 'nearest'});
      var head = panel.querySelector('.src-turn-head');
      var offset = head ? head.offsetHeight + 6 : 8;
      var top = card.getBoundingClientRect().top - panel.getBoundingClientRect().top + panel.scrollTop - offset;
      panel.scrollTo({top: top, behavior: 'smooth'});
    } else {
      card.scrollIntoView({behavior: 'smooth', block: 'start'});
    }
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
    card.focus({preventScroll: true});
  }, true);
}
"""


def mode_text(settings: Settings) -> str:
    return fmt.mode_label(settings.resolved_answer_mode, settings.llm_model)


class BriefingBlocks(gr.Blocks):
    """gr.Blocks whose launch() applies the app's theme, CSS and upload limit by default
    (Gradio 6 takes those at launch, not in the constructor), so `build_app(s).launch(...)`
    looks the same everywhere."""

    launch_defaults: dict[str, Any]

    def launch(self, *args, **kwargs):
        for key, value in getattr(self, "launch_defaults", {}).items():
            kwargs.setdefault(key, value)
        return super().launch(*args, **kwargs)


def _theme():
    # System fonts: nothing to download, crisp on every laptop.
    return gr.themes.Default(
        primary_hue="blue", neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"],
    )


def _invalidate(briefing) -> None:
    """After the index changed: make the next question see it at once (the retriever otherwise
    trusts its BM25 cache for a couple of seconds)."""
    retriever = briefing.__dict__.get("retriever")
    if retriever is not None:
        retriever.invalidate()


def build_app(settings: Settings, briefing=None) -> gr.Blocks:
    """The UI over `briefing` (a `rag.pipeline.Briefing`; one is made from `settings` if None)."""
    if briefing is None:
        from rag.pipeline import Briefing

        briefing = Briefing(settings)
    downloads = Path(tempfile.mkdtemp(prefix="briefing-ui-"))  # Markdown exports offered for download
    atexit.register(shutil.rmtree, downloads, ignore_errors=True)

    def records():
        try:
            return briefing.store.document_records()
        except Exception:  # the panel must render even if the index cannot be read
            log.exception("cannot list documents")
            return []

    # --- handlers ------------------------------------------------------------------------
    def respond(question, chat, history, sections, turn, sources, date_from, date_to):
        question = (question or "").strip()
        chat = list(chat or [])
        history = list(history or [])
        sections = list(sections or [])
        keep = gr.update()
        if not question:
            yield chat, keep, "", history, sections, turn, keep, keep
            return
        chat.append({"role": "user", "content": fmt.question_html(question)})
        chat.append({"role": "assistant", "content": fmt.pending_html()})
        yield chat, keep, "", history, sections, turn, keep, keep
        try:
            filters = fmt.scope_filters(sources, date_from, date_to)
        except ValueError as exc:
            chat[-1] = {"role": "assistant", "content": fmt.error_html(str(exc))}
            yield chat, keep, "", history, sections, turn, keep, keep
            return
        answer: Answer | None = None
        partial = ""
        last_yield = 0.0
        try:
            for item in briefing.ask_stream(question, history, filters):
                if isinstance(item, Answer):
                    answer = item
                    continue
                partial += item
                now = time.monotonic()
                if now - last_yield > 0.05:
                    chat[-1] = {"role": "assistant", "content": fmt.streaming_html(partial)}
                    last_yield = now
                    yield chat, keep, "", history, sections, turn, keep, keep
        except BriefingError as exc:
            chat[-1] = {"role": "assistant", "content": fmt.error_html(str(exc))}
            yield chat, keep, "", history, sections, turn, keep, keep
            return
        except Exception as exc:  # keep the session usable; the log has the traceback
            log.exception("answering failed")
            chat[-1] = {"role": "assistant",
                        "content": fmt.error_html(f"Answering failed ({type(exc).__name__}: {exc}).")}
            yield chat, keep, "", history, sections, turn, keep, keep
            return
        assert answer is not None
        turn = int(turn or 0) + 1
        documents = {}
        for c in answer.citations:
            if c.passage.doc_id not in documents:
                try:
                    documents[c.passage.doc_id] = briefing.store.document_text(c.passage.doc_id)
                except Exception:
                    documents[c.passage.doc_id] = ""
        chat[-1] = {"role": "assistant", "content": fmt.answer_html(answer, turn)}
        sections.insert(0, fmt.sources_section(answer, turn, documents))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        markdown = fmt.answer_markdown(answer)
        folder = downloads / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / fmt.markdown_filename(answer)
        path.write_text(markdown, encoding="utf-8")
        yield (chat, fmt.sources_panel(sections), "", history, sections, turn, markdown,
               gr.update(value=str(path), interactive=True))

    def new_chat():
        return ([], fmt.sources_panel([]), "", [], [], 0, "",
                gr.update(value=None, interactive=False))

    def scope_line(sources, date_from, date_to):
        return fmt.scope_summary(sources, date_from, date_to, len(records()))

    def refresh(selected=None, date_from="", date_to=""):
        recs = records()
        choices = [fmt.document_choice(r) for r in recs]
        known = {r.source for r in recs}
        kept = [s for s in (selected or []) if s in known]
        return (
            fmt.header_html(mode_text(settings), len(recs)),
            fmt.documents_summary(recs, str(settings.corpus), briefing.store.location),
            fmt.documents_table(recs),
            gr.update(choices=choices, value=kept),
            gr.update(choices=choices, value=None),
            fmt.scope_summary(kept, date_from, date_to, len(recs)),
        )

    def add_files(files, selected, date_from, date_to, progress=gr.Progress(track_tqdm=True)):
        if not files:
            return (fmt.upload_report_html([], [], [], []), gr.update(), *refresh(selected, date_from, date_to))
        progress(0.0, desc="Saving uploads")
        saved = save_uploads(files, settings.corpus, settings.upload_max_mb)
        skipped = list(saved.skipped)
        report = None
        if saved.saved:
            progress(0.1, desc=f"Indexing {len(saved.saved)} file{'s' if len(saved.saved) != 1 else ''}")
            report = ingest_files(saved.saved, settings.corpus, settings, briefing.store, progress=True)
            _invalidate(briefing)
            for failure in report.failed:
                skipped.append((failure.source, failure.reason))
                bad = (Path(settings.corpus) / failure.source).resolve()
                if bad.parent == (Path(settings.corpus) / UPLOAD_DIR).resolve():
                    bad.unlink(missing_ok=True)  # don't leave a file `briefing ingest` would trip on
        progress(1.0, desc="Done")
        html = fmt.upload_report_html(report.added if report else [], report.updated if report else [],
                                      report.unchanged if report else [], skipped)
        return (html, None, *refresh(selected, date_from, date_to))

    def remove_document(source, selected, date_from, date_to):
        recs = {r.source: r for r in records()}
        record = recs.get(source or "")
        if record is None:
            return ('<div class="upload-report muted">Choose a document to remove.</div>',
                    *refresh(selected, date_from, date_to))
        briefing.store.delete_document(record.doc_id)
        _invalidate(briefing)
        where = Path(record.root or settings.corpus) / record.source
        message = (
            f'<div class="upload-report"><p>&#10003; Removed “{fmt.esc(record.title or record.source)}” from the index.</p>'
            f'<p class="muted">The file itself was not deleted: <code>{fmt.esc(where)}</code>. '
            "Indexing that folder again (<code>briefing ingest</code>) or uploading the file again adds it back; "
            "delete or move the file to keep it out.</p></div>"
        )
        return (message, *refresh([s for s in (selected or []) if s != record.source], date_from, date_to))

    def api_ask(question: str, sources: list[str] | None = None, date_from: str = "", date_to: str = "") -> dict:
        """Answer `question` from the indexed documents, like rag.ask(); returns Answer.to_dict().
        `sources` restricts retrieval to those documents (source paths as listed by `briefing docs`);
        `date_from`/`date_to` (YYYY-MM-DD) to a publication date range."""
        try:
            filters = fmt.scope_filters(sources, date_from, date_to)
            return briefing.ask(question, filters=filters).to_dict()
        except (BriefingError, ValueError) as exc:
            raise gr.Error(str(exc)) from None

    # --- layout --------------------------------------------------------------------------
    recs = records()
    choices = [fmt.document_choice(r) for r in recs]
    with BriefingBlocks(title="Briefing chat", analytics_enabled=False) as app:
        app.launch_defaults = {
            "css": CSS,
            "theme": _theme(),
            "max_file_size": int(settings.upload_max_mb * 1024 * 1024),
            "footer_links": ["api", "settings"],
            "ssr_mode": False,
            "show_error": True,
        }
        history = gr.State([])
        sections = gr.State([])
        turn = gr.State(0)
        header = gr.HTML(fmt.header_html(mode_text(settings), len(recs)), elem_id="app-head")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False, elem_id="ask-row"):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            value=[], elem_id="chat", show_label=False, height="calc(100vh - 330px)",
                            min_height=320, render_markdown=False, sanitize_html=True, allow_tags=False,
                            feedback_options=None, buttons=[], layout="panel", autoscroll=True,
                            placeholder=fmt.CHAT_PLACEHOLDER,
                        )
                        with gr.Row(elem_id="ask-bar"):
                            question = gr.Textbox(
                                show_label=False, placeholder="Ask a question and press Enter",
                                lines=1, max_lines=1, scale=8, autofocus=True, elem_id="question",
                                submit_btn=False, container=False,
                            )
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-btn")
                        with gr.Row(elem_id="chat-tools"):
                            scope_note = gr.HTML(fmt.scope_summary([], "", "", len(recs)), elem_id="scope-note")
                            new_btn = gr.Button("New chat", size="sm", scale=0, min_width=100, elem_id="new-chat")
                            download = gr.DownloadButton("Download .md", size="sm", scale=0, min_width=130,
                                                         interactive=False, elem_id="download-md")
                        with gr.Accordion("Scope: documents and dates", open=False, elem_id="scope"):
                            scope_docs = gr.Dropdown(
                                choices=choices, value=[], multiselect=True, label="Documents (none = all)",
                                elem_id="scope-docs",
                            )
                            with gr.Row():
                                date_from = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="e.g. 2025-01-01",
                                                       max_lines=1, elem_id="date-from")
                                date_to = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="e.g. 2026-06-30",
                                                     max_lines=1, elem_id="date-to")
                            clear_scope = gr.Button("Clear scope", size="sm")
                        with gr.Accordion("Answer as Markdown (copy)", open=False, elem_id="md-box"):
                            markdown_box = gr.Textbox(show_label=False, lines=8, max_lines=16, buttons=["copy"],
                                                      interactive=False, elem_id="answer-md",
                                                      placeholder="The latest answer with its sources, as Markdown.")
                    with gr.Column(scale=2, min_width=340):
                        sources = gr.HTML(fmt.sources_panel([]), elem_id="sources", js_on_load=_CITE_JS,
                                          label="Sources")
            with gr.Tab("Documents", id="documents"):
                docs_summary = gr.HTML(fmt.documents_summary(recs, str(settings.corpus), briefing.store.location),
                                       elem_id="docs-summary")
                docs_table = gr.Dataframe(
                    value=fmt.documents_table(recs), headers=["Title", "Author", "Date", "Chunks", "Source"],
                    datatype=["str", "str", "str", "number", "str"], interactive=False, wrap=True,
                    max_height=360, elem_id="docs-table", column_widths=["40%", "14%", "10%", "8%", "28%"],
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        uploads = gr.File(
                            label=f"Add documents (drag and drop; {', '.join(ALLOWED_SUFFIXES)}; "
                                  f"up to {settings.upload_max_mb} MB each)",
                            file_count="multiple", file_types=list(ALLOWED_SUFFIXES), type="filepath",
                            height=150, elem_id="upload",
                        )
                        add_btn = gr.Button("Add to index", variant="primary", elem_id="add-btn")
                        upload_report = gr.HTML("", elem_id="upload-report")
                    with gr.Column(scale=2):
                        remove_pick = gr.Dropdown(choices=choices, value=None, label="Remove a document from the index",
                                                  elem_id="remove-pick")
                        remove_btn = gr.Button("Remove from index", variant="stop", elem_id="remove-btn")
                        remove_report = gr.HTML(
                            '<div class="muted">Removing takes the document out of the index only; '
                            "its file stays on disk.</div>", elem_id="remove-report")

        # --- events ----------------------------------------------------------------------
        private = {"api_visibility": "private"}
        # Everything that reads or writes the index takes turns (one pipeline, one Chroma client).
        serial = {"concurrency_id": "pipeline", "concurrency_limit": 1}
        chat_inputs = [question, chatbot, history, sections, turn, scope_docs, date_from, date_to]
        chat_outputs = [chatbot, sources, question, history, sections, turn, markdown_box, download]
        question.submit(respond, chat_inputs, chat_outputs, show_progress="hidden", **private, **serial)
        ask_btn.click(respond, chat_inputs, chat_outputs, show_progress="hidden", **private, **serial)
        new_btn.click(new_chat, None, chat_outputs, show_progress="hidden", **private)
        chatbot.clear(new_chat, None, chat_outputs, show_progress="hidden", **private)

        scope_inputs = [scope_docs, date_from, date_to]
        for control in (scope_docs, date_from, date_to):
            control.change(scope_line, scope_inputs, scope_note, show_progress="hidden", **private)
        clear_scope.click(lambda: ([], "", ""), None, scope_inputs, show_progress="hidden", **private)

        doc_outputs = [header, docs_summary, docs_table, scope_docs, remove_pick, scope_note]
        add_btn.click(add_files, [uploads, *scope_inputs], [upload_report, uploads, *doc_outputs],
                      **private, **serial)
        remove_btn.click(remove_document, [remove_pick, *scope_inputs], [remove_report, *doc_outputs],
                         **private, **serial)
        app.load(refresh, scope_inputs, doc_outputs, show_progress="hidden", **private)

        gr.api(api_ask, api_name="ask", **serial)
    return app


# --- launching ------------------------------------------------------------------------------

def is_loopback(host: str) -> bool:
    host = (host or "").strip().strip("[]")
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise BriefingError("BRIEFING_UI_AUTH must look like user:password (both parts non-empty).")
    return user, password


def check_bind(settings: Settings) -> None:
    """Refuse to listen beyond localhost without auth unless explicitly allowed."""
    if is_loopback(settings.ui_host) or settings.ui_auth or settings.ui_allow_remote:
        return
    raise BriefingError(
        f"Refusing to listen on {settings.ui_host}: that makes the documents reachable from other machines "
        "without a password. Set BRIEFING_UI_AUTH=user:password, or BRIEFING_UI_ALLOW_REMOTE=true to allow it "
        "anyway, or use --host 127.0.0.1."
    )


def launch(settings: Settings | None = None, **launch_kwargs):
    """Start the app (blocking unless `prevent_thread_lock=True` is passed; then the running
    Blocks is returned: `.local_url`, `.close()`)."""
    from rag.pipeline import Briefing

    settings = settings or Settings()
    check_bind(settings)
    auth = parse_auth(settings.ui_auth)
    briefing = Briefing(settings)
    if briefing.store.count() == 0 and Path(settings.corpus).is_dir():
        from ingest.index import ingest

        print(f"The index is empty: indexing {settings.corpus} first ...", flush=True)
        report = ingest([Path(settings.corpus)], settings, store=briefing.store)
        print(report.summary(), flush=True)
    app = build_app(settings, briefing)

    def warm_up():  # load the embedding model and BM25 while the page loads
        try:
            if briefing.store.count():
                briefing.retriever.bm25()
                briefing.embedder.embed_query("warm up")
        except Exception:
            log.exception("warm-up failed")

    options = dict(server_name=settings.ui_host, server_port=settings.ui_port, auth=auth,
                   auth_message="Briefing chat" if auth else None)
    options.update(launch_kwargs)
    blocking = not options.pop("prevent_thread_lock", False)
    app.launch(prevent_thread_lock=True, **options)
    # The page is served now; load the model and BM25 index behind it, so the first question is fast.
    threading.Thread(target=warm_up, daemon=True, name="briefing-warm-up").start()
    if blocking:
        app.block_thread()
    return app
