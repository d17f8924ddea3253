"""Smoke tests of the benchmark's parts, in seconds: ranking quality on a few gold questions over
the session index, the report rendering on a fixed result, the synthetic document generator.
The full benchmark (`briefing bench`, or `--quick` for a short run) is a script, not a timed test."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from eval import metrics as M
from eval.bench import build_parser, ranking, render, synthetic
from eval.bench.common import TOP_K


def test_ranking_quality_matches_hit_at_5_computed_independently(briefing):
    questions = ranking.ranked_questions(limit=6)
    assert len(questions) == 6 and all(q["answerable"] and q["sources"] for q in questions)
    got = ranking.ranking_quality(briefing, questions)
    hits = [M.retrieval_metrics([p.source for p in briefing.retrieve(q["question"], k=TOP_K)], q["sources"], 5)["hit"]
            for q in questions]
    assert got["questions"] == 6 and set(got) == {"questions", "briefing_retrieve"}  # no llama-index asked for
    assert got["briefing_retrieve"]["source_hit@5"] == round(sum(hits) / len(hits), 3)
    assert 0 <= got["briefing_retrieve"]["evidence_hit@5"] <= 1


def test_ranking_quality_counts_hits_in_the_top_5_only():
    def passage(source, text):
        return SimpleNamespace(source=source, text=text)

    ranked = {
        "q1": [passage("a.txt", "The budget rose by 12 percent."), *[passage("x.txt", "filler")] * 7],
        "q2": [*[passage("x.txt", "filler")] * 5, passage("b.txt", "Turnout was high.")],  # rank 6: a miss
    }
    briefing = SimpleNamespace(retrieve=lambda question, k: ranked[question])
    questions = [
        {"question": "q1", "sources": ["a.txt"], "evidence": ["the budget rose by 12\u00a0percent"]},
        {"question": "q2", "sources": ["b.txt"], "evidence": ["Turnout was high"]},
    ]
    got = ranking.ranking_quality(briefing, questions)
    assert got == {"questions": 2, "briefing_retrieve": {"source_hit@5": 0.5, "evidence_hit@5": 0.5}}


def test_long_evidence_may_straddle_two_passages():
    evidence = " ".join(f"word{i}" for i in range(40))  # > 120 characters once normalised
    first, second = " ".join(f"word{i}" for i in range(22)), " ".join(f"word{i}" for i in range(18, 40))
    assert ranking._evidence_in([evidence], ["unrelated", first])
    assert ranking._evidence_in([evidence], [second])
    assert not ranking._evidence_in([evidence], ["word1 word2 word3"])
    assert ranking._evidence_in(["Japan\u2019s \u201cweakest\u201d link"], ["It is Japan's \"weakest\" link."])


RESULT = {
    "machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 7.5, "os": "Linux", "python": "3.12.1",
                "chromadb": "1.0.0", "load_average_start": [0.5], "load_average_end": [0.7]},
    "embedding": {"numpy": {"model_load_s": 0.42, "chunk_texts": {"per_s": 12.5}, "sentences": {"per_s": 345.67}},
                  "sentence_transformers": {"skipped": "--quick or --no-st"}},
    "ingest": {"chunks": 81, "distinct_sentences_embedded": 900, "seconds": 4.2, "chunks_per_s": 19.29,
               "ratio_to_raw_chunk_embedding": 1.543, "model_only_chunks_per_s": 31.11, "ratio_to_model_only": 0.62},
    "reingest_unchanged": {"seconds": 0.0123, "chunks_written": 0},
    "quality": {"questions": 12, "briefing_retrieve": {"source_hit@5": 0.9166, "evidence_hit@5": 0.75},
                "llama_index": {"source_hit@5": 0.8333, "evidence_hit@5": 0.5}},
    "scales": [
        {"label": "real corpus", "chunks": 81, "latency": {
            "chunks": 81, "sentence_rows": 900, "retrieve": {"p50": 3.21, "p95": 4.87}, "ask": {"p50": 20.04, "p95": 31.5},
            "llama_index_retrieve": {"p50": 2.5, "p95": 3.0}, "retrieve_vs_llama_index_p50": 1.28,
            "peak_rss_mb": 412.4, "first_retrieve_s": 1.26}},
        {"label": "~1,000 synthetic", "chunks": 1040, "latency": {"error": "worker crashed: MemoryError"}},
    ],
    "notes": ["a note to keep"],
}


def test_render_shows_the_figures_given():
    text = render.render(RESULT)
    assert "Machine: Test CPU, 2 cores, 7.5 GB RAM" in text and "end [0.7]" in text
    assert "   12.50 chunks/s (chunk texts)    345.67 sentences/s  (model load 0.42 s)" in text
    assert "sentence-transformers    skipped (--quick or --no-st)" in text
    assert "81 chunks (900 sentences embedded) in 4.2 s = 19.29 chunks/s" in text
    assert "Re-ingest of the unchanged corpus: 12.3 ms (0 chunks written)" in text
    assert "(12 answerable questions, real corpus)" in text
    assert "retrieve()          source hit@5 0.917   evidence hit@5 0.750" in text
    assert "llama-index dense   source hit@5 0.833   evidence hit@5 0.500" in text
    real = next(line for line in text.splitlines() if line.strip().startswith("real corpus"))
    assert real.split() == ["real", "corpus", "81", "900", "3.2/4.9", "20.0/31.5", "2.5/3.0", "1.28", "412", "1.3"]
    assert "~1,000 synthetic    1040  worker crashed: MemoryError" in text
    assert text.endswith("Note: a note to keep")


def test_generator_is_deterministic_and_varies_names_places_numbers():
    from ingest.chunk import chunk_document

    pool = ["Kishida met Lee Jae-myung in Seoul in 2024.", "Japan raised its defense budget by 12 percent.",
            "The talks in Tokyo covered trade.", "Officials from China attended the summit.", "Turnout was high."]
    vectors = np.random.default_rng(0).normal(size=(len(pool), 16)).astype(np.float32)
    gen = synthetic.Generator(pool, vectors, ["Security outlook for Japan"])
    doc, origin, rng = gen.document(3)
    again, _, _ = gen.document(3)
    assert doc.text == again.text and doc.source == "synthetic/brief-000003.txt"
    assert gen.document(4)[0].text != doc.text
    assert not any(name in doc.text for name in ("Kishida", "Seoul", "Tokyo", "China"))
    chunks = chunk_document(doc)
    out = gen.vectors(chunks, origin, rng)
    assert len(out) == len({(u.start, u.end) for c in chunks for u in c.units}) > 0
    assert all(v.dtype == np.float32 and abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in out.values())


def test_cli_options():
    args = build_parser().parse_args(["--quick", "--sizes", "1000,5000", "--queries", "3", "--no-st"])
    assert args.quick and args.sizes == "1000,5000" and args.queries == 3 and args.no_st and not args.build_only
