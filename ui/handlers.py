"""What the app's events do: `ChatHandlers` (asking, streaming, exporting, the `/ask` API) and
`DocumentHandlers` (listing, uploading and removing documents, the scope line).

Each handler turns the event's inputs into the values of its outputs; what those values show is
built by the pure rendering functions (`ui.format`, `ui.sources`, `ui.scope`, `ui.documents`).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import gradio as gr

from ingest.lock import writer_lock
from rag.base.errors import BriefingError
from rag.base.settings import Settings
from rag.base.types import Answer
from ui.documents import document_choice, documents_summary, documents_table, upload_report_html
from ui.format import (
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
from ui.markup import esc
from ui.scope import scope_filters, scope_summary
from ui.sources import sources_panel, sources_section
from ui.uploads import UPLOAD_DIR, ingest_files, save_uploads

log = logging.getLogger("briefing.ui")

STREAM_INTERVAL = 0.05  # seconds between chat updates while an answer streams in


def mode_text(settings: Settings) -> str:
    return mode_label(settings.resolved_answer_mode, settings.llm_model)


def _keep():
    return gr.update()  # leave that output as it is


@dataclass
class Conversation:
    """The per-session chat state that every chat event reads and writes: the chat messages (HTML),
    the plain-text history the pipeline sees, the sources sections (newest first) and the turn."""

    chat: list = field(default_factory=list)
    history: list = field(default_factory=list)
    sections: list = field(default_factory=list)
    turn: int = 0

    @classmethod
    def of(cls, chat, history, sections, turn) -> "Conversation":
        return cls(list(chat or []), list(history or []), list(sections or []), int(turn or 0))

    def show(self, html: str) -> None:
        """Replace the last (assistant) message."""
        self.chat[-1] = {"role": "assistant", "content": html}

    def outputs(self, sources: Any = None, markdown: Any = None, download: Any = None) -> tuple:
        """The values of `ChatHandlers.OUTPUTS`, in order; the question box is always cleared and
        the sources panel, Markdown box and download button are left as they are unless given."""
        return (self.chat, _keep() if sources is None else sources, "", self.history, self.sections, self.turn,
                _keep() if markdown is None else markdown, _keep() if download is None else download)


class ChatHandlers:
    """The Ask tab. Its events take `INPUTS` and fill `OUTPUTS` (component names in `ui.app`)."""

    INPUTS = ("question", "chatbot", "history", "sections", "turn", "scope_docs", "date_from", "date_to",
              "scope_all")
    OUTPUTS = ("chatbot", "sources", "question", "history", "sections", "turn", "markdown_box", "download")

    def __init__(self, briefing, downloads: Path):
        self.briefing = briefing
        self.downloads = downloads  # Markdown exports offered for download

    def respond(self, question, chat, history, sections, turn, sources, date_from, date_to,
                scope_all=False) -> Iterator[tuple]:
        """Ask `question` in the conversation: a pending message, the answer as it streams in, then
        the final answer with its sources and exports (or an error in its place). `scope_all`
        (the "Across all documents" box) answers per document; otherwise the pipeline decides."""
        conv = Conversation.of(chat, history, sections, turn)
        question = (question or "").strip()
        if not question:
            yield conv.outputs()
            return
        conv.chat.append({"role": "user", "content": question_html(question)})
        conv.chat.append({"role": "assistant", "content": pending_html()})
        yield conv.outputs()
        try:
            filters = scope_filters(sources, date_from, date_to)
        except ValueError as exc:  # a malformed scope date
            conv.show(error_html(str(exc)))
            yield conv.outputs()
            return
        answer: Answer | None = None
        scope = "all" if scope_all else "auto"
        try:
            for item in self._throttled(self.briefing.ask_stream(question, conv.history, filters, scope)):
                if isinstance(item, Answer):
                    answer = item
                else:
                    conv.show(streaming_html(item))
                    yield conv.outputs()
        except BriefingError as exc:  # an empty index, a question too long, an LLM failure, ...
            conv.show(error_html(str(exc)))
            yield conv.outputs()
            return
        except Exception as exc:  # keep the session usable; the log has the traceback
            log.exception("answering failed")
            conv.show(error_html(f"Answering failed ({type(exc).__name__}: {exc})."))
            yield conv.outputs()
            return
        assert answer is not None
        yield self._answered(conv, question, answer)

    @staticmethod
    def _throttled(stream: Iterable[str | Answer]) -> Iterator[str | Answer]:
        """The text so far, at most every STREAM_INTERVAL seconds, then the final Answer."""
        partial = ""
        last = 0.0
        for item in stream:
            if isinstance(item, Answer):
                yield item
                continue
            partial += item
            now = time.monotonic()
            if now - last > STREAM_INTERVAL:
                last = now
                yield partial

    def _answered(self, conv: Conversation, question: str, answer: Answer) -> tuple:
        conv.turn += 1
        conv.show(answer_html(answer, conv.turn))
        conv.sections.insert(0, sources_section(answer, conv.turn, self._documents(answer)))
        conv.history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        markdown = answer_markdown(answer)
        return conv.outputs(sources=sources_panel(conv.sections), markdown=markdown,
                            download=gr.update(value=str(self._export(answer, markdown)), interactive=True))

    def _documents(self, answer: Answer) -> dict[str, str]:
        """The full text of each cited document, for "Show in document context"."""
        documents: dict[str, str] = {}
        for c in answer.citations:
            doc_id = c.passage.doc_id
            if doc_id not in documents:
                try:
                    documents[doc_id] = self.briefing.store.document_text(doc_id)
                except Exception:
                    documents[doc_id] = ""
        return documents

    def _export(self, answer: Answer, markdown: str) -> Path:
        folder = self.downloads / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / markdown_filename(answer)
        path.write_text(markdown, encoding="utf-8")
        return path

    def new_chat(self) -> tuple:
        return Conversation().outputs(sources=sources_panel([]), markdown="",
                                      download=gr.update(value=None, interactive=False))

    def api_ask(self, question: str, sources: list[str] | None = None, date_from: str = "",
                date_to: str = "", scope: str = "auto") -> dict:
        """Answer `question` from the indexed documents, like rag.ask(); returns Answer.to_dict().
        `sources` restricts retrieval to those documents (source paths as listed by `briefing docs`);
        `date_from`/`date_to` (YYYY-MM-DD) to a publication date range; `scope` "all" answers per
        document over every document in scope, "top" from the best passages, "auto" decides."""
        try:
            filters = scope_filters(sources, date_from, date_to)
            return self.briefing.ask(question, filters=filters, scope=scope).to_dict()
        except (BriefingError, ValueError) as exc:
            raise gr.Error(str(exc)) from None


class DocumentHandlers:
    """The Documents tab and everything that shows what is indexed. `refresh` fills `OUTPUTS`."""

    OUTPUTS = ("header", "docs_summary", "docs_table", "scope_docs", "remove_pick", "scope_note")

    def __init__(self, settings: Settings, briefing):
        self.settings = settings
        self.briefing = briefing

    def records(self) -> list:
        try:
            return self.briefing.store.document_records()
        except Exception:  # the panel must render even if the index cannot be read
            log.exception("cannot list documents")
            return []

    def scope_line(self, sources, date_from, date_to) -> str:
        return scope_summary(sources, date_from, date_to, len(self.records()))

    def refresh(self, selected=None, date_from="", date_to="") -> tuple:
        recs = self.records()
        choices = [document_choice(r) for r in recs]
        known = {r.source for r in recs}
        kept = [s for s in (selected or []) if s in known]
        return (
            header_html(mode_text(self.settings), len(recs)),
            documents_summary(recs, str(self.settings.corpus), self.briefing.store.location),
            documents_table(recs),
            gr.update(choices=choices, value=kept),
            gr.update(choices=choices, value=None),
            scope_summary(kept, date_from, date_to, len(recs)),
        )

    def add_files(self, files, selected, date_from, date_to, progress=gr.Progress(track_tqdm=True)) -> tuple:
        """Save and index the uploads; outputs: the report, the file box, then `OUTPUTS`."""
        if not files:
            return (upload_report_html([], [], [], []), _keep(), *self.refresh(selected, date_from, date_to))
        settings = self.settings
        progress(0.0, desc="Saving uploads")
        saved = save_uploads(files, settings.corpus, settings.upload_max_mb)
        skipped = list(saved.skipped)
        report = None
        if saved.saved:
            progress(0.1, desc=f"Indexing {len(saved.saved)} file{'s' if len(saved.saved) != 1 else ''}")
            report = ingest_files(saved.saved, settings.corpus, settings, self.briefing.store, progress=True)
            self.briefing.invalidate()
            uploads = (Path(settings.corpus) / UPLOAD_DIR).resolve()
            for failure in report.failed:
                skipped.append((failure.source, failure.reason))
                bad = (Path(settings.corpus) / failure.source).resolve()
                if bad.parent == uploads:
                    bad.unlink(missing_ok=True)  # don't leave a file `briefing ingest` would trip on
        progress(1.0, desc="Done")
        html = upload_report_html(report.added if report else [], report.updated if report else [],
                                  report.unchanged if report else [], skipped)
        return (html, None, *self.refresh(selected, date_from, date_to))

    def remove_document(self, source, selected, date_from, date_to) -> tuple:
        """Take a document out of the index (its file stays); outputs: the report, then `OUTPUTS`."""
        record = {r.source: r for r in self.records()}.get(source or "")
        if record is None:
            return ('<div class="upload-report muted">Choose a document to remove.</div>',
                    *self.refresh(selected, date_from, date_to))
        with writer_lock(self.briefing.store, self.settings, log=log.warning):  # not during an ingest
            self.briefing.store.delete_document(record.doc_id)
        self.briefing.invalidate()
        where = Path(record.root or self.settings.corpus) / record.source
        message = (
            f'<div class="upload-report"><p>&#10003; Removed “{esc(record.title or record.source)}” '
            "from the index.</p>"
            f'<p class="muted">The file itself was not deleted: <code>{esc(where)}</code>. '
            "Indexing that folder again (<code>briefing ingest</code>) or uploading the file again adds it back; "
            "delete or move the file to keep it out.</p></div>"
        )
        return (message, *self.refresh([s for s in (selected or []) if s != record.source], date_from, date_to))
