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
    standalone, condense_seconds = question, None
    if history:
        # A follow-up is made standalone first; only that question reaches retrieval and the
        # answerer (the conversation itself is never evidence). Answer.question stays as asked.
        from rag.condense import condense_question

        t0 = time.perf_counter()
        standalone = condense_question(briefing, question, history)
        condense_seconds = time.perf_counter() - t0
    retrieval = briefing.retriever.retrieve(standalone, settings.top_k, filters)
    evidence = gather(retrieval, briefing.retriever.snapshot())
    timings = dict(retrieval.timings)
    if condense_seconds is not None:
        timings["condense"] = condense_seconds
    if settings.resolved_answer_mode == "llm" and not evidence.abstain:
        from rag.llm import llm_answer_stream

        answer = yield from llm_answer_stream(briefing, standalone, history, evidence)
    elif evidence.abstain:
        answer = abstention(evidence, standalone, mode=settings.resolved_answer_mode)
        yield answer.text
    else:
        answer = extractive_answer(evidence, standalone, settings.answer_sentences)
        yield answer.text
    timings.update(answer.timings)  # the answerer's own (LLM: generation and verification)
    timings["total"] = time.perf_counter() - started
    yield dataclasses.replace(answer, question=question, timings={k: round(v, 4) for k, v in timings.items()})
