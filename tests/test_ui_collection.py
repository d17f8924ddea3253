"""Unit tests of how collection answers show (ui/collection.py): the per-document table, the
"Sources differ" panel, the timeline, a citation's dates, and their Markdown export; built from
hand-made answers, so no index or model is needed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rag.base.types import Answer, Citation, Conflict, CoverageRow, DateNote, Passage, Span, TimelineEntry
from ui import collection as col
from ui import format as fmt
from ui.sources import citation_card

HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def cite(n: int, sentence: str, doc: str, date: str = "2025-11-20", title: str = "", **kw) -> Citation:
    text = f"Intro. {sentence} Outro."
    start = 100
    i = start + text.index(sentence)
    p = Passage(chunk_id=f"{doc}:v:{n}", doc_id=doc, source=f"{doc}.txt", title=title or doc.title(), date=date,
                text=text, start=start, end=start + len(text))
    return Citation(n, p, (Span(i, i + len(sentence), sentence),), **kw)


def tags(html: str) -> list[tuple[str, dict]]:
    found: list[tuple[str, dict]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Parser().feed(html)
    return found


def assert_inert(html: str) -> None:
    for tag, attrs in tags(html):
        assert tag not in {"script", "img", "iframe", "svg", "style"}, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# --- per-document table -----------------------------------------------------------------------

C1 = cite(1, "The defense budget rises to 2% of GDP.", "alpha", "2025-10-01", "Alpha brief")
C2 = cite(2, "Defense spending will reach 11 trillion yen.", "beta", "2025-12-29", "Beta note")
COVERAGE = (
    CoverageRow("alpha.txt", "Alpha brief", "2025-10-01", True, (C1,)),
    CoverageRow("beta.txt", "Beta note", "2025-12-29", True, (C2,)),
    CoverageRow("gamma.txt", "Gamma memo", "", False),
    CoverageRow("delta.txt", "", "2025-09-09", False),
    CoverageRow("eps.txt", "Eps", "2025-08-08", False),
)


def test_coverage_table_has_a_row_per_document_count_caption_and_verdicts():
    answer = Answer("Which documents discuss the defense budget?", "x", citations=(C1, C2), coverage=COVERAGE,
                    scope="all")
    html = col.coverage_html(answer, turn=2)
    assert "<caption>2 of 5 documents mention it</caption>" in html
    rows = [a for t, a in tags(html) if t == "tr" and "cov-row" in a.get("class", "")]
    assert len(rows) == 5
    assert html.count('class="cov-verdict cov-yes"') == 2 and html.count("mentions it</td>") == 2
    assert html.count('class="cov-verdict cov-no"') == 3 and html.count("not mentioned</td>") == 3
    # an undated document says so; a document without a title shows its file name
    gamma = html[html.index("Gamma memo"):]
    assert "undated" in gamma[:gamma.index("</tr>")]
    assert ">delta.txt</th>" in html
    # the cited sentence with its marker linked to the sources card, like the chat's markers
    assert "The defense budget rises to 2% of GDP." in html
    assert '<a class="cite" href="#src-2-1" data-turn="2" data-n="1"' in html
    assert 'href="#src-2-2"' in html
    assert "as of 2025-12-29" in html  # the marker's tooltip carries the document date


def test_coverage_caption_singular_and_empty_when_no_coverage():
    one = Answer("q", "x", coverage=(CoverageRow("a.txt", "A", "", True, (C1,)),))
    assert "<caption>1 of 1 document mentions it</caption>" in col.coverage_html(one, 1)
    assert col.coverage_html(Answer("q", "x"), 1) == ""
    assert col.conflicts_html(Answer("q", "x"), 1) == ""
    assert col.timeline_html(Answer("q", "x"), 1) == ""
    assert col.collection_markdown(Answer("q", "x")) == []


def test_hostile_document_text_is_escaped_everywhere():
    bad = cite(1, f"It says {HOSTILE} 316 seats.", "bad", "2025-10-01", title=HOSTILE)
    other = cite(2, "It says 310 seats.", "good", "2025-11-01", title="Good")
    answer = Answer(
        "q", "x", citations=(bad, other),
        coverage=(CoverageRow("bad.txt", HOSTILE, HOSTILE, True, (bad,)),),
        conflicts=(Conflict(HOSTILE, (bad, other), (f"316 {HOSTILE}", "310 seats")),),
        timeline=(TimelineEntry("2025-10-01", bad, ""), TimelineEntry("2025-11-01", other, HOSTILE)),
        undated=(bad,))
    for html in (col.coverage_html(answer, 1), col.conflicts_html(answer, 1), col.timeline_html(answer, 1),
                 fmt.answer_html(answer, 1)):
        assert_inert(html)
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    note = DateNote(0, 1, HOSTILE, "2025-09", HOSTILE)
    notes = col.date_notes_html(Citation(1, bad.passage, bad.spans, dates=(note,)))
    assert_inert(notes)
    assert "&lt;script&gt;" in notes and "<script>" not in notes


# --- Sources differ ---------------------------------------------------------------------------

OLD = cite(3, "The LDP won 316 seats in the election.", "asan", "2025-10-01", "Asan brief")
NEW = cite(4, "The LDP won 310 seats in the election.", "herald", "2025-12-29", "Herald report")
SEAT_TIMELINE = (TimelineEntry("2025-10-01", OLD), TimelineEntry("2025-12-29", NEW, "316 seats → 310 seats"))


def test_conflict_panel_shows_sides_with_dates_values_and_newer_badge_on_the_newer_side_only():
    answer = Answer("q", "x", citations=(OLD, NEW),
                    conflicts=(Conflict("the LDP's seat count", (OLD, NEW), ("316 seats", "310 seats")),))
    html = col.conflicts_html(answer, turn=1)
    assert "Sources differ" in html and "the LDP&#x27;s seat count" in html
    sides = re.split(r'<div class="conflict-side(?= |")', html)[1:]
    assert len(sides) == 2
    old, new = sides
    assert "Asan brief" in old and "2025-10-01" in old and "316 seats" in old and 'href="#src-1-3"' in old
    assert "Herald report" in new and "2025-12-29" in new and 'href="#src-1-4"' in new
    assert "asan.txt" in old and "herald.txt" in new  # the file tells apart copies sharing a title
    assert "badge-newer" not in old
    assert new.startswith(' is-newer"') and new.count('class="badge-newer"') == 1
    assert f'title="{col.NEWER_HINT}"' in new and "not necessarily the correct one" in col.NEWER_HINT
    # the differing value is emphasised inside the sentence, which is otherwise as written
    assert '<strong class="side-hit">310 seats</strong>' in new
    assert text_of(new).count("The LDP won 310 seats in the election.") == 1
    # the sides sit side by side
    assert 'class="conflict-sides"' in html


def test_no_newer_badge_when_dates_are_equal_or_unknown():
    same = cite(5, "The LDP won 310 seats in the election.", "herald", "2025-10-01")
    undated = cite(6, "The LDP won 310 seats in the election.", "herald", "")
    for other in (same, undated):
        answer = Answer("q", "x", conflicts=(Conflict("seats", (OLD, other), ("316 seats", "310 seats")),))
        html = col.conflicts_html(answer, 1)
        assert len(re.findall(r'<div class="conflict-side[ "]', html)) == 2
        assert "badge-newer" not in html and "is-newer" not in html
    assert "undated" in col.conflicts_html(Answer("q", "x", conflicts=(Conflict("s", (OLD, undated), ("a", "b")),)), 1)


# --- timeline ---------------------------------------------------------------------------------

def test_timeline_keeps_order_shows_change_chip_and_lists_undated_apart():
    a = cite(1, "Japan plans to spend 1.6% of GDP.", "a", "2025-06-01", "June brief")
    b = cite(2, "Japan plans to spend 2% of GDP.", "b", "2025-12-29", "December brief")
    u = cite(3, "Japan plans more spending.", "u", "", "Undated memo")
    answer = Answer("How has it changed?", "x", citations=(a, b, u),
                    timeline=(TimelineEntry("2025-06-01", a), TimelineEntry("2025-12-29", b, "1.6% → 2%")),
                    undated=(u,), scope="all")
    html = col.timeline_html(answer, turn=4)
    dates = re.findall(r'<time class="tl-date" datetime="([^"]+)">', html)
    assert dates == ["2025-06-01", "2025-12-29"]
    assert html.index("June brief") < html.index("December brief")
    assert html.count('class="tl-change"') == 1 and "changed: 1.6% → 2%" in html
    first = html[html.index("June brief"):html.index("December brief")]
    assert "changed:" not in first
    assert 'href="#src-4-1"' in html and 'href="#src-4-2"' in html
    ordered = html.split('<ol class="tl">')[1].split("</ol>")[0]
    assert "Undated memo" not in ordered
    undated = html.split('class="tl-undated"')[1]
    assert "Undated (not placed in time)" in undated and "Undated memo" in undated and 'href="#src-4-3"' in undated


# --- in the chat and in the export ------------------------------------------------------------

def test_answer_html_appends_the_panels_after_the_answer_body():
    answer = Answer("q", "Two of five mention it. [1]", citations=(OLD, NEW), coverage=COVERAGE,
                    conflicts=(Conflict("seats", (OLD, NEW), ("316 seats", "310 seats")),),
                    timeline=SEAT_TIMELINE,
                    scope="all")
    html = fmt.answer_html(answer, 1)
    body = html.index('<div class="answer">')
    assert body < html.index('class="coverage"') < html.index('class="conflicts"') < html.index('class="timeline"')
    assert html.index('class="timeline"') < html.index('class="answer-meta"')
    plain = fmt.answer_html(Answer("q", "Just an answer. [1]", citations=(OLD,)), 1)
    assert "coverage" not in plain and "conflicts" not in plain and "timeline" not in plain


def test_markdown_export_has_the_table_the_differences_and_the_timeline():
    answer = Answer("Which documents discuss the budget?", "Text. [1]", citations=(C1, C2, OLD, NEW),
                    coverage=COVERAGE,
                    conflicts=(Conflict("seats", (OLD, NEW), ("316 seats", "310 seats")),),
                    timeline=SEAT_TIMELINE,
                    undated=(cite(9, "Undated words.", "u", "", "Memo | pipes"),), scope="all")
    md = fmt.answer_markdown(answer)
    assert "### By document (2 of 5 mention it)" in md
    assert "| Document | Date | Verdict | What it says |" in md
    assert "| Alpha brief | 2025-10-01 | mentions it | The defense budget rises to 2% of GDP. [1] |" in md
    assert "| Gamma memo | undated | not mentioned | — |" in md
    assert "### Sources differ" in md and "- **seats**" in md
    assert "  - Asan brief (2025-10-01): “316 seats” [3]" in md
    assert "Herald report (2025-12-29) (newer: the more recent document, not necessarily the correct one)" in md
    assert "### Timeline (oldest first)" in md
    tl = md[md.index("### Timeline"):]
    assert tl.index("- 2025-10-01 — Asan brief") < tl.index("- 2025-12-29 — Herald report")
    assert "(changed: 316 seats → 310 seats)" in tl
    assert "Undated (not placed in time):" in tl and "- Memo | pipes: Undated words. [9]" in tl
    assert md.index("### By document") < md.index("### Sources\n")


# --- a citation's dates in the sources panel ---------------------------------------------------

def test_date_notes_show_as_of_and_resolved_relative_dates_beside_the_quote():
    sentence = "Tokyo raised the budget last month."
    c = cite(1, sentence, "herald", "2025-12-29")
    i = c.spans[0].start + sentence.index("last month")
    noted = Citation(1, c.passage, c.spans, dates=(DateNote(i, i + 10, "last month", "2025-11", "November 2025"),))
    html = col.date_notes_html(noted)
    assert "as of 2025-12-29" in html
    assert '“last month” &#8594; November 2025' in html
    card = citation_card(noted, 1)
    assert "as of 2025-12-29" in card and "November 2025" in card
    # the quote itself is left as written
    assert "<mark>Tokyo raised the budget last month.</mark>" in card
    assert "as of" in col.date_notes_html(c) and "date-note" not in col.date_notes_html(c)
    assert col.date_notes_html(cite(1, sentence, "memo", "")) == ""


# --- the "Across all documents" box reaches the pipeline ---------------------------------------

class _Recorder:
    """A stand-in pipeline that records the scope it was asked with."""

    def __init__(self):
        self.scopes: list[str] = []

    def ask_stream(self, question, history, filters, scope):
        self.scopes.append(scope)
        yield Answer(question, "An answer. [1]", citations=(C1,), coverage=COVERAGE, scope="all")

    def ask(self, question, filters=None, scope="auto"):
        self.scopes.append(scope)
        return Answer(question, "An answer.")


def test_across_all_documents_box_sets_the_scope(tmp_path):
    from ui.handlers import ChatHandlers

    assert ChatHandlers.INPUTS[-1] == "scope_all"
    recorder = _Recorder()
    chat = ChatHandlers(recorder, tmp_path)
    for ticked in (True, False):
        *_, last = chat.respond("Which documents discuss the budget?", [], [], [], 0, [], "", "", ticked)
        assert 'class="cov-table"' in last[0][-1]["content"]
    chat.api_ask("q", scope="all")
    chat.api_ask("q")
    assert recorder.scopes == ["all", "auto", "all", "auto"]
