"""Sources differ: where sentences from different documents, all evidence for one question, give
different values for the same thing (a figure or count with the same unit, the date of the same
event, the holder of the same role, or opposite stances on the same subject and object).

A false alarm costs more than a miss: telling a reader that the documents disagree when they do
not undermines every answer. So each test leans to "no disagreement":
- two values are the same thing only when they share the unit and the words around them, and
  neither side has a word next to its value that the other side lacks ("exports rose 5%" is not
  "imports rose 3%");
- the sentences must not name different entities or times (each naming someone the other does
  not, different years, a pronoun whose referent cannot be told);
- a value agrees when the other side states it anywhere, rounds to it, lies within a range the
  other side gives, or meets a hedge ("about 300" agrees with 316, "more than 300" with 316).
Every word list lives in rag/base/lexicons/ (figures.txt, roles.txt, antonyms.txt,
directions.txt, opposite_actions.txt, negations.txt): general English, no corpus's names.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Sequence

from rag.base.lexicon import load_groups, load_pairs, load_words
from rag.base.text import STOPWORDS, canonical


@dataclass(frozen=True)
class Statement:
    key: str  # the caller's id for the sentence; returned in results
    doc_id: str  # the document it comes from
    text: str  # one sentence
    date: str = ""  # the document's ISO date ("2025-12-29") or ""


@dataclass(frozen=True)
class Disagreement:
    about: str  # a short readable name of what the sides differ on ("seats won", "date signed")
    keys: tuple[str, ...]  # the sides' keys (2 or more), each from a different document
    values: tuple[str, ...]  # the differing value as written in each side, in the order of keys


_FIG = load_groups("figures.txt")
_ROLES = load_groups("roles.txt")


def _words(group: str) -> frozenset[str]:
    return frozenset(w.replace("_", " ") for w in _FIG[group])


def _valued(prefix: str) -> dict[str, int]:
    return {w: int(g.split("-")[1]) for g, ws in _FIG.items() if g.startswith(prefix + "-") for w in ws}


_NUMBER_WORDS, _DENOMINATORS, _SCALES, _MONTHS = (_valued(p) for p in ("number", "fraction", "scale", "month"))
_CURRENCY = {w: g for g, ws in _FIG.items() if g.startswith("currency-") for w in ws}
_PERCENT, _DATE_LEAD, _FISCAL, _PRONOUNS, _CLAUSE = (
    _words(g) for g in ("percent", "date-lead", "fiscal", "pronoun", "clause"))
_HEDGES = {w: h for h in ("about", "over", "under", "date-before", "date-after") for w in _words(h)}
_RELATIVE_YEAR = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in _words("relative-year")) + r")\b", re.I)
_TITLES, _ROLE_TIME = _ROLES["title"], _ROLES["time"]
_NOT_NAMES = load_groups("name_words.txt")["not_names"] | STOPWORDS | _TITLES | _ROLE_TIME
_STRONG_BREAK = set(";:()[]•")  # punctuation after which the words describe something else
_PHRASE_BREAK = set(",—–")  # ... after a value only: "2% of GDP, a target ..."
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|\d+(?:\.\d+)?(?![A-Za-z_])|\w+(?:['’]\w+)*(?:-\w+(?:['’]\w+)*)*|\S")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_YEAR = re.compile(r"(18|19|20)\d\d|2100")
_DETERMINERS = {"the", "a", "an", "its", "their", "his", "her", "our", "this", "that", "these", "those"}
NEAR, CLOSE = 4, 2  # content words each side of a value that say what it is / that must agree
SAME_TOPIC = 0.25  # share of content words two sentences need in common to compare figures at all
SAME_CLAIM = 0.6  # ... to compare who holds a role, or a stance: nearly the same sentence


def _forms(word: str) -> set[str]:  # the inflections rag.verify.rules derives for antonyms.txt
    base = word[:-1] if word.endswith("e") else word
    forms = {word, word + "s", base + "ed", base + "ing", base + "er", base + "est"}
    return forms | ({word[:-1] + "ies", word[:-1] + "ied"} if word.endswith("y") else set())


def _alternation(words) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")\b", re.I)


_DIRECTIONS = load_groups("directions.txt")
# Opposite word pairs: antonyms, up/down words of change, and opposite actions (already patterns).
_OPPOSITES = [(_alternation(_forms(a)), _alternation(_forms(b))) for a, b in load_pairs("antonyms.txt")]
_OPPOSITES.append((_alternation(_DIRECTIONS["up"]), _alternation(_DIRECTIONS["down"])))
_OPPOSITES += [(re.compile(rf"\b(?:{a})\b", re.I), re.compile(rf"\b(?:{b})\b", re.I))
               for a, b in load_pairs("opposite_actions.txt")]
# Negators for the negation flip; a refusal word that is one side of an opposite pair
# ("rejected") is left to that pair.
_NEGATORS = {w for w in load_words("negations.txt") if not any(p.fullmatch(w) for pair in _OPPOSITES for p in pair)}


def _fold(word: str) -> str:
    """The form context words are compared in: `canonical`, then -ing/-ed/-e dropped, so that
    "signed" meets "signs" and "raising" meets "raised"."""
    word = canonical(word)
    for suffix in ("ing", "ed", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass
class _Value:
    kind: str  # "qty" | "date" | "fiscal"
    unit: frozenset[str]  # what it counts: a currency, "%", or the words after the figure
    value: tuple  # qty: (low, high, figure, hedged): the range it allows; dates: (year, month, day, hedge)
    span: tuple[int, int]  # token range
    surface: str = ""
    label: str = ""  # what the unit is called in `about` ("percent", "seats", "date")
    near: frozenset[str] = frozenset()
    close: frozenset[str] = frozenset()
    scope: bool = False  # a date just by a figure says when the figure holds, not when an event was


@dataclass
class _Role:
    key: frozenset[str]  # the title and the words that qualify it
    name: frozenset[str]
    surface: str
    holder: str


class _Sentence:
    """One statement analysed once: tokens, content terms, values, names, roles, stance words."""

    def __init__(self, st: Statement):
        self.st = st
        text = re.sub(r"\bU\.S\.(?:A\.)?", "US", re.sub(r"\bU\.K\.", "UK", st.text))
        self.text = text
        self.toks = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        self.low = [t.lower() for t, _, _ in self.toks]
        self.terms = [_fold(w) if w[0].isalpha() and w not in STOPWORDS and len(w) > 1 else "" for w in self.low]
        self.values: list[_Value] = []
        self.used: set[int] = set()
        self.ids: set[str] = set()  # figures that are part of a name ("#2012" of "the 2012 season")
        self._dates()
        self._quantities()
        valued = {i for v in self.values for i in range(*v.span)}
        self.bag = frozenset(t for i, t in enumerate(self.terms) if t and i not in valued)
        for v in self.values:
            v.near, v.close = self._context(v.span, valued)
            v.scope = v.kind != "qty" and any(q.kind == "qty" and -4 <= v.span[0] - q.span[1] <= 3 for q in self.values)
        self.years = frozenset(v.value[0] for v in self.values if v.kind != "qty" and v.value[0])
        caps = [i for i, (t, _, _) in enumerate(self.toks) if t[0].isupper() and self.terms[i]
                and self.low[i] not in _NOT_NAMES and self.low[i] not in _MONTHS and i not in valued]
        first = next((i for i, w in enumerate(self.low) if w[0].isalpha()), -1)
        self.names = frozenset(self.terms[i] for i in caps if i != first) | self.ids
        self.initial = self.terms[first] if first in caps else ""
        self.lower = frozenset(t for i, t in enumerate(self.terms) if t and self.toks[i][0].islower())
        self.pronoun = any(w in _PRONOUNS for w in self.low)
        self.relative_year = bool(_RELATIVE_YEAR.search(text))
        self.roles = self._roles()
        starts = [s for _, s, _ in self.toks]
        self.poles = {}  # (opposite pair, side) -> token positions of its words
        for p, pair in enumerate(_OPPOSITES):
            for side, pattern in enumerate(pair):
                hits = [bisect.bisect_right(starts, m.start()) - 1 for m in pattern.finditer(text)]
                if hits:
                    self.poles[(p, side)] = hits
        self.negated = {}  # content term -> position of a negated occurrence ("decision not to send")
        for i, w in enumerate(self.low):
            if (w in _NEGATORS or w.endswith("n't")) and not (i + 1 < len(self.low) and self.low[i + 1] == "only"):
                j = next((j for j in range(i + 1, min(i + 4, len(self.terms))) if self.terms[j]), None)
                if j is not None:
                    self.negated.setdefault(self.terms[j], j)

    def _is_num(self, i: int) -> bool:
        return 0 <= i < len(self.toks) and bool(_NUMBER.fullmatch(self.toks[i][0])) and i not in self.used

    def _add(self, kind: str, unit, value, i0: int, i1: int, label: str = "date") -> None:
        self.used.update(range(i0, i1))
        self.values.append(_Value(kind, frozenset(unit), value, (i0, i1), self._span(i0, i1 - 1), label))

    def _hedge(self, i: int) -> tuple[str, int]:
        """The hedge just before token i ("more than", "about"), and where it starts."""
        i -= 1 if i >= 1 and self.low[i - 1] in ("a", "an") else 0  # "more than a dozen"
        if i >= 2 and f"{self.low[i - 2]} {self.low[i - 1]}" in _HEDGES:
            return _HEDGES[f"{self.low[i - 2]} {self.low[i - 1]}"], i - 2
        return (_HEDGES[self.low[i - 1]], i - 1) if i >= 1 and self.low[i - 1] in _HEDGES else ("", i)

    def _dates(self) -> None:
        low, n = self.low, len(self.toks)
        for i, w in enumerate(low):
            fiscal = re.fullmatch(r"fy'?(\d{4})", w)
            if fiscal or w in _FISCAL or f"{w} {low[i + 1] if i + 1 < n else ''}" in _FISCAL:
                j = i + (0 if fiscal else 1 if w in _FISCAL else 2)
                if fiscal or (self._is_num(j) and _YEAR.fullmatch(low[j])):
                    self._add("fiscal", {"fiscal"}, (int(fiscal.group(1) if fiscal else low[j]), None, None, ""), i, j + 1)
            month = _MONTHS.get(w) if self.toks[i][0][0].isupper() else None
            if not month:
                continue
            s, j = i, i + 2 if i + 1 < n and low[i + 1] == "." else i + 1
            day = year = None
            if self._is_num(j) and len(low[j]) <= 2 and 1 <= int(low[j]) <= 31:
                day, j = int(low[j]), j + 1
                j = j + 1 if j < n and low[j] == "," and self._is_num(j + 1) else j
            elif self._is_num(i - 1) and len(low[i - 1]) <= 2 and 1 <= int(low[i - 1]) <= 31:
                day, s = int(low[i - 1]), i - 1
            if self._is_num(j) and _YEAR.fullmatch(low[j]):
                year, j = int(low[j]), j + 1
            if day or year or (i and low[i - 1] in _DATE_LEAD):
                hedge, start = self._hedge(s)
                self._add("date", {"date"}, (year, month, day, hedge), start, max(j, i + 1))
        for i, w in enumerate(low):
            if not self._is_num(i) or not _YEAR.fullmatch(w):
                continue
            years, k = [int(w)], i + 1
            if k + 1 < n and low[k] in ("-", "–") and self._is_num(k + 1) and len(low[k + 1]) in (2, 4):  # "1910-45"
                years.append(int(low[k + 1] if len(low[k + 1]) == 4 else w[:2] + low[k + 1]))
                k += 2
            after = self.toks[k][0] if k < n else ""
            if self._identifier(i, k):
                self.ids.update(f"#{y}" for y in years)  # "the 2012–13 Rams", "the 2009 election": a name
                self.used.update(range(i, k))
                continue
            if len(years) == 1 and after[:1].islower() and self.terms[k] and (not i or low[i - 1] not in _DATE_LEAD):
                continue  # "2000 troops": a count
            hedge, start = self._hedge(i)
            self._add("date", {"date"}, (years[0], None, None, hedge), start, i + 1)
            if len(years) > 1:
                self._add("date", {"date"}, (years[1], None, None, ""), i + 2, k)

    def _identifier(self, i: int, k: int) -> bool:
        """Whether the figure at tokens i..k-1 is part of a name, not a quantity or a date: before a
        capitalised word ("No. 2 Squadron", "the 2022 Defense Strategy"), after "No.", or a year
        between a determiner and a noun ("the 2009 election")."""
        after = self.toks[k][0] if k < len(self.toks) else ""
        before = self.low[i - 1] if i else ""
        capital = after[:1].isupper() and self.terms[k] and self.low[k] not in _MONTHS
        year = bool(_YEAR.fullmatch(self.low[i]))
        return bool(capital or (before == "." and i > 1 and self.low[i - 2] == "no")
                    or (year and after[:1].islower() and self.terms[k] and (before in _DETERMINERS or before.endswith(("'s", "’s")))))

    def _quantities(self) -> None:
        low, n = self.low, len(self.toks)
        for i, w in enumerate(low):
            parts = w.split("-")
            fraction = len(parts) == 2 and parts[0] in _NUMBER_WORDS and parts[1] in _DENOMINATORS
            if fraction:
                number, decimals = _NUMBER_WORDS[parts[0]] / _DENOMINATORS[parts[1]], 3
            elif self._is_num(i):
                number, decimals = float(w.replace(",", "")), len(w.partition(".")[2])
            elif w in _NUMBER_WORDS and not (i and self.toks[i - 1][0][0].isupper() and not low[i - 1].endswith(("'s", "’s"))):
                number, decimals = _NUMBER_WORDS[w], 0
            else:
                continue
            hedge, start = self._hedge(i - 1 if i and low[i - 1] in _CURRENCY else i)
            unit = {_CURRENCY[low[i - 1]]} if i and low[i - 1] in _CURRENCY else set()
            j, scale = i + 1, 1.0
            if j < n and low[j] in _SCALES:
                scale, j = 10.0 ** _SCALES[low[j]], j + 1
            if not unit and j < n and (low[j] in _PERCENT or f"{low[j]} {low[j + 1] if j + 1 < n else ''}" in _PERCENT):
                unit, j = {"%"}, j + (1 if low[j] in _PERCENT else 2)
            elif not unit and j < n and low[j] in _CURRENCY:
                unit, j = {_CURRENCY[low[j]]}, j + 1
            elif not unit:
                j += 1 if j < n and low[j] == "-" else 0
                while j < n and self.terms[j] and len(unit) < 2 and low[j] not in _CLAUSE and low[j] not in _MONTHS:
                    unit.add(("/" if fraction else "") + self.terms[j])
                    j += 1
            if not unit and self._identifier(i, j):
                self.ids.add(f"#{w}")
            if not unit or (not fraction and j > i + 1 and self.toks[i + 1][0][:1].isupper()):
                continue  # a bare number ("Article 9 of") or a name ("12 Squadron"): it counts nothing
            if j < n and low[j] in ("+", "plus"):
                hedge, j = "over", j + 1
            x, ulp = number * scale, 10.0 ** -decimals * scale / 2
            low_high = {"about": (x * 0.75, x * 1.25, x, 1), "over": (x, float("inf"), x, 1), "under": (float("-inf"), x, x, 1)}
            label = "percent" if "%" in unit else next(iter(unit))[9:] if i and low[i - 1] in _CURRENCY \
                else self._span(j - 1, j - 1).lower() if j - 1 > i else self._span(i, i)
            self._add("qty", unit, low_high.get(hedge, (x - ulp, x + ulp, x, 0)), start, j, label)

    def _context(self, span: tuple[int, int], valued: set[int]) -> tuple[frozenset[str], frozenset[str]]:
        """Content words before the value (up to NEAR, over commas: "signed, on May 5") and after
        it (up to the next comma: a comma after a value starts another phrase); the nearest
        CLOSE of each side are the words that must agree."""
        near, close = set(), set()
        for step, start in ((-1, span[0] - 1), (1, span[1])):
            i, taken = start, 0
            while 0 <= i < len(self.toks) and taken < NEAR:
                tok = self.toks[i][0]
                if tok == "(" and i == span[0] - 1:
                    pass  # "the Joint Declaration (October 2022)": the value describes what precedes it
                elif tok in _STRONG_BREAK or self.low[i] in _CLAUSE or (step == 1 and tok in _PHRASE_BREAK):
                    break
                if self.terms[i] and i not in valued:
                    near.add(self.terms[i])
                    taken += 1
                    if taken <= CLOSE:
                        close.add(self.terms[i])
                i += step
        return frozenset(near), frozenset(close)

    def _name_run(self, i: int, step: int) -> list[int]:
        run = []
        while 0 <= i < len(self.toks) and len(run) < 3 and self.toks[i][0][0].isupper() and self.terms[i] \
                and self.low[i] not in _NOT_NAMES and self.low[i] not in _MONTHS:
            run.append(i)
            i += step
        return run if step == 1 else run[::-1]

    def _roles(self) -> list[_Role]:
        """Who holds which role: "Defense Minister X" (title, then the name) and "X, the security
        chair at Y," (a name, then an apposition holding a title)."""
        roles, low = [], self.low
        for i, w in enumerate(low):
            if w not in _TITLES or self.toks[i][0].endswith(("'s", "’s")):
                continue
            name = self._name_run(i + 1, 1)
            if name and name[-1] + 1 < len(low) and low[name[-1] + 1] in _TITLES:
                continue  # "party president Prime Minister X": the capitalised words open the next role
            qualifiers = [k for k in range(max(0, i - 4), i) if all(self.toks[m][0][:1].isupper() for m in range(k, i))]
            start = qualifiers[0] if qualifiers else i
            if name and not any(low[k] in _ROLE_TIME for k in range(max(0, start - 2), i)):
                key = {self.terms[k] for k in range(start, i + 1)}
                after = name[-1] + 1
                if after < len(low) and low[after] == "of":  # "Professor X of Tokyo University"
                    key |= {self.terms[k] for k in self._name_run(after + 1, 1)}
                roles.append(_Role(frozenset(key), frozenset(self.terms[k] for k in name), self._span(start, i),
                                   self._span(name[0], name[-1])))
        for c, w in enumerate(low):
            name = self._name_run(c - 1, -1) if w == "," else []
            end = next((k for k in range(c + 1, min(c + 14, len(low))) if low[k] in ",;"), None)
            if name and end and any(low[k] in _TITLES for k in range(c + 1, end)) \
                    and not any(low[k] in _ROLE_TIME for k in range(c + 1, end)):
                key = frozenset(self.terms[k] for k in range(c + 1, end) if self.terms[k])
                roles.append(_Role(key, frozenset(self.terms[k] for k in name), self._span(c + 1, end - 1),
                                   self._span(name[0], name[-1])))
        return roles

    def _span(self, i: int, j: int) -> str:
        return self.text[self.toks[i][1]:self.toks[j][2]]

    def words(self, terms: set[str], skip: tuple[int, int]) -> str:
        """Up to three of `terms` as this sentence writes them, in its order (for `about`)."""
        seen = dict.fromkeys(self.toks[i][0] for i, t in enumerate(self.terms) if t in terms and not skip[0] <= i < skip[1])
        return " ".join(list(seen)[:3])

    def near(self, i: int, width: int = 3) -> set[str]:
        """Up to `width` content words each side of token i."""
        left = [t for t in self.terms[:i] if t][-width:]
        return set(left) | set([t for t in self.terms[i + 1:] if t][:width])


def _agree(a: _Value, b: _Value) -> bool:
    """Whether two values of the same unit can both be true: overlapping intervals for figures;
    for dates, the same year, month and day wherever both sides give one (hedges widen them)."""
    if a.kind == "qty" and (a.value[3] or b.value[3]):  # a hedge: the ranges they allow meet
        return a.value[0] < b.value[1] and b.value[0] < a.value[1]
    if a.kind == "qty":  # the finer figure rounds to the coarser: 4.17 to 4.2, 4.2 to 4; 2.5 is not 2
        fine, coarse = sorted((a.value, b.value), key=lambda v: v[1] - v[0])
        return fine[2] == coarse[2] or coarse[0] < fine[2] < coarse[1]
    (ya, ma, da, ha), (yb, mb, db, hb) = a.value, b.value
    if ya and yb:
        lo_a, hi_a, lo_b, hi_b = (*_interval(ya, ma, da, ha), *_interval(yb, mb, db, hb))
        return lo_a <= hi_b and lo_b <= hi_a
    return not (ma and mb) or (ma == mb and (not da or not db or da == db))


def _interval(year: int, month: int | None, day: int | None, hedge: str) -> tuple[float, float]:
    lo = (year * 12 + (month or 1) - 1) * 31 + (day or 1) - 1
    hi = lo + (0 if day else 30 if month else 371)
    hedges = {"date-before": (float("-inf"), hi), "date-after": (lo, float("inf")), "about": (lo - 372, hi + 372)}
    return hedges.get(hedge, (lo, hi))


def _bounds(v: _Value) -> tuple[float, float] | None:
    return v.value[:2] if v.kind == "qty" else _interval(*v.value) if v.value[0] else None


def _agreed(v: _Value, own: _Sentence, other: _Sentence) -> bool:
    """The other side states a value `v` agrees with, or, when `v` is its side's only value of
    that unit, a range holding it ("from 15 to 25 percent", "1910-45")."""
    same = [w for w in other.values if w.kind == v.kind and w.unit & v.unit]
    if any(_agree(v, w) for w in same):
        return True
    mine = [w for w in own.values if w.kind == v.kind and w.unit & v.unit]
    bounds = [b for b in map(_bounds, same) if b]
    if len(mine) == 1 and len(bounds) >= 2 and _bounds(v):
        return min(b[0] for b in bounds) <= _bounds(v)[0] and _bounds(v)[1] <= max(b[1] for b in bounds)
    return False


def _same_thing(a: _Value, b: _Value) -> list[str]:
    """The context words two values share when they describe the same thing, else []."""
    shared = a.near & b.near
    if not shared or len(shared) < min(2, len(a.near), len(b.near)):
        return []
    if (a.close - b.near) and (b.close - a.near):
        return []  # each value has a describing word of its own: "exports rose 5%" / "imports rose 3%"
    return sorted(shared)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _differ(A: _Sentence, B: _Sentence) -> list[tuple[str, str, str]]:
    """What two sentences from different documents give different values for: (about, A's, B's)."""
    names_a = A.names | ({A.initial} if A.initial and A.initial not in A.lower | B.lower else set())
    names_b = B.names | ({B.initial} if B.initial and B.initial not in A.lower | B.lower else set())
    if (A.pronoun or B.pronoun) and not names_a & names_b:
        return []  # "He was born in 1950" / "She was born in 1960": who, cannot be told
    years = {s.st.date[:4] for s in (A, B)}
    if (A.relative_year or B.relative_year) and len(years) > 1 and "" not in years:
        return []  # "this year" in documents dated in different years means different years
    overlap = _jaccard(A.bag, B.bag)
    found = []
    if overlap >= SAME_TOPIC and not (names_a - names_b and names_b - names_a):
        for a in A.values:
            if a.kind == "qty" and A.years and B.years and not A.years & B.years:
                continue  # figures of different years
            for b in B.values:
                if b.kind != a.kind or not a.unit & b.unit or a.scope or b.scope or _agreed(a, A, B) or _agreed(b, B, A):
                    continue
                shared = _same_thing(a, b)
                if shared:
                    found.append((f"{a.label} {A.words(shared, a.span)}".strip(), a.surface, b.surface))
                    break
    for ra in A.roles:
        for rb in B.roles:
            holders = ra.name | rb.name
            if ra.key == rb.key and not ra.name & rb.name and not ra.name <= B.names and not rb.name <= A.names \
                    and not ((names_a - holders) - names_b and (names_b - holders) - names_a) \
                    and _jaccard(A.bag - holders, B.bag - holders) >= SAME_CLAIM:
                found.append((ra.surface, ra.holder, rb.holder))
    if overlap >= SAME_CLAIM and not (names_a - names_b and names_b - names_a):
        found += (_stances(A, B) or [(about, vb, va) for about, va, vb in _stances(B, A)])[:1]
    return list({about: (about, va, vb) for about, va, vb in found}.values())


def _stances(A: _Sentence, B: _Sentence) -> list[tuple[str, str, str]]:
    """A says one of an opposite pair where B says the other ("approved" / "rejected"), or A
    negates a word B asserts ("decision not to send" / "decision to send"), about the same words
    (each word's occurrences paired by the context they share)."""
    def best(hits_a, hits_b):
        return max(((len(A.near(i) & B.near(j)), i, j) for i in hits_a for j in hits_b))

    out = []
    for (p, side), hits_a in A.poles.items():
        hits_b = B.poles.get((p, 1 - side))
        if hits_b and (p, 1 - side) not in A.poles and (p, side) not in B.poles:
            n, i, j = best(hits_a, hits_b)
            negated = any(w in _NEGATORS for s, k in ((A, i), (B, j)) for w in s.low[max(0, k - 3):k])
            if n >= 2 and not negated:
                out.append((f"stance on {A.words(A.near(i) & B.near(j), (i, i + 1))}", A.toks[i][0], B.toks[j][0]))
    for term, i in A.negated.items():
        hits_b = [j for j, t in enumerate(B.terms) if t == term]
        if hits_b and term not in B.negated and len(A.negated) > len(B.negated):
            n, i, j = best([i], hits_b)
            if n >= 2:
                k = max(k for k in range(max(0, i - 3), i) if A.low[k] in _NEGATORS or A.low[k].endswith("n't"))
                out.append((f"stance on {A.words(A.near(i) & B.near(j) | {term}, (k, k + 1))}", A._span(k, i), B.toks[j][0]))
    return out


def find_conflicts(statements: Sequence[Statement]) -> list[Disagreement]:
    """Where two or more of `statements` (sentences that are evidence for one question), from
    different documents, give different values for the same thing. Sides that state the same
    differing value as another side join its disagreement ("316", "316", "310")."""
    said = [_Sentence(s) for s in statements]
    groups: list[tuple[str, dict[str, str], set[str]]] = []  # about, key -> value, documents
    for x, A in enumerate(said):
        for B in said[x + 1:]:
            if A.st.doc_id == B.st.doc_id:
                continue  # one document's sentences are no sources that differ
            for about, va, vb in _differ(A, B):
                group = next((g for g in groups if g[0] == about and (A.st.key in g[1] or B.st.key in g[1])), None)
                if group is None:
                    groups.append((about, {A.st.key: va, B.st.key: vb}, {A.st.doc_id, B.st.doc_id}))
                    continue
                for side, value in ((A, va), (B, vb)):
                    if side.st.key not in group[1] and side.st.doc_id not in group[2]:
                        group[1][side.st.key] = value
                        group[2].add(side.st.doc_id)
    return [Disagreement(about, tuple(sides), tuple(sides.values())) for about, sides, _ in groups]
