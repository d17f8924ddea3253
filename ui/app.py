"""The Gradio app: `build_app(settings)` wires components to the pipeline; `ui.server.launch(settings)`
checks the bind address and auth, indexes the corpus on a first start, and serves it.

The app is thin: what it shows is built by pure functions (all document text escaped there): the
answers by `ui.format`, the sources panel by `ui.sources`, the scope line by `ui.scope`, the
Documents tab by `ui.documents`; uploads are handled by `ui.uploads`.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402  (the environment above must be set before gradio is imported)

from rag.base.errors import BriefingError  # noqa: E402
from rag.base.settings import Settings  # noqa: E402
from rag.base.types import Answer  # noqa: E402
from ui.documents import document_choice, documents_summary, documents_table, upload_report_html  # noqa: E402
from ui.format import (  # noqa: E402
    CHAT_PLACEHOLDER,
    answer_html,
    answer_markdown,
    error_html,
    header_html,
    markdown_filename,
    mode_label,
    pending_html,
    question_html,
    streaming_html,
)
from ui.markup import esc  # noqa: E402
from ui.scope import scope_filters, scope_summary  # noqa: E402
from ui.sources import sources_panel, sources_section  # noqa: E402
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
    return mode_label(settings.resolved_answer_mode, settings.llm_model)


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
        chat.append({"role": "user", "content": question_html(question)})
        chat.append({"role": "assistant", "content": pending_html()})
        yield chat, keep, "", history, sections, turn, keep, keep
        try:
            filters = scope_filters(sources, date_from, date_to)
        except ValueError as exc:
            chat[-1] = {"role": "assistant", "content": error_html(str(exc))}
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
                    chat[-1] = {"role": "assistant", "content": streaming_html(partial)}
                    last_yield = now
                    yield chat, keep, "", history, sections, turn, keep, keep
        except BriefingError as exc:
            chat[-1] = {"role": "assistant", "content": error_html(str(exc))}
            yield chat, keep, "", history, sections, turn, keep, keep
            return
        except Exception as exc:  # keep the session usable; the log has the traceback
            log.exception("answering failed")
            chat[-1] = {"role": "assistant",
                        "content": error_html(f"Answering failed ({type(exc).__name__}: {exc}).")}
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
        chat[-1] = {"role": "assistant", "content": answer_html(answer, turn)}
        sections.insert(0, sources_section(answer, turn, documents))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        markdown = answer_markdown(answer)
        folder = downloads / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / markdown_filename(answer)
        path.write_text(markdown, encoding="utf-8")
        yield (chat, sources_panel(sections), "", history, sections, turn, markdown,
               gr.update(value=str(path), interactive=True))

    def new_chat():
        return ([], sources_panel([]), "", [], [], 0, "",
                gr.update(value=None, interactive=False))

    def scope_line(sources, date_from, date_to):
        return scope_summary(sources, date_from, date_to, len(records()))

    def refresh(selected=None, date_from="", date_to=""):
        recs = records()
        choices = [document_choice(r) for r in recs]
        known = {r.source for r in recs}
        kept = [s for s in (selected or []) if s in known]
        return (
            header_html(mode_text(settings), len(recs)),
            documents_summary(recs, str(settings.corpus), briefing.store.location),
            documents_table(recs),
            gr.update(choices=choices, value=kept),
            gr.update(choices=choices, value=None),
            scope_summary(kept, date_from, date_to, len(recs)),
        )

    def add_files(files, selected, date_from, date_to, progress=gr.Progress(track_tqdm=True)):
        if not files:
            return (upload_report_html([], [], [], []), gr.update(), *refresh(selected, date_from, date_to))
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
        html = upload_report_html(report.added if report else [], report.updated if report else [],
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
            f'<div class="upload-report"><p>&#10003; Removed “{esc(record.title or record.source)}” from the index.</p>'
            f'<p class="muted">The file itself was not deleted: <code>{esc(where)}</code>. '
            "Indexing that folder again (<code>briefing ingest</code>) or uploading the file again adds it back; "
            "delete or move the file to keep it out.</p></div>"
        )
        return (message, *refresh([s for s in (selected or []) if s != record.source], date_from, date_to))

    def api_ask(question: str, sources: list[str] | None = None, date_from: str = "", date_to: str = "") -> dict:
        """Answer `question` from the indexed documents, like rag.ask(); returns Answer.to_dict().
        `sources` restricts retrieval to those documents (source paths as listed by `briefing docs`);
        `date_from`/`date_to` (YYYY-MM-DD) to a publication date range."""
        try:
            filters = scope_filters(sources, date_from, date_to)
            return briefing.ask(question, filters=filters).to_dict()
        except (BriefingError, ValueError) as exc:
            raise gr.Error(str(exc)) from None

    # --- layout --------------------------------------------------------------------------
    recs = records()
    choices = [document_choice(r) for r in recs]
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
        header = gr.HTML(header_html(mode_text(settings), len(recs)), elem_id="app-head")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False, elem_id="ask-row"):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            value=[], elem_id="chat", show_label=False, height="calc(100vh - 330px)",
                            min_height=320, render_markdown=False, sanitize_html=True, allow_tags=False,
                            feedback_options=None, buttons=[], layout="panel", autoscroll=True,
                            placeholder=CHAT_PLACEHOLDER,
                        )
                        with gr.Row(elem_id="ask-bar"):
                            question = gr.Textbox(
                                show_label=False, placeholder="Ask a question and press Enter",
                                lines=1, max_lines=1, scale=8, autofocus=True, elem_id="question",
                                submit_btn=False, container=False,
                            )
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-btn")
                        with gr.Row(elem_id="chat-tools"):
                            scope_note = gr.HTML(scope_summary([], "", "", len(recs)), elem_id="scope-note")
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
                        sources = gr.HTML(sources_panel([]), elem_id="sources", js_on_load=_CITE_JS,
                                          label="Sources")
            with gr.Tab("Documents", id="documents"):
                docs_summary = gr.HTML(documents_summary(recs, str(settings.corpus), briefing.store.location),
                                       elem_id="docs-summary")
                docs_table = gr.Dataframe(
                    value=documents_table(recs), headers=["Title", "Author", "Date", "Chunks", "Source"],
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
