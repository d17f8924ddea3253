"""Throughput on the real corpus: raw embedding of all-MiniLM-L6-v2 (our numpy embedder, and
sentence-transformers for reference), ingest end to end, and re-ingest of the unchanged corpus."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from eval.bench.common import CORPUS, bench_settings


def corpus_units():
    """The real corpus's chunk texts and distinct sentences (what ingest embeds)."""
    from ingest.chunk import chunk_document
    from ingest.load import discover, load_document

    chunk_texts, sentences = [], []
    for root, path in discover([CORPUS]):
        doc = load_document(root, path)
        chunks = chunk_document(doc)
        chunk_texts += [c.text for c in chunks]
        sentences += list({(u.start, u.end): u.text for c in chunks for u in c.units}.values())
    return chunk_texts, sentences


def _rate(fn, texts: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    fn(texts)
    seconds = time.perf_counter() - started
    return {"n": len(texts), "seconds": round(seconds, 3), "per_s": round(len(texts) / seconds, 2)}


def bench_embedding(chunk_texts: list[str], sentences: list[str], with_st: bool) -> dict[str, Any]:
    from ingest.embed import _bundled_model_dir, load_embedder

    out: dict[str, Any] = {}
    started = time.perf_counter()
    embedder = load_embedder()
    load_s = time.perf_counter() - started
    embedder.embed(sentences[:8])  # warm-up (first BLAS calls, allocator)
    out["numpy"] = {
        "model_load_s": round(load_s, 3),
        "chunk_texts": _rate(lambda t: embedder.embed(t, batch_size=64), chunk_texts),
        "sentences": _rate(lambda t: embedder.embed(t, batch_size=64), sentences),
    }
    if not with_st:
        out["sentence_transformers"] = {"skipped": "--quick or --no-st"}
        return out
    try:
        started = time.perf_counter()
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(_bundled_model_dir()), device="cpu")
        load_s = time.perf_counter() - started
        encode = lambda t: model.encode(t, batch_size=64, normalize_embeddings=True)  # noqa: E731
        encode(sentences[:8])
        out["sentence_transformers"] = {
            "model_load_s": round(load_s, 3),
            "chunk_texts": _rate(encode, chunk_texts),
            "sentences": _rate(encode, sentences),
        }
    except Exception as exc:  # not installed (it is a test extra), or no torch
        out["sentence_transformers"] = {"skipped": f"{type(exc).__name__}: {exc}"}
    return out


def ingest_corpus(data_dir: Path):
    """Index the real corpus into `data_dir` (the ingest report); exits when a file fails."""
    from ingest.index import ingest

    report = ingest([CORPUS], bench_settings(data_dir), progress=False, log=lambda m: None)
    if not report.ok:
        raise SystemExit(f"bench: ingesting the corpus failed:\n{report.summary()}")
    return report


def bench_ingest(data_dir: Path, raw: dict[str, Any], sentences_per_corpus: int) -> dict[str, Any]:
    from ingest.index import ingest
    from ingest.store import Store

    settings = bench_settings(data_dir)
    report = ingest_corpus(data_dir)
    store = Store(settings)
    chunks, sentence_rows = store.count(), store.sentences.count()
    rate = report.chunks_written / report.seconds
    numpy = raw["numpy"]
    # What the model alone would need for ingest's work: embedding every distinct sentence once.
    sentence_path = report.chunks_written / (sentences_per_corpus / numpy["sentences"]["per_s"])
    started = time.perf_counter()
    again = ingest([CORPUS], settings, progress=False, log=lambda m: None)
    reingest_s = time.perf_counter() - started
    return {
        "ingest": {
            "documents": len(report.added),
            "chunks": chunks,
            "sentence_rows": sentence_rows,
            "distinct_sentences_embedded": sentences_per_corpus,
            "seconds": round(report.seconds, 3),
            "chunks_per_s": round(rate, 2),
            "ratio_to_raw_chunk_embedding": round(rate / numpy["chunk_texts"]["per_s"], 3),
            "model_only_chunks_per_s": round(sentence_path, 2),
            "ratio_to_model_only": round(rate / sentence_path, 3),
        },
        "reingest_unchanged": {
            "seconds": round(reingest_s, 4),
            "unchanged": len(again.unchanged),
            "chunks_written": again.chunks_written,
        },
    }
