"""Text handling for documents nobody on the team wrote: hard-wrapped plain text is read as
paragraphs and whole sentences (offsets still into the raw text), and Japanese/Korean names are
found by keyword (CJK bigrams)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ingest.index import ingest
from ingest.readcache import ReadCache
from ingest.store import Store
from ingest.text import line_spans, paragraphs, units, wrap_width
from rag.base.settings import Settings
from rag.base.text import cjk_bigrams, ends_sentence, split_sentences, terms, word_count
from rag.snapshot import CorpusSnapshot

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

REPORT = """\
QUARTERLY PORT REVIEW

1. Summary

The review panel visited the northern terminal in March. Its engineers
found that the contractor, Pacific Marine Works
Limited, had finished the breakwater two months early and under budget,
while the dredging of the inner channel was still behind schedule. The
board approved a further $4.2 million for the channel on 12 April.

Key findings:
- Breakwater complete, inspected and signed off by the U.S.
  Army Corps of Engineers liaison in late March.
- Channel dredging at 60% of the planned depth.

Dr. Alice Moreno, who chairs the panel, said the board would publish the
full report in June. "We expect the channel to open to larger vessels
by the end of the year," she said.
"""


def _texts(raw: str) -> list[str]:
    return [u.text for u in units(raw)]


def test_units_are_raw_slices_even_across_line_breaks():
    for unit in units(REPORT):
        assert REPORT[unit.start:unit.end] == unit.text


def test_a_wrapped_sentence_is_one_unit():
    texts = _texts(REPORT)
    assert ("Its engineers\nfound that the contractor, Pacific Marine Works\nLimited, had finished the "
            "breakwater two months early and under budget,\nwhile the dredging of the inner channel was "
            "still behind schedule.") in texts
    assert "The\nboard approved a further $4.2 million for the channel on 12 April." in texts
    assert not any(t.startswith("Limited") for t in texts)


def test_abbreviation_at_a_line_end_and_quotes_do_not_cut_a_sentence():
    texts = _texts(REPORT)
    assert "Dr. Alice Moreno, who chairs the panel, said the board would publish the\nfull report in June." in texts
    assert '"We expect the channel to open to larger vessels\nby the end of the year," she said.' in texts


def test_circa_before_a_figure_does_not_end_a_sentence():
    raw = "The population amounted to ca. 2 million. It grew (c. 1700) after that."
    assert [raw[s:e] for s, e in split_sentences(raw)] == [
        "The population amounted to ca. 2 million.",
        "It grew (c. 1700) after that.",
    ]


def test_headings_and_list_items_keep_their_own_lines():
    by_text = {u.text: u for u in units(REPORT)}
    assert by_text["QUARTERLY PORT REVIEW"].is_heading
    assert by_text["1. Summary"].is_heading
    assert by_text["Key findings:"].is_heading
    # A bullet is its own paragraph; its indented continuation line joins it.
    assert ("Breakwater complete, inspected and signed off by the U.S.\n  Army Corps of Engineers "
            "liaison in late March.") in by_text
    assert "Channel dredging at 60% of the planned depth." in by_text
    paras = {u.paragraph for u in units(REPORT) if u.text.startswith(("Breakwater", "Channel"))}
    assert len(paras) == 2


def test_wrap_width_is_found_whatever_the_width():
    prose = ("The ministry said on Tuesday that the new coastal patrol vessels would be built in three "
             "yards and delivered over four years, with the first two entering service in early 2027 and "
             "the remainder by the end of the decade, according to officials familiar with the plan")
    for width in (60, 72, 100, 130):
        raw = "Coastal patrols\n\n" + textwrap.fill(prose + ".", width) + "\n\n" + textwrap.fill(prose + ".", width)
        assert [raw[s:e].split() for s, e in paragraphs(raw)][1:] == [(prose + ".").split()] * 2, width


def test_short_lines_of_a_wrapped_text_are_not_joined():
    """An address block or signature in a wrapped e-mail: short lines stay lines."""
    body = textwrap.fill("The board thanks the panel for its work on the review of the northern terminal "
                         "and looks forward to the final report in June of next year", 70)
    raw = body + "\n\nWith regards\nHarbour Board Secretariat\n12 Quay Street\n"
    assert [raw[s:e] for s, e in paragraphs(raw)][-3:] == ["With regards", "Harbour Board Secretariat", "12 Quay Street"]


def test_one_paragraph_per_line_text_is_not_joined():
    """Web captures: long lines, one paragraph each, even when one has no closing stop."""
    lines = [
        "Prime Minister Takaichi met the president in Washington on Monday to discuss tariffs, "
        "defence spending and the alliance's plans for a joint command in the coming year, officials said",
        "The two leaders agreed to meet again before the end of the year, and Japan pledged to raise its "
        "defence budget to two percent of gross domestic product by 2027, two years ahead of schedule.",
    ]
    raw = "\n".join(lines)
    assert [raw[s:e] for s, e in paragraphs(raw)] == lines


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_bundled_corpus_is_not_taken_for_wrapped_text(path):
    """The bundled briefs put a paragraph per line: no line of theirs is joined as a wrap."""
    raw = path.read_text(encoding="utf-8")
    assert wrap_width(raw, line_spans(raw)) == 0


def test_splitter_does_not_break_at_a_line_end_before_a_capital():
    raw = "The contractor, Pacific Marine Works\nLimited, finished early.\nThe board approved it."
    assert [raw[s:e] for s, e in split_sentences(raw)] == [
        "The contractor, Pacific Marine Works\nLimited, finished early.",
        "The board approved it.",
    ]


def test_splitter_splits_japanese_sentences_without_spaces():
    raw = "高市首相は会談した。次に東京へ戻った。"
    assert [raw[s:e] for s, e in split_sentences(raw)] == ["高市首相は会談した。", "次に東京へ戻った。"]


def test_ends_sentence():
    assert ends_sentence("in June.") and ends_sentence("she said.”") and ends_sentence("会談した。")
    assert not ends_sentence("signed off by the U.S.")
    assert not ends_sentence("said Dr.")
    assert not ends_sentence("Pacific Marine Works")


def test_terms_emit_cjk_bigrams_and_keep_latin_words():
    assert terms("高市首相") == ["高市", "市首", "首相"]
    assert terms("이재명 대통령") == ["이재", "재명", "대통", "통령"]
    assert terms("サミット") == ["サミ", "ミッ", "ット"]
    assert terms("G7サミットの首相") == ["g7", "サミ", "ミッ", "ット", "トの", "の首", "首相"]
    assert terms("外交・安保") == ["外交", "安保"]  # the middle dot separates words
    assert terms("The ministers of Japan’s cabinet") == ["minister", "japan", "cabinet"]
    assert cjk_bigrams("日") == ["日"]
    assert "日" in terms("日 and the US")


def test_word_count_counts_chinese_and_japanese_by_characters():
    assert word_count("Pacific Marine Works") == 3
    assert word_count("고 이재명 대통령") == 3  # Korean spaces its words
    assert word_count("高市首相は東京で会談した") == 6  # one \w run of 12 characters


def test_a_japanese_sentence_is_not_a_heading():
    raw = "高市首相は東京で米国の大統領と会談し、防衛費の増額について協議した。"
    (unit,) = units(raw)
    assert not unit.is_heading


JAPANESE = (
    "高市内閣の発足\n\n"
    "高市早苗首相は十月に就任し、防衛費の増額と経済安全保障の強化を打ち出した。"
    "首相は日米同盟を重視する姿勢を示している。\n"
)
KOREAN = (
    "한일 관계 전망\n\n"
    "이재명 대통령은 일본 총리와 정상회담을 갖고 셔틀 외교를 이어가기로 합의했다. "
    "양국은 경제 협력을 확대하기로 했다.\n"
)
ENGLISH = {
    "port.txt": "Harbour news\n\n" + REPORT,
    "budget.txt": (
        "Budget talks\n\n"
        "The finance ministry proposed a record defence budget for the coming fiscal year, citing the "
        "security environment in East Asia and the need for new long-range missiles.\n"
    ),
}


@pytest.fixture(scope="module")
def cjk_snapshot(tmp_path_factory) -> CorpusSnapshot:
    """A real index (real embedder, real Chroma) of a Japanese, a Korean and two English documents."""
    folder = tmp_path_factory.mktemp("cjk-corpus")
    (folder / "japan.txt").write_text(JAPANESE, encoding="utf-8")
    (folder / "korea.txt").write_text(KOREAN, encoding="utf-8")
    for name, text in ENGLISH.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("cjk-index"), answer_mode="extractive",
                        openai_api_key="", openai_base_url="")
    report = ingest([folder], settings, progress=False)
    assert report.ok and len(report.added) == 4, report.summary()
    return CorpusSnapshot(ReadCache(Store(settings)).sync(), settings.memory_index_rows)


def _bm25_sources(snapshot: CorpusSnapshot, question: str) -> list[str]:
    return [snapshot.chunk_meta(row)["source"] for row, _ in snapshot.bm25.search(question, 5)]


@pytest.mark.parametrize("question, source", [
    ("高市首相は何を打ち出したか", "japan.txt"),
    ("What did 高市 announce?", "japan.txt"),
    ("이재명의 외교 방침은?", "korea.txt"),  # particles attach to the name: 이재명의, 대통령은
    ("What did 이재명 agree?", "korea.txt"),
])
def test_bm25_finds_japanese_and_korean_names(cjk_snapshot, question, source):
    assert _bm25_sources(cjk_snapshot, question)[:1] == [source]


def test_bm25_still_ranks_english_by_english_words(cjk_snapshot):
    assert _bm25_sources(cjk_snapshot, "Who finished the breakwater?")[:1] == ["port.txt"]
