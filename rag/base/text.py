"""Text utilities every layer shares: the one word tokenizer, the one sentence splitter (with
raw-text offsets), content terms for matching, and numbers as written.

Chinese, Japanese and Korean are written without spaces between words (Korean puts them between
phrases, particles attached), so a `\\w+` run there is a clause, not a word: content terms break
such runs into overlapping character bigrams, the usual keyword unit for these scripts.

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
# Han (with 々), Hiragana, Katakana (full and half width; not the ・ separator) and Hangul.
_CJK = "\u1100-\u11ff\u3005\u3040-\u30fa\u30fc-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
_TERM_RUN = re.compile(f"[{_CJK}]+|(?:(?![{_CJK}])\\w)+")
_CJK_RUN = re.compile(f"[{_CJK}]+")
# Chinese and Japanese (Han, Kana) put no spaces between words; Korean does, between phrases.
_SPACELESS_RUN = re.compile("[\u3005\u3040-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]{3,}")
# Latin stops need a space after them ("3.5", "U.S.-Japan" go on); full-width ones do not, since
# Chinese and Japanese put no space between sentences.
_SENTENCE_END = re.compile(r"[.!?。]+[\"”’')\]]*(?=\s+|$)|[。！？]+[」』）\"”’)]*")
_ENDS_SENTENCE = re.compile(r"[.!?。！？]+[\"”’')\]」』）]*$")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"“‘'(\[]?[A-Z0-9\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af•\-]")


def word_tokens(text: str) -> list[str]:
    """Lower-cased `\\w+` runs: words as written, for counting and for matching a name or a
    number whole (content terms, `terms`, split CJK runs further)."""
    return [w.lower() for w in _WORD.findall(text)]


def word_count(text: str) -> int:
    """Words, for sizing chunks and telling headings from prose: `\\w+` runs, a run of Han or
    Kana counting one word per two characters (a Japanese clause is one run, not one word)."""
    extra = sum((len(run) + 1) // 2 - 1 for run in _SPACELESS_RUN.findall(text))
    return len(_WORD.findall(text)) + extra


def split_sentences(raw: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) within raw[start:end]; a period after an abbreviation, an
    initial or a list number ("1. Heading") does not end a sentence, and neither does a line break:
    a hard-wrapped sentence running over several lines is one span."""
    end = len(raw) if end is None else end
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for match in _SENTENCE_END.finditer(raw, start, end):
        stop = match.end()
        if stop >= end:
            break
        if match.group()[0] not in "。！？" and (
            not _NEXT_STARTS_SENTENCE.match(raw, stop, end) or _false_stop(raw[sentence_start:match.start() + 1])
        ):
            continue
        spans.append((sentence_start, stop))
        sentence_start = stop
        while sentence_start < end and raw[sentence_start].isspace():
            sentence_start += 1
    if sentence_start < end:
        spans.append((sentence_start, end))
    return [(s, e) for s, e in spans if raw[s:e].strip()]


def ends_sentence(text: str) -> bool:
    """Whether `text` closes a sentence: it ends in a stop that `split_sentences` would split at."""
    match = _ENDS_SENTENCE.search(text.rstrip())
    return bool(match) and not _false_stop(text[:match.start() + 1])


def _false_stop(before: str) -> bool:
    """Whether the period closing `before` belongs to an abbreviation, an initial or a list number."""
    if not before.endswith("."):
        return False
    words = before.split()
    token = words[-1].lower().rstrip(".").lstrip("\"“‘'([") if words else ""
    return bool(
        token in ABBREVIATIONS
        or re.fullmatch(r"[a-z]", token)
        or (len(words) == 1 and re.fullmatch(r"\d{1,2}|[ivx]{1,4}", token))
    )


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
    """Content terms: lower-cased, stemmed, stopwords dropped; a run of CJK characters gives its
    overlapping character bigrams (a lone character itself): "高市首相" -> 高市, 市首, 首相."""
    out: list[str] = []
    for run in _TERM_RUN.findall(text):
        if _CJK_RUN.fullmatch(run):
            out += cjk_bigrams(run)
            continue
        word = run.lower()
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            out.append(stem(word))
    return out


def term_set(text: str) -> frozenset[str]:
    """A text's content terms in the one form they are compared in (`canonical`), as a set."""
    return frozenset(canonical(t) for t in terms(text))


def cjk_bigrams(run: str) -> list[str]:
    """Overlapping character pairs of a run of CJK characters; a one-character run is kept whole."""
    return [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]


def numbers(text: str) -> set[str]:
    """Numbers as written (commas dropped): 2%, 2027, 26 -> {'2', '2027', '26'}."""
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}
