"""A choice question's option ("Who was born first, X or Y?", "Which band has more members, X or
Y?", "Which band is from England, X or Y?"), decided from the quoted sentences about each option
or not at all (`choose`): the earlier or later year, the larger or smaller count, the better
ranking, the more or less frequent (rag/base/lexicons/frequencies.txt), or the one option whose quotes state what the question asks of it. When the quotes do
not decide, no option is named. The comparative words that ask for a value rather than a
property are rag/base/lexicons/comparatives.txt.
"""

from __future__ import annotations

import re

from rag.base.lexicon import load_groups, load_words
from rag.base.text import canonical, term_set
from rag.compared import choice
from rag.dates import first_day
from rag.verdict import YEAR, attribute_terms, count_of, nationality_forms, own_texts, texts_about

_COMPARATIVES = load_words("comparatives.txt")
_PER_YEAR = {word: int(n) for n, words in load_groups("frequencies.txt").items() for word in words}


# A choice question's comparative: which option wins by what its quotes say.
_EARLIER = re.compile(r"\b(?:first|earlier|earliest|older|oldest|sooner)\b", re.I)
_LATER = re.compile(r"\b(?:younger|youngest|newer|newest|later|latest|more recent(?:ly)?|most recent(?:ly)?)\b", re.I)
_MORE = re.compile(r"\b(?:more|most)\s+([\w-]+)(?:\s+([\w-]+))?", re.I)  # "more species", "more studio albums"
_FEWER = re.compile(r"\b(?:fewer|fewest|less)\s+([\w-]+)(?:\s+([\w-]+))?", re.I)
# "Who had the best singles ranking?": a rank is a place ("World No. 7"), the smaller the better.
_RANKING = re.compile(r"\b(?:best|better|highest|higher|top)\s+((?:[\w-]+\s+){0,2}?)(?:rank|ranking|ranked|position)\b", re.I)
# "Which magazine is published more often?": issues a year (rag/base/lexicons/frequencies.txt).
_OFTENER = re.compile(r"\b(?:more|most)\s+(?:often|frequent|frequently)\b", re.I)
_RARER = re.compile(r"\b(?:less|least)\s+(?:often|frequent|frequently)\b", re.I)
_FREQUENCY = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _PER_YEAR), key=len, reverse=True)) + r")\b")
_PLACE = re.compile(r"\b(?:No\.|number|#)\s?(\d{1,4})\b", re.I)
_RANK_REACH = 6  # a place belongs to the nearest qualifier ("No. 7 in singles") this many words away


def _bracketed(thing: str, quotes: list[str]) -> list[str]:
    """The dates written in brackets right after `thing`'s name ("Ibn Arabi (1165–1240)"): its own
    even in a passage about something else."""
    pattern = re.compile(rf"{re.escape(thing)}\s*\(([^()]*)\)")
    return [m.group(1) for quote in quotes for m in pattern.finditer(quote)]


def _when(texts: list[str]) -> tuple[int, str] | None:
    """The first year the quotes give, with the day they write out in that year ("1941-06-20"),
    so two options of the same year are still told apart; "" when no day is written."""
    text = " ".join(texts)
    found = YEAR.search(text)
    if not found:
        return None
    day = first_day(text) or ""
    return int(found.group()), day if day.startswith(found.group()) else ""


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


def _per_year(texts: list[str]) -> int | None:
    """How often the texts say a thing appears, in issues a year: the first frequency word
    written in lower case ("an American biweekly magazine"; "Weekly" in a title names it), or
    the one it changed to ("changing it from a weekly publication to a monthly one")."""
    for text in texts:
        found = list(_FREQUENCY.finditer(text))
        if not found:
            continue
        first = found[0]
        if re.search(r"\bfrom\s+(?:a\s+|an\s+)?$", text[:first.start()]):
            later = next((m for m in found[1:] if re.search(r"\bto\s+(?:a\s+|an\s+)?$", text[:m.start()])), None)
            first = later or first
        return _PER_YEAR[first.group()]
    return None


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
    return attribute_terms(_ASKING.sub(" ", body, count=1))


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
        return YEAR.search(text) is not None
    if _OFTENER.search(question) or _RARER.search(question):
        return _per_year([text]) is not None
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
    groups = [texts_about(option, quotes, contexts) for option in options]
    if not all(groups):
        return None
    # The earlier/later words are checked first: "more recently" is a date, not a count.
    later = _LATER.search(question)
    if later or _EARLIER.search(question):
        # A year is an option's own only in a passage about it: "Adrian Conan Doyle (1910–1970)
        # was the son of Sir Arthur Conan Doyle" gives no year of Arthur's.
        values = [_when(own_texts(option, quotes, contexts) or _bracketed(option, quotes)) for option in options]
        if all(values) and values[0][0] == values[1][0] and not (values[0][1] and values[1][1]):
            return None  # the same year, and no days to tell them apart
        pick = max if later else min
    elif _OFTENER.search(question) or _RARER.search(question):
        # "published more often": issues a year, from the passages about each option.
        values = [_per_year(own_texts(option, quotes, contexts) or g) for option, g in zip(options, groups)]
        pick = max if _OFTENER.search(question) else min
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
