"""`python -m eval.bench.collection`: how long a question about the whole collection takes when
the collection is large: about 1,000 documents (the real corpus plus generated documents whose
vectors are synthetic, `eval.bench.synthetic`; about ten chunks each). Every document is read per
question, so this is the latency that grows with the collection. Prints the figures."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from eval.bench.common import ROOT, bench_settings, log
from eval.bench.embedding import ingest_corpus
from eval.bench.machine import load_average, peak_rss_mb
from eval.bench.synthetic import build_scale_index
from eval.totals import percentile

GOLD = ROOT / "eval" / "collection_gold.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.collection", description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=11000, help="scale index size in chunks (default 11000: ~1,000 documents)")
    parser.add_argument("--queries", type=int, default=30, help="timed questions (default 30)")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("BRIEFING_BENCH_CACHE") or Path.home() / ".cache" / "briefing-bench"))
    args = parser.parse_args(argv)
    from rag.pipeline import Briefing

    with tempfile.TemporaryDirectory(prefix="briefing-bench-real-") as real_dir:
        ingest_corpus(Path(real_dir))
        log(f"building (or reusing) a {args.chunks}-chunk index in {args.cache} ...")
        built = build_scale_index(args.chunks, args.cache, Path(real_dir), None)
    briefing = Briefing(bench_settings(Path(built["index"])))
    documents = len(briefing.store.document_records())
    questions = [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines()
                 if line.strip() and json.loads(line)["kind"] == "coverage"]
    started = time.perf_counter()
    first = briefing.ask(questions[0], scope="all")
    cold = time.perf_counter() - started
    load = load_average()
    timings = []
    for i in range(args.queries):
        t = time.perf_counter()
        answer = briefing.ask(questions[i % len(questions)], scope="all")
        timings.append(time.perf_counter() - t)
        assert len(answer.coverage) == documents, "a collection answer has one row per document"
    print(f"collection questions over {documents} documents, {built['chunks']} chunks, "
          f"{built['sentence_rows']} sentences (vectors synthetic)")
    print(f"  first question (loads the model, opens the index): {cold:.2f} s; rows {len(first.coverage)}")
    print(f"  warm ask(scope='all') over {len(timings)} questions: p50 {statistics.median(timings) * 1000:.0f} ms, "
          f"p95 {percentile(timings, 95) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms")
    print(f"  peak RSS {peak_rss_mb():.0f} MB; load average before/after {load} / {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
