"""BM25 over every chunk, read from the cache's postings (`ingest.readcache`): nothing is
tokenized or indexed when a process starts, and the postings are memory-mapped.

Scores are bm25s's defaults (Lucene's variant: k1 1.5, b 0.75), which this index used before
it was persisted; tests/test_readcache.py checks the two agree.
"""

from __future__ import annotations

import math

import numpy as np

from rag.base.text import terms

K1 = 1.5
B = 0.75


class BM25Index:
    def __init__(self, corpus):
        """`corpus`: an `ingest.readcache.CachedCorpus`."""
        a = corpus.arrays
        self.ids: list[str] = corpus.chunk_ids
        self._doc_rows = {d["doc_id"]: i for i, d in enumerate(corpus.docs)}
        self._chunk_doc = np.asarray(a["chunk_doc"])
        self._term_end = np.asarray(a["term_end"])
        self._term_start = np.concatenate([[0], self._term_end[:-1]]).astype(np.int64)
        self._rows, self._tf = a["post_row"], a["post_tf"]
        self._term_id = {t: i for i, t in enumerate(corpus.vocabulary)}
        self._df = self._term_end - self._term_start
        n = len(self.ids)
        lengths = np.asarray(a["chunk_len"], dtype=np.float32)
        self._norm = (K1 * ((1 - B) + B * lengths / (lengths.mean() if n else 1.0))).astype(np.float32)
        self._n = n
        self._max_idf = math.log(1 + (n + 0.5) / 0.5)

    def _df_of(self, term: str) -> int:
        i = self._term_id.get(term)
        return int(self._df[i]) if i is not None else 0

    def idf(self, term: str) -> float:
        """Unknown terms get the highest idf: a word the corpus never uses is the most telling."""
        df = self._df_of(term)
        return math.log(1 + (self._n - df + 0.5) / (df + 0.5)) if df else self._max_idf

    def known(self, term: str) -> bool:
        return self._df_of(term) > 0

    @property
    def vocabulary(self) -> list[str]:
        """Every indexed term, sorted (for prefix and spelling lookups); built once."""
        if not hasattr(self, "_sorted_terms"):
            self._sorted_terms = sorted(t for t, i in self._term_id.items() if self._df[i])
        return self._sorted_terms

    def coverage(self, question_terms: list[str], text_terms: set[str]) -> float:
        """Share of the question's idf-weighted content terms found in `text_terms`."""
        wanted = set(question_terms)
        total = sum(self.idf(t) for t in wanted)
        if not total:
            return 0.0
        return sum(self.idf(t) for t in wanted if t in text_terms) / total

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """The BM25 score of every chunk row; a term given twice counts twice, as in bm25s."""
        out = np.zeros(self._n, dtype=np.float32)
        for term in query_terms:
            i = self._term_id.get(term)
            if i is None or not self._df[i]:
                continue
            a, b = int(self._term_start[i]), int(self._term_end[i])
            rows, tf = np.asarray(self._rows[a:b]), np.asarray(self._tf[a:b])
            # rows are distinct within one term's postings, so a fancy-index add is exact
            out[rows] += np.float32(self.idf(term)) * tf / (self._norm[rows] + tf)
        return out

    def search(self, query: str, n: int, allowed_docs: set[str] | None = None) -> list[tuple[int, float]]:
        """(row, score) best first; rows with a zero score never come back."""
        query_terms = [t for t in terms(query) if self.known(t)]
        if not query_terms or not self._n:
            return []
        scores = self.scores(query_terms)
        if allowed_docs is not None:
            allowed = [self._doc_rows[d] for d in allowed_docs if d in self._doc_rows]
            scores = np.where(np.isin(self._chunk_doc, allowed), scores, 0.0)
        n = min(n, self._n)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.lexsort((top, -scores[top]))]  # best first; ties by row, as a stable sort would
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def sentence_match(similarity: float, coverage: float, similarity_weight: float, total: float = 1.0) -> float:
    """How well one sentence matches a question: its meaning (cosine) and its share of the
    question's idf-weighted terms, `similarity_weight` and `total - similarity_weight` of `total`.
    Retrieval re-ranks passages on their best sentence with it; the evidence stage scores every
    sentence with it (and adds what only answers need: the answer type, quotes, named documents)."""
    return similarity_weight * similarity + (total - similarity_weight) * coverage
