"""Where the documents disagree: different values for the same thing from different documents
("won 316 seats" / "won 310 seats"), found by `rag.conflicts` and shown with both sides cited
and dated. Also the numbering of citations for answers assembled from many documents.

False alarms are worse than misses, so only the sentences an answer rests on, or nearly as good
evidence, are compared (rag.conflicts decides what counts as the same thing).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Iterable, Sequence

from rag.base.types import Answer, Citation, Conflict, DateNote, Passage, Span
from rag.conflicts import Statement, find_conflicts
from rag.dates import relative_dates
from rag.evidence import Evidence

EVIDENCE_WINDOW = 0.1  # uncited evidence compared with the answer: this close to the best sentence...
EVIDENCE_SENTENCES = 8  # ...and among the best few


class Citer:
    """Marker numbers in order of first use, one citation per passage holding all its spans."""

    def __init__(self, existing: Sequence[Citation] = ()):
        """`existing` citations keep their numbers (and spans); new ones are numbered after them."""
        self._numbers: dict[str, int] = {}
        self._passages: dict[str, Passage] = {}
        self._spans: dict[str, list[Span]] = {}
        self._existing = {c.passage.chunk_id: c for c in existing}
        self._by_number: dict[int, str] = {}
        for citation in existing:
            self._numbers[citation.passage.chunk_id] = citation.n
            self._passages[citation.passage.chunk_id] = citation.passage
            self._spans[citation.passage.chunk_id] = list(citation.spans)
        self._next = max((c.n for c in existing), default=0) + 1

    def cite(self, passage: Passage, span: Span | None = None) -> int:
        key = passage.chunk_id
        if key not in self._numbers:
            self._numbers[key], self._next = self._next, self._next + 1
        n = self._numbers[key]
        self._passages.setdefault(key, passage)
        spans = self._spans.setdefault(key, [])
        if span is not None and span not in spans:
            spans.append(span)
        return n

    def _citation(self, key: str) -> Citation:
        spans = tuple(sorted(self._spans[key], key=lambda s: s.start))
        if key in self._existing:  # its verdict (verified or not) stays with it
            return dataclasses.replace(self._existing[key], spans=spans, dates=date_notes(self._passages[key], spans))
        return Citation(self._numbers[key], self._passages[key], spans, dates=date_notes(self._passages[key], spans))

    def final(self, numbers: Iterable[int]) -> tuple[Citation, ...]:
        by_number = {n: key for key, n in self._numbers.items()} if len(self._by_number) != len(self._numbers) else None
        if by_number is not None:
            self._by_number = by_number
        return tuple(self._citation(self._by_number[n]) for n in dict.fromkeys(numbers))

    def all(self) -> tuple[Citation, ...]:
        return tuple(self._citation(key) for key in sorted(self._numbers, key=self._numbers.get))


def date_notes(passage: Passage, spans: Sequence[Span]) -> tuple[DateNote, ...]:
    """Relative dates in the cited spans ("last month"), resolved against the document's date;
    none when the document is undated. Offsets are into the document, like the spans'."""
    if not passage.date:
        return ()
    return tuple(DateNote(span.start + n.start, span.start + n.end, n.phrase, n.resolved, n.label)
                 for span in spans for n in _relative_dates(span.text, passage.date))


@lru_cache(maxsize=16384)
def _relative_dates(text: str, as_of: str) -> tuple:
    """Once per quote and date: a collection answer annotates every document's quotes."""
    return tuple(relative_dates(text, as_of))


def dated(answer: Answer) -> Answer:
    """`answer` with every citation's relative dates resolved (`Citation.dates`)."""
    citations = tuple(dataclasses.replace(c, dates=date_notes(c.passage, c.spans)) for c in answer.citations)
    return dataclasses.replace(answer, citations=citations) if citations != answer.citations else answer


def conflicts_between(citations: Sequence[Citation]) -> tuple[Conflict, ...]:
    """Disagreements among the cited spans of different documents, each side a whole citation."""
    statements, owner = [], {}
    for citation in citations:
        for i, span in enumerate(citation.spans):
            key = f"{citation.n}:{i}"
            owner[key] = citation
            statements.append(Statement(key, citation.passage.doc_id, span.text, citation.passage.date))
    out = []
    for found in find_conflicts(statements):
        sides = tuple(owner[k] for k in found.keys)
        if len({c.passage.doc_id for c in sides}) == len(sides):
            out.append(Conflict(found.about, sides, tuple(found.values)))
    return tuple(out)


def describe_change(before: Citation, after: Citation, conflicts: Sequence[Conflict]) -> str:
    """"316 seats → 310 seats" when a conflict has `before` and `after` as sides, else ""."""
    for conflict in conflicts:
        numbers = [c.n for c in conflict.sides]
        if before.n in numbers and after.n in numbers:
            return f"{conflict.values[numbers.index(before.n)]} → {conflict.values[numbers.index(after.n)]}"
    return ""


def conflict_text(conflicts: Sequence[Conflict]) -> str:
    """"Sources differ: A (date) says “v1” [1]; B (date, newer) says “v2” [3]." per conflict."""
    lines = []
    for conflict in conflicts:
        sides = []
        for citation, value in zip(conflict.sides, conflict.values):
            when = citation.as_of or "undated"
            newer = ", newer" if conflict.newer == citation.n else ""
            sides.append(f"{citation.passage.title or citation.passage.source} ({when}{newer}) says “{value}” [{citation.n}]")
        # `about` is built from context words and reads as a label, not a phrase: the payload and
        # the UI panel carry it; the sentence names the values instead.
        lines.append("Sources differ: " + "; ".join(sides) + ".")
    return "\n".join(lines)


def with_conflicts(answer: Answer, evidence: Evidence) -> Answer:
    """`answer` with `conflicts` filled and a "Sources differ" note when its cited sentences, or
    evidence nearly as good, disagree across documents. An uncited side gets a new citation."""
    if answer.abstained or not evidence.sentences:
        return answer
    best = evidence.sentences[0].score
    close = [s for s in evidence.sentences[:EVIDENCE_SENTENCES] if s.score >= best - EVIDENCE_WINDOW]
    cited_docs = {c.passage.doc_id for c in answer.citations}
    if len(cited_docs | {s.passage.doc_id for s in close}) < 2:
        return answer
    citer = Citer(answer.citations)  # the answer's numbers stay
    for s in close:
        citer.cite(s.passage, Span(s.start, s.end, s.text))
    candidates = {c.n: c for c in citer.all()}
    conflicts = conflicts_between(list(candidates.values()))
    if not conflicts:
        return answer
    used = {c.n for conflict in conflicts for c in conflict.sides}
    # A cited passage that disagrees keeps its number and gains the disagreeing sentence; an
    # uncited one is added after the answer's own citations.
    citations = tuple(candidates[c.n] if c.n in used else c for c in answer.citations)
    original = {c.n for c in answer.citations}
    citations += tuple(candidates[n] for n in sorted(used) if n not in original)
    final = {c.n: c for c in citations}
    conflicts = tuple(dataclasses.replace(k, sides=tuple(final[c.n] for c in k.sides)) for k in conflicts)
    return dataclasses.replace(answer, text=answer.text + "\n\n" + conflict_text(conflicts),
                               citations=citations, conflicts=conflicts)
