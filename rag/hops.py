"""A second retrieval hop for bridge questions.

"The director of the romantic comedy 'Big Stone Gap' is based in what New York city?" is
answered by two passages: the first (about the film) names the bridge entity, the director,
and only a passage about that person says where she is based. One retrieval for the question
finds the first; the second is found by asking again for the bridge entity together with the
part of the question the first passages leave unsaid.

A hop is looked for when the question reaches its subject through another one ("the company
that X worked for", "The director of the film Y"), or when a typed question (a date, a figure,
a person) finds no answer of that type in the first hop's best sentences; and only when those
sentences name someone or something the question does not. A question with a bridge cue takes
its names from the three best sentences that name something new (a title line, or "(1965) is Bill
Cosby's third album.", names nothing new) and tries up to five, their queries embedded in one model
call; a typed question without a cue only suspects a bridge and takes them from its three best
sentences, trying three. (A looser test, "the best passage leaves a quarter of the question's
terms unsaid", also fired on short single-hop questions such as "What does FOIP stand for?" and
displaced their passages.) A hop passage is kept only when it mentions the bridge entity and either holds some of the terms its sentence left unsaid or opens
with the entity's name (it is about it); kept ones go right after the first hop's best
passages, so the evidence stage reads both.

`bridge_names` and `residual_terms` are shared with the extractive answerer, which uses them to
quote the bridge sentence and the answer sentence together.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

import numpy as np

from rag.base.lexicon import load_groups, load_pairs
from rag.base.text import canonical, term_set, terms
from rag.bm25 import sentence_match
from rag.question import QuestionProfile, analyze, matches_type
from rag.retrieval import Retrieval, Retriever

_BRIDGE_PASSAGES = 2  # bridge names come from the first hop's best passages...
_BRIDGE_SENTENCES = 3  # ...from their sentences closest to the question
_CANDIDATES = 5  # bridge names tried (one retrieval each) for a question with a bridge cue...
_SUSPECTED_CANDIDATES = 3  # ...and for a typed question its best sentences leave unanswered
_HOP_K = 4  # passages asked of each second retrieval
_KEPT = 2  # hop passages added to the retrieval, the second only when about as good as the first
_KEPT_WINDOW = 0.15
_ABOUT_CHARS = 80  # a passage opening with a name (within this many characters) is about it
_MIN_RESIDUAL = 0.2  # a hop passage must hold this share of the unsaid terms
_TYPED = ("number", "percentage", "date", "person")

# A name: capitalised words, with the small words names carry inside them ("Bank of America",
# "In the Realm of the Hackers"); quoted titles are names too.
_WORD = re.compile(r"[\w'’.&-]+")
_QUOTED = re.compile(r'["“]([^"”]{2,80})["”]')
_NAME_WORDS = load_groups("name_words.txt")
NAME_CONNECTORS = _NAME_WORDS["connectors"]  # lexicons/name_words.txt says why "and" is not one
_NOT_NAMES = _NAME_WORDS["not_names"]


# "American", "the United States": a nationality or a country describes, it is rarely the bridge.
COUNTRY_FORMS = dict(load_pairs("nationalities.txt"))


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in _NOT_NAMES


def names_in(sentence: str) -> list[str]:
    """Names a sentence mentions, in order: runs of capitalised words (small connecting words
    allowed inside), and quoted titles. A lone capitalised word opening the sentence is left
    out: its capital says nothing."""
    found: list[str] = [q.strip() for q in _QUOTED.findall(sentence)]
    run: list[str] = []
    first_start = -1

    def close() -> None:
        while run and run[-1].lower() in NAME_CONNECTORS:
            run.pop()
        if run and not (len(run) == 1 and first_start == 0):
            found.append(" ".join(run))
        run.clear()

    previous_end = 0
    for match in _WORD.finditer(sentence):
        word = match.group().strip(".'’-")
        # Punctuation between two words ends a name: "Bill Clinton, Monica Lewinsky" is two.
        if sentence[previous_end:match.start()].strip():
            close()
        previous_end = match.end()
        if not word:
            continue
        if _capitalised(word) and not word.isdigit():
            if not run:
                first_start = match.start()
            run.append(word)
        elif run and word.lower() in NAME_CONNECTORS:
            run.append(word)
        else:
            close()
        if match.group().endswith(".") and len(word) > 2:
            close()  # a full stop inside a sentence ends a name too ("... Inc. The")
    close()
    quoted = found[:len(_QUOTED.findall(sentence))]
    # A run inside a quoted title ("Lives" of "Their Lives") is part of that name, not one.
    return list(dict.fromkeys(n for i, n in enumerate(found) if any(c.isalpha() for c in n)
                              and not (i >= len(quoted) and any(n != q and n in q for q in quoted))))


def bridge_names(question: str, sentence: str) -> list[str]:
    """Names in `sentence` that the question does not already name: candidates for the
    entity a bridge question is really about."""
    asked = term_set(question)
    out = []
    for name in names_in(sentence):
        if re.sub(r"['’]s$", "", name.lower().removeprefix("the ")) in COUNTRY_FORMS:  # "India's" too
            continue
        name_terms = term_set(name)
        if name_terms and len(name_terms - asked) * 2 >= len(name_terms):
            out.append(name)
    return out


def mentions(text_terms: set[str] | frozenset[str], name: str) -> bool:
    """Whether a text (its canonical terms) names `name`: its last word (a surname, the head of a
    title) and at least half of its words."""
    name_terms = [canonical(t) for t in terms(name)]
    if not name_terms:
        return False
    return name_terms[-1] in text_terms and 2 * sum(t in text_terms for t in set(name_terms)) >= len(set(name_terms))


def about(name: str, text: str, opening: str) -> bool:
    """Whether `text` is about `name`: it names it (as written, or by `mentions`), or it comes
    from a passage whose `opening` does ("For Against" is all stopwords: no terms to match)."""
    return (name in text or name in opening or mentions(term_set(text), name)
            or mentions(term_set(opening), name))


def residual_terms(profile: QuestionProfile, said: set[str] | frozenset[str]) -> list[str]:
    """The question's content terms that `said` (the first hop's terms) lacks."""
    return [t for t in dict.fromkeys(profile.terms) if t not in said]


def _as_written(question: str, wanted: list[str]) -> str:
    words = re.findall(r"[\w’'-]+", question)
    return " ".join(w for w in words if canonical(w.strip("'’-")) in wanted)


# The question describes its subject through another one: "the company that X worked for",
# "the actress who plays Y", "The director of the film Z".
_BRIDGE_CUE = re.compile(
    r"\b(?:the|a|an|another|this|these|that|its|his|her|their)\s+(?:[\w'’-]+\s+){0,5}?(?:who|whom|whose|who's|that|which|where)\b"
    r"|\b(?:the|a|an) [\w-]+ of (?:the|a|an|this)\b|\bby (?:someone|somebody)\b|\bby (?:a|an) \w+ (?:who|born|that)\b",
    re.I,
)


def needs_hop(question: str) -> bool:
    """Whether the question reaches its subject through another entity (a relative clause, "the
    X of the Y"): the cheap test that decides whether a second hop is looked for at all."""
    return bool(_BRIDGE_CUE.search(question))


def second_hop(retriever: Retriever, retrieval: Retrieval, k: int, filters=None) -> Retrieval:
    """`retrieval` with the passages of a second hop merged in when the question needs one,
    else `retrieval` itself. First-hop passages keep their order; hop passages go right after
    the first hop's best `_BRIDGE_PASSAGES`."""
    passages = retrieval.passages
    if not passages:
        return retrieval
    t0 = time.perf_counter()
    profile = analyze(retrieval.question)
    question_terms = list(profile.terms)
    cued = needs_hop(retrieval.question)
    if not cued and profile.answer_type not in _TYPED:
        return retrieval  # the common case costs one regex and the question analysis
    snapshot = retriever.snapshot()
    bm25 = snapshot.bm25
    head = passages[:_BRIDGE_PASSAGES]
    metas, vectors = snapshot.sentences_of([p.chunk_id for p in head])
    if not len(metas) or not question_terms:
        return retrieval
    # The sentences that match the question best (meaning and terms, as the evidence stage
    # weighs them) are the ones that name the bridge: "He worked ... in Tata Consultancy Services".
    sims = vectors @ retrieval.query_vector
    match = [sentence_match(float(sim), bm25.coverage(question_terms, snapshot.sentence_terms(m)), 0.55)
             for sim, m in zip(sims, metas)]
    ranked = [int(i) for i in np.argsort(-np.asarray(match))]
    # Sentences of a passage about a thing the question names come first: "Sachin Warrier"'s
    # passage names the company he worked for; a namesake's ("Sachin Bansal") names others.
    asked = names_in(retrieval.question)
    about_asked = {p.chunk_id for p in head if any(mentions(term_set(p.text[:_ABOUT_CHARS]), n) for n in asked)}
    ranked.sort(key=lambda i: metas[i]["chunk_id"] not in about_asked)
    if not cued:
        if any(matches_type(profile.answer_type, metas[i]["text"]) for i in ranked[:_BRIDGE_SENTENCES]):
            return retrieval  # a typed question whose best sentences give that type: answered
        # Only a suspicion of a bridge: its names come from the very best sentences alone.
        ranked = ranked[:_BRIDGE_SENTENCES]
    # A question that says it has a bridge gets it from the best sentences that name something
    # it does not: a title line or "(1965) is Bill Cosby's third album." names nothing new and
    # must not crowd out "It was recorded at the Flamingo Hotel".
    candidates: list[tuple[str, list[str]]] = []
    used = 0
    for i in ranked:
        residual = residual_terms(profile, snapshot.sentence_terms(metas[i]))
        names = [n for n in bridge_names(retrieval.question, metas[i]["text"])
                 if residual and all(n != c for c, _ in candidates)]
        if not names:
            continue
        candidates.extend((name, residual) for name in names)
        used += 1
        if used == _BRIDGE_SENTENCES:
            break
    if not candidates:
        return retrieval
    # A hop passage the first hop ranked lower still moves up: the evidence stage reads only
    # the first few passages.
    known = {p.chunk_id for p in head}
    found: dict[str, tuple[float, object]] = {}
    tried = candidates[:_CANDIDATES if cued else _SUSPECTED_CANDIDATES]
    queries = [f"{name} {_as_written(retrieval.question, residual)}" for name, residual in tried]
    for (name, residual), query, vector in zip(tried, queries, retriever.embed_queries(queries)):
        hop = retriever.retrieve(query, _HOP_K, filters, vector=vector)
        for passage in hop.passages:
            if passage.chunk_id in known:
                continue
            text_terms = term_set(passage.text)
            if not mentions(text_terms, name):
                continue
            share = bm25.coverage(residual, text_terms)
            # A passage about the entity itself (it opens with its name) is kept even when the
            # question's remaining words are framing ("the middle name of the actress ...").
            if share < _MIN_RESIDUAL and not mentions(term_set(passage.text[:_ABOUT_CHARS]), name):
                continue
            score = passage.score + share
            if passage.chunk_id not in found or found[passage.chunk_id][0] < score:
                found[passage.chunk_id] = (score, passage)
    if not found:
        return retrieval
    ranked = sorted(found.values(), key=lambda f: f[0], reverse=True)
    kept = [p for score, p in ranked[:_KEPT] if score >= ranked[0][0] - _KEPT_WINDOW]
    merged = list(head) + kept + [p for p in passages[_BRIDGE_PASSAGES:] if p.chunk_id not in found]
    timings = dict(retrieval.timings, hop=time.perf_counter() - t0)
    return replace(retrieval, passages=merged[:max(k, len(head) + len(kept))], timings=timings,
                   hop_passages=tuple(p.chunk_id for p in kept))
