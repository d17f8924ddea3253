"""The seam between evidence and answer: an `Answerer` turns the evidence for a standalone
question into text deltas and a final `Answer`.

Two implementations, each built with what it needs: `rag.extractive.ExtractiveAnswerer` (quotes
the evidence) and `rag.llm.LLMAnswerer` (a chat model writes, `rag.verify` checks, the extractive
answerer is its fallback). Streaming is the one path: `answer_once` consumes it for a plain call.
Abstention is decided before any answerer runs (`rag.evidence`), so a model is never asked when
the documents hold nothing relevant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Protocol

from rag.base.types import Answer

if TYPE_CHECKING:  # pragma: no cover
    from rag.evidence import Evidence


class Answerer(Protocol):
    mode: str  # "extractive" | "llm": shown as Answer.mode, and on abstentions

    def answer(self, question: str, evidence: "Evidence") -> Iterator[str | Answer]:
        """Text deltas as the answer is written, then the final `Answer` (last item)."""


def answer_once(answerer: Answerer, question: str, evidence: "Evidence") -> Answer:
    final = None
    for item in answerer.answer(question, evidence):
        if isinstance(item, Answer):
            final = item
    assert final is not None, "an Answerer must end with an Answer"
    return final
