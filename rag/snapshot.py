"""What retrieval reads, over the memory-mapped read cache (`ingest.readcache`): chunk and
sentence vectors, texts and positions, and BM25. Opening one costs milliseconds at any size.

Up to `Settings.memory_index_rows` sentences, the nearest sentences to a question are found by
one matrix product over all of them. Past that, a product over every sentence would touch
gigabytes per question, so the sentences searched are those of the chunks nearest in meaning
(`_SENTENCE_POOL` of them): a passage can still win on its single best sentence, found among
the passages whose meaning is close.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ingest.readcache import CachedCorpus
from rag.base.text import term_set
from rag.bm25 import BM25Index

_SENTENCE_POOL = 200  # chunks whose sentences are searched when not all sentences are


class CorpusSnapshot:
    def __init__(self, corpus: CachedCorpus, memory_rows: int):
        self.corpus = corpus
        self.in_memory = corpus.manifest["sentences"] <= memory_rows
        self.chunk_ids = corpus.chunk_ids
        self._row_of = {cid: i for i, cid in enumerate(corpus.chunk_ids)}
        self._chunk_doc = np.asarray(corpus.arrays["chunk_doc"])
        self._doc_rows = {d["doc_id"]: i for i, d in enumerate(corpus.docs)}
        # In memory (small indexes) the sentence matrix is read once; otherwise its pages are
        # read only for the chunks a question touches.
        self._sentences = np.asarray(corpus.sent_vectors) if self.in_memory else corpus.sent_vectors
        ends = np.asarray(corpus.arrays["chunk_sent_end"])
        self._sent_chunk = np.repeat(np.arange(len(ends), dtype=np.int32), np.diff(np.concatenate([[0], ends])))
        self._terms: dict[str, frozenset[str]] = {}
        self._last_product: tuple[bytes, np.ndarray] | None = None
        self.bm25 = BM25Index(corpus)

    @property
    def generation(self) -> str:
        return self.corpus.generation

    def sentence_terms(self, meta: dict[str, Any]) -> frozenset[str]:
        """Content terms of a sentence, computed once per sentence text."""
        text = meta["text"]
        if text not in self._terms:
            self._terms[text] = term_set(text)
        return self._terms[text]

    # --- rows as the read side sees them -----------------------------------------------------

    def _doc(self, chunk_row: int) -> dict[str, Any]:
        return self.corpus.docs[int(self._chunk_doc[chunk_row])]

    def chunk_meta(self, row: int) -> dict[str, Any]:
        a, doc = self.corpus.arrays, self._doc(row)
        return {"doc_id": doc["doc_id"], "source": doc["source"], "title": doc["title"], "date": doc["date"],
                "author": doc["author"], "content_hash": doc["content_hash"], "chunk_id": self.chunk_ids[row],
                "index": int(a["chunk_index"][row]), "start": int(a["chunk_start"][row]),
                "end": int(a["chunk_end"][row]), "page": int(a["chunk_page"][row])}

    def _sentence_meta(self, row: int, chunk_row: int, position: int) -> dict[str, Any]:
        a, doc = self.corpus.arrays, self._doc(chunk_row)
        chunk_id = self.chunk_ids[chunk_row]
        return {"id": f"{chunk_id}:{position}", "text": self.corpus.text("sent_text", row), "chunk_id": chunk_id,
                "doc_id": doc["doc_id"], "source": doc["source"], "title": doc["title"], "date": doc["date"],
                "author": doc["author"], "start": int(a["sent_start"][row]), "end": int(a["sent_end"][row]),
                "heading": bool(a["sent_heading"][row]), "position": position}

    def _allowed_rows(self, allowed: set[str] | None, length: int, per_sentence: bool = False) -> np.ndarray | None:
        if allowed is None:
            return None
        docs = np.isin(self._chunk_doc, [self._doc_rows[d] for d in allowed if d in self._doc_rows])
        return docs[self._sent_chunk] if per_sentence else docs

    # --- the reads --------------------------------------------------------------------------

    def dense(self, kind: str, vector: np.ndarray, n: int, allowed: set[str] | None) -> tuple[list[str], list[float], list[dict]]:
        """Nearest `chunks` or `sentences` to `vector`: (ids, cosine similarities, metadata)."""
        chunks = self.corpus.chunk_vectors
        if not len(chunks):
            return [], [], []
        if kind == "chunks":
            sims = self._chunk_similarities(vector)
            mask = self._allowed_rows(allowed, len(sims))
            top = _top(sims, n, mask)
            return [self.chunk_ids[i] for i in top], [float(sims[i]) for i in top], [self.chunk_meta(i) for i in top]
        if self.in_memory:
            sims = self._sentences @ vector
            rows = _top(sims, n, self._allowed_rows(allowed, len(sims), per_sentence=True))
        else:
            # Scored first, described after: only the `n` best get their text and metadata.
            pool = self.dense("chunks", vector, _SENTENCE_POOL, allowed)[0]
            candidates = np.asarray(self.sentence_rows(pool), dtype=np.int64)
            scores = self.sentence_vectors(candidates) @ vector if len(candidates) else np.zeros(0)
            top = _top(scores, n, None)
            rows, sims = [int(candidates[i]) for i in top], {int(candidates[i]): float(scores[i]) for i in top}
        metas = [self._meta_of_sentence_row(int(r)) for r in rows]
        return [m["id"] for m in metas], [float(sims[r]) for r in rows], metas

    def _chunk_similarities(self, vector: np.ndarray) -> np.ndarray:
        """Cosine of every chunk to `vector`; the last product is kept, since one question asks
        for it several times (chunks, the sentence pool) and at 100k chunks it reads 150 MB."""
        key = vector.tobytes()
        last = self._last_product
        if last is not None and last[0] == key:
            return last[1]
        sims = np.asarray(self.corpus.chunk_vectors @ vector)
        self._last_product = (key, sims)  # one tuple: a concurrent reader sees old or new, whole
        return sims

    def _meta_of_sentence_row(self, row: int) -> dict[str, Any]:
        chunk_row = int(self._sent_chunk[row])
        first, _ = self.corpus.sent_range(chunk_row)
        return self._sentence_meta(row, chunk_row, row - first)

    def get_chunks(self, ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        out = {}
        for cid in ids:
            row = self._row_of.get(cid)
            if row is not None:
                out[cid] = (self.corpus.text("chunk_text", row), self.chunk_meta(row))
        return out

    def sentences_of(self, chunk_ids: Iterable[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
        metas, ranges = [], []
        for cid in chunk_ids:
            row = self._row_of.get(cid)
            if row is None:
                continue
            first, last = self.corpus.sent_range(row)
            metas += [self._sentence_meta(s, row, s - first) for s in range(first, last)]
            ranges.append((first, last))
        if not metas:
            return [], np.zeros((0, 0), dtype=np.float32)
        return metas, np.concatenate([np.asarray(self._sentences[a:b]) for a, b in ranges])

    def best_chunks_per_document(self, scores: np.ndarray, per_doc: int) -> dict[str, list[str]]:
        """Each document's `per_doc` best chunks by `scores` (one per chunk row; zeros never)."""
        positive = np.flatnonzero(scores > 0)
        best: dict[str, list[str]] = {}
        for row in positive[np.argsort(-scores[positive], kind="stable")].tolist():
            picked = best.setdefault(self.corpus.docs[int(self._chunk_doc[row])]["doc_id"], [])
            if len(picked) < per_doc:
                picked.append(self.chunk_ids[row])
        return best

    def nearest_sentences_per_document(self, vector: np.ndarray, per_doc: int, pool: int = 500) -> dict[str, list[int]]:
        """Each document's `per_doc` sentence rows nearest to `vector`. Past the in-memory size,
        among the sentences of the `pool` chunks nearest in meaning."""
        if self.in_memory:
            rows = np.arange(len(self._sentences))
            sims = self._sentences @ vector if len(rows) else np.zeros(0)
        else:
            pool_rows = _top(self._chunk_similarities(vector), pool, None)
            rows = np.asarray(self.sentence_rows([self.chunk_ids[r] for r in pool_rows]), dtype=np.int64)
            sims = self.sentence_vectors(rows) @ vector if len(rows) else np.zeros(0)
        docs = self._chunk_doc[self._sent_chunk[rows]] if len(rows) else np.zeros(0, np.int32)
        order = np.lexsort((-sims, docs))  # by document, nearest first within each
        best: dict[str, list[int]] = {}
        doc_sorted, row_sorted = docs[order], rows[order]
        starts = np.flatnonzero(np.r_[True, doc_sorted[1:] != doc_sorted[:-1]]) if len(order) else []
        for i in starts:
            doc = int(doc_sorted[i])
            same = row_sorted[i:i + per_doc][doc_sorted[i:i + per_doc] == doc]
            best[self.corpus.docs[doc]["doc_id"]] = [int(r) for r in same]
        return best

    def sentence_rows(self, chunk_ids: Iterable[str]) -> list[int]:
        rows: list[int] = []
        for cid in chunk_ids:
            row = self._row_of.get(cid)
            if row is not None:
                rows += range(*self.corpus.sent_range(row))
        return rows

    def sentence_text(self, row: int) -> str:
        return self.corpus.text("sent_text", row)

    def sentence_at(self, row: int) -> dict[str, Any]:
        return self._meta_of_sentence_row(row)

    def sentence_vectors(self, rows) -> np.ndarray:
        return np.asarray(self._sentences[np.asarray(rows, dtype=np.int64)])


def _top(sims: np.ndarray, n: int, mask: np.ndarray | None) -> list[int]:
    """Indexes of the `n` highest similarities, best first, leaving out rows `mask` excludes."""
    if mask is not None:
        sims = np.where(mask, sims, -np.inf)
    n = min(n, len(sims))
    if n <= 0:
        return []
    top = np.argpartition(-sims, n - 1)[:n]
    top = top[np.argsort(-sims[top])]
    return [int(i) for i in top if np.isfinite(sims[i])]
