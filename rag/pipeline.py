"""`Briefing`: one configured pipeline (index, embedder, retriever, answerer), loaded lazily and
reused across questions. Scripts use `rag.ask`/`rag.retrieve`, which share a default instance.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any, Iterator

from rag.errors import BriefingError
from rag.settings import Settings
from rag.types import Answer, Passage


class Briefing:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()

    @cached_property
    def store(self):
        from ingest.store import Store

        return Store(self.settings)

    @cached_property
    def embedder(self):
        from ingest.embed import load_embedder

        return load_embedder(self.settings.embed_model)

    @cached_property
    def retriever(self):
        from rag.retrieve import Retriever

        return Retriever(self.settings, self.store, lambda text: self.embedder.embed_query(text))

    def check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise BriefingError("The question is empty. Type a question about the documents.")
        question = " ".join(question.split())
        if len(question) > self.settings.max_question_chars:
            raise BriefingError(
                f"The question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars}. Ask something shorter (BRIEFING_MAX_QUESTION_CHARS raises it)."
            )
        return question

    def _require_index(self) -> None:
        if self.store.count() == 0:
            raise BriefingError(
                f"The index in {self.store.location} is empty. Run `briefing ingest` (or `make run`) first."
            )

    def retrieve(self, question: str, k: int | None = None, filters: Any = None) -> list[Passage]:
        question = self.check_question(question)
        self._require_index()
        return self.retriever.retrieve(question, k, filters).passages

    def ask(self, question: str, history: list | None = None, filters: Any = None) -> Answer:
        answer = None
        for item in self.ask_stream(question, history, filters):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(self, question: str, history: list | None = None, filters: Any = None) -> Iterator[str | Answer]:
        """Yields text deltas as the answer is written, then the final `Answer`."""
        from rag.answer import answer_question

        question = self.check_question(question)
        self._require_index()
        started = time.perf_counter()
        yield from answer_question(self, question, history or [], filters, started)
