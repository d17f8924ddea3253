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
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold.jsonl"
DEFAULT_OUT = ROOT / "eval" / "out" / "bench.json"
DEFAULT_SIZES = (1000, 10000, 100000)
GENERATOR_VERSION = 2
TOP_K = 8


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: Linux carries
    ru_maxrss over fork+exec, so a worker would report its parent's peak if that was higher."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50": round(_pct(ms, 0.5), 2), "p95": round(_pct(ms, 0.95), 2), "mean": round(statistics.fmean(ms), 2),
            "n": len(ms)}


def _settings(data_dir: Path, **extra):
    from rag.base.settings import Settings

    return Settings(data_dir=data_dir, corpus=CORPUS, answer_mode="extractive", openai_api_key="",
                    openai_base_url="", chroma_host="", **extra)


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    mem_gb = 0.0
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        pass
    import chromadb

    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "chromadb": chromadb.__version__,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


# --------------------------------------------------------------------------- real corpus


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


def bench_ingest(data_dir: Path, raw: dict[str, Any], sentences_per_corpus: int) -> dict[str, Any]:
    from ingest.index import ingest
    from ingest.store import Store

    settings = _settings(data_dir)
    report = ingest([CORPUS], settings, progress=False, log=lambda m: None)
    if not report.ok:
        raise SystemExit(f"bench: ingesting the corpus failed:\n{report.summary()}")
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


# --------------------------------------------------------------------------- ranking quality


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


def gold_questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


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


def bench_quality(data_dir: Path, limit: int | None = None) -> dict[str, Any]:
    from rag.pipeline import Briefing

    briefing = Briefing(_settings(data_dir))
    baseline = LlamaBaseline(briefing.store, briefing.embedder)
    questions = [q for q in gold_questions() if q.get("answerable") and q.get("sources")][:limit]
    scores = {"briefing_retrieve": [0, 0], "llama_index": [0, 0]}
    for q in questions:
        ours = briefing.retrieve(q["question"], k=TOP_K)[:5]
        theirs = baseline.retrieve(q["question"])[:5]
        for name, hits in (("briefing_retrieve", [(p.source, p.text) for p in ours]), ("llama_index", theirs)):
            scores[name][0] += any(src in q["sources"] for src, _ in hits)
            scores[name][1] += _evidence_in(q.get("evidence") or [], [text for _, text in hits])
    n = len(questions)
    return {"questions": n, **{name: {"source_hit@5": round(s / n, 3), "evidence_hit@5": round(e / n, 3)}
                               for name, (s, e) in scores.items()}}


# --------------------------------------------------------------------------- synthetic corpora

_SURNAMES = ["Abe", "Kim", "Park", "Tanaka", "Suzuki", "Sato", "Lee", "Jung", "Yamamoto", "Nakamura", "Han",
             "Cho", "Kang", "Yoon", "Ito", "Watanabe", "Kobayashi", "Moon", "Shin", "Hayashi", "Mori", "Baek",
             "Okada", "Ishikawa", "Ryu", "Seo", "Fujita", "Hwang", "Oh", "Matsuda", "Miller", "Garcia", "Novak",
             "Singh", "Dubois", "Rossi", "Schmidt", "Kowalski", "Santos", "Nguyen"]
_GIVEN = ["Aiko", "Minho", "Haruto", "Jisoo", "Kenji", "Seoyeon", "Yuki", "Daniel", "Maria", "Hana", "Taro",
          "Eunji", "Sophie", "Ravi", "Lena", "Paolo", "Mei", "Jonas", "Ana", "Hiroshi"]
_PLACES = ["Japan", "South Korea", "Australia", "India", "the Philippines", "Vietnam", "Indonesia", "Canada",
           "Germany", "France", "the United Kingdom", "Taiwan", "Singapore", "New Zealand", "Poland", "Brazil"]
_SWAP_NAMES = re.compile(r"\b(Takaichi|Kishida|Ishiba|Trump|Lee Jae-myung|Choi Eunmi|Choi|Tokuchi|Xi Jinping|Yoshida|Abe|Koizumi)\b")
_SWAP_PLACES = re.compile(r"\b(Japan|South Korea|Korea|China|Russia|North Korea|Seoul|Tokyo|Beijing|Washington)\b")
_NUMBER = re.compile(r"\d+")


def _vary(sentence: str, rng: random.Random) -> str:
    sentence = _SWAP_NAMES.sub(lambda m: rng.choice(_SURNAMES), sentence)
    sentence = _SWAP_PLACES.sub(lambda m: rng.choice(_PLACES), sentence)
    return _NUMBER.sub(lambda m: str(rng.randrange(10 ** (len(m.group()) - 1) if len(m.group()) > 1 else 0,
                                                  10 ** len(m.group()))), sentence)


class Generator:
    """Deterministic synthetic documents (doc i is the same on every run) with synthetic vectors."""

    def __init__(self, pool_texts: list[str], pool_vectors: np.ndarray, headings: list[str]):
        self.pool_texts = pool_texts
        self.pool_vectors = pool_vectors
        self.headings = headings or ["Background"]

    def document(self, i: int):
        from ingest.load import LoadedDocument, doc_id_for

        rng = random.Random(f"briefing-bench-{GENERATOR_VERSION}-{i}")
        source = f"synthetic/brief-{i:06d}.txt"
        lines, origin = [], {}
        title = _vary(rng.choice(self.headings), rng)
        author = f"{rng.choice(_GIVEN)} {rng.choice(_SURNAMES)}"
        date = f"{rng.randint(2015, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        lines += [title, f"By {author}", date]
        target_sentences = rng.randint(25, 110)  # ~4-16 chunks of ~180 words
        written = 0
        while written < target_sentences:
            if rng.random() < 0.15:
                lines.append(_vary(rng.choice(self.headings), rng))
            paragraph = []
            for _ in range(rng.randint(2, 6)):
                k = rng.randrange(len(self.pool_texts))
                sentence = _vary(self.pool_texts[k], rng)
                origin[sentence] = k
                paragraph.append(sentence)
            written += len(paragraph)
            lines.append(" ".join(paragraph))
        text = "\n\n".join(lines) + "\n"
        doc = LoadedDocument(doc_id=doc_id_for(source), source=source, path=Path(source), root=Path("synthetic"),
                             text=text, title=title, date=date, author=author,
                             content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest())
        return doc, origin, rng

    def vectors(self, chunks, origin: dict[str, int], rng: random.Random) -> dict[tuple[int, int], np.ndarray]:
        n = len(self.pool_texts)
        out = {}
        nprng = np.random.default_rng(rng.randrange(2**32))
        for unit in {(u.start, u.end): u for c in chunks for u in c.units}.values():
            base = self.pool_vectors[origin.get(unit.text, rng.randrange(n))]
            other = self.pool_vectors[rng.randrange(n)]
            v = 0.75 * base + 0.25 * other + nprng.normal(0, 0.02, base.shape).astype(np.float32)
            out[(unit.start, unit.end)] = (v / np.linalg.norm(v)).astype(np.float32)
        return out


def _copy_real_rows(src_store, dst_store) -> None:
    """The real corpus's rows (real vectors) into a scale index, so questions find real answers."""
    for kind in ("sentences", "chunks", "documents"):
        got = getattr(src_store, kind).get(include=["embeddings", "documents", "metadatas"])
        collection = getattr(dst_store, kind)
        for i in range(0, len(got["ids"]), 5000):
            collection.upsert(ids=got["ids"][i:i + 5000], embeddings=np.asarray(got["embeddings"][i:i + 5000]),
                              documents=got["documents"][i:i + 5000], metadatas=got["metadatas"][i:i + 5000])


def build_scale_index(target: int, cache: Path, real_dir: Path, budget: float | None) -> dict[str, Any]:
    """An index of about `target` chunks (real corpus + synthetic), built once and cached;
    an unfinished build (budget spent, or killed) resumes where it stopped."""
    from ingest.chunk import chunk_document
    from ingest.index import _rows
    from ingest.store import DocumentRecord, PendingWrite, Store

    real = Store(_settings(real_dir))
    corpus_key = hashlib.sha256("".join(sorted(r.content_hash for r in real.document_records())).encode()).hexdigest()[:10]
    folder = cache / f"scale-{target}-g{GENERATOR_VERSION}-{corpus_key}"
    marker = folder / "complete.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        store = Store(_settings(folder))
        if not (store.client.get_collection(f"{store.settings.collection}-documents").metadata or {}).get("generation"):
            store._bump_generation()  # built before generation stamps: give it one (retrieval reads it)
        return {**info, "index": str(folder), "cached": True}
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(_settings(folder))
    progress_file = folder / "progress.json"
    state = json.loads(progress_file.read_text()) if progress_file.is_file() else {"next_doc": 0, "seconds": 0.0}
    if store.count() == 0 or state["next_doc"] == 0:
        _copy_real_rows(real, store)
    got = real.sentences.get(include=["documents", "embeddings", "metadatas"])
    rows = sorted(zip(got["ids"], got["documents"], got["embeddings"], got["metadatas"]))  # Chroma's order varies
    headings = sorted({t for _, t, _, m in rows if m.get("heading") and 3 <= len(t.split()) <= 14})
    generator = Generator([t for _, t, _, _ in rows], np.asarray([e for _, _, e, _ in rows], dtype=np.float32), headings)

    started = time.perf_counter()
    chunks = initial = store.count()
    i = state["next_doc"]
    last_log = started
    while chunks < target:
        items, rows = [], 0
        while chunks < target and rows < 4500:
            doc, origin, rng = generator.document(i)
            doc_chunks = chunk_document(doc)
            chunk_rows, sentence_rows, doc_vector = _rows(doc, doc_chunks, generator.vectors(doc_chunks, origin, rng))
            record = DocumentRecord(doc_id=doc.doc_id, source=doc.source, root="synthetic", title=doc.title,
                                    date=doc.date, author=doc.author, content_hash=doc.content_hash,
                                    chunks=len(doc_chunks))
            items.append(PendingWrite(record, doc.text, chunk_rows, sentence_rows, doc_vector, None))
            rows += len(sentence_rows.ids)
            chunks += len(doc_chunks)
            i += 1
        store.write_documents(items)
        elapsed = time.perf_counter() - started
        progress_file.write_text(json.dumps({"next_doc": i, "seconds": state["seconds"] + elapsed}))
        if time.perf_counter() - last_log > 15:
            rate = (chunks - initial) / max(elapsed, 1e-9)
            log(f"  building {target}-chunk index: {chunks} chunks ({rate:.0f} chunks/s this run)")
            last_log = time.perf_counter()
        if budget is not None and elapsed > budget and chunks < target:
            return {"target": target, "chunks": store.count(), "sentence_rows": store.sentences.count(),
                    "complete": False, "index": str(folder), "cached": False,
                    "build_seconds": round(state["seconds"] + elapsed, 1)}
    info = {"target": target, "chunks": store.count(), "sentence_rows": store.sentences.count(),
            "documents": len(store.document_records()), "complete": True,
            "build_seconds": round(state["seconds"] + time.perf_counter() - started, 1), "vectors": "synthetic"}
    marker.write_text(json.dumps(info))
    return {**info, "index": str(folder), "cached": False}


# --------------------------------------------------------------------------- latency worker


def latency_worker(index: Path, queries: int) -> dict[str, Any]:
    """Runs in its own process: warm retrieve()/ask()/llama-index latency and peak memory."""
    from rag.pipeline import Briefing

    questions = [q["question"] for q in gold_questions()]
    picked = [questions[i % len(questions)] for i in range(queries)]
    briefing = Briefing(_settings(index))
    started = time.perf_counter()
    briefing.retrieve(picked[0])  # loads model, opens the index, builds BM25
    first_s = time.perf_counter() - started
    for q in picked[:3]:
        briefing.ask(q)
    baseline = LlamaBaseline(briefing.store, briefing.embedder)
    for q in picked[:3]:
        baseline.retrieve(q)
    calls = {"retrieve": briefing.retrieve, "ask": briefing.ask, "llama_index_retrieve": baseline.retrieve}
    timings: dict[str, list[float]] = {name: [] for name in calls}
    load_start = os.getloadavg()[0]
    for i, q in enumerate(picked):
        # Interleaved, in rotating order: a burst of load from other processes hits all three alike.
        names = list(calls)
        for name in names[i % 3:] + names[: i % 3]:
            t = time.perf_counter()
            calls[name](q)
            timings[name].append(time.perf_counter() - t)
    out = {name: _summary_ms(values) for name, values in timings.items()}
    out["retrieve_vs_llama_index_p50"] = round(out["retrieve"]["p50"] / out["llama_index_retrieve"]["p50"], 2)
    out["first_retrieve_s"] = round(first_s, 3)
    out["chunks"] = briefing.store.count()
    out["sentence_rows"] = briefing.store.sentences.count()
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out["load_average_1m"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    return out


def run_worker(index: Path, queries: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "eval.bench", "--worker", str(index), "--queries", str(queries)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def _fmt(v: Any, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return f"{v:g}{unit}" if isinstance(v, (int, float)) else str(v)


def render(result: dict[str, Any]) -> str:
    m, e = result["machine"], result["embedding"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['os']}, Python {m['python']}, "
             f"chromadb {m['chromadb']} (load average at start {m['load_average_start']}, end {m.get('load_average_end')})",
             "", "Embedding throughput (all-MiniLM-L6-v2, real corpus):"]
    for name, label in (("numpy", "numpy embedder"), ("sentence_transformers", "sentence-transformers")):
        r = e.get(name, {})
        if "skipped" in r:
            lines.append(f"  {label:24s} skipped ({r['skipped']})")
        else:
            lines.append(f"  {label:24s} {r['chunk_texts']['per_s']:8.2f} chunks/s (chunk texts)  "
                         f"{r['sentences']['per_s']:8.2f} sentences/s  (model load {r['model_load_s']} s)")
    ing, re_ = result["ingest"], result["reingest_unchanged"]
    lines += ["", f"Ingest end to end: {ing['chunks']} chunks ({ing['distinct_sentences_embedded']} sentences embedded) "
              f"in {ing['seconds']} s = {ing['chunks_per_s']} chunks/s; ratio to raw chunk embedding "
              f"{ing['ratio_to_raw_chunk_embedding']}, to the model-only rate of its own work "
              f"({ing['model_only_chunks_per_s']} chunks/s) {ing['ratio_to_model_only']}",
              f"Re-ingest of the unchanged corpus: {re_['seconds'] * 1000:.1f} ms ({re_['chunks_written']} chunks written)"]
    q = result.get("quality")
    if q:
        lines += ["", f"Ranking quality on eval/gold.jsonl ({q['questions']} answerable questions, real corpus):",
                  f"  retrieve()          source hit@5 {q['briefing_retrieve']['source_hit@5']:.3f}   "
                  f"evidence hit@5 {q['briefing_retrieve']['evidence_hit@5']:.3f}",
                  f"  llama-index dense   source hit@5 {q['llama_index']['source_hit@5']:.3f}   "
                  f"evidence hit@5 {q['llama_index']['evidence_hit@5']:.3f}"]
    lines += ["", "Warm latency (ms, p50/p95) and peak memory per size (own process each):",
              f"  {'index':>22s} {'chunks':>7s} {'sentences':>9s} {'retrieve()':>14s} {'ask()':>14s} "
              f"{'llama-index':>14s} {'ratio':>6s} {'peak MB':>8s} {'cold s':>7s}"]
    for s in result["scales"]:
        lat = s.get("latency", {})
        label = s["label"]
        if "error" in lat or not lat:
            lines.append(f"  {label:>22s} {_fmt(s.get('chunks')):>7s}  {lat.get('error', 'not measured')[:200]}")
            continue
        cell = lambda k: f"{lat[k]['p50']:.1f}/{lat[k]['p95']:.1f}"  # noqa: E731
        lines.append(f"  {label:>22s} {lat['chunks']:>7d} {lat['sentence_rows']:>9d} {cell('retrieve'):>14s} "
                     f"{cell('ask'):>14s} {cell('llama_index_retrieve'):>14s} "
                     f"{lat['retrieve_vs_llama_index_p50']:>6.2f} {lat['peak_rss_mb']:>8.0f} "
                     f"{lat['first_retrieve_s']:>7.1f}")
    lines += ["", *[f"Note: {n}" for n in result["notes"]]]
    return "\n".join(lines)


def build_only(sizes: list[int], cache: Path, budget: float | None) -> int:
    from ingest.index import ingest

    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as work:
        real_dir = Path(work) / "real"
        report = ingest([CORPUS], _settings(real_dir), progress=False, log=lambda m: None)
        if not report.ok:
            raise SystemExit(f"bench: ingesting the corpus failed:\n{report.summary()}")
        for size in sizes:
            log(f"bench: {size}-chunk index ...")
            built = build_scale_index(size, cache, real_dir, budget)
            log(f"  {json.dumps(built)}")
    return 0


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(latency_worker(args.worker, args.queries or 40)))
        return 0

    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.build_only:
        return build_only(sizes, args.cache, args.build_budget)
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
        result["notes"].append("--quick: embedding rates on 4 chunks / 32 sentences, ranking quality on 12 "
                               "questions, no sentence-transformers: a smoke test, not figures to quote.")
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

    result["notes"] += [
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
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mb_main"] = round(peak_rss_mb(), 1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(render(result))
    print(f"\nWrote {args.out} in {result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
