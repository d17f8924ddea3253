"""Text utilities every layer shares: the one word tokenizer, the one sentence splitter (with
raw-text offsets), content terms for matching, and numbers as written.

Offsets always index into the raw text so that a citation can be shown in its document. The
splitter is our own rather than llama-index's node parsers because those do not report offsets
for the furniture-free text we index.
"""

from __future__ import annotations

import re

from rag.base.lexicon import load_pairs, load_words

STOPWORDS = load_words("stopwords.txt")
ABBREVIATIONS = load_words("abbreviations.txt")
NAME_VARIANTS = dict(load_pairs("name_variants.txt"))
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?。]+[\"”’')\]]*(?=\s+|$)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"“‘'(\[]?[A-Z0-9\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af•\-]")


def word_tokens(text: str) -> list[str]:
    """Lower-cased `\\w+` runs: the word boundaries of the index, BM25 and every matcher."""
    return [w.lower() for w in _WORD.findall(text)]


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def split_sentences(raw: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) within raw[start:end]; a period after an abbreviation, an
    initial or a list number ("1. Heading") does not end a sentence."""
    end = len(raw) if end is None else end
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for match in _SENTENCE_END.finditer(raw, start, end):
        stop = match.end()
        if stop >= end:
            break
        if not _NEXT_STARTS_SENTENCE.match(raw, stop, end):
            continue
        words = raw[sentence_start:match.start() + 1].split()
        token = words[-1].lower().rstrip(".").lstrip("\"“‘'([") if words else ""
        if match.group().startswith(".") and (
            token in ABBREVIATIONS
            or re.fullmatch(r"[a-z]", token)
            or (len(words) == 1 and re.fullmatch(r"\d{1,2}|[ivx]{1,4}", token))
        ):
            continue
        spans.append((sentence_start, stop))
        sentence_start = stop
        while sentence_start < end and raw[sentence_start].isspace():
            sentence_start += 1
    if sentence_start < end:
        spans.append((sentence_start, end))
    return [(s, e) for s, e in spans if raw[s:e].strip()]


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


def canonical(word: str) -> str:
    """The one form words are compared in: stemmed, and a country's other names and demonyms
    folded to it ("Americans" -> "us"; lexicons/name_variants.txt)."""
    word = stem(word.lower().replace("’", "'"))
    return NAME_VARIANTS.get(word, word)


def terms(text: str) -> list[str]:
    """Content terms: lower-cased, stemmed, stopwords dropped."""
    return [stem(w) for w in word_tokens(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def numbers(text: str) -> set[str]:
    """Numbers as written (commas dropped): 2%, 2027, 26 -> {'2', '2027', '26'}."""
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
