"""Extractors for PDF, DOCX and HTML: each returns one paragraph per line, as ingest.text expects.

Every way a file can be unreadable ends in `LoadError` with a reason the user can act on;
library exceptions are translated here rather than leaking parser jargon.
"""

from __future__ import annotations

import codecs
import json
import re
from datetime import date as _date
from pathlib import Path

from ingest.load import Extracted, LoadError, decode_text
from ingest.metadata import normalize_date

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\ufeff]")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# Properties that tools fill in by themselves: they would beat the real title/author found in the text.
_JUNK_TITLE = re.compile(r"^(microsoft \w+ - |untitled\b|document\d*$)|\.(docx?|pdf|indd|pptx?|rtf|odt|tex|qxp)$", re.I)
_JUNK_AUTHORS = {"administrator", "admin", "user", "owner", "author", "unknown", "python-docx"}


def _clean_properties(title: str = "", author: str = "", date: str = "") -> dict[str, str]:
    props = {}
    title, author = _WS.sub(" ", title or "").strip(), _WS.sub(" ", author or "").strip()
    if title and not _JUNK_TITLE.search(title):
        props["title"] = title
    if author and author.lower() not in _JUNK_AUTHORS and not author.lower().startswith(("http:", "https:")):
        props["author"] = author
    if date:
        props["date"] = date
    return props


# --------------------------------------------------------------------------------------- PDF

_SENTENCE_END = re.compile(r"[.!?:;…][\"”’')\]]*$")
# A line ending in one of these words (or a comma) cannot end a paragraph, whatever follows.
_DANGLING = re.compile(r"(,|\b(the|a|an|of|and|or|to|in|for|with|by|on|at|from|as|that|than))$", re.I)


def reflow(page_text: str) -> str:
    """Undo the PDF's line wrapping: wrapped lines of one paragraph become one line."""
    out: list[str] = []
    joinable = False  # whether the last emitted line may continue on the next one
    for raw in page_text.translate(_LIGATURES).splitlines():
        line = _WS.sub(" ", _CONTROL.sub("", raw)).strip()
        if not line:
            joinable = False  # a blank line is a paragraph break even before a lowercase line
            continue
        prev = out[-1] if out else ""
        if joinable and (line[0].islower() or (_DANGLING.search(prev) and line[0] not in "•▪–-")):
            if prev.endswith("\u00ad") or (prev.endswith("-") and prev[-2:-1].isalpha() and line[0].islower()):
                out[-1] = prev[:-1] + line  # "secu-" + "rity"
            else:
                out[-1] = prev + " " + line
        else:
            out.append(line)
        joinable = not _SENTENCE_END.search(out[-1])
    return "\n".join(out).replace("\u00ad", "")


def _iso_date(raw: str) -> str:
    """PDF "D:20251229..." and ISO datetimes "2025-12-29T08:00Z" (normalize_date wants a word boundary)."""
    match = re.match(r"(?:D:)?(\d{4})-?(\d{2})-?(\d{2})", raw.strip())
    if match:
        try:
            return _date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    return normalize_date(raw)  # some producers write "12/29/2025" or "Dec 29, 2025"


_NEEDS_CRYPTO = "encrypted PDF (AES): reading it needs the 'cryptography' package installed"


def read_pdf(path: Path) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(path)
        # Owner-password-only PDFs (print/copy restrictions) open with the empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("password-protected PDF")
        pages = list(reader.pages)
    except LoadError:
        raise
    except DependencyError:
        raise LoadError(_NEEDS_CRYPTO) from None
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, KeyError...) on junk
        raise LoadError(f"corrupt PDF: {exc or type(exc).__name__}") from None
    if not pages:
        raise LoadError("corrupt PDF: it has no pages")
    texts, failures = [], []
    for page in pages:
        try:
            texts.append(reflow(page.extract_text() or ""))
        except DependencyError:  # AES content streams are only decrypted when read
            raise LoadError(_NEEDS_CRYPTO) from None
        except Exception as exc:  # one broken page should not cost the whole document
            failures.append(exc)
            texts.append("")
    if not any(texts):
        if failures:
            raise LoadError(f"corrupt PDF: text extraction failed ({failures[0] or type(failures[0]).__name__})")
        raise LoadError("no text layer (scanned PDF?); run OCR first")
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 2
    props: dict[str, str] = {}
    try:
        meta = reader.metadata
        if meta is not None:
            created = meta.creation_date_raw
            created = created.get_object() if hasattr(created, "get_object") else created
            props = _clean_properties(meta.title or "", meta.author or "", _iso_date(str(created or "")))
    except Exception:  # a broken info dictionary is no reason to lose the text
        props = {}
    return Extracted(text="\n\n".join(texts), properties=props, page_starts=tuple(starts))


# -------------------------------------------------------------------------------------- DOCX


def _docx_lines(container, seen: dict[int, object]) -> list[str]:
    """Paragraphs and tables in body order; `seen` stops merged cells repeating their text."""
    from docx.table import Table

    lines: list[str] = []
    for item in container.iter_inner_content():
        if not isinstance(item, Table):
            lines.extend(filter(None, (_WS.sub(" ", part).strip() for part in item.text.split("\n"))))
            continue
        for row in item.rows:
            cells = []
            for cell in row.cells:
                if id(cell._tc) not in seen:  # holding the element keeps lxml from reusing its id
                    seen[id(cell._tc)] = cell._tc
                    cells.append(cell)
            if len(cells) == 1:  # layout table (a boxed section): its paragraphs stay paragraphs
                lines.extend(_docx_lines(cells[0], seen))
            else:  # data table: a row per line keeps each value next to its column neighbours
                row_text = " | ".join(filter(None, (" ".join(_docx_lines(c, seen)) for c in cells)))
                if row_text:
                    lines.append(row_text)
    return lines


def read_docx(path: Path) -> Extracted:
    import docx

    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: legacy .doc renamed, or Office encryption wrapper
        raise LoadError("not a .docx: password-protected, or an old Word 97-2003 .doc file (re-save as .docx)")
    if not head.startswith(b"PK"):
        raise LoadError("corrupt DOCX: not a zip archive")
    try:
        document = docx.Document(str(path))
        lines = _docx_lines(document, {})
    except Exception as exc:
        raise LoadError(f"corrupt DOCX: {exc or type(exc).__name__}") from None
    try:
        core = document.core_properties
        created = core.created.date().isoformat() if core.created else ""
        props = _clean_properties(core.title, core.author, created)
    except Exception:
        props = {}
    return Extracted(text="\n".join(lines), properties=props)


# -------------------------------------------------------------------------------------- HTML

_DROP_TAGS = ["script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg", "button",
              "template", "select", "textarea", "canvas", "object", "embed", "dialog"]
# "commentary" is content on briefing sites, unlike "comments".
_NOISE = re.compile(r"nav|menu|footer|share|social|comment(?!ary)|cookie|subscribe|related|advert", re.I)
_NOISE_ROLES = {"navigation", "contentinfo", "complementary", "search", "dialog", "alertdialog"}
_BLOCKS = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
           "dl", "dt", "dd", "blockquote", "table", "thead", "tbody", "tr", "td", "th", "caption", "figure",
           "figcaption", "address", "header", "footer", "details", "summary", "body", "hr", "center"}
_BLOCK_LIST = sorted(_BLOCKS)
_LATIN1_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I)
_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "citation_author", "parsely-author")
_DATE_KEYS = ("article:published_time", "date", "pubdate", "dc.date", "dc.date.issued",
              "citation_publication_date", "publish-date", "og:published_time")


def _decode_html(data: bytes) -> str:
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or not data.strip():
        return decode_text(data)
    try:  # bytes that are valid UTF-8 are UTF-8, whatever a stale <meta charset> claims
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _DECLARED.search(data[:8192])
    if match:
        name = (match.group(1) or match.group(2)).decode("ascii").lower()
        name = "cp1252" if name in _LATIN1_ALIASES else name  # as browsers do (WHATWG encoding spec)
        try:
            if not codecs.lookup(name).name.startswith("utf-16"):
                return data.decode(name, errors="replace")
        except LookupError:
            pass
    return decode_text(data)


def _html_properties(soup) -> dict[str, list[str]]:
    metas: dict[str, list[str]] = {}
    for meta in soup.find_all("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        value = _WS.sub(" ", meta.get("content") or "").strip()
        if key and value:
            metas.setdefault(key, []).append(value)
    # JSON-LD (schema.org Article) fills what the meta tags leave out; only the first value is used.
    for script in soup.find_all("script", type=re.compile(r"ld\+json", re.I)):
        try:
            stack = [json.loads(script.string or "")]
        except ValueError:
            continue
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.get("@graph") or [])
                if re.search(r"Article|Posting|Report", str(item.get("@type", ""))):
                    authors = item.get("author") or []
                    for author in authors if isinstance(authors, list) else [authors]:
                        name = author.get("name") if isinstance(author, dict) else author
                        if isinstance(name, str):
                            metas.setdefault("ld:author", []).append(name)
                    for src, key in (("headline", "ld:title"), ("datePublished", "ld:date")):
                        if isinstance(item.get(src), str):
                            metas.setdefault(key, []).append(item[src])
    return metas


def _is_noise(tag, total: int) -> bool:
    if tag.name in ("html", "body", "article", "main") or tag.decomposed:
        return False
    role = (tag.get("role") or "").lower()
    marks = " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
    if not (role in _NOISE_ROLES or _NOISE.search(marks)):
        return False
    # Widgets are never the bulk of a page: a match on a wrapper around the content is a false alarm.
    return not tag.find(("article", "main")) and len(tag.get_text()) < 0.5 * total


def _html_lines(root) -> list[str]:
    from bs4 import NavigableString

    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        text = _WS.sub(" ", "".join(buf).replace("\u00ad", "")).strip()
        if text:
            lines.append(text)
        buf.clear()

    stack = [(root, False)]  # explicit stack: deeply nested pages must not hit the recursion limit
    while stack:
        node, leaving = stack.pop()
        if leaving:
            flush()
        elif isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not comments, doctype, CDATA, ruby annotations
                buf.append(_CONTROL.sub("", str(node)))
        elif node.name == "br":
            flush()
        elif node.name == "pre":
            flush()
            lines.extend(ln.rstrip() for ln in node.get_text().splitlines() if ln.strip())
        else:
            block = node.name in _BLOCKS
            if node.name in ("td", "th") and not node.find(_BLOCK_LIST):
                block = False  # a plain cell joins its row's line, like DOCX tables
                if "".join(buf).strip():
                    buf.append(" | ")
            if block:
                flush()
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return lines


def read_html(path: Path) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_html(path.read_bytes()), "html.parser")
    metas = _html_properties(soup)

    def first(*keys: str) -> str:
        return next((metas[k][0] for k in keys if k in metas), "")

    author_key = next((k for k in _AUTHOR_KEYS + ("ld:author",) if k in metas), "")
    props = _clean_properties(
        first("og:title") or (soup.title.get_text(" ", strip=True) if soup.title else "") or first("ld:title"),
        ", ".join(dict.fromkeys(a for a in metas.get(author_key, []) if not a.startswith("http"))),
        _iso_date(first(*_DATE_KEYS, "ld:date")),
    )

    for tag in soup.find_all(_DROP_TAGS):
        if not tag.decomposed:
            tag.decompose()
    for tag in soup.find_all(lambda t: t.has_attr("hidden") or t.get("aria-hidden") == "true"
                             or re.search(r"display\s*:\s*none", t.get("style") or "")):
        if not tag.decomposed:
            tag.decompose()
    # A header inside the article carries its title and by-line; only the site header is noise.
    for tag in soup.find_all(lambda t: t.name == "header" or t.get("role") == "banner"):
        if not tag.decomposed and not tag.find_parent(("article", "main")):
            tag.decompose()
    total = len(soup.get_text())
    for tag in soup.find_all(lambda t: _is_noise(t, total)):
        if not tag.decomposed:
            tag.decompose()

    articles = soup.find_all("article")
    root = max(articles, key=lambda t: len(t.get_text())) if articles else soup.find("main") or soup.body or soup
    return Extracted(text="\n".join(_html_lines(root)), properties=props)
