"""Offline support check: does a passage back a sentence written about it?

Used after LLM generation to verify every citation, and by the eval. No model beyond the bundled
sentence embedder runs here; the check is a similarity test plus lexical agreement rules:

1. **Similarity**: the best cosine between the claim and any passage sentence, or any window of
   two adjacent sentences (a claim often merges two), must reach `SIM_THRESHOLD`. Acronyms the
   passage spells out are expanded in the claim first ("NSS" -> "National Security Strategy").
2. **Numbers**: every number in the claim (digits, number words, fractions such as "two-thirds")
   appears in the passage, next to at least one of the words it stands next to in the claim
   (a claim's "three years" is not backed by "three security documents"). Catches wrong
   figures, dates and years.
3. **Names**: every capitalised name or acronym in the claim appears in the passage (demonyms and
   capitals folded: Chinese/Beijing -> China, U.S./United States/American -> US; acronyms match
   the initials of a capitalised phrase). An institutional name ("Minister of Defense") needs all
   its words, standing on their own ("Vice-Minister" does not attest "Minister"); a bare run of
   names ("Choi Eunmi") needs half of them, as people are often named by surname alone.
4. **Polarity**: no negation mismatch between the claim and the best-matching passage window
   (a not/no/never -- or, on the passage side, a "rather than" / "prefer X over Y" -- whose scope
   covers words of the other side; "no one other than X" is read as "only X"), and no antonym
   swap (raised vs lowered, positive vs negative ...).
5. **Coverage**: at least half of the claim's content words occur in the passage, so a claim
   that adds facts the passage does not state ("... and predicted the government would
   collapse") fails.

The best-matching window (used for polarity, and as the cited span) is the one most similar to
the claim with a bonus for sharing its words, so a short heading does not win on similarity alone.

`support_score` folds these into one number in 0..1 (the similarity, halved for every failed
lexical rule and then kept below the threshold); `supports` is `support_score >=
SUPPORT_THRESHOLD`. Thresholds were tuned on eval/support_pairs.jsonl (77 labelled pairs; see
tests/test_verify.py, which measures accuracy, precision and recall on them). Accuracy is flat
for SIM_THRESHOLD anywhere in 0.45-0.60, so the similarity bar is not a fitted knife-edge; the
lexical rules do most of the work. Known misses: a wrong name that the passage mentions in
another role ("established under Kishida" when it says "under Abe ... revised under Kishida"),
and contradictions worded without negation ("upholding" vs "reconsidering").
"""

from __future__ import annotations

import functools
import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ingest.text import split_sentences
from rag.lexical import STOPWORDS, stem
from rag.types import Citation, Passage, Span

SIM_THRESHOLD = 0.55  # best claim-to-window cosine needed
COVERAGE_THRESHOLD = 0.5  # share of the claim's content words found in the passage
SUPPORT_THRESHOLD = SIM_THRESHOLD
FAIL_FACTOR = 0.5  # support_score is multiplied by this for every failed lexical rule

# --- normalisation --------------------------------------------------------------------------

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "dozen": 12, "twice": 2, "double": 2, "doubled": 2, "doubling": 2, "triple": 3, "tripled": 3,
}
_ONE = {"one": 1, "a": 1, "an": 1}
_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4, "fourths": 4,
    "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "tenth": 10, "tenths": 10,
}
_FRACTION = re.compile(
    r"\b(one|a|two|three|four|five|six|seven|eight|nine)[\s-]+(" + "|".join(_DENOMINATORS) + r")\b", re.I
)
_DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORDS = re.compile(r"[A-Za-z]+")

# Name variants folded before names are compared (after plural/possessive stemming).
_NAME_ALIASES = {
    "american": "us", "america": "us", "usa": "us", "chinese": "china", "beijing": "china",
    "japanese": "japan", "tokyo": "japan", "korean": "korea", "seoul": "korea", "rok": "korea",
    "russian": "russia", "moscow": "russia", "pyongyang": "korea", "taiwanese": "taiwan", "taipei": "taiwan",
    "british": "uk", "britain": "uk", "european": "europe", "indian": "india", "australian": "australia",
    "philippine": "philippines", "filipino": "philippines",
}
_US = re.compile(r"\bU\.\s?S\.(?:\s?A\.)?|\bU\.S\b|\bUnited States(?: of America)?\b|\bUS\b")
_UK = re.compile(r"\bU\.K\.|\bUnited Kingdom\b|\bUK\b")

_NEGATORS = {"not", "no", "never", "nor", "neither", "none", "without", "cannot", "nobody", "nothing"}
_PREFERENCE = {"favor", "favour", "prefer", "choose", "chose", "prioritize", "prioritise", "pick", "select"}
_ANTONYM_STEMS = [  # base forms; -s/-ed/-ing/-er forms are derived below
    ("positive", "negative"), ("raise", "lower"), ("raise", "cut"), ("raise", "reduce"), ("increase", "decrease"),
    ("increase", "cut"), ("increase", "reduce"), ("rise", "fall"), ("rise", "recede"), ("rise", "decline"),
    ("rose", "fell"), ("high", "low"), ("more", "less"), ("more", "fewer"), ("strengthen", "weaken"),
    ("strong", "weak"), ("support", "oppose"), ("accept", "reject"), ("approve", "reject"), ("win", "lose"),
    ("won", "lost"), ("gain", "loss"), ("expand", "shrink"), ("expand", "narrow"), ("grow", "shrink"),
    ("upgrade", "downgrade"), ("ally", "adversary"), ("success", "failure"), ("succeed", "fail"),
    ("agree", "disagree"), ("legal", "illegal"), ("likely", "unlikely"), ("early", "late"),
    ("lift", "impose"), ("easy", "difficult"), ("easy", "hard"), ("benefit", "harm"),
    ("improve", "worsen"), ("ahead", "behind"), ("maximum", "minimum"), ("join", "leave"),
    ("allow", "ban"), ("allow", "prohibit"), ("permit", "prohibit"),
    ("welcome", "condemn"), ("praise", "criticize"), ("ease", "tighten"), ("hawkish", "dovish"),
]


def _forms(word: str) -> set[str]:
    base = word[:-1] if word.endswith("e") else word
    forms = {word, word + "s", base + "ed", base + "ing", base + "er", base + "est"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied", word[:-1] + "ier"}
    return forms


_ANTONYMS = [(_forms(a), _forms(b)) for a, b in _ANTONYM_STEMS]


def _tokens(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"\w+", text.replace("’", "'"))]


def _fold(word: str) -> str:
    word = stem(word.lower().replace("’", "'"))
    return _NAME_ALIASES.get(word, word)


_DASHES = re.compile(r"[‐‑‒–—]")
_FISCAL = re.compile(r"\bFY\s?'?(\d{2,4})\b")


def _normalise_names(text: str) -> str:
    text = _FISCAL.sub(r"fiscal year \1", text)
    return _UK.sub("UK", _US.sub("US", text))


def numbers_in(text: str) -> set[str]:
    """Numbers a sentence states: digits (commas dropped), number words, fractions as 'n/d'."""
    found: set[str] = set()

    def fraction(match: re.Match) -> str:
        num = match.group(1).lower()
        n = _ONE.get(num) or _NUMBER_WORDS.get(num)
        found.add(f"{n}/{_DENOMINATORS[match.group(2).lower()]}")
        return " "

    text = _FRACTION.sub(fraction, text)
    found |= {n.replace(",", "").rstrip(".") for n in _DIGITS.findall(text)}
    found |= {str(_NUMBER_WORDS[w.lower()]) for w in _WORDS.findall(text) if w.lower() in _NUMBER_WORDS}
    return {n[:-2] if n.endswith(".0") else n for n in found}


NUMBER_CONTEXT = 3  # content words each side of a number that say what it counts
# Retrieval's stopwords include words that name what a number counts ("Article 9", "5 documents").
_CONTEXT_STOP = STOPWORDS - {"article", "document", "documents", "brief", "briefs", "text", "before", "after",
                             "over", "under", "above", "below", "more", "most", "up", "down"}


def number_mentions(text: str) -> list[tuple[str, set[str]]]:
    """Each number stated, with the content words around it: "forward by two years, achieving it
    early in FY2025" -> ("2", {forward, year, achieving, early}), ("2025", {...}). A claim's "three
    years" is not backed by a passage's "three security documents"."""
    text = re.sub(r"(?<=\d)\s?%", " percent", _normalise_names(text))
    text = _FRACTION.sub(lambda m: f" {(_ONE.get(m.group(1).lower()) or _NUMBER_WORDS.get(m.group(1).lower()))}"
                                   f"/{_DENOMINATORS[m.group(2).lower()]} ", text)
    items: list[tuple[str, str]] = []  # ("num", value) | ("word", folded)
    for token in re.findall(r"\d+/\d+|\d[\d,]*(?:\.\d+)?|[A-Za-z][\w'’]*", text):
        low = token.lower()
        if token[0].isdigit():
            value = token.replace(",", "").rstrip(".")
            items.append(("num", value[:-2] if value.endswith(".0") else value))
        elif low in _NUMBER_WORDS:
            items.append(("num", str(_NUMBER_WORDS[low])))
        elif low not in _CONTEXT_STOP and len(low) > 1:
            items.append(("word", _fold(low)))
    mentions = []
    for i, (kind, value) in enumerate(items):
        if kind != "num":
            continue
        left = [v for k, v in reversed(items[:i]) if k == "word"][:NUMBER_CONTEXT]
        right = [v for k, v in items[i + 1:] if k == "word"][:NUMBER_CONTEXT]
        mentions.append((value, set(left) | set(right)))
    return mentions


_CAP_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:of|for|the|de)\s+[A-Z][\w'’.-]*|\s+[A-Z][\w'’.-]*)*")
_NAME_GLUE = {"of", "for", "the", "de"}


def _units(text: str) -> list[str]:
    """Words and hyphenated compounds ("Japan-US-Korea"), folded; compound parts joined by '-'."""
    # An em or en dash between words separates phrases ("2025—March 2026"), it joins no compound.
    text = _DASHES.sub("-", re.sub(r"[—–]", " ", _normalise_names(text))).replace("’", "'")
    return ["-".join(_fold(p) for p in m.split("-") if p) for m in re.findall(r"[\w']+(?:-[\w']+)*", text)]


def names_in(text: str) -> list[tuple[bool, list[str]]]:
    """Capitalised phrases (names, acronyms) as (institutional, folded words or compounds).

    The sentence's first word counts only when it is not an ordinary word written capitalised
    (a stopword); everything else capitalised is taken to be a name. A phrase with "of"/"for"
    ("Minister of Defense") is institutional: all its words must match; a bare run of names
    ("Choi Eunmi") matches on half its words, since people are often named by surname alone.
    """
    text = _DASHES.sub("-", _normalise_names(text))
    phrases = []
    for match in _CAP_RUN.finditer(text):
        raw = [w for w in re.findall(r"[\w']+(?:-[\w']+)*", match.group().replace("’", "'"))]
        institutional = any(w.lower() in _NAME_GLUE for w in raw[1:-1])
        words = [w for w in raw if w.lower() not in _NAME_GLUE]
        words = [w for w in words if not (w.lower() in STOPWORDS and not w.isupper())]
        folded = ["-".join(_fold(p) for p in w.split("-") if p) for w in words if len(w) > 1 and not w.isdigit()]
        if folded:
            phrases.append((institutional, folded))
    return phrases


@dataclass
class _PassageIndex:
    text: str
    words: set[str]  # folded tokens (compounds split into their parts)
    free: set[str]  # folded words standing on their own, and whole compounds
    acronyms: dict[str, str]  # initials -> capitalised phrase
    numbers: set[str]
    mentions: dict[str, list[set[str]]]  # number -> the word contexts it appears in
    windows: list[tuple[int, int]]  # (start, end) offsets into text: sentences, then 2-sentence windows
    sentences: list[tuple[int, int]]


def _acronyms(text: str) -> dict[str, str]:
    """Initials of every run of 2-6 capitalised words -> that run ("nss" -> "National Security Strategy")."""
    out: dict[str, str] = {}
    for match in _CAP_RUN.finditer(_normalise_names(text)):
        words = [w for w in re.findall(r"[\w']+", match.group()) if w.lower() not in _NAME_GLUE and w[0].isupper()]
        for i in range(len(words)):
            for j in range(i + 2, min(len(words), i + 6) + 1):
                out.setdefault("".join(w[0].lower() for w in words[i:j]), " ".join(words[i:j]))
    return out


def _expand_acronyms(claim: str, index: "_PassageIndex") -> str:
    """Spell out the claim's acronyms that the passage writes in full, for the similarity test."""
    def spell(match: re.Match) -> str:
        return index.acronyms.get(match.group().lower(), match.group())

    return re.sub(r"\b[A-Z]{2,6}\b", lambda m: m.group() if m.group().lower() in index.free else spell(m), claim)


def _content(text: str) -> list[str]:
    return [_fold(w) for w in _tokens(_normalise_names(text)) if w not in STOPWORDS and not w.isdigit() and len(w) > 1]


def _group_mentions(mentions: list[tuple[str, set[str]]]) -> dict[str, list[set[str]]]:
    grouped: dict[str, list[set[str]]] = {}
    for value, context in mentions:
        grouped.setdefault(value, []).append(context)
    return grouped


@functools.lru_cache(maxsize=512)
def _index(passage_text: str) -> _PassageIndex:
    sentences = []
    for para in re.finditer(r"[^\n]+", passage_text):
        if para.group().strip():
            sentences += split_sentences(passage_text, para.start(), para.end())
    if not sentences:
        sentences = [(0, len(passage_text))]
    windows = list(sentences) + [(a[0], b[1]) for a, b in zip(sentences, sentences[1:])]
    return _PassageIndex(
        text=passage_text,
        words={_fold(w) for w in _tokens(_normalise_names(passage_text))},
        free=set(_units(passage_text)),
        acronyms=_acronyms(passage_text),
        numbers=numbers_in(passage_text),
        mentions=_group_mentions(number_mentions(passage_text)),
        windows=windows,
        sentences=sentences,
    )


# --- the rules ----------------------------------------------------------------------------------


_EXCLUSIVE = {"than", "except", "besides", "apart", "but"}  # "no country other than the US" = "only the US"


def _scopes(text: str, contrasts: bool = True) -> list[set[str]]:
    """Content words governed by each negation in `text` (the next few content words).

    With `contrasts`, "rather than X", "instead of X" and "prefer/favor ... over X" count as
    negating X too. "no X other than Y" is an exclusive ("only Y"), not a negation.
    """
    words = re.findall(r"[\w']+|[,;:—–()\"“”]", _normalise_names(text).replace("’", "'").lower())
    scopes = []
    for i, w in enumerate(words):
        negated = w in _NEGATORS or w.endswith("n't")
        if contrasts and not negated:
            negated = (
                (w == "than" and i and words[i - 1] == "rather")
                or (w == "of" and i and words[i - 1] == "instead")
                or (w == "over" and any(stem(p) in _PREFERENCE or p in _PREFERENCE for p in words[max(0, i - 8):i]))
            )
        if not negated:
            continue
        scope: set[str] = set()
        exclusive = False
        for nxt in words[i + 1:]:
            if not re.match(r"\w", nxt) or len(scope) >= 4:
                break
            if nxt in _EXCLUSIVE and w in {"no", "none", "nothing", "nobody"}:
                exclusive = True
                break
            if nxt not in STOPWORDS and nxt not in _NEGATORS and len(nxt) > 1:
                scope.add(_fold(nxt))
        if scope and not exclusive:
            scopes.append(scope)
    return scopes


def _polarity_conflict(claim: str, window: str) -> bool:
    claim_words = set(_content(claim))
    window_words = set(_content(window))
    claim_scopes, window_scopes = _scopes(claim), _scopes(window)
    for scope in window_scopes:  # passage negates something the claim asserts
        if len(scope & claim_words) >= min(2, len(scope)) and not any(scope & s for s in claim_scopes):
            return True
    # Claim negates something the passage asserts. Only plain negations count here: a claim's
    # "structural rather than incremental" restates a contrast in its own words.
    for scope in _scopes(claim, contrasts=False):
        if len(scope & window_words) >= min(2, len(scope)) and not any(scope & s for s in window_scopes):
            return True
    claim_raw = set(_tokens(claim))
    window_raw = set(_tokens(window))
    for a, b in _ANTONYMS:
        for x, y in ((a, b), (b, a)):
            if claim_raw & x and not claim_raw & y and window_raw & y and not window_raw & x:
                return True
    return False


def _numbers_ok(claim: str, index: _PassageIndex) -> bool:
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


def _name_present(unit: str, index: _PassageIndex) -> bool:
    if unit in index.free or unit in index.acronyms:
        return True
    parts = unit.split("-")
    # A claim compound ("Korea-Japan") is attested by its parts standing alone in the passage;
    # a part found only inside a different compound ("Vice-Minister") does not attest the word.
    return len(parts) > 1 and all(p in index.free or p in index.acronyms for p in parts)


def _names_ok(claim: str, index: _PassageIndex) -> bool:
    for institutional, phrase in names_in(claim):
        present = sum(1 for w in phrase if _name_present(w, index))
        if present < len(phrase) if institutional else present * 2 < len(phrase):
            return False
    return True


def _coverage(claim: str, index: _PassageIndex) -> float:
    words = _content(claim)
    if not words:
        return 1.0
    return sum(1 for w in words if w in index.words or _prefix_match(w, index.words)) / len(words)


def _prefix_match(word: str, vocabulary: set[str]) -> bool:
    """Crude morphology: 'revised'/'revision', 'militarization'/'militarism' share a 6-letter stem."""
    if len(word) < 6:
        return False
    head = word[:6]
    return any(v.startswith(head) for v in vocabulary)


_CACHE_SIZE = 4096


def _embed(embedder: Any, texts: list[str]) -> np.ndarray:
    """Unit vectors for `texts`, remembering recent ones (answers re-check the same passages)."""
    cache = _vector_cache(embedder)
    found = {t: cache[t] for t in dict.fromkeys(texts) if t in cache}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        if len(cache) + len(missing) > _CACHE_SIZE:
            cache.clear()
        for text, vector in zip(missing, embedder.embed(missing)):
            found[text] = cache[text] = np.asarray(vector, dtype=np.float32)
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)


_CACHES: "weakref.WeakKeyDictionary[Any, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _vector_cache(embedder: Any) -> dict[str, np.ndarray]:
    with _CACHES_LOCK:
        try:
            return _CACHES.setdefault(embedder, {})
        except TypeError:  # not weak-referenceable: no cache
            return {}


@dataclass(frozen=True)
class SupportCheck:
    """The outcome of checking one claim against one passage, with the reasons it failed."""

    score: float
    similarity: float
    window: tuple[int, int]  # best-matching window, offsets into the passage text
    failed: tuple[str, ...]  # names of failed rules: numbers, names, polarity, coverage, similarity

    @property
    def supported(self) -> bool:
        return self.score >= SUPPORT_THRESHOLD


WINDOW_OVERLAP_WEIGHT = 0.5


def _window_coverage(claim_words: set[str], window: str) -> float:
    if not claim_words:
        return 0.0
    return len(claim_words & set(_content(window))) / len(claim_words)


def check(sentence: str, passage_text: str, embedder: Any) -> SupportCheck:
    index = _index(passage_text)
    window_texts = [passage_text[s:e] for s, e in index.windows]
    expanded = _expand_acronyms(sentence, index)
    vectors = _embed(embedder, [expanded] + window_texts)
    sims = vectors[1:] @ vectors[0]
    # The window that carries the claim: similar *and* sharing its words (a short heading can be
    # the most similar text without stating anything the claim says).
    claim_words = set(_content(expanded))
    overlap = np.array([_window_coverage(claim_words, t) for t in window_texts], dtype=np.float32)
    best = int(np.argmax(sims + WINDOW_OVERLAP_WEIGHT * overlap))
    similarity = float(max(0.0, min(1.0, sims.max())))
    failed = []
    if similarity < SIM_THRESHOLD:
        failed.append("similarity")
    if not _numbers_ok(sentence, index):
        failed.append("numbers")
    if not _names_ok(sentence, index):
        failed.append("names")
    if _polarity_conflict(sentence, window_texts[best]):
        failed.append("polarity")
    if _coverage(expanded, index) < COVERAGE_THRESHOLD:
        failed.append("coverage")
    lexical_failures = [f for f in failed if f != "similarity"]
    score = similarity * (FAIL_FACTOR ** len(lexical_failures))
    if lexical_failures:
        score = min(score, SUPPORT_THRESHOLD - 1e-3)
    return SupportCheck(score, similarity, index.windows[best], tuple(failed))


def prefetch(pairs: list[tuple[str, str]], embedder: Any) -> None:
    """Embed, in one batch, everything `check` will need for these (claim, passage text) pairs."""
    texts: list[str] = []
    for claim, passage_text in pairs:
        index = _index(passage_text)
        texts.append(_expand_acronyms(claim, index))
        texts += [passage_text[s:e] for s, e in index.windows]
    if texts:
        _embed(embedder, texts)


def support_score(sentence: str, passage_text: str, embedder: Any) -> float:
    """0..1: how well `passage_text` backs `sentence` (>= SUPPORT_THRESHOLD means it does)."""
    return check(sentence, passage_text, embedder).score


def supports(sentence: str, passage_text: str, embedder: Any) -> bool:
    return check(sentence, passage_text, embedder).supported


# --- whole answers ------------------------------------------------------------------------------

_MARKER = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")
_MARKER_RUN = re.compile(r"(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])+")


def markers_in(sentence: str) -> list[int]:
    """[2], [1, 3], [1][2], [2-4] -> the marker numbers, in order of appearance."""
    out: list[int] = []
    for group in _MARKER.findall(sentence):
        for part in re.split(r"\s*[,;]\s*", group):
            if re.fullmatch(r"\d+\s*[–-]\s*\d+", part):
                a, b = (int(x) for x in re.split(r"\s*[–-]\s*", part))
                out += list(range(a, b + 1)) if 0 < b - a < 10 else [a, b]
            elif part.strip().isdigit():
                out.append(int(part))
    return list(dict.fromkeys(out))


_LOOSE_MARKER = re.compile(r"\[(?:passages?|sources?|doc(?:ument)?s?)?\s*#?\s*(\d+(?:\s*(?:[,;–-]|and)\s*#?\d+)*)\]", re.I)


def normalise_markers(text: str) -> str:
    """"[Passage 2]", "[1, 3]", "[2-4]" -> "[2]", "[1][3]", "[2][3][4]": one number per bracket."""
    def one_per_bracket(match: re.Match) -> str:
        numbers = markers_in("[" + re.sub(r"\s*and\s*", ",", match.group(1).replace("#", "")) + "]")
        return "".join(f"[{n}]" for n in numbers) or match.group()

    return _LOOSE_MARKER.sub(one_per_bracket, text)


def strip_markers(sentence: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", _MARKER.sub("", sentence))).strip()


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer, each with the markers that close it."""
    out: list[str] = []
    for para in re.finditer(r"[^\n]+", text):
        line = para.group().strip().lstrip("-*•").strip()
        if not line:
            continue
        start = 0
        for match in re.finditer(r"[.!?][\"”’')]*((?:\s*\[[\d,;\s–-]+\])*)(?=\s+[\"“‘'(\[]?[A-Z0-9])", line):
            # no split after abbreviations such as "U.S." or "Jan." (the next word would be part of it)
            word = line[:match.start() + 1].split()[-1].lower() if line[:match.start() + 1].split() else ""
            if match.group().startswith(".") and (word.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"(\w\.)+", word)):
                continue
            out.append(line[start:match.end()].strip())
            start = match.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return [s for s in out if strip_markers(s)]


_ABBREVIATIONS = {"u.s", "u.k", "u.n", "dr", "mr", "mrs", "ms", "prof", "gen", "st", "jan", "feb", "mar", "apr",
                  "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "vol", "e.g", "i.e", "vs", "etc"}

_SILENT = re.compile(
    r"\b(the )?(documents|passages|sources|briefs|texts)( provided| given)? (do not|don't|does not|doesn't|never) "
    r"(say|state|mention|answer|specify|address|discuss|cover|give|provide|indicate)"
    r"|\b(the )?(documents|passages|sources) (are|is) silent",
    re.I,
)


def says_documents_silent(sentence: str) -> bool:
    """"The documents don't say." and its variants: an admission, not a claim to verify."""
    return bool(_SILENT.search(strip_markers(sentence)))


def is_no_claim(sentence: str) -> bool:
    """A sentence stating no fact of its own: nothing to verify."""
    plain = strip_markers(sentence)
    if says_documents_silent(plain) and not markers_in(sentence):
        return True
    return len(re.findall(r"\w+", plain)) < 3


def _drop_admission(clause: str) -> str:
    """"The documents don't say why, but X" -> "X": only the claim part is checked."""
    match = _SILENT.search(clause)
    if not match:
        return clause
    rest = re.search(r"(,|;|—|\bbut\b|\bhowever\b|\bthough\b)\s*(but\s+|however,?\s+)?", clause[match.end():])
    return clause[match.end() + rest.end():] if rest and len(clause[match.end() + rest.end():].split()) >= 3 else clause


def clauses(sentence: str) -> list[tuple[str, tuple[int, ...]]]:
    """(claim text, markers) for each run of markers: "A said X [1], while B said Y [2]." gives
    ("A said X", (1,)) and ("while B said Y", (2,)). A clause too short to check on its own
    (fewer than 5 words) is checked as the whole sentence instead; text after the last markers
    joins the last clause."""
    runs = list(_MARKER_RUN.finditer(sentence))
    if not runs:
        return []
    out: list[tuple[str, tuple[int, ...]]] = []
    previous = 0
    for i, run in enumerate(runs):
        clause = sentence[previous:run.start()]
        if i == len(runs) - 1:
            tail = strip_markers(sentence[run.end():])
            if len(re.findall(r"\w+", tail)) >= 3:
                clause = clause + " " + tail
        if len(re.findall(r"\w+", strip_markers(clause))) < 5:
            clause = sentence
        out.append((_drop_admission(strip_markers(clause)).strip(" ,;:—–-"), tuple(markers_in(run.group()))))
        previous = run.end()
    return out


@dataclass(frozen=True)
class SentenceCheck:
    sentence: str
    markers: tuple[int, ...]
    valid: tuple[int, ...]  # markers whose passage backs the clause they close
    invalid: tuple[int, ...]  # markers out of range, or whose passage does not back their clause
    windows: dict  # marker -> (start, end) of the best-matching window in that passage's text
    supported: bool  # every clause has at least one valid marker (False when there are no markers)
    no_claim: bool = False  # states nothing to verify ("The documents don't say.")


def check_sentences(text: str, passages_by_marker: dict[int, Passage], embedder: Any) -> list[SentenceCheck]:
    sentences = answer_sentences(text)
    work = [(clause, n) for s in sentences if not is_no_claim(s) for clause, ns in clauses(s) for n in ns]
    prefetch([(clause, passages_by_marker[n].text) for clause, n in work if n in passages_by_marker], embedder)
    checks = []
    for sentence in sentences:
        markers = tuple(markers_in(sentence))
        if is_no_claim(sentence):
            checks.append(SentenceCheck(sentence, markers, (), (), {}, True, True))
            continue
        valid: list[int] = []
        invalid: list[int] = []
        windows: dict[int, tuple[int, int]] = {}
        all_backed = bool(markers)
        for clause, group in clauses(sentence):
            backed = []
            for n in group:
                passage = passages_by_marker.get(n)
                if passage is None:
                    continue
                result = check(clause, passage.text, embedder)
                windows[n] = result.window
                if result.supported:
                    backed.append(n)
            given = [n for n in group if n in passages_by_marker]
            if not backed and len(given) > 1:
                # "[1][3]": the passages may back the clause only together (a name in one, a figure
                # in the other); accept those whose own similarity clears the bar.
                joined = "\n".join(passages_by_marker[n].text for n in given)
                if check(clause, joined, embedder).supported:
                    backed = [n for n in given if check(clause, passages_by_marker[n].text, embedder).similarity >= SIM_THRESHOLD]
            all_backed = all_backed and bool(backed)
            valid += [n for n in backed if n not in valid]
            invalid += [n for n in group if n not in backed and n not in invalid]
        invalid = [n for n in invalid if n not in valid or n not in passages_by_marker]
        checks.append(SentenceCheck(sentence, markers, tuple(valid), tuple(invalid), windows, all_backed))
    return checks


def verify_answer(
    text: str, passages_by_marker: dict[int, Passage], embedder: Any
) -> tuple[tuple[Citation, ...], tuple[str, ...]]:
    """Check every sentence of `text` against the passages its [n] markers cite.

    Returns one Citation per marker used, in order of first use -- `verified=False` when it is
    out of range (it then carries a placeholder passage) or when some clause it closes is not
    backed by its passage -- and the sentences (markers stripped) not fully backed by a valid
    citation, including sentences with no marker at all. Sentences that state nothing ("The
    documents don't say.") are neither checked nor flagged. Spans are the best-matching passage
    windows with offsets into the *passage text*; `rag.llm` maps them to document offsets.
    """
    checks = check_sentences(text, passages_by_marker, embedder)
    return citations_from_checks(checks, passages_by_marker), unsupported_sentences(checks)


def unsupported_sentences(checks: list[SentenceCheck]) -> tuple[str, ...]:
    return tuple(strip_markers(c.sentence) for c in checks if not c.supported)


SpanMapper = Callable[[Passage, int, int], list[Span]]


def citations_from_checks(
    checks: list[SentenceCheck], passages_by_marker: dict[int, Passage], span_mapper: SpanMapper | None = None
) -> tuple[Citation, ...]:
    order: list[int] = []
    bad: set[int] = set()
    spans: dict[int, list[Span]] = {}
    for c in checks:
        order += [n for n in c.markers if n not in order]
        bad.update(c.invalid)
        for n in c.valid:
            passage = passages_by_marker[n]
            start, end = c.windows[n]
            mapped = span_mapper(passage, start, end) if span_mapper else [Span(start, end, passage.text[start:end])]
            for span in mapped:
                if span not in spans.setdefault(n, []):
                    spans[n].append(span)
    citations = []
    for n in order:
        passage = passages_by_marker.get(n) or Passage(
            chunk_id="", doc_id="", source="", title=f"(no passage [{n}] was given to the model)", date="",
            text="", start=0, end=0,
        )
        ordered = tuple(sorted(spans.get(n, ()), key=lambda sp: sp.start))
        citations.append(Citation(n, passage, ordered, verified=n not in bad and n in passages_by_marker))
    return tuple(citations)
