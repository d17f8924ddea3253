"""Offline support check: does a passage back a sentence written about it?

Used after LLM generation to verify every citation, and by the eval. No model beyond the bundled
sentence embedder runs here; the check is a similarity test plus lexical agreement rules:

1. **Similarity**: the best cosine between the claim and any passage sentence, or any window of
   two adjacent sentences (a claim often merges two), must reach `SIM_THRESHOLD`. Acronyms the
   passage spells out are expanded in the claim first ("NSS" -> "National Security Strategy").
2. **Numbers**: every number in the claim (digits, number words, fractions such as "two-thirds")
   appears in the passage, next to at least one of the words it stands next to in the claim
   (a claim's "three years" is not backed by "three security documents"). Catches wrong
   figures, dates and years.
3. **Names**: every capitalised name or acronym in the claim appears in the passage (demonyms
   folded: Chinese -> China, U.S./United States/American -> US; a city, capital or not, is never
   folded into its country, so "Beijing" does not attest "China"; acronyms match the initials of
   a capitalised phrase). An institutional name ("Minister of Defense") needs all
   its words, standing on their own ("Vice-Minister" does not attest "Minister"); a bare run of
   names ("Choi Eunmi") needs half of them, as people are often named by surname alone.
4. **Polarity**: no negation mismatch between the claim and the best-matching passage window
   (a not/no/never -- or, on the passage side, a "rather than" / "prefer X over Y" -- whose scope
   covers words of the other side; "no one other than X" is read as "only X"), no antonym
   swap (approved vs rejected, positive vs negative ...; lexicons/antonyms.txt), and no change
   reported the other way round (climbed vs slumped, up vs down; lexicons/directions.txt): a
   claim's up- or down-word is matched to the window's direction words with most of its
   surrounding words, so "rose 5% after falling 3%" still backs "rose 5%".
5. **Coverage**: at least half of the claim's content words occur in the passage, so a claim
   that adds facts the passage does not state ("... and predicted the government would
   collapse") fails.

The best-matching window (used for polarity, and as the cited span) is the one most similar to
the claim with a bonus for sharing its words, so a short heading does not win on similarity alone.

`support_score` folds these into one number in 0..1 (the similarity, halved for every failed
lexical rule and then kept below the threshold); `supports` is `support_score >=
SUPPORT_THRESHOLD`. Thresholds were tuned on eval/support_pairs.jsonl (77 labelled pairs; see
tests/test_verify.py, which measures accuracy, precision and recall on them). Accuracy is flat
for SIM_THRESHOLD anywhere in 0.45-0.60, so the similarity bar is not a fitted knife-edge; the
lexical rules do most of the work. Known misses: a wrong name that the passage mentions in
another role ("established under Kishida" when it says "under Abe ... revised under Kishida"),
contradictions worded without negation ("upholding" vs "reconsidering"), and, the other way, a
capital standing for its government ("Beijing views" does not back "China sees": places are
not folded into one another).

The rules are in `rag.verify.rules`, built on the claim analysis of `rag.verify.claims`;
`rag.verify.sentences` splits an answer into the sentences and clauses its markers vouch for.
`rag.verify.verifier.Verifier` is the stage's one entry for whole answers.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from rag.base.markers import markers_in, strip_markers
from rag.base.types import Citation, Passage, Span
from rag.verify.claims import content_words
from rag.verify.rules import (
    coverage,
    expand_acronyms,
    index_passage,
    names_ok,
    numbers_ok,
    polarity_conflict,
    window_coverage,
)
from rag.verify.sentences import answer_sentences, clauses, is_no_claim

SIM_THRESHOLD = 0.55  # best claim-to-window cosine needed
COVERAGE_THRESHOLD = 0.5  # share of the claim's content words found in the passage
SUPPORT_THRESHOLD = SIM_THRESHOLD
FAIL_FACTOR = 0.5  # support_score is multiplied by this for every failed lexical rule

_CACHE_SIZE = 4096


def _embed(embedder: Any, texts: list[str]) -> np.ndarray:
    """Unit vectors for `texts`, remembering recent ones (answers re-check the same passages)."""
    cache = _vector_cache(embedder)
    found = {t: cache[t] for t in dict.fromkeys(texts) if t in cache}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        if len(cache) + len(missing) > _CACHE_SIZE:
            cache.clear()
        for text, vector in zip(missing, embedder.embed(missing)):
            found[text] = cache[text] = np.asarray(vector, dtype=np.float32)
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)


_CACHES: "weakref.WeakKeyDictionary[Any, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _vector_cache(embedder: Any) -> dict[str, np.ndarray]:
    with _CACHES_LOCK:
        try:
            return _CACHES.setdefault(embedder, {})
        except TypeError:  # not weak-referenceable: no cache
            return {}


@dataclass(frozen=True)
class SupportCheck:
    """The outcome of checking one claim against one passage, with the reasons it failed."""

    score: float
    similarity: float
    window: tuple[int, int]  # best-matching window, offsets into the passage text
    failed: tuple[str, ...]  # names of failed rules: numbers, names, polarity, coverage, similarity

    @property
    def supported(self) -> bool:
        return self.score >= SUPPORT_THRESHOLD


WINDOW_OVERLAP_WEIGHT = 0.5


def check(sentence: str, passage_text: str, embedder: Any) -> SupportCheck:
    index = index_passage(passage_text)
    window_texts = [passage_text[s:e] for s, e in index.windows]
    expanded = expand_acronyms(sentence, index)
    vectors = _embed(embedder, [expanded] + window_texts)
    sims = vectors[1:] @ vectors[0]
    # The window that carries the claim: similar *and* sharing its words (a short heading can be
    # the most similar text without stating anything the claim says).
    claim_words = set(content_words(expanded))
    overlap = np.array([window_coverage(claim_words, t) for t in window_texts], dtype=np.float32)
    best = int(np.argmax(sims + WINDOW_OVERLAP_WEIGHT * overlap))
    similarity = float(max(0.0, min(1.0, sims.max())))
    failed = []
    if similarity < SIM_THRESHOLD:
        failed.append("similarity")
    if not numbers_ok(sentence, index):
        failed.append("numbers")
    if not names_ok(sentence, index):
        failed.append("names")
    if polarity_conflict(sentence, window_texts[best]):
        failed.append("polarity")
    if coverage(expanded, index) < COVERAGE_THRESHOLD:
        failed.append("coverage")
    lexical_failures = [f for f in failed if f != "similarity"]
    score = similarity * (FAIL_FACTOR ** len(lexical_failures))
    if lexical_failures:
        score = min(score, SUPPORT_THRESHOLD - 1e-3)
    return SupportCheck(score, similarity, index.windows[best], tuple(failed))


def prefetch(pairs: list[tuple[str, str]], embedder: Any) -> None:
    """Embed, in one batch, everything `check` will need for these (claim, passage text) pairs."""
    texts: list[str] = []
    for claim, passage_text in pairs:
        index = index_passage(passage_text)
        texts.append(expand_acronyms(claim, index))
        texts += [passage_text[s:e] for s, e in index.windows]
    if texts:
        _embed(embedder, texts)


def support_score(sentence: str, passage_text: str, embedder: Any) -> float:
    """0..1: how well `passage_text` backs `sentence` (>= SUPPORT_THRESHOLD means it does)."""
    return check(sentence, passage_text, embedder).score


def supports(sentence: str, passage_text: str, embedder: Any) -> bool:
    return check(sentence, passage_text, embedder).supported


# --- whole answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentenceCheck:
    sentence: str
    markers: tuple[int, ...]
    valid: tuple[int, ...]  # markers whose passage backs the clause they close
    invalid: tuple[int, ...]  # markers out of range, or whose passage does not back their clause
    windows: dict  # marker -> (start, end) of the best-matching window in that passage's text
    supported: bool  # every clause has at least one valid marker (False when there are no markers)
    no_claim: bool = False  # states nothing to verify ("The documents don't say.")


def check_sentences(text: str, passages_by_marker: dict[int, Passage], embedder: Any) -> list[SentenceCheck]:
    sentences = answer_sentences(text)
    work = [(clause, n) for s in sentences if not is_no_claim(s) for clause, ns in clauses(s) for n in ns]
    prefetch([(clause, passages_by_marker[n].text) for clause, n in work if n in passages_by_marker], embedder)
    checks = []
    for sentence in sentences:
        markers = tuple(markers_in(sentence))
        if is_no_claim(sentence):
            checks.append(SentenceCheck(sentence, markers, (), (), {}, True, True))
            continue
        valid: list[int] = []
        invalid: list[int] = []
        windows: dict[int, tuple[int, int]] = {}
        all_backed = bool(markers)
        for clause, group in clauses(sentence):
            backed = []
            for n in group:
                passage = passages_by_marker.get(n)
                if passage is None:
                    continue
                result = check(clause, passage.text, embedder)
                windows[n] = result.window
                if result.supported:
                    backed.append(n)
            given = [n for n in group if n in passages_by_marker]
            if not backed and len(given) > 1:
                # "[1][3]": the passages may back the clause only together (a name in one, a figure
                # in the other); accept those whose own similarity clears the bar.
                joined = "\n".join(passages_by_marker[n].text for n in given)
                if check(clause, joined, embedder).supported:
                    backed = [n for n in given if check(clause, passages_by_marker[n].text, embedder).similarity >= SIM_THRESHOLD]
            all_backed = all_backed and bool(backed)
            valid += [n for n in backed if n not in valid]
            invalid += [n for n in group if n not in backed and n not in invalid]
        invalid = [n for n in invalid if n not in valid or n not in passages_by_marker]
        checks.append(SentenceCheck(sentence, markers, tuple(valid), tuple(invalid), windows, all_backed))
    return checks


def verify_answer(
    text: str, passages_by_marker: dict[int, Passage], embedder: Any
) -> tuple[tuple[Citation, ...], tuple[str, ...]]:
    """Check every sentence of `text` against the passages its [n] markers cite.

    Returns one Citation per marker used, in order of first use -- `verified=False` when it is
    out of range (it then carries a placeholder passage) or when some clause it closes is not
    backed by its passage -- and the sentences (markers stripped) not fully backed by a valid
    citation, including sentences with no marker at all. Sentences that state nothing ("The
    documents don't say.") are neither checked nor flagged. Spans are the best-matching passage
    windows with offsets into the *passage text*; `Verifier` maps them to document sentences.
    """
    checks = check_sentences(text, passages_by_marker, embedder)
    return citations_from_checks(checks, passages_by_marker), unsupported_sentences(checks)


def unsupported_sentences(checks: list[SentenceCheck]) -> tuple[str, ...]:
    return tuple(strip_markers(c.sentence) for c in checks if not c.supported)


MapSpans = Callable[[Passage, int, int], list[Span]]  # passage window -> document sentences


def citations_from_checks(
    checks: list[SentenceCheck], passages_by_marker: dict[int, Passage], span_mapper: MapSpans | None = None
) -> tuple[Citation, ...]:
    order: list[int] = []
    bad: set[int] = set()
    spans: dict[int, list[Span]] = {}
    for c in checks:
        order += [n for n in c.markers if n not in order]
        bad.update(c.invalid)
        for n in c.valid:
            passage = passages_by_marker[n]
            start, end = c.windows[n]
            mapped = span_mapper(passage, start, end) if span_mapper else [Span(start, end, passage.text[start:end])]
            for span in mapped:
                if span not in spans.setdefault(n, []):
                    spans[n].append(span)
    citations = []
    for n in order:
        passage = passages_by_marker.get(n) or Passage(
            chunk_id="", doc_id="", source="", title=f"(no passage [{n}] was given to the model)", date="",
            text="", start=0, end=0,
        )
        ordered = tuple(sorted(spans.get(n, ()), key=lambda sp: sp.start))
        citations.append(Citation(n, passage, ordered, verified=n not in bad and n in passages_by_marker))
    return tuple(citations)
