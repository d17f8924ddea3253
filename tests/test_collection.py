"""Questions about the whole collection (rag.scope, rag.collection, rag.differences) over the
real bundled index, plus small indexes of written documents for disagreements and dates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.base.errors import InputError
from rag.scope import asks_about_collection, read_scope, topic_of

ROOT = Path(__file__).resolve().parents[1]
ALL_FIVE = 5


@pytest.mark.parametrize("question", [
    "Which of these briefs discuss nuclear sharing, and what does each say?",
    "Which documents mention Taiwan?",
    "What does each brief say about Komeito?",
    "List every document that mentions Australia.",
    "Do the sources agree on the seat count?",
    "How many of the documents discuss tariffs?",
])
def test_collection_questions_are_recognised(question):
    assert asks_about_collection(question)
    assert read_scope(question).collection


@pytest.mark.parametrize("question", [
    "What does FOIP stand for?",
    "Which party left the coalition?",  # "which" asks for a fact, not for documents
    "How many seats did the LDP win?",
    "Do any of the documents mention climate change?",  # collection, but not about change
])
def test_fact_questions_are_not_timelines(question):
    scope = read_scope(question)
    assert not scope.change
    if "documents" not in question:
        assert not scope.collection


def test_topic_drops_the_framing_and_keeps_the_subject():
    assert topic_of("Which of these briefs discuss nuclear sharing, and what does each say?") == "nuclear sharing"
    assert topic_of("What does each brief say about Komeito?") == "Komeito"
    assert topic_of("Do any of the documents mention climate change?") == "climate change"
    scope = read_scope("How has the assessment of the coalition changed since October?", "auto", "2026-02-10")
    assert scope.change and scope.collection and scope.topic == "coalition"
    assert scope.period.date_from == "2025-10-01"


def test_scope_top_and_all_override_the_question():
    assert not read_scope("Which documents mention Taiwan?", "top").collection
    assert read_scope("Taiwan", "all").collection
    with pytest.raises(InputError, match="scope"):
        read_scope("Taiwan", "everything")


def test_coverage_reads_every_document_and_finds_a_single_mention(briefing):
    answer = briefing.ask("Which documents mention Russia?")
    assert answer.scope == "all" and len(answer.coverage) == ALL_FIVE
    yes = [r for r in answer.coverage if r.addresses]
    assert [r.source for r in yes] == ["tokuchi-nss-revision-japan-korea-partnership.txt"]
    assert all(c.spans and "Russia" in c.spans[0].text for c in yes[0].citations)
    assert all(not r.citations for r in answer.coverage if not r.addresses)
    assert answer.text.startswith("1 of 5 documents mentions Russia")
    # Semiconductors: one sentence in a long brief.
    answer = briefing.ask("Which documents mention semiconductors?")
    assert [r.source for r in answer.coverage if r.addresses] == ["asan-issue-brief-2025-43-japan-under-takaichi.txt"]


def test_coverage_row_citations_are_answer_citations_and_spans_are_document_text(briefing):
    answer = briefing.ask("Which briefs discuss defense spending?")
    numbers = {c.n for c in answer.citations}
    cited = [c for r in answer.coverage for c in r.citations]
    assert cited and {c.n for c in cited} == numbers
    for citation in cited:
        document = briefing.store.document_text(citation.passage.doc_id)
        assert all(document[s.start:s.end] == s.text for s in citation.spans)
        assert f"[{citation.n}]" in answer.text
    payload = answer.to_dict()
    assert payload["scope"] == "all" and len(payload["coverage"]) == ALL_FIVE
    assert {"source", "title", "date", "addresses", "citations"} <= set(payload["coverage"][0])


def test_nothing_addresses_an_absent_topic_and_the_answer_says_so(briefing):
    answer = briefing.ask("immigration policy", scope="all")
    assert answer.abstained and not any(r.addresses for r in answer.coverage)
    assert answer.text.startswith("None of the 5 documents mention")


def test_a_timeline_is_oldest_first_cited_and_lists_undated_documents_apart(briefing):
    answer = briefing.ask("How has the assessment of Japan's defense spending changed over time?")
    dates = [e.date for e in answer.timeline]
    assert dates == sorted(dates) and len(dates) == 3 and all(dates)
    assert all(e.citation.spans for e in answer.timeline)
    assert answer.undated and all(not c.as_of for c in answer.undated)
    assert "Undated documents" in answer.text
    payload = answer.to_dict()
    assert [e["date"] for e in payload["timeline"]] == dates


def test_a_period_keeps_only_documents_dated_in_it(briefing):
    answer = briefing.ask("How did statements about Taiwan change between December 2025 and March 2026?")
    assert [e.date for e in answer.timeline] == ["2025-12-29", "2026-02-10"]
    assert {c.passage.source for c in answer.undated} == {"japan-forward-choi-eunmi-interview.txt",
                                                          "takaichi-coalition-security-trump-talks.txt"}


def test_the_cli_prints_a_table_with_one_line_per_document(settings):
    done = subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(settings.data_dir), "ask", "--all", "Taiwan"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**__import__("os").environ, "BRIEFING_ANSWER_MODE": "extractive", "OPENAI_API_KEY": ""})
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("Every document in scope:")[1].split("Sources:")[0]
    rows = [line for line in table.strip().splitlines()[2:] if line.strip()]
    assert len(rows) == ALL_FIVE and sum(" yes " in f" {r} " for r in rows) == 4


# --- disagreements and dates, on documents written here ---------------------------------------

def _index(tmp_path, docs: dict[str, str]):
    from ingest.index import ingest
    from rag.base.settings import Settings
    from rag.pipeline import Briefing

    corpus = tmp_path / "docs"
    corpus.mkdir()
    for name, text in docs.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "index", corpus=corpus, answer_mode="extractive",
                        openai_api_key="", openai_base_url="")
    assert ingest([corpus], settings, progress=False).ok
    return Briefing(settings)


REPORT_A = ("Harbour report\n\n2024-03-02\n\nThe port authority said the new container terminal handled "
            "412,000 containers in 2023. Dredging of the outer channel was completed last month. "
            "The terminal employs about 900 people.\n")
REPORT_B = ("Harbour review\n\n2024-06-20\n\nAccording to the annual review, the new container terminal handled "
            "388,000 containers in 2023. A second berth is planned. Officials expect growth next year.\n")


@pytest.fixture(scope="module")
def harbour(tmp_path_factory, embedder):
    return _index(tmp_path_factory.mktemp("harbour"), {"harbour-a.txt": REPORT_A, "harbour-b.txt": REPORT_B})


def test_a_disagreement_between_documents_is_shown_with_both_sides(harbour):
    answer = harbour.ask("How many containers did the new container terminal handle in 2023?")
    assert len(answer.conflicts) == 1
    conflict = answer.conflicts[0]
    assert {c.passage.source for c in conflict.sides} == {"harbour-a.txt", "harbour-b.txt"}
    assert {c.n for c in conflict.sides} <= {c.n for c in answer.citations}
    assert conflict.newer == next(c.n for c in conflict.sides if c.passage.source == "harbour-b.txt")
    assert "Sources differ" in answer.text and "newer" in answer.text
    sides = answer.to_dict()["conflicts"][0]["sides"]
    assert {s["date"] for s in sides} == {"2024-03-02", "2024-06-20"}
    # The per-document answer shows the same disagreement.
    everywhere = harbour.ask("containers handled in 2023", scope="all")
    assert len(everywhere.conflicts) == 1


def test_agreeing_and_unrelated_figures_raise_no_alarm(harbour):
    answer = harbour.ask("How many people does the terminal employ?")
    assert not answer.conflicts and "Sources differ" not in answer.text


def test_relative_dates_in_a_quote_are_resolved_beside_it_not_in_it(harbour):
    answer = harbour.ask("When was the dredging of the outer channel completed?")
    notes = [(c, d) for c in answer.citations for d in c.dates]
    assert notes, answer.to_dict()
    citation, note = notes[0]
    assert note.phrase == "last month" and note.resolved == "2024-02"
    document = harbour.store.document_text(citation.passage.doc_id)
    assert document[note.start:note.end] == "last month"
    assert "last month" in answer.text and "2024-02" not in answer.text  # the quote is not edited
    payload = answer.to_dict()["citations"]
    assert any(d["label"] for c in payload for d in c["dates"]) and payload[0]["as_of"] == "2024-03-02"


def test_the_api_takes_a_scope_and_refuses_a_bad_one(briefing):
    from fastapi.testclient import TestClient

    from rag.api import create_app

    client = TestClient(create_app(briefing))
    body = {"model": "briefing-extractive", "messages": [{"role": "user", "content": "Taiwan"}], "scope": "all"}
    got = client.post("/v1/chat/completions", json=body)
    assert got.status_code == 200
    assert len(got.json()["briefing"]["coverage"]) == ALL_FIVE
    bad = client.post("/v1/chat/completions", json={**body, "scope": "every"})
    assert bad.status_code == 400 and "scope" in bad.json()["error"]["message"]


def test_the_collection_eval_scores_what_it_asks(settings):
    from eval.collection import score

    class A:  # the fields score() reads
        def __init__(self, coverage=(), timeline=(), conflicts=(), undated=()):
            self.coverage, self.timeline, self.conflicts, self.undated = coverage, timeline, conflicts, undated

    class Row:
        def __init__(self, source, addresses):
            self.source, self.addresses = source, addresses

    records = [{"kind": "coverage", "documents": ["a", "b"]}]
    totals = score(records, [A(coverage=(Row("a", True), Row("b", False), Row("c", True)))], set())
    assert totals["coverage_recall"] == 0.5 and totals["coverage_precision"] == 0.5
    assert json.dumps(totals)


def test_the_script_entry_point_takes_a_scope(settings):
    from rag import ask

    assert ask("Taiwan", settings=settings, scope="all").scope == "all"
    assert ask("Which documents mention Taiwan?", settings=settings, scope="top").scope == "top"
