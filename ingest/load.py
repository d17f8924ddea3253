"""Finding and reading documents: one small extractor function per file format.

An extractor turns a path into `Extracted` (raw text, file properties, page offsets) or raises
`LoadError` with a reason a user can act on. `load_documents` never stops at a bad file: it
reports it and goes on.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ingest.metadata import document_metadata


class LoadError(Exception):
    """A file that cannot be indexed; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Extracted:
    text: str
    properties: dict[str, str] = field(default_factory=dict)
    # Character offset where each page starts (page N starts at page_starts[N-1]); empty if unpaged.
    page_starts: tuple[int, ...] = ()


@dataclass(frozen=True)
class LoadedDocument:
    doc_id: str
    source: str  # path relative to the folder it was ingested from
    path: Path
    root: Path
    text: str
    title: str
    date: str
    author: str
    content_hash: str
    page_starts: tuple[int, ...] = ()


@dataclass(frozen=True)
class LoadFailure:
    source: str
    reason: str


def decode_text(data: bytes) -> str:
    """Bytes of a text file to str: UTF-8 (with or without BOM), UTF-16 with BOM, else detected."""
    if not data.strip():
        raise LoadError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise LoadError("binary content (NUL bytes), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise LoadError("not UTF-8 and no text encoding could be detected (binary or corrupt file?)")
    return str(best)


def read_text_file(path: Path) -> Extracted:
    text = decode_text(path.read_bytes())
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > 0.05 * min(len(text), 8192):
        raise LoadError("binary content (control characters), not a text file")
    return Extracted(text=text)


def _lazy(module: str, name: str) -> Callable[[Path], Extracted]:
    """Format libraries (pypdf, docx, bs4) are imported only when such a file shows up."""

    def extract(path: Path) -> Extracted:
        import importlib

        return getattr(importlib.import_module(module), name)(path)

    return extract


EXTRACTORS: dict[str, Callable[[Path], Extracted]] = {
    ".txt": read_text_file,
    ".md": read_text_file,
    ".markdown": read_text_file,
    ".pdf": _lazy("ingest.formats", "read_pdf"),
    ".docx": _lazy("ingest.formats", "read_docx"),
    ".html": _lazy("ingest.formats", "read_html"),
    ".htm": _lazy("ingest.formats", "read_html"),
}
# Files in a corpus folder that are about the corpus, not part of it.
_SKIPPED_NAMES = {"readme.md", "metadata.csv"}


def doc_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def discover(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(root, file) pairs for every supported file under `paths`, sorted, symlink loops avoided."""
    found: list[tuple[Path, Path]] = []
    for given in paths:
        given = Path(given)
        if given.is_file():
            found.append((given.parent, given))
            continue
        if not given.is_dir():
            raise LoadError(f"{given}: no such file or folder")
        for dirpath, dirnames, filenames in os.walk(given, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or name.lower() in _SKIPPED_NAMES or ".meta." in name:
                    continue
                if path.suffix.lower() in EXTRACTORS:
                    found.append((given, path))
    return found


def load_document(root: Path, path: Path) -> LoadedDocument:
    source = path.relative_to(root).as_posix()
    extractor = EXTRACTORS.get(path.suffix.lower())
    if extractor is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(sorted(EXTRACTORS))}")
    try:
        content_hash = fingerprint(path)
        extracted = extractor(path)
    except LoadError:
        raise
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None
    except Exception as exc:  # a parser library failing on a corrupt file
        raise LoadError(f"cannot parse {path.suffix} file: {type(exc).__name__}: {exc}") from None
    if not extracted.text.strip():
        raise LoadError("no text found in the file")
    meta = document_metadata(extracted.text, path, extracted.properties)
    return LoadedDocument(
        doc_id=doc_id_for(source),
        source=source,
        path=path,
        root=root,
        text=extracted.text,
        title=meta["title"],
        date=meta["date"],
        author=meta["author"],
        content_hash=content_hash,
        page_starts=extracted.page_starts,
    )


def fingerprint(path: Path) -> str:
    """Content hash of the file plus its metadata sidecar, so editing either re-indexes it."""
    digest = hashlib.sha256(path.read_bytes())
    for suffix in (".meta.json", ".meta.yaml", ".meta.yml"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.is_file():
            digest.update(sidecar.read_bytes())
    return digest.hexdigest()
