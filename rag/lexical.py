"""Word-level matching shared by BM25 retrieval, the extractive answerer and the support check."""

from __future__ import annotations

import re

from ingest.text import word_tokens

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves also according said says say tell told describe described explain mentioned
mention document documents brief briefs article text much many
""".split())


def stem(word: str) -> str:
    """Plural and possessive folding only: cheap, predictable, and enough for briefing prose."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Content terms: lower-cased, stemmed, stopwords dropped."""
    return [stem(w) for w in word_tokens(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


_NUMBER = re.compile(r"\d")


def numbers(text: str) -> set[str]:
    """Numbers as written (commas dropped): 2%, 2027, 26 -> {'2', '2027', '26'}."""
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
