"""A yes/no question's verdict, or a choice question's option, decided from the quoted sentences
or not at all.

Two kinds of question get one:
- comparisons of named things ("Are Local H and For Against both from the United States?",
  "Were Scott Derrickson and Ed Wood of the same nationality?"): the attribute found for each
  compared thing is compared ("American" and "American": yes; "American" and "English": no);
  for "both Z" each thing's sentences must say Z, and a thing whose sentences are there but say
  something else makes it a no;
- plain propositions ("Did the treaty enter into force?"): yes when a quoted sentence states
  the question's content terms without a negation among them, no when it states them negated.

Anything else (an attribute not found for one of the things, a sentence that only half states
the proposition) gets no verdict: the answer is the quotes alone.

A choice question ("Who was born first, X or Y?", "Which band has more members, X or Y?") gets
the option its quotes decide (`choose`): the earlier or later year, the larger or smaller count
each option's quotes give; otherwise no option is named. Word lists live in
rag/base/lexicons/ (nationalities.txt, regions.txt, negations.txt,
number_words.txt).
"""

from __future__ import annotations

import re

from rag.base.lexicon import load_pairs, load_words
from rag.base.text import canonical, term_set, terms
from rag.compared import AUX, Comparison, choice, comparison, names
from rag.dates import first_day
from rag.hops import COUNTRY_FORMS, about

NEGATIONS = load_words("negations.txt")
_REGION_FORMS = dict(load_pairs("regions.txt"))  # "pennsylvania" -> us
_COMPARATIVES = load_words("comparatives.txt")
_COUNT_WORDS = {w: int(n) for w, n in load_pairs("number_words.txt") if w not in ("a", "an")}
_UK_NATIONS = {"england", "scotland", "wales", "uk"}  # one nationality: British
# Words of a "both Z" attribute that say nothing about Z itself ("both considered rock bands").
_FRAMING = {"both", "considered", "described", "located", "based", "type", "kind", "used", "known", "classified",
            "same", "also", "each", "one", "part", "member", "example", "form"}
_PLACE_NOUNS = {"city", "town", "country", "state", "county", "neighborhood", "neighbourhood", "region", "province",
                "district", "area", "island", "continent"}
_NATIONALITY_NOUNS = {"nationality", "country", "citizenship", "origin"}
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


def _attribute_terms(phrase: str) -> set[str]:
    countries = set(nationality_forms(phrase, regions=False))
    cleaned = phrase
    for form in sorted(COUNTRY_FORMS, key=len, reverse=True):
        cleaned = re.sub(rf"(?<![\w.]){re.escape(form)}(?![\w])", " ", cleaned, flags=re.I)
    words = term_set(cleaned) - {canonical(w) for w in _FRAMING}
    return words | countries


def _texts_about(thing: str, quotes: list[str], contexts: list[str]) -> list[str]:
    """The quotes about `thing`: those naming it, or quoted from a passage that opens with it."""
    return [quote for quote, context in zip(quotes, contexts) if about(thing, quote, context[:_ABOUT_CHARS])]


def _own_texts(thing: str, quotes: list[str], contexts: list[str]) -> list[str]:
    """The quotes from passages about `thing`: their opening names every word of it, a word
    written out in full counting for its short form ("Edward Davis Wood Jr." for "Ed Wood")."""
    def opens_with(context: str) -> bool:
        opening = context[:_OWN_CHARS]
        have = term_set(opening)
        return names(thing, opening) or all(any(h.startswith(w) for h in have) for w in term_set(thing))

    return [quote for quote, context in zip(quotes, contexts) if opens_with(context)]


def compare(c: Comparison, quotes: list[str], contexts: list[str]) -> str | None:
    groups = [_texts_about(thing, quotes, contexts) for thing in c.things]
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
        own = [_own_texts(thing, quotes, contexts) or g for thing, g in zip(c.things, groups)]
        years = [_YEAR.search(" ".join(texts)) for texts in own]
        if not all(years):
            return None
        asked = int(century.group(1))
        return "yes" if all((int(y.group()) - 1) // 100 + 1 == asked for y in years) else "no"
    wanted = _attribute_terms(c.attribute)
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


# A choice question's comparative: which option wins by what its quotes say.
_EARLIER = re.compile(r"\b(?:first|earlier|earliest|older|oldest|sooner)\b", re.I)
_LATER = re.compile(r"\b(?:younger|youngest|newer|newest|later|latest|more recent(?:ly)?|most recent(?:ly)?)\b", re.I)
_MORE = re.compile(r"\b(?:more|most)\s+([\w-]+)(?:\s+([\w-]+))?", re.I)  # "more species", "more studio albums"
_FEWER = re.compile(r"\b(?:fewer|fewest|less)\s+([\w-]+)(?:\s+([\w-]+))?", re.I)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
# "Who had the best singles ranking?": a rank is a place ("World No. 7"), the smaller the better.
_RANKING = re.compile(r"\b(?:best|better|highest|higher|top)\s+((?:[\w-]+\s+){0,2}?)(?:rank|ranking|ranked|position)\b", re.I)
_PLACE = re.compile(r"\b(?:No\.|number|#)\s?(\d{1,4})\b", re.I)
_RANK_REACH = 6  # a place belongs to the nearest qualifier ("No. 7 in singles") this many words away
_COUNT_REACH = 3  # a count stands at most this many words before what it counts ("four studio albums")


def _bracketed(thing: str, quotes: list[str]) -> list[str]:
    """The dates written in brackets right after `thing`'s name ("Ibn Arabi (1165–1240)"): its own
    even in a passage about something else."""
    pattern = re.compile(rf"{re.escape(thing)}\s*\(([^()]*)\)")
    return [m.group(1) for quote in quotes for m in pattern.finditer(quote)]


def _when(texts: list[str]) -> tuple[int, str] | None:
    """The first year the quotes give, with the day they write out in that year ("1941-06-20"),
    so two options of the same year are still told apart; "" when no day is written."""
    text = " ".join(texts)
    found = _YEAR.search(text)
    if not found:
        return None
    day = first_day(text) or ""
    return int(found.group()), day if day.startswith(found.group()) else ""


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


def _rank(qualifier: set[str], texts: list[str]) -> int | None:
    """The best place the texts give ("reaching a career-high of World No. 7 in singles"), of
    the ranking the question qualifies ("singles"): a place counts only within a few words of
    every qualifying word, so "No. 1 in doubles" is no singles ranking."""
    best = None
    for text in texts:
        words = re.findall(r"[\w.#]+", text)
        lowered = [canonical(w.strip(".")) for w in words]
        for match in _PLACE.finditer(text):
            at = len(re.findall(r"[\w.#]+", text[:match.start()]))
            near = set(lowered[max(0, at - _RANK_REACH):at + _RANK_REACH])
            if qualifier <= near:
                place = int(match.group(1))
                best = place if best is None else min(best, place)
    return best


def _ranking(question: str) -> set[str] | None:
    """The qualifier of a ranking a choice question compares ({"singles"} for "the best singles
    ranking"), or None when it compares no ranking."""
    found = _RANKING.search(question)
    return None if found is None else term_set(found.group(1))


# "Which band", "Which of the following", "Who": the words that ask, not what is asked of the options.
_ASKING = re.compile(r"^\s*(?:(?:which|what)(?:\s+(?:one|ones))?(?:\s+of\s+(?:the\s+following|these|them|the\s+two))?"
                     r"(?:\s+[a-z][\w-]*)?|who|whom)\b", re.I)
_STATED_BY_WINNER = 1.0  # the chosen option's quotes state every word the question asks of it...
_STATED_BY_OTHER = 0.5  # ...and the other option's quotes at most half of them


def _asked_of_options(question: str, options: tuple[str, str]) -> set[str]:
    """What a choice question asks of its options beyond naming them ("Which band is from
    England, X or Y?" -> {england}); empty when it compares a value ("more", "older", "best")."""
    words = {w.lower() for w in re.findall(r"[\w-]+", question)}
    if words & _COMPARATIVES:
        return set()
    body = question
    for option in options:
        body = body.replace(option, " ")
    return _attribute_terms(_ASKING.sub(" ", body, count=1))


def _stated_share(wanted: set[str], texts: list[str]) -> float:
    said = set()
    for text in texts:
        said |= term_set(text) | set(nationality_forms(text))
    return len(wanted & said) / len(wanted)


def _chosen_by_property(question: str, options: tuple[str, str], groups: list[list[str]]) -> str | None:
    """"Which band is from England, Fireflight or Dirty Pretty Things?": the option whose quotes
    state what the question asks ("an English band") when the other's do not."""
    wanted = _asked_of_options(question, options)
    if not wanted:
        return None
    shares = [_stated_share(wanted, g) for g in groups]
    for i in (0, 1):
        if shares[i] >= _STATED_BY_WINNER and shares[1 - i] <= _STATED_BY_OTHER:
            return options[i]
    return None


def _counted(found: re.Match, options: tuple[str, str]) -> str:
    """The noun a "more"/"fewer" counts: its second word ("more studio albums") unless that word
    begins an option ("more species Eucryphia or Lepidozamia?")."""
    first, second = found.group(1), found.group(2)
    option_words = {w for option in options for w in term_set(option)}
    return second if second and canonical(second) not in option_words else first


def gives_value(question: str, text: str) -> bool:
    """Whether `text` gives what a choice question compares its options by: a year for "Which
    was released first, X or Y?", a count of the noun for "Which genus has more species?"; False
    for any other question (a choice by property, a yes/no question)."""
    if choice(question) is None:
        return False
    if _LATER.search(question) or _EARLIER.search(question):
        return _YEAR.search(text) is not None
    qualifier = _ranking(question)
    if qualifier is not None:
        return _rank(qualifier, [text]) is not None
    more = _MORE.search(question) or _FEWER.search(question)
    return more is not None and count_of(_counted(more, choice(question)), [text]) is not None


def choose(question: str, quotes: list[str], contexts: list[str] | None = None) -> str | None:
    """The option a choice question ("Who was born first, X or Y?", "Which genus has more
    species, X or Y?", "Which band is from England, X or Y?") picks by what the quotes about each
    option say: the earlier or later year, the larger or smaller count, or the one option whose
    quotes state what the question asks of it; None when an option's quotes do not give the
    value, the values tie, or both (or neither) state it."""
    options = choice(question)
    if options is None:
        return None
    contexts = contexts if contexts is not None else quotes
    groups = [_texts_about(option, quotes, contexts) for option in options]
    if not all(groups):
        return None
    # The earlier/later words are checked first: "more recently" is a date, not a count.
    later = _LATER.search(question)
    if later or _EARLIER.search(question):
        # A year is an option's own only in a passage about it: "Adrian Conan Doyle (1910–1970)
        # was the son of Sir Arthur Conan Doyle" gives no year of Arthur's.
        values = [_when(_own_texts(option, quotes, contexts) or _bracketed(option, quotes)) for option in options]
        if all(values) and values[0][0] == values[1][0] and not (values[0][1] and values[1][1]):
            return None  # the same year, and no days to tell them apart
        pick = max if later else min
    elif _ranking(question) is not None:
        qualifier = _ranking(question)
        values = [_rank(qualifier, g) for g in groups]
        pick = min
    else:
        more, fewer = _MORE.search(question), _FEWER.search(question)
        if not (more or fewer):
            return _chosen_by_property(question, options, groups)
        noun = _counted(more or fewer, options)
        values = [count_of(noun, g) for g in groups]
        pick = max if more else min
    if any(v is None for v in values) or values[0] == values[1]:
        return None
    return options[values.index(pick(values))]
