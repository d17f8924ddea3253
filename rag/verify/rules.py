"""The lexical rules of the support check (numbers, names, polarity, coverage; see `rag.verify`),
applied to a passage analysed once into a `PassageIndex`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.base.lexicon import load_pairs
from rag.base.text import split_sentences
from rag.verify.claims import (
    acronyms_in,
    content_words,
    direction_mentions,
    fold,
    names_in,
    negation_scopes,
    normalise_names,
    number_mentions,
    numbers_in,
    tokens,
    word_units,
)

# General English antonyms (lexicons/antonyms.txt), base forms; -s/-ed/-ing/-er forms are derived below.
_ANTONYM_STEMS = load_pairs("antonyms.txt")


def _forms(word: str) -> set[str]:
    base = word[:-1] if word.endswith("e") else word
    forms = {word, word + "s", base + "ed", base + "ing", base + "er", base + "est"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied", word[:-1] + "ier"}
    return forms


_ANTONYMS = [(_forms(a), _forms(b)) for a, b in _ANTONYM_STEMS]


@dataclass
class PassageIndex:
    text: str
    words: set[str]  # folded tokens (compounds split into their parts)
    free: set[str]  # folded words standing on their own, and whole compounds
    acronyms: dict[str, str]  # initials -> capitalised phrase
    numbers: set[str]
    mentions: dict[str, list[set[str]]]  # number -> the word contexts it appears in
    windows: list[tuple[int, int]]  # (start, end) offsets into text: sentences, then 2-sentence windows
    sentences: list[tuple[int, int]]


def expand_acronyms(claim: str, index: PassageIndex) -> str:
    """Spell out the claim's acronyms that the passage writes in full, for the similarity test."""
    def spell(match: re.Match) -> str:
        return index.acronyms.get(match.group().lower(), match.group())

    return re.sub(r"\b[A-Z]{2,6}\b", lambda m: m.group() if m.group().lower() in index.free else spell(m), claim)


def _group_mentions(mentions: list[tuple[str, set[str]]]) -> dict[str, list[set[str]]]:
    grouped: dict[str, list[set[str]]] = {}
    for value, context in mentions:
        grouped.setdefault(value, []).append(context)
    return grouped


@functools.lru_cache(maxsize=512)
def index_passage(passage_text: str) -> PassageIndex:
    """Cached: an answer's clauses are checked against the same few passages again and again."""
    sentences = []
    for para in re.finditer(r"[^\n]+", passage_text):
        if para.group().strip():
            sentences += split_sentences(passage_text, para.start(), para.end())
    if not sentences:
        sentences = [(0, len(passage_text))]
    windows = list(sentences) + [(a[0], b[1]) for a, b in zip(sentences, sentences[1:])]
    return PassageIndex(
        text=passage_text,
        words={fold(w) for w in tokens(normalise_names(passage_text))},
        free=set(word_units(passage_text)),
        acronyms=acronyms_in(passage_text),
        numbers=numbers_in(passage_text),
        mentions=_group_mentions(number_mentions(passage_text)),
        windows=windows,
        sentences=sentences,
    )


def polarity_conflict(claim: str, window: str) -> bool:
    claim_words = set(content_words(claim))
    window_words = set(content_words(window))
    claim_scopes, window_scopes = negation_scopes(claim), negation_scopes(window)
    for scope in window_scopes:  # passage negates something the claim asserts
        if len(scope & claim_words) >= min(2, len(scope)) and not any(scope & s for s in claim_scopes):
            return True
    # Claim negates something the passage asserts. Only plain negations count here: a claim's
    # "structural rather than incremental" restates a contrast in its own words.
    for scope in negation_scopes(claim, contrasts=False):
        if len(scope & window_words) >= min(2, len(scope)) and not any(scope & s for s in window_scopes):
            return True
    claim_raw = set(tokens(claim))
    window_raw = set(tokens(window))
    for a, b in _ANTONYMS:
        for x, y in ((a, b), (b, a)):
            if claim_raw & x and not claim_raw & y and window_raw & y and not window_raw & x:
                return True
    return direction_conflict(claim, window)


def direction_conflict(claim: str, window: str) -> bool:
    """The claim reports a change (up or down) that the window reports the other way for the
    same thing: each claim direction is matched to the window's direction words whose context
    shares most words with its own, and conflicts only when the best of them all point the other
    way. So "Shares rose 5%" conflicts with "Shares slumped 5%" but not with "Shares rose 5%
    after falling 3%" (the rise is stated, with more of the claim's words around it)."""
    stated = direction_mentions(window)
    for direction, context in direction_mentions(claim):
        if not context:
            continue
        best = {"up": 0, "down": 0}
        for other, around in stated:
            best[other] = max(best[other], _overlap(context, around))
        opposite = best["down" if direction == "up" else "up"]
        if opposite and opposite > best[direction]:
            return True
    return False


def _overlap(a: set[str], b: set[str]) -> int:
    """Shared words, a 6-letter stem counting as the word ("revised"/"revision")."""
    return len(a & b) + len({w[:6] for w in a - b if len(w) >= 6} & {w[:6] for w in b - a if len(w) >= 6})


def numbers_ok(claim: str, index: PassageIndex) -> bool:
    """Every number of the claim is in the passage, in a context sharing a word with the claim's."""
    if not numbers_in(claim) <= index.numbers:
        return False
    for value, context in number_mentions(claim):
        places = index.mentions.get(value, [])
        if context and places and not any(_share_word(context, place) for place in places):
            return False
    return True


def _share_word(a: set[str], b: set[str]) -> bool:
    return bool(a & b) or bool({w[:6] for w in a if len(w) >= 6} & {w[:6] for w in b if len(w) >= 6})


def _name_present(unit: str, index: PassageIndex) -> bool:
    if unit in index.free or unit in index.acronyms:
        return True
    parts = unit.split("-")
    # A claim compound ("France-Germany") is attested by its parts standing alone in the passage;
    # a part found only inside a different compound ("Vice-Minister") does not attest the word.
    return len(parts) > 1 and all(p in index.free or p in index.acronyms for p in parts)


def names_ok(claim: str, index: PassageIndex) -> bool:
    for institutional, phrase in names_in(claim):
        present = sum(1 for w in phrase if _name_present(w, index))
        if present < len(phrase) if institutional else present * 2 < len(phrase):
            return False
    return True


def coverage(claim: str, index: PassageIndex) -> float:
    words = content_words(claim)
    if not words:
        return 1.0
    return sum(1 for w in words if w in index.words or _prefix_match(w, index.words)) / len(words)


def _prefix_match(word: str, vocabulary: set[str]) -> bool:
    """Crude morphology: 'revised'/'revision', 'militarization'/'militarism' share a 6-letter stem."""
    if len(word) < 6:
        return False
    head = word[:6]
    return any(v.startswith(head) for v in vocabulary)


def window_coverage(claim_words: set[str], window: str) -> float:
    if not claim_words:
        return 0.0
    return len(claim_words & set(content_words(window))) / len(claim_words)
