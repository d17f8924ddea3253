"""Choosing the answerer (the seam between extractive and LLM answers) and running it."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any, Iterator

from rag.evidence import gather
from rag.extractive import abstention, extractive_answer
from rag.types import Answer

if TYPE_CHECKING:
    from rag.pipeline import Briefing


def answer_question(
    briefing: "Briefing", question: str, history: list, filters: Any, started: float
) -> Iterator[str | Answer]:
    settings = briefing.settings
    retrieval = briefing.retriever.retrieve(question, settings.top_k, filters)
    evidence = gather(retrieval, briefing.store, briefing.retriever.bm25())
    timings = dict(retrieval.timings)
    if settings.resolved_answer_mode == "llm" and not evidence.abstain:
        from rag.llm import llm_answer_stream

        answer = yield from llm_answer_stream(briefing, question, history, evidence)
    elif evidence.abstain:
        answer = abstention(evidence, question, mode=settings.resolved_answer_mode)
        yield answer.text
    else:
        answer = extractive_answer(evidence, question, settings.answer_sentences)
        yield answer.text
    timings["total"] = time.perf_counter() - started
    yield dataclasses.replace(answer, timings={k: round(v, 4) for k, v in timings.items()})
