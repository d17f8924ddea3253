"""Questions that compare named things: which things (`comparison`, `choice`), and the passages
each of them needs.

"Who was born earlier, Emma Bull or Virginia Woolf?" and "Are Hot Rod and The Memory of Our
People both magazines?" can only be answered from passages about each thing compared. One
retrieval for the whole question often finds one side only (its name dominates the passages),
so a thing the passages the evidence stage reads never name gets a retrieval of its own
(`compared_hop`; a passage further down would never be quoted). A thing still named by none
of them after that makes the evidence stage abstain and say which one (`unnamed`): answering
from one side would be a guess dressed up as a comparison.

A passage names a thing when it holds every content word of it, a misspelling or another
inflection counting (rag.spelling), nationality words aside: "Are both Jim McBride and Neil
Jordan American?" is read as comparing "Neil Jordan American" and the passage says "Irish
film director Neil Jordan". README "How it works" gives the figures this was kept on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from rag.base.text import term_set
from rag.base.types import Passage
from rag.hops import COUNTRY_FORMS, NAME_CONNECTORS
from rag.question import analyze
from rag.retrieval import Retrieval, Retriever
from rag.spelling import resembles

_HEAD = 2  # the compared things' own passages go right after the first hop's best two...
_KEPT = 1  # ...one per thing the first retrieval missed
_HOP_K = 4  # passages asked of each thing's retrieval
_NATIONALITY_WORDS = {form for form in COUNTRY_FORMS if " " not in form}  # "American", "Irish"
_OPTION_WORDS = 6  # an option after a comma, or closing the question, is taken whole up to this long
_OR = re.compile(r"\s+or\s+", re.I)
AUX = re.compile(r"^\s*(are|is|was|were|do|does|did|has|have|had|can|could|will|would|should)\b\s*", re.I)
_CONNECT = NAME_CONNECTORS | {"a", "an", "in"}  # the name connectors, and the articles and "in" compared names carry


@dataclass(frozen=True)
class Comparison:
    things: tuple[str, ...]
    attribute: str  # the compared noun ("nationality") for "same X", else the "both" phrase
    same: bool  # "the same X" (compare values) rather than "both Z" (each must be Z)


def tokens(text: str) -> list[str]:
    """A text's words, with the punctuation names carry inside them ("O'Neil", "U.S.", "AT&T")."""
    return re.findall(r"[\w'’.&-]*\w|&", text)


def _capital(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def name_at(words: list[str], forward: bool) -> str:
    """The name that starts (forward) or ends the word list: capitalised words with small
    connecting words between them."""
    seq = words if forward else list(reversed(words))
    run: list[str] = []
    for word in seq:
        if _capital(word):
            run.append(word)
        elif run and word.lower() in _CONNECT:
            run.append(word)
        else:
            break
    while run and not _capital(run[-1]):
        run.pop()
    return " ".join(run if forward else reversed(run))


def comparison(question: str) -> Comparison | None:
    """The things a yes/no question compares and what about them, or None."""
    body = AUX.sub("", question.strip(), count=1).rstrip(" ?")
    body = re.sub(r"^both\s+", "", body, flags=re.I)
    parts = re.split(r"\s*,?\s+and\s+", body, maxsplit=1)
    if len(parts) != 2:
        return None
    left = tokens(parts[0])
    first = name_at(left, forward=False)
    # The compared things are the question's subject ("Were the bands X and Y from ...?") or
    # it says so ("both", "same"); "Does Choi expect relations between Seoul and Tokyo to ..."
    # compares nothing.
    subject = len(left) - len(first.split()) <= 2
    if not (subject or re.search(r"\b(both|same)\b", question, re.I)):
        return None
    parts[1] = re.sub(r"^(?:the|a|an)\s+(?=[A-Z])", "", parts[1])  # "... and the Battle of X fought in ..."
    right = tokens(parts[1])
    second = name_at(right, forward=True)
    if not first or not second:
        return None
    # The attribute as written (its own punctuation kept: "from the U.S.").
    after = re.match(r"\W*" + r"\W+".join(re.escape(w) for w in second.split()), parts[1])
    rest = parts[1][after.end():].strip() if after else " ".join(right[len(second.split()):])
    same = re.search(r"\bsame ([\w-]+)", rest, re.I)
    if same:
        return Comparison((first, second), same.group(1).lower(), True)
    if re.search(r"\bboth\b", question, re.I) or rest:
        return Comparison((first, second), rest, False)
    return None


def _as_written(name: str, text: str) -> str:
    """`name` (words joined by spaces) as `text` writes it, its own punctuation kept ("Still
    Kicking: Six Artistic Women", "P. J. O'Rourke")."""
    found = re.search(r"\W*".join(re.escape(w) for w in name.split()) + r"\.?", text)
    return found.group() if found else name


def choice(question: str) -> tuple[str, str] | None:
    """The two names a question offers to choose between ("Which band formed first, Lit or
    Adorable?"), as the question writes them, or None. The choice closes the question; what
    precedes it is cut at the last comma (else the last colon), so "Which writer was from
    England, Henry Roth or ..." offers "Henry Roth"; quoted options are taken whole."""
    body = question.strip().rstrip(" ?")
    split = list(_OR.finditer(body))
    if len(split) != 1:
        return None
    head, tail = body[:split[0].start()], body[split[0].end():]
    quoted = re.fullmatch(r'.*["“]([^"”]+)["”]', head), re.fullmatch(r'\s*["“]([^"”]+)["”]', tail)
    if all(quoted):
        return quoted[0].group(1), quoted[1].group(1)
    cut = head.rfind(",") if "," in head else max(head.rfind(":"), head.rfind(";"), head.rfind("?"))
    segment = head[cut + 1:].strip()
    tail = tail.split(",", 1)[0].strip()  # "X or Y, had more members?", "Y, the 1970 documentary"
    # Set off by a comma, each option stands whole, lower-case words and all ("..., Icehouse
    # pieces or Kill Doctor Lucky?"); without one, the names around "or" are the options.
    right = tokens(tail)
    set_off = "," in head and _capital(segment) and _capital(tail)
    whole = set_off and len(tokens(segment)) <= _OPTION_WORDS and len(right) <= _OPTION_WORDS
    first = segment if whole else name_at(tokens(segment), forward=False)
    second = tail if whole else name_at(right, forward=True)
    if not first or not second or len(second.split()) != len(right):
        return None
    return _as_written(first, segment).rstrip("."), _as_written(second, tail).rstrip(" ?")


def compared_things(question: str) -> tuple[str, ...]:
    """The named things a question compares: a yes/no comparison's ("Are X and Y both ...?")
    or a choice's ("..., X or Y?"); () for any other question."""
    if analyze(question).yes_no:
        c = comparison(question)
        if c is not None:
            return c.things
    return choice(question) or ()


def names(thing: str, text: str) -> bool:
    """Whether `text` holds every content word of `thing` (nationality words aside), each as
    written or as a word it resembles."""
    wanted = term_set(" ".join(w for w in thing.split() if w.lower() not in _NATIONALITY_WORDS))
    have = term_set(text)
    missing = [w for w in wanted if w not in have]
    if not missing:
        return True
    vocabulary = sorted(have)
    return all(resembles(w, vocabulary) is not None for w in missing)


def _unnamed(things: tuple[str, ...], passages: list[Passage]) -> list[str]:
    return [t for t in things if not any(names(t, p.text) for p in passages)]


def unnamed(question: str, passages: list[Passage]) -> list[str]:
    """The compared things of `question` that none of `passages` names."""
    return _unnamed(compared_things(question), passages)


def compared_hop(retriever: Retriever, retrieval: Retrieval, k: int, filters=None,
                 read: int | None = None) -> Retrieval:
    """`retrieval` with, for each compared thing its first `read` passages (the ones the evidence
    stage reads; None: all) never name, the best passage of a retrieval for that thing (the
    question without the other things), placed right after the first two passages; `retrieval`
    itself when nothing is missing or nothing was found. A passage further down that names the
    thing counts for nothing: it would never be quoted."""
    if not retrieval.passages:
        return retrieval
    t0 = time.perf_counter()
    things = compared_things(retrieval.question)
    window = retrieval.passages[:read]
    missing = _unnamed(things, window)
    if not missing:
        return retrieval
    have = {p.chunk_id for p in window}
    kept: list[Passage] = []
    for thing in missing:
        query = retrieval.question
        for other in things:
            if other != thing:
                query = query.replace(other, " ")
        hop = retriever.retrieve(query, _HOP_K, filters)
        found = [p for p in hop.passages if p.chunk_id not in have and names(thing, p.text)][:_KEPT]
        kept += found
        have.update(p.chunk_id for p in found)
    if not kept:
        return retrieval
    head = retrieval.passages[:_HEAD]
    moved = {p.chunk_id for p in kept}
    merged = head + kept + [p for p in retrieval.passages[_HEAD:] if p.chunk_id not in moved]
    timings = dict(retrieval.timings, compared=time.perf_counter() - t0)
    return replace(retrieval, passages=merged[:max(k, len(head) + len(kept))], timings=timings,
                   hop_passages=retrieval.hop_passages + tuple(p.chunk_id for p in kept))
