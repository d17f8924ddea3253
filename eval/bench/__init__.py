"""Speed and scale benchmarks: `python -m eval.bench` or `briefing bench`.

What it measures, on this machine:

1. raw embedding throughput of all-MiniLM-L6-v2 on the real corpus (our numpy embedder, and
   sentence-transformers for reference): chunk texts/s and sentences/s;
2. ingest throughput end to end (read, chunk, embed, write to Chroma) on the real corpus, in
   chunks/s, and its ratio to the raw rates;
3. re-ingest time of the unchanged corpus (nothing embedded, nothing written);
4. ranking quality on eval/gold.jsonl over the real corpus: hit@5 of a gold source and of a gold
   evidence sentence, for `retrieve()` and for a plain llama-index VectorStoreIndex retriever;
5. warm `retrieve()` and `ask()` latency (p50/p95) and the same llama-index retriever's latency,
   at the real corpus and at about 1k, 10k and 100k chunks, with the process's peak memory. Each
   size runs in its own worker process, so peak memory is that size's.

The scale indexes hold the real corpus plus generated documents: real corpus sentences
recombined, with names, places and numbers varied, chunked by the real chunker. Their vectors are
SYNTHETIC (each sentence vector mixes the real vector of the sentence it came from with another
real sentence vector and noise, then is normalised): retrieval latency depends on the index's
size and layout, not on what the vectors mean, and embedding 100k chunks for real would take
hours on a laptop. Built indexes are cached between runs (BRIEFING_BENCH_CACHE, default
~/.cache/briefing-bench) and a build interrupted (or stopped by --build-budget) resumes.

Modules: `machine` (what it ran on, peak memory), `embedding` (1-3), `ranking` (4), `latency` (5,
and its worker process), `synthetic` (the generator and the cached scale indexes), `render` (the
printed report); this module is the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench.common import ROOT, log
from eval.bench.embedding import bench_embedding, bench_ingest, corpus_units, ingest_corpus
from eval.bench.latency import latency_worker, run_worker
from eval.bench.machine import load_average, machine, peak_rss_mb
from eval.bench.ranking import bench_quality
from eval.bench import render
from eval.bench.synthetic import build_scale_index

DEFAULT_OUT = ROOT / "eval" / "out" / "bench.json"
DEFAULT_SIZES = (1000, 10000, 100000)

NOTES = [
    "Synthetic indexes: real corpus (real vectors) + generated documents (corpus sentences recombined, "
    "names/places/numbers varied); their vectors are synthetic (mixes of real sentence vectors plus noise). "
    "Latency depends on index size and layout, not on what the vectors mean; ranking quality is measured on "
    "the real corpus only.",
    "ratio = retrieve() p50 / llama-index VectorStoreIndex retriever p50 (dense chunks only, same embedder, "
    "same Chroma collection); retrieve() also queries sentence vectors and BM25. Timed calls are interleaved. "
    "cold s = first retrieve() of a fresh process (opens the index, loads the model, builds BM25).",
    "Ingest embeds each distinct sentence (chunk vectors are means of sentence vectors), so it can beat "
    "embedding whole chunk texts; 'model-only' is the rate the model alone allows for that work.",
]
QUICK_NOTE = ("--quick: embedding rates on 4 chunks / 32 sentences, ranking quality on 12 "
              "questions, no sentence-transformers: a smoke test, not figures to quote.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="scale index sizes in chunks, comma-separated (default: 1000,10000,100000)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke: a subset for embedding rates, no sentence-transformers, sizes 1000, few queries")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("BRIEFING_BENCH_CACHE") or Path.home() / ".cache" / "briefing-bench"),
                        help="where built scale indexes are kept (default: $BRIEFING_BENCH_CACHE or ~/.cache/briefing-bench)")
    parser.add_argument("--queries", type=int, help="timed questions per measurement (default 40, --quick 5)")
    parser.add_argument("--build-budget", type=float, default=None,
                        help="seconds to spend building one scale index in this run; an unfinished build resumes next run")
    parser.add_argument("--no-st", action="store_true", help="skip the sentence-transformers reference")
    parser.add_argument("--build-only", action="store_true",
                        help="only build (or finish building) the cached scale indexes, measure nothing")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        print(json.dumps(latency_worker(args.worker, args.queries or 40)))
        return 0
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.build_only:
        return build_only(sizes, args.cache, args.build_budget)
    result = run_benchmarks(args, sizes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(render.render(result))
    print(f"\nWrote {args.out} in {result['seconds']} s")
    return 0


def build_only(sizes: list[int], cache: Path, budget: float | None) -> int:
    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as work:
        real_dir = Path(work) / "real"
        ingest_corpus(real_dir)
        for size in sizes:
            log(f"bench: {size}-chunk index ...")
            built = build_scale_index(size, cache, real_dir, budget)
            log(f"  {json.dumps(built)}")
    return 0


def run_benchmarks(args: argparse.Namespace, sizes: list[int]) -> dict[str, Any]:
    """Every measurement, in order, as the JSON-ready result (with each phase's seconds)."""
    queries = args.queries or (5 if args.quick else 40)
    started = time.perf_counter()
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": args.quick,
                              "machine": machine(), "notes": []}
    phases: dict[str, float] = {}
    result["phase_seconds"] = phases

    def phase(name: str, t0: float) -> None:
        phases[name] = round(time.perf_counter() - t0, 1)

    t0 = time.perf_counter()
    log("bench: embedding throughput ...")
    chunk_texts, sentences = corpus_units()
    all_sentences = len(sentences)
    if args.quick:
        chunk_texts, sentences = chunk_texts[:4], sentences[:32]
        result["notes"].append(QUICK_NOTE)
    result["embedding"] = bench_embedding(chunk_texts, sentences, with_st=not (args.quick or args.no_st))
    phase("embedding", t0)

    work = Path(tempfile.mkdtemp(prefix="briefing-bench-"))
    try:
        real_dir = work / "real"
        t0 = time.perf_counter()
        log("bench: ingest end to end ...")
        result.update(bench_ingest(real_dir, result["embedding"], all_sentences))
        phase("ingest", t0)
        t0 = time.perf_counter()
        log("bench: ranking quality ...")
        result["quality"] = bench_quality(real_dir, limit=12 if args.quick else None)
        phase("quality", t0)
        scales = [{"label": "real corpus", "target": 0, "vectors": "real", "index": str(real_dir)}]
        for size in sizes:
            t0 = time.perf_counter()
            log(f"bench: {size}-chunk index ...")
            built = build_scale_index(size, args.cache, real_dir, args.build_budget)
            label = f"~{size:,} synthetic" + ("" if built["complete"] else " (partial)")
            scales.append({"label": label, "vectors": "synthetic", **built})
            phase(f"build_{size}", t0)
        for scale in scales:
            t0 = time.perf_counter()
            log(f"bench: latency at {scale['label']} ...")
            scale["latency"] = run_worker(Path(scale["index"]), queries)
            phase(f"latency_{scale['label']}", t0)
        result["scales"] = scales
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result["notes"] += NOTES
    result["machine"]["load_average_end"] = load_average()
    result["peak_rss_mb_main"] = round(peak_rss_mb(), 1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result
