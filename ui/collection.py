"""How an answer about the whole collection shows beside its text: the per-document table, the
"Sources differ" panel and the timeline; plus a citation's dates for its sources card ("as of",
relative dates resolved). Document text is escaped here (`ui.markup.esc`).

This module needs only `ui.markup`, so both `ui.format` (the chat) and `ui.sources` (the cards)
can import it.
"""

from __future__ import annotations

from typing import Sequence

from rag.base.types import Answer, Citation, Conflict, CoverageRow, TimelineEntry
from ui.markup import anchor_id, esc

NEWER_HINT = "the more recent document; not necessarily the correct one"
QUOTE_CHARS = 240  # a citation without spans shows this much of its passage instead


def cite_link(citation: Citation, turn: int) -> str:
    """The `[n]` link to the citation's card in the sources panel (the chat's markers use it too)."""
    n, where = int(citation.n), anchor_id(turn, citation.n)
    if not citation.verified:
        return (f'<a class="cite cite-unverified" href="#{where}" data-turn="{int(turn)}" data-n="{n}" '
                f'title="Unverified: source {n} does not support this sentence">[{n}]&#9888;</a>')
    p = citation.passage
    when = f", as of {esc(p.date)}" if p.date else ""
    return (f'<a class="cite" href="#{where}" data-turn="{int(turn)}" data-n="{n}" '
            f'title="Source {n}: {esc(p.title or p.source)}{when}">[{n}]</a>')


def _quote(citation: Citation) -> str:
    """The cited sentence(s) as plain text; the passage, shortened, when nothing was marked."""
    text = " ".join(" ".join(s.text.split()) for s in citation.spans)
    if text:
        return text
    text = " ".join(citation.passage.text.split())
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


def _title(citation: Citation) -> str:
    return citation.passage.title or citation.passage.source


def _cited(citations: Sequence[Citation], turn: int) -> str:
    return " ".join(f'<span class="cov-quote">{esc(_quote(c))} {cite_link(c, turn)}</span>' for c in citations)


# --- per document -----------------------------------------------------------------------------

def coverage_html(answer: Answer, turn: int) -> str:
    """One row per document in scope: does it address the question's topic, and where."""
    rows = answer.coverage
    if not rows:
        return ""
    yes = sum(r.addresses for r in rows)
    caption = (f"{yes} of {len(rows)} document{'s' if len(rows) != 1 else ''} "
               f"{'mentions' if yes == 1 else 'mention'} it")
    body = "".join(_coverage_row(r, turn) for r in rows)
    return (f'<section class="coverage" aria-label="Per-document answer">'
            f'<table class="cov-table"><caption>{caption}</caption>'
            '<thead><tr><th scope="col">Document</th><th scope="col">Date</th><th scope="col">Verdict</th>'
            f'<th scope="col">What it says</th></tr></thead><tbody>{body}</tbody></table></section>')


def _coverage_row(row: CoverageRow, turn: int) -> str:
    verdict = ('<td class="cov-verdict cov-yes">&#10003; mentions it</td>' if row.addresses else
               '<td class="cov-verdict cov-no">&#8212; not mentioned</td>')
    date = esc(row.date) if row.date else '<span class="muted">undated</span>'
    said = _cited(row.citations, turn) if row.citations else '<span class="muted">&#8212;</span>'
    return (f'<tr class="cov-row{"" if row.addresses else " cov-silent"}">'
            f'<th scope="row" class="cov-doc" title="{esc(row.source)}">{esc(row.title or row.source)}</th>'
            f'<td class="cov-date">{date}</td>{verdict}<td class="cov-said">{said}</td></tr>')


# --- disagreements ----------------------------------------------------------------------------

def conflicts_html(answer: Answer, turn: int) -> str:
    """Each disagreement with its sides next to each other: document, date, value, sentence."""
    if not answer.conflicts:
        return ""
    items = "".join(_conflict(c, turn) for c in answer.conflicts)
    return (f'<section class="conflicts" role="note" aria-label="Sources differ">'
            '<div class="conflicts-head"><span aria-hidden="true">&#8800;</span> Sources differ</div>'
            f'{items}</section>')


def _conflict(conflict: Conflict, turn: int) -> str:
    newer = conflict.newer
    sides = "".join(_side(c, conflict.values[i] if i < len(conflict.values) else "", c.n == newer, turn)
                    for i, c in enumerate(conflict.sides))
    return (f'<div class="conflict"><div class="conflict-about">{esc(conflict.about)}</div>'
            f'<div class="conflict-sides">{sides}</div></div>')


def _side(citation: Citation, value: str, newer: bool, turn: int) -> str:
    badge = f' <span class="badge-newer" title="{NEWER_HINT}">newer</span>' if newer else ""
    date = esc(citation.as_of) if citation.as_of else '<span class="muted">undated</span>'
    sentence = next((" ".join(s.text.split()) for s in citation.spans if value and value in " ".join(s.text.split())),
                    _quote(citation))
    shown = _emphasise(sentence, value)
    value_html = f'<div class="side-value">{esc(value)}</div>' if value else ""
    return (f'<div class="conflict-side{" is-newer" if newer else ""}">'
            f'<div class="side-doc"><span class="side-title">{esc(_title(citation))}</span>{badge}</div>'
            # the file name tells apart two versions of one document, which share a title
            f'<div class="side-date">{date} · <span class="src-file">{esc(citation.passage.source)}</span></div>'
            f'{value_html}'
            f'<div class="side-quote">{shown} {cite_link(citation, turn)}</div></div>')


def _emphasise(sentence: str, value: str) -> str:
    """The escaped sentence with the first occurrence of `value` in <strong>."""
    i = sentence.find(value) if value else -1
    if i < 0:
        return esc(sentence)
    return (esc(sentence[:i]) + f'<strong class="side-hit">{esc(value)}</strong>'
            + esc(sentence[i + len(value):]))


# --- over time --------------------------------------------------------------------------------

def timeline_html(answer: Answer, turn: int) -> str:
    """The dated statements oldest first (as given), then those of undated documents, apart."""
    parts = []
    if answer.timeline:
        items = "".join(_entry(e, turn) for e in answer.timeline)
        parts.append('<div class="tl-head">Timeline <span class="muted">oldest first</span></div>'
                     f'<ol class="tl">{items}</ol>')
    if answer.undated:
        items = "".join(f'<li><span class="tl-doc">{esc(_title(c))}</span>: {esc(_quote(c))} {cite_link(c, turn)}</li>'
                        for c in answer.undated)
        parts.append(f'<div class="tl-undated"><div class="tl-undated-head">Undated (not placed in time)</div>'
                     f'<ul>{items}</ul></div>')
    if not parts:
        return ""
    return f'<section class="timeline" aria-label="Timeline">{"".join(parts)}</section>'


def _entry(entry: TimelineEntry, turn: int) -> str:
    c = entry.citation
    change = f' <span class="tl-change">changed: {esc(entry.change)}</span>' if entry.change else ""
    return (f'<li class="tl-item"><time class="tl-date" datetime="{esc(entry.date)}">{esc(entry.date)}</time>'
            f'<div class="tl-body"><div class="tl-doc">{esc(_title(c))}{change}</div>'
            f'<div class="tl-text">{esc(_quote(c))} {cite_link(c, turn)}</div></div></li>')


# --- a citation's dates (sources panel) -------------------------------------------------------

def date_notes_html(citation: Citation) -> str:
    """ "as of <document date>" and each relative date of the quote with what it resolves to; the
    quote itself is left as written."""
    if not citation.as_of and not citation.dates:
        return ""
    bits = []
    if citation.as_of:
        bits.append(f'<span class="as-of" title="The date of the document: what the quote\'s tense is '
                    f'relative to">as of {esc(citation.as_of)}</span>')
    for note in citation.dates:
        bits.append(f'<span class="date-note" title="Resolved against the document date: {esc(note.resolved)}">'
                    f'“{esc(note.phrase)}” &#8594; {esc(note.label or note.resolved)}</span>')
    return f'<div class="src-dates">{"".join(bits)}</div>'


# --- Markdown export --------------------------------------------------------------------------

def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def collection_markdown(answer: Answer) -> list[str]:
    """The table, the disagreements and the timeline as Markdown lines (none when absent)."""
    lines: list[str] = []
    if answer.coverage:
        yes = sum(r.addresses for r in answer.coverage)
        lines += [f"### By document ({yes} of {len(answer.coverage)} mention it)", "",
                  "| Document | Date | Verdict | What it says |", "|---|---|---|---|"]
        for r in answer.coverage:
            said = " ".join(f"{_quote(c)} [{c.n}]" for c in r.citations) or "—"
            lines.append(f"| {_cell(r.title or r.source)} | {r.date or 'undated'} | "
                         f"{'mentions it' if r.addresses else 'not mentioned'} | {_cell(said)} |")
        lines.append("")
    if answer.conflicts:
        lines += ["### Sources differ", ""]
        for k in answer.conflicts:
            lines.append(f"- **{k.about}**")
            for i, c in enumerate(k.sides):
                value = k.values[i] if i < len(k.values) else ""
                newer = " (newer: the more recent document, not necessarily the correct one)" if c.n == k.newer else ""
                lines.append(f"  - {_title(c)} ({c.as_of or 'undated'}){newer}: “{value}” [{c.n}]")
        lines.append("")
    if answer.timeline or answer.undated:
        lines += ["### Timeline (oldest first)", ""]
        lines += [f"- {e.date} — {_title(e.citation)}: {_quote(e.citation)} [{e.citation.n}]"
                  + (f" (changed: {e.change})" if e.change else "") for e in answer.timeline]
        if answer.undated:
            lines += ["", "Undated (not placed in time):", ""]
            lines += [f"- {_title(c)}: {_quote(c)} [{c.n}]" for c in answer.undated]
        lines.append("")
    return lines
