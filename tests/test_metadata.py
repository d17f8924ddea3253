"""Title, date and author: what the bundled documents show, and the user's overrides (a sidecar
next to the file, one metadata.csv per corpus folder), dates normalised to ISO."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.load import LoadError, fingerprint, load_document
from ingest.metadata import MetadataError, metadata_table, override_date, parse_metadata_csv

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

ASAN = "asan-issue-brief-2025-43-japan-under-takaichi.txt"
FORWARD = "japan-forward-choi-eunmi-interview.txt"
HERALD = "korea-herald-takaichi-supermajority-seoul.txt"
COALITION = "takaichi-coalition-security-trump-talks.txt"
TOKUCHI = "tokuchi-nss-revision-japan-korea-partnership.txt"


def _doc(name: str, root: Path = CORPUS):
    return load_document(root, root / name)


# ------------------------------------------------------------------ the bundled corpus (corpus/README.md)


def test_asan_brief():
    doc = _doc(ASAN)
    assert doc.title.startswith('Japan under Takaichi: The Turn to an "Active Player" in Foreign and Security Policy')
    assert doc.title.endswith("What It Means for Korea")
    assert (doc.date, doc.author) == ("2025-12-29", "Choi Eunmi")


def test_tokuchi_commentary():
    doc = _doc(TOKUCHI)
    assert doc.title == ("Prospects for the Revision of the National Security Strategy Under Japan’s New "
                         "Leadership and the Future of the Japan-Korea Security Partnership")
    assert (doc.date, doc.author) == ("2025-11-20", "Hideshi Tokuchi")


def test_korea_herald_has_a_date_but_no_title_or_author():
    doc = _doc(HERALD)
    assert (doc.title, doc.date, doc.author) == ("", "2026-02-10", "")


def test_japan_forward_has_an_author_but_no_date():
    doc = _doc(FORWARD)
    assert doc.author == "Kenji Yoshida"
    assert doc.date == ""
    assert doc.title == ""  # it opens with its standfirst, not a headline


def test_coalition_article_has_a_title_only():
    doc = _doc(COALITION)
    assert doc.title.startswith("Takaichi’s Bold Move: ")
    assert doc.title.endswith("Navigate Talks with President Trump")
    assert (doc.date, doc.author) == ("", "")


# ------------------------------------------------------------------ override dates


@pytest.mark.parametrize("given, expected", [
    ("2025-12-29", "2025-12-29"),
    ("2025/12/29", "2025-12-29"),
    ("December 29, 2025", "2025-12-29"),
    ("29 Dec 2025", "2025-12-29"),
    ("29/12/2025", "2025-12-29"),
    ("12/29/2025", "2025-12-29"),
    ("29.12.2025", "2025-12-29"),
    ("2025-10", "2025-10"),
    ("October 2025", "2025-10"),
    ("2025", "2025"),
    ("2025-11-03T08:00:00+00:00", "2025-11-03"),
])
def test_override_dates_are_normalised_to_iso(given, expected):
    assert override_date(given) == expected


def test_yaml_dates_arrive_as_date_objects():
    import datetime as dt

    assert override_date(dt.date(2025, 12, 29)) == "2025-12-29"
    assert override_date(dt.datetime(2025, 12, 29, 8, 30)) == "2025-12-29"


@pytest.mark.parametrize("given, reason", [
    ("03/04/2025", "ambiguous"),
    ("next Tuesday", "not a date"),
    ("2025-13-45", "not a date"),
])
def test_unreadable_override_dates_are_refused(given, reason):
    with pytest.raises(MetadataError, match=reason):
        override_date(given)


# ------------------------------------------------------------------ sidecar and metadata.csv


@pytest.fixture
def folder(tmp_path) -> Path:
    for name in (ASAN, HERALD, COALITION):
        shutil.copy(CORPUS / name, tmp_path / name)
    return tmp_path


def test_yaml_sidecar_overrides_and_normalises(folder):
    (folder / f"{HERALD}.meta.yaml").write_text(
        "title: Takaichi's supermajority and Seoul\nauthor: Kim Arin\ndate: Feb 10, 2026\n", encoding="utf-8")
    doc = _doc(HERALD, folder)
    assert (doc.title, doc.date, doc.author) == ("Takaichi's supermajority and Seoul", "2026-02-10", "Kim Arin")


def test_json_sidecar_overrides_only_the_fields_it_gives(folder):
    (folder / f"{COALITION}.meta.json").write_text(json.dumps({"date": "2025-10-21", "author": ""}), encoding="utf-8")
    doc = _doc(COALITION, folder)
    assert doc.date == "2025-10-21"
    assert doc.author == ""  # an empty value overrides nothing
    assert doc.title.startswith("Takaichi’s Bold Move: ")


def test_broken_sidecar_is_reported_for_that_file(folder):
    (folder / f"{HERALD}.meta.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"meta\.yaml"):
        _doc(HERALD, folder)
    (folder / f"{HERALD}.meta.yaml").write_text("date: 03/04/2026\n", encoding="utf-8")
    with pytest.raises(LoadError, match="ambiguous"):
        _doc(HERALD, folder)


def test_metadata_csv_overrides_by_relative_path(folder):
    sub = folder / "sub"
    sub.mkdir()
    shutil.move(folder / COALITION, sub / COALITION)
    (folder / "metadata.csv").write_text(
        "file,title,date,author\n"
        f"{HERALD},Seoul faces a stronger Japan,10/02/2026,\n"  # 10 Feb or Oct 2? ambiguous
        f"./sub/{COALITION},,October 2025,Staff writer\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadError, match="ambiguous"):
        _doc(HERALD, folder)
    (folder / "metadata.csv").write_text(
        "File,Title,Date,Author\n"
        f"{HERALD},Seoul faces a stronger Japan,2026-02-10,\n"
        f"./sub/{COALITION},,October 2025,Staff writer\n",
        encoding="utf-8",
    )
    herald = _doc(HERALD, folder)
    assert (herald.title, herald.date, herald.author) == ("Seoul faces a stronger Japan", "2026-02-10", "")
    coalition = load_document(folder, sub / COALITION)
    assert coalition.title.startswith("Takaichi’s Bold Move: ")  # blank cell: the extracted title stays
    assert (coalition.date, coalition.author) == ("2025-10", "Staff writer")
    asan = _doc(ASAN, folder)  # no row: what the text shows
    assert (asan.date, asan.author) == ("2025-12-29", "Choi Eunmi")


def test_sidecar_beats_metadata_csv(folder):
    (folder / "metadata.csv").write_text(f"file,author\n{HERALD},From CSV\n", encoding="utf-8")
    assert _doc(HERALD, folder).author == "From CSV"
    (folder / f"{HERALD}.meta.yaml").write_text("author: From Sidecar\n", encoding="utf-8")
    assert _doc(HERALD, folder).author == "From Sidecar"


def test_csv_written_by_excel(folder):
    """Excel writes a BOM (UTF-8) or cp1252, and ';' in some locales."""
    data = f"file;title;date;author\r\n{HERALD};Séoul – a stronger Japan;10 February 2026;Kim Arin\r\n"
    (folder / "metadata.csv").write_bytes(data.encode("cp1252"))
    doc = _doc(HERALD, folder)
    assert (doc.title, doc.date, doc.author) == ("Séoul – a stronger Japan", "2026-02-10", "Kim Arin")
    (folder / "metadata.csv").write_bytes(b"\xef\xbb\xbf" + data.encode("utf-8"))
    assert _doc(HERALD, folder).title == "Séoul – a stronger Japan"


def test_csv_without_file_column_is_an_error_for_the_table():
    table = parse_metadata_csv(b"name,title\nx.txt,X\n")
    assert "no 'file' column" in table.error
    assert table.rows == {}


def test_fingerprint_changes_only_with_the_files_own_row(folder):
    plain = {name: fingerprint(folder / name, folder) for name in (ASAN, HERALD)}
    import hashlib

    assert plain[ASAN] == hashlib.sha256((folder / ASAN).read_bytes()).hexdigest()  # no overrides: plain hash
    (folder / "metadata.csv").write_text(f"file,title\n{HERALD},One\n", encoding="utf-8")
    first = fingerprint(folder / HERALD, folder)
    assert first != plain[HERALD]
    assert fingerprint(folder / ASAN, folder) == plain[ASAN]
    (folder / "metadata.csv").write_text(f"file,title\n{HERALD},Two\n", encoding="utf-8")
    assert fingerprint(folder / HERALD, folder) not in (first, plain[HERALD])
    assert metadata_table(folder).rows[HERALD] == {"title": "Two"}


def test_docx_properties_lose_to_metadata_csv(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("A short paragraph about maritime security cooperation in the region.")
    document.core_properties.title = "Title From Properties"
    document.core_properties.author = "Property Author"
    document.save(tmp_path / "brief.docx")
    doc = load_document(tmp_path, tmp_path / "brief.docx")
    assert (doc.title, doc.author) == ("Title From Properties", "Property Author")
    (tmp_path / "metadata.csv").write_text("file,title,date\nbrief.docx,Title From CSV,2024-03-01\n", encoding="utf-8")
    doc = load_document(tmp_path, tmp_path / "brief.docx")
    assert (doc.title, doc.author, doc.date) == ("Title From CSV", "Property Author", "2024-03-01")


# ------------------------------------------------------------------ through ingest()


SMALL = {
    "alpha.txt": "Alpha Report on Ports\n\nBy Jane Doe\n\nThe port of Busan expanded its container terminal in 2024. "
                 "Officials said the expansion doubled capacity.\n",
    "beta.txt": "Beta Note on Fisheries\n\nFishing quotas in the East Sea were revised last spring. "
                "The revision cut catches by a fifth.\n",
}


def test_changing_metadata_csv_reindexes_only_the_affected_document(tmp_path):
    from ingest.index import ingest
    from ingest.store import Store
    from rag.base.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in SMALL.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "metadata.csv").write_text("file,title,date,author\nalpha.txt,Ports of Korea,5 March 2024,\n",
                                         encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "index", openai_api_key="", openai_base_url="")
    report = ingest([corpus], settings, progress=False)
    assert report.ok and sorted(report.added) == ["alpha.txt", "beta.txt"], report.summary()
    records = {r.source: r for r in Store(settings).document_records()}
    assert (records["alpha.txt"].title, records["alpha.txt"].date, records["alpha.txt"].author) == \
        ("Ports of Korea", "2024-03-05", "Jane Doe")
    assert records["beta.txt"].title == "Beta Note on Fisheries"

    (corpus / "metadata.csv").write_text("file,title,date,author\nalpha.txt,Ports of Korea,5 March 2024,\n"
                                         "beta.txt,,2023-04-01,Lee Min\n", encoding="utf-8")
    report = ingest([corpus], settings, progress=False)
    assert (report.updated, report.unchanged) == (["beta.txt"], ["alpha.txt"]), report.summary()
    beta = {r.source: r for r in Store(settings).document_records()}["beta.txt"]
    assert (beta.title, beta.date, beta.author) == ("Beta Note on Fisheries", "2023-04-01", "Lee Min")
    # the chunks carry the new metadata too (retrieval filters and citations read it there)
    chunks = Store(settings).chunks.get(where={"doc_id": beta.doc_id}, include=["metadatas"])["metadatas"]
    assert chunks and all(m["date"] == "2023-04-01" and m["author"] == "Lee Min" for m in chunks)

    (corpus / "metadata.csv").write_text("title,author\nx,y\n", encoding="utf-8")  # unusable: no file column
    report = ingest([corpus], settings, progress=False)
    assert not report.ok
    assert [f.source for f in report.failed] == ["metadata.csv"]
    assert "no 'file' column" in report.failed[0].reason
    assert sorted(report.updated) == ["alpha.txt", "beta.txt"]  # overrides gone: back to the text's metadata
