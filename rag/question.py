"""What a question asks for: the kind of answer it expects and the names/numbers it hinges on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.base.lexicon import load_pairs
from rag.base.text import STOPWORDS, canonical, terms

_TYPE_PATTERNS = (
    ("expansion", re.compile(r"\b(stands? for|acronym|abbreviation|short for)\b", re.I)),
    ("percentage", re.compile(r"\b(what|which) (percentage|percent)\b|\bhow many percent", re.I)),
    ("number", re.compile(r"\b(how (many|much|large|big|high|long)|what (percentage|percent|share|proportion|level|amount|number|fraction)|by how much|what (is|was) the (size|number|amount))\b", re.I)),
    # "when" asks for a date as the question's own word, not in a clause ("What is it called
    # when steam drives a generator?").
    ("date", re.compile(r"^\W*when\b|\bwhen (did|does|do|was|were|is|are|will|has|have|had)\b|\b(what (year|date|month|day)|which (year|date|month)|since when|how long ago)\b", re.I)),
    ("person", re.compile(r"^\s*(who|whom)\b|\bwhich (person|official|expert|analyst|minister|leader|researcher)\b", re.I)),
)
_QUESTION_WORDS = {"what", "who", "whom", "when", "where", "why", "how", "which", "does", "did", "do", "is",
                   "are", "was", "were", "can", "could", "should", "would", "will", "has", "have", "according",
                   "in", "on", "for", "the", "a", "an", "and", "if", "as", "to", "of", "under", "after", "before"}
_NUMBER_WORDS = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|twice|double|doubling|half|third|quarter|percent|per cent|dozen|hundred|thousand|million|billion|trillion)\b|\d", re.I)
_DATE_WORDS = re.compile(r"\b(?:(?:\d{3,4}s?|\d{1,2}(?:st|nd|rd|th) century|centuries|decades?|bc|ad|bce|january|february|march|april|may|june|july|august|september|october|november|december|spring|summer|autumn|fall|winter|since|year|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.)", re.I)
# A person, as briefs name people: a title before a name, or a name before a reporting verb or
# an apposition ("Kristi Govella, an associate professor", "Choi told ...").
_NAME = re.compile(
    r"\b(?:Dr|Prof|Mr|Ms|Mrs|President|Professor|Minister|Secretary|spokesperson|Chairman|Ambassador)\.? [A-Z][a-z]+"
    r"|\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2},? (?:said|says|told|noted|argued|warned|explained|wrote|added|stressed|urged|cautioned|believes|a (?:research|senior|former|professor|fellow|visiting|political)|an (?:associate|assistant|expert))\b"
    r"|\b[A-Z][a-z]+ [A-Z]{2,}[a-z]*\b|\b[A-Z]{2,} [A-Z][a-z]+\b"
)


@dataclass(frozen=True)
class QuestionProfile:
    text: str
    answer_type: str  # expansion | percentage | number | date | person | any
    terms: tuple[str, ...]  # stemmed content terms
    entities: tuple[str, ...]  # names, acronyms and numbers in the question, stemmed
    # What a figure is asked of ("seats" in "how many seats ..."): if the documents never use
    # the word, they cannot give the figure.
    measured: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()  # what the question is about ("say about X"): terms that must exist
    negated: bool = False
    yes_no: bool = False  # "Did Tokyo send ...?" asks; "Why did Tokyo send ...?" presupposes


_MEASURED = re.compile(
    r"\bhow (?:many|much) ((?:[a-z-]+ ){0,2}?[a-z-]+?) (?:did|does|do|are|were|is|was|will|has|have|had|can|could|would)\b",
    re.I,
)
# "... the fighter pilot who had how many victories?": the noun a count is asked of, wherever the
# question ends (`measured` needs a verb after it).
_COUNTED = re.compile(r"\bhow many ((?:[a-z-]+ ){0,2}?[a-z-]+)(?=\s+(?:did|does|do|are|were|is|was|will|has|have|"
                      r"had|can|could|would)\b|\s*[?.]?\s*$)", re.I)
_TOPIC = re.compile(r"\b(?:about|regarding|concerning)\s+((?:[\w’'-]+\s*){1,4})", re.I)
_YES_NO = re.compile(r"^\s*(did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)\b", re.I)
# "Both X and Y are a genus of ...?": a statement asked as a question, with no question word.
_BOTH_STATED = re.compile(r"^\s*both\b(?!.*\b(?:what|which|who|whom|whose|where|when|why|how)\b).*\?\s*$", re.I)
_NEGATION = re.compile(r"\b(not|never|no|n't|without|refus\w*|declin\w*)\b", re.I)


# Retrieval, the second hop and the evidence stage each read the same question's profile: one
# analysis per question (the profile is frozen, so sharing it is safe).
@lru_cache(maxsize=1024)
def analyze(question: str) -> QuestionProfile:
    answer_type = next((name for name, pattern in _TYPE_PATTERNS if pattern.search(question)), "any")
    entities: list[str] = []
    # Same word boundaries as the index (\w+), so "Ki-tae" or "U.S." are checked part by part.
    for i, match in enumerate(re.finditer(r"\w+", question)):
        word = match.group()
        if len(word) < 2 or word.lower() in _QUESTION_WORDS or word.lower() in STOPWORDS:
            continue
        if word[0].isupper() and (i > 0 or word.isupper()):
            entities.append(canonical(word))
    # Numbers as the index tokenizes them ("19th", "1600s"), so an ordinal or a decade is
    # looked up as written rather than as its bare digits.
    entities += sorted({canonical(w) for w in re.findall(r"\w*\d\w*", question)})
    measured = []
    for match in _MEASURED.finditer(question):
        measured.append(canonical(match.group(1).split()[-1]))
    topic = [canonical(t) for m in _TOPIC.finditer(question) for t in terms(m.group(1))]
    return QuestionProfile(
        question,
        answer_type,
        tuple(canonical(t) for t in terms(question)),
        tuple(dict.fromkeys(entities)),
        tuple(measured),
        tuple(t for t in topic if t not in entities and not t.endswith(("ing", "ed"))),  # nouns, not verbs
        bool(_NEGATION.search(question)),
        bool(_YES_NO.match(question) or _BOTH_STATED.match(question)),
    )


def counted_noun(question: str) -> str:
    """The noun a "how many" question counts ("victories"), canonical; "" when none is plain."""
    match = _COUNTED.search(question)
    return canonical(match.group(1).split()[-1]) if match else ""


_EVENT = re.compile(r"\b(summit|meeting|talks|visit|conference|election|vote|agreement|deal)\b", re.I)
_PAST_QUESTION = re.compile(r"\b(did|was|were|had)\b", re.I)
_UPCOMING = re.compile(r"\b(upcoming|will|next (week|month|year)|plans? to|is preparing|preparing for|is expected to|is set to|ahead of|anticipates?)\b", re.I)


_PLANNED = re.compile(r"\b(due|going|set|expected|scheduled|planned|being|supposed|to be)\b", re.I)


def asks_about_past_event(question: str) -> bool:
    """"What did they agree at the summit?" presumes the summit happened; "Whom was Trump due to
    meet?" asks about a plan."""
    return bool(_EVENT.search(question) and _PAST_QUESTION.search(question) and not _PLANNED.search(question))


def describes_as_upcoming(sentence: str) -> bool:
    return bool(_UPCOMING.search(sentence))


# A question that presumes one thing while the evidence says its opposite ("Why did Komeito
# join ...?" / "... replacing Komeito ..."): the premise is false and the honest answer says so.
_OPPOSITES = dict(load_pairs("opposite_actions.txt"))


def contradicts(question: str, sentence: str) -> str:
    """The question's presumed action when `sentence` states its opposite instead, else ''."""
    for action, opposite in _OPPOSITES.items():
        asked = re.search(rf"\b{action}\b", question, re.I)
        if asked and not re.search(rf"\b{action}\b", sentence, re.I) and re.search(rf"\b({opposite})\b", sentence, re.I):
            return asked.group()
    return ""


def negates(sentence: str, term: str) -> bool:
    """Whether `sentence` denies `term` ("decision not to send" for "send")."""
    words = re.findall(r"[\w']+", sentence.lower())
    for i, word in enumerate(words):
        if canonical(word) == term and any(_NEGATION.fullmatch(w) for w in words[max(0, i - 3):i]):
            return True
    return False


def matches_type(answer_type: str, sentence: str) -> bool:
    if answer_type == "percentage":
        return bool(re.search(r"\d\s?%|\bper ?cent\b|\bpercentage\b", sentence, re.I))
    if answer_type == "number":
        return bool(_NUMBER_WORDS.search(re.sub(r"\b(19|20)\d\d\b", "", sentence)))
    if answer_type == "date":
        return bool(_DATE_WORDS.search(sentence))
    if answer_type == "person":
        return bool(_NAME.search(sentence))
    if answer_type == "expansion":
        return bool(re.search(r"\([A-Z]{2,}\)", sentence))
    return True


# "Tysons Galleria is located in what county?": the answer is a name of that kind, and English
# often writes the kind into the name ("Fairfax County", "Texas Tech University").
_ASKED_KIND = re.compile(r"\b(?:[Ww]hat|[Ww]hich)\s+([a-z][a-z-]{2,})\b")


def asked_kind(question: str) -> str:
    """The noun a "what/which <noun>" question asks for ("county"), or ""."""
    match = _ASKED_KIND.search(question)
    if not match or match.group(1) in _QUESTION_WORDS or match.group(1) in STOPWORDS:
        return ""
    return match.group(1)


@lru_cache(maxsize=256)
def _kind_names(kind: str, question: str) -> tuple[re.Pattern, frozenset[str]]:
    """The pattern of a name ending in `kind`, and the question's terms: built once per question,
    not once per sentence scored."""
    return re.compile(rf"\b((?:[A-Z][\w'.&-]*\s+)+){kind.capitalize()}s?\b"), frozenset(terms(question))


def names_kind(kind: str, sentence: str, question: str) -> bool:
    """Whether the sentence holds a name ending in the asked kind ("Fairfax County") that the
    question does not already give."""
    if not kind:
        return False
    pattern, asked = _kind_names(kind, question)
    return any(not set(terms(m.group(1))) <= asked for m in pattern.finditer(sentence))
