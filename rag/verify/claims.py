"""What a sentence states, in a form two texts can be compared by: its numbers (with the words
saying what they count), its names and acronyms, its content words, what its negations cover,
and the directions of change it reports (up or down, with the words saying what changed).

Names are folded before comparison (demonyms and a country's other names map to one form,
rag/base/lexicons/name_variants.txt; spellings of the US/UK are normalised here), so the support check (`rag.verify.rules`) can ask whether a passage states the same.
"""

from __future__ import annotations

import re

from rag.base.lexicon import load_groups
from rag.base.text import STOPWORDS, canonical, stem

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

_US = re.compile(r"\bU\.\s?S\.(?:\s?A\.)?|\bU\.S\b|\bUnited States(?: of America)?\b|\bUS\b")
_UK = re.compile(r"\bU\.K\.|\bUnited Kingdom\b|\bUK\b")

_NEGATORS = {"not", "no", "never", "nor", "neither", "none", "without", "cannot", "nobody", "nothing"}
_PREFERENCE = {"favor", "favour", "prefer", "choose", "chose", "prioritize", "prioritise", "pick", "select"}


def tokens(text: str) -> list[str]:
    """Lowercased words, as written (not folded)."""
    return [w.lower() for w in re.findall(r"\w+", text.replace("’", "'"))]


fold = canonical  # the form words are compared in (rag.base.text.canonical)


_DASHES = re.compile(r"[‐‑‒–—]")
_FISCAL = re.compile(r"\bFY\s?'?(\d{2,4})\b")


def normalise_names(text: str) -> str:
    """One spelling for the US, the UK and fiscal years, so their variants compare equal."""
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
    text = re.sub(r"(?<=\d)\s?%", " percent", normalise_names(text))
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
            items.append(("word", fold(low)))
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


def word_units(text: str) -> list[str]:
    """Words and hyphenated compounds ("US-Mexico-Canada"), folded; compound parts joined by '-'."""
    # An em or en dash between words separates phrases ("2025—March 2026"), it joins no compound.
    text = _DASHES.sub("-", re.sub(r"[—–]", " ", normalise_names(text))).replace("’", "'")
    return ["-".join(fold(p) for p in m.split("-") if p) for m in re.findall(r"[\w']+(?:-[\w']+)*", text)]


def names_in(text: str) -> list[tuple[bool, list[str]]]:
    """Capitalised phrases (names, acronyms) as (institutional, folded words or compounds).

    The sentence's first word counts only when it is not an ordinary word written capitalised
    (a stopword); everything else capitalised is taken to be a name. A phrase with "of"/"for"
    ("Minister of Defense") is institutional: all its words must match; a bare run of names
    ("Choi Eunmi") matches on half its words, since people are often named by surname alone.
    """
    text = _DASHES.sub("-", normalise_names(text))
    phrases = []
    for match in _CAP_RUN.finditer(text):
        raw = [w for w in re.findall(r"[\w']+(?:-[\w']+)*", match.group().replace("’", "'"))]
        institutional = any(w.lower() in _NAME_GLUE for w in raw[1:-1])
        words = [w for w in raw if w.lower() not in _NAME_GLUE]
        words = [w for w in words if not (w.lower() in STOPWORDS and not w.isupper())]
        folded = ["-".join(fold(p) for p in w.split("-") if p) for w in words if len(w) > 1 and not w.isdigit()]
        if folded:
            phrases.append((institutional, folded))
    return phrases


def acronyms_in(text: str) -> dict[str, str]:
    """Initials of every run of 2-6 capitalised words -> that run ("nss" -> "National Security Strategy")."""
    out: dict[str, str] = {}
    for match in _CAP_RUN.finditer(normalise_names(text)):
        words = [w for w in re.findall(r"[\w']+", match.group()) if w.lower() not in _NAME_GLUE and w[0].isupper()]
        for i in range(len(words)):
            for j in range(i + 2, min(len(words), i + 6) + 1):
                out.setdefault("".join(w[0].lower() for w in words[i:j]), " ".join(words[i:j]))
    return out


def content_words(text: str) -> list[str]:
    """Folded words that carry meaning: no stopwords, bare digits or single letters."""
    return [fold(w) for w in tokens(normalise_names(text)) if w not in STOPWORDS and not w.isdigit() and len(w) > 1]


_EXCLUSIVE = {"than", "except", "besides", "apart", "but"}  # "no country other than the US" = "only the US"


def negation_scopes(text: str, contrasts: bool = True) -> list[set[str]]:
    """Content words governed by each negation in `text` (the next few content words).

    With `contrasts`, "rather than X", "instead of X" and "prefer/favor ... over X" count as
    negating X too. "no X other than Y" is an exclusive ("only Y"), not a negation.
    """
    words = re.findall(r"[\w']+|[,;:—–()\"“”]", normalise_names(text).replace("’", "'").lower())
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
                scope.add(fold(nxt))
        if scope and not exclusive:
            scopes.append(scope)
    return scopes


_DIRECTIONS = load_groups("directions.txt")  # general English words of upward/downward change
_UP, _DOWN = _DIRECTIONS["up"], _DIRECTIONS["down"]
_PARTICLES = {w: "up" for w in _DIRECTIONS["up-particle"]} | {w: "down" for w in _DIRECTIONS["down-particle"]}
_REFUSAL = _DIRECTIONS["refusal-sense"]
# Where a direction's context stops: a new clause can report another change of another thing
# ("rose 5% after falling 3%", "exports rose while imports fell").
_CLAUSE_WORDS = {"while", "whereas", "but", "after", "before", "although", "though", "despite", "yet"}
_CLAUSE_MARKS = set(",;:()[].!?—–")  # quotes and "#" are not: '"Missing You" falling to #6'
DIRECTION_CONTEXT = 4  # words each side of a direction word that say what changed


def _figure(token: str | None) -> bool:
    return token is not None and (token[0].isdigit() or token in _NUMBER_WORDS)


def direction_mentions(text: str) -> list[tuple[str, set[str]]]:
    """Each change the text reports, as ("up" | "down", the folded words and figures around it
    within its clause): "Shares rose 5% after falling 3%" -> ("up", {share, 5, percent}),
    ("down", {3, percent}). Left out: a direction word under a negation ("did not rise" says
    no direction), "up"/"down" not before a figure or "from"/"by" ("set up", "step down"), and
    "declined to" + a word (a refusal, not a fall)."""
    text = re.sub(r"(?<=\d)\s?%", " percent", normalise_names(text))
    words = re.findall(r"\d[\d,]*(?:\.\d+)?|[\w']+|[^\w\s]", text.replace("’", "'").lower())
    items: list[tuple[str, str]] = []  # ("dir", "up"|"down") | ("word", folded) | ("stop", "")
    for i, w in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else None
        negated = any(p in _NEGATORS or p.endswith("n't") for p in words[max(0, i - 3):i])
        if w in _UP or w in _DOWN or w in _PARTICLES:
            if w in _PARTICLES and not (_figure(after) or after in {"from", "by"}):
                continue
            if w in _REFUSAL and after == "to" and i + 2 < len(words) and not _figure(words[i + 2]):
                continue
            if not negated:
                items.append(("dir", _PARTICLES.get(w) or ("up" if w in _UP else "down")))
        elif w in _CLAUSE_WORDS or w in _CLAUSE_MARKS:
            items.append(("stop", ""))
        elif w[0].isdigit():
            value = w.replace(",", "")
            items.append(("word", value[:-2] if value.endswith(".0") else value))
        elif w not in _CONTEXT_STOP and w not in _NEGATORS and len(w) > 1:
            items.append(("word", fold(w)))
    mentions = []
    for i, (kind, value) in enumerate(items):
        if kind != "dir":
            continue
        context: set[str] = set()
        for side in (reversed(items[:i]), items[i + 1:]):
            taken = 0
            for k, v in side:
                if k == "stop" or taken >= DIRECTION_CONTEXT:
                    break
                if k == "word":
                    context.add(v)
                    taken += 1
        mentions.append((value, context))
    return mentions
