"""Names as a reader means them: a question's word is found in the documents even when it is
misspelled ("Kishdia" for Kishida) or inflected differently ("Africans" for Africa,
"Revolutionary" for Revolution).

General string rules only (a shared prefix, one edit), no list of names: the same rules hold
for any corpus. A term is matched only when the exact form is absent, so they never override
what the documents do say.
"""

from __future__ import annotations

from bisect import bisect_left

MIN_PREFIX = 5  # a shared stem at least this long counts as the same word...
PREFIX_SHARE = 0.75  # ...when it is this much of the shorter word...
MAX_SUFFIX_GAP = 4  # ...and the two differ in length by at most this ("engine" is not "engineering")
MIN_EDIT_LENGTH = 6  # shorter words are too easy to confuse at one edit ("steal", "steam")


def edit_distance_at_most_one(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours (Damerau) apart, or equal."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def resembles(term: str, vocabulary: list[str]) -> str | None:
    """The indexed term (from the sorted `vocabulary`) that `term` most likely means, or None.

    Tried in order: the exact term; a word sharing a long stem with it; one edit away (the
    candidates share the first letter, which keeps the scan to a slice of the vocabulary)."""
    i = bisect_left(vocabulary, term)
    if i < len(vocabulary) and vocabulary[i] == term:
        return term
    if term.isdigit() or len(term) < MIN_PREFIX:
        return None
    stem = term[:MIN_PREFIX]
    j = bisect_left(vocabulary, stem)
    best: str | None = None
    while j < len(vocabulary) and vocabulary[j].startswith(stem):
        word = vocabulary[j]
        shared = _common_prefix(term, word)
        close = shared >= PREFIX_SHARE * min(len(term), len(word)) and abs(len(term) - len(word)) <= MAX_SUFFIX_GAP
        if close and (best is None or shared > _common_prefix(term, best)):
            best = word
        j += 1
    if best or len(term) < MIN_EDIT_LENGTH:
        return best
    j = bisect_left(vocabulary, term[0])
    while j < len(vocabulary) and vocabulary[j].startswith(term[0]):
        word = vocabulary[j]
        if abs(len(word) - len(term)) <= 1 and edit_distance_at_most_one(term, word):
            return word
        j += 1
    return None
