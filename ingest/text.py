"""Raw document text as paragraphs and units (sentences and headings), keeping character offsets
into the raw text; sentences come from the shared splitter in `rag.base.text`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.base.text import split_sentences, word_count

_BULLET = re.compile(r"[•▪◦·*\-–]\s+")


@dataclass(frozen=True)
class Unit:
    """A sentence or a heading line, as `raw[start:end]`."""

    start: int
    end: int
    text: str
    paragraph: int
    is_heading: bool = False

    @property
    def words(self) -> int:
        return word_count(self.text)


def paragraphs(raw: str) -> list[tuple[int, int]]:
    """Non-blank lines as (start, end) with surrounding whitespace trimmed.

    Briefs captured from the web put one paragraph per line, so a line is the paragraph unit.
    """
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"[^\n]+", raw):
        start, end = match.span()
        line = raw[start:end]
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        span = (start + lead, start + lead + len(stripped))
        if spans and _continues(raw[spans[-1][0]:spans[-1][1]], stripped):
            spans[-1] = (spans[-1][0], span[1])  # a page break inside a sentence
        else:
            spans.append(span)
    return spans


def _continues(previous: str, line: str) -> bool:
    return line[:1].islower() and not re.search(r"[.!?:;\"”’)]$", previous) and len(previous.split()) > 8


def is_heading(text: str) -> bool:
    """A short line without closing punctuation: a section title or an interview question."""
    stripped = text.strip().lstrip("•-* ").strip()
    if stripped.endswith("?"):
        return True
    return word_count(stripped) <= 14 and not re.search(r"[.!;\"”]$", stripped)


def units(raw: str, keep: list[tuple[int, int]] | None = None) -> list[Unit]:
    """Sentences and headings of the paragraphs in `keep` (default: all paragraphs)."""
    out: list[Unit] = []
    for index, (p_start, p_end) in enumerate(keep if keep is not None else paragraphs(raw)):
        bullet = _BULLET.match(raw, p_start, p_end)
        if bullet and bullet.end() < p_end:
            p_start = bullet.end()  # a list marker is layout, not part of the sentence quoted
        para = raw[p_start:p_end]
        if is_heading(para):
            out.append(Unit(p_start, p_end, para, index, is_heading=True))
            continue
        for s, e in split_sentences(raw, p_start, p_end):
            out.append(Unit(s, e, raw[s:e], index))
    return out
