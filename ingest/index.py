"""`ingest()`: bring the index in line with a set of files, touching only what changed."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ingest.chunk import chunk_document
from ingest.load import LoadError, LoadFailure, fingerprint, load_document, scan
from ingest.lock import writer_lock
from ingest.metadata import CSV_NAME, metadata_table
from ingest.pipeline import EmbedPipeline
from ingest.readcache import ReadCache
from ingest.store import Store
from rag.base.settings import Settings


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
    pipeline: Callable[..., EmbedPipeline] = EmbedPipeline,
) -> IngestReport:
    """Index new and changed files under `paths`, drop documents whose files are gone from a
    given folder, leave unchanged files alone (without loading the embedding model).

    Every file that cannot be indexed is reported in `failed` with its reason, and the rest is
    indexed. A document left half-written by an interrupted run is re-indexed (see ingest.store).
    `pipeline(settings, store, report, progress, log)` embeds and writes what is loaded; tests
    pass an `EmbedPipeline` with smaller batches or their own worker pool.
    """
    started = time.perf_counter()
    store = store or Store(settings)
    report = IngestReport()
    max_mb = settings.max_document_mb
    # Read the index only once holding the writers' lock: a concurrent ingest's result is then
    # part of what this one compares against (ingest.lock).
    # Each loaded document goes straight to the pipeline, which embeds it in worker processes
    # while this loop parses the next files (ingest.pipeline).
    with writer_lock(store, settings, log=log), pipeline(settings, store, report, progress, log) as embedding:
        known = {r.source: (r, pending) for r, pending in store.records_with_state()}
        seen: set[str] = set()
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
            embedding.add(doc, chunks, record)
        embedding.finish()

        folders = {str(Path(p).resolve()) for p in paths if Path(p).is_dir()}
        for source, (record, _) in known.items():
            if record.root in folders and source not in seen:
                store.delete_document(record.doc_id)
                if record.content_hash:  # not a placeholder left by an interrupted first indexing
                    report.removed.append(source)
        # Still holding the lock: the read cache is brought up to date with what was just written
        # (only the changed documents are read back), so the next question opens it at once.
        if report.added or report.updated or report.removed or ReadCache(store).open() is None:
            ReadCache(store).sync()
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
