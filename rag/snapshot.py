"""An in-memory copy of what retrieval reads, rebuilt whenever the corpus changes.

For an index of up to `Settings.memory_index_rows` sentences, vectors, texts and metadata live in
numpy arrays: a warm question then costs one query embedding and a few matrix products, with no
round trip to Chroma. Larger indexes keep only the BM25 index and chunk texts here and ask
Chroma's HNSW index for the nearest vectors.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ingest.store import Store
from rag.bm25 import BM25Index
from rag.base.text import term_set


class CorpusSnapshot:
    def __init__(self, store: Store, memory_rows: int):
        self.store = store
        self.in_memory = store.row_count("sentences") <= memory_rows
        self._terms: dict[str, frozenset[str]] = {}
        if self.in_memory:
            ids, texts, metas, vectors = store.all_rows("chunks")
            self._chunk_matrix = vectors
            s_ids, s_texts, s_metas, s_vectors = store.all_rows("sentences")
            self._sentence_matrix = s_vectors
            self._sentences = [dict(m, text=t, id=i) for i, t, m in zip(s_ids, s_texts, s_metas)]
            self._rows_of: dict[str, list[int]] = {}
            for row, meta in enumerate(self._sentences):
                self._rows_of.setdefault(meta["chunk_id"], []).append(row)
            self._docs = {"chunks": np.array([m["doc_id"] for m in metas]),
                          "sentences": np.array([m["doc_id"] for m in s_metas])}
        else:
            ids, texts, metas = store.all_chunks()
        self.chunk_ids = ids
        self._chunk_metas = metas
        self._chunks = {cid: (text, meta) for cid, text, meta in zip(ids, texts, metas)}
        self.bm25 = BM25Index(ids, texts, metas)

    def sentence_terms(self, meta: dict[str, Any]) -> frozenset[str]:
        """Content terms of a sentence, computed once per sentence text."""
        text = meta["text"]
        if text not in self._terms:
            self._terms[text] = term_set(text)
        return self._terms[text]

    def dense(self, kind: str, vector: np.ndarray, n: int, allowed: set[str] | None) -> tuple[list[str], list[float], list[dict]]:
        """Nearest `chunks` or `sentences` to `vector`: (ids, cosine similarities, metadata)."""
        if not self.in_memory:
            where = {"doc_id": {"$in": sorted(allowed)}} if allowed is not None else None
            return self.store.query(kind, vector, n, where)
        matrix = self._chunk_matrix if kind == "chunks" else self._sentence_matrix
        if not len(matrix):
            return [], [], []
        sims = matrix @ vector
        if allowed is not None:
            sims = np.where(np.isin(self._docs[kind], list(allowed)), sims, -np.inf)
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n]
        top = top[np.argsort(-sims[top])]
        top = [i for i in top.tolist() if np.isfinite(sims[i])]
        if kind == "chunks":
            return [self.chunk_ids[i] for i in top], [float(sims[i]) for i in top], [self._chunk_metas[i] for i in top]
        return ([self._sentences[i]["id"] for i in top], [float(sims[i]) for i in top],
                [self._sentences[i] for i in top])

    def best_per_document(self, kind: str, scores: np.ndarray | None, vector: np.ndarray | None, per_doc: int,
                          fallback: int = 500) -> dict[str, list[str]]:
        """Each document's `per_doc` best `chunks` (by `scores`, one per chunk row, zeros never) or
        `sentences` (by similarity to `vector`; their chunk ids): what a question about the whole
        collection reads of every document. Without an in-memory copy, sentences come from the
        `fallback` nearest in Chroma's index."""
        best: dict[str, list[str]] = {}
        if kind == "chunks":
            doc_ids = [m["doc_id"] for m in self._chunk_metas]
            ids = self.chunk_ids
            positive = np.flatnonzero(scores > 0)
            order = positive[np.argsort(-scores[positive], kind="stable")]
        elif self.in_memory:
            if not len(self._sentence_matrix):
                return best
            sims = self._sentence_matrix @ vector
            doc_ids = self._docs["sentences"].tolist()
            ids = [m["chunk_id"] for m in self._sentences]
            order = np.argsort(-sims, kind="stable")
        else:
            _, _, metas = self.store.query("sentences", vector, fallback)
            doc_ids, ids, order = [m["doc_id"] for m in metas], [m["chunk_id"] for m in metas], range(len(metas))
        for row in order:
            picked = best.setdefault(doc_ids[row], [])
            if len(picked) < per_doc and ids[row] not in picked:
                picked.append(ids[row])
        return best

    def get_chunks(self, ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        return {cid: self._chunks[cid] for cid in ids if cid in self._chunks}

    def sentences_of(self, chunk_ids: Iterable[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
        chunk_ids = list(chunk_ids)
        if not self.in_memory:
            return self.store.sentences_of(chunk_ids)
        rows = [row for cid in chunk_ids for row in self._rows_of.get(cid, ())]
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [self._sentences[r] for r in rows], self._sentence_matrix[rows]
