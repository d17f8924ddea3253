"""The Gradio app: `build_app(settings)` lays out the components and wires their events to the
handlers in `ui.handlers`; `ui.server.launch(settings)` checks the bind address and auth, indexes
the corpus on a first start, and serves it.

The app is thin: what it shows is built by pure functions (all document text escaped there): the
answers by `ui.format`, the sources panel by `ui.sources`, the scope line by `ui.scope`, the
Documents tab by `ui.documents`; uploads are handled by `ui.uploads`.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr  # (ui/__init__.py has set gradio's environment: no analytics, offline)

from rag.base.settings import Settings
from rag.base.threads import one_blas_thread
from ui.documents import document_choice, documents_summary, documents_table
from ui.format import CHAT_PLACEHOLDER, header_html
from ui.handlers import ChatHandlers, DocumentHandlers, mode_text
from ui.scope import scope_summary
from ui.sources import sources_panel
from ui.style import CSS
from ui.uploads import ALLOWED_SUFFIXES

__all__ = ["BriefingBlocks", "build_app", "mode_text"]

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


def build_app(settings: Settings, briefing=None) -> gr.Blocks:
    """The UI over `briefing` (a `rag.pipeline.Briefing`; one is made from `settings` if None)."""
    one_blas_thread()
    if briefing is None:
        from rag.pipeline import Briefing

        briefing = Briefing(settings)
    downloads = Path(tempfile.mkdtemp(prefix="briefing-ui-"))  # Markdown exports offered for download
    atexit.register(shutil.rmtree, downloads, ignore_errors=True)
    chat = ChatHandlers(briefing, downloads)
    docs = DocumentHandlers(settings, briefing)
    recs = docs.records()
    with BriefingBlocks(title="Briefing chat", analytics_enabled=False) as app:
        app.launch_defaults = {
            "css": CSS,
            "theme": _theme(),
            "max_file_size": int(settings.upload_max_mb * 1024 * 1024),
            "footer_links": ["api", "settings"],
            "ssr_mode": False,
            "show_error": True,
        }
        w = SimpleNamespace(history=gr.State([]), sections=gr.State([]), turn=gr.State(0))
        w.header = gr.HTML(header_html(mode_text(settings), len(recs)), elem_id="app-head")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                _ask_tab(w, recs)
            with gr.Tab("Documents", id="documents"):
                _documents_tab(w, recs, settings, briefing.store.location)
        readers = _readers(settings)
        _wire(app, w, chat, docs, readers)
        gr.api(chat.api_ask, api_name="ask", **readers)
    # Events without their own limit (page loads, the scope line, "New chat") are light reads;
    # Gradio's default of 1 would make every user's page load wait for everyone else's.
    app.queue(default_concurrency_limit=settings.ui_concurrency)
    return app


# --- layout ---------------------------------------------------------------------------------------

def _ask_tab(w: SimpleNamespace, recs: list) -> None:
    """The chat, the question bar, scope and export controls, and the sources panel."""
    with gr.Row(equal_height=False, elem_id="ask-row"):
        with gr.Column(scale=3, min_width=420):
            w.chatbot = gr.Chatbot(
                value=[], elem_id="chat", show_label=False, height="calc(100vh - 330px)",
                min_height=320, render_markdown=False, sanitize_html=True, allow_tags=False,
                feedback_options=None, buttons=[], layout="panel", autoscroll=True,
                placeholder=CHAT_PLACEHOLDER,
            )
            with gr.Row(elem_id="ask-bar"):
                w.question = gr.Textbox(
                    show_label=False, placeholder="Ask a question and press Enter",
                    lines=1, max_lines=1, scale=8, autofocus=True, elem_id="question",
                    submit_btn=False, container=False,
                )
                w.ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-btn")
            with gr.Row(elem_id="chat-tools"):
                w.scope_note = gr.HTML(scope_summary([], "", "", len(recs)), elem_id="scope-note")
                w.scope_all = gr.Checkbox(False, label="Across all documents", elem_id="scope-all", scale=0,
                                          min_width=190, container=False,
                                          info="Answer per document: every document in scope is checked")
                w.new_btn = gr.Button("New chat", size="sm", scale=0, min_width=100, elem_id="new-chat")
                w.download = gr.DownloadButton("Download .md", size="sm", scale=0, min_width=130,
                                               interactive=False, elem_id="download-md")
            with gr.Accordion("Scope: documents and dates", open=False, elem_id="scope"):
                w.scope_docs = gr.Dropdown(
                    choices=[document_choice(r) for r in recs], value=[], multiselect=True,
                    label="Documents (none = all)", elem_id="scope-docs",
                )
                with gr.Row():
                    w.date_from = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="e.g. 2025-01-01",
                                             max_lines=1, elem_id="date-from")
                    w.date_to = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="e.g. 2026-06-30",
                                           max_lines=1, elem_id="date-to")
                w.clear_scope = gr.Button("Clear scope", size="sm")
            with gr.Accordion("Answer as Markdown (copy)", open=False, elem_id="md-box"):
                w.markdown_box = gr.Textbox(show_label=False, lines=8, max_lines=16, buttons=["copy"],
                                            interactive=False, elem_id="answer-md",
                                            placeholder="The latest answer with its sources, as Markdown.")
        with gr.Column(scale=2, min_width=340):
            w.sources = gr.HTML(sources_panel([]), elem_id="sources", js_on_load=_CITE_JS, label="Sources")


def _documents_tab(w: SimpleNamespace, recs: list, settings: Settings, location: str) -> None:
    """The indexed documents, the upload box and the remove picker."""
    w.docs_summary = gr.HTML(documents_summary(recs, str(settings.corpus), location), elem_id="docs-summary")
    w.docs_table = gr.Dataframe(
        value=documents_table(recs), headers=["Title", "Author", "Date", "Chunks", "Source"],
        datatype=["str", "str", "str", "number", "str"], interactive=False, wrap=True,
        max_height=360, elem_id="docs-table", column_widths=["40%", "14%", "10%", "8%", "28%"],
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            w.uploads = gr.File(
                label=f"Add documents (drag and drop; {', '.join(ALLOWED_SUFFIXES)}; "
                      f"up to {settings.upload_max_mb} MB each)",
                file_count="multiple", file_types=list(ALLOWED_SUFFIXES), type="filepath",
                height=150, elem_id="upload",
            )
            w.add_btn = gr.Button("Add to index", variant="primary", elem_id="add-btn")
            w.upload_report = gr.HTML("", elem_id="upload-report")
        with gr.Column(scale=2):
            w.remove_pick = gr.Dropdown(choices=[document_choice(r) for r in recs], value=None,
                                        label="Remove a document from the index", elem_id="remove-pick")
            w.remove_btn = gr.Button("Remove from index", variant="stop", elem_id="remove-btn")
            w.remove_report = gr.HTML(
                '<div class="muted">Removing takes the document out of the index only; '
                "its file stays on disk.</div>", elem_id="remove-report")


# --- events ---------------------------------------------------------------------------------------

_PRIVATE = {"api_visibility": "private"}  # only `/ask` is a public API endpoint
# Uploads and removals take turns with each other (a removal does not take ingest's writer lock,
# so it could interleave with an upload's ingest). They do not wait for questions, nor questions
# for them: a question reads the retriever's snapshot, which is replaced whole (never edited) when
# the index changes, and `Briefing.invalidate()` after each write makes the next question look.
_WRITES = {"concurrency_id": "index-writes", "concurrency_limit": 1}


def _readers(settings: Settings) -> dict[str, Any]:
    """Questions (the chat and the public `/ask`) share one Gradio queue that runs up to
    `settings.ui_concurrency` at once: the pipeline is thread-safe, and its numpy work (the
    embedding, the matrix products) releases the GIL, so answers overlap instead of queueing."""
    return {"concurrency_id": "ask", "concurrency_limit": settings.ui_concurrency}


def _wire(app: gr.Blocks, w: SimpleNamespace, chat: ChatHandlers, docs: DocumentHandlers,
          readers: dict[str, Any]) -> None:
    def parts(names):
        return [getattr(w, name) for name in names]

    chat_inputs, chat_outputs = parts(ChatHandlers.INPUTS), parts(ChatHandlers.OUTPUTS)
    quiet = {"show_progress": "hidden", **_PRIVATE}
    w.question.submit(chat.respond, chat_inputs, chat_outputs, **quiet, **readers)
    w.ask_btn.click(chat.respond, chat_inputs, chat_outputs, **quiet, **readers)
    w.new_btn.click(chat.new_chat, None, chat_outputs, **quiet)
    w.chatbot.clear(chat.new_chat, None, chat_outputs, **quiet)

    scope_inputs = [w.scope_docs, w.date_from, w.date_to]
    for control in scope_inputs:
        control.change(docs.scope_line, scope_inputs, w.scope_note, **quiet)
    w.clear_scope.click(lambda: ([], "", ""), None, scope_inputs, **quiet)

    doc_outputs = parts(DocumentHandlers.OUTPUTS)
    w.add_btn.click(docs.add_files, [w.uploads, *scope_inputs], [w.upload_report, w.uploads, *doc_outputs],
                    **_PRIVATE, **_WRITES)
    w.remove_btn.click(docs.remove_document, [w.remove_pick, *scope_inputs], [w.remove_report, *doc_outputs],
                       **_PRIVATE, **_WRITES)
    # each page load lists the documents as they are then (the layout shows them as at build time)
    app.load(docs.refresh, scope_inputs, doc_outputs, **quiet)
