"""A BM25 index over all chunks, built from the store and cached until the corpus changes."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from rag.base.text import terms


class BM25Index:
    def __init__(self, ids: list[str], texts: list[str], metadatas: list[dict]):
        import bm25s

        self.ids = ids
        self.metadatas = metadatas
        tokenized = [terms(t) or ["\x00"] for t in texts]
        self._bm25 = bm25s.BM25()
        if tokenized:
            self._bm25.index(tokenized, show_progress=False)
        df = Counter(term for toks in tokenized for term in set(toks))
        n = max(len(tokenized), 1)
        self._idf = {term: math.log(1 + (n - f + 0.5) / (f + 0.5)) for term, f in df.items()}
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)

    def idf(self, term: str) -> float:
        """Unknown terms get the highest idf: a word the corpus never uses is the most telling."""
        return self._idf.get(term, self._max_idf)

    def known(self, term: str) -> bool:
        return term in self._idf

    @property
    def vocabulary(self) -> list[str]:
        """Every indexed term, sorted (for prefix and spelling lookups); built once."""
        if not hasattr(self, "_sorted_terms"):
            self._sorted_terms = sorted(self._idf)
        return self._sorted_terms

    def coverage(self, question_terms: list[str], text_terms: set[str]) -> float:
        """Share of the question's idf-weighted content terms found in `text_terms`."""
        wanted = set(question_terms)
        total = sum(self.idf(t) for t in wanted)
        if not total:
            return 0.0
        return sum(self.idf(t) for t in wanted if t in text_terms) / total

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """The BM25 score of every chunk row for already-tokenized terms (zeros when none is known)."""
        known = [t for t in query_terms if t in self._idf]
        if not known or not self.ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def search(self, query: str, n: int, allowed_docs: set[str] | None = None) -> list[tuple[int, float]]:
        """(row, score) best first; rows with a zero score never come back."""
        query_terms = [t for t in terms(query) if t in self._idf]
        if not query_terms or not self.ids:
            return []
        scores = np.asarray(self._bm25.get_scores(query_terms))
        if allowed_docs is not None:
            mask = np.array([m["doc_id"] in allowed_docs for m in self.metadatas])
            scores = np.where(mask, scores, 0.0)
        order = np.argsort(-scores)[:n]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


def sentence_match(similarity: float, coverage: float, similarity_weight: float, total: float = 1.0) -> float:
    """How well one sentence matches a question: its meaning (cosine) and its share of the
    question's idf-weighted terms, `similarity_weight` and `total - similarity_weight` of `total`.
    Retrieval re-ranks passages on their best sentence with it; the evidence stage scores every
    sentence with it (and adds what only answers need: the answer type, quotes, named documents)."""
    return similarity_weight * similarity + (total - similarity_weight) * coverage
