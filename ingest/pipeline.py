"""Embedding and writing what `ingest()` loads, overlapped with the loading, on every core.

`ingest()` hands each loaded, chunked document to `EmbedPipeline.add` and goes on reading the
next file. Embedding runs in worker processes (ingest.embed_worker, one single-threaded process
per core) on slices of about `Batching.task_sentences` sentences, submitted as soon as that many are
loaded; this process meanwhile parses the next files and writes finished groups to Chroma. Before
this, parsing, embedding and the Chroma writes ran one after the other, and only numpy's
threaded matrix products used the second core.

Groups, and so the crash-safe commits, are exactly those of the serial path: documents are
committed together once about `Batching.group_sentences` sentences are embedded, through
`Store.write_documents`, in the order they were loaded. Only where the vectors are computed
differs (to float32 rounding, ~1e-7: the same model, other batches).

Small jobs (under `Batching.parallel_min_sentences` distinct sentences) and `ingest_workers=1` embed in
this process instead, as before: a worker takes ~1-2 s to start and load the model.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ingest.chunk import Chunk
from ingest.embed_worker import WorkerDied, WorkerPool
from ingest.load import LoadedDocument
from ingest.store import DocumentRecord, PendingWrite, Rows, Store
from rag.base.settings import Settings

# Shown when a terminal is attached and the job has more distinct sentences than this.
_PROGRESS_MIN_SENTENCES = 200
# The bar waits this long for the loading to finish, so that it starts knowing its total (a
# Gradio progress tracking the bar reads the total only once); a longer load starts it without.
_PROGRESS_WAIT_S = 2.0
_MAX_AUTO_WORKERS = 8  # each worker holds its own copy of the model (~200-250 MB resident)


@dataclass(frozen=True)
class Batching:
    """How work is cut up. The defaults suit real folders; tests pass smaller values so that the
    five bundled briefs span several groups and slices."""

    # Documents are embedded and committed in groups of about this many sentences, so a long run
    # makes steady, durable progress and a crash loses at most one group.
    group_sentences: int = 2048
    # Sentences per worker task: small enough that both workers share even the last group and the
    # progress bar moves every second or two, large enough that sending texts and vectors is noise.
    task_sentences: int = 256
    # Below this many distinct sentences a job embeds in this process (a few seconds of work).
    parallel_min_sentences: int = 1000


def worker_count(settings: Settings) -> int:
    if settings.ingest_workers:
        return settings.ingest_workers
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(_MAX_AUTO_WORKERS, cpus or 1))


@dataclass
class _Group:
    docs: list[tuple[LoadedDocument, list[Chunk], DocumentRecord | None]] = field(default_factory=list)
    spans: list[list[tuple[int, int]]] = field(default_factory=list)  # each doc's distinct sentences
    texts: list[str] = field(default_factory=list)  # all docs' distinct sentences, in order
    ends: list[int] = field(default_factory=list)  # where each doc's sentences end in `texts`
    units: int = 0  # sentences counted the way the grouping rule counts them (with overlaps)
    tasks: list[tuple[int, int, Future]] = field(default_factory=list)  # texts[a:b] -> vectors
    submitted: int = 0  # texts[:submitted] are in tasks
    counted: int = 0  # docs already shown as done on the progress bar


class EmbedPipeline:
    """Use as a context manager around the loading loop: `add()` each document, `finish()` after
    the last; leaving the block by an exception stops the workers and writes nothing more (what
    was committed stays committed, as with a crash)."""

    def __init__(self, settings: Settings, store: Store, report, progress: bool | None,
                 log: Callable[[str], None], *, batching: Batching = Batching(),
                 pool: Callable[[int, str, int], WorkerPool] = WorkerPool,
                 embed_inline: Callable[[list[str]], np.ndarray] | None = None) -> None:
        """`pool(workers, model, batch_size)` starts the worker processes; `embed_inline(texts)`
        embeds in this process (default: the settings' model, loaded on first use)."""
        self.settings, self.store, self.report, self.log = settings, store, report, log
        self._batching, self._make_pool = batching, pool
        self._embed_inline = embed_inline or self._embed_here
        self._progress = progress
        self._workers = worker_count(settings)
        self._mode: str | None = None  # "pool" or "inline", decided once the job's size shows
        self._pool = None
        self._open = _Group()
        self._queue: deque[_Group] = deque()  # closed groups, not yet written, in load order
        self._sentences = 0
        self._docs_added = self._chunks_added = self._docs_done = 0
        self._bar = None
        self._bar_started = 0.0
        self._first_added = 0.0

    def __enter__(self) -> "EmbedPipeline":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._pool is not None:
            self._stop_pool(abort=exc_type is not None)

    # --- the loading loop's side ------------------------------------------------------------
    def add(self, doc: LoadedDocument, chunks: list[Chunk], previous: DocumentRecord | None) -> None:
        distinct = {(u.start, u.end): u.text for c in chunks for u in c.units}
        group = self._open
        group.docs.append((doc, chunks, previous))
        group.spans.append(list(distinct))
        group.texts.extend(distinct.values())
        group.ends.append(len(group.texts))
        group.units += sum(len(c.units) for c in chunks)
        self._sentences += len(distinct)
        if not self._docs_added:
            self._first_added = time.perf_counter()
        self._docs_added += 1
        self._chunks_added += len(chunks)
        if self._mode is None and (self._workers == 1 or self._sentences >= self._batching.parallel_min_sentences):
            self._start("inline" if self._workers == 1 else "pool")
        self._show_progress(loaded=False)
        if self._mode is not None:
            self._dispatch(group, final=False)
        if group.units >= self._batching.group_sentences:
            self._close_open_group()
        self._drain(block=False)

    def finish(self) -> None:
        """Embed and write everything added; returns once all of it is committed."""
        if self._mode is None and self._docs_added:
            self._start("inline")  # a small job
        if self._open.docs:
            self._close_open_group()
        self._show_progress(loaded=True)
        if self._bar is not None and self._bar.total is None:  # everything is loaded: now it is known
            self._bar.total = self._chunks_added
            self._bar.refresh()
        self._drain(block=True)
        if self._pool is not None:  # free the workers' memory now, not when ingest() returns
            self._stop_pool(abort=False)

    # --- embedding ----------------------------------------------------------------------------
    def _start(self, mode: str) -> None:
        self._mode = mode
        if mode == "pool":
            self._pool = self._make_pool(self._workers, self.settings.embed_model, self.settings.embed_batch_size)
        for group in self._queue:  # groups closed before the mode was known (none, at present)
            self._dispatch(group, final=True)

    def _close_open_group(self) -> None:
        group, self._open = self._open, _Group()
        if self._mode is not None:
            self._dispatch(group, final=True)
        self._queue.append(group)

    def _dispatch(self, group: _Group, final: bool) -> None:
        """Submit the group's loaded sentences in slices (the remainder too, when `final`)."""
        step = self._batching.task_sentences
        while len(group.texts) - group.submitted >= (1 if final else step):
            a = group.submitted
            b = min(len(group.texts), a + step)
            group.tasks.append((a, b, self._submit(group.texts[a:b])))
            group.submitted = b

    def _submit(self, texts: list[str]) -> Future:
        if self._mode == "pool":
            return self._pool.submit(texts)
        future: Future = Future()
        future.set_result(self._embed_inline(texts))
        return future

    def _embed_here(self, texts: list[str]) -> np.ndarray:
        from ingest.embed import load_embedder  # the model is loaded only when something changed

        return load_embedder(self.settings.embed_model).embed(texts, batch_size=self.settings.embed_batch_size)

    def _vectors(self, group: _Group) -> np.ndarray:
        parts = []
        for a, b, future in group.tasks:
            try:
                parts.append(future.result())
            except (WorkerDied, CancelledError) as exc:
                # A worker died (out of memory, killed): finish the job here, more slowly. (A
                # slice is cancelled only when the pool was stopped here after such a death.)
                if self._mode == "pool":
                    self.log(f"warning: an embedding worker process died ({exc}); embedding in this process instead")
                    self._stop_pool(abort=True)
                    self._mode = "inline"
                parts.append(self._embed_inline(group.texts[a:b]))
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(parts)

    def _stop_pool(self, abort: bool) -> None:
        # On abort, queued slices are dropped and running ones killed rather than waited for
        # (a single-threaded slice on a loaded machine can take several seconds).
        pool, self._pool = self._pool, None
        pool.close(abort=abort)

    # --- writing ------------------------------------------------------------------------------
    def _drain(self, block: bool) -> None:
        """Write the groups whose vectors are all in, oldest first; with `block`, all of them."""
        if self._mode is None:  # nothing is embedding yet
            return
        while self._queue:
            self._tick()
            head = self._queue[0]
            if not all(future.done() for *_, future in head.tasks):
                if not block:
                    return
                running = [f for g in self._queue for *_, f in g.tasks if not f.done()]
                wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
                continue
            self._write(self._queue.popleft())
        self._tick()

    def _write(self, group: _Group) -> None:
        vectors = self._vectors(group)
        items, offset = [], 0
        for (doc, chunks, previous), doc_spans in zip(group.docs, group.spans):
            unit_vectors = dict(zip(doc_spans, vectors[offset : offset + len(doc_spans)]))
            offset += len(doc_spans)
            chunk_rows, sentence_rows, doc_vector = _rows(doc, chunks, unit_vectors)
            record = DocumentRecord(
                doc_id=doc.doc_id, source=doc.source, root=str(doc.root.resolve()), title=doc.title,
                date=doc.date, author=doc.author, content_hash=doc.content_hash, chunks=len(chunks),
                page_starts=doc.page_starts,
            )
            items.append(PendingWrite(record, doc.text, chunk_rows, sentence_rows, doc_vector, previous))
        self.store.write_documents(items)
        for doc, chunks, previous in group.docs:
            (self.report.updated if previous is not None and previous.content_hash else self.report.added).append(doc.source)
            self.report.chunks_written += len(chunks)
        self._count(group, len(group.docs))  # those a dead worker's slices left uncounted

    # --- progress -----------------------------------------------------------------------------
    def _show_progress(self, loaded: bool) -> None:
        if self._bar is not None or not self._docs_added:
            return
        show = self._progress if self._progress is not None else (
            sys.stderr.isatty() and self._sentences > _PROGRESS_MIN_SENTENCES)
        if not show or (not loaded and time.perf_counter() - self._first_added < _PROGRESS_WAIT_S):
            return
        from tqdm import tqdm

        # Counts embedded chunks (documents in the postfix), from the first document loaded.
        self._bar = tqdm(total=self._chunks_added if loaded else None, unit="chunk", desc="Indexing",
                         file=sys.stderr, dynamic_ncols=True)
        self._bar_started = self._first_added

    def _tick(self) -> None:
        """Count the documents whose sentences are all embedded (their slices may finish in any order)."""
        if self._bar is None:
            return
        for group in (*self._queue, self._open):
            done_to = 0
            for a, b, future in group.tasks:
                if not future.done() or future.cancelled() or future.exception() is not None:
                    break
                done_to = b
            docs = group.counted
            while docs < len(group.docs) and group.ends[docs] <= done_to:
                docs += 1
            self._count(group, docs)

    def _count(self, group: _Group, docs: int) -> None:
        """Show the group's first `docs` documents as embedded."""
        if self._bar is None or docs <= group.counted:
            return
        chunks = sum(len(chunks) for _, chunks, _ in group.docs[group.counted : docs])
        self._docs_done += docs - group.counted
        group.counted = docs
        seconds = max(1e-9, time.perf_counter() - self._bar_started)
        done = f"{self._docs_done}/{self._docs_added}" if self._bar.total else str(self._docs_done)
        self._bar.set_postfix_str(f"docs={done}, {self._docs_done / seconds:.2f} docs/s", refresh=False)
        self._bar.update(chunks)


def _rows(doc: LoadedDocument, chunks: list[Chunk], unit_vectors: dict[tuple[int, int], np.ndarray]) -> tuple[Rows, Rows, np.ndarray]:
    base = {"doc_id": doc.doc_id, "source": doc.source, "title": doc.title, "date": doc.date,
            "author": doc.author, "content_hash": doc.content_hash}
    chunk_vectors, sentence_rows = [], Rows([], np.zeros((0, 0)), [], [])
    sentence_vectors = []
    for chunk in chunks:
        vectors = np.stack([unit_vectors[(u.start, u.end)] for u in chunk.units])
        mean = vectors.mean(axis=0)
        chunk_vectors.append(mean / (np.linalg.norm(mean) or 1.0))
        for j, unit in enumerate(chunk.units):
            sentence_rows.ids.append(f"{chunk.chunk_id}:{j}")
            sentence_rows.texts.append(unit.text)
            sentence_rows.metadatas.append({
                **base, "chunk_id": chunk.chunk_id, "start": unit.start, "end": unit.end,
                "heading": unit.is_heading, "position": j,
            })
            sentence_vectors.append(vectors[j])
    sentence_rows.vectors = np.asarray(sentence_vectors, dtype=np.float32)
    chunk_rows = Rows(
        ids=[c.chunk_id for c in chunks],
        vectors=np.asarray(chunk_vectors, dtype=np.float32),
        texts=[c.text for c in chunks],
        metadatas=[{**base, "chunk_id": c.chunk_id, "index": c.index, "start": c.start, "end": c.end,
                    "page": c.page or 0} for c in chunks],
    )
    doc_vector = chunk_rows.vectors.mean(axis=0)
    return chunk_rows, sentence_rows, doc_vector / (np.linalg.norm(doc_vector) or 1.0)
