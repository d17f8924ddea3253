"""The Chroma index: three collections and the only code that knows their layout.

- `<name>-chunks`: one record per chunk (text, vector, where it sits in its document);
- `<name>-sentences`: one record per sentence or heading of a chunk, for sentence-level evidence;
- `<name>-documents`: one record per document (raw text, metadata, content hash). It is written
  last when a document is (re)indexed, so it doubles as the commit record of that version.

Every collection records the embedding model that built it; opening it with another model is
refused instead of silently mixing vector spaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from rag.errors import BriefingError
from rag.settings import Settings

_KINDS = ("chunks", "sentences", "documents")
_WRITE_BATCH = 1000  # Chroma rejects very large single writes


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
            raise BriefingError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc}). "
                "Start it with `chroma run --path DIR --host HOST --port PORT`, or unset BRIEFING_CHROMA_HOST "
                "to use a local index."
            ) from None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)


class Store:
    def __init__(self, settings: Settings, embed_model: str | None = None):
        self.settings = settings
        self.embed_model = embed_model or settings.embed_model
        self.client = open_client(settings)
        self._collections: dict[str, Any] = {}

    def _collection(self, kind: str):
        if kind not in self._collections:
            name = f"{self.settings.collection}-{kind}"
            collection = self.client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
                metadata={"embed_model": self.embed_model},
            )
            built_with = (collection.metadata or {}).get("embed_model")
            if built_with and built_with != self.embed_model:
                raise BriefingError(
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

    # --- documents ----------------------------------------------------------------------
    def document_records(self) -> list[DocumentRecord]:
        got = self.documents.get(include=["metadatas"])
        return sorted((DocumentRecord.from_metadata(m) for m in got["metadatas"]), key=lambda d: d.source)

    def document_text(self, doc_id: str) -> str:
        got = self.documents.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["documents"] else ""

    def fingerprint(self) -> str:
        """Changes whenever any document is added, changed or removed (keys derived caches)."""
        records = self.document_records()
        return str(hash(tuple((r.doc_id, r.content_hash) for r in records)))

    # --- writes -------------------------------------------------------------------------
    def write_document(
        self,
        record: DocumentRecord,
        text: str,
        chunk_rows: "Rows",
        sentence_rows: "Rows",
        doc_vector: np.ndarray,
    ) -> None:
        """New version's chunks first, then the old versions' removal, then the commit record:
        a crash at any point leaves the previous version or the new one searchable, and a re-run
        rewrites the same ids."""
        for collection, rows in ((self.sentences, sentence_rows), (self.chunks, chunk_rows)):
            for i in range(0, len(rows.ids), _WRITE_BATCH):
                batch = slice(i, i + _WRITE_BATCH)
                collection.upsert(
                    ids=rows.ids[batch],
                    embeddings=rows.vectors[batch],
                    documents=rows.texts[batch],
                    metadatas=rows.metadatas[batch],
                )
        self._delete_versions(record.doc_id, keep=record.content_hash)
        self.documents.upsert(
            ids=[record.doc_id], embeddings=doc_vector[None, :], documents=[text], metadatas=[record.to_metadata()]
        )

    def delete_document(self, doc_id: str) -> None:
        self._delete_versions(doc_id, keep=None)
        self.documents.delete(ids=[doc_id])

    def _delete_versions(self, doc_id: str, keep: str | None) -> None:
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep is not None:
            where = {"$and": [{"doc_id": doc_id}, {"content_hash": {"$ne": keep}}]}
        for collection in (self.chunks, self.sentences):
            collection.delete(where=where)

    def update_root(self, record: DocumentRecord, root: str) -> None:
        self.documents.update(ids=[record.doc_id], metadatas=[{**record.to_metadata(), "root": root}])

    # --- reads for retrieval ------------------------------------------------------------
    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        got = self.chunks.get(include=["documents", "metadatas"])
        return got["ids"], got["documents"], got["metadatas"]

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

    def get_chunks(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        if not ids:
            return {}
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}

    def sentences_of(self, chunk_ids: Iterable[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
        chunk_ids = list(chunk_ids)
        if not chunk_ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        got = self.sentences.get(where={"chunk_id": {"$in": chunk_ids}}, include=["documents", "metadatas", "embeddings"])
        metas = [dict(m, text=t) for t, m in zip(got["documents"], got["metadatas"])]
        return metas, np.asarray(got["embeddings"], dtype=np.float32)

    def count(self) -> int:
        return self.chunks.count()


@dataclass
class Rows:
    ids: list[str]
    vectors: np.ndarray
    texts: list[str]
    metadatas: list[dict[str, Any]]
