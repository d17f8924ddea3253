"""The offline answerer: the best evidence sentences, quoted verbatim, each with its citation.

Every sentence of such an answer is a verbatim quote of the passage it cites, so it is faithful
by construction; the work is in choosing sentences that answer, without repeats, in an order a
reader can follow.
"""

from __future__ import annotations

import re
from typing import Iterator

import numpy as np

from rag.evidence import Evidence, ScoredSentence
from rag.base.text import terms
from rag.base.types import Answer, Citation, Passage, Span

RELATIVE_WINDOW = 0.12  # sentences scoring this far below the best are not part of the answer
_MAX_CHARS = 950
_DUPLICATE_COSINE = 0.9
_NEAREST_SHOWN = 3


def _near_duplicate(candidate: ScoredSentence, chosen: list[ScoredSentence]) -> bool:
    cand_terms = set(terms(candidate.text))
    for other in chosen:
        if float(np.dot(candidate.vector, other.vector)) > _DUPLICATE_COSINE:
            return True
        other_terms = set(terms(other.text))
        if cand_terms and len(cand_terms & other_terms) / len(cand_terms | other_terms) > 0.7:
            return True
    return False


def select_sentences(evidence: Evidence, max_sentences: int) -> list[ScoredSentence]:
    best = evidence.best
    chosen: list[ScoredSentence] = []
    length = 0
    for sentence in evidence.sentences:
        if len(chosen) >= max_sentences or sentence.score < best.score - RELATIVE_WINDOW:
            break
        if length + len(sentence.text) > _MAX_CHARS and chosen:
            continue
        if _near_duplicate(sentence, chosen):
            continue
        chosen.append(sentence)
        length += len(sentence.text)
    return chosen


_CONTINUATION = re.compile(r"^[\"“‘']?(These|This|They|Those|Such|That|It|Its|Their|He|She)\b")
_CONCLUSION = re.compile(r"^(Thus|Therefore|Hence|As a result|Consequently|For this reason|That is why|This is why)\b")
_LIST_ITEMS = 4


def add_continuations(chosen: list[ScoredSentence], evidence: Evidence) -> list[ScoredSentence]:
    """Bring along the sentences a chosen one depends on, or the answer stops right before the
    facts: the sentence after it when that one opens with "These include...", the reason
    before a "Thus, ...", and the items after a sentence that ends with a colon."""
    by_doc: dict[str, list[ScoredSentence]] = {}
    for sentence in evidence.sentences:
        by_doc.setdefault(sentence.passage.doc_id, []).append(sentence)
    for sentences in by_doc.values():
        sentences.sort(key=lambda s: s.start)
    keys = {(s.passage.doc_id, s.start) for s in chosen}
    result = list(chosen)
    length = sum(len(s.text) for s in chosen)

    def take(sentence: ScoredSentence) -> bool:
        nonlocal length
        key = (sentence.passage.doc_id, sentence.start)
        if key in keys or length + len(sentence.text) > _MAX_CHARS + 300:
            return False
        keys.add(key)
        result.append(sentence)
        length += len(sentence.text)
        return True

    for sentence in chosen:
        document = by_doc[sentence.passage.doc_id]
        i = next(j for j, s in enumerate(document) if s.start == sentence.start)
        before = document[i - 1] if i > 0 and sentence.start - document[i - 1].end <= 3 else None
        after = document[i + 1:]
        if before and _CONCLUSION.match(sentence.text):
            take(before)
        if sentence.text.rstrip().endswith(":"):
            for item in after[:_LIST_ITEMS]:
                take(item)
        elif after and after[0].start - sentence.end <= 3 and _CONTINUATION.match(after[0].text):
            take(after[0])
    return result


def reading_order(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Documents in order of their best sentence; within a document, the order of the text."""
    first_seen: dict[str, int] = {}
    for i, sentence in enumerate(chosen):
        first_seen.setdefault(sentence.passage.doc_id, i)
    return sorted(chosen, key=lambda s: (first_seen[s.passage.doc_id], s.start))


def cite(sentences: list[ScoredSentence]) -> tuple[list[str], tuple[Citation, ...]]:
    """Marker numbers in order of first use; one citation per passage with all its cited spans."""
    numbers: dict[str, int] = {}
    spans: dict[str, list[Span]] = {}
    passages: dict[str, Passage] = {}
    parts = []
    for sentence in sentences:
        key = sentence.passage.chunk_id
        n = numbers.setdefault(key, len(numbers) + 1)
        passages[key] = sentence.passage
        spans.setdefault(key, []).append(Span(sentence.start, sentence.end, sentence.text))
        parts.append(f"{sentence.text} [{n}]")
    citations = tuple(Citation(n, passages[key], tuple(spans[key])) for key, n in numbers.items())
    return parts, citations


def abstention(evidence: Evidence, question: str, mode: str = "extractive") -> Answer:
    nearest = []
    for sentence in evidence.sentences:
        if all(sentence.passage.doc_id != s.passage.doc_id for s in nearest):
            nearest.append(sentence)
        if len(nearest) == _NEAREST_SHOWN:
            break
    parts, citations = cite(nearest)
    reason = f" ({evidence.reason})" if evidence.reason else ""
    text = f"The documents don't answer this{reason}."
    if parts:
        text += "\n\nNearest passages:\n" + "\n".join(f"- {p}" for p in parts)
    return Answer(question=question, text=text, citations=citations, passages=tuple(evidence.passages),
                  abstained=True, mode=mode)


def extractive_answer(evidence: Evidence, question: str, max_sentences: int = 4) -> Answer:
    if evidence.abstain:
        return abstention(evidence, question)
    chosen = add_continuations(select_sentences(evidence, max_sentences), evidence)
    parts, citations = cite(reading_order(chosen))
    text = " ".join(parts)
    if evidence.missing:
        missing = ", ".join(f"“{m}”" for m in evidence.missing)
        text += f"\n\nNote: the retrieved passages do not mention {missing}; the answer above may be partial."
    return Answer(question=question, text=text, citations=citations, passages=tuple(evidence.passages),
                  mode="extractive")


class ExtractiveAnswerer:
    """The offline answerer: quotes the best evidence sentences, each with its citation."""

    mode = "extractive"

    def __init__(self, max_sentences: int = 4):
        self.max_sentences = max_sentences

    def answer(self, question: str, evidence: Evidence) -> Iterator[str | Answer]:
        answer = extractive_answer(evidence, question, self.max_sentences)
        yield answer.text
        yield answer
