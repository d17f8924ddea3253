"""Ask questions about the indexed briefing documents.

    from rag import ask, retrieve
    answer = ask("What does FOIP stand for?")
    print(answer.text)
    for c in answer.citations:
        print(c.n, c.passage.title, c.passage.source, c.spans[0].text)

The first call builds a default pipeline from `Settings()` (BRIEFING_* environment variables);
later calls reuse it. Pass `settings=` to the first call, or use `rag.pipeline.Briefing`
directly, to configure it from code.
"""

from __future__ import annotations

from typing import Any, Iterator

from rag.base.errors import BriefingError
from rag.base.settings import Settings
from rag.base.types import Answer, Citation, Passage, Span

__all__ = ["ask", "ask_stream", "retrieve", "Answer", "Citation", "Passage", "Span", "Settings", "BriefingError"]

_default = None


def _pipeline(settings: Settings | None):
    global _default
    from rag.pipeline import Briefing

    if settings is not None and (_default is None or _default.settings != settings):
        _default = Briefing(settings)
    elif _default is None:
        _default = Briefing(Settings())
    return _default


def retrieve(question: str, k: int | None = None, filters: Any = None, settings: Settings | None = None) -> list[Passage]:
    """Passages for `question`, best first (`k` defaults to Settings.top_k, BRIEFING_TOP_K). `filters`: {"sources": [...], "date_from": "YYYY-MM-DD", "date_to": ...}."""
    return _pipeline(settings).retrieve(question, k, filters)


def ask(question: str, history: list | None = None, filters: Any = None, settings: Settings | None = None,
        scope: str = "auto") -> Answer:
    """An `Answer` whose `[n]` markers cite the passages it rests on (or an abstention). `scope`
    "all" answers per document over every document in scope (`Answer.coverage`), "top" from the
    best passages; "auto" decides from the question."""
    return _pipeline(settings).ask(question, history, filters, scope)


def ask_stream(question: str, history: list | None = None, filters: Any = None,
               settings: Settings | None = None, scope: str = "auto") -> Iterator[str | Answer]:
    """Text deltas as the answer is written, then the final `Answer`."""
    return _pipeline(settings).ask_stream(question, history, filters, scope)
