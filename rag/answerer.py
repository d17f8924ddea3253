"""The seam between evidence and answer: an `Answerer` turns the evidence for a standalone
question into text deltas and a final `Answer`.

Two implementations, each built with what it needs: `rag.extractive.ExtractiveAnswerer` (quotes
the evidence) and `rag.llm.LLMAnswerer` (a chat model writes, `rag.verify` checks, the extractive
answerer is its fallback). Streaming is the one path: `relay` passes a stream on, `last_answer` consumes it for a plain call.
Abstention is decided before any answerer runs (`rag.evidence`), so a model is never asked when
the documents hold nothing relevant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator, Iterator, Protocol

from rag.base.types import Answer

if TYPE_CHECKING:  # pragma: no cover
    from rag.evidence import Evidence


class Answerer(Protocol):
    mode: str  # "extractive" | "llm": shown as Answer.mode, and on abstentions

    def answer(self, question: str, evidence: "Evidence") -> Iterator[str | Answer]:
        """Text deltas as the answer is written, then the final `Answer` (last item)."""


def relay(stream: Iterator[str | Answer]) -> Generator[str, None, Answer]:
    """Pass on the text deltas of an answer stream and return its final `Answer`
    (`answer = yield from relay(stream)`)."""
    answer = None
    for item in stream:
        if isinstance(item, Answer):
            answer = item
        else:
            yield item
    assert answer is not None, "an answer stream must end with an Answer"
    return answer


def last_answer(stream: Iterator[str | Answer]) -> Answer:
    """The final `Answer` of a stream, its deltas dropped: the plain (non-streaming) call."""
    deltas = relay(stream)
    while True:
        try:
            next(deltas)
        except StopIteration as done:
            return done.value
