"""Finding and reading documents: one small extractor function per file format.

An extractor turns a path into `Extracted` (raw text, file properties, page offsets) or raises
`LoadError` with a reason a user can act on. Nothing here stops at a bad file: `scan` reports
unusable entries (broken links, symlink loops) next to the files it found, and `load_document`
turns every way a file can fail into a `LoadError`.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ingest.metadata import MetadataError, document_metadata, metadata_table, sidecar_path
from rag.base.errors import InputError
from rag.base.settings import Settings

# The most text indexed from one document is Settings.max_document_mb (2**20 characters per MB);
# bigger files are reported, never half-read.
# Plain-text files are refused before reading when their size alone shows they exceed the limit
# (4 bytes per character covers UTF-8, UTF-16 and UTF-32).
_TEXT_BYTES_PER_CHAR = 4
# PDF/DOCX are mostly images and markup; refuse only files too big to parse safely in memory.
_MAX_CONTAINER_BYTES = 512 * 2**20
_PLAIN_TEXT = {".txt", ".md", ".markdown"}


class LoadError(InputError):
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


_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 65536


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the NUL bytes sit mostly at odd/even offsets, as in UTF-16 text
    (every ASCII character, newlines and spaces included, has a zero high byte)."""
    sample = data[: min(len(data), _SAMPLE) & ~1]
    pairs = len(sample) // 2
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if pairs < 2 or max(even, odd) < 0.01 * pairs or max(even, odd) < 4 * min(even, odd):
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


def _looks_single_byte_western(data: bytes) -> bool:
    """Non-ASCII bytes alone or in pairs between ASCII ones (é, ü, ’, "ção" in Western text),
    rather than in long runs (multi-byte CJK encodings, Cyrillic words)."""
    runs: list[int] = []
    current = 0
    for byte in data[:_SAMPLE]:
        if byte >= 0x80:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    if current:
        runs.append(current)
    if not runs:
        return False
    long_runs = sum(1 for n in runs if n >= 3)
    return sum(runs) / len(runs) <= 1.6 and long_runs <= 0.05 * len(runs)


def _control_share(text: str) -> float:
    sample = text[:_SAMPLE]
    control = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t\f") or 0x7F <= ord(ch) < 0xA0)
    return control / max(1, len(sample))


def decode_text(data: bytes) -> str:
    """Bytes of a text file to str, or LoadError saying why they are not text.

    UTF-8/16/32 with a BOM; UTF-16 without one (NUL-byte pattern); UTF-8; Western single-byte text
    as cp1252 (a superset of Latin-1's printable range); anything else as charset_normalizer
    detects it (Shift-JIS, EUC-KR, KOI8-R ...). Binary data is refused.
    """
    if not data:
        raise LoadError("empty file (0 bytes)")
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                raise LoadError(f"starts with a {encoding} byte-order mark but is not valid {encoding} (corrupt file?)") from None
            break
    if text is None:
        guess = _utf16_without_bom(data)
        if guess:
            try:
                candidate = data[: len(data) & ~1].decode(guess)
                if _control_share(candidate) < 0.01:
                    text = candidate
            except UnicodeDecodeError:
                pass
    if text is None:
        if b"\x00" in data[:_SAMPLE]:
            raise LoadError("binary content (NUL bytes), not a text file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    if not text.strip():
        raise LoadError("empty: the file holds only whitespace, no text")
    if _control_share(text) > 0.05:
        raise LoadError("binary content (control characters), not a text file")
    return text


def _decode_legacy(data: bytes) -> str:
    if _looks_single_byte_western(data):
        for encoding in ("cp1252", "latin-1"):  # cp1252 leaves 5 bytes undefined; Latin-1 none
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * _SAMPLE]).best()
    if best is None or best.chaos > 0.3:
        raise LoadError("binary content: not UTF-8 and no text encoding fits (binary or corrupt file?)")
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        raise LoadError(f"not UTF-8, and not valid {best.encoding} either (corrupt file?)") from None


def read_text_file(path: Path) -> Extracted:
    return Extracted(text=decode_text(path.read_bytes()))


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


def _wanted(name: str) -> bool:
    lower = name.lower()
    return not (name.startswith(".") or lower in _SKIPPED_NAMES or ".meta." in lower)


def _link_problem(path: Path) -> str | None:
    """Why a symlink cannot be followed (loop or missing target), or None if it can."""
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports loops this way
        return f"symlink loop ({path.name} -> {os.readlink(path)} leads back to itself)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"symlink loop ({path.name} -> {os.readlink(path)} leads back to itself)"
        if exc.errno == errno.ENOENT:
            return f"broken symlink: its target {os.readlink(path)} does not exist"
        return f"cannot follow symlink: {exc.strerror or exc}"
    return None


def scan(paths: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[LoadFailure]]:
    """(root, file) pairs for every supported file under `paths`, sorted, and the entries that
    cannot be used (missing paths, broken symlinks, symlink loops), each with its reason.

    Symlinked folders are followed unless they lead back to a folder already being walked (a
    loop, reported) or to one walked before (a duplicate, skipped).
    """
    found: list[tuple[Path, Path]] = []
    failures: list[LoadFailure] = []
    for given in paths:
        given = Path(given)
        if given.is_symlink() and (problem := _link_problem(given)):
            failures.append(LoadFailure(str(given), problem))
            continue
        if given.is_file():
            found.append((given.parent, given))
            continue
        if not given.is_dir():
            failures.append(LoadFailure(str(given), "no such file or folder"))
            continue
        visited: set[str] = set()

        def walk(folder: Path, ancestors: tuple[str, ...]) -> None:
            real = os.path.realpath(folder)
            visited.add(real)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                failures.append(LoadFailure(folder.relative_to(given).as_posix() or ".",
                                            f"cannot list folder: {exc.strerror or exc}"))
                return
            for entry in entries:
                if not _wanted(entry.name):
                    continue
                path = Path(entry.path)
                source = path.relative_to(given).as_posix()
                supported = path.suffix.lower() in EXTRACTORS
                if entry.is_symlink():
                    problem = _link_problem(path)
                    if problem:
                        if supported or not path.suffix:
                            failures.append(LoadFailure(source, problem))
                        continue
                    if path.is_dir():
                        target = os.path.realpath(path)
                        if target in ancestors + (real,):
                            failures.append(LoadFailure(source, f"symlink loop: the folder link points back to {target}"))
                        elif target not in visited:
                            walk(path, ancestors + (real,))
                        continue
                if entry.is_dir(follow_symlinks=False):
                    walk(path, ancestors + (real,))
                elif supported:
                    found.append((given, path))

        walk(given, ())
    return found, failures


def discover(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(root, file) pairs for every supported file under `paths`; raises LoadError for a path
    that does not exist. `scan` also returns what could not be used."""
    found, failures = scan(paths)
    for failure in failures:
        if failure.reason == "no such file or folder":
            raise LoadError(f"{failure.source}: no such file or folder")
    return found


def _size_problem(path: Path, max_mb: float) -> str | None:
    size = path.stat().st_size
    limit = max_mb * 2**20
    too_big = size > _TEXT_BYTES_PER_CHAR * limit if path.suffix.lower() in _PLAIN_TEXT else size > _MAX_CONTAINER_BYTES
    if too_big:
        return (f"too large: the file is {size / 2**20:.1f} MB; the limit is {max_mb:g} MB of text per "
                "document (setting max_document_mb); split it or raise the limit")
    return None


def load_document(root: Path, path: Path, max_mb: float = Settings.model_fields["max_document_mb"].default
                  ) -> LoadedDocument:
    source = path.relative_to(root).as_posix()
    extractor = EXTRACTORS.get(path.suffix.lower())
    if extractor is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(sorted(EXTRACTORS))}")
    if path.is_symlink() and (problem := _link_problem(path)):
        raise LoadError(problem)
    try:
        problem = _size_problem(path, max_mb)
        if problem:
            raise LoadError(problem)
        content_hash = fingerprint(path, root)
        extracted = extractor(path)
    except LoadError:
        raise
    except PermissionError:
        raise LoadError("permission denied (cannot read the file)") from None
    except IsADirectoryError:
        raise LoadError("is a folder, not a file") from None
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None
    except MemoryError:
        raise LoadError("too large to read into memory") from None
    except Exception as exc:  # a parser library failing on a corrupt file
        raise LoadError(f"cannot parse {path.suffix} file: {type(exc).__name__}: {exc}") from None
    if not extracted.text.strip():
        raise LoadError("no text found in the file")
    if len(extracted.text) > max_mb * 2**20:
        raise LoadError(f"too large: {len(extracted.text) / 2**20:.1f} MB of text; the limit is {max_mb:g} MB "
                        "of text per document (setting max_document_mb); split it or raise the limit")
    try:
        meta = document_metadata(extracted.text, path, extracted.properties, root)
    except MetadataError as exc:
        raise LoadError(f"metadata override: {exc}") from None
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


def fingerprint(path: Path, root: Path | None = None) -> str:
    """Content hash of the file plus its metadata overrides (sidecar, and its row of the corpus
    folder's metadata.csv when `root` is given), so editing any of them re-indexes it. A file
    without overrides hashes to the plain SHA-256 of its bytes."""
    digest = hashlib.sha256(path.read_bytes())
    sidecar = sidecar_path(path)
    if sidecar is not None:
        digest.update(sidecar.read_bytes())
    if root is not None:
        try:
            source = path.relative_to(root).as_posix()
        except ValueError:
            source = ""
        row = metadata_table(root).key(source) if source else ""
        if row:
            digest.update(b"\0metadata.csv\0" + row.encode("utf-8"))
    return digest.hexdigest()
