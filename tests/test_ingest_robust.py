"""Ingest survives bad files and touches only what changed.

Every bad case is generated here: corrupt and password-protected PDFs, a scanned PDF, empty and
whitespace-only files, binary junk named .txt, a 50 MB text file, an unreadable file, symlink
loops and a dangling link. Each is reported by name with its reason, the good files are indexed
and the report (and the CLI's exit code) says something failed.
"""

from __future__ import annotations

import io
import os
import random
import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from ingest.index import ingest
from ingest.load import LoadError, decode_text, doc_id_for, scan
from ingest.pipeline import EmbedPipeline
from ingest.store import Store
from rag.base.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

GOOD = {
    "ports.txt": "Ports and Power\n\nBy Jane Doe\n\nThe port of Busan expanded its container terminal in 2024. "
                 "Officials said the expansion doubled capacity and attracted new shipping lines.\n\n"
                 "Critics warned that dredging harmed the fisheries of the bay.\n",
    "fisheries.md": "# Fisheries in the East Sea\n\nFishing quotas in the East Sea were revised last spring. "
                    "The revision cut catches by a fifth and angered coastal towns.\n",
}
LATIN1 = ("Négociations à Séoul\n\nLe ministre a déclaré que la coopération régionale était "
          "nécessaire. Les réunions reprendront en été à Séoul.\n")
UTF16 = "Weather Cooperation\n\nThe two agencies agreed to share typhoon forecasts every six hours.\n"


# ------------------------------------------------------------------------------ PDF fixtures


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a text layer (or, for no lines, a page with a drawing and no text)."""
    content = ("BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({t}) Tj T*" for t in lines) + " ET") if lines \
        else "72 720 m 300 500 l S"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content.encode("latin-1")),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(["Secret text about submarines."]))))
    writer.encrypt(user_password="open-sesame", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _settings(tmp_path: Path, name: str = "index") -> Settings:
    return Settings(data_dir=tmp_path / name, answer_mode="extractive", openai_api_key="", openai_base_url="")


def _write_good(folder: Path) -> None:
    for name, text in GOOD.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "latin1.txt").write_bytes(LATIN1.encode("latin-1"))
    (folder / "utf16.txt").write_bytes(UTF16.encode("utf-16-le"))  # no BOM


# ------------------------------------------------------------------------------ the bad corpus


BAD_REASONS = {
    "corrupt.pdf": "corrupt PDF",
    "locked.pdf": "password-protected",
    "scanned.pdf": "no text layer",
    "empty.txt": "empty file",
    "blank.txt": "only whitespace",
    "junk.txt": "binary content",
    "huge.txt": "too large",
    "unreadable.txt": "permission denied",
    "loop-a.txt": "symlink loop",
    "loop-b.txt": "symlink loop",
    "self.md": "symlink loop",
    "dangling.txt": "broken symlink",
    "sub/back": "symlink loop",
}


@pytest.fixture
def bad_corpus(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write_good(folder)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\ngarbage" + os.urandom(300))
    (folder / "locked.pdf").write_bytes(_encrypted_pdf())
    (folder / "scanned.pdf").write_bytes(_pdf([]))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("  \n\n\t  \n")
    (folder / "junk.txt").write_bytes(random.Random(7).randbytes(20000))
    with open(folder / "huge.txt", "wb") as fh:  # 50 MB of real-looking text
        line = (GOOD["ports.txt"].replace("\n", " ") + "\n").encode()
        fh.write(line * (50 * 2**20 // len(line) + 1))
    unreadable = folder / "unreadable.txt"
    unreadable.write_text("You should not be able to read this.")
    if os.geteuid() != 0:
        unreadable.chmod(0)
    else:  # root reads anything: simulate what an unreadable file does to us
        real_read_bytes = Path.read_bytes

        def read_bytes(self):
            if self.name == "unreadable.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real_read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    os.symlink("loop-b.txt", folder / "loop-a.txt")
    os.symlink("loop-a.txt", folder / "loop-b.txt")
    os.symlink("self.md", folder / "self.md")
    os.symlink("gone.txt", folder / "dangling.txt")
    sub = folder / "sub"
    sub.mkdir()
    (sub / "nested.txt").write_text("Nested note\n\nThe nested note says the coast guard bought two cutters.\n")
    os.symlink("..", sub / "back")  # a folder loop
    yield folder
    unreadable.chmod(0o644)


def test_each_bad_file_is_reported_and_the_rest_indexed(bad_corpus, tmp_path):
    settings = _settings(tmp_path)
    report = ingest([bad_corpus], settings, progress=False)
    failed = {f.source: f.reason for f in report.failed}
    assert set(failed) == set(BAD_REASONS), report.summary()
    for source, reason in BAD_REASONS.items():
        assert reason in failed[source], (source, failed[source])
    assert "50.0 MB" in failed["huge.txt"] and "limit is 10 MB" in failed["huge.txt"]
    assert sorted(report.added) == ["fisheries.md", "latin1.txt", "ports.txt", "sub/nested.txt", "utf16.txt"]
    assert not report.ok
    assert "failed: huge.txt: too large" in report.summary()

    store = Store(settings)
    texts = {r.source: store.document_text(r.doc_id) for r in store.document_records()}
    assert texts["latin1.txt"] == LATIN1  # decoded, not mangled
    assert texts["utf16.txt"] == UTF16


def test_cli_exit_code_says_some_failed(bad_corpus, tmp_path, capsys):
    from rag.cli import main

    code = main(["--data-dir", str(tmp_path / "cli-index"), "ingest", str(bad_corpus), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "13 failed" in out and "corrupt.pdf: corrupt PDF" in out
    good = tmp_path / "good"
    good.mkdir()
    _write_good(good)
    assert main(["--data-dir", str(tmp_path / "cli-index2"), "ingest", str(good), "--no-progress"]) == 0


def test_missing_path_is_reported_not_raised(tmp_path):
    report = ingest([tmp_path / "nope"], _settings(tmp_path), progress=False)
    assert [(f.source, f.reason) for f in report.failed] == [(str(tmp_path / "nope"), "no such file or folder")]


def test_symlinked_folder_is_followed_once(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.txt").write_text("Outside note\n\nThe outside note is real text.\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    os.symlink(outside, corpus / "linked")
    os.symlink(outside, corpus / "linked-again")  # same target: indexed once
    found, failures = scan([corpus])
    assert [p.relative_to(corpus).as_posix() for _, p in found] == ["linked/a.txt"]
    assert failures == []


# ------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize("text, encoding", [
    ("Café au lait in Séoul: the président’s “visit” costs €5 – a record.\n", "cp1252"),
    ("Über die Größe der Übung äußerte sich die Ministerin.\n", "latin-1"),
    ("A negociação das sanções não avançou.\n", "latin-1"),
    ("Typhoon forecast — 高市 2025\n" * 3, "utf-16"),
    ("Typhoon forecast — 高市 2025\n" * 3, "utf-16-le"),
    ("Typhoon forecast — 高市 2025\n" * 3, "utf-16-be"),
    ("高市首相は安全保障政策の転換を進めている。\n", "utf-16-le"),
    ("Typhoon forecast\n", "utf-32"),
    ("Typhoon forecast\n", "utf-8-sig"),
    ("高市首相は安全保障政策の転換を進めている。日韓関係は安定している。\n", "shift_jis"),
    ("다카이치 총리는 안보 정책의 전환을 추진하고 있다. 한일 관계는 안정적이다.\n", "euc-kr"),
])
def test_common_encodings_are_detected(text, encoding):
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b" \r\n\t", "only whitespace"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "binary content"),
    (bytes(b or 1 for b in random.Random(1).randbytes(4000)), "binary content"),  # no NUL bytes at all
    (b"\x7fELF\x02\x01\x01" + bytes(500), "binary content"),
])
def test_binary_and_empty_data_are_refused(data, reason):
    with pytest.raises(LoadError, match=reason):
        decode_text(data)


# ------------------------------------------------------------------------------ only what changed


@pytest.fixture
def indexed(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write_good(folder)
    settings = _settings(tmp_path)
    report = ingest([folder], settings, progress=False)
    assert report.ok, report.summary()
    return folder, settings


def _chunk_ids(store: Store) -> dict[str, set[str]]:
    got = store.chunks.get(include=["metadatas"])
    out: dict[str, set[str]] = {}
    for cid, meta in zip(got["ids"], got["metadatas"]):
        out.setdefault(meta["source"], set()).add(cid)
    return out


def _forbidden(*args, **kwargs):
    raise AssertionError("nothing changed, yet something tried to embed or write")


class ReadOnlyStore(Store):
    write_documents = delete_document = update_root = _forbidden


def test_unchanged_corpus_is_zero_writes_without_the_model(indexed):
    folder, settings = indexed
    store = ReadOnlyStore(settings)
    report = ingest([folder], settings, store=store, progress=False,
                    pipeline=partial(EmbedPipeline, pool=_forbidden, embed_inline=_forbidden))
    assert report.ok and report.chunks_written == 0 and store.writes == 0
    assert sorted(report.unchanged) == sorted(["fisheries.md", "latin1.txt", "ports.txt", "utf16.txt"])


def test_editing_a_file_changes_only_its_chunks(indexed):
    folder, settings = indexed
    before = _chunk_ids(Store(settings))
    (folder / "ports.txt").write_text(GOOD["ports.txt"] + "\nA second terminal opens in 2027.\n", encoding="utf-8")
    report = ingest([folder], settings, progress=False)
    assert report.updated == ["ports.txt"] and not report.added and not report.removed
    after = _chunk_ids(Store(settings))
    assert after["ports.txt"].isdisjoint(before["ports.txt"])  # the old version is gone entirely
    for source in ("fisheries.md", "latin1.txt", "utf16.txt"):
        assert after[source] == before[source]
    store = Store(settings)
    doc_id = doc_id_for("ports.txt")
    sentences = store.sentences.get(where={"doc_id": doc_id}, include=["metadatas"])["metadatas"]
    assert {m["chunk_id"] for m in sentences} == after["ports.txt"]
    assert "A second terminal opens in 2027." in store.document_text(doc_id)


def test_deleting_a_file_removes_its_chunks(indexed):
    folder, settings = indexed
    (folder / "fisheries.md").unlink()
    report = ingest([folder], settings, progress=False)
    assert report.removed == ["fisheries.md"]
    store = Store(settings)
    doc_id = doc_id_for("fisheries.md")
    for collection in (store.chunks, store.sentences):
        assert collection.get(where={"doc_id": doc_id})["ids"] == []
    assert doc_id not in {r.doc_id for r in store.document_records()}
    # and retrieval no longer finds it
    vector = np.asarray(store.chunks.get(include=["embeddings"], limit=1)["embeddings"][0])
    ids, _, metas = store.query("chunks", vector, 50)
    assert all(m["doc_id"] != doc_id for m in metas)


def test_a_file_turning_bad_is_reported_and_the_others_indexed(indexed):
    folder, settings = indexed
    (folder / "new.txt").write_bytes(random.Random(3).randbytes(5000))
    (folder / "another.txt").write_text("Another note\n\nThe ministry opened a new consulate in Busan.\n")
    report = ingest([folder], settings, progress=False)
    assert [f.source for f in report.failed] == ["new.txt"]
    assert report.added == ["another.txt"]
    assert len(report.unchanged) == 4


def test_document_limit_is_configurable(tmp_path, monkeypatch):
    """Settings.max_document_mb (BRIEFING_MAX_DOCUMENT_MB) bounds the text indexed per document."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "big.txt").write_text("Big note\n\n" + "The committee met again and agreed on nothing. " * 3000)
    report = ingest([folder], _settings(tmp_path).model_copy(update={"max_document_mb": 0.05}), progress=False)
    assert [f.source for f in report.failed] == ["big.txt"]
    assert "too large" in report.failed[0].reason and "0.05 MB" in report.failed[0].reason


def test_empty_folder_and_removal_of_everything(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "one.txt").write_text("One note\n\nThe only note in this folder.\n")
    settings = _settings(tmp_path)
    assert ingest([folder], settings, progress=False).added == ["one.txt"]
    shutil.rmtree(folder)
    folder.mkdir()
    report = ingest([folder], settings, progress=False)
    assert report.removed == ["one.txt"] and report.ok
    assert Store(settings).count() == 0


def test_same_relative_path_in_two_folders_is_reported(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, word in ((one, "first"), (two, "second")):
        folder.mkdir()
        (folder / "note.txt").write_text(f"Note\n\nThe {word} folder's note talks about ports.\n")
    report = ingest([one, two], _settings(tmp_path), progress=False)
    assert report.added == ["note.txt"]
    assert [f.source for f in report.failed] == [str(two / "note.txt")]
    assert "only the first is indexed" in report.failed[0].reason


def test_a_run_of_headings_is_cut_into_chunks(tmp_path):
    """An index page is thousands of short heading-like lines: they travel together only up to a
    few chunks' worth (before, the whole page was one 18,000-word chunk, built in quadratic time)."""
    from ingest.chunk import chunk_document
    from ingest.load import load_document

    page = tmp_path / "index.txt"
    page.write_text("Index\n\n" + "\n\n".join(f"Entry number {i} of the index" for i in range(3000))
                    + "\n\nThe end of the index is a full sentence here.\n", encoding="utf-8")
    doc = load_document(tmp_path, page)
    chunks = chunk_document(doc, target_words=180, overlap=1)
    assert all(u.is_heading for c in chunks[:-1] for u in c.units)  # the lines are headings
    assert len(chunks) >= 20 and max(len(c.text.split()) for c in chunks) <= 4 * 180 + 10
    assert chunks[-1].text.endswith("full sentence here.")


def test_the_sentence_graph_is_built_sparse(tmp_path):
    """Questions search the read cache, never Chroma's graphs: the sentences' graph, the costly
    one at ingest, is built with few neighbours; the chunks' keeps Chroma's defaults."""
    store = Store(Settings(data_dir=tmp_path, answer_mode="extractive", openai_api_key="", openai_base_url=""))
    sentences = store.sentences.configuration["hnsw"]
    chunks = store.chunks.configuration["hnsw"]
    assert (sentences["ef_construction"], sentences["max_neighbors"]) == (8, 4)
    assert (chunks["ef_construction"], chunks["max_neighbors"]) == (100, 16)
    assert sentences["space"] == chunks["space"] == "cosine"
