"""The verification stage's one entry: `Verifier.verify(text, passages)` checks every sentence of
an answer against the passages its `[n]` markers cite and says what is and is not backed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from rag.base.markers import normalise_markers
from rag.base.types import Citation, Passage, Span
from rag.verify.check import SentenceCheck, check_sentences, citations_from_checks, unsupported_sentences
from rag.verify.sentences import says_documents_silent

# (chunk ids) -> (sentence metadata with text/start/end/position/chunk_id, their vectors)
SentencesOf = Callable[[Iterable[str]], tuple[list[dict[str, Any]], np.ndarray]]


@dataclass(frozen=True)
class Verification:
    """What the support check found in one answer."""

    text: str  # the answer with its markers normalised ("[1, 3]" -> "[1][3]")
    citations: tuple[Citation, ...]  # one per marker used; verified=False when not backed
    unsupported: tuple[str, ...]  # sentences (markers stripped) no valid citation backs
    claims: int  # sentences that state something (admissions such as "The documents don't say" do not)
    backed: int  # of those, the ones every clause of which a cited passage backs
    admits_silence: bool  # some sentence says the documents don't answer


class Verifier:
    """Checks answers with `embedder` (anything with `embed(list[str]) -> vectors`); cited spans
    are mapped to raw-document sentences through `sentences_of` when given (else they stay
    offsets into the passage text)."""

    def __init__(self, embedder: Any, sentences_of: SentencesOf | None = None):
        self.embedder = embedder
        self.sentences_of = sentences_of

    def verify(self, text: str, passages: list[Passage]) -> Verification:
        text = normalise_markers(text)
        by_marker = {n: p for n, p in enumerate(passages, 1)}
        checks: list[SentenceCheck] = check_sentences(text, by_marker, self.embedder)
        mapper = SpanMapper(self.sentences_of) if self.sentences_of else None
        claims = [c for c in checks if not c.no_claim]
        return Verification(
            text=text,
            citations=citations_from_checks(checks, by_marker, mapper),
            unsupported=unsupported_sentences(checks),
            claims=len(claims),
            backed=sum(1 for c in claims if c.supported),
            admits_silence=any(says_documents_silent(c.sentence) for c in checks),
        )


class SpanMapper:
    """Maps a window of a passage's text to the raw-document sentences it covers.

    A passage's text is its chunk's units (sentences, headings) joined by a space or a newline;
    the sentence index stores each unit with its raw-document offsets and its position in the
    chunk, so the units are located in the passage text in order.
    """

    def __init__(self, sentences_of: SentencesOf):
        self.sentences_of = sentences_of
        self._units: dict[str, list[tuple[int, int, Span]]] = {}

    def _locate(self, passage: Passage) -> list[tuple[int, int, Span]]:
        if passage.chunk_id not in self._units:
            located: list[tuple[int, int, Span]] = []
            try:
                metas, _ = self.sentences_of([passage.chunk_id])
            except Exception:  # noqa: BLE001 - no spans is better than no answer
                metas = []
            cursor = 0
            for meta in sorted(metas, key=lambda m: int(m.get("position", 0))):
                unit = meta["text"]
                at = passage.text.find(unit, cursor)
                if at < 0:
                    continue
                located.append((at, at + len(unit), Span(int(meta["start"]), int(meta["end"]), unit)))
                cursor = at + len(unit)
            self._units[passage.chunk_id] = located
        return self._units[passage.chunk_id]

    def __call__(self, passage: Passage, start: int, end: int) -> list[Span]:
        return [span for a, b, span in self._locate(passage) if a < end and b > start]
