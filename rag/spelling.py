"""Names as a reader means them: a question's word is found in the documents even when it is
misspelled ("Kishdia" for Kishida) or inflected differently ("Africans" for Africa,
"Revolutionary" for Revolution).

Run-together words count as written apart ("10000" is "10,000", "UserDatagram" is "User
Datagram"). General string rules only (a shared prefix, one edit, a split), no list of names: the same rules hold
for any corpus. A term is matched only when the exact form is absent, so they never override
what the documents do say.
"""

from __future__ import annotations

from bisect import bisect_left

MIN_PREFIX = 5  # a shared stem at least this long counts as the same word...
PREFIX_SHARE = 0.75  # ...when it is this much of the shorter word...
MAX_SUFFIX_GAP = 4  # ...and the two differ in length by at most this ("engine" is not "engineering")
MIN_EDIT_LENGTH = 6  # shorter words are too easy to confuse at one edit ("steal", "steam")
MIN_COMPOUND_PART = 4  # "userdatagram" = "user" + "datagram"; shorter parts match too much


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


def _known(word: str, vocabulary: list[str]) -> bool:
    i = bisect_left(vocabulary, word)
    return i < len(vocabulary) and vocabulary[i] == word


def written_apart(term: str, vocabulary: list[str]) -> str | None:
    """The indexed words a term runs together, as the documents write them: "10000" is
    "10,000" (the index splits numbers at their commas), "userdatagram" is "user datagram"."""
    if term.isdigit() and len(term) > 3:
        groups = f"{int(term):,}".split(",")
        return " ".join(groups) if all(_known(g, vocabulary) for g in groups) else None
    if len(term) >= 2 * MIN_COMPOUND_PART and term.isalpha():
        for cut in range(MIN_COMPOUND_PART, len(term) - MIN_COMPOUND_PART + 1):
            if _known(term[:cut], vocabulary) and _known(term[cut:], vocabulary):
                return f"{term[:cut]} {term[cut:]}"
    return None


def same_stem(a: str, b: str) -> bool:
    """Two forms of one word by the shared-stem rule ("revising"/"revise", not "engine"/"engineering")."""
    if a == b:
        return True
    if min(len(a), len(b)) < MIN_PREFIX or a[:MIN_PREFIX] != b[:MIN_PREFIX]:
        return False
    return (_common_prefix(a, b) >= PREFIX_SHARE * min(len(a), len(b))
            and abs(len(a) - len(b)) <= MAX_SUFFIX_GAP)


def variants(term: str, vocabulary: list[str]) -> set[str]:
    """`term` and the indexed words (sorted `vocabulary`) that are forms of it by `same_stem`."""
    found = {term}
    if len(term) < MIN_PREFIX or term.isdigit():
        return found
    j = bisect_left(vocabulary, term[:MIN_PREFIX])
    while j < len(vocabulary) and vocabulary[j].startswith(term[:MIN_PREFIX]):
        if same_stem(term, vocabulary[j]):
            found.add(vocabulary[j])
        j += 1
    return found


def resembles(term: str, vocabulary: list[str]) -> str | None:
    """The indexed term (from the sorted `vocabulary`) that `term` most likely means, or None.

    Tried in order: the exact term; the words it runs together (`written_apart`); a word
    sharing a long stem with it; one edit away (the candidates share the first letter, which
    keeps the scan to a slice of the vocabulary)."""
    if _known(term, vocabulary):
        return term
    apart = written_apart(term, vocabulary)
    if apart:
        return apart
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
