"""The small frozen types at the public boundary: what scripts, the CLI, the UI and the eval see.

Stored Chroma rows become these in one place (`rag.retrieval.passage_from`), so nothing outside
the read side depends on the index's shapes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of one document, with its position in the document's raw text."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    date: str
    text: str
    start: int
    end: int
    score: float = 0.0
    author: str = ""
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Span:
    """One cited sentence: `text == document_text[start:end]` (offsets into the raw document)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class DateNote:
    """A relative date in a cited sentence ("last month"), resolved against its document's date.

    Shown beside the quote, never written into it. Offsets are into the document's raw text, like
    `Span`; `resolved` is ISO (a day, a month "2025-11", a year, or a range "2025-09/2025-11")."""

    start: int
    end: int
    phrase: str
    resolved: str
    label: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """Marker `[n]` in `Answer.text` and the passage it points to.

    `verified` is False when the support check found that the cited passage does not back the
    sentence(s) carrying the marker; the UI and CLI show such citations as unverified.
    """

    n: int
    passage: Passage
    spans: tuple[Span, ...] = ()
    verified: bool = True
    dates: tuple[DateNote, ...] = ()  # relative dates in the spans, resolved against `as_of`

    @property
    def as_of(self) -> str:
        """The cited document's date (ISO), "" when unknown: what the quote's tense is relative to."""
        return self.passage.date

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "verified": self.verified,
            "as_of": self.as_of,
            "spans": [asdict(s) for s in self.spans],
            "dates": [d.to_dict() for d in self.dates],
            "passage": self.passage.to_dict(),
        }


@dataclass(frozen=True)
class CoverageRow:
    """One document of a question about the whole collection: does it address the topic, and
    where (its best sentences, cited). Every document in scope has a row."""

    source: str
    title: str
    date: str
    addresses: bool
    citations: tuple[Citation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "title": self.title, "date": self.date, "addresses": self.addresses,
                "citations": [c.n for c in self.citations]}


@dataclass(frozen=True)
class Conflict:
    """Documents that give different values for the same thing. Each side is a citation from a
    different document; `values` are the differing values as written, in the order of `sides`."""

    about: str
    sides: tuple[Citation, ...]
    values: tuple[str, ...] = ()

    @property
    def newer(self) -> int | None:
        """Marker of the side with the latest document date (newer, which is not to say right);
        None when the dates are unknown or equal."""
        dated = sorted((c.as_of, c.n) for c in self.sides if c.as_of)
        if len(dated) < 2 or dated[-1][0] == dated[-2][0]:
            return None
        return dated[-1][1]

    def to_dict(self) -> dict[str, Any]:
        return {"about": self.about, "values": list(self.values), "newer": self.newer,
                "sides": [{"n": c.n, "source": c.passage.source, "title": c.passage.title, "date": c.as_of,
                           "text": " ".join(s.text for s in c.spans)} for c in self.sides]}


@dataclass(frozen=True)
class TimelineEntry:
    """A dated statement on the question's topic; a timeline lists them oldest first. `change`
    says how it differs from the entry before it when a value changed ("" otherwise)."""

    date: str
    citation: Citation
    change: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "n": self.citation.n, "source": self.citation.passage.source,
                "text": " ".join(s.text for s in self.citation.spans), "change": self.change}


@dataclass(frozen=True)
class Answer:
    """What `rag.ask` returns.

    `text` carries `[n]` markers that refer to `citations[i].n`. `passages` are all passages the
    answer was built from, ranked best first. `unsupported` lists answer sentences the support
    check could not back with any cited passage (LLM mode); they are flagged, never silently
    shown as sourced.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    abstained: bool = False
    mode: str = "extractive"
    model: str = ""
    unsupported: tuple[str, ...] = ()
    notice: str = ""
    # Questions about the collection (scope "all"): one row per document in scope.
    coverage: tuple[CoverageRow, ...] = ()
    conflicts: tuple[Conflict, ...] = ()  # where the evidence's documents disagree
    timeline: tuple[TimelineEntry, ...] = ()  # questions about change: dated statements, oldest first
    undated: tuple[Citation, ...] = ()  # statements on the topic from documents without a date
    scope: str = "top"  # "top": the best passages; "all": every document in scope was read
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "model": self.model,
            "notice": self.notice,
            "unsupported": list(self.unsupported),
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "scope": self.scope,
            "coverage": [r.to_dict() for r in self.coverage],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "timeline": [e.to_dict() for e in self.timeline],
            "undated": [c.n for c in self.undated],
            "timings": dict(self.timings),
        }
