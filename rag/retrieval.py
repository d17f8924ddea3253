"""Hybrid retrieval: dense chunk vectors, dense sentence vectors and BM25, fused by reciprocal rank.

Sentence-level vectors let a passage win on its single best sentence, which is what a precise
question usually matches; chunk vectors carry the broader context; BM25 catches names, numbers
and acronyms that embeddings blur.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ingest.readcache import ReadCache
from ingest.store import DocumentRecord, Store
from rag.bm25 import BM25Index, sentence_match
from rag.base.errors import InputError
from rag.base.text import canonical, terms
from rag.question import analyze
from rag.base.settings import Settings
from rag.snapshot import CorpusSnapshot
from rag.base.types import Passage

_RRF_K = 60
_CANDIDATES = 30  # per signal, before fusion
_RERANKED = 20  # fused candidates re-scored on their best sentence
RERANK_SIM_WEIGHT = 0.6  # of a sentence's match (the rest: term coverage)
_FINGERPRINT_TTL = 2.0  # seconds a corpus fingerprint is trusted before asking the store again


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents (by `source`) and/or a publication date range
    (ISO dates, inclusive). Documents without a known date are left out when a range is set."""

    sources: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""

    @classmethod
    def coerce(cls, value: "Filters | dict[str, Any] | None") -> "Filters | None":
        if value is None or isinstance(value, Filters):
            return value
        unknown = set(value) - {"sources", "date_from", "date_to"}
        if unknown:
            raise InputError(f"Unknown filter(s) {sorted(unknown)}; use sources, date_from, date_to.")
        return cls(tuple(value.get("sources") or ()), value.get("date_from") or "", value.get("date_to") or "")

    def allows(self, source: str, date: str) -> bool:
        if self.sources and source not in self.sources:
            return False
        if self.date_from or self.date_to:
            if not date:
                return False
            if self.date_from and date < self.date_from:
                return False
            if self.date_to and date > self.date_to:
                return False
        return True


@dataclass
class Retrieval:
    question: str
    query_vector: np.ndarray
    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)
    named_docs: tuple[str, ...] = ()  # documents the question names ("according to the Asan brief")
    snapshot: "CorpusSnapshot | None" = None  # the index version these passages come from
    hop_passages: tuple[str, ...] = ()  # chunk ids a second hop (rag.hops) added for a bridge entity


def _record(doc: dict[str, Any]) -> DocumentRecord:
    """A document as the read cache lists it: what retrieval needs of a record (no chunk count)."""
    return DocumentRecord(doc_id=doc["doc_id"], source=doc["source"], root="", title=doc["title"], date=doc["date"],
                          author=doc["author"], content_hash=doc["content_hash"], chunks=0)


def passage_from(chunk_id: str, text: str, meta: dict[str, Any], score: float) -> Passage:
    """The one place a stored chunk becomes a public `Passage`."""
    return Passage(
        chunk_id=chunk_id,
        doc_id=meta["doc_id"],
        source=meta["source"],
        title=meta.get("title", ""),
        date=meta.get("date", ""),
        author=meta.get("author", ""),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        score=round(float(score), 6),
        page=int(meta["page"]) if meta.get("page") else None,
    )


@dataclass(frozen=True)
class _View:
    """One index version as retrieval reads it, published whole so that concurrent questions
    never see a snapshot with another version's document list."""

    snapshot: CorpusSnapshot
    records: list  # ingest.store.DocumentRecord, by source
    doc_terms: dict[str, set[str]]  # the words naming each document (source, title, author)
    doc_names: dict[str, set[str]]  # of those, the source's and the author's (a title names a topic too)
    newest: str  # the latest document date, "" when none is dated


class Retriever:
    def __init__(self, settings: Settings, store: Store, embed_query: Callable[[str], np.ndarray],
                 embed_queries: Callable[[list[str]], np.ndarray] | None = None):
        self.settings = settings
        self.store = store
        self.embed_query = embed_query
        # Several queries in one model call (a second hop's bridge names): one forward pass over
        # the batch costs little more than one query's.
        self.embed_queries = embed_queries or (lambda texts: np.stack([embed_query(t) for t in texts]))
        self._view: _View | None = None
        self._fingerprint: str | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget cached corpus state now (after an upload or removal in this process)."""
        with self._lock:  # not overwritten by a rebuild already under way
            self._checked_at = 0.0
            self._fingerprint = None

    def view(self) -> _View:
        """The current index version, rebuilt when the index's fingerprint changes (checked at
        most every couple of seconds)."""
        now = time.monotonic()
        if self._view is None or now - self._checked_at > _FINGERPRINT_TTL:
            with self._lock:  # one thread rebuilds; the others wait for it rather than repeat it
                if self._view is None or time.monotonic() - self._checked_at > _FINGERPRINT_TTL:
                    if self.store.fingerprint() != self._fingerprint or self._view is None:
                        snapshot = self._build_snapshot()
                        records = sorted((_record(d) for d in snapshot.corpus.docs), key=lambda r: r.source)
                        doc_terms = {
                            r.doc_id: {canonical(t) for t in terms(f"{r.source.replace('-', ' ')} {r.title} {r.author}")}
                            for r in records
                        }
                        doc_names = {
                            r.doc_id: {canonical(t) for t in terms(f"{r.source.replace('-', ' ')} {r.author}")}
                            for r in records
                        }
                        self._view = _View(snapshot, records, doc_terms, doc_names,
                                           max((r.date for r in records), default=""))
                        self._fingerprint = snapshot.generation
                    self._checked_at = time.monotonic()
        return self._view

    def snapshot(self) -> CorpusSnapshot:
        return self.view().snapshot

    def _build_snapshot(self) -> CorpusSnapshot:
        """The read cache brought up to date (only changed documents are read from the index),
        then opened: milliseconds when nothing changed."""
        return CorpusSnapshot(ReadCache(self.store).sync(), self.settings.memory_index_rows)

    def named_docs(self, question: str, sources_only: bool = False) -> tuple[str, ...]:
        """Documents the question points at by a name only they carry (author, publisher in the
        file name, a title word): "according to the Asan brief", "in the Korea Herald".
        `sources_only`: by author or file-name words only, numbers left out ("according to
        Tokuchi" names a source; a title's words and a year in a file name name a topic)."""
        names = {e for e in analyze(question).entities if not (sources_only and any(ch.isdigit() for ch in e))}
        view = self.view()
        owners: dict[str, set[str]] = {}
        for doc_id, doc_terms in (view.doc_names if sources_only else view.doc_terms).items():
            for term in names & doc_terms:
                owners.setdefault(term, set()).add(doc_id)
        return tuple(sorted({d for docs in owners.values() if len(docs) == 1 for d in docs}))

    def documents(self, filters: "Filters | dict | None" = None) -> list:
        """The indexed documents (`ingest.store.DocumentRecord`) that `filters` allow, by source."""
        records = self.view().records
        filters = Filters.coerce(filters)
        if filters is None:
            return records
        return [r for r in records if filters.allows(r.source, r.date)]

    @property
    def newest_date(self) -> str:
        """The latest document date in the index ("" when none is dated): what "since October"
        is read against."""
        return self.view().newest

    def _allowed_docs(self, filters: Filters | None) -> set[str] | None:
        if filters is None:
            return None
        return {r.doc_id for r in self.view().records if filters.allows(r.source, r.date)}

    def retrieve(self, question: str, k: int | None = None, filters: Filters | dict | None = None,
                 vector: np.ndarray | None = None) -> Retrieval:
        """The best `k` passages for `question`; `vector` is its embedding when the caller has it."""
        k = k or self.settings.top_k
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        if vector is None:
            vector = self.embed_query(question)
        timings["embed"] = time.perf_counter() - t0
        allowed = self._allowed_docs(Filters.coerce(filters))
        if allowed is not None and not allowed:
            return Retrieval(question, vector, [], timings)
        snapshot = self.snapshot()

        t0 = time.perf_counter()
        chunk_ids, _, _ = snapshot.dense("chunks", vector, _CANDIDATES, allowed)
        _, sent_sims, sent_metas = snapshot.dense("sentences", vector, _CANDIDATES * 2, allowed)
        best_sentence: dict[str, float] = {}
        for sim, meta in zip(sent_sims, sent_metas):
            best_sentence[meta["chunk_id"]] = max(sim, best_sentence.get(meta["chunk_id"], -1.0))
        sentence_ranked = sorted(best_sentence, key=best_sentence.get, reverse=True)
        timings["dense"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        index = snapshot.bm25
        lexical_ranked = [index.ids[row] for row, _ in index.search(question, _CANDIDATES, allowed)]
        timings["bm25"] = time.perf_counter() - t0

        fused: dict[str, float] = {}
        for ranking in (chunk_ids, sentence_ranked, lexical_ranked):
            for rank, chunk_id in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (_RRF_K + rank + 1)
        if not fused:  # rows without a committed document (an ingest midway, or one that crashed)
            return Retrieval(question, vector, [], timings)
        candidates = sorted(fused, key=fused.get, reverse=True)[:max(_RERANKED, k)]
        t0 = time.perf_counter()
        named = self.named_docs(question)
        scores = self._rerank(question, vector, candidates, fused, snapshot)
        if named:
            owner = {cid: self.store_doc(cid) for cid in candidates}
            scores = {cid: score + (0.08 if owner[cid] in named else 0.0) for cid, score in scores.items()}
        timings["rerank"] = time.perf_counter() - t0
        top = sorted(candidates, key=scores.get, reverse=True)[:k]
        stored = snapshot.get_chunks(top)
        passages = [passage_from(cid, *stored[cid], scores[cid]) for cid in top if cid in stored]
        return Retrieval(question, vector, passages, timings, named, snapshot)

    @staticmethod
    def store_doc(chunk_id: str) -> str:
        """Chunk ids are `<doc_id>:<version>:<n>` (see ingest.chunk)."""
        return chunk_id.split(":", 1)[0]

    def _rerank(self, question: str, vector: np.ndarray, candidates: list[str], fused: dict[str, float],
                snapshot: CorpusSnapshot) -> dict[str, float]:
        """Rank fusion rewards being decent on every signal; a passage whose single sentence
        answers the question can lose that way. Re-score each candidate on its best sentence
        (meaning plus term coverage) and its overall term coverage; fusion breaks ties."""
        question_terms = [canonical(t) for t in terms(question)]
        index = snapshot.bm25
        metas, vectors = snapshot.sentences_of(candidates)
        sims = vectors @ vector if len(metas) else np.zeros(0)
        best: dict[str, float] = {}
        chunk_terms: dict[str, set[str]] = {cid: set() for cid in candidates}
        for meta, sim in zip(metas, sims):
            sentence_terms = snapshot.sentence_terms(meta)
            chunk_terms[meta["chunk_id"]] |= sentence_terms
            score = sentence_match(float(sim), index.coverage(question_terms, sentence_terms), RERANK_SIM_WEIGHT)
            best[meta["chunk_id"]] = max(score, best.get(meta["chunk_id"], 0.0))
        top_fused = max(fused.values())
        return {
            cid: best.get(cid, 0.0) + 0.1 * index.coverage(question_terms, chunk_terms[cid]) + 0.05 * fused[cid] / top_fused
            for cid in candidates
        }
