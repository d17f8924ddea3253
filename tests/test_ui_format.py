"""Unit tests for the UI's pure formatting functions (ui/format.py) and upload helpers (ui/uploads.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from rag.base.types import Answer, Citation, Passage, Span
from ui import format as fmt
from ui.uploads import sanitize_filename, save_uploads

XSS = '<img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script>'


def passage(text: str, start: int = 0, doc_id: str = "d1", **kw) -> Passage:
    defaults = dict(chunk_id=f"{doc_id}:v:0", doc_id=doc_id, source="brief.txt", title="A Brief", date="2025-11-20")
    defaults.update(kw)
    return Passage(text=text, start=start, end=start + len(text), **defaults)


def span_of(document: str, sentence: str) -> Span:
    i = document.index(sentence)
    return Span(i, i + len(sentence), sentence)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_no_live_markup(html: str) -> None:
    """Nothing document-derived may appear as a tag or an event-handler attribute."""
    parser = _Tags()
    parser.feed(html)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"img", "script", "iframe", "object", "embed", "svg", "style"}, names
    for tag, attrs in parser.tags:
        assert not [a for a, _ in attrs if a.startswith("on")], (tag, attrs)
        assert all(not (v or "").lower().startswith("javascript:") for _, v in attrs), (tag, attrs)


# --- markers -----------------------------------------------------------------------------------

def test_markers_become_links_to_the_sources_panel():
    p = passage("Japan wants FOIP.")
    answer = Answer("q", "Japan wants FOIP. [1] More. [2]", citations=(Citation(1, p), Citation(2, p)))
    html = fmt.answer_html(answer, turn=3)
    assert '<a class="cite" href="#src-3-1"' in html and ">[1]</a>" in html
    assert 'href="#src-3-2"' in html
    section = fmt.sources_section(answer, 3)
    assert 'id="src-3-1"' in section and 'id="src-3-2"' in section


def test_only_real_citations_are_linked():
    html = fmt.link_markers("See [1] and [7] and [x].", [Citation(1, passage("t"))], turn=1)
    assert html.count('class="cite"') == 1
    assert "[7]" in html and "[x]" in html


def test_unverified_citation_is_visibly_marked_in_answer_card_and_export():
    p = passage("Claim here.")
    answer = Answer("q", "A sentence. [1] Another. [2]",
                    citations=(Citation(1, p), Citation(2, p, verified=False)), mode="llm", model="m")
    html = fmt.answer_html(answer, 1)
    assert "cite-unverified" in html and "[2]&#9888;" in html
    assert "unverified" in html
    card = fmt.citation_card(answer.citations[1], 1)
    assert "⚠ unverified" in card.replace("&#9888;", "⚠") and 'class="src-card unverified"' in card
    assert "unverified" not in fmt.citation_card(answer.citations[0], 1)
    md = fmt.answer_markdown(answer)
    assert "[2]" in md and "⚠ unverified" in md


def test_unsupported_sentences_and_notice_are_shown_escaped():
    answer = Answer("q", "Fine. [1]", citations=(Citation(1, passage("Fine.")),),
                    unsupported=("<b>made up</b>",), notice="LLM <down>; extractive")
    html = fmt.answer_html(answer, 1)
    assert "not supported by the passages cited" in html
    assert "<li>&lt;b&gt;made up&lt;/b&gt;</li>" in html and "<b>made up" not in html
    assert "LLM &lt;down&gt;" in html


# --- highlighting --------------------------------------------------------------------------------

def test_highlight_uses_document_offsets_with_unicode_and_curly_quotes():
    document = ("Intro — “naïve” café ☕ line.\n\n"
                "Japan’s “active player” turn is real. Korea’s view differs 😀. The end.")
    target = "Japan’s “active player” turn is real."
    other = "Korea’s view differs 😀."
    start = document.index("Japan")
    p = passage(document[start:], start=start)  # chunk starts mid-document
    spans = (span_of(document, target), span_of(document, other))
    excerpt = fmt.passage_excerpt(p, spans, document)
    assert excerpt.from_document
    html = fmt.highlight(excerpt.text, excerpt.ranges)
    marks = re.findall(r"<mark>(.*?)</mark>", html)
    assert [fmt.esc(target), fmt.esc(other)] == marks or [fmt.esc(f"{target} {other}")] == marks
    assert "The end." in html and "<mark>The end" not in html


def test_highlight_uses_raw_excerpt_when_chunk_text_leaves_furniture_out():
    document = "Title\nShare this: Facebook\nThe key sentence about FOIP. Next sentence."
    start = document.index("Title")
    chunk_text = "Title\nThe key sentence about FOIP. Next sentence."  # furniture left out
    p = Passage("c", "d1", "s.txt", "T", "", chunk_text, start, len(document))
    span = span_of(document, "The key sentence about FOIP.")
    excerpt = fmt.passage_excerpt(p, (span,), document)
    assert excerpt.text == document
    assert fmt.highlight(excerpt.text, excerpt.ranges).count("<mark>The key sentence about FOIP.</mark>") == 1


def test_highlight_falls_back_to_searching_the_chunk_text():
    chunk = "One sentence.  Second   sentence with\nspaces. Third."
    p = passage(chunk, start=500)
    span = Span(9999, 10020, "Second sentence with spaces.")  # offsets unknown to us: no document given
    excerpt = fmt.passage_excerpt(p, (span,), "")
    assert not excerpt.from_document
    html = fmt.highlight(excerpt.text, excerpt.ranges)
    assert "<mark>Second   sentence with\nspaces.</mark>" in html


def test_overlapping_and_out_of_range_spans_are_merged_and_clipped():
    assert fmt.merge_ranges([(5, 10), (8, 12), (-3, 2), (40, 50), (12, 13)], 45) == [(0, 2), (5, 13), (40, 45)]
    assert fmt.highlight("abcdef", [(1, 3), (2, 4)]) == "a<mark>bcd</mark>ef"


def test_context_shows_surrounding_text_with_passage_marked():
    document = "A" * 50 + " before words. " + "The passage sentence. " + "after words " + "B" * 900
    start = document.index("The passage")
    p = passage("The passage sentence.", start=start)
    ctx = fmt.context_html(p, (span_of(document, "The passage sentence."),), document, chars=30)
    assert '<span class="ctx-passage"><mark>The passage sentence.</mark></span>' in ctx
    assert "before words" in ctx and "after words" in ctx
    assert ctx.startswith("…") and ctx.endswith("…")
    card = fmt.citation_card(Citation(1, p, (span_of(document, "The passage sentence."),)), 1, document)
    assert "<details" in card and "Show in document context" in card


# --- escaping ------------------------------------------------------------------------------------

def test_document_text_title_and_source_are_escaped_everywhere():
    document = f"Operation Bluefin began quietly. {XSS} It ended in 2024."
    sentence = f"Operation Bluefin began quietly. {XSS}"
    p = passage(document, title=f"Title {XSS}", source="<script>x</script>.txt", author="<b>me</b>")
    citation = Citation(1, p, (Span(0, len(sentence), sentence),))
    answer = Answer(f"What about {XSS}?", f"{sentence} [1]", citations=(citation,))
    for html in (fmt.answer_html(answer, 1), fmt.sources_section(answer, 1, {"d1": document}),
                 fmt.citation_card(citation, 1, document), fmt.streaming_html(answer.text),
                 fmt.question_html(answer.question), fmt.error_html(XSS),
                 fmt.upload_report_html([XSS], [], [], [(XSS, XSS)])):
        assert_no_live_markup(html)
    card = fmt.citation_card(citation, 1, document)
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in card
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in card


def test_markdown_looking_text_stays_text():
    html = fmt.text_html("**bold** [link](javascript:alert(1)) <a href='x'>a</a>")
    assert "<strong>" not in html and "<a href" not in html and "&lt;a href=&#x27;x&#x27;&gt;" in html


# --- abstention ------------------------------------------------------------------------------------

def test_abstention_has_its_own_box_and_nearest_passages():
    p = passage("Canberra is not mentioned; Tokyo is.")
    text = ("The documents don't answer this (no passage mentions “Australia”).\n\nNearest passages:\n"
            "- Tokyo is. [1]")
    answer = Answer("What is the capital of Australia?", text, citations=(Citation(1, p),), abstained=True)
    html = fmt.answer_html(answer, 2)
    assert html.startswith('<div class="abstain"')
    assert "The documents don&#x27;t answer this (no passage mentions “Australia”)." in html
    assert "<li>Tokyo is. <a class=\"cite\" href=\"#src-2-1\"" in html
    assert '<div class="answer">' not in html
    section = fmt.sources_section(answer, 2)
    assert "Nearest passages (not an answer)" in section and "abstained" in section
    md = fmt.answer_markdown(answer)
    assert "don't answer this" in md and "### Nearest passages" in md


def test_answer_uses_answer_box():
    answer = Answer("q", "Yes. [1]", citations=(Citation(1, passage("Yes.")),))
    assert fmt.answer_html(answer, 1).startswith('<div class="answer">')


# --- export ----------------------------------------------------------------------------------------

def test_markdown_export_has_answer_sources_and_cited_sentences():
    document = "Intro. Free and Open Indo-Pacific (FOIP) is the vision. Outro."
    sentence = "Free and Open Indo-Pacific (FOIP) is the vision."
    p = passage(document, title="NSS Revision", source="tokuchi.txt", page=3)
    answer = Answer("What does FOIP stand for?", f"{sentence} [1]",
                    citations=(Citation(1, p, (span_of(document, sentence),)),), mode="extractive")
    md = fmt.answer_markdown(answer)
    assert md.startswith("## What does FOIP stand for?\n")
    assert f"{sentence} [1]" in md
    assert "[1] **NSS Revision** (2025-11-20, `tokuchi.txt`, p. 3, chars 0–" in md
    assert f"> {sentence}" in md
    assert "Offline extractive answers" in md
    assert fmt.markdown_filename(answer) == "briefing-what-does-foip-stand-for.md"


# --- scope -----------------------------------------------------------------------------------------

def test_scope_filters():
    assert fmt.scope_filters([], "", "") is None
    assert fmt.scope_filters(["a.txt"], " 2025-01-01 ", "") == {"sources": ["a.txt"], "date_from": "2025-01-01",
                                                                 "date_to": ""}
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        fmt.scope_filters([], "2025/01/01", "")
    with pytest.raises(ValueError, match="not a real date"):
        fmt.scope_filters([], "2025-02-30", "")
    with pytest.raises(ValueError, match="empty"):
        fmt.scope_filters([], "2026-01-01", "2025-01-01")
    assert "all 5 documents" in fmt.scope_summary([], "", "", 5)
    assert "2 of 5 documents" in fmt.scope_summary(["a", "b"], "", "", 5)
    assert "scope-bad" in fmt.scope_summary([], "nope", "", 5)


# --- uploads ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("report.txt", "report.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.MD", "evil.md"),
    ("/abs/path/x.pdf", "x.pdf"),
    ("..", ""),
    (".hidden.txt", "hidden.txt"),
    ("Café brief (final) #2.docx", "Cafe-brief-final-2.docx"),
    ("<img src=x onerror=alert(1)>.html", "img-src-x-onerror-alert-1.html"),
    ("CON.txt", "upload-CON.txt"),
    ("a" * 300 + ".txt", "a" * 96 + ".txt"),
    ("Zephyr Accord .._note.txt", "Zephyr-Accord-note.txt"),
    ("x.tar..gz", "x.tar.gz"),
])
def test_sanitize_filename(name, expected):
    assert sanitize_filename(name) == expected


def test_save_uploads_checks_type_size_and_stays_inside_uploads(tmp_path):
    incoming = tmp_path / "in"
    incoming.mkdir()
    good = incoming / "good.txt"
    good.write_text("The Zephyr Accord was signed in Reykjavik in 2031.")
    big = incoming / "big.txt"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    exe = incoming / "tool.exe"
    exe.write_bytes(b"MZ")
    empty = incoming / "empty.md"
    empty.write_bytes(b"")
    corpus = tmp_path / "corpus"
    result = save_uploads([str(good), str(big), str(exe), str(empty)], corpus, max_mb=1)
    assert result.saved == [(corpus / "uploads" / "good.txt").resolve()]
    reasons = dict(result.skipped)
    assert "too large" in reasons["big.txt"] and "unsupported" in reasons["tool.exe"]
    assert reasons["empty.md"] == "empty file"
    assert sorted(p.name for p in (corpus / "uploads").iterdir()) == ["good.txt"]


def test_unsupported_sentences_are_flagged_inline():
    p = passage("The budget rose. [1]")
    text = "The budget rose [1]. Japan will test its own nuclear weapon by 2030 [1]. Defense spending will triple."
    answer = Answer("q", text, citations=(Citation(1, p, verified=False),), mode="llm", model="m",
                    unsupported=("Japan will test its own nuclear weapon by 2030.", "Defense spending will triple."))
    html = fmt.answer_html(answer, 1)
    assert html.count('<span class="unsupported"') == 2
    flagged = re.findall(r'<span class="unsupported"[^>]*>(.*?)</span></span>|'
                         r'<span class="unsupported"[^>]*><span[^>]*>&#9888;</span>(.*?)</span>', html)
    assert "The budget rose" not in "".join("".join(f) for f in flagged)
    assert re.search(r'unsupported">&#9888;</span>Japan will test its own nuclear weapon by 2030 '
                     r'<a class="cite cite-unverified"[^>]*>\[1\]&#9888;</a>\.</span>', html), html
    assert "2 sentences (marked" in html
    assert fmt.unsupported_ranges("A b c [2].", ["A b c."]) == [(0, 10)]
    assert fmt.unsupported_ranges("nothing here", ["Other sentence."]) == []
