"""Cutting a document into overlapping, sentence-aligned chunks that know where they came from."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from ingest.clean import content_paragraphs
from ingest.load import LoadedDocument
from ingest.text import Unit, units


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    index: int
    start: int  # offsets into the raw document text
    end: int
    text: str  # the chunk's units joined, furniture left out
    units: tuple[Unit, ...]
    page: int | None = None


def _join(chunk_units: list[Unit]) -> str:
    parts: list[str] = []
    for i, unit in enumerate(chunk_units):
        if i:
            parts.append(" " if unit.paragraph == chunk_units[i - 1].paragraph else "\n")
        parts.append(unit.text)
    return "".join(parts)


def page_of(offset: int, page_starts: tuple[int, ...]) -> int | None:
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))


# A run of headings longer than this many chunks' worth of words is cut like text.
_HEADING_RUN_CHUNKS = 4


def chunk_document(doc: LoadedDocument, target_words: int = 180, overlap: int = 1) -> list[Chunk]:
    """Groups of whole sentences of about `target_words` words, consecutive groups sharing
    `overlap` sentences. A heading does not end a chunk: it travels with the text it introduces
    (only a run of headings several chunks long, such as an index page, is cut).
    A new page starts a new chunk, so every chunk has one page number to cite.
    """
    all_units = [
        # The title line is a heading however long it is: it names the document, it answers nothing.
        replace(u, is_heading=True) if doc.title and u.text.strip() == doc.title else u
        for u in units(doc.text, content_paragraphs(doc.text))
    ]
    groups: list[list[Unit]] = []
    current: list[Unit] = []
    words = 0  # in `current`, kept as it grows: an index page has thousands of short lines
    fresh = 0  # units in `current` that are not carried over from the previous chunk
    for unit in all_units:
        new_page = bool(current) and page_of(unit.start, doc.page_starts) != page_of(current[0].start, doc.page_starts)
        full = words + unit.words > target_words
        # A heading travels with its text, but a run of headings (a table of contents, an
        # index page) is cut once it is several chunks long.
        keeps_heading = current and current[-1].is_heading and words <= _HEADING_RUN_CHUNKS * target_words
        if fresh and (full or new_page) and not keeps_heading:
            groups.append(current)
            current = [] if new_page or not overlap else [u for u in current[-overlap:] if not u.is_heading]
            words = sum(u.words for u in current)
            fresh = 0
        current.append(unit)
        words += unit.words
        fresh += 1
    if fresh:
        groups.append(current)
    version = doc.content_hash[:12]
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}:{version}:{i}",
            doc_id=doc.doc_id,
            index=i,
            start=group[0].start,
            end=group[-1].end,
            text=_join(group),
            units=tuple(group),
            page=page_of(group[0].start, doc.page_starts),
        )
        for i, group in enumerate(groups)
    ]
