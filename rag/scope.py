"""What a question asks of the collection: one fact (the best passages answer it), every
document ("which briefs discuss X", "what does each say about Y": coverage), or how something
changed over time (a timeline). Also the topic such a question is about, without its framing.

The cues are data (rag/base/lexicons/collection*.txt); nothing here knows any one corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.base.errors import InputError
from rag.base.lexicon import load_groups, load_lines, load_pairs, load_words
from rag.base.text import STOPWORDS
from rag.dates import Period, asks_about_change, question_period

SCOPES = ("auto", "top", "all")
_GROUPS = load_groups("collection.txt")
_NOUNS = "(?:" + "|".join(sorted(_GROUPS["nouns"], key=len, reverse=True)) + ")"
_CUES = tuple(re.compile(line.replace("{noun}", _NOUNS), re.I) for line in load_lines("collection_cues.txt"))
_FRAMING = _GROUPS["nouns"] | _GROUPS["verbs"] | _GROUPS["fillers"] | load_words("question_words.txt")
_CHANGE = load_pairs("change_cues.txt")
_CHANGE_PHRASES = tuple(re.compile(rf"\b{re.escape(cue)}\b", re.I) for cue, kind in _CHANGE if kind == "phrase")
_CHANGE_VERBS = frozenset(cue.lower() for cue, kind in _CHANGE if kind == "verb" and " " not in cue)
# "Do the briefs mention climate change?": a change word after a verb of mentioning names the
# topic; the question does not ask how something changed.
_CHANGE_AS_TOPIC = re.compile(r"\b(?:" + "|".join(sorted(_GROUPS["verbs"])) + r")\b.*\b(?:"
                              + "|".join(sorted(_CHANGE_VERBS)) + r")\w*\W*$", re.I)


@dataclass(frozen=True)
class Scope:
    """How to answer a question: `collection` reads every document in scope, `change` builds a
    timeline over `period`; `topic` is what the question is about, in its own words."""

    collection: bool
    change: bool
    topic: str
    period: Period | None = None


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InputError(f"Unknown scope {scope!r}; use one of {', '.join(SCOPES)}.")
    return scope


_ATTRIBUTION = tuple(re.compile(line, re.I) for line in load_lines("attribution_cues.txt"))


def attributes_to_a_source(question: str) -> bool:
    """"..., according to Tokuchi?", "What has Choi argued ...": the caller checks that the name
    is one document's (`Retriever.named_docs`). ("What does each brief say" is no attribution.)"""
    return any(cue.search(question) for cue in _ATTRIBUTION)


def asks_about_collection(question: str) -> bool:
    """"Which of these briefs discuss nuclear sharing?", "Do the sources agree on the seat count?"."""
    return any(cue.search(question) for cue in _CUES)


@lru_cache(maxsize=256)
def read_scope(question: str, scope: str = "auto", reference_date: str = "") -> Scope:
    """`scope` "all" forces a per-document answer and "top" forbids one; "auto" reads the
    question. `reference_date` (the newest document's date) places a bare month ("since
    October") in a year."""
    check_scope(scope)
    change = scope != "top" and asks_about_change(question) and not _CHANGE_AS_TOPIC.search(question)
    period = question_period(question, reference_date) if change else None
    collection = scope == "all" or (scope == "auto" and (change or asks_about_collection(question)))
    return Scope(collection, change, topic_of(question, period), period)


def topic_of(question: str, period: Period | None = None) -> str:
    """The question without its framing: "Which of these briefs discuss nuclear sharing, and what
    does each say?" -> "nuclear sharing". Falls back to the whole question when nothing is left."""
    text = question.replace(period.phrase, " ") if period and period.phrase else question
    for cue in _CUES + (_CHANGE_PHRASES if period is not None or asks_about_change(question) else ()):
        text = cue.sub(" ", text)
    words = re.findall(r"[\w’'-]+", text)
    changing = period is not None or (asks_about_change(question) and not _CHANGE_AS_TOPIC.search(question))
    kept = [w for w in words if w.lower() not in _FRAMING and w.lower() not in STOPWORDS
            and not (changing and w.lower() in _CHANGE_VERBS)]
    return " ".join(kept) or question
