"""`python -m eval.bench.scale`: the read path's curve from 1k to 300k chunks. For each size, in
a fresh process of its own: time to the first answer (imports, opening the index and the read
cache, loading the model), warm `retrieve()` and `ask()` p50/p95 over the gold questions, and peak
memory; then the growth from size to size.

Indexes are those of `eval.bench.synthetic` (the real corpus plus generated documents: corpus
sentences recombined with names, places and numbers varied, so BM25 and the re-ranking see many
near matches; vectors synthetic). Sizes up to `--chroma-max` are written through Chroma and the
read cache synced from it, as ingest does. Larger ones (`direct`) have their generated rows
written straight into the read cache while Chroma holds their document records and the real
corpus: Chroma's own insertion runs at about 36 chunks/s on this 2-core machine, hours for 300k,
and the read path never reads chunk or sentence rows from Chroma when the cache is current.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench.common import ROOT, bench_settings, gold_questions, log

DEFAULT_SIZES = (1000, 10000, 100000, 300000)


def build_direct(target: int, cache: Path, real_dir: Path) -> dict[str, Any]:
    """An index of about `target` chunks whose generated rows live only in the read cache."""
    import hashlib

    import numpy as np

    from ingest.chunk import chunk_document
    from ingest.pipeline import _rows
    from ingest.readcache import ReadCache, _Doc, _Writer
    from ingest.store import DocumentRecord, PendingWrite, Rows, Store
    from eval.bench.synthetic import GENERATOR_VERSION, Generator, _copy_real_rows

    real = Store(bench_settings(real_dir))
    key = hashlib.sha256("".join(sorted(r.content_hash for r in real.document_records())).encode()).hexdigest()[:10]
    folder = cache / f"direct-{target}-g{GENERATOR_VERSION}-{key}"
    marker = folder / "complete.json"
    if marker.is_file():
        return {**json.loads(marker.read_text()), "index": str(folder), "cached": True}
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    store = Store(bench_settings(folder))
    _copy_real_rows(real, store)
    got = real.sentences.get(include=["documents", "embeddings", "metadatas"])
    rows = sorted(zip(got["ids"], got["documents"], got["embeddings"], got["metadatas"]))
    headings = sorted({t for _, t, _, m in rows if m.get("heading") and 3 <= len(t.split()) <= 14})
    generator = Generator([t for _, t, _, _ in rows], np.asarray([e for _, _, e, _ in rows], dtype=np.float32), headings)
    started = time.perf_counter()
    # The read cache: the real corpus as Chroma holds it, then each generated document's rows as
    # it is made (streamed: 300k chunks' rows would not fit in memory as Python objects).
    cache_ = ReadCache(store)
    base = cache_.sync()
    writer = _Writer(cache_.folder / "v-direct", list(base.vocabulary))
    for row in range(len(base.docs)):
        writer.add_kept(base, row)
    records, chunks, i = [], store.count(), 0
    while chunks < target:
        doc, origin, rng = generator.document(i)
        doc_chunks = chunk_document(doc)
        chunk_rows, sentence_rows, doc_vector = _rows(doc, doc_chunks, generator.vectors(doc_chunks, origin, rng))
        records.append((DocumentRecord(doc_id=doc.doc_id, source=doc.source, root="synthetic", title=doc.title,
                                       date=doc.date, author=doc.author, content_hash=doc.content_hash,
                                       chunks=len(doc_chunks)), doc.text, doc_vector))
        per_chunk: dict[str, list] = {}
        for m, t, v in zip(sentence_rows.metadatas, sentence_rows.texts, sentence_rows.vectors):
            per_chunk.setdefault(m["chunk_id"], []).append((m, t, v))
        meta = {"doc_id": doc.doc_id, "source": doc.source, "title": doc.title, "date": doc.date,
                "author": doc.author, "content_hash": doc.content_hash}
        writer.add_fetched(_Doc(meta, chunk_rows.ids, chunk_rows.metadatas, chunk_rows.texts, chunk_rows.vectors,
                                [per_chunk.get(cid, []) for cid in chunk_rows.ids]))
        chunks += len(doc_chunks)
        i += 1
        if i % 2000 == 0:
            log(f"  generating {target}-chunk index: {chunks} chunks")
    # Their document records (text and vector) go to Chroma, as ingest would write them.
    empty = Rows([], np.zeros((0, 0), np.float32), [], [])
    for j in range(0, len(records), 500):
        store.write_documents([PendingWrite(r, text, empty, empty, v) for r, text, v in records[j:j + 500]])
    manifest = writer.finish(store.fingerprint(), {d["doc_id"]: d["content_hash"] for d in writer.docs})
    (cache_.folder / "manifest.json").write_text(json.dumps(manifest))
    info = {"target": target, "chunks": manifest["chunks"], "sentence_rows": manifest["sentences"],
            "documents": len(manifest["docs"]), "complete": True, "vectors": "synthetic", "written": "direct",
            "build_seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(info))
    return {**info, "index": str(folder), "cached": False}


def worker(index: Path, queries: int, started: float) -> dict[str, Any]:
    """In a fresh process: the first answer, then warm latencies and peak memory."""
    from eval.bench.machine import peak_rss_mb
    from eval.bench.latency import _summary_ms
    from rag.pipeline import Briefing

    from rag.base.threads import one_blas_thread

    one_blas_thread()  # as the web app, the API and the MCP server run (rag.base.threads)
    questions = [q["question"] for q in gold_questions()]
    briefing = Briefing(bench_settings(index))
    briefing.ask(questions[0])
    first = time.time() - started  # from the interpreter's start: imports, index, model, answer
    load = os.getloadavg()[0]
    timings: dict[str, list[float]] = {"retrieve": [], "ask": []}
    half = len(questions) // 2
    for i in range(queries):
        # Different questions for the two calls: an ask right after its own retrieve would reuse
        # that question's analysis and chunk product and look faster than a user's ask.
        for name, call, q in (("retrieve", briefing.retrieve, questions[1 + i % (half - 1)]),
                              ("ask", briefing.ask, questions[half + i % (len(questions) - half)])):
            t = time.perf_counter()
            call(q)
            timings[name].append(time.perf_counter() - t)
    manifest = briefing.retriever.snapshot().corpus.manifest
    return {"first_answer_s": round(first, 2), **{k: _summary_ms(v) for k, v in timings.items()},
            "chunks": manifest["chunks"], "sentences": manifest["sentences"], "documents": len(manifest["docs"]),
            "peak_rss_mb": round(peak_rss_mb(), 1), "load_average_1m": [round(load, 2), round(os.getloadavg()[0], 2)]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--chroma-max", type=int, default=100000,
                        help="largest size written through Chroma (default 100000); larger ones are direct")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("BRIEFING_BENCH_CACHE") or Path.home() / ".cache" / "briefing-bench"))
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.queries, args.started)))
        return 0
    from eval.bench.embedding import ingest_corpus
    from eval.bench.synthetic import build_scale_index

    results = []
    with tempfile.TemporaryDirectory(prefix="briefing-bench-real-") as real:
        ingest_corpus(Path(real))
        for size in (int(s) for s in args.sizes.split(",") if s.strip()):
            log(f"scale: {size}-chunk index ...")
            built = (build_scale_index(size, args.cache, Path(real), None) if size <= args.chroma_max
                     else build_direct(size, args.cache, Path(real)))
            cmd = [sys.executable, "-m", "eval.bench.scale", "--worker", built["index"], "--queries",
                   str(args.queries), "--started", repr(time.time())]
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if done.returncode:
                log(done.stderr[-2000:])
                return 1
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["written"] = built.get("written", "chroma")
            results.append(result)
            log(f"  {json.dumps(result)}")
    print_curve(results)
    return 0


def print_curve(results: list[dict[str, Any]]) -> None:
    print("read path at size (offline extractive; synthetic vectors; each size in a fresh process)")
    print(f"{'chunks':>8} {'sentences':>10} {'docs':>6} {'written':>7} {'first answer s':>15} "
          f"{'retrieve p50/p95 ms':>20} {'ask p50/p95 ms':>16} {'peak RSS MB':>12} {'load':>12}")
    for r in results:
        print(f"{r['chunks']:>8} {r['sentences']:>10} {r['documents']:>6} {r['written']:>7} {r['first_answer_s']:>15} "
              f"{r['retrieve']['p50']:>9.1f}/{r['retrieve']['p95']:<9.1f} {r['ask']['p50']:>7.1f}/{r['ask']['p95']:<8.1f} "
              f"{r['peak_rss_mb']:>12} {str(r['load_average_1m']):>12}")
    for a, b in zip(results, results[1:]):
        grow = b["chunks"] / a["chunks"]
        print(f"  {a['chunks']} -> {b['chunks']} chunks (x{grow:.1f}): ask p95 x{b['ask']['p95'] / a['ask']['p95']:.2f}, "
              f"retrieve p95 x{b['retrieve']['p95'] / a['retrieve']['p95']:.2f}, RSS x{b['peak_rss_mb'] / a['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
