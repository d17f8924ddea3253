"""Scale indexes for the latency benchmark: the real corpus (real vectors) plus generated
documents (real corpus sentences recombined, names, places and numbers varied, chunked by the real
chunker) whose vectors are SYNTHETIC (each sentence vector mixes the real vector of the sentence it
came from with another real sentence vector and noise, then is normalised). Built once per size
and cached (BRIEFING_BENCH_CACHE); an unfinished build resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import bench_settings, log

GENERATOR_VERSION = 2

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
    from ingest.pipeline import _rows
    from ingest.readcache import ReadCache
    from ingest.store import DocumentRecord, PendingWrite, Store

    real = Store(bench_settings(real_dir))
    corpus_key = hashlib.sha256("".join(sorted(r.content_hash for r in real.document_records())).encode()).hexdigest()[:10]
    folder = cache / f"scale-{target}-g{GENERATOR_VERSION}-{corpus_key}"
    marker = folder / "complete.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        store = Store(bench_settings(folder))
        if not (store.client.get_collection(f"{store.settings.collection}-documents").metadata or {}).get("generation"):
            store._bump_generation()  # built before generation stamps: give it one (retrieval reads it)
        ReadCache(store).sync()  # built before the read cache existed: make it once, as ingest would
        return {**info, "index": str(folder), "cached": True}
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(bench_settings(folder))
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
    cache_started = time.perf_counter()
    ReadCache(store).sync()  # as ingest does after writing: the first question then opens it
    info = {"target": target, "chunks": store.count(), "sentence_rows": store.sentences.count(),
            "documents": len(store.document_records()), "complete": True,
            "build_seconds": round(state["seconds"] + time.perf_counter() - started, 1), "vectors": "synthetic",
            "read_cache_seconds": round(time.perf_counter() - cache_started, 1)}
    marker.write_text(json.dumps(info))
    return {**info, "index": str(folder), "cached": False}
