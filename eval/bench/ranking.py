"""Ranking quality on eval/gold.jsonl over the real corpus: hit@5 of a gold source and of a gold
evidence sentence, for `retrieve()` and for a plain llama-index VectorStoreIndex retriever."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eval.bench.common import TOP_K, bench_settings, gold_questions


def _norm(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(re.findall(r"\w+", text))


def _evidence_in(evidence: list[str], passages: list[str]) -> bool:
    joined = [_norm(p) for p in passages]
    for ev in evidence:
        e = _norm(ev)
        probes = [e] if len(e) <= 120 else [e[:100], e[-100:]]  # long evidence may straddle two chunks
        if any(probe and probe in p for probe in probes for p in joined):
            return True
    return False


class LlamaBaseline:
    """A plain llama-index retriever over the same Chroma chunks collection, same embedder."""

    def __init__(self, store, embedder, k: int = TOP_K):
        from llama_index.core import VectorStoreIndex
        from llama_index.core.embeddings import BaseEmbedding
        from llama_index.vector_stores.chroma import ChromaVectorStore
        from pydantic import PrivateAttr

        class NumpyEmbedding(BaseEmbedding):
            _embedder: Any = PrivateAttr()

            def __init__(self, embedder, **kwargs):
                super().__init__(model_name=embedder.name, **kwargs)
                self._embedder = embedder

            def _get_query_embedding(self, query: str) -> list[float]:
                return self._embedder.embed_query(query).tolist()

            def _get_text_embedding(self, text: str) -> list[float]:
                return self._embedder.embed([text])[0].tolist()

            def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
                return self._embedder.embed(texts).tolist()

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return self._get_query_embedding(query)

        vector_store = ChromaVectorStore(chroma_collection=store.chunks)
        index = VectorStoreIndex.from_vector_store(vector_store, embed_model=NumpyEmbedding(embedder))
        self.retriever = index.as_retriever(similarity_top_k=k)

    def retrieve(self, question: str) -> list[tuple[str, str]]:
        """(source, text) of the hits, best first."""
        return [(n.node.metadata.get("source", ""), n.node.get_content()) for n in self.retriever.retrieve(question)]


def ranked_questions(limit: int | None = None) -> list[dict[str, Any]]:
    """The gold questions ranking quality is measured on: answerable, with a gold source."""
    return [q for q in gold_questions() if q.get("answerable") and q.get("sources")][:limit]


def ranking_quality(briefing, questions: list[dict[str, Any]], baseline: LlamaBaseline | None = None) -> dict[str, Any]:
    """Source and evidence hit@5 of `briefing.retrieve()` (and of `baseline`, when given) on
    `questions` (gold records)."""
    retrievers = {"briefing_retrieve": lambda q: [(p.source, p.text) for p in briefing.retrieve(q, k=TOP_K)[:5]]}
    if baseline is not None:
        retrievers["llama_index"] = lambda q: baseline.retrieve(q)[:5]
    scores = {name: [0, 0] for name in retrievers}
    for q in questions:
        for name, retrieve in retrievers.items():
            hits = retrieve(q["question"])
            scores[name][0] += any(src in q["sources"] for src, _ in hits)
            scores[name][1] += _evidence_in(q.get("evidence") or [], [text for _, text in hits])
    n = len(questions)
    return {"questions": n, **{name: {"source_hit@5": round(s / n, 3), "evidence_hit@5": round(e / n, 3)}
                               for name, (s, e) in scores.items()}}


def bench_quality(data_dir: Path, limit: int | None = None) -> dict[str, Any]:
    """Ranking quality of both retrievers over the index in `data_dir`."""
    from rag.pipeline import Briefing

    briefing = Briefing(bench_settings(data_dir))
    baseline = LlamaBaseline(briefing.store, briefing.embedder)
    return ranking_quality(briefing, ranked_questions(limit), baseline)
