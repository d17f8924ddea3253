"""The Chroma index: three collections and the only code that knows their layout.

- `<name>-chunks`: one record per chunk (text, vector, where it sits in its document);
- `<name>-sentences`: one record per sentence or heading of a chunk, for sentence-level evidence;
- `<name>-documents`: one record per document (raw text, metadata, content hash). It is written
  last when a document is (re)indexed, so it doubles as the commit record of that version.

Every collection records the embedding model that built it; opening it with another model is
refused instead of silently mixing vector spaces.

Crash safety (`write_documents`): 1. the document record is marked `pending` (a new document
gets a placeholder record that `document_records()` does not show); 2. the new version's sentences
and chunks are written; 3. rows of every other version are deleted; 4. the record is committed
(new hash, `pending` cleared). The previous version stays searchable until 3 and the new one is
complete from 2 on. A kill at any point leaves a `pending` mark that the next ingest treats as
"re-index this document", which rewrites the same ids and removes whatever a crashed run left:
re-running converges to exactly the index a clean run builds. Deleting a document marks it the
same way first, so a crash half-way through a removal is finished (or undone, if the file came
back) on the next run.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from rag.base.errors import BriefingError, StoreError
from rag.base.settings import Settings

_KINDS = ("chunks", "sentences", "documents")
_WRITE_BATCH = 5000  # rows per write: Chroma rejects bigger ones (its limit is 5461), smaller ones are slower
_DELETE_DOCS = 100  # documents per delete-by-filter call
_PENDING = "pending"  # metadata key on a document record: "" or the version being written / "delete"
_GENERATION = "generation"  # documents-collection metadata: a new random value around every change
_PAGE = 5000  # rows per get(): one unbounded get() of ~100k rows overflows SQLite's variable limit


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    source: str
    root: str
    title: str
    date: str
    author: str
    content_hash: str
    chunks: int
    page_starts: tuple[int, ...] = ()

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> "DocumentRecord":
        return cls(
            doc_id=meta["doc_id"],
            source=meta["source"],
            root=meta.get("root", ""),
            title=meta.get("title", ""),
            date=meta.get("date", ""),
            author=meta.get("author", ""),
            content_hash=meta["content_hash"],
            chunks=int(meta.get("chunks", 0)),
            page_starts=tuple(json.loads(meta.get("page_starts", "[]"))),
        )

    def to_metadata(self) -> dict[str, Any]:
        meta = dict(self.__dict__)
        meta["page_starts"] = json.dumps(list(self.page_starts))
        return meta


def open_client(settings: Settings):
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc}). "
                "Start it with `chroma run --path DIR --host HOST --port PORT`, or unset BRIEFING_CHROMA_HOST "
                "to use a local index."
            ) from None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)


def _server_errors(method):
    """In server mode, a connection lost after start-up becomes a BriefingError, not a traceback."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except BriefingError:
            raise
        except Exception as exc:
            if not self.settings.chroma_host or not _is_connection_error(exc):
                raise
            raise StoreError(
                f"Lost the connection to the Chroma server at {self.location} ({type(exc).__name__}: {exc}). "
                "Check that `chroma run` is still running there."
            ) from None

    return wrapper


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover - chromadb depends on httpx
        pass
    text = str(exc).lower()
    return isinstance(exc, (ConnectionError, TimeoutError)) or "could not connect" in text or "connection" in text


@dataclass
class PendingWrite:
    """One document version to write: what `write_documents` needs."""

    record: "DocumentRecord"
    text: str
    chunk_rows: "Rows"
    sentence_rows: "Rows"
    doc_vector: np.ndarray
    previous: "DocumentRecord | None" = None  # the record already in the index (placeholder included)


# Questions search the read cache (ingest.readcache), never Chroma's HNSW graphs; Chroma keeps
# the vectors so that every reader's cache can sync from it. A sentence graph built with the
# defaults cost ~2.4 ms of CPU per sentence (95 s per 40k, measured), more than the embedding
# model's share of ingest: its sentence graph is built sparse instead (~0.6 ms; existing indexes
# keep the graph they were created with).
_HNSW = {"sentences": {"space": "cosine", "ef_construction": 8, "max_neighbors": 4}}


class Store:
    def __init__(self, settings: Settings, embed_model: str | None = None):
        self.settings = settings
        self.embed_model = embed_model or settings.embed_model
        self.client = open_client(settings)
        self._collections: dict[str, Any] = {}
        self.writes = 0  # collection writes made through this store (upsert/update/delete calls)
        self._max_batch: int | None = None

    @_server_errors
    def _collection(self, kind: str):
        if kind not in self._collections:
            name = f"{self.settings.collection}-{kind}"
            collection = self.client.get_or_create_collection(
                name,
                configuration={"hnsw": _HNSW.get(kind, {"space": "cosine"})},
                embedding_function=None,
                metadata={"embed_model": self.embed_model},
            )
            built_with = (collection.metadata or {}).get("embed_model")
            if built_with and built_with != self.embed_model:
                raise StoreError(
                    f"The index in {self.location} was built with the embedding model '{built_with}', "
                    f"not '{self.embed_model}'. Use a different BRIEFING_DATA_DIR (or BRIEFING_COLLECTION) "
                    "for the new model, or delete the index and ingest again."
                )
            self._collections[kind] = collection
        return self._collections[kind]

    @property
    def location(self) -> str:
        s = self.settings
        return f"{s.chroma_host}:{s.chroma_port}" if s.chroma_host else str(s.data_dir)

    @property
    def chunks(self):
        return self._collection("chunks")

    @property
    def sentences(self):
        return self._collection("sentences")

    @property
    def documents(self):
        return self._collection("documents")

    def _batch_size(self) -> int:
        if self._max_batch is None:
            try:
                self._max_batch = max(1, min(_WRITE_BATCH, int(self.client.get_max_batch_size())))
            except Exception:  # an older server without the endpoint
                self._max_batch = 1000
        return self._max_batch

    def _wrote(self) -> None:
        """Called after every collection write (the crash tests stop a run here)."""
        self.writes += 1

    # --- documents ----------------------------------------------------------------------
    @_server_errors
    def records_with_state(self) -> list[tuple[DocumentRecord, str]]:
        """Every document record with its pending mark ("" when committed), placeholders of
        documents whose first version was never committed included. For ingest."""
        got = _get_all(self.documents, include=["metadatas"])
        out = [(DocumentRecord.from_metadata(m), str(m.get(_PENDING) or "")) for m in got["metadatas"]]
        return sorted(out, key=lambda item: item[0].source)

    def document_records(self) -> list[DocumentRecord]:
        """Committed documents (a document being re-indexed shows its previous version)."""
        return [r for r, _ in self.records_with_state() if r.content_hash]

    @_server_errors
    def document_text(self, doc_id: str) -> str:
        got = self.documents.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["documents"] else ""

    @_server_errors
    def fingerprint(self) -> str:
        """Changes whenever any document is added, changed or removed (keys derived caches).

        Every write bumps a generation stamp in the documents collection's metadata (before and
        after it, so even a crashed write shows), which costs one small request to read however
        big the index is. A new, empty index has no stamp yet."""
        self.documents  # created with the model check if needed
        name = f"{self.settings.collection}-documents"
        meta = self.client.get_collection(name, embedding_function=None).metadata or {}
        return str(meta.get(_GENERATION, ""))

    def _bump_generation(self) -> None:
        self.documents.modify(metadata={"embed_model": self.embed_model, _GENERATION: uuid.uuid4().hex})
        self._wrote()

    # --- writes -------------------------------------------------------------------------
    @_server_errors
    def write_documents(self, items: Sequence[PendingWrite]) -> None:
        """Write new versions of several documents with a handful of batched calls, in the
        crash-safe order described in the module docstring."""
        if not items:
            return
        self._bump_generation()
        # 1. intent
        existing = [it for it in items if it.previous is not None]
        fresh = [it for it in items if it.previous is None]
        if existing:
            self.documents.update(
                ids=[it.record.doc_id for it in existing],
                metadatas=[{**it.previous.to_metadata(), _PENDING: it.record.content_hash} for it in existing],
            )
            self._wrote()
        if fresh:
            self.documents.upsert(
                ids=[it.record.doc_id for it in fresh],
                embeddings=np.stack([it.doc_vector for it in fresh]),
                documents=[""] * len(fresh),
                metadatas=[{**it.record.to_metadata(), "content_hash": "", "chunks": 0,
                            _PENDING: it.record.content_hash} for it in fresh],
            )
            self._wrote()
        # 2. the new version's rows, sentences first (a chunk is only found once its sentences exist)
        for collection, attr in ((self.sentences, "sentence_rows"), (self.chunks, "chunk_rows")):
            ids: list[str] = []
            texts: list[str] = []
            metas: list[dict[str, Any]] = []
            vectors = []
            for it in items:
                rows: Rows = getattr(it, attr)
                ids += rows.ids
                texts += rows.texts
                metas += rows.metadatas
                if len(rows.ids):
                    vectors.append(np.asarray(rows.vectors, dtype=np.float32))
            if not ids:
                continue
            matrix = np.concatenate(vectors)
            step = self._batch_size()
            for i in range(0, len(ids), step):
                batch = slice(i, i + step)
                collection.upsert(ids=ids[batch], embeddings=matrix[batch], documents=texts[batch],
                                  metadatas=metas[batch])
                self._wrote()
        # 3. every other version of these documents (a brand-new one has none)
        self._delete_rows([(it.record.doc_id, it.record.content_hash) for it in existing])
        # 4. commit
        self.documents.upsert(
            ids=[it.record.doc_id for it in items],
            embeddings=np.stack([it.doc_vector for it in items]),
            documents=[it.text for it in items],
            metadatas=[{**it.record.to_metadata(), _PENDING: ""} for it in items],
        )
        self._wrote()
        self._bump_generation()

    @_server_errors
    def delete_document(self, doc_id: str) -> None:
        got = self.documents.get(ids=[doc_id], include=["metadatas"])
        self._bump_generation()
        if got["ids"]:
            self.documents.update(ids=[doc_id], metadatas=[{**got["metadatas"][0], _PENDING: "delete"}])
            self._wrote()
        self._delete_rows([(doc_id, None)])
        self.documents.delete(ids=[doc_id])
        self._wrote()
        self._bump_generation()

    def _delete_rows(self, versions: Sequence[tuple[str, str | None]]) -> None:
        """Rows of the given documents, except those of the version to keep (None: all rows)."""
        for i in range(0, len(versions), _DELETE_DOCS):
            clauses: list[dict[str, Any]] = []
            for doc_id, keep in versions[i : i + _DELETE_DOCS]:
                if keep is None:
                    clauses.append({"doc_id": doc_id})
                else:
                    clauses.append({"$and": [{"doc_id": doc_id}, {"content_hash": {"$ne": keep}}]})
            where = clauses[0] if len(clauses) == 1 else {"$or": clauses}
            for collection in (self.chunks, self.sentences):
                collection.delete(where=where)
                self._wrote()

    @_server_errors
    def update_root(self, record: DocumentRecord, root: str) -> None:
        self.documents.update(ids=[record.doc_id], metadatas=[{**record.to_metadata(), "root": root, _PENDING: ""}])
        self._wrote()

    # --- reads for retrieval ------------------------------------------------------------
    @_server_errors
    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        got = _get_all(self.chunks, include=["documents", "metadatas"])
        return got["ids"], got["documents"], got["metadatas"]

    @_server_errors
    def all_rows(self, kind: str) -> tuple[list[str], list[str], list[dict[str, Any]], np.ndarray]:
        """Every row of `chunks` or `sentences` with its vector, for an in-memory copy."""
        got = _get_all(self._collection(kind), include=["documents", "metadatas", "embeddings"])
        if not got["ids"]:
            return [], [], [], np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)
        return got["ids"], got["documents"], got["metadatas"], vectors

    @_server_errors
    def rows_where(self, kind: str, where: dict) -> list[tuple[dict[str, Any], str, np.ndarray]]:
        """(metadata with `id`, text, vector) of the `chunks` or `sentences` rows matching `where`."""
        got = _get_all(self._collection(kind), include=["documents", "metadatas", "embeddings"], where=where)
        if not got["ids"]:  # the documents went while we read (the read cache then reads again)
            return []
        vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)
        return [(dict(m, id=i), t, v) for i, t, m, v in zip(got["ids"], got["documents"], got["metadatas"], vectors)]

    @_server_errors
    def row_count(self, kind: str) -> int:
        return self._collection(kind).count()

    @_server_errors
    def query(self, kind: str, vector: np.ndarray, n: int, where: dict | None = None) -> tuple[list[str], list[float], list[dict]]:
        collection = self._collection(kind)
        count = collection.count()
        if count == 0:
            return [], [], []
        got = collection.query(
            query_embeddings=[vector], n_results=min(n, count), where=where or None, include=["distances", "metadatas"]
        )
        similarities = [1.0 - d for d in got["distances"][0]]
        return got["ids"][0], similarities, got["metadatas"][0]

    @_server_errors
    def sentences_of(self, chunk_ids: Iterable[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
        chunk_ids = list(chunk_ids)
        if not chunk_ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        got = self.sentences.get(where={"chunk_id": {"$in": chunk_ids}}, include=["documents", "metadatas", "embeddings"])
        if not got["ids"]:  # e.g. the chunks were replaced by a concurrent ingest
            return [], np.zeros((0, 0), dtype=np.float32)
        metas = [dict(m, text=t) for t, m in zip(got["documents"], got["metadatas"])]
        return metas, np.asarray(got["embeddings"], dtype=np.float32)

    @_server_errors
    def count(self) -> int:
        return self.chunks.count()


def _get_all(collection, include: list[str], **kwargs) -> dict[str, list]:
    """collection.get() of every row, page by page."""
    out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
    offset = 0
    while True:
        got = collection.get(include=include, limit=_PAGE, offset=offset, **kwargs)
        out["ids"] += got["ids"]
        for key in include:
            out[key] += list(got[key]) if got[key] is not None else []
        if len(got["ids"]) < _PAGE:
            return out
        offset += _PAGE


@dataclass
class Rows:
    ids: list[str]
    vectors: np.ndarray
    texts: list[str]
    metadatas: list[dict[str, Any]]
