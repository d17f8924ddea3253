"""Sentence-level evidence for a question, and the decision whether the documents answer it.

Both answerers (extractive and LLM) start here, so abstention is decided by retrieval evidence
and never by a model's willingness to answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.answerability import AnswerCheck
from rag.bm25 import BM25Index, sentence_match
from rag.compared import unnamed
from rag.editions import other_edition
from rag.hops import bridge_names, mentions
from rag.base.text import term_set
from rag.question import (
    asked_kind,
    names_kind,
    QuestionProfile,
    analyze,
    asks_about_past_event,
    canonical,
    contradicts,
    describes_as_upcoming,
    matches_type,
)
from rag.spelling import resembles
from rag.retrieval import Retrieval
from rag.snapshot import CorpusSnapshot
from rag.base.types import Passage

# Calibrated on eval/gold.jsonl (answerable vs unanswerable questions); README "How it works" says
# when the answer abstains.
SIM_FLOOR = 0.30  # below this cosine, a sentence is not about the question...
LEXICAL_FLOOR = 0.50  # ...unless it shares at least this (idf-weighted) share of its terms
TYPE_WINDOW = 0.08  # an answer of the asked type must score within this of the best sentence...
TYPE_TOP = 3  # ...and be among the best few
SIM_WEIGHT = 0.55  # the rest of 0.9 goes to term coverage (weights tried: 0.4-0.55 on gold)
PASSAGES_READ = 6  # the best passages whose sentences are scored; a passage below them is never quoted
_MIN_WORDS = 4
_OPENING_CHARS = 80  # a passage opening with a name (this far in) is about it
_KIND_NAMES = {"number": "a figure", "percentage": "a percentage", "date": "a date", "expansion": "the expansion"}


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    passage_rank: int
    start: int
    end: int
    text: str
    similarity: float
    lexical: float
    type_match: bool
    score: float
    vector: np.ndarray = field(repr=False, compare=False)


@dataclass
class Evidence:
    profile: QuestionProfile
    passages: list[Passage]
    sentences: list[ScoredSentence]  # best first, one per distinct sentence
    abstain: bool = False
    reason: str = ""
    missing: tuple[str, ...] = ()  # question names/numbers found nowhere in the retrieved passages

    @property
    def best(self) -> ScoredSentence | None:
        return self.sentences[0] if self.sentences else None


def lexical_coverage(question_terms: list[str], text: str, bm25: BM25Index) -> float:
    """Share of the question's (idf-weighted) content terms that `text` contains."""
    return bm25.coverage(question_terms, term_set(text))


def _fold(text: str) -> str:
    return " ".join(text.replace("“", '"').replace("”", '"').replace("’", "'").lower().split())


def quoted_phrases(question: str) -> list[str]:
    """Phrases the question puts in quotes ("three security documents") must be matched as such."""
    return [_fold(p) for p in re.findall(r'["“]([^"”]{3,80})["”]', question)]


def gather(retrieval: Retrieval, snapshot: CorpusSnapshot, check: AnswerCheck | None = None) -> Evidence:
    """Score the sentences of the top passages against the question and decide whether they
    answer it (`check`: a learned answerability check of rag.answerability, None to skip it)."""
    profile = analyze(retrieval.question)
    passages = retrieval.passages
    if not passages:
        return Evidence(profile, passages, [], abstain=True, reason="nothing in the selected documents matches")
    top = passages[:PASSAGES_READ]
    rank_of = {p.chunk_id: i for i, p in enumerate(top)}
    bm25 = snapshot.bm25
    metas, vectors = snapshot.sentences_of(rank_of)
    question_terms = list(profile.terms)
    phrases = quoted_phrases(profile.text)
    named = set(retrieval.named_docs)
    # A typed question ("in what year") already scores by its type.
    kind = asked_kind(profile.text) if profile.answer_type == "any" else ""
    passage_coverage = {p.chunk_id: lexical_coverage(question_terms, p.text, bm25) for p in top}
    seen: dict[tuple[str, int], ScoredSentence] = {}
    sims = vectors @ retrieval.query_vector if len(metas) else np.zeros(0)
    for meta, vector, sim in zip(metas, vectors, sims):
        if meta.get("heading") or len(meta["text"].split()) < _MIN_WORDS:
            continue
        rank = rank_of[meta["chunk_id"]]
        if _title_line(meta["text"], top[rank]):
            continue
        lexical = bm25.coverage(question_terms, snapshot.sentence_terms(meta))
        type_match = matches_type(profile.answer_type, meta["text"])
        score = (
            sentence_match(float(sim), lexical, SIM_WEIGHT, total=0.9)
            + 0.10 * passage_coverage[meta["chunk_id"]]
            + (0.06 if type_match and profile.answer_type != "any" else 0.0)
            + (0.06 if names_kind(kind, meta["text"], profile.text) else 0.0)
            + 0.03 / (1 + rank)
            + (0.15 if phrases and any(ph in _fold(meta["text"]) for ph in phrases) else 0.0)
            + (0.05 if meta["doc_id"] in named else 0.0)
        )
        key = (meta["doc_id"], int(meta["start"]))
        if key not in seen or seen[key].score < score:
            seen[key] = ScoredSentence(top[rank], rank, int(meta["start"]), int(meta["end"]), meta["text"],
                                       float(sim), lexical, type_match, score, vector)
    sentences = sorted(seen.values(), key=lambda s: s.score, reverse=True)
    evidence = Evidence(profile, passages, sentences)
    # The learned check reads one window; an answer a second hop brought in rests on two
    # passages (the bridge and the answer), which no single window shows together.
    _decide(evidence, bm25, None if retrieval.hop_passages else check)
    return evidence


def _title_line(text: str, passage: Passage) -> bool:
    """A document's first line that its next sentence opens by repeating ("United States v.
    Paramount Pictures, Inc.\nUnited States v. Paramount Pictures, Inc., 334 US 131 (1948) was
    ..."): a title ingest did not take for one (it ends like a sentence); it answers nothing."""
    if passage.start != 0:
        return False
    first, _, rest = passage.text.partition("\n")
    line = first.strip()
    return line == text.strip() and rest.lstrip().startswith(line.rstrip("."))


def _known(term: str, bm25: BM25Index) -> bool:
    """The documents use the term, or a word it resembles (a typo, another inflection)."""
    return bm25.known(term) or resembles(term, bm25.vocabulary) is not None


def _decide(evidence: Evidence, bm25: BM25Index, check: AnswerCheck | None = None) -> None:
    profile, best = evidence.profile, evidence.best
    if best is None:
        evidence.abstain, evidence.reason = True, "no passage has a usable sentence"
        return
    unknown = [e for e in profile.entities if not _known(e, bm25)]
    if unknown:
        evidence.abstain = True
        shown = " or ".join(f"“{w}”" for w in as_written(unknown, profile.text))
        evidence.reason = f"the documents never mention {shown}"
        return
    unmeasured = [m for m in profile.measured + profile.topic if not _known(m, bm25)]
    if unmeasured:
        shown = " or ".join(f"“{w}”" for w in as_written(unmeasured, profile.text))
        evidence.abstain = True
        evidence.reason = f"the documents never mention {shown}"
        return
    absent = unnamed(profile.text, evidence.passages[:PASSAGES_READ])
    if absent:
        shown = " or ".join(f"“{t}”" for t in absent)
        evidence.abstain = True
        evidence.reason = f"the passages found say nothing about {shown}, so the comparison cannot be made"
        return
    found = "\n".join(p.text for p in evidence.passages[:PASSAGES_READ])
    editions = other_edition(profile.text, best.text, found)
    if editions:
        asked, other = editions
        evidence.abstain = True
        evidence.reason = f"the passages found are about “{other} …”, not “{asked} …”"
        return
    closest = evidence.sentences[:TYPE_TOP]
    if max(s.similarity for s in closest) < SIM_FLOOR and max(s.lexical for s in closest) < LEXICAL_FLOOR:
        evidence.abstain, evidence.reason = True, "no passage is close enough to the question"
        return
    if profile.answer_type in _KIND_NAMES:
        window = [s for s in evidence.sentences[:TYPE_TOP] if s.score >= best.score - TYPE_WINDOW]
        if not any(s.type_match for s in window) and not _bridged_type(evidence):
            kind = _KIND_NAMES[profile.answer_type]
            evidence.abstain, evidence.reason = True, f"the relevant passages do not give {kind}"
            return
    if asks_about_past_event(profile.text) and all(describes_as_upcoming(s.text) for s in closest):
        evidence.abstain = True
        evidence.reason = "the documents describe this as still to come, not as having happened"
        return
    if not profile.negated and not profile.yes_no:
        presumed = contradicts(profile.text, best.text)
        if presumed:
            evidence.abstain = True
            evidence.reason = f"the closest passage says otherwise: it does not support “{presumed}”"
            return
    verdict = check.verdict(profile, evidence.sentences, bm25) if check else None
    if verdict is not None and not verdict.answerable:
        evidence.abstain = True
        shown = " or ".join(f"“{w}”" for w in as_written(list(verdict.missing[:2]), profile.text))
        evidence.reason = (f"the closest passages do not say this about {shown}" if shown
                           else "the closest passages do not answer what is asked")
        return
    retrieved = frozenset().union(*(term_set(p.text) for p in evidence.passages[:PASSAGES_READ]))
    evidence.missing = as_written([e for e in profile.entities if e not in retrieved], profile.text)


def _bridged_type(evidence: Evidence) -> bool:
    """A sentence of the asked type in the passage about a name the best sentence brings in
    ("... corporations such as Exxonmobil and Halliburton" -> "The Halliburton Company ... has
    operations in more than 70 countries"): a bridge question's answer, which matches the
    question less than the bridge sentence does, so it scores below the type window. Only in
    another document: within one, a name the best sentence brings in is no second hop. (Names
    from the best document's next sentences too let one bundled unanswerable question through.)"""
    best = evidence.sentences[0]
    bridges = bridge_names(evidence.profile.text, best.text)
    return any(s.type_match and s.passage.doc_id != best.passage.doc_id
               and any(mentions(term_set(s.passage.text[:_OPENING_CHARS]), name) for name in bridges)
               for s in evidence.sentences)


def as_written(stemmed: list[str], question: str) -> tuple[str, ...]:
    """The question's own words for stemmed terms, for a message the user recognises."""
    words = re.findall(r"[\w’'-]+", question)
    return tuple(next((w.strip("'’-") for w in words if canonical(w.strip("'’-")) == s), s) for s in stemmed)
