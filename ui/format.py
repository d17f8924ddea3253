"""Everything the UI shows, as pure functions from answers and documents to HTML or Markdown.

Safety rule: every string that comes from a document, a file name or a user goes through `esc()`
before it is placed in HTML. Markup is only ever produced here, from fixed templates.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from rag.types import Answer, Citation, Passage, Span

CONTEXT_CHARS = 600  # characters of document text shown either side of a passage in "context"
ABSTAIN_HEADLINE = "The documents don't answer this"
CHAT_PLACEHOLDER = (
    '<div class="chat-placeholder"><p class="ph-title">Ask a question about the indexed documents.</p>'
    "<p>Every sentence of an answer cites the passage it rests on: click a <b>[n]</b> to see it, highlighted, "
    "in the sources panel. When the documents don't answer, you are told so, with the nearest passages.</p>"
    "<p>Enter sends · <b>Scope</b> narrows the documents and dates · <b>Documents</b> adds files.</p></div>"
)
_MARKER = re.compile(r"\[(\d+)\]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def esc(text: object) -> str:
    """HTML-escape anything (quotes included) so it can only ever show as text."""
    return html.escape("" if text is None else str(text), quote=True)


def anchor_id(turn: int, n: int) -> str:
    """DOM id of citation `n` of answer number `turn` in the sources panel."""
    return f"src-{int(turn)}-{int(n)}"


# --- the answer in the chat ------------------------------------------------------------------

def link_markers(escaped: str, citations: Sequence[Citation], turn: int) -> str:
    """Turn `[n]` markers of already-escaped text into links to the sources panel.

    Only numbers that are real citations become links; unverified citations get a visible ⚠.
    """
    by_n = {c.n: c for c in citations}

    def repl(match: re.Match) -> str:
        n = int(match.group(1))
        citation = by_n.get(n)
        if citation is None:
            return match.group(0)
        if citation.verified:
            return (f'<a class="cite" href="#{anchor_id(turn, n)}" data-turn="{int(turn)}" data-n="{n}" '
                    f'title="Source {n}: {esc(citation.passage.title or citation.passage.source)}">[{n}]</a>')
        return (f'<a class="cite cite-unverified" href="#{anchor_id(turn, n)}" data-turn="{int(turn)}" '
                f'data-n="{n}" title="Unverified: source {n} does not support this sentence">[{n}]&#9888;</a>')

    return _MARKER.sub(repl, escaped)


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


# --- the sources panel ------------------------------------------------------------------------

def merge_ranges(ranges: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Clip to [0, length), drop empty ranges, merge overlapping/touching ones, sorted."""
    clipped = sorted((max(0, a), min(length, b)) for a, b in ranges)
    merged: list[tuple[int, int]] = []
    for a, b in clipped:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


_BLANK_LINES = re.compile(r"\n[ \t\u00a0]*\n(?:[ \t\u00a0]*\n)+")


def _shown(text: str) -> str:
    """Escaped text for a pre-wrap block: runs of blank lines shown as one."""
    return esc(_BLANK_LINES.sub("\n\n", text))


def highlight(text: str, ranges: Iterable[tuple[int, int]], mark_class: str = "") -> str:
    """Escaped `text` with the character ranges (offsets into `text`) wrapped in <mark>."""
    cls = f' class="{esc(mark_class)}"' if mark_class else ""
    out, pos = [], 0
    for a, b in merge_ranges(ranges, len(text)):
        out.append(_shown(text[pos:a]))
        out.append(f"<mark{cls}>{_shown(text[a:b])}</mark>")
        pos = b
    out.append(_shown(text[pos:]))
    return "".join(out)


def span_ranges(spans: Iterable[Span], base: int) -> list[tuple[int, int]]:
    """Span offsets (into the document) made relative to a text that starts at `base`."""
    return [(s.start - base, s.end - base) for s in spans]


def locate_spans(text: str, spans: Iterable[Span]) -> list[tuple[int, int]]:
    """Where each span's sentence occurs in `text` (exact, then whitespace-insensitive)."""
    found = []
    for span in spans:
        needle = span.text.strip()
        if not needle:
            continue
        i = text.find(needle)
        if i >= 0:
            found.append((i, i + len(needle)))
            continue
        pattern = r"\s+".join(re.escape(w) for w in needle.split())
        match = re.search(pattern, text)
        if match:
            found.append(match.span())
    return found


def spans_match(document: str, spans: Iterable[Span]) -> bool:
    return all(document[s.start:s.end] == s.text for s in spans)


@dataclass(frozen=True)
class Excerpt:
    text: str
    ranges: tuple[tuple[int, int], ...]
    from_document: bool  # True: a slice of the raw document; False: the stored chunk text


def passage_excerpt(passage: Passage, spans: Sequence[Span], document: str = "") -> Excerpt:
    """The passage as it stands in the document, with the cited spans located by their offsets.

    `passage.text` is the chunk text (page furniture left out), while spans are offsets into
    the raw document, so the raw slice `document[passage.start:passage.end]` is shown when the
    document is available and agrees with the spans; otherwise the chunk text, with the spans
    found by their text.
    """
    if document and 0 <= passage.start < passage.end <= len(document) and spans_match(document, spans):
        text = document[passage.start:passage.end]
        return Excerpt(text, tuple(merge_ranges(span_ranges(spans, passage.start), len(text))), True)
    return Excerpt(passage.text, tuple(merge_ranges(locate_spans(passage.text, spans), len(passage.text))), False)


def _snap_start(document: str, i: int) -> int:
    if i <= 0:
        return 0
    j = document.find(" ", i, i + 40)
    k = document.find("\n", i, i + 40)
    cands = [x for x in (j, k) if x >= 0]
    return min(cands) + 1 if cands else i


def _snap_end(document: str, i: int) -> int:
    if i >= len(document):
        return len(document)
    j = document.rfind(" ", max(0, i - 40), i)
    k = document.rfind("\n", max(0, i - 40), i)
    cand = max(j, k)
    return cand if cand > 0 else i


def context_html(passage: Passage, spans: Sequence[Span], document: str, chars: int = CONTEXT_CHARS) -> str:
    """The passage inside its document: `chars` of text either side, passage tinted, spans marked."""
    if not document or not (0 <= passage.start < passage.end <= len(document)):
        return ""
    a = _snap_start(document, passage.start - chars)
    b = _snap_end(document, passage.end + chars)
    inner = document[passage.start:passage.end]
    ranges = merge_ranges(span_ranges(spans, passage.start), len(inner)) if spans_match(document, spans) else []
    return (
        ("…" if a > 0 else "")
        + _shown(document[a:passage.start])
        + f'<span class="ctx-passage">{highlight(inner, ranges)}</span>'
        + _shown(document[passage.end:b])
        + ("…" if b < len(document) else "")
    )


def passage_meta(passage: Passage) -> str:
    bits = [esc(passage.date or "undated")]
    if passage.author:
        bits.append(esc(passage.author))
    bits.append(f'<span class="src-file">{esc(passage.source)}</span>')
    if passage.page:
        bits.append(f"p. {int(passage.page)}")
    return " · ".join(bits)


def citation_card(citation: Citation, turn: int, document: str = "") -> str:
    p = citation.passage
    excerpt = passage_excerpt(p, citation.spans, document)
    context = context_html(p, citation.spans, document)
    classes = "src-card" + ("" if citation.verified else " unverified")
    badge = ("" if citation.verified else
             '<span class="badge-unverified" title="The support check found that this passage does not back '
             'the sentence citing it">&#9888; unverified</span>')
    title = p.title or p.source
    details = (f'<details class="src-context"><summary>Show in document context</summary>'
               f'<div class="ctx">{context}</div></details>') if context else ""
    return (
        f'<article class="{classes}" id="{anchor_id(turn, citation.n)}" tabindex="-1">'
        f'<div class="src-head"><span class="src-n">[{int(citation.n)}]</span> '
        f'<span class="src-title">{esc(title)}</span>{badge}</div>'
        f'<div class="src-meta">{passage_meta(p)}</div>'
        f'<blockquote class="src-passage">{highlight(excerpt.text, excerpt.ranges)}</blockquote>'
        f"{details}</article>"
    )


def sources_section(answer: Answer, turn: int, documents: Mapping[str, str] | None = None) -> str:
    """The sources of one answer: one card per citation, in marker order."""
    documents = documents or {}
    heading = "Nearest passages (not an answer)" if answer.abstained else "Sources"
    cards = "".join(citation_card(c, turn, documents.get(c.passage.doc_id, ""))
                    for c in sorted(answer.citations, key=lambda c: c.n))
    if not cards:
        cards = '<p class="muted">No passages were retrieved for this question.</p>'
    cls = "src-turn abstained" if answer.abstained else "src-turn"
    return (f'<section class="{cls}" data-turn="{int(turn)}">'
            f'<div class="src-turn-head">{heading} <span class="muted">for “{esc(answer.question)}”</span></div>'
            f"{cards}</section>")


def sources_panel(sections: Sequence[str]) -> str:
    """Newest answer's sources open, earlier answers' sources folded below."""
    if not sections:
        return ('<div class="src-panel"><p class="muted src-empty">Sources appear here: each [n] in an answer '
                "links to the passage it quotes, with the cited sentences highlighted.</p></div>")
    latest, older = sections[0], sections[1:]
    folded = "".join(f'<details class="src-older"><summary>Earlier answer</summary>{s}</details>' for s in older)
    return f'<div class="src-panel">{latest}{folded}</div>'


def sources_pending() -> str:
    return '<div class="src-panel"><p class="muted src-empty">Finding the passages…</p></div>'


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


# --- scope and documents ----------------------------------------------------------------------

def parse_date(value: str | None, label: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not _DATE.match(value):
        raise ValueError(f"{label} must look like YYYY-MM-DD (got “{value}”).")
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{label} is not a real date: “{value}”.") from None
    return value


def scope_filters(sources: Sequence[str] | None, date_from: str | None, date_to: str | None) -> dict | None:
    """The `filters` dict for Briefing.ask from the scope controls, or None for everything.
    Raises ValueError with a message for the user on a malformed date."""
    start = parse_date(date_from, "From date")
    end = parse_date(date_to, "To date")
    if start and end and start > end:
        raise ValueError(f"The date range is empty: {start} is after {end}.")
    chosen = [s for s in (sources or []) if s]
    if not chosen and not start and not end:
        return None
    return {"sources": chosen, "date_from": start, "date_to": end}


def scope_summary(sources: Sequence[str] | None, date_from: str | None, date_to: str | None, total: int) -> str:
    """One line saying what the next question will search (HTML, escaped)."""
    try:
        filters = scope_filters(sources, date_from, date_to)
    except ValueError as exc:
        return f'<div class="scope scope-bad">&#9888; {esc(exc)}</div>'
    if filters is None:
        return f'<div class="scope">Searching all {total} document{"s" if total != 1 else ""}.</div>'
    bits = []
    n = len(filters["sources"])
    bits.append(f"{n} of {total} documents" if n else f"all {total} documents")
    if filters["date_from"] or filters["date_to"]:
        bits.append(f"dated {esc(filters['date_from'] or '…')} to {esc(filters['date_to'] or '…')} "
                    "(undated documents left out)")
    return f'<div class="scope scope-on">Searching {", ".join(bits)}.</div>'


def document_choice(record) -> tuple[str, str]:
    """(label, value) for a document picker: the value is the source path used by filters."""
    title = record.title or record.source
    label = title if title == record.source else f"{title} — {record.source}"
    if record.date:
        label += f" ({record.date})"
    return label, record.source


def documents_table(records: Iterable) -> list[list]:
    return [[r.title or "", r.author or "", r.date or "", int(r.chunks), r.source] for r in records]


def documents_summary(records: Sequence, corpus: str, location: str) -> str:
    n = len(records)
    chunks = sum(int(r.chunks) for r in records)
    return (f'<div class="docs-summary">{n} document{"s" if n != 1 else ""} indexed ({chunks} passages) '
            f'in <code>{esc(location)}</code>. Uploads are saved to <code>{esc(corpus)}/uploads/</code>.</div>')


def upload_report_html(added: Sequence[str], updated: Sequence[str], unchanged: Sequence[str],
                       skipped: Sequence[tuple[str, str]]) -> str:
    """What happened to each uploaded file, escaped (file names come from the user)."""
    rows = []
    for name in added:
        rows.append(f'<li class="ok">&#10003; added: <code>{esc(name)}</code></li>')
    for name in updated:
        rows.append(f'<li class="ok">&#10003; updated (replaced an earlier upload): <code>{esc(name)}</code></li>')
    for name in unchanged:
        rows.append(f'<li class="muted">unchanged (already indexed): <code>{esc(name)}</code></li>')
    for name, reason in skipped:
        rows.append(f'<li class="bad">&#10007; skipped <code>{esc(name)}</code>: {esc(reason)}</li>')
    if not rows:
        return '<div class="upload-report muted">No files were uploaded.</div>'
    return f'<div class="upload-report"><ul>{"".join(rows)}</ul></div>'


def header_html(mode: str, documents: int) -> str:
    return (f'<div class="app-head"><span class="app-title">Briefing chat</span>'
            f'<span class="mode-badge" title="How answers are written">{esc(mode)}</span>'
            f'<span class="muted">{documents} document{"s" if documents != 1 else ""} indexed</span></div>')
