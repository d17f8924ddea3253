"""The offline answerer: the best evidence sentences, quoted verbatim, each with its citation.

Every sentence of such an answer is a verbatim quote of the passage it cites, so it is faithful
by construction; the work is in choosing sentences that answer, without repeats, in an order a
reader can follow.
"""

from __future__ import annotations

import re
from typing import Iterator

import numpy as np

from rag.evidence import Evidence, ScoredSentence
from rag.base.text import term_set, terms
from rag.base.types import Answer, Citation, Passage, Span
from rag.hops import about, bridge_names, mentions, needs_hop, residual_terms
from rag.compared import compared_things, names
from rag.question import counted_noun
from rag.options import choose, gives_value
from rag.verdict import count_of, decide

RELATIVE_WINDOW = 0.12  # sentences scoring this far below the best are not part of the answer
_MAX_CHARS = 950
_DUPLICATE_COSINE = 0.9
_NEAREST_SHOWN = 3


def _near_duplicate(candidate: ScoredSentence, chosen: list[ScoredSentence]) -> bool:
    cand_terms = set(terms(candidate.text))
    for other in chosen:
        if float(np.dot(candidate.vector, other.vector)) > _DUPLICATE_COSINE:
            return True
        other_terms = set(terms(other.text))
        if cand_terms and len(cand_terms & other_terms) / len(cand_terms | other_terms) > 0.7:
            return True
    return False


# A sentence that only says what comes next: a roadmap ("This article discusses the following
# three points: ..."), or an introduction ending in a colon ("Kristi Govella, ..., said:").
_ROADMAP = re.compile(
    r"^(?:This|The present|In this) (?:article|brief|paper|report|section|chapter|essay|piece|analysis|study|note)\b"
    r"[^.]{0,40}?\b(?:discuss|examin|explor|look|consider|address|outline|cover|review|describ|analy[sz]|focus|argu)\w*"
    r"|\bthe following (?:[\w-]+ ){0,2}(?:points|questions|issues|topics|sections|areas|aspects|steps|reasons)\b"
    r"|\b(?:the following|as follows)\W*$",
    re.I,
)


def announces(sentence: str) -> bool:
    """Whether a sentence only announces what follows rather than saying it."""
    text = sentence.rstrip()
    return text.endswith(":") or bool(_ROADMAP.search(text))


def _roadmap(sentence: str) -> bool:
    """An announcement that is never quoted: one that does not end in a colon introduces no
    content of its own that `add_continuations` could bring along."""
    return announces(sentence) and not sentence.rstrip().endswith(":")


def select_sentences(evidence: Evidence, max_sentences: int) -> list[ScoredSentence]:
    """The best sentences within `RELATIVE_WINDOW` of the best, without near-duplicates; a
    roadmap sentence is never one of them (an introduction ending in a colon may be: its
    content is brought along, or it is dropped again by `drop_announcements`)."""
    best = next((s for s in evidence.sentences if not _roadmap(s.text)), evidence.best)
    chosen: list[ScoredSentence] = []
    length = 0
    for sentence in evidence.sentences:
        if len(chosen) >= max_sentences or sentence.score < best.score - RELATIVE_WINDOW:
            break
        if length + len(sentence.text) > _MAX_CHARS and chosen:
            continue
        if _roadmap(sentence.text):
            continue
        if _near_duplicate(sentence, chosen):
            continue
        chosen.append(sentence)
        length += len(sentence.text)
    return chosen or [evidence.best]


_ABOUT_CHARS = 80  # a passage opening with a name (within this many characters) is about it
_TYPED = ("number", "percentage", "date", "person")
_RESIDUAL_WEIGHT = 1.0  # what the answer sentence adds to the bridge sentence counts this much


def _about(sentence: ScoredSentence, name: str) -> bool:
    """The sentence names `name`, or comes from a passage that opens with it."""
    return about(name, sentence.text, sentence.passage.text[:_ABOUT_CHARS])


def hop_sentences(evidence: Evidence, best: ScoredSentence) -> list[ScoredSentence]:
    """For a bridge question, the bridge sentence (in the best sentence's document, naming an
    entity the question does not) and the answer sentence (the best one about that entity, in
    another document); [] when the question does not need two hops or no such pair exists.
    The answer sentence is chosen on its score plus its share of the question terms the bridge
    sentence leaves unsaid: that part of the question is what the second passage answers."""
    profile = evidence.profile
    question = profile.text
    typed_missing = profile.answer_type in _TYPED and not best.type_match
    if not (needs_hop(question) or typed_missing):
        return []
    doc = best.passage.doc_id
    bridges = [s for s in evidence.sentences if s.passage.doc_id == doc][:4]
    others = [s for s in evidence.sentences if s.passage.doc_id != doc]
    counted = counted_noun(question)
    pair, pair_score = [], (False, False, False, float("-inf"))
    for bridge in bridges:
        residual = set(residual_terms(profile, term_set(bridge.text)))
        for name in bridge_names(question, bridge.text):
            for answer in others:
                if not _about(answer, name):
                    continue
                share = len(residual & term_set(answer.text)) / len(residual) if residual else 0.0
                # A passage about the entity (opening with its whole name: "Sela Ann Ward", not a
                # namesake "Albert Ward") over any that merely mentions it, whatever their scores:
                # "starring Sela Ward" in the film's passage says nothing more about her.
                opening = answer.passage.text[:_ABOUT_CHARS]
                opens = mentions(term_set(opening), name)
                # A typed question ("how many cities?") is answered by a sentence of its type; a
                # count by one counting what is asked ("with 44 victories"), not any figure
                # (a birth date's day).
                if counted:
                    typed = count_of(counted, [answer.text]) is not None
                else:
                    typed = answer.type_match or profile.answer_type not in _TYPED
                score = (opens and names(name, opening), opens, typed,
                         bridge.score + answer.score + _RESIDUAL_WEIGHT * share)
                if score > pair_score:
                    pair, pair_score = [bridge, answer], score
    return pair


_DISAMBIGUATION = re.compile(r"\s*\([^()]*\)\s*$")  # "Struggle for Rome (board game)"


def _titled(sentence: ScoredSentence, thing: str) -> bool:
    """The sentence's document is titled with the thing's name, in its title or in the line it
    opens with (ingest keeps no title of under three words: "Catan"): it is that thing's own."""
    passage = sentence.passage
    first_line = passage.text.split("\n", 1)[0] if passage.start == 0 else ""
    wanted = term_set(thing)
    return bool(wanted) and any(term_set(_DISAMBIGUATION.sub("", title)) == wanted
                                for title in (passage.title, first_line) if title)


def compared_sentences(evidence: Evidence) -> list[ScoredSentence]:
    """For a question comparing named things ("Are X and Y both ...?", "Which is older, X or
    Y?"), the best sentence about each of them, so the answer quotes what it compares: from the
    document titled with its name when there is one ("Catan", not "Catan Dice Game"), where
    what it is and when it began are said of it and not of a namesake."""
    question = evidence.profile.text
    out: list[ScoredSentence] = []
    for thing in compared_things(question):
        candidates = [s for s in evidence.sentences if _about(s, thing) and s not in out]
        about = next((s for s in candidates if _titled(s, thing)), candidates[0] if candidates else None)
        if about is None:
            continue
        out.append(about)
        # "Which was released first?": when the sentence about it gives no year, its document's
        # first sentence that does ("The game system was invented ... in 1987") is quoted too, or
        # the choice is left undecided for want of a value the passage holds. The first, not the
        # best-scoring: a document states the count of its species or its founding year early,
        # and a later "one species ... is deciduous" counts something else.
        if not gives_value(question, about.text):
            own = min((s for s in evidence.sentences if s.passage.doc_id == about.passage.doc_id
                       and s not in out and gives_value(question, s.text)), key=lambda s: s.start, default=None)
            if own is not None:
                out.append(own)
    return out


def _merge(first: list[ScoredSentence], rest: list[ScoredSentence]) -> list[ScoredSentence]:
    """`first`, then the sentences of `rest` not in it, while the answer stays short."""
    out = list(dict.fromkeys(first))
    length = sum(len(s.text) for s in out)
    for sentence in rest:
        if sentence in out or length + len(sentence.text) > _MAX_CHARS:
            continue
        out.append(sentence)
        length += len(sentence.text)
    return out


_CONTINUATION = re.compile(r"^[\"“‘']?(These|This|They|Those|Such|That|It|Its|Their|He|She)\b")
_CONCLUSION = re.compile(r"^(Thus|Therefore|Hence|As a result|Consequently|For this reason|That is why|This is why)\b")
_PERSONAL = re.compile(r"^[\"“‘']?(He|She|They|His|Her|Their)\b")  # who is meant is said earlier
_OPENING_REACH = 3  # a document's opening names who "she" is for its next few sentences, not further
_LIST_ITEMS = 4


def add_continuations(chosen: list[ScoredSentence], evidence: Evidence) -> list[ScoredSentence]:
    """Bring along the sentences a chosen one depends on, or the answer stops right before the
    facts: the sentence after it when that one opens with "These include...", the reason
    before a "Thus, ...", and the items after a sentence that ends with a colon."""
    by_doc: dict[str, list[ScoredSentence]] = {}
    for sentence in evidence.sentences:
        by_doc.setdefault(sentence.passage.doc_id, []).append(sentence)
    for sentences in by_doc.values():
        sentences.sort(key=lambda s: s.start)
    keys = {(s.passage.doc_id, s.start) for s in chosen}
    result = list(chosen)
    length = sum(len(s.text) for s in chosen)

    def take(sentence: ScoredSentence) -> bool:
        nonlocal length
        key = (sentence.passage.doc_id, sentence.start)
        if key in keys or length + len(sentence.text) > _MAX_CHARS + 300:
            return False
        keys.add(key)
        result.append(sentence)
        length += len(sentence.text)
        return True

    for sentence in chosen:
        document = by_doc[sentence.passage.doc_id]
        i = next(j for j, s in enumerate(document) if s.start == sentence.start)
        before = document[i - 1] if i > 0 and sentence.start - document[i - 1].end <= 3 else None
        after = document[i + 1:]
        if before and _CONCLUSION.match(sentence.text):
            take(before)
        # "She currently plays bass in the band", a few sentences into a document: its opening
        # sentence says who she is, unless a quote before it from the same document does.
        if _PERSONAL.match(sentence.text) and sentence.passage.start == 0 and not any(
                s.passage.doc_id == sentence.passage.doc_id and s.start < sentence.start for s in result):
            own = [s for s in document if s.passage.chunk_id == sentence.passage.chunk_id]
            if 0 < [s.start for s in own].index(sentence.start) <= _OPENING_REACH:
                take(own[0])
        if sentence.text.rstrip().endswith(":"):
            for item in after[:_LIST_ITEMS]:
                take(item)
        elif after and after[0].start - sentence.end <= 3 and _CONTINUATION.match(after[0].text):
            take(after[0])
    return result


def drop_announcements(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """An introduction whose content is not quoted right after it says nothing: drop it (unless
    nothing else is left)."""
    keys = {(s.passage.doc_id, s.start) for s in chosen}
    kept = []
    for sentence in chosen:
        if announces(sentence.text):
            followed = any(doc == sentence.passage.doc_id and 0 <= start - sentence.end <= 3
                           for doc, start in keys)
            if not followed:
                continue
        kept.append(sentence)
    return kept or chosen


def reading_order(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Documents in order of their best sentence; within a document, the order of the text."""
    first_seen: dict[str, int] = {}
    for i, sentence in enumerate(chosen):
        first_seen.setdefault(sentence.passage.doc_id, i)
    return sorted(chosen, key=lambda s: (first_seen[s.passage.doc_id], s.start))


def cite(sentences: list[ScoredSentence]) -> tuple[list[str], tuple[Citation, ...]]:
    """Marker numbers in order of first use; one citation per passage with all its cited spans."""
    numbers: dict[str, int] = {}
    spans: dict[str, list[Span]] = {}
    passages: dict[str, Passage] = {}
    parts = []
    for sentence in sentences:
        key = sentence.passage.chunk_id
        n = numbers.setdefault(key, len(numbers) + 1)
        passages[key] = sentence.passage
        spans.setdefault(key, []).append(Span(sentence.start, sentence.end, sentence.text))
        parts.append(f"{' '.join(sentence.text.split())} [{n}]")  # a hard-wrapped quote reads as one line
    citations = tuple(Citation(n, passages[key], tuple(spans[key])) for key, n in numbers.items())
    return parts, citations


def abstention(evidence: Evidence, question: str, mode: str = "extractive") -> Answer:
    nearest = []
    for sentence in evidence.sentences:
        if all(sentence.passage.doc_id != s.passage.doc_id for s in nearest):
            nearest.append(sentence)
        if len(nearest) == _NEAREST_SHOWN:
            break
    parts, citations = cite(nearest)
    reason = f" ({evidence.reason})" if evidence.reason else ""
    text = f"The documents don't answer this{reason}."
    if parts:
        text += "\n\nNearest passages:\n" + "\n".join(f"- {p}" for p in parts)
    return Answer(question=question, text=text, citations=citations, passages=tuple(evidence.passages),
                  abstained=True, mode=mode)


def extractive_answer(evidence: Evidence, question: str, max_sentences: int = 4) -> Answer:
    if evidence.abstain:
        return abstention(evidence, question)
    chosen = select_sentences(evidence, max_sentences)
    # A bridge question quotes the sentence naming the bridge and the one about it; a comparison
    # quotes each compared thing. They lead, the best sentences follow while there is room.
    lead = compared_sentences(evidence) or hop_sentences(evidence, chosen[0])
    if lead:
        lead = ([chosen[0]] if chosen[0].passage.doc_id == lead[0].passage.doc_id else []) + lead
        chosen = _merge(lead, chosen)[:max(max_sentences, len(lead))]
    chosen = drop_announcements(add_continuations(chosen, evidence))
    ordered = reading_order(chosen)
    parts, citations = cite(ordered)
    text = " ".join(parts)
    # A verdict is no quote and carries no marker: it opens the answer, the quotes back it.
    quotes, contexts = [s.text for s in ordered], [s.passage.text for s in ordered]
    if evidence.profile.yes_no:
        verdict = decide(evidence.profile.text, quotes, contexts)
        if verdict:
            text = f"{verdict.capitalize()}. {text}"
    else:
        chosen = choose(evidence.profile.text, quotes, contexts)
        if chosen:
            text = f"{chosen}. {text}"
    if evidence.missing:
        missing = ", ".join(f"“{m}”" for m in evidence.missing)
        text += f"\n\nNote: the retrieved passages do not mention {missing}; the answer above may be partial."
    return Answer(question=question, text=text, citations=citations, passages=tuple(evidence.passages),
                  mode="extractive")


class ExtractiveAnswerer:
    """The offline answerer: quotes the best evidence sentences, each with its citation."""

    mode = "extractive"

    def __init__(self, max_sentences: int = 4):
        self.max_sentences = max_sentences

    def answer(self, question: str, evidence: Evidence) -> Iterator[str | Answer]:
        answer = extractive_answer(evidence, question, self.max_sentences)
        yield answer.text
        yield answer
