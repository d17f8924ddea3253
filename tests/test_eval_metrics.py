"""Eval metric functions against hand-computed cases (no model, no index)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval import metrics as M
from eval import totals as T
from rag.base.types import Answer, Citation, Passage


def P(source: str, text: str = "", chunk: str | None = None, score: float = 0.0) -> Passage:
    return Passage(chunk_id=chunk or f"{source}:{text[:10]}", doc_id=source, source=source, title=source,
                   date="", text=text, start=0, end=len(text), score=score)


def A(text: str, citations=(), passages=(), abstained: bool = False) -> Answer:
    return Answer(question="q", text=text, citations=tuple(citations), passages=tuple(passages), abstained=abstained)


def verbatim_checker(sentence: str, passage_text: str, embedder) -> bool:
    """The local stand-in for rag.verify.supports in these tests: support = containment."""
    return M.normalize(sentence) in M.normalize(passage_text)


# --------------------------------------------------------------------------- normalisation


def test_normalize_quotes_dashes_whitespace_case():
    assert M.normalize("  Japan\u2013Korea\u00a0\u201cPartnership\u201d\n  it\u2019s\u2014done\u2212 ") == \
        "japan-korea \"partnership\" it's-done-"


def test_strip_markers_and_markers():
    text = "Alpha [1]. Beta [2][3] gamma [4, 5]."
    assert M.strip_markers(text) == "Alpha. Beta gamma."
    assert M.markers(text) == [1, 2, 3, 4, 5]
    assert M.markers("Ranges [2-4] and repeats [1] [1].") == [2, 3, 4, 1, 1]  # the shared parser's forms


# --------------------------------------------------------------------------- key facts


def test_key_fact_aliases_any_one_counts():
    facts = [["Free and Open Indo-Pacific", "FOIP"], ["2027"], ["Komeito"]]
    found = M.key_facts_found("The FOIP vision [1] aims at 2027 [2].", facts)
    assert found == [True, True, False]
    assert M.key_fact_recall("The FOIP vision [1] aims at 2027 [2].", facts) == pytest.approx(2 / 3)


def test_key_fact_curly_quotes_and_dashes_match_straight_alias():
    text = "She called it \u201cdetermination and progress\u201d; the Japan\u2013Korea link is Japan\u2019s weakest."
    facts = [['"determination and progress"'], ["Japan-Korea"], ["Japan's weakest"]]
    assert M.key_facts_found(text, facts) == [True, True, True]


def test_key_fact_case_and_whitespace_insensitive():
    assert M.key_facts_found("NATIONAL   security\nstrategy", [["National Security Strategy"]]) == [True]


def test_key_fact_markers_are_stripped_before_matching():
    # a marker splitting the fact would otherwise hide it
    assert M.key_facts_found("Free and Open [1] Indo-Pacific", [["Free and Open Indo-Pacific"]]) == [True]


def test_key_fact_only_first_1000_characters_count():
    text = "x" * 997 + " 2027 is late"  # the fact straddles character 1000
    assert M.key_facts_found(text, [["2027"]]) == [False]
    assert M.key_facts_found(text, [["2027"]], window=2000) == [True]
    # markers do not use up the window: they are stripped first
    assert M.key_facts_found("[1] " * 300 + "2027", [["2027"]]) == [True]


def test_key_fact_numbers_do_not_match_inside_other_numbers():
    assert M.key_facts_found("It covers 2017 and 170 items.", [["17"]]) == [False]
    assert M.key_facts_found("It covers 17 sectors.", [["17"]]) == [True]
    assert M.key_facts_found("17% of GDP", [["17"]]) == [True]
    # words must start at a word boundary but may run on (plurals)
    assert M.key_facts_found("the lands", [["NDS"]]) == [False]
    assert M.key_facts_found("military buildups", [["military buildup"]]) == [True]


def test_key_fact_recall_none_without_facts():
    assert M.key_fact_recall("anything", []) is None


# --------------------------------------------------------------------------- retrieval


def test_retrieval_single_gold_first():
    assert M.retrieval_metrics(["a", "b", "c"], ["a"], k=5) == {"hit": 1.0, "recall": 1.0, "rr": 1.0}


def test_retrieval_duplicates_of_one_document_count_once():
    # two chunks of "b" at ranks 1 and 2; gold b and c; c at rank 4, outside k=3
    m = M.retrieval_metrics(["b", "b", "a", "c"], ["b", "c"], k=3)
    assert m == {"hit": 1.0, "recall": 0.5, "rr": 1.0}
    m = M.retrieval_metrics(["b", "b", "a", "c"], ["b", "c"], k=4)
    assert m["recall"] == 1.0


def test_retrieval_ties_keep_the_returned_order():
    # equal scores: the list order is the ranking (deterministic, what the answerer used)
    passages = [P("x", "t1", score=0.5), P("gold", "t2", score=0.5), P("y", "t3", score=0.5)]
    m = M.retrieval_metrics([p.source for p in passages], ["gold"], k=1)
    assert m == {"hit": 0.0, "recall": 0.0, "rr": 0.5}
    assert M.retrieval_metrics([p.source for p in passages], ["gold"], k=2)["hit"] == 1.0


def test_retrieval_first_relevant_rank_for_mrr():
    assert M.retrieval_metrics(["x", "y", "z", "g2", "g1"], ["g1", "g2"], k=5)["rr"] == pytest.approx(1 / 4)


def test_retrieval_empty_and_no_gold():
    assert M.retrieval_metrics([], ["a"], k=5) == {"hit": 0.0, "recall": 0.0, "rr": 0.0}
    assert M.retrieval_metrics(["a"], [], k=5) == {"hit": None, "recall": None, "rr": None}


def test_retrieval_source_in_subfolder_matches_file_name():
    assert M.retrieval_metrics(["reports/2025/a.txt"], ["a.txt"], k=1)["hit"] == 1.0
    assert M.retrieval_metrics(["reports/a.txt"], ["other/a.txt"], k=1)["hit"] == 0.0


def test_evidence_hit_normalised_and_cut_at_k():
    texts = ["nothing here", "The vision of a \u201cFree and Open\u201d\n Indo\u2013Pacific (FOIP)."]
    assert M.evidence_hit(texts, ['a "Free and Open" Indo-Pacific'], k=2) == 1.0
    assert M.evidence_hit(texts, ['a "Free and Open" Indo-Pacific'], k=1) == 0.0
    assert M.evidence_hit([], ["quote"], k=5) == 0.0
    assert M.evidence_hit(texts, [], k=5) is None


# --------------------------------------------------------------------------- answer text


def test_token_f1_hand_computed():
    # pred tokens: cat sat (articles, punctuation, markers gone); ref: cat sat down
    assert M.token_f1("The cat sat. [1]", "A cat sat down") == pytest.approx(0.8)
    assert M.token_f1("dog", "cat") == 0.0
    assert M.token_f1("", "cat") == 0.0
    assert M.token_f1("cat", "") is None
    # repeated tokens are clipped: pred cat cat cat (3), ref cat dog (2), common 1
    assert M.token_f1("cat cat cat", "cat dog") == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


class FakeEmbedder:
    """Two-dimensional 'embeddings': texts with 'yes' point one way, others the other."""

    calls = 0

    def embed(self, texts, batch_size=64, progress=None):
        FakeEmbedder.calls += 1
        return np.array([[1.0, 0.0] if "yes" in t else [0.6, 0.8] for t in texts], dtype=np.float32)


def test_semantic_similarity_cosine_and_batching():
    FakeEmbedder.calls = 0
    e = FakeEmbedder()
    assert M.semantic_similarity(e, "yes [1]", "yes") == pytest.approx(1.0)
    assert M.semantic_similarity(e, "yes", "no") == pytest.approx(0.6)
    assert M.semantic_similarity(e, "[1]", "no") is None
    FakeEmbedder.calls = 0
    out = M.semantic_similarities(e, [("yes", "no"), ("no", "no"), ("", "x")])
    assert out[0] == pytest.approx(0.6) and out[1] == pytest.approx(1.0) and out[2] is None
    assert FakeEmbedder.calls == 1


# --------------------------------------------------------------------------- citations


PA = P("a.txt", "Japan raised defense spending to 2% of GDP. The plan was approved.", chunk="a:0")
PB = P("b.txt", "Korea held an election in June. Turnout was high.", chunk="b:0")
PC = P("c.txt", "Unrelated text about fisheries.", chunk="c:0")


def test_cited_claims_split_at_marker_groups():
    text = "Japan raised spending [1]. Korea voted [2][3] and then [1, 2]. A closing note."
    assert M.cited_claims(text) == [("Japan raised spending", [1]), ("Korea voted", [2, 3]), ("and then", [1, 2])]


def test_citation_validity():
    good = A("Japan raised defense spending to 2% of GDP. [1]", [Citation(1, PA)], [PA, PB])
    assert M.citation_validity(good)
    dangling = A("Claim [1] and [2].", [Citation(1, PA)], [PA, PB])
    assert not M.citation_validity(dangling)
    not_retrieved = A("Claim [1].", [Citation(1, PC)], [PA, PB])
    assert not M.citation_validity(not_retrieved)
    assert M.citation_validity(A("No markers at all.", [], [PA]))


def test_citation_precision_with_fake_checker():
    text = ("Japan raised defense spending to 2% of GDP. [1] "  # supported by A
            "Korea held an election in June. [1][2] "            # A: no, B: yes
            "Turnout was high. [3]")                            # [3] has no citation: unsupported
    answer = A(text, [Citation(1, PA), Citation(2, PB)], [PA, PB])
    precision, checks = M.citation_precision(answer, verbatim_checker, embedder=None, verbatim=False)
    assert [c["supported"] for c in checks] == [True, False, True, False]
    assert precision == pytest.approx(2 / 4)
    assert {c["rule"] for c in checks} == {"checker", "no such citation"}


def test_citation_precision_verbatim_claims_skip_the_checker():
    calls = []

    def never(sentence, passage_text, embedder):
        calls.append(sentence)
        return False

    answer = A("Japan raised defense spending to 2% of GDP. [1] Paraphrase of it. [1]", [Citation(1, PA)], [PA])
    precision, checks = M.citation_precision(answer, never, embedder=None)
    assert precision == pytest.approx(0.5)
    assert [c["rule"] for c in checks] == ["verbatim", "checker"]
    assert calls == ["Paraphrase of it."]


def test_citation_precision_none_without_citations():
    assert M.citation_precision(A("Uncited."), verbatim_checker, None) == (None, [])


def test_citation_recall():
    evidence = ["raised defense spending to 2% of GDP"]
    assert M.citation_recall(A("X [1]", [Citation(1, PA)], [PA]), evidence) == 1.0
    assert M.citation_recall(A("X [1]", [Citation(1, PB)], [PA, PB]), evidence) == 0.0
    # a citation object that no marker uses is not "cited"
    assert M.citation_recall(A("X [2]", [Citation(1, PA), Citation(2, PB)], [PA, PB]), evidence) == 0.0
    assert M.citation_recall(A("X [1]", [Citation(1, PA)], [PA]), []) is None


# --------------------------------------------------------------------------- abstention


def test_confusion_matrix_hand_computed():
    # (answerable, abstained)
    outcomes = [(True, False)] * 6 + [(True, True)] * 2 + [(False, False)] * 1 + [(False, True)] * 3
    m = T.confusion(outcomes)
    assert (m["answerable_answered"], m["answerable_abstained"], m["unanswerable_answered"],
            m["unanswerable_abstained"]) == (6, 2, 1, 3)
    assert m["false_answer_rate"] == pytest.approx(1 / 4)
    assert m["over_refusal_rate"] == pytest.approx(2 / 8)
    assert m["abstention_accuracy"] == pytest.approx(9 / 12)


def test_confusion_matrix_without_unanswerable():
    m = T.confusion([(True, False)])
    assert m["false_answer_rate"] is None and m["over_refusal_rate"] == 0.0


RECORD = {"id": "q", "question": "How much?", "answerable": True, "reference_answer": "2% of GDP",
          "key_facts": [["2%"], ["GDP"]], "sources": ["a.txt"], "evidence": ["raised defense spending"],
          "tags": ["dates-numbers"]}
UNANSWERABLE = {"id": "u", "question": "Who?", "answerable": False, "reference_answer": "", "key_facts": [],
                "sources": [], "evidence": [], "tags": ["unanswerable"]}


def _row(record, answer, latency=0.1):
    m = M.score_answer(record, answer, k=5, embedder=FakeEmbedder(), supports=verbatim_checker)
    passed, reasons = M.question_passes(m)
    return {"id": record["id"], "tags": record["tags"], "metrics": m, "pass": passed, "reasons": reasons,
            "latency_s": latency}


def test_abstentions_are_excluded_from_answer_metrics_not_scored_nan():
    answered = A("Japan raised defense spending to 2% of GDP. [1]", [Citation(1, PA)], [PA, PB])
    abstained = A("The documents don't answer this.", [Citation(1, PB)], [PB, PA], abstained=True)
    r1, r2 = _row(RECORD, answered), _row(RECORD, abstained)
    assert r2["metrics"]["key_fact_recall"] is None and r2["metrics"]["token_f1"] is None
    assert r2["metrics"]["citation_precision"] is None and r2["metrics"]["citation_recall"] is None
    assert r2["metrics"]["hit@k"] == 1.0 and r2["metrics"]["rr"] == 0.5  # retrieval still measured
    summary = T.aggregate([r1, r2], k=5)
    t = summary["totals"]
    assert t["key_fact_recall"] == 1.0 and summary["counts"]["key_fact_recall"] == 1
    assert t["citation_precision"] == 1.0 and t["citation_recall"] == 1.0
    assert t["mrr"] == pytest.approx(0.75) and summary["counts"]["mrr"] == 2
    assert t["over_refusal_rate"] == 0.5 and t["pass_rate"] == 0.5
    assert not any(isinstance(v, float) and math.isnan(v) for v in t.values())
    assert not r2["pass"] and r2["reasons"] == ["abstained on an answerable question"]


def test_all_abstained_gives_none_not_nan():
    abstained = A("The documents don't answer this.", abstained=True)
    summary = T.aggregate([_row(RECORD, abstained), _row(UNANSWERABLE, abstained)], k=5)
    t = summary["totals"]
    assert t["key_fact_recall"] is None and t["token_f1"] is None and t["citation_validity"] is None
    assert t["hit@5"] == 0.0  # nothing retrieved: a miss, not missing
    assert t["false_answer_rate"] == 0.0 and t["over_refusal_rate"] == 1.0 and t["pass_rate"] == 0.5


def test_unanswerable_pass_and_false_answer():
    answered = A("Some claim. [1]", [Citation(1, PA)], [PA])
    assert _row(UNANSWERABLE, answered)["reasons"] == ["answered an unanswerable question"]
    assert _row(UNANSWERABLE, A("no", abstained=True))["pass"]


def test_question_fails_on_missing_fact_and_invalid_citation():
    answer = A("Japan raised spending to 2% [1] [4]", [Citation(1, PA)], [PA])
    row = _row(RECORD, answer)
    assert row["metrics"]["key_facts_found"] == [True, False]
    assert row["metrics"]["key_fact_recall"] == 0.5
    assert row["reasons"] == ["missing 1 of 2 key facts", "invalid citations"]


def test_percentiles_and_latency_totals():
    assert T.percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert T.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 95) == pytest.approx(10.5)
    assert T.percentile([], 50) is None
    rows = [_row(UNANSWERABLE, A("no", abstained=True), latency=x) for x in (0.1, 0.2, 0.3, 0.4)]
    t = T.aggregate(rows, k=5)["totals"]
    assert t["latency_p50"] == pytest.approx(0.25) and t["latency_p95"] == pytest.approx(0.385)


def test_per_tag_breakdown():
    good = A("Japan raised defense spending to 2% of GDP. [1]", [Citation(1, PA)], [PA])
    half = A("Japan raised spending to 2%. [1]", [Citation(1, PA)], [PA])
    other = dict(RECORD, id="q2", tags=["dates-numbers", "why"])
    rows = [_row(RECORD, good), _row(other, half), _row(UNANSWERABLE, good)]
    tags = T.per_tag(rows)
    assert set(tags) == {"dates-numbers", "why", "unanswerable"}
    assert tags["dates-numbers"]["key_fact_recall"] == pytest.approx(0.75)
    assert tags["dates-numbers"]["pass_rate"] == 0.5
    assert tags["why"]["key_fact_recall"] == 0.5
    assert tags["unanswerable"]["false_answer_rate"] == 1.0 and tags["unanswerable"]["key_fact_recall"] is None


def test_a_choice_counts_only_when_the_answer_opens_with_the_right_option_alone():
    options = ["Lit", "Adorable"]
    assert M.choice_given("Adorable. Adorable was formed in 1990. [1] Lit formed in 1988. [2]", options) == "Adorable"
    assert M.choice_given("“Lit.” Lit formed in 1988. [1]", options) == "Lit"
    # Quoting what each option's passage says names both, and a quote opening with a name is no choice.
    assert M.choice_given("Adorable was formed in 1990. [1] Lit formed in 1988. [2]", options) is None
    record = {**RECORD, "key_facts": [["Lit"]], "options": options}
    right = A("Lit. Lit formed in 1988. [1] Adorable was formed in 1990. [1]", [Citation(1, PA)], [PA])
    both = A("Adorable was formed in 1990. [1] Lit formed in 1988. [1]", [Citation(1, PA)], [PA])
    wrong = A("Adorable. Adorable was formed in 1990. [1] Lit formed in 1988. [1]", [Citation(1, PA)], [PA])
    assert [_row(record, a)["metrics"]["answer_has_fact"] for a in (right, both, wrong)] == [1.0, 0.0, 0.0]


def test_an_option_is_the_gold_when_the_gold_holds_all_its_words():
    assert M.option_is("Howard Fast", "Howard Melvin Fast") and M.option_is("Lit", "Lit")
    assert not M.option_is("Laura Esquivel", "Howard Melvin Fast")
    record = {**RECORD, "key_facts": [["Howard Melvin Fast"]], "options": ["Laura Esquivel", "Howard Fast"]}
    named = A("Howard Fast. Howard Fast wrote as Walter Ericson. [1]", [Citation(1, PA)], [PA])
    assert _row(record, named)["metrics"]["answer_has_fact"] == 1.0  # its quote need not spell "Melvin"
