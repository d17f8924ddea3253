"""A local, memory-mapped copy of what retrieval reads, kept in step with the index document by
document: chunk and sentence texts, vectors and positions, and the keyword index's term counts.

Why: reading every row back from Chroma and re-tokenizing every chunk in each process made the
first question after start take seconds to minutes at 100k chunks, and holding sentence rows as
Python objects took gigabytes. Here a process opens a few files (`np.memmap`) in milliseconds,
and only pages it touches count against its memory.

    <data_dir>/readcache/<index>/manifest.json   the current version: its folder, the index
                                                  generation it matches, every document's hash
    <data_dir>/readcache/<index>/v-<id>/          one version's files (raw little-endian arrays,
                                                  shapes in the manifest)

`sync(store)` brings the cache up to date: documents whose content hash is unchanged are copied
from the current version, only new or changed documents are read from Chroma, removed ones are
left out. A new version is written beside the old and the manifest switched atomically, so a
crash leaves the previous version usable and readers of it keep working. One process syncs at a
time (a file lock); the others wait and open the result. Ingest syncs after writing; a process
reading a Chroma server another machine writes syncs its own copy when the index changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ingest.store import Store
from rag.base.text import terms

FORMAT = 1
_DOCS_PER_FETCH = 50  # documents whose rows are read from Chroma in one request
_KEEP_OLD_SECONDS = 120  # an old version stays on disk this long for processes still opening it

# name -> dtype of each per-row array (`chunk_*` one per chunk, `sent_*` one per sentence)
_COLUMNS = {
    "chunk_doc": np.int32, "chunk_start": np.int32, "chunk_end": np.int32, "chunk_index": np.int32,
    "chunk_page": np.int32, "chunk_text_end": np.int64, "chunk_sent_end": np.int64, "chunk_len": np.float32,
    "chunk_tok_end": np.int64, "tok_id": np.int32, "tok_tf": np.float32,
    "sent_start": np.int32, "sent_end": np.int32, "sent_heading": np.bool_, "sent_text_end": np.int64,
}
_VECTORS = ("chunk_vectors", "sent_vectors")
_BLOBS = ("chunk_text", "sent_text")


def cache_folder(store: Store) -> Path:
    s = store.settings
    where = f"{s.chroma_host}-{s.chroma_port}-{s.collection}" if s.chroma_host else s.collection
    return Path(s.data_dir) / "readcache" / where.replace("/", "_").replace(":", "_")


@dataclass
class _Doc:
    """One document's rows in the order they are written: chunks by position, each chunk's
    sentences by position."""

    meta: dict[str, Any]
    chunk_ids: list[str]
    chunk_meta: list[dict[str, Any]]
    chunk_texts: list[str]
    chunk_vectors: np.ndarray
    sentences: list[list[tuple[dict[str, Any], str, np.ndarray]]]  # per chunk: (meta, text, vector)


class _Writer:
    """Appends documents' rows to a new version's files; `finish` writes the postings."""

    def __init__(self, folder: Path, vocabulary: list[str]):
        self.folder = folder
        folder.mkdir(parents=True)
        self.files = {name: open(folder / f"{name}.bin", "wb") for name in (*_COLUMNS, *_VECTORS, *_BLOBS)}
        self.counts = {"chunks": 0, "sentences": 0, "tokens": 0, "chunk_text": 0, "sent_text": 0}
        self.docs: list[dict[str, Any]] = []
        self.chunk_ids: list[str] = []
        self.vocabulary = vocabulary  # append-only: ids stay valid from version to version
        self.term_id = {t: i for i, t in enumerate(vocabulary)}
        self.dim = 0

    def _put(self, name: str, values) -> None:
        self.files[name].write(np.ascontiguousarray(values, dtype=_COLUMNS[name]).tobytes())

    def _vectors(self, name: str, matrix: np.ndarray) -> None:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if len(matrix):
            self.dim = matrix.shape[1]
        self.files[name].write(matrix.tobytes())

    def _text(self, name: str, texts: list[str]) -> list[int]:
        ends = []
        for text in texts:
            data = text.encode("utf-8")
            self.files[name].write(data)
            self.counts[name] += len(data)
            ends.append(self.counts[name])
        return ends

    def add_fetched(self, doc: _Doc) -> None:
        doc_row = len(self.docs)
        self.docs.append(doc.meta)
        self.chunk_ids += doc.chunk_ids
        self._put("chunk_doc", [doc_row] * len(doc.chunk_ids))
        for key in ("start", "end", "index", "page"):
            self._put(f"chunk_{key}", [int(m.get(key) or 0) for m in doc.chunk_meta])
        self._put("chunk_text_end", self._text("chunk_text", doc.chunk_texts))
        self._vectors("chunk_vectors", doc.chunk_vectors)
        sent_ends, lengths, tok_ends = [], [], []
        for sentences in doc.sentences:
            self.counts["sentences"] += len(sentences)
            sent_ends.append(self.counts["sentences"])
            self._put("sent_start", [int(m["start"]) for m, _, _ in sentences])
            self._put("sent_end", [int(m["end"]) for m, _, _ in sentences])
            self._put("sent_heading", [bool(m.get("heading")) for m, _, _ in sentences])
            self._put("sent_text_end", self._text("sent_text", [t for _, t, _ in sentences]))
            if sentences:
                self._vectors("sent_vectors", np.stack([v for _, _, v in sentences]))
        for text in doc.chunk_texts:
            # The keyword index's tokens, as rag.bm25 always made them (an empty chunk still
            # counts one token, so document lengths never divide by zero).
            tokens = terms(text) or ["\x00"]
            counts: dict[int, int] = {}
            for token in tokens:
                if token not in self.term_id:
                    self.term_id[token] = len(self.vocabulary)
                    self.vocabulary.append(token)
                counts[self.term_id[token]] = counts.get(self.term_id[token], 0) + 1
            self._put("tok_id", list(counts))
            self._put("tok_tf", list(counts.values()))
            self.counts["tokens"] += len(counts)
            tok_ends.append(self.counts["tokens"])
            lengths.append(len(tokens))
        self._put("chunk_sent_end", sent_ends)
        self._put("chunk_len", lengths)
        self._put("chunk_tok_end", tok_ends)
        self.counts["chunks"] += len(doc.chunk_ids)

    def add_kept(self, old: "CachedCorpus", doc_row: int) -> None:
        """A document unchanged since `old`: its rows copied as they are."""
        c0, c1 = int(old.doc_chunks[doc_row]), int(old.doc_chunks[doc_row + 1])
        s0, s1 = old.sent_range(c0)[0], old.sent_range(c1 - 1)[1] if c1 > c0 else old.sent_range(c0)[0]
        t0 = int(old.arrays["chunk_tok_end"][c0 - 1]) if c0 else 0
        t1 = int(old.arrays["chunk_tok_end"][c1 - 1]) if c1 > c0 else t0
        new_row = len(self.docs)
        self.docs.append(old.docs[doc_row])
        self.chunk_ids += old.chunk_ids[c0:c1]
        a = old.arrays
        self._put("chunk_doc", np.full(c1 - c0, new_row))
        for key in ("start", "end", "index", "page", "len"):
            self._put(f"chunk_{key}", a[f"chunk_{key}"][c0:c1])
        text0 = int(a["chunk_text_end"][c0 - 1]) if c0 else 0
        self._put("chunk_text_end", a["chunk_text_end"][c0:c1] - text0 + self.counts["chunk_text"])
        self._copy_blob("chunk_text", old, text0, int(a["chunk_text_end"][c1 - 1]) if c1 > c0 else text0)
        self._put("chunk_sent_end", a["chunk_sent_end"][c0:c1] - s0 + self.counts["sentences"])
        self._put("chunk_tok_end", a["chunk_tok_end"][c0:c1] - t0 + self.counts["tokens"])
        self._put("tok_id", a["tok_id"][t0:t1])
        self._put("tok_tf", a["tok_tf"][t0:t1])
        self._vectors("chunk_vectors", old.chunk_vectors[c0:c1])
        for key in ("start", "end", "heading"):
            self._put(f"sent_{key}", a[f"sent_{key}"][s0:s1])
        st0 = int(a["sent_text_end"][s0 - 1]) if s0 else 0
        st1 = int(a["sent_text_end"][s1 - 1]) if s1 > s0 else st0
        self._put("sent_text_end", a["sent_text_end"][s0:s1] - st0 + self.counts["sent_text"])
        self._copy_blob("sent_text", old, st0, st1)
        self._vectors("sent_vectors", old.sent_vectors[s0:s1])
        self.counts["chunks"] += c1 - c0
        self.counts["sentences"] += s1 - s0
        self.counts["tokens"] += t1 - t0

    def _copy_blob(self, name: str, old: "CachedCorpus", a: int, b: int) -> None:
        self.files[name].write(old.blobs[name][a:b].tobytes())
        self.counts[name] += b - a

    def finish(self, generation: str, hashes: dict[str, str]) -> dict[str, Any]:
        for f in self.files.values():
            f.close()
        n, dim = self.counts["chunks"], self.dim
        tok_end = np.fromfile(self.folder / "chunk_tok_end.bin", dtype=np.int64)
        tok_id = np.fromfile(self.folder / "tok_id.bin", dtype=np.int32)
        tok_tf = np.fromfile(self.folder / "tok_tf.bin", dtype=np.float32)
        # Postings (term -> chunk rows), the transpose of the per-chunk counts: what a query reads.
        rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(np.concatenate([[0], tok_end])))
        order = np.argsort(tok_id, kind="stable")
        np.ascontiguousarray(rows[order]).tofile(self.folder / "post_row.bin")
        np.ascontiguousarray(tok_tf[order]).tofile(self.folder / "post_tf.bin")
        term_end = np.cumsum(np.bincount(tok_id, minlength=len(self.vocabulary))).astype(np.int64)
        term_end.tofile(self.folder / "term_end.bin")
        (self.folder / "docs.json").write_text(json.dumps(self.docs, ensure_ascii=False))
        (self.folder / "chunk_ids.json").write_text(json.dumps(self.chunk_ids))
        (self.folder / "vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False))
        return {"format": FORMAT, "version": self.folder.name, "generation": generation, "docs": hashes,
                "chunks": n, "sentences": self.counts["sentences"], "tokens": self.counts["tokens"],
                "dim": dim, "terms": len(self.vocabulary), "written": time.time()}


class CachedCorpus:
    """One version of the cache, opened read-only (memory-mapped)."""

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest
        n, m, dim = manifest["chunks"], manifest["sentences"], manifest["dim"]

        def mapped(name: str, dtype, shape) -> np.ndarray:
            if not int(np.prod(shape)):
                return np.zeros(shape, dtype=dtype)
            return np.memmap(folder / f"{name}.bin", dtype=dtype, mode="r", shape=shape)

        sizes = {"chunk": n, "sent": m, "tok": manifest["tokens"]}
        self.arrays = {name: mapped(name, dtype, (sizes[name.split("_")[0]],)) for name, dtype in _COLUMNS.items()}
        self.arrays["post_row"] = mapped("post_row", np.int32, (manifest["tokens"],))
        self.arrays["post_tf"] = mapped("post_tf", np.float32, (manifest["tokens"],))
        self.arrays["term_end"] = mapped("term_end", np.int64, (manifest["terms"],))
        self.chunk_vectors = mapped("chunk_vectors", np.float32, (n, dim))
        self.sent_vectors = mapped("sent_vectors", np.float32, (m, dim))
        self.blobs = {name: np.memmap(folder / f"{name}.bin", dtype=np.uint8, mode="r")
                      if (folder / f"{name}.bin").stat().st_size else np.zeros(0, np.uint8) for name in _BLOBS}
        # Texts are sliced from the bytes of the map (a memmap slice costs a Python object each),
        # their end offsets read once into plain arrays (8 bytes a row).
        self._bytes = {name: memoryview(blob) if len(blob) else memoryview(b"") for name, blob in self.blobs.items()}
        self._ends = {"chunk_text": np.asarray(self.arrays["chunk_text_end"]),
                      "sent_text": np.asarray(self.arrays["sent_text_end"])}
        self.docs: list[dict[str, Any]] = json.loads((folder / "docs.json").read_text())
        self.chunk_ids: list[str] = json.loads((folder / "chunk_ids.json").read_text())
        self.vocabulary: list[str] = json.loads((folder / "vocabulary.json").read_text())
        doc_of = np.asarray(self.arrays["chunk_doc"])
        self.doc_chunks = np.searchsorted(doc_of, np.arange(len(self.docs) + 1)).astype(np.int64)

    @property
    def generation(self) -> str:
        return self.manifest["generation"]

    def sent_range(self, chunk_row: int) -> tuple[int, int]:
        ends = self.arrays["chunk_sent_end"]
        return (int(ends[chunk_row - 1]) if chunk_row else 0), int(ends[chunk_row])

    def text(self, blob: str, row: int) -> str:
        ends = self._ends[blob]
        a = int(ends[row - 1]) if row else 0
        return bytes(self._bytes[blob][a:int(ends[row])]).decode("utf-8")


class ReadCache:
    def __init__(self, store: Store, folder: Path | None = None):
        self.store = store
        self.folder = folder or cache_folder(store)
        self.fetched_docs = 0  # documents read from Chroma by the last sync (tests, logs)

    def _manifest(self) -> dict[str, Any] | None:
        try:
            manifest = json.loads((self.folder / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        return manifest if manifest.get("format") == FORMAT else None

    def open(self) -> CachedCorpus | None:
        manifest = self._manifest()
        if manifest is None:
            return None
        try:
            return CachedCorpus(self.folder / manifest["version"], manifest)
        except FileNotFoundError:  # removed by a newer sync between reading the manifest and opening
            return None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "sync.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released by the kernel if this process dies
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def sync(self) -> CachedCorpus:
        """The cache for the index as it is now, updated if the index changed."""
        current = self.open()
        generation = self.store.fingerprint()
        if current is not None and current.generation == generation and generation:
            return current
        with self._locked():
            for _ in range(5):
                current = self.open()
                generation = self.store.fingerprint()
                if current is not None and current.generation == generation and generation:
                    return current
                built = self._build(current, generation)
                # A write that began while we read would show as a new generation: read again.
                if self.store.fingerprint() == generation:
                    return built
            return built

    def _build(self, old: CachedCorpus | None, generation: str) -> CachedCorpus:
        records = self.store.document_records()
        hashes = {r.doc_id: r.content_hash for r in records}
        old_rows = {d["doc_id"]: i for i, d in enumerate(old.docs)} if old else {}
        kept = {d for d in hashes if d in old_rows and old.manifest["docs"].get(d) == hashes[d]}
        fetch = [r for r in records if r.doc_id not in kept]
        version = self.folder / f"v-{uuid.uuid4().hex[:12]}"
        writer = _Writer(version, list(old.vocabulary) if old else [])
        try:
            fetched = {}
            for i in range(0, len(fetch), _DOCS_PER_FETCH):
                for doc in self._fetch(fetch[i:i + _DOCS_PER_FETCH]):
                    fetched[doc.meta["doc_id"]] = doc
            self.fetched_docs = len(fetched)
            for record in sorted(records, key=lambda r: r.doc_id):
                if record.doc_id in kept:
                    writer.add_kept(old, old_rows[record.doc_id])
                elif record.doc_id in fetched:
                    writer.add_fetched(fetched.pop(record.doc_id))
            manifest = writer.finish(generation, {d["doc_id"]: d["content_hash"] for d in writer.docs})
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        tmp = self.folder / f"manifest.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, self.folder / "manifest.json")
        self._remove_old(keep={version.name, old.folder.name if old else ""})
        return CachedCorpus(version, manifest)

    def _fetch(self, records) -> list[_Doc]:
        """The committed rows of some documents, from Chroma (a version being written by a
        concurrent ingest is left out: its rows carry another content hash)."""
        ids = [r.doc_id for r in records]
        want = {r.doc_id: r.content_hash for r in records}
        where = {"doc_id": {"$in": ids}} if len(ids) > 1 else {"doc_id": ids[0]}
        got_chunks = self.store.rows_where("chunks", where)
        got_sentences = self.store.rows_where("sentences", where)
        by_chunk: dict[str, list[tuple[dict, str, np.ndarray]]] = {}
        for meta, text, vector in got_sentences:
            if meta.get("content_hash") == want.get(meta["doc_id"]):
                by_chunk.setdefault(meta["chunk_id"], []).append((meta, text, vector))
        docs: dict[str, list[tuple[dict, str, np.ndarray]]] = {}
        for meta, text, vector in got_chunks:
            if meta.get("content_hash") == want.get(meta["doc_id"]):
                docs.setdefault(meta["doc_id"], []).append((meta, text, vector))
        out = []
        for record in records:
            chunks = sorted(docs.get(record.doc_id, []), key=lambda c: int(c[0].get("index", 0)))
            meta = {"doc_id": record.doc_id, "source": record.source, "title": record.title, "date": record.date,
                    "author": record.author, "content_hash": record.content_hash}
            out.append(_Doc(
                meta, [c[0]["chunk_id"] for c in chunks], [c[0] for c in chunks], [c[1] for c in chunks],
                np.stack([c[2] for c in chunks]) if chunks else np.zeros((0, 0), np.float32),
                [sorted(by_chunk.get(c[0]["chunk_id"], []), key=lambda s: int(s[0].get("position", 0)))
                 for c in chunks]))
        return out

    def _remove_old(self, keep: set[str]) -> None:
        """Versions older than the previous one. Open memory maps of a removed version stay valid
        (the files live on until unmapped); the previous one is kept for processes still opening it."""
        now = time.time()
        for path in self.folder.glob("v-*"):
            if path.name not in keep and now - path.stat().st_mtime > _KEEP_OLD_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
