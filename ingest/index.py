"""`ingest()`: bring the index in line with a set of files, touching only what changed."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ingest.chunk import Chunk, chunk_document
from ingest.load import LoadError, LoadFailure, LoadedDocument, fingerprint, load_document, scan
from ingest.metadata import CSV_NAME, metadata_table
from ingest.store import DocumentRecord, PendingWrite, Rows, Store
from rag.base.settings import Settings

# Documents are embedded and committed in groups of about this many sentences, so a long run
# makes steady, durable progress and a crash loses at most one group.
_GROUP_SENTENCES = 2048


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[LoadFailure] = field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.failed)} failed "
            f"({self.chunks_written} chunks written in {self.seconds:.1f} s)"
        ]
        lines += [f"  failed: {f.source}: {f.reason}" for f in self.failed]
        return "\n".join(lines)


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


def _read_problem(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (cannot read the file)"
    return f"cannot read: {exc.strerror or exc}"


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    store: Store | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
) -> IngestReport:
    """Index new and changed files under `paths`, drop documents whose files are gone from a
    given folder, leave unchanged files alone (without loading the embedding model).

    Every file that cannot be indexed is reported in `failed` with its reason, and the rest is
    indexed. A document left half-written by an interrupted run is re-indexed (see ingest.store).
    """
    started = time.perf_counter()
    store = store or Store(settings)
    report = IngestReport()
    max_mb = settings.max_document_mb
    known = {r.source: (r, pending) for r, pending in store.records_with_state()}
    seen: set[str] = set()
    pending_docs: list[tuple[LoadedDocument, list[Chunk], DocumentRecord | None]] = []
    files, problems = scan(paths)
    report.failed.extend(problems)
    _check_metadata_tables(paths, files, report, log)
    for root, path in files:
        source = path.relative_to(root).as_posix()
        if source in seen:  # documents are identified by their path inside the folder given
            report.failed.append(LoadFailure(str(path), f"another folder given also has {source}; only the first is indexed"))
            continue
        seen.add(source)
        record, pending = known.get(source, (None, ""))
        try:
            if record is not None and not pending and record.content_hash == fingerprint(path, root):
                report.unchanged.append(source)
                if record.root != str(root.resolve()):
                    store.update_root(record, str(root.resolve()))
                continue
            doc = load_document(root, path, max_mb)
        except LoadError as exc:
            report.failed.append(LoadFailure(source, str(exc)))
            continue
        except OSError as exc:
            report.failed.append(LoadFailure(source, _read_problem(exc)))
            continue
        chunks = chunk_document(doc, settings.chunk_words, settings.chunk_overlap_sentences)
        if not chunks:
            report.failed.append(LoadFailure(source, "no indexable text after removing page furniture"))
            continue
        pending_docs.append((doc, chunks, record))

    _embed_and_write(pending_docs, settings, store, report, progress, log)

    folders = {str(Path(p).resolve()) for p in paths if Path(p).is_dir()}
    for source, (record, _) in known.items():
        if record.root in folders and source not in seen:
            store.delete_document(record.doc_id)
            if record.content_hash:  # not a placeholder left by an interrupted first indexing
                report.removed.append(source)
    report.failed.sort(key=lambda f: f.source)
    report.seconds = time.perf_counter() - started
    return report


def _check_metadata_tables(paths, files, report: IngestReport, log) -> None:
    """An unusable metadata.csv is reported (and ignored); rows naming no file get a warning."""
    for given in paths:
        given = Path(given)
        if not given.is_dir():
            continue
        table = metadata_table(given)
        if table.error:
            report.failed.append(LoadFailure(CSV_NAME, f"{table.error} (ignored)"))
        sources = {path.relative_to(root).as_posix() for root, path in files if root == given}
        for source in sorted((set(table.rows) | set(table.row_errors)) - sources):
            log(f"warning: {CSV_NAME} has a row for {source}, which is not a document in {given}")


def _embed_and_write(pending, settings: Settings, store: Store, report: IngestReport, progress, log) -> None:
    if not pending:
        return
    from ingest.embed import load_embedder  # the model is loaded only when something changed

    embedder = load_embedder(settings.embed_model)
    total = sum(len({(u.start, u.end) for c in chunks for u in c.units}) for _, chunks, _ in pending)
    show = progress if progress is not None else (sys.stderr.isatty() and total > 200)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="sent", desc="Embedding", file=sys.stderr)
    i = 0
    while i < len(pending):
        group, size = [], 0
        while i < len(pending) and (not group or size < _GROUP_SENTENCES):
            group.append(pending[i])
            size += sum(len(c.units) for c in pending[i][1])
            i += 1
        # One embedding call for the whole group, each distinct sentence once.
        texts: list[str] = []
        spans: list[list[tuple[int, int]]] = []
        for doc, chunks, _ in group:
            distinct = {(u.start, u.end): u.text for c in chunks for u in c.units}
            spans.append(list(distinct))
            texts.extend(distinct.values())
        vectors = embedder.embed(texts, batch_size=settings.embed_batch_size,
                                 progress=bar.update if bar else None)
        items, offset = [], 0
        for (doc, chunks, previous), doc_spans in zip(group, spans):
            unit_vectors = dict(zip(doc_spans, vectors[offset : offset + len(doc_spans)]))
            offset += len(doc_spans)
            chunk_rows, sentence_rows, doc_vector = _rows(doc, chunks, unit_vectors)
            record = DocumentRecord(
                doc_id=doc.doc_id, source=doc.source, root=str(doc.root.resolve()), title=doc.title,
                date=doc.date, author=doc.author, content_hash=doc.content_hash, chunks=len(chunks),
                page_starts=doc.page_starts,
            )
            items.append(PendingWrite(record, doc.text, chunk_rows, sentence_rows, doc_vector, previous))
        store.write_documents(items)
        for doc, chunks, previous in group:
            (report.updated if previous is not None and previous.content_hash else report.added).append(doc.source)
            report.chunks_written += len(chunks)
    if bar:
        bar.close()
