"""Uploaded files: checked (type, size), saved under `<corpus>/uploads/` with a safe name, indexed.

Files are indexed with the corpus folder as their root, so an upload gets the same source
(`uploads/<name>`) whether the UI indexes it or a later `briefing ingest` of the corpus sees it:
no duplicate documents.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

ALLOWED_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
UPLOAD_DIR = "uploads"
_MAX_NAME = 100
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def sanitize_filename(name: str) -> str:
    """A file name safe to create in the uploads folder: no directories, no traversal, no hidden
    or reserved names, only letters, digits, `.`, `-` and `_`, at most 100 characters, the
    extension kept (lower-cased). Returns "" when nothing usable is left."""
    name = unicodedata.normalize("NFKC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]  # last path component, whichever separator was used
    name = "".join(ch for ch in name if ch.isprintable())
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem)
    ascii_stem = re.sub(r"[-._]{2,}", lambda m: "-" if "-" in m.group() else m.group()[0], ascii_stem)
    ascii_stem = ascii_stem.strip(".-_ ")
    if not ascii_stem and not suffix:
        return ""
    if not ascii_stem or ascii_stem.lower() in _RESERVED:
        ascii_stem = f"upload-{ascii_stem}" if ascii_stem else "upload"
    ext = f".{suffix}" if suffix else ""
    return ascii_stem[: _MAX_NAME - len(ext)] + ext


@dataclass
class SavedUploads:
    saved: list[Path] = field(default_factory=list)  # paths inside the uploads folder
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (original name, reason)


def _original_name(item) -> str:
    """gr.File gives file paths (type="filepath") or objects with `.name`/`orig_name`."""
    if isinstance(item, (str, Path)):
        return Path(item).name
    return getattr(item, "orig_name", None) or Path(getattr(item, "name", "") or getattr(item, "path", "")).name


def _path_of(item) -> Path:
    if isinstance(item, (str, Path)):
        return Path(item)
    return Path(getattr(item, "path", None) or getattr(item, "name"))


def save_uploads(files: Iterable, corpus: Path, max_mb: float) -> SavedUploads:
    """Copy uploaded temp files into `<corpus>/uploads/` under sanitized names.

    Rejects unsupported types, empty files and files over `max_mb`; never writes outside the
    uploads folder. A file with the same (sanitized) name replaces the earlier upload.
    """
    result = SavedUploads()
    target_dir = (Path(corpus) / UPLOAD_DIR).resolve()
    limit = int(max_mb * 1024 * 1024)
    for item in files or []:
        if item is None:
            continue
        original = _original_name(item)
        source = _path_of(item)
        name = sanitize_filename(original)
        suffix = Path(name).suffix.lower()
        if not name or suffix not in ALLOWED_SUFFIXES:
            result.skipped.append((original, f"unsupported file type {suffix or '(none)'}; "
                                             f"allowed: {', '.join(ALLOWED_SUFFIXES)}"))
            continue
        try:
            size = source.stat().st_size
        except OSError as exc:
            result.skipped.append((original, f"cannot read the upload: {exc.strerror or exc}"))
            continue
        if size > limit:
            result.skipped.append((original, f"too large: {size / 1048576:.1f} MB, the limit is {max_mb:g} MB "
                                             "(BRIEFING_UPLOAD_MAX_MB)"))
            continue
        if size == 0:
            result.skipped.append((original, "empty file"))
            continue
        target = (target_dir / name).resolve()
        if target.parent != target_dir:  # belt and braces: sanitize_filename already prevents this
            result.skipped.append((original, "unsafe file name"))
            continue
        target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if target not in result.saved:
            result.saved.append(target)
    return result


def ingest_files(paths: list[Path], root: Path, settings, store, progress: bool = False):
    """Index `paths` (files inside the folder `root`) as documents of `root`, i.e. with sources
    relative to it (`uploads/<name>`), using only the public `ingest()`.

    `ingest()` roots a single file at its own parent, which would give an upload the source
    `<name>` here and `uploads/<name>` in a later `briefing ingest` of the corpus (a duplicate).
    So the files are copied into a private staging folder at the same relative paths, that
    folder is ingested, and the records' root is then pointed back at `root`.
    """
    from ingest.index import ingest

    root = Path(root).resolve()
    staging = Path(tempfile.mkdtemp(prefix="briefing-upload-"))
    try:
        for path in paths:
            relative = Path(path).resolve().relative_to(root)
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        report = ingest([staging], settings, store=store, progress=progress, log=lambda msg: None)
        touched = set(report.added) | set(report.updated) | set(report.unchanged)
        for record in store.document_records():
            if record.source in touched and record.root != str(root):
                store.update_root(record, str(root))
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)
