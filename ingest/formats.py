"""Extractors for PDF, DOCX and HTML: each returns one paragraph per line, as ingest.text expects.

Every way a file can be unreadable ends in `LoadError` with a reason the user can act on;
library exceptions are translated here rather than leaking parser jargon.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from itertools import accumulate
from pathlib import Path

from ingest.load import Extracted, LoadError, decode_text
from ingest.metadata import property_date

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\ufeff]")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# Properties that tools fill in by themselves: they would beat the real title/author found in the text.
_JUNK_TITLE = re.compile(r"^(microsoft \w+ - |untitled\b|document\d*$)|\.(docx?|pdf|indd|pptx?|rtf|odt|tex|qxp)$", re.I)
_JUNK_AUTHORS = {"administrator", "admin", "user", "owner", "author", "unknown", "python-docx"}


def _clean_properties(title: str, author: str, date: str) -> dict[str, str]:
    title, author = _WS.sub(" ", title or "").strip(), _WS.sub(" ", author or "").strip()
    title = "" if _JUNK_TITLE.search(title) else title
    author = "" if author.lower() in _JUNK_AUTHORS or author.startswith(("http:", "https:")) else author
    return {k: v for k, v in (("title", title), ("author", author), ("date", date)) if v}


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
    starts = tuple(accumulate((len(t) + 2 for t in texts[:-1]), initial=0))
    props: dict[str, str] = {}
    try:
        meta = reader.metadata
        if meta is not None:
            created = meta.creation_date_raw
            created = created.get_object() if hasattr(created, "get_object") else created
            props = _clean_properties(meta.title or "", meta.author or "", property_date(str(created or "")))
    except Exception:  # a broken info dictionary is no reason to lose the text
        props = {}
    return Extracted(text="\n\n".join(texts), properties=props, page_starts=starts)


# -------------------------------------------------------------------------------------- DOCX


_WNS = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006"}
# Raw XML rather than python-docx's Paragraph.text, which misses tracked insertions and content
# controls (cover pages, templates). Deleted text (w:delText) and tab-stop definitions stay out.
_OWN = "[count(ancestor::w:txbxContent) = $depth]"  # not the text of a text box anchored here
_RUN_TEXT = f".//w:t{_OWN} | .//w:r/w:tab{_OWN} | .//w:r/w:br{_OWN} | .//w:r/w:cr{_OWN}"
# Text boxes follow their anchor paragraph; mc:Fallback holds a second copy of each.
_BOXES = ".//w:txbxContent[count(ancestor::w:txbxContent) = $depth][not(ancestor::mc:Fallback)]"
_VMERGE_CONTINUE = "./w:tcPr/w:vMerge[not(@w:val) or @w:val='continue']"


@functools.cache
def _xpath(expr: str):
    from lxml import etree  # python-docx's own element.xpath() takes no variables

    return etree.XPath(expr, namespaces=_WNS)


def _docx_lines(element) -> list[str]:
    """Paragraphs, tables and text boxes under a body/cell/text-box element, in document order."""
    lines: list[str] = []
    for child in element.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag in ("sdt", "sdtContent", "customXml"):
            lines.extend(_docx_lines(child))
        elif tag == "p":
            depth = int(_xpath("count(ancestor::w:txbxContent)")(child))
            parts = [el.text or "" if el.tag.endswith("}t") else "\t" if el.tag.endswith("}tab") else "\n"
                     for el in _xpath(_RUN_TEXT)(child, depth=depth)]
            lines.extend(filter(None, (_WS.sub(" ", part).strip() for part in "".join(parts).split("\n"))))
            for box in _xpath(_BOXES)(child, depth=depth):
                lines.extend(_docx_lines(box))
        elif tag == "tbl":
            for row in _xpath("./w:tr | ./w:sdt/w:sdtContent/w:tr")(child):
                cells = [tc for tc in _xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc")(row)
                         if not _xpath(_VMERGE_CONTINUE)(tc)]  # merged cells: text once
                if len(cells) == 1:  # layout table (a boxed section): its paragraphs stay paragraphs
                    lines.extend(_docx_lines(cells[0]))
                else:  # data table: a row per line keeps each value next to its column neighbours
                    row_text = " | ".join(filter(None, (" ".join(_docx_lines(tc)) for tc in cells)))
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
        lines = _docx_lines(document.element.body)
    except Exception as exc:
        raise LoadError(f"corrupt DOCX: {exc or type(exc).__name__}") from None
    try:
        core = document.core_properties
        # python-docx's blank template carries its own 2013-12-23 creation stamp into every new file.
        created = core.created.date().isoformat() if core.created else ""
        created = "" if core.created and core.created.timetuple()[:5] == (2013, 12, 23, 23, 15) else created
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
_DROP_SET = frozenset(_DROP_TAGS)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none")
_LATIN1_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""",
                       re.I)
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


def _json_ld(soup) -> dict[str, list[str]]:
    """schema.org Article data (headline, author, datePublished), which many sites put only here."""
    found: dict[str, list[str]] = {}
    for script in soup.find_all("script", type=re.compile(r"ld\+json", re.I)):
        try:
            stack = [json.loads(script.string or "")]
        except ValueError:
            continue
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            if not isinstance(item, dict):
                continue
            stack.extend(item.get("@graph") or [])
            if re.search(r"Article|Posting|Report", str(item.get("@type", ""))):
                authors = item.get("author") if isinstance(item.get("author"), list) else [item.get("author")]
                names = [a.get("name") if isinstance(a, dict) else a for a in authors]
                for key, values in (("author", names), ("title", [item.get("headline")]),
                                    ("date", [item.get("datePublished")])):
                    found.setdefault(key, []).extend(v for v in values if isinstance(v, str))
    return found


def _html_properties(soup) -> dict[str, str]:
    metas: dict[str, list[str]] = {}
    for meta in soup.find_all("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        value = _WS.sub(" ", meta.get("content") or "").strip()
        if key and value and not value.startswith(("http:", "https:")):  # article:author is often a URL
            metas.setdefault(key, []).append(value)
    metas.update({"ld:" + k: v for k, v in _json_ld(soup).items() if v})
    authors = next((metas[k] for k in _AUTHOR_KEYS + ("ld:author",) if k in metas), [])
    # og:title lacks the " | Site name" suffix that <title> usually carries.
    title = metas.get("og:title", [""])[0] or (soup.title.get_text(" ", strip=True) if soup.title else "")
    title = title or metas.get("ld:title", [""])[0]
    date = next((metas[k][0] for k in _DATE_KEYS + ("ld:date",) if k in metas), "")
    return _clean_properties(title, ", ".join(dict.fromkeys(authors)), property_date(date))


def _text_len(tag) -> int:
    from bs4 import NavigableString

    return sum(len(s) for s in tag.descendants if type(s) is NavigableString)


def _is_noise(tag, total: int) -> bool:
    if tag.name in ("html", "body", "article", "main"):
        return False
    role = (tag.get("role") or "").lower()
    marks = (tag.get("class") or "") + " " + (tag.get("id") or "")  # class as written (see read_html)
    if not (role in _NOISE_ROLES or _NOISE.search(marks)):
        return False
    # Widgets are never the bulk of a page: a match on a wrapper around the content is a false alarm.
    return _text_len(tag) < 0.5 * total


def _html_lines(root, dropped: set[int]) -> list[str]:
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
        elif id(node) in dropped:
            continue
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


def _dropped(soup) -> set[int]:
    """ids of the tags whose text is not content: furniture tags, hidden ones, the site header,
    widgets. One walk over the tree (a page of the Python docs has 60k tags)."""
    total = _text_len(soup.body or soup)
    dropped: set[int] = set()
    for tag in soup.find_all(True):
        if (tag.name in _DROP_SET or tag.has_attr("hidden") or tag.get("aria-hidden") == "true"
                or _HIDDEN_STYLE.search(tag.get("style") or "")
                # A header inside the article carries its title and by-line; only the site header is noise.
                or ((tag.name == "header" or tag.get("role") == "banner") and not tag.find_parent(("article", "main")))
                or _is_noise(tag, total)):
            dropped.add(id(tag))
    return dropped


def read_html(path: Path) -> Extracted:
    from bs4 import BeautifulSoup

    # lxml's parser (python-docx needs lxml anyway) is faster than html.parser, and class
    # attributes kept as one string save splitting every tag's (the noise test reads them whole).
    soup = BeautifulSoup(_decode_html(path.read_bytes()), "lxml", multi_valued_attributes=None)
    props = _html_properties(soup)
    # Noise is marked, not decompose()d: each removal scans its siblings, quadratic on big pages.
    dropped = _dropped(soup)

    def live(tag) -> bool:
        return not any(id(t) in dropped for t in (tag, *tag.parents))

    mains = [t for t in soup.find_all("main") if live(t)]
    text = "\n".join(_html_lines(mains[0] if mains else soup.body or soup, dropped))
    articles = [t for t in soup.find_all("article") if live(t)]
    if articles:
        article = "\n".join(_html_lines(max(articles, key=_text_len), dropped))
        # A small <article> inside the content is an embed (a post card, a quote), not the content.
        text = article if len(article) >= 0.3 * len(text) else text
    return Extracted(text=text, properties=props)
