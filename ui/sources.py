"""The sources panel: one card per citation with the cited sentences highlighted in the passage,
and the passage shown in its document context. Document text is escaped here (`ui.markup.esc`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from rag.base.types import Answer, Citation, Passage, Span
from ui.collection import date_notes_html
from ui.markup import anchor_id, esc, merge_ranges

CONTEXT_CHARS = 600  # characters of document text shown either side of a passage in "context"

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
        f'<div class="src-meta">{passage_meta(p)}</div>{date_notes_html(citation)}'
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
