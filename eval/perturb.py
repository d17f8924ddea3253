"""Synthetic unanswerable questions for training the answer reader (eval/train_reader.py).

SQuAD 2.0's adversarial questions are written against a paragraph that almost answers them:
a name or a year swapped, a negation added, a word turned into its opposite, a thing the
paragraph mentions but does not give. A reader trained on a few hundred of them learns the
topics of those articles, not the pattern. So each answerable training question is also asked
in altered forms against the very window that answers the original: the window stays the same,
the question no longer matches it, and the label is "does not answer". The alterations are
general English operations (no word list names a thing of any corpus): swap a capitalised name
or a number the window holds for one it does not hold, add "not" after the question's auxiliary,
replace a word by its antonym (rag/base/lexicons/antonyms.txt), or replace the question's rarest
word the window holds by a word from elsewhere in the corpus.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Sequence

from rag.base.lexicon import load_pairs

_NAME = re.compile(r"\b[A-Z][\w'’-]*(?: (?:of |de |the )?[A-Z][\w'’-]*)*")
_NUMBER = re.compile(r"\b\d{1,4}(?:st|nd|rd|th|s)?\b")
# "not" goes right after these; after do/did/does it would go after the subject, and has/had
# are often the main verb ("had not a ruler").
_AUX = re.compile(r"\b(is|are|was|were|can|could|will|would|should)\b", re.I)
_WORD = re.compile(r"\b[a-z][a-z-]{3,}\b")


def _antonyms() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for left, right in load_pairs("antonyms.txt"):
        if " " not in left and " " not in right:
            pairs.setdefault(left, right)
            pairs.setdefault(right, left)
    return pairs


def _replace(question: str, span: tuple[int, int], new: str) -> str:
    return question[:span[0]] + new + question[span[1]:]


def swap_name(question: str, window: str, names: Sequence[str], rng: random.Random) -> str | None:
    """A capitalised name the question shares with the window, swapped for one the window lacks."""
    found = [m for m in _NAME.finditer(question) if m.start() > 0 and m.group() in window]
    pool = [n for n in names if n not in window and n not in question]
    if not found or not pool:
        return None
    m = rng.choice(found)
    return _replace(question, m.span(), rng.choice(pool))


def swap_number(question: str, window: str, rng: random.Random) -> str | None:
    """A number of the question (a year, a count) changed to one the window does not hold."""
    found = [m for m in _NUMBER.finditer(question) if re.sub(r"\D", "", m.group()) in window]
    if not found:
        return None
    m = rng.choice(found)
    digits = re.sub(r"\D", "", m.group())
    suffix = m.group()[len(digits):]
    for _ in range(10):
        value = int(digits) + rng.choice([-1, 1]) * rng.randint(1, 30 if len(digits) >= 3 else 5)
        if value > 0 and str(value) not in window:
            return _replace(question, m.span(), f"{value}{suffix}")
    return None


def negate(question: str, window: str, rng: random.Random) -> str | None:
    """'not' after the question's first auxiliary ("What was built" -> "What was not built")."""
    m = _AUX.search(question)
    if not m or re.search(r"\b(not|never|n't)\b", question, re.I):
        return None
    return question[:m.end()] + " not" + question[m.end():]


def antonym(question: str, window: str, rng: random.Random) -> str | None:
    """A word of the question replaced by its antonym, when the window does not hold that."""
    table = _antonyms()
    found = [m for m in _WORD.finditer(question) if m.group() in table and table[m.group()] not in window.lower()]
    if not found:
        return None
    m = rng.choice(found)
    return _replace(question, m.span(), table[m.group()])


def swap_word(question: str, window: str, words: Sequence[str], rng: random.Random) -> str | None:
    """The question's longest lowercase word the window holds, replaced by a word from elsewhere
    in the corpus: the window then mentions the rest but not what is asked about."""
    found = sorted((m for m in _WORD.finditer(question) if m.group() in window.lower()), key=lambda m: -len(m.group()))
    if not found:
        return None
    old = found[0].group()
    # The same ending keeps the word class most of the time ("population" -> "encounter" no,
    # "population" -> "expedition" yes), so the altered question still reads as a question.
    pool = [w for w in words if w[-2:] == old[-2:] and w != old and w not in window.lower()]
    if not pool:
        return None
    return _replace(question, found[0].span(), rng.choice(pool))


def vocabulary(texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """The capitalised names (not sentence-initial) and the long lowercase words of `texts`."""
    names, words = set(), set()
    for text in texts:
        for m in _NAME.finditer(text):
            name = m.group()
            if m.start() < 2 or text[m.start() - 2] in ".!?":  # its first word may be capitalised only as the start
                name = name.partition(" ")[2]
            if name[:1].isupper():
                names.add(name)
        words.update(w for w in _WORD.findall(text) if len(w) >= 6)
    return sorted(names), sorted(words)


def perturbations(question: str, window: str, names: Sequence[str], words: Sequence[str],
                  rng: random.Random, most: int = 2) -> list[tuple[str, str]]:
    """Up to `most` altered questions the window no longer answers, as (kind, question), each
    of a different kind, kinds tried in a random order."""
    makers: list[tuple[str, Callable[[], str | None]]] = [
        ("name", lambda: swap_name(question, window, names, rng)),
        ("number", lambda: swap_number(question, window, rng)),
        ("negation", lambda: negate(question, window, rng)),
        ("antonym", lambda: antonym(question, window, rng)),
        ("word", lambda: swap_word(question, window, words, rng)),
    ]
    rng.shuffle(makers)
    out: list[tuple[str, str]] = []
    for kind, make in makers:
        altered = make()
        if altered and altered != question:
            out.append((kind, altered))
            if len(out) == most:
                break
    return out
