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
class Citation:
    """Marker `[n]` in `Answer.text` and the passage it points to.

    `verified` is False when the support check found that the cited passage does not back the
    sentence(s) carrying the marker; the UI and CLI show such citations as unverified.
    """

    n: int
    passage: Passage
    spans: tuple[Span, ...] = ()
    verified: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "verified": self.verified,
            "spans": [asdict(s) for s in self.spans],
            "passage": self.passage.to_dict(),
        }


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
            "timings": dict(self.timings),
        }
