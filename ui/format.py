"""How an answer shows: in the chat as HTML (linked [n] markers, flagged unsupported sentences,
abstentions in their own box) and exported as Markdown; plus the page header.

The sources panel is `ui.sources`, the scope controls `ui.scope`, the Documents tab
`ui.documents`; all escape document text through `ui.markup.esc`.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from rag.base.markers import MARKER
from rag.base.types import Answer, Citation
from ui.collection import cite_link, collection_markdown, conflicts_html, coverage_html, timeline_html
from ui.documents import upload_report_html
from ui.markup import esc, merge_ranges
from ui.scope import scope_filters, scope_summary
from ui.sources import citation_card, context_html, highlight, passage_excerpt, sources_section

# The names rendered here, and those of the other rendering modules that tests/test_ui_format.py
# reaches through this module (it checks the whole rendering layer, escaping included, as `fmt`).
__all__ = [
    "ABSTAIN_HEADLINE", "CHAT_PLACEHOLDER", "answer_html", "answer_markdown", "error_html", "esc", "header_html",
    "link_markers", "markdown_filename", "merge_ranges", "mode_label", "pending_html", "question_html",
    "streaming_html", "text_html", "unsupported_ranges",
    "citation_card", "context_html", "highlight", "passage_excerpt", "scope_filters", "scope_summary",
    "sources_section", "upload_report_html",
    "conflicts_html", "coverage_html", "timeline_html",
]

ABSTAIN_HEADLINE = "The documents don't answer this"
CHAT_PLACEHOLDER = (
    '<div class="chat-placeholder"><p class="ph-title">Ask a question about the indexed documents.</p>'
    "<p>Every sentence of an answer cites the passage it rests on: click a <b>[n]</b> to see it, highlighted, "
    "in the sources panel. When the documents don't answer, you are told so, with the nearest passages.</p>"
    "<p>Enter sends · <b>Scope</b> narrows the documents and dates · <b>Documents</b> adds files.</p></div>"
)


# --- the answer in the chat ------------------------------------------------------------------

def link_markers(escaped: str, citations: Sequence[Citation], turn: int) -> str:
    """Turn `[n]` markers of already-escaped text into links to the sources panel.

    Only single-number markers (`[3]`, not `[1, 3]` or `[2-4]`; the answerers write one number per
    bracket) of real citations become links; unverified citations get a visible ⚠.
    """
    by_n = {c.n: c for c in citations}

    def repl(match: re.Match) -> str:
        number = match.group(1)
        citation = by_n.get(int(number)) if number.isdigit() else None
        return match.group(0) if citation is None else cite_link(citation, turn)

    return MARKER.sub(repl, escaped)


_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use sentinels marking unsupported sentences
_UNSUPPORTED_OPEN = ('<span class="unsupported" title="Not supported by the passages it cites">'
                     '<span class="unsupported-flag" aria-label="unsupported">&#9888;</span>')


def unsupported_ranges(text: str, sentences: Iterable[str]) -> list[tuple[int, int]]:
    """Where the answer's unsupported sentences are in `text`, markers and final stop included.

    The support check reports a sentence without its markers ("X happened in 1999."), while the
    text has them ("X happened in 1999 [3]."), so the sentence is found without its final stop
    and the range extended over the markers and punctuation that follow."""
    found = (_locate_sentence(text, s) for s in sentences)
    return merge_ranges([r for r in found if r is not None], len(text))


def _locate_sentence(text: str, sentence: str) -> tuple[int, int] | None:
    core = sentence.strip().rstrip(".!?…").strip()
    if not core:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in core.split()), text)
    if not match:
        return None
    tail = re.match(r"(?:\s*\[\d+\])*[.!?…]?(?:\s*\[\d+\])*", text[match.end():])
    start, end = match.start(), match.end() + (tail.end() if tail else 0)
    return None if "\n" in text[start:end] else (start, end)


def text_html(text: str, citations: Sequence[Citation] = (), turn: int = 0, unsupported: Iterable[str] = ()) -> str:
    """Plain answer text to HTML: blank lines separate paragraphs, `- ` lines become a list,
    `[n]` markers become links, unsupported sentences are flagged. The text is escaped first,
    so it cannot carry markup."""
    text = text.replace(_OPEN, "").replace(_CLOSE, "")
    for start, end in reversed(unsupported_ranges(text, unsupported)):
        text = text[:start] + _OPEN + text[start:end] + _CLOSE + text[end:]
    html = _blocks_html(text, citations, turn)
    return html.replace(_OPEN, _UNSUPPORTED_OPEN).replace(_CLOSE, "</span>")


def _blocks_html(text: str, citations: Sequence[Citation], turn: int) -> str:
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = paragraph.split("\n")
        parts: list[str] = []
        items: list[str] = []
        for line in lines:
            if line.lstrip().startswith("- "):
                items.append(link_markers(esc(line.lstrip()[2:]), citations, turn))
                continue
            if items:
                parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
                items = []
            if line.strip():
                parts.append(f"<p>{link_markers(esc(line), citations, turn)}</p>")
        if items:
            parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
        blocks.append("".join(parts))
    return "".join(blocks)


def mode_label(mode: str, model: str = "") -> str:
    return f"LLM: {model}" if mode == "llm" and model else ("LLM" if mode == "llm" else "Offline extractive answers")


def _answer_footer(answer: Answer) -> str:
    bits = [esc(mode_label(answer.mode, answer.model))]
    total = answer.timings.get("total") if answer.timings else None
    if total is not None:
        bits.append(f"{total:.1f} s")
    if answer.citations:
        bits.append(f"{len(answer.citations)} source{'s' if len(answer.citations) != 1 else ''}")
    return f'<div class="answer-meta">{" · ".join(bits)}</div>'


def answer_html(answer: Answer, turn: int) -> str:
    """The final answer as chat HTML: linked markers, flagged unverified/unsupported sentences,
    and a distinct box for abstentions."""
    parts: list[str] = []
    if answer.abstained:
        text = answer.text.strip()
        first, _, rest = text.partition("\n\n")
        if first.startswith(ABSTAIN_HEADLINE):
            headline, body = first, rest
        else:
            headline, body = ABSTAIN_HEADLINE + ".", text
        parts.append('<div class="abstain" role="note">')
        parts.append(f'<div class="abstain-head"><span class="abstain-icon" aria-hidden="true">&#8856;</span> '
                     f'{esc(headline)}</div>')
        if body.strip():
            parts.append(f'<div class="abstain-body">{text_html(body, answer.citations, turn)}</div>')
        parts.append('</div>')
    else:
        body = text_html(answer.text, answer.citations, turn, answer.unsupported)
        parts.append(f'<div class="answer">{body}</div>')
    # every document's verdict shows even when none mentions the topic (an abstention)
    parts += [coverage_html(answer, turn), conflicts_html(answer, turn), timeline_html(answer, turn)]
    unverified = [c.n for c in answer.citations if not c.verified]
    if answer.unsupported or unverified:
        lines = []
        if answer.unsupported:
            n = len(answer.unsupported)
            lines.append(f"&#9888; {n} sentence{'s' if n != 1 else ''} (marked &#9888;, underlined) "
                         f"{'are' if n != 1 else 'is'} not supported by the passages cited: shown for "
                         "transparency, not as sourced.")
            if answer.notice:
                lines.append(esc(answer.notice))
        if unverified:
            marks = ", ".join(f"[{n}]" for n in unverified)
            lines.append(f"&#9888; unverified citation{'s' if len(unverified) > 1 else ''} {marks}: the passage "
                         "does not back the sentence citing it.")
        elsewhere = [u for u in answer.unsupported if _locate_sentence(answer.text, u) is None]
        listed = "<ul>" + "".join(f"<li>{esc(u)}</li>" for u in elsewhere) + "</ul>" if elsewhere else ""
        parts.append('<div class="warn" role="note">' + "<br>".join(lines) + listed + "</div>")
    if answer.notice and not answer.unsupported:
        parts.append(f'<div class="notice">{esc(answer.notice)}</div>')
    parts.append(_answer_footer(answer))
    return "".join(parts)


def streaming_html(partial: str) -> str:
    """The answer while it is being written: escaped text, markers not yet linked."""
    if not partial.strip():
        return pending_html()
    cursor = '<span class="cursor" aria-hidden="true">&#9612;</span>'
    body = text_html(partial)
    for end in ("</p>", "</li></ul>"):
        if body.endswith(end):  # keep the cursor on the last line of text
            body = body[: -len(end)] + cursor + end
            break
    else:
        body += cursor
    return f'<div class="answer streaming">{body}</div>'


def pending_html(what: str = "Searching the documents…") -> str:
    return f'<div class="answer pending"><span class="spinner" aria-hidden="true"></span> {esc(what)}</div>'


def error_html(message: str) -> str:
    return f'<div class="error" role="alert">&#9888; {esc(message)}</div>'


def question_html(question: str) -> str:
    return f'<div class="question">{esc(question)}</div>'


# --- export -----------------------------------------------------------------------------------

def answer_markdown(answer: Answer) -> str:
    """The answer with its numbered sources and cited sentences, as a Markdown document."""
    lines = [f"## {answer.question}", ""]
    if answer.abstained:
        lines += [f"> **{ABSTAIN_HEADLINE}.**", ""]
    lines += [answer.text.strip(), ""]
    if answer.unsupported:
        lines += ["**Not supported by the documents:**", ""] + [f"- ⚠ {s}" for s in answer.unsupported] + [""]
    if answer.notice:
        lines += [f"_Note: {answer.notice}_", ""]
    lines += collection_markdown(answer)
    if answer.citations:
        lines += ["### Nearest passages" if answer.abstained else "### Sources", ""]
        for c in sorted(answer.citations, key=lambda c: c.n):
            p = c.passage
            where = [p.date or "undated", f"`{p.source}`"]
            if p.page:
                where.append(f"p. {p.page}")
            where.append(f"chars {p.start}–{p.end}")
            flag = " — ⚠ unverified: the passage does not support the sentence citing it" if not c.verified else ""
            lines.append(f"[{c.n}] **{p.title or p.source}** ({', '.join(where)}){flag}")
            lines += [f"> {s.text}" for s in c.spans]
            lines.append("")
    lines.append(f"_{mode_label(answer.mode, answer.model)}_")
    return "\n".join(lines).rstrip() + "\n"


def markdown_filename(answer: Answer) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", answer.question.lower()).strip("-")[:50] or "answer"
    return f"briefing-{slug}.md"


# --- the page header -------------------------------------------------------------------------

def header_html(mode: str, documents: int) -> str:
    return (f'<div class="app-head"><span class="app-title">Briefing chat</span>'
            f'<span class="mode-badge" title="How answers are written">{esc(mode)}</span>'
            f'<span class="muted">{documents} document{"s" if documents != 1 else ""} indexed</span></div>')
