"""PDF, DOCX and HTML extractors, on fixtures built inside each test (no binary files committed)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from ingest.formats import read_docx, read_html, read_pdf, reflow
from ingest.load import EXTRACTORS, LoadError


# ------------------------------------------------------------------------------ PDF fixtures


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(pages: list[list[str]], info: dict[str, str] | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text line per entry; an empty page list draws a line, no text."""
    body: dict[int, bytes] = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
                              3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
    page_ids, next_id = [], 4
    for lines in pages:
        page_id, content_id = next_id, next_id + 1
        next_id += 2
        if lines:
            ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"] + [f"{_pdf_string(line)} Tj T*" for line in lines] + ["ET"]
        else:
            ops = ["72 720 m 300 500 l S"]
        stream = "\n".join(ops).encode("latin-1")
        body[content_id] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
        body[page_id] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                         f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>").encode()
        page_ids.append(page_id)
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    body[2] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    trailer_info = ""
    if info:
        body[next_id] = ("<< " + " ".join(f"/{k} {_pdf_string(v)}" for k, v in info.items()) + " >>").encode("latin-1")
        trailer_info = f" /Info {next_id} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for oid in sorted(body):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n" % oid + body[oid] + b"\nendobj\n"
    xref_at, size = len(out), max(body) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(1, size))
    out += f"trailer\n<< /Size {size} /Root 1 0 R{trailer_info} >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


PAGE_ONE = ["Regional Security Outlook", "The security situation in the region has", "deteriorated because of secu-",
            "rity failures at the border.", "Officials expect talks in March."]
PAGE_TWO = ["Second page begins here.", "It ends here."]
INFO = {"Title": "Regional Security Outlook 2026", "Author": "Jane Analyst", "CreationDate": "D:20251229103000+01'00'"}


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _encrypted(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([PAGE_TWO]))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------------ PDF tests


def test_pdf_text_pages_and_metadata(tmp_path):
    path = _write(tmp_path, "brief.pdf", make_pdf([PAGE_ONE, PAGE_TWO], INFO))
    got = read_pdf(path)
    lines = got.text.split("\n\n")[0].split("\n")
    assert lines == [
        "Regional Security Outlook",
        "The security situation in the region has deteriorated because of security failures at the border.",
        "Officials expect talks in March.",
    ]
    assert len(got.page_starts) == 2 and got.page_starts[0] == 0
    assert got.text[got.page_starts[1]:].startswith("Second page begins here.")
    assert got.text[got.page_starts[1] - 2:got.page_starts[1]] == "\n\n"
    assert got.properties == {"title": "Regional Security Outlook 2026", "author": "Jane Analyst", "date": "2025-12-29"}


def test_pdf_goes_through_the_registry(tmp_path):
    path = _write(tmp_path, "brief.PDF", make_pdf([PAGE_TWO]))
    assert EXTRACTORS[".pdf"](path).text == "Second page begins here.\nIt ends here."


def test_pdf_without_metadata_has_no_properties(tmp_path):
    path = _write(tmp_path, "plain.pdf", make_pdf([PAGE_TWO], {"Title": "Microsoft Word - draft3.docx", "Author": ""}))
    assert read_pdf(path).properties == {}


def test_pdf_with_user_password_is_refused(tmp_path):
    path = _write(tmp_path, "locked.pdf", _encrypted("s3cret"))
    with pytest.raises(LoadError, match="password"):
        read_pdf(path)


def test_pdf_with_owner_password_only_opens(tmp_path):
    path = _write(tmp_path, "restricted.pdf", _encrypted(""))
    assert "Second page begins here." in read_pdf(path).text


@pytest.mark.parametrize("data", [b"%PDF-1.4\n\x00\x01garbage\xff" * 20, b"not a pdf at all", b""])
def test_corrupt_pdf(tmp_path, data):
    path = _write(tmp_path, "broken.pdf", data)
    with pytest.raises(LoadError, match="corrupt PDF"):
        read_pdf(path)


def test_pdf_without_text_layer(tmp_path):
    path = _write(tmp_path, "scan.pdf", make_pdf([[], []]))
    with pytest.raises(LoadError, match="scanned"):
        read_pdf(path)


def test_pdf_page_without_text_keeps_page_offsets(tmp_path):
    path = _write(tmp_path, "mixed.pdf", make_pdf([PAGE_TWO, [], ["Third page."]]))
    got = read_pdf(path)
    assert got.text[got.page_starts[2]:] == "Third page."
    assert got.page_starts[1] == got.page_starts[2] - 2


@pytest.mark.parametrize("raw, expected", [
    ("wrapped in the\nmiddle", "wrapped in the middle"),
    ("secu-\nrity", "security"),
    ("well-\nKnown", "well-\nKnown"),
    ("Heading\nBody starts here.", "Heading\nBody starts here."),
    ("Ends a sentence.\nnext lowercase", "Ends a sentence.\nnext lowercase"),
    ("paragraph one\n\nparagraph two", "paragraph one\nparagraph two"),
    ("talks with\nJapan and the\nUnited States.", "talks with Japan and the United States."),
    ("• first item that\ncontinues\n• second", "• first item that continues\n• second"),
    ("ﬁnal  spaced\x00 out", "final spaced out"),
])
def test_reflow(raw, expected):
    assert reflow(raw) == expected


# ----------------------------------------------------------------------------------- DOCX tests


def test_docx_paragraphs_tables_and_properties(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Energy Briefing", level=1)
    document.add_paragraph("First paragraph about gas supplies.")
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Country", "Imports"
    table.cell(1, 0).text, table.cell(1, 1).text = "Japan", "42%"
    merged = table.cell(2, 0).merge(table.cell(2, 1))
    merged.text = "Source: ministry data"
    document.add_paragraph("Closing paragraph.")
    props = document.core_properties
    props.title, props.author = "Energy Briefing Q4", "Kenji Sato"
    props.created = dt.datetime(2025, 12, 29, 9, 30)
    path = tmp_path / "brief.docx"
    document.save(path)

    got = read_docx(path)
    assert got.text.split("\n") == [
        "Energy Briefing",
        "First paragraph about gas supplies.",
        "Country | Imports",
        "Japan | 42%",
        "Source: ministry data",
        "Closing paragraph.",
    ]
    assert got.properties == {"title": "Energy Briefing Q4", "author": "Kenji Sato", "date": "2025-12-29"}
    assert got.page_starts == ()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
WORD_XML = [
    # a block content control, as in Word cover pages and templates
    f'<w:sdt {W}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>Cover title</w:t></w:r></w:p></w:sdtContent></w:sdt>',
    # tracked changes: the inserted text counts, the deleted text does not; tab-stop definitions are no tabs
    f'<w:p {W}><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t xml:space="preserve">Talks </w:t></w:r>'
    '<w:del w:id="1" w:author="x"><w:r><w:delText>failed </w:delText></w:r></w:del>'
    '<w:ins w:id="2" w:author="x"><w:r><w:t>resumed</w:t></w:r></w:ins><w:r><w:tab/><w:t>today.</w:t></w:r></w:p>',
    # a text box (modern drawing with its VML fallback copy): its text follows the anchor paragraph once
    f'<w:p {W} {MC}><w:r><w:t>Anchor paragraph.</w:t></w:r><w:r><mc:AlternateContent>'
    '<mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>Box text.</w:t></w:r></w:p>'
    '</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Box text.</w:t>'
    '</w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>',
]


def test_docx_content_controls_tracked_changes_text_boxes_merged_rows(tmp_path):
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    body = document.element.body
    for xml in WORD_XML:
        body.insert(len(body) - 1, parse_xml(xml))  # before the closing w:sectPr
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Region", "Status"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "North"
    table.cell(1, 1).text, table.cell(2, 1).text = "calm", "tense"
    path = tmp_path / "word.docx"
    document.save(path)
    assert read_docx(path).text.split("\n") == [
        "Cover title", "Talks resumed today.", "Anchor paragraph.", "Box text.",
        "Region | Status", "North | calm", "tense",
    ]


@pytest.mark.parametrize("data, reason", [
    (b"this is junk, not a zip" * 10, "corrupt DOCX"),
    (b"PK\x03\x04" + b"\x00" * 100, "corrupt DOCX"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "password-protected, or an old"),
])
def test_bad_docx(tmp_path, data, reason):
    path = _write(tmp_path, "bad.docx", data)
    with pytest.raises(LoadError, match=reason):
        read_docx(path)


# ----------------------------------------------------------------------------------- HTML tests

NOISY_PAGE = """<!doctype html>
<html><head>
<title>Ports and Power | Example Institute</title>
<meta property="og:title" content="Ports and Power">
<meta name="author" content="Maria Lopez">
<meta property="article:published_time" content="2025-11-03T08:00:00+00:00">
<script>var tracking = "SCRIPT_TEXT";</script>
<style>.x { color: red }</style>
</head><body>
<header class="site-header"><a href="/">Example Institute</a></header>
<nav><ul><li>Home</li><li>Research</li></ul></nav>
<div class="cookie-banner">We use cookies.</div>
<main>
<article>
  <header><h1>Ports and Power</h1><p class="byline">By Maria Lopez</p></header>
  <p>Shipping lanes  are
     contested.</p>
  <div class="share-buttons"><a>Facebook</a><a>Twitter</a></div>
  <p>Second <em>important</em> paragraph.<br>After a break.</p>
  <ul><li>Point one</li><li>Point two</li></ul>
  <table><tr><th>Port</th><th>Tonnage</th></tr><tr><td>Busan</td><td>1.2m</td></tr></table>
  <script>document.write("SCRIPT_TEXT")</script>
  <!-- an HTML comment -->
  <p hidden>Hidden text</p>
  <footer>Tags: shipping</footer>
</article>
<section id="comments"><h3>3 Comments</h3><p>Great post!</p></section>
<aside>Related reading</aside>
</main>
<footer class="site-footer">Copyright 2025</footer>
<noscript>Enable JavaScript</noscript>
</body></html>
"""


def test_html_keeps_only_the_article(tmp_path):
    path = _write(tmp_path, "page.html", NOISY_PAGE.encode("utf-8"))
    got = read_html(path)
    assert got.text.split("\n") == [
        "Ports and Power",
        "By Maria Lopez",
        "Shipping lanes are contested.",
        "Second important paragraph.",
        "After a break.",
        "Point one",
        "Point two",
        "Port | Tonnage",
        "Busan | 1.2m",
    ]
    assert "SCRIPT_TEXT" not in got.text
    assert got.properties == {"title": "Ports and Power", "author": "Maria Lopez", "date": "2025-11-03"}


def test_html_without_article_drops_widgets_by_class(tmp_path):
    page = """<html><head><title>Plain page</title><meta name="DC.date" content="2024-02-01"></head><body>
    <div id="main-menu">Menu A Menu B</div>
    <div class="content"><h2>Heading</h2><p>Body text.</p><div class="commentary">Our commentary.</div></div>
    <div class="social-links">Follow us</div><div class="related-posts"><p>Other post</p></div>
    <div class="subscribe-box">Subscribe now</div>
    </body></html>"""
    got = read_html(_write(tmp_path, "p.htm", page.encode()))
    assert got.text.split("\n") == ["Heading", "Body text.", "Our commentary."]
    assert got.properties == {"title": "Plain page", "date": "2024-02-01"}


def test_html_wrapper_with_noisy_class_is_not_dropped(tmp_path):
    page = """<html><body><div class="page has-nav"><p>All the content lives in here.</p>
    <p>And more of it.</p></div><div class="nav">Home</div></body></html>"""
    got = read_html(_write(tmp_path, "w.html", page.encode()))
    assert got.text == "All the content lives in here.\nAnd more of it."


def test_html_latin1_with_meta_charset(tmp_path):
    page = """<html><head><meta charset="iso-8859-1"><title>Caf\u00e9 r\u00e9sum\u00e9</title></head>
    <body><article><p>Na\u00efve caf\u00e9 \u201cquoted\u201d \u2013 \u00fcber.</p></article></body></html>"""
    path = _write(tmp_path, "latin.html", page.encode("cp1252"))
    got = read_html(path)
    assert got.text == "Na\u00efve caf\u00e9 \u201cquoted\u201d \u2013 \u00fcber."
    assert got.properties["title"] == "Caf\u00e9 r\u00e9sum\u00e9"


def test_html_utf8_despite_stale_latin1_declaration(tmp_path):
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"></head>' \
           "<body><p>\u6771\u4eac caf\u00e9</p></body></html>"
    assert read_html(_write(tmp_path, "u.html", page.encode("utf-8"))).text == "\u6771\u4eac caf\u00e9"


def test_html_json_ld_fills_missing_properties(tmp_path):
    page = """<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Site"},
      {"@type": "NewsArticle", "headline": "LD headline", "datePublished": "2023-05-06T10:00:00Z",
       "author": [{"@type": "Person", "name": "A. One"}, {"@type": "Person", "name": "B. Two"}]}]}</script>
    </head><body><p>Text.</p></body></html>"""
    got = read_html(_write(tmp_path, "ld.html", page.encode()))
    assert got.properties == {"title": "LD headline", "author": "A. One, B. Two", "date": "2023-05-06"}
    assert got.text == "Text."


def test_empty_html_is_refused(tmp_path):
    with pytest.raises(LoadError, match="empty"):
        read_html(_write(tmp_path, "e.html", b"   \n"))


def test_aes_pdf_without_cryptography_says_what_to_install(tmp_path, monkeypatch):
    from pypdf import PageObject
    from pypdf.errors import DependencyError

    def needs_crypto(self, *args, **kwargs):
        raise DependencyError("cryptography is required for AES algorithm")

    monkeypatch.setattr(PageObject, "extract_text", needs_crypto)
    with pytest.raises(LoadError, match="cryptography"):
        read_pdf(_write(tmp_path, "aes.pdf", make_pdf([PAGE_TWO])))


def test_pdf_with_one_broken_page_keeps_the_others(tmp_path, monkeypatch):
    from pypdf import PageObject

    real = PageObject.extract_text
    calls = iter([True, False])
    monkeypatch.setattr(PageObject, "extract_text",
                        lambda self, *a, **k: real(self, *a, **k) if next(calls) else 1 / 0)
    got = read_pdf(_write(tmp_path, "half.pdf", make_pdf([PAGE_TWO, ["Lost page."]])))
    first = "Second page begins here.\nIt ends here."
    assert got.text == first + "\n\n" and got.page_starts == (0, len(first) + 2)


def test_html_articles_inside_widgets_are_not_the_main_text(tmp_path):
    page = """<html><body>
    <div class="related-posts"><article><p>A much longer teaser for another post that is not this one at all.</p></article></div>
    <article><h1>Real</h1><p>Short body.</p></article>
    <section class="comments"><article><p>A commenter wrote a very long comment here, longer than the body.</p></article></section>
    </body></html>"""
    assert read_html(_write(tmp_path, "a.html", page.encode())).text == "Real\nShort body."


def test_docx_made_by_a_script_has_no_made_up_properties(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Just text.")
    document.save(tmp_path / "plain.docx")
    assert read_docx(tmp_path / "plain.docx").properties == {}


def test_html_small_embedded_article_is_not_taken_for_the_content(tmp_path):
    body = "".join(f"<p>Paragraph {i} of the analysis, which is long enough to matter.</p>" for i in range(6))
    page = f"<html><body><main><h1>Analysis</h1>{body}<article><p>Embedded post.</p></article></main></body></html>"
    text = read_html(_write(tmp_path, "e.html", page.encode())).text
    assert text.startswith("Analysis\nParagraph 0") and text.endswith("Embedded post.")
