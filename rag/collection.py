"""Questions about the whole collection: every document in scope is read, not the top k.

    topic -> each document's best chunks (BM25) and sentences (meaning) -> its best sentences,
          -> does it address the topic? -> one row per document (coverage), or the dated
             statements oldest first (timeline); disagreements between documents either way

Exhaustive by construction: a document that names the topic in a single sentence has a chunk
with a BM25 score, so it is read. Per-document work goes through the index (BM25 scores and one
matrix product), so a question costs the same few operations at 5 or 1,000 documents.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from rag.base.text import canonical, terms
from rag.base.types import Answer, Citation, CoverageRow, Span, TimelineEntry
from rag.bm25 import sentence_match
from rag.differences import Citer, conflict_text, conflicts_between, describe_change
from rag.retrieval import Retriever, passage_from
from rag.scope import Scope
from rag.spelling import variants

CHUNKS_PER_DOC = 3  # a document's best BM25 chunks read for the topic...
SENTENCES_PER_DOC = 3  # ...and its sentences nearest in meaning
CITED_PER_DOC = 2  # sentences quoted per document that addresses the topic
SECOND_WITHIN = 0.05  # a second sentence is quoted only when nearly as good as the first
CONFLICT_DOCS = 25  # documents whose quotes are compared for disagreements
# When a sentence addresses the topic (README "Questions about the whole collection"): it holds every topic
# term (a multi-word topic as a phrase, or with a related meaning); or most of them with a close
# meaning; or it says the same in other words.
PHRASE_WINDOW = 2  # extra words allowed between a topic's words ("sharing of nuclear weapons")
ALL_TERMS_SIM = 0.30
PART_PHRASE = 0.6  # most of the topic's weight, two or more of its words together
MOST_TERMS = 0.5
MOST_TERMS_SIM = 0.5
PARAPHRASE_SIM = 0.62
SIM_WEIGHT = 0.5


@dataclass(frozen=True)
class Found:
    """One sentence of a document, scored against the topic."""

    chunk_id: str
    start: int
    end: int
    text: str
    similarity: float
    coverage: float  # idf-weighted share of the topic's words the sentence holds (any form)
    run: int  # the most topic words it holds together, in order
    words: int  # topic words
    score: float

    @property
    def addresses(self) -> bool:
        phrase = self.run == self.words
        return ((self.coverage >= 0.999 and (phrase or self.similarity >= ALL_TERMS_SIM))
                or (self.coverage >= PART_PHRASE and self.run >= 2)
                or (self.coverage >= MOST_TERMS and self.similarity >= MOST_TERMS_SIM)
                or self.similarity >= PARAPHRASE_SIM)


@dataclass
class Finding:
    """A document in scope and what it says on the topic (best sentences first)."""

    record: Any  # ingest.store.DocumentRecord
    found: list[Found]

    @property
    def addresses(self) -> bool:
        return bool(self.found) and self.found[0].addresses

    def cited(self, most: int = CITED_PER_DOC) -> list[Found]:
        """The sentences to quote, in document order: the best, and a second nearly as good."""
        if not self.addresses:
            return []
        best = self.found[0]
        more = [f for f in self.found[1:most] if f.addresses and f.score >= best.score - SECOND_WITHIN]
        return sorted([best, *more], key=lambda f: f.start)


class Topic:
    """The topic's words, each with the forms the index holds of it ("revising": revise,
    revised) and its idf weight: how a sentence is matched against it."""

    def __init__(self, text: str, index):
        self.stems = list(dict.fromkeys(terms(text)))
        vocabulary = index.vocabulary
        self.forms = [{canonical(v) for v in variants(t, vocabulary)} | {canonical(t)} for t in self.stems]
        self.weights = [index.idf(t) for t in self.stems]

    def match(self, sentence: str) -> tuple[float, int]:
        """(idf-weighted share of the topic's words in `sentence`, longest run of them in order)."""
        words = _words(sentence)
        at = [[i for i, w in enumerate(words) if w in forms] for forms in self.forms]
        coverage = sum(w for w, where in zip(self.weights, at) if where) / (sum(self.weights) or 1.0)
        best = 0
        for first in range(len(at)):
            for position in at[first]:
                run, pos = 1, position
                for later in at[first + 1:]:
                    nxt = [i for i in later if pos < i <= pos + 1 + PHRASE_WINDOW]
                    if not nxt:
                        break
                    run, pos = run + 1, nxt[0]
                best = max(best, run)
        return coverage, best


@lru_cache(maxsize=65536)
def _words(sentence: str) -> tuple[str, ...]:
    """A sentence's content terms in order, in the form they are compared in (once per text)."""
    return tuple(canonical(t) for t in terms(sentence))


def read_collection(retriever: Retriever, topic: str, filters: Any = None, snapshot=None) -> list[Finding]:
    """Every document in scope with its best sentences on `topic`, in source order.

    Read of each document: the sentences of its best BM25 chunks that hold a topic word (a
    substring test first, the exact test after), and its sentences nearest in meaning."""
    snapshot = snapshot or retriever.snapshot()
    records = retriever.documents(filters)
    allowed = {r.doc_id for r in records}
    index = snapshot.bm25
    wanted = Topic(topic, index)
    vector = retriever.embed_query(topic)
    # BM25 holds plain stems (rag.base.text.terms), the forms below are canonical: ask with both.
    bm25_terms = sorted({v for forms in wanted.forms for v in forms} | set(wanted.stems))
    by_bm25 = snapshot.best_chunks_per_document(index.scores(bm25_terms), CHUNKS_PER_DOC)
    by_meaning = snapshot.nearest_sentences_per_document(vector, SENTENCES_PER_DOC)
    needles = tuple({v for forms in wanted.forms for v in forms} | set(wanted.stems))
    rows: set[int] = set()
    for doc in allowed:
        rows.update(by_meaning.get(doc, ()))
        rows.update(r for r in snapshot.sentence_rows(by_bm25.get(doc, ()))
                    if any(n in snapshot.sentence_text(r).lower() for n in needles))
    ordered = sorted(rows)
    sims = (snapshot.sentence_vectors(ordered) @ vector).tolist() if ordered else []
    found: dict[str, dict[tuple[int, int], Found]] = {doc: {} for doc in allowed}
    for row, sim in zip(ordered, sims):
        meta = snapshot.sentence_at(row)
        key = (int(meta["start"]), int(meta["end"]))
        if meta["doc_id"] not in found or key in found[meta["doc_id"]]:
            continue
        coverage, run = wanted.match(meta["text"])
        score = sentence_match(sim, coverage, SIM_WEIGHT) + 0.05 * run / max(len(wanted.stems), 1)
        found[meta["doc_id"]][key] = Found(meta["chunk_id"], *key, meta["text"], sim, coverage, run,
                                           len(wanted.stems), score)
    return [Finding(r, sorted(found[r.doc_id].values(), key=lambda f: -f.score)) for r in records]


def _dated(record) -> str:
    return f"{record.title or record.source} ({record.date or 'undated'})"


class CollectionAnswerer:
    """Answers a question about the collection from every document's findings (both modes:
    the rows are quotes, so there is nothing for an LLM to add that would need checking)."""

    def __init__(self, retriever: Retriever):
        self.retriever = retriever

    def answer(self, question: str, scope: Scope, filters: Any = None, mode: str = "extractive") -> Answer:
        t0 = time.perf_counter()
        # Undated documents are read too when the question names a period: they are listed
        # apart, never placed in it by guess.
        snapshot = self.retriever.snapshot()  # one index version for the whole answer
        findings = read_collection(self.retriever, scope.topic, filters, snapshot)
        timings = {"collection": time.perf_counter() - t0}
        citer = Citer()
        numbers: dict[str, list[int]] = {}
        # Markers number in reading order: the rows that address the topic as listed (oldest
        # first for a timeline), then nothing else cites.
        listed = sorted(findings, key=(lambda f: (not f.record.date, f.record.date, f.record.source)) if scope.change
                        else (lambda f: f.record.source))
        for finding in listed:
            found = finding.cited(1 if scope.change else CITED_PER_DOC)  # a timeline: one statement each
            stored = snapshot.get_chunks({f.chunk_id for f in found})
            numbers[finding.record.source] = [
                citer.cite(passage_from(f.chunk_id, *stored[f.chunk_id], f.score), Span(f.start, f.end, f.text))
                for f in found if f.chunk_id in stored]
        rows = tuple(CoverageRow(f.record.source, f.record.title, f.record.date,
                                 bool(numbers[f.record.source]), citer.final(numbers[f.record.source]))
                     for f in findings)
        records = {f.record.source: f.record for f in findings}
        # Compared pairwise, so only the documents that address the topic best (a topic most of a
        # thousand briefs mention would otherwise cost half a million comparisons).
        best = sorted((f for f in findings if f.addresses), key=lambda f: -f.found[0].score)[:CONFLICT_DOCS]
        by_source = {r.source: r for r in rows}
        conflicts = conflicts_between([c for f in best for c in by_source[f.record.source].citations])
        if scope.change:
            text, timeline, undated = _timeline_text(scope, rows, conflicts)
        else:
            text, timeline, undated = _coverage_text(scope, rows, records), (), ()
        if conflicts:
            text += "\n\n" + conflict_text(conflicts)
        citations = citer.all()
        passages = tuple(sorted({c.passage.chunk_id: c.passage for c in citations}.values(), key=lambda p: -p.score))
        return Answer(question=question, text=text, citations=citations, passages=passages,
                      abstained=not any(r.addresses for r in rows),
                      mode=mode, coverage=rows, conflicts=conflicts, timeline=timeline, undated=undated,
                      scope="all", timings=timings)


def _coverage_text(scope: Scope, rows: tuple[CoverageRow, ...], records: dict) -> str:
    addressing = [r for r in rows if r.addresses]
    if not rows:
        return f"No document is in scope, so none mentions {scope.topic}."
    head = f"{len(addressing)} of {len(rows)} documents mention{'s' * (len(addressing) == 1)} {scope.topic}"
    if not addressing:
        return head.replace("0 of", "None of the") + "."
    lines = [f"- {_dated(records[r.source])}: " + " ".join(f"{_quote(c)} [{c.n}]" for c in r.citations) for r in addressing]
    text = head + ":\n" + "\n".join(lines)
    silent = [r for r in rows if not r.addresses]
    if silent:
        text += "\n\nNot mentioned in: " + "; ".join(_dated(records[r.source]) for r in silent) + "."
    return text


def _quote(citation: Citation) -> str:
    return " ".join(" ".join(s.text.split()) for s in citation.spans)


def _in_period(date: str, period) -> bool:
    """Whether an ISO date (a day, or a month/year prefix) falls in `period` (open ends allowed)."""
    if period is None:
        return True
    return (not period.date_from or date >= period.date_from[:len(date)]) and \
        (not period.date_to or date[:len(period.date_to)] <= period.date_to)


def _timeline_text(scope: Scope, rows: tuple[CoverageRow, ...], conflicts) -> tuple[str, tuple, tuple]:
    period = scope.period
    dated = sorted((r for r in rows if r.addresses and r.date and _in_period(r.date, period)),
                   key=lambda r: (r.date, r.source))
    undated = tuple(c for r in rows if r.addresses and not r.date for c in r.citations)
    entries: list[TimelineEntry] = []
    for row in dated:
        for citation in row.citations:
            change = describe_change(entries[-1].citation, citation, conflicts) if entries else ""
            entries.append(TimelineEntry(row.date, citation, change))
    span = f" {scope.period.phrase}" if scope.period and scope.period.phrase else ""
    if not entries and not undated:
        return f"No dated document{span} mentions {scope.topic}.", (), ()
    lines = [f"- {e.date} — {e.citation.passage.title or e.citation.passage.source}: {_quote(e.citation)} [{e.citation.n}]"
             + (f" (changed: {e.change})" if e.change else "") for e in entries]
    text = f"{scope.topic.capitalize()}{span}, oldest first ({len(entries)} dated statement{'s' * (len(entries) != 1)}):\n"
    text += "\n".join(lines) if lines else "- none dated"
    if undated:
        text += "\n\nUndated documents (not placed in time):\n" + "\n".join(
            f"- {c.passage.title or c.passage.source}: {_quote(c)} [{c.n}]" for c in undated)
    return text, tuple(entries), undated
