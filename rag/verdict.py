"""A yes/no question's verdict, decided from the quoted sentences or not at all.

Two kinds of question get one:
- comparisons of named things ("Are Local H and For Against both from the United States?",
  "Were Scott Derrickson and Ed Wood of the same nationality?"): the attribute found for each
  compared thing is compared ("American" and "American": yes; "American" and "English": no);
  for "both Z" each thing's sentences must say Z (a country asked of it must be its own, the
  first its sentences give), and a thing whose sentences are there but say something else makes
  it a no; "both in the 19th century" is read from each thing's year;
- plain propositions ("Did the treaty enter into force?"): yes when a quoted sentence states
  the question's content terms without a negation among them, no when it states them negated.

Anything else (an attribute not found for one of the things, a sentence that only half states
the proposition) gets no verdict: the answer is the quotes alone. A choice question's option is
rag.options'. Word lists live in rag/base/lexicons/ (nationalities.txt, regions.txt,
negations.txt, number_words.txt).
"""

from __future__ import annotations

import re

from rag.base.lexicon import load_pairs, load_words
from rag.base.text import canonical, term_set, terms
from rag.compared import AUX, Comparison, comparison, names
from rag.hops import COUNTRY_FORMS, about

NEGATIONS = load_words("negations.txt")
_REGION_FORMS = dict(load_pairs("regions.txt"))  # "pennsylvania" -> us
_COUNT_WORDS = {w: int(n) for w, n in load_pairs("number_words.txt") if w not in ("a", "an")}
_UK_NATIONS = {"england", "scotland", "wales", "uk"}  # one nationality: British
# Words of a "both Z" attribute that say nothing about Z itself ("both considered rock bands").
_FRAMING = {"both", "considered", "described", "located", "based", "type", "kind", "used", "known", "classified",
            "same", "also", "each", "one", "part", "member", "example", "form"}
_PLACE_NOUNS = {"city", "town", "country", "state", "county", "neighborhood", "neighbourhood", "region", "province",
                "district", "area", "island", "continent"}
_NATIONALITY_NOUNS = {"nationality", "country", "citizenship", "origin"}
YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
# "both a genus of more than 50 flowering plants": a count bound; the words after it are what is
# counted (a text may count them by another noun first: "9 species of flowering plants").
_BOUND = re.compile(r"\b(more than|over|at least|fewer than|less than|under)\s+(\d[\d,]*)\s+((?:[a-z-]+\s*){1,3})", re.I)
_CENTURY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)[\s-]+century\b", re.I)
_ABOUT_CHARS = 120  # a quote from a passage opening with a name (this far in) is about it
_OWN_CHARS = 80  # a passage naming a thing this early is about it (a title line, a first sentence's subject)
_MIN_STATED = 0.8  # share of a proposition's content terms a sentence must hold to state it


def nationality_forms(text: str, regions: bool = True) -> list[str]:
    """Countries a text names or gives a nationality of ("an American band" -> us), in order,
    then (with `regions`) the countries of the regions it names ("Pittsburgh, Pennsylvania" ->
    us): a region says where, not who, so it never outranks a country named outright. Short
    forms (US, UK, USA) count only as written in capitals: "us" is a pronoun."""
    forms = {**_REGION_FORMS, **COUNTRY_FORMS} if regions else COUNTRY_FORMS
    found: list[tuple[bool, int, str]] = []
    taken: list[tuple[int, int]] = []
    # Longest first, so that "New South Wales" is a region before "Wales" is a country.
    for form in sorted(forms, key=len, reverse=True):
        flags = 0 if len(form.replace(".", "")) <= 3 else re.I
        pattern = re.escape(form.upper() if flags == 0 else form)
        for match in re.finditer(rf"(?<![\w.]){pattern}(?![\w])", text, flags):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append((form not in COUNTRY_FORMS, match.start(), forms[form]))
    return [country for _, _, country in sorted(found)]


def _nationality(texts: list[str]) -> str | None:
    for text in texts:
        forms = nationality_forms(text)
        if forms:
            return "uk" if forms[0] in _UK_NATIONS else forms[0]
    return None


def _value(noun: str, texts: list[str], thing: str) -> str | None:
    """What a sentence gives for `noun` ("family" -> "Cucurbitaceae", "city" -> "Buffalo",
    "director" -> the name after "directed by"): a name next to the noun, after "in" for a
    place, after "by" for a doer. Names of the thing itself do not count."""
    own = term_set(thing)
    stem_ = noun[:-2] if noun.endswith(("or", "er")) else noun
    patterns = [rf"\b{noun}\s+(?:of\s+)?([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)",
                rf"\b([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)\s+{noun}\b"]
    if noun in _PLACE_NOUNS:
        patterns.append(r"\b(?:in|from|of)\s+(?:the\s+)?([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)")
    if noun.endswith(("or", "er")):
        patterns.append(rf"\b{stem_}\w*\s+by\s+([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)")
    for pattern in patterns:
        for text in texts:
            for match in re.finditer(pattern, text):
                value = match.group(1)
                value_terms = term_set(value)
                if value_terms and not value_terms <= own:
                    return " ".join(sorted(value_terms))
    return None


def _states(attribute_terms: set[str], texts: list[str]) -> bool:
    """Whether the texts about a thing say every attribute term; a country asked of it ("both
    American documentaries") must be the thing's own nationality, the first one its texts give,
    not any country they mention ("hacked into some of the US military's computers")."""
    countries = attribute_terms & set(COUNTRY_FORMS.values())
    if countries:
        first = next((forms[0] for forms in map(nationality_forms, texts) if forms), None)
        # "from England" asks for England itself; "British" is asked for by any UK nation.
        if first not in countries and not (first in _UK_NATIONS and "uk" in countries):
            return False
    said = set()
    for text in texts:
        said |= term_set(text)
    return attribute_terms - countries <= said


def attribute_terms(phrase: str) -> set[str]:
    countries = set(nationality_forms(phrase, regions=False))
    cleaned = phrase
    for form in sorted(COUNTRY_FORMS, key=len, reverse=True):
        cleaned = re.sub(rf"(?<![\w.]){re.escape(form)}(?![\w])", " ", cleaned, flags=re.I)
    words = term_set(cleaned) - {canonical(w) for w in _FRAMING}
    return words | countries


def texts_about(thing: str, quotes: list[str], contexts: list[str]) -> list[str]:
    """The quotes about `thing`: those naming it, or quoted from a passage that opens with it."""
    return [quote for quote, context in zip(quotes, contexts) if about(thing, quote, context[:_ABOUT_CHARS])]


def own_texts(thing: str, quotes: list[str], contexts: list[str]) -> list[str]:
    """The quotes from passages about `thing`: their opening names every word of it, a word
    written out in full counting for its short form ("Edward Davis Wood Jr." for "Ed Wood")."""
    def opens_with(context: str) -> bool:
        opening = context[:_OWN_CHARS]
        have = term_set(opening)
        return names(thing, opening) or all(any(h.startswith(w) for h in have) for w in term_set(thing))

    return [quote for quote, context in zip(quotes, contexts) if opens_with(context)]


def compare(c: Comparison, quotes: list[str], contexts: list[str]) -> str | None:
    groups = [texts_about(thing, quotes, contexts) for thing in c.things]
    if not all(groups):
        return None
    if c.same:
        if c.attribute in _NATIONALITY_NOUNS:
            values = [_nationality(g) for g in groups]
        else:
            values = [_value(c.attribute, g, thing) for g, thing in zip(groups, c.things)]
        if any(v is None for v in values):
            return None
        return "yes" if len(set(values)) == 1 else "no"
    century = _CENTURY.search(c.attribute)
    if century:
        # "Were both battles fought in the 19th century?": the century of each thing's year, read
        # from its own passage when one is quoted ("Battle of Stones River" half-names "Battle of
        # the Ch'ongch'on River").
        own = [own_texts(thing, quotes, contexts) or g for thing, g in zip(c.things, groups)]
        years = [YEAR.search(" ".join(texts)) for texts in own]
        if not all(years):
            return None
        asked = int(century.group(1))
        return "yes" if all((int(y.group()) - 1) // 100 + 1 == asked for y in years) else "no"
    bound = _BOUND.search(c.attribute)
    if bound:
        own = [own_texts(thing, quotes, contexts) or g for thing, g in zip(c.things, groups)]
        nouns = terms(bound.group(3))
        counts = [next((n for noun in nouns if (n := count_of(noun, texts)) is not None), None) for texts in own]
        if any(n is None for n in counts):
            return None
        limit, word = int(bound.group(2).replace(",", "")), bound.group(1).lower()
        above = word in ("more than", "over")
        holds = [n > limit if above else n >= limit if word == "at least" else n < limit for n in counts]
        return "yes" if all(holds) else "no"
    wanted = attribute_terms(c.attribute)
    if not wanted:
        return None
    return "yes" if all(_states(wanted, g) for g in groups) else "no"


def _root(word: str) -> str:
    """A word without its inflection ("entered", "entering" -> "enter"), for matching a
    question's verb with the sentence's tense."""
    word = canonical(word)
    for ending in ("ing", "ed", "es", "s"):
        if len(word) > len(ending) + 3 and word.endswith(ending):
            return word[:-len(ending)]
    return word


def _roots(text: str) -> set[str]:
    return {_root(t) for t in terms(text)}


def negated(sentence: str, near: set[str]) -> bool:
    """Whether a negation stands in the stretch of `sentence` that holds the `near` terms."""
    words = re.findall(r"[\w']+", sentence.lower())
    positions = [i for i, w in enumerate(words) if _root(w) in near]
    if not positions:
        return False
    span = words[max(0, min(positions) - 3):max(positions) + 1]
    return any(w in NEGATIONS or w.endswith("n't") for w in span)


def polarity(question: str, quotes: list[str]) -> str | None:
    """Yes when a quote states the question's proposition, no when it states it negated."""
    body = AUX.sub("", question.strip(), count=1)
    wanted = _roots(body) - {_root(w) for w in NEGATIONS}
    if len(wanted) < 2:
        return None
    asked_negated = any(w in NEGATIONS or w.endswith("n't") for w in re.findall(r"[\w']+", question.lower()))
    for quote in quotes:
        said = _roots(quote)
        if len(wanted & said) / len(wanted) < _MIN_STATED:
            continue
        stated_negated = negated(quote, wanted)
        return "yes" if stated_negated == asked_negated else "no"
    return None


def decide(question: str, quotes: list[str], contexts: list[str] | None = None) -> str | None:
    """"yes", "no" or None for a yes/no `question` from the `quotes` an answer gives (with, for
    each, the text of the passage it comes from, to tell which compared thing it is about)."""
    contexts = contexts if contexts is not None else quotes
    c = comparison(question)
    if c is not None:
        return compare(c, quotes, contexts)
    return polarity(question, quotes)


_COUNT_REACH = 3  # a count stands at most this many words before what it counts ("four studio albums")


def count_of(noun: str, texts: list[str]) -> int | None:
    """The number the quotes give of `noun` ("consisting of three members", "about 900 species")."""
    wanted = canonical(noun)
    for text in texts:
        words = re.findall(r"[\w,'-]+", text)
        for i, word in enumerate(words):
            if canonical(word.strip(",")) != wanted:
                continue
            for before in reversed(words[max(0, i - _COUNT_REACH):i]):
                value = before.strip(",").lower()
                if value.replace(",", "").isdigit():
                    return int(value.replace(",", ""))
                if value in _COUNT_WORDS:
                    return _COUNT_WORDS[value]
    return None
