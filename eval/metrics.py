"""Metric functions of the eval: pure, deterministic, offline, and testable with fakes.

Conventions (they matter for comparing runs):

- Text normalisation (`normalize`): lowercase; curly quotes -> straight; the dashes
  ‐ ‑ ‒ – — ― − -> "-"; whitespace collapsed to one space. Applied to both sides of every
  containment check (key facts, evidence quotes).
- Rankings are the order the retriever returned (`Answer.passages`, best first). Passages with
  equal scores are NOT re-sorted, so a run is deterministic; several passages from one document
  count once for recall and the first of them gives the document's rank.
- Abstentions are excluded from the answer and citation metrics (the value is `None` and the
  question is left out of the average, never scored NaN or 0); they are measured by the
  abstention confusion matrix instead. Retrieval metrics are computed for every answerable
  question, abstained or not (retrieval happens either way).
- A metric with nothing to average over is `None`.
- `[n]` citation markers are read with the shared parser `rag.base.markers` (the answerers,
  the support check and the UI use the same one).

Totals over a run (means, the abstention confusion matrix, per tag) are `eval.totals`.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rag.base.markers import MARKER, MARKER_RUN, marker_runs, markers_in

KEY_FACT_WINDOW = 1000  # key facts must appear within this many characters of the answer text

SupportFn = Callable[[str, str, Any], bool]  # supports(sentence, passage_text, embedder) -> bool

# --------------------------------------------------------------------------- normalisation

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
})


def normalize(text: str) -> str:
    """Lowercase, unify quotes and dashes, collapse whitespace."""
    return " ".join(str(text).translate(_QUOTES).lower().split())


def strip_markers(text: str) -> str:
    """The answer text without its runs of `[n]` citation markers and the whitespace before
    each run, nothing else changed (unlike `rag.base.markers.strip_markers`, which also tidies
    spaces and punctuation: here the key-fact window counts the answer's own characters)."""
    return MARKER_RUN.sub("", text)


def markers(text: str) -> list[int]:
    """Every citation number used in `text`, in order of appearance (repeats across brackets
    kept): `[1]`, `[1, 2]`, `[1][2]`, `[2-4]`."""
    return [n for match in MARKER.finditer(text) for n in markers_in(match.group())]


# --------------------------------------------------------------------------- key facts


def _alias_in(alias: str, text: str) -> bool:
    """`alias` occurs in `text` (both normalised). A digit at an edge of the alias must not
    touch another digit ("17" is not found in "2017" or "170"), and an alias starting with a
    letter or digit must start a word ("nds" is not found in "lands"); the right edge of a word
    may run on, so "buildup" matches "buildups"."""
    alias = normalize(alias)
    if not alias:
        return False
    start = text.find(alias)
    while start != -1:
        end = start + len(alias)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        ok = not (alias[0].isalnum() and before.isalnum())
        ok = ok and not (alias[-1].isdigit() and after.isdigit())
        if ok:
            return True
        start = text.find(alias, start + 1)
    return False


def key_facts_found(answer_text: str, key_facts: Sequence[Sequence[str]], window: int = KEY_FACT_WINDOW) -> list[bool]:
    """One flag per key fact: does any of its aliases occur in the first `window` characters of
    the answer (markers stripped, normalised)?"""
    text = normalize(strip_markers(answer_text)[:window])
    return [any(_alias_in(alias, text) for alias in aliases) for aliases in key_facts]


def verdict_given(answer_text: str) -> str | None:
    """"yes" or "no" when the answer opens with that word (a yes/no question's verdict)."""
    first = re.match(r"\W*(\w+)", strip_markers(answer_text))
    word = first.group(1).lower() if first else ""
    return word if word in ("yes", "no") else None


def option_is(option: str, gold: str) -> bool:
    """Whether a choice question's option is the gold answer: one holds the other, or every word
    of the option is in it ("Howard Fast" for the gold "Howard Melvin Fast")."""
    option, gold = normalize(option), normalize(gold)
    return option in gold or gold in option or set(re.findall(r"\w+", option)) <= set(re.findall(r"\w+", gold))


def choice_given(answer_text: str, options: Sequence[str]) -> str | None:
    """The option a choice question's answer opens with, named alone as its verdict ("Lit. ..."),
    or None: a quote that merely starts with an option's name is no choice."""
    text = normalize(strip_markers(answer_text)).lstrip(" \"'")
    for option in sorted(options, key=len, reverse=True):
        name = normalize(option)
        if text.startswith(name) and text[len(name):len(name) + 1] in (".", ""):
            return option
    return None


def key_fact_recall(answer_text: str, key_facts: Sequence[Sequence[str]], window: int = KEY_FACT_WINDOW) -> float | None:
    found = key_facts_found(answer_text, key_facts, window)
    return sum(found) / len(found) if found else None


# --------------------------------------------------------------------------- retrieval


def source_matches(source: str, gold: str) -> bool:
    """A retrieved document `source` (path relative to its ingest root) is the gold source
    (exact, or the gold names the file and the source is that file in a sub-folder)."""
    return source == gold or ("/" not in gold and source.rsplit("/", 1)[-1] == gold)


def retrieval_metrics(ranked_sources: Sequence[str], gold_sources: Sequence[str], k: int) -> dict[str, float | None]:
    """hit@k (any gold source among the top k passages), recall@k (share of gold sources among
    them) and the reciprocal rank of the first passage from a gold source (0 when none is
    retrieved). All None when the question has no gold sources."""
    gold = list(dict.fromkeys(gold_sources))
    if not gold:
        return {"hit": None, "recall": None, "rr": None}
    top = list(ranked_sources[:k])
    found = [g for g in gold if any(source_matches(s, g) for s in top)]
    rr = 0.0
    for rank, source in enumerate(ranked_sources, 1):
        if any(source_matches(source, g) for g in gold):
            rr = 1.0 / rank
            break
    return {"hit": 1.0 if found else 0.0, "recall": len(found) / len(gold), "rr": rr}


def contains_quote(passage_text: str, quote: str) -> bool:
    return bool(normalize(quote)) and normalize(quote) in normalize(passage_text)


def evidence_hit(passage_texts: Sequence[str], evidence: Sequence[str], k: int) -> float | None:
    """1.0 when one of the top-k passages contains one of the evidence quotes (normalised)."""
    if not evidence:
        return None
    top = [normalize(t) for t in passage_texts[:k]]
    quotes = [normalize(q) for q in evidence if normalize(q)]
    return 1.0 if any(q in t for q in quotes for t in top) else 0.0


# --------------------------------------------------------------------------- answer text

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation + "\u00a5\u20ac\u00a3\u00b7\u2026"})


def squad_tokens(text: str) -> list[str]:
    """SQuAD answer normalisation (lowercase, no punctuation, no articles), on top of the quote
    and dash unification above."""
    text = normalize(text).translate(_PUNCT)
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, reference: str) -> float | None:
    """SQuAD token F1 of the answer (markers stripped) against the reference answer."""
    pred, ref = squad_tokens(strip_markers(prediction)), squad_tokens(reference)
    if not ref:
        return None
    if not pred:
        return 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def semantic_similarities(embedder: Any, pairs: Sequence[tuple[str, str]]) -> list[float | None]:
    """Cosine of the embeddings of each answer (markers stripped) and its reference answer.
    All texts go to the embedder in one batch (much faster than one call per question)."""
    cleaned = [(strip_markers(p).strip(), r.strip()) for p, r in pairs]
    texts = list(dict.fromkeys(t for pair in cleaned if all(pair) for t in pair))
    if not texts:
        return [None] * len(cleaned)
    vectors = np.asarray(embedder.embed(texts), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    row = {t: i for i, t in enumerate(texts)}
    out: list[float | None] = []
    for p, r in cleaned:
        if not (p and r):
            out.append(None)
            continue
        i, j = row[p], row[r]
        denom = float(norms[i] * norms[j])
        out.append(float(np.dot(vectors[i], vectors[j]) / denom) if denom else 0.0)
    return out


def semantic_similarity(embedder: Any, prediction: str, reference: str) -> float | None:
    """Cosine of the embeddings of the answer (markers stripped) and the reference answer."""
    return semantic_similarities(embedder, [(prediction, reference)])[0]


# --------------------------------------------------------------------------- citations


_VERDICT_OPENER = re.compile(r"^(?:yes|no)\b[.,:;!]?\s*", re.I)


def cited_claims(text: str) -> list[tuple[str, list[int]]]:
    """The answer cut at its marker groups: each piece of text that ends in one or more markers,
    with the numbers it cites. Text after the last marker (e.g. a closing note) is uncited and
    not returned. Punctuation left behind a marker ("... 2027 [1].") goes with its claim."""
    claims = []
    position = 0
    for match in marker_runs(text):
        claim = text[position:match.start()].strip()
        claim = claim.lstrip(".,;:!? \n-").strip()
        if not claims:  # a yes/no verdict opening the answer is the answerer's word, not a quote
            claim = _VERDICT_OPENER.sub("", claim, count=1)
        numbers = list(dict.fromkeys(markers(match.group())))
        position = match.end()
        if claim:
            claims.append((claim, numbers))
        elif claims:  # "[1] [2]" separated by something that is not text: same claim
            claims[-1][1].extend(n for n in numbers if n not in claims[-1][1])
    return claims


def citation_validity(answer: Any) -> bool:
    """Every marker in the text has a citation with that number, and every citation's passage
    is one of the answer's retrieved passages."""
    numbers = {c.n for c in answer.citations}
    if any(n not in numbers for n in markers(answer.text)):
        return False
    retrieved = {p.chunk_id for p in answer.passages}
    return all(c.passage.chunk_id in retrieved for c in answer.citations)


def citation_pairs(answer: Any) -> list[tuple[str, int, Any]]:
    """(claim, n, cited passage) for every marker that points to a citation."""
    by_n = {c.n: c.passage for c in answer.citations}
    return [(claim, n, by_n[n]) for claim, numbers in cited_claims(answer.text) for n in numbers if n in by_n]


def citation_precision(
    answer: Any, supports: SupportFn, embedder: Any, verbatim: bool = True
) -> tuple[float | None, list[dict]]:
    """Share of (claim, cited passage) pairs where `supports(claim, passage.text, embedder)`
    holds (ALCE citation precision, with the offline support check). Markers pointing to no
    citation count as unsupported pairs. None when the answer cites nothing.

    With `verbatim`, a claim that is a verbatim quote of its cited passage (after
    normalisation) is supported without asking the checker: a passage states what it says.
    That is every pair of an extractive answer, so the checker's cost (and its errors) only
    bear on paraphrased (LLM) answers. Each check records which `rule` decided it."""
    by_n = {c.n: c.passage for c in answer.citations}
    checks = []
    for claim, numbers in cited_claims(answer.text):
        for n in numbers:
            passage = by_n.get(n)
            if passage is None:
                ok, rule = False, "no such citation"
            elif verbatim and contains_quote(passage.text, claim):
                ok, rule = True, "verbatim"
            else:
                ok, rule = bool(supports(claim, passage.text, embedder)), "checker"
            checks.append({"n": n, "claim": claim, "supported": ok, "rule": rule})
    if not checks:
        return None, checks
    return sum(c["supported"] for c in checks) / len(checks), checks


def citation_recall(answer: Any, evidence: Sequence[str]) -> float | None:
    """1.0 when the answer cites a passage that contains one of the evidence quotes."""
    if not evidence:
        return None
    used = set(markers(answer.text))
    texts = [c.passage.text for c in answer.citations if c.n in used]
    return 1.0 if any(contains_quote(t, q) for t in texts for q in evidence) else 0.0


# --------------------------------------------------------------------------- one question


def score_answer(
    record: dict,
    answer: Any,
    k: int,
    embedder: Any = None,
    supports: SupportFn | None = None,
    with_similarity: bool = True,
) -> dict[str, Any]:
    """All per-question metrics for one gold `record` and the `answer` the pipeline gave.
    `embedder` is needed for semantic similarity (unless `with_similarity` is False) and is
    handed to `supports`; without `supports`, citation precision is None."""
    with_similarity = with_similarity and embedder is not None
    answerable = bool(record.get("answerable", True))
    abstained = bool(answer.abstained)
    sources = [p.source for p in answer.passages]
    texts = [p.text for p in answer.passages]
    m: dict[str, Any] = {"answerable": answerable, "abstained": abstained}

    retrieval = retrieval_metrics(sources, record.get("sources", []) if answerable else [], k)
    m["hit@k"], m["recall@k"], m["rr"] = retrieval["hit"], retrieval["recall"], retrieval["rr"]
    m["evidence_hit@k"] = evidence_hit(texts, record.get("evidence", []), k) if answerable else None

    answered = not abstained
    facts = record.get("key_facts", [])
    found = key_facts_found(answer.text, facts) if answerable and answered else []
    if answerable and answered and record.get("verdict"):
        found = [verdict_given(answer.text) == record["verdict"]] + found
    if answerable and answered and record.get("options"):
        # Quoting what each option's passage says names both: only the verdict counts as a choice.
        # The option named is the whole answer: its quote need not also spell the gold's full name.
        chosen = choice_given(answer.text, record["options"])
        found = [chosen is not None and any(option_is(chosen, a) for a in (facts or [[]])[0])]
    m["key_facts_found"] = found
    m["key_fact_recall"] = (sum(found) / len(found) if found else None) if answerable and answered else None
    # Over every answerable question (an abstention has no fact): "the answer holds the gold fact".
    m["answer_has_fact"] = (1.0 if answered and (not found or all(found)) else 0.0) if answerable else None
    plausible = record.get("plausible_answers") or []
    m["plausible_repeated"] = (
        (1.0 if answered and any(key_facts_found(answer.text, [plausible])) else 0.0)
        if not answerable and plausible else None
    )
    ref = record.get("reference_answer", "")
    m["token_f1"] = token_f1(answer.text, ref) if answerable and answered else None
    # filled in by the caller for a whole run at once (`semantic_similarities`), or here when asked
    m["semantic_similarity"] = (
        semantic_similarity(embedder, answer.text, ref) if answerable and answered and with_similarity else None
    )
    m["citation_validity"] = (1.0 if citation_validity(answer) else 0.0) if answered else None
    m["citation_precision"], m["support_checks"] = (
        citation_precision(answer, supports, embedder) if answered and supports is not None else (None, [])
    )
    m["citation_recall"] = citation_recall(answer, record.get("evidence", [])) if answerable and answered else None
    return m


def question_passes(m: dict[str, Any]) -> tuple[bool, list[str]]:
    """A question passes when an answerable one is answered with every key fact and valid
    citations, and an unanswerable one is abstained on. Returns (passed, reasons it failed)."""
    reasons = []
    if m.get("error"):
        return False, [f"error: {m['error']}"]
    if not m["answerable"]:
        if not m["abstained"]:
            reasons.append("answered an unanswerable question")
        return not reasons, reasons
    if m["abstained"]:
        return False, ["abstained on an answerable question"]
    found = m.get("key_facts_found") or []
    if found and not all(found):
        reasons.append(f"missing {found.count(False)} of {len(found)} key facts")
    if m.get("citation_validity") == 0.0:
        reasons.append("invalid citations")
    return not reasons, reasons
