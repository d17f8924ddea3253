"""Ingest throughput on a real folder of documents nobody here wrote, against the model's own rate.

    python -m eval.bench.ingest_real [FOLDER] [--limit N] [--suffix .html] [--workers N]

Ingests FOLDER (default: the Python HTML docs, /usr/share/doc/python3.11/html, from Debian's
python3.11-doc) into a temporary index and prints documents, chunks, distinct sentences, wall
time, chunks/s; then, in the same run and process, the model's own rate on exactly the sentences
ingest embedded (each document's distinct sentences: chunk vectors are means of sentence
vectors), with its default threads and batch size; the ratio of the two; the CPU cores ingest
kept busy on average (CPU time of this process and its worker processes / wall time); and the
load average before and after (the machine may be shared: read the figures with it).

--limit N ingests an evenly spaced sample of N files, so a quick run sees the same mix of pages
as the full one. --suffix takes only files ending so (repeatable). By default that is every
supported file, except in a Sphinx HTML build such as the Python docs (530 pages), which also
ships each page's reST source in _sources/*.txt: there only the .html pages are taken. A
selection is copied, with its folders, to a temporary folder. --workers sets ingest_workers
(1 = the serial path). The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench.common import bench_settings, log

DEFAULT_FOLDER = Path("/usr/share/doc/python3.11/html")


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the workers end with ingest)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _sample(folder: Path, limit: int | None, suffixes: list[str], into: Path) -> Path:
    """`folder` itself, or a copy of the files ending in `suffixes`, `limit` of them spread
    evenly over the sorted list."""
    from ingest.load import scan

    every = [path for _, path in scan([folder])[0]]
    files = [path for path in every if not suffixes or path.name.lower().endswith(tuple(suffixes))]
    if not limit or limit >= len(files):
        if len(files) == len(every):
            return folder
        limit = len(files)
    step = len(files) / limit
    target = into / "documents"
    for path in (files[int(i * step)] for i in range(limit)):
        copy = target / path.relative_to(folder)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    return target


def _distinct_sentences(folder: Path, settings) -> list[str]:
    """What ingest embeds: each document's distinct sentences, loaded and chunked the same way."""
    from ingest.chunk import chunk_document
    from ingest.load import LoadError, load_document, scan

    sentences: list[str] = []
    for root, path in scan([folder])[0]:
        try:
            doc = load_document(root, path, settings.max_document_mb)
        except (LoadError, OSError):
            continue  # ingest reported it and embedded nothing of it
        chunks = chunk_document(doc, settings.chunk_words, settings.chunk_overlap_sentences)
        sentences += list({(u.start, u.end): u.text for c in chunks for u in c.units}.values())
    return sentences


def run(folder: Path, limit: int | None, suffixes: list[str], workers: int) -> dict[str, Any]:
    from ingest.index import ingest
    from ingest.pipeline import worker_count

    with tempfile.TemporaryDirectory(prefix="briefing-ingest-real-") as tmp:
        tmp_path = Path(tmp)
        documents = _sample(folder, limit, suffixes, tmp_path)
        settings = bench_settings(tmp_path / "index", ingest_workers=workers)
        load_before = [round(x, 2) for x in os.getloadavg()]
        log(f"ingesting {documents} with {worker_count(settings)} worker(s); load average {load_before}")
        cpu0, started = _cpu_seconds(), time.perf_counter()
        report = ingest([documents], settings, log=log)
        wall = time.perf_counter() - started
        cores = (_cpu_seconds() - cpu0) / wall
        load_after = [round(x, 2) for x in os.getloadavg()]
        log(report.summary())

        sentences = _distinct_sentences(documents, settings)
        from ingest.embed import load_embedder

        embedder = load_embedder(settings.embed_model)
        embedder.embed(sentences[:8], batch_size=settings.embed_batch_size)  # warm-up
        log(f"embedding the same {len(sentences)} sentences in one process (default threads)")
        model_started = time.perf_counter()
        embedder.embed(sentences, batch_size=settings.embed_batch_size)
        model_seconds = time.perf_counter() - model_started
        load_model = [round(x, 2) for x in os.getloadavg()]

    chunks = report.chunks_written
    model_chunks_per_s = chunks / model_seconds
    return {
        "folder": str(folder),
        "limit": limit,
        "suffixes": suffixes,
        "ingest_workers": worker_count(settings),
        "documents": len(report.added),
        "failed": len(report.failed),
        "chunks": chunks,
        "distinct_sentences": len(sentences),
        "wall_s": round(wall, 1),
        "chunks_per_s": round(chunks / wall, 2),
        "sentences_per_s": round(len(sentences) / wall, 1),
        "model_s": round(model_seconds, 1),
        "model_sentences_per_s": round(len(sentences) / model_seconds, 1),
        "model_chunks_per_s": round(model_chunks_per_s, 2),
        "ratio_ingest_to_model": round(chunks / wall / model_chunks_per_s, 3),
        "cores_busy": round(cores, 2),
        "load_average_before": load_before,
        "load_average_after_ingest": load_after,
        "load_average_after_model": load_model,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.ingest_real", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, help=f"documents to ingest (default {DEFAULT_FOLDER})")
    parser.add_argument("--limit", type=int, help="ingest an evenly spaced sample of this many files")
    parser.add_argument("--suffix", action="append", default=None,
                        help="only files ending so, e.g. .html (repeatable; default: .html for a Sphinx build)")
    parser.add_argument("--workers", type=int, default=0, help="ingest_workers (0 = one per core, 1 = serial)")
    args = parser.parse_args(argv)
    folder = args.folder or DEFAULT_FOLDER
    if not folder.is_dir():
        hint = ("pass a folder of documents" if args.folder else
                f"{DEFAULT_FOLDER} is not here (Debian: apt-get install python3.11-doc); pass a folder of documents")
        print(f"ingest_real: {folder} is not a folder: {hint}", file=sys.stderr)
        return 2
    # A Sphinx HTML build (the Python docs are one) also ships each page's reST source in _sources/.
    sphinx = (folder / "_sources").is_dir()
    suffixes = [s.lower() for s in args.suffix] if args.suffix else ([".html"] if sphinx else [])
    result = run(folder, args.limit, suffixes, args.workers)
    for key, value in result.items():
        print(f"{key:28s} {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
