"""What one sentence states, read so that sentences from different documents can be compared
(`rag.conflicts` uses it to find where sources differ): its figures with their units and
hedges, its dates, the names it mentions, who holds which role, and its stance words (either
side of an opposite pair, negated words), each value with the words around it that say what it
is about. Pure text logic over `rag.base.text`; every word list is a lexicon in
rag/base/lexicons/ (figures.txt, roles.txt, antonyms.txt, directions.txt, opposite_actions.txt,
negations.txt, name_words.txt): general English, no corpus's names.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from rag.base.lexicon import load_groups, load_pairs, load_words
from rag.base.text import STOPWORDS, canonical

_FIG = load_groups("figures.txt")
_ROLES = load_groups("roles.txt")


def _words(group: str) -> frozenset[str]:
    return frozenset(w.replace("_", " ") for w in _FIG[group])


def _valued(prefix: str) -> dict[str, int]:
    return {w: int(g.split("-")[1]) for g, ws in _FIG.items() if g.startswith(prefix + "-") for w in ws}


_NUMBER_WORDS, _DENOMINATORS, _SCALES, _MONTHS = (_valued(p) for p in ("number", "fraction", "scale", "month"))
_CURRENCY = {w: g.split("-")[1] for g, ws in _FIG.items() if g.startswith("currency-") for w in ws}
_PERCENT, _DATE_LEAD, _FISCAL, _PRONOUNS, _PRONOUNS_OTHER, _CLAUSE, _ORDINALS = (
    _words(g) for g in ("percent", "date-lead", "fiscal", "pronoun", "pronoun-other", "clause", "ordinal"))
_HEDGES = {w: h for h in ("about", "over", "under", "date-before", "date-after") for w in _words(h)}
_RELATIVE_YEAR = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in _words("relative-year")) + r")\b", re.I)
_TITLES, _ROLE_TIME = _ROLES["title"], _ROLES["time"]
_NOT_NAMES = load_groups("name_words.txt")["not_names"] | STOPWORDS | set(_MONTHS)
_NOT_HOLDERS = _NOT_NAMES | _TITLES | _ROLE_TIME  # words that are no part of a role holder's name
_DETERMINERS = {"the", "a", "an", "its", "their", "his", "her", "our", "this", "that", "these", "those"}
_STRONG_BREAK = set(";:()[]•")  # after these the words describe something else
_PHRASE_BREAK = set(",—–")  # ... and after these too, on a value's right: "2% of GDP, a target ..."
# Figures (whole: "48th" and "20s" are words), words with their apostrophes and hyphens, marks.
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\w)|\d+(?:\.\d+)?(?!\w)|\w+(?:['’]\w+)*(?:-\w+(?:['’]\w+)*)*|\S")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_YEAR = re.compile(r"(18|19|20)\d\d|2100")
NEAR, CLOSE = 4, 2  # content words each side of a value that say what it is / that must agree


def _forms(word: str) -> set[str]:
    """The inflections of an antonyms.txt base form (as rag/verify/rules.py derives them)."""
    base = word[:-1] if word.endswith("e") else word
    forms = {word, word + "s", base + "ed", base + "ing", base + "er", base + "est"}
    return forms | ({word[:-1] + "ies", word[:-1] + "ied"} if word.endswith("y") else set())


def _alternation(words) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")\b", re.I)


_DIRECTIONS = load_groups("directions.txt")
# Opposite word pairs: antonyms, the up/down words of change, opposite actions (already patterns).
OPPOSITES = [(_alternation(_forms(a)), _alternation(_forms(b))) for a, b in load_pairs("antonyms.txt")]
OPPOSITES.append((_alternation(_DIRECTIONS["up"]), _alternation(_DIRECTIONS["down"])))
OPPOSITES += [(re.compile(rf"\b(?:{a})\b", re.I), re.compile(rf"\b(?:{b})\b", re.I))
              for a, b in load_pairs("opposite_actions.txt")]
# Negators; a refusal word that is one side of an opposite pair ("rejected") is left to the pair.
NEGATORS = {w for w in load_words("negations.txt") if not any(p.fullmatch(w) for pair in OPPOSITES for p in pair)}


def _possessive(word: str) -> bool:
    return word.endswith(("'s", "’s"))


def fold(word: str) -> str:
    """The form context words are compared in: `rag.base.text.canonical`, then -ing/-ed/-e
    dropped, so that "signed" meets "signs" and "raising" meets "raised"."""
    word = canonical(word)
    for suffix in ("ing", "ed", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass
class Value:
    kind: str  # "qty" | "date" | "fiscal" (a fiscal year is not a calendar year)
    unit: frozenset[str]  # what it counts: a currency, "%", or the words after the figure
    value: tuple  # qty: (low, high, figure, hedged), the range it allows; dates: (year, month, day, hedge)
    span: tuple[int, int]  # its tokens
    surface: str = ""  # as written
    label: str = ""  # what the unit is called ("percent", "seats", "date")
    near: frozenset[str] = frozenset()  # the words around it that say what it is (NEAR each side)
    close: frozenset[str] = frozenset()  # the nearest of them (CLOSE each side)
    scope: bool = False  # a date just by a figure says when the figure holds, not when an event was


@dataclass
class Role:
    key: frozenset[str]  # the title and the words that qualify it ("japan", "defense", "minister")
    name: frozenset[str]  # the holder's name words
    surface: str  # the role as written
    holder: str  # the name as written


class Sentence:
    """One sentence read once: tokens, content terms, values, names, roles and stance words."""

    def __init__(self, text: str):
        self.text = text = re.sub(r"\bU\.S\.(?:A\.)?", "US", re.sub(r"\bU\.K\.", "UK", text))
        self.toks = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        self.low = [t.lower() for t, _, _ in self.toks]
        self.terms = [fold(w) if w[0].isalpha() and w not in STOPWORDS and len(w) > 1 else "" for w in self.low]
        self.values: list[Value] = []
        self.used: set[int] = set()
        self.ids: set[str] = set()  # figures and ordinals that are part of a name ("#2012" of "the 2012 season")
        self._dates()
        self._quantities()
        valued = {i for v in self.values for i in range(*v.span)}
        self.bag = frozenset(t for i, t in enumerate(self.terms) if t and i not in valued)  # its content words
        for v in self.values:
            v.near, v.close = self._context(v.span, valued)
            v.scope = v.kind != "qty" and any(q.kind == "qty" and max(v.span[0] - q.span[1], q.span[0] - v.span[1]) <= 3
                                              for q in self.values)
        self.years = frozenset(v.value[0] for v in self.values if v.kind != "qty" and v.value[0])
        caps = [i for i, (t, _, _) in enumerate(self.toks)
                if t[0].isupper() and self.terms[i] and self.low[i] not in _NOT_NAMES and i not in valued]
        self.ids |= {f"#{w}" for w in self.low if re.fullmatch(r"\d+(?:st|nd|rd|th)", w) or w in _ORDINALS}
        first = next((i for i, w in enumerate(self.low) if w[0].isalpha()), -1)
        # The first word is capitalised anyway; whether it is a name is told against the other sentence.
        self.names = frozenset(self.terms[i] for i in caps if i != first) | self.ids
        self.initial = self.terms[first] if first in caps else ""
        self.lower = frozenset(t for i, t in enumerate(self.terms) if t and self.toks[i][0].islower())
        # A pronoun with no name before it: who or what the sentence is about is not in it.
        self.pronoun = (first >= 0 and self.low[first] in _PRONOUNS_OTHER) or any(
            w in _PRONOUNS and not any(k in caps for k in range(i)) for i, w in enumerate(self.low))
        self.relative_year = bool(_RELATIVE_YEAR.search(text))
        self.roles = self._roles()

    @functools.cached_property
    def poles(self) -> dict[tuple[int, int], list[int]]:
        """(opposite pair, side) -> where its words are; read only for the few sentence pairs that
        are nearly the same sentence."""
        starts, poles = [s for _, s, _ in self.toks], {}
        for p, pair in enumerate(OPPOSITES):
            for side, pattern in enumerate(pair):
                hits = [bisect.bisect_right(starts, m.start()) - 1 for m in pattern.finditer(self.text)]
                if hits:
                    poles[(p, side)] = hits
        return poles

    @functools.cached_property
    def negated(self) -> dict[str, int]:
        """Content term -> where it is negated: the first content word within three after a
        negator ("decision not to send" -> send; "not only" negates nothing)."""
        negated: dict[str, int] = {}
        for i, w in enumerate(self.low):
            if self.is_negator(i) and not (i + 1 < len(self.low) and self.low[i + 1] == "only"):
                j = next((j for j in range(i + 1, min(i + 4, len(self.terms))) if self.terms[j]), None)
                if j is not None:
                    negated.setdefault(self.terms[j], j)
        return negated

    def is_negator(self, i: int) -> bool:
        return self.low[i] in NEGATORS or self.low[i].endswith("n't")

    def _is_num(self, i: int) -> bool:
        return 0 <= i < len(self.toks) and bool(_NUMBER.fullmatch(self.toks[i][0])) and i not in self.used

    def _add(self, kind: str, unit, value, i0: int, i1: int, label: str = "date") -> None:
        self.used.update(range(i0, i1))
        self.values.append(Value(kind, frozenset(unit), value, (i0, i1), self.span(i0, i1 - 1), label))

    def _hedge(self, i: int) -> tuple[str, int]:
        """The hedge just before token i ("more than", "about"; over an "a": "more than a dozen")."""
        at = i - 1 if i >= 1 and self.low[i - 1] in ("a", "an") else i
        if at >= 2 and f"{self.low[at - 2]} {self.low[at - 1]}" in _HEDGES:
            return _HEDGES[f"{self.low[at - 2]} {self.low[at - 1]}"], at - 2
        return (_HEDGES[self.low[at - 1]], at - 1) if at >= 1 and self.low[at - 1] in _HEDGES else ("", i)

    def _dates(self) -> None:
        low, n = self.low, len(self.toks)
        for i, w in enumerate(low):
            fiscal = re.fullmatch(r"fy'?(\d{4})", w)
            if fiscal or w in _FISCAL or f"{w} {low[i + 1] if i + 1 < n else ''}" in _FISCAL:
                j = i + (0 if fiscal else 1 if w in _FISCAL else 2)
                if fiscal or (self._is_num(j) and _YEAR.fullmatch(low[j])):
                    year = int(fiscal.group(1) if fiscal else low[j])
                    self._add("fiscal", {"fiscal"}, (year, None, None, ""), i, j + 1)
            month = _MONTHS.get(w) if self.toks[i][0][0].isupper() else None
            if not month:
                continue
            s, j = i, i + 2 if i + 1 < n and low[i + 1] == "." else i + 1  # "Jan. 13"
            day = year = None
            if self._is_num(j) and len(low[j]) <= 2 and 1 <= int(low[j]) <= 31:
                day, j = int(low[j]), j + 1
                j = j + 1 if j < n and low[j] == "," and self._is_num(j + 1) else j
            elif self._is_num(i - 1) and len(low[i - 1]) <= 2 and 1 <= int(low[i - 1]) <= 31:  # "13 January"
                day, s = int(low[i - 1]), i - 1
            if self._is_num(j) and _YEAR.fullmatch(low[j]):
                year, j = int(low[j]), j + 1
            if day or year or (i and low[i - 1] in _DATE_LEAD):  # a bare "May" or "March" is a word
                hedge, start = self._hedge(s)
                self._add("date", {"date"}, (year, month, day, hedge), start, max(j, i + 1))
        for i, w in enumerate(low):
            if not self._is_num(i) or not _YEAR.fullmatch(w):
                continue
            iso = [t for t, _, _ in self.toks[i + 1:i + 5]]
            if len(iso) == 4 and iso[0] == iso[2] == "-" and all(len(t) == 2 and t.isdigit() for t in iso[1::2]) \
                    and 1 <= int(iso[1]) <= 12:  # "2026-02-10"
                self._add("date", {"date"}, (int(w), int(iso[1]), int(iso[3]), ""), i, i + 5)
                continue
            years, k = [int(w)], i + 1
            if k + 1 < n and low[k] in ("-", "–") and self._is_num(k + 1) and len(low[k + 1]) in (2, 4):  # "1910-45"
                years.append(int(low[k + 1] if len(low[k + 1]) == 4 else w[:2] + low[k + 1]))
                k += 2
            if self._identifier(i, k):
                self.ids.update(f"#{y}" for y in years)  # "the 2012–13 Rams", "the 2009 election": a name
                self.used.update(range(i, k))
                continue
            after = self.toks[k][0] if k < n else ""
            if len(years) == 1 and after[:1].islower() and self.terms[k] and (not i or low[i - 1] not in _DATE_LEAD):
                continue  # "2000 troops": a count
            hedge, start = self._hedge(i)
            self._add("date", {"date"}, (years[0], None, None, hedge), start, i + 1)
            if len(years) > 1:
                self._add("date", {"date"}, (years[1], None, None, ""), i + 2, k)

    def _identifier(self, i: int, k: int) -> bool:
        """Whether the figure at tokens i..k-1 is part of a name, not a quantity or a date: before a
        capitalised word ("No. 2 Squadron", "the 2022 Defense Strategy"; not "in 2013 Japan"), after "No.", or a year
        between a determiner or a possessive and a noun ("the 2009 election", "Japan's 1910-45
        occupation"): two such names with different years are two things, not a disagreement."""
        after = self.toks[k][0] if k < len(self.toks) else ""
        before = self.low[i - 1] if i else ""
        capital = after[:1].isupper() and self.terms[k] and self.low[k] not in _MONTHS and before not in _DATE_LEAD
        year = (after[:1].islower() and self.terms[k] and bool(_YEAR.fullmatch(self.low[i]))
                and (before in _DETERMINERS or _possessive(before)))
        return bool(capital or year or (before == "." and i > 1 and self.low[i - 2] == "no"))

    def _quantities(self) -> None:
        low, n = self.low, len(self.toks)
        for i, w in enumerate(low):
            parts = w.split("-")
            fraction = len(parts) == 2 and parts[0] in _NUMBER_WORDS and parts[1] in _DENOMINATORS
            if fraction:  # "two-thirds"
                number, decimals = _NUMBER_WORDS[parts[0]] / _DENOMINATORS[parts[1]], 3
            elif self._is_num(i) and self._identifier(i, i + 1):
                self.ids.add(f"#{w}")  # "No. 2 Squadron", "458 U.S. 718": a name, it counts nothing
                continue
            elif self._is_num(i):
                number, decimals = float(w.replace(",", "")), len(w.partition(".")[2])
            elif w in _NUMBER_WORDS and not (i and self.toks[i - 1][0][0].isupper() and not _possessive(low[i - 1])):
                number, decimals = _NUMBER_WORDS[w], 0  # "three documents", "Japan's three", not "World War Two"
            else:
                continue
            currency = _CURRENCY.get(low[i - 1]) if i else None
            hedge, start = self._hedge(i - 1 if currency else i)
            unit, j, scale, label = self._unit(i, currency, fraction)
            if not unit and i + 2 < n and low[i + 1] in ("to", "and", "or", "-", "–"):
                unit, _, scale, label = self._unit(i + 2, currency, fraction)  # "between 300 and 320 seats"
                j = i + 1
            if not unit or (not fraction and j > i + 1 and self.toks[i + 1][0][:1].isupper()):
                continue  # a bare number ("Article 9 of") or a name ("Three Principles"): it counts nothing
            if j < n and low[j] in ("+", "plus"):
                hedge, j = "over", j + 1
            x, ulp = number * scale, 10.0 ** -decimals * scale / 2
            hedged = {"about": (x * 0.75, x * 1.25, x, 1), "over": (x, float("inf"), x, 1),
                      "under": (float("-inf"), x, x, 1)}
            self._add("qty", unit, hedged.get(hedge, (x - ulp, x + ulp, x, 0)), start, j, label)

    def _unit(self, i: int, currency: str | None, fraction: bool) -> tuple[set[str], int, float, str]:
        """What the figure at token i counts, where the value ends, its scale and the unit's name:
        a currency ("$4.2 billion", "43 trillion yen"), "%", or the word after it ("316 seats",
        "26-year alliance"; the words after that are context, so "330 meters tall" is not
        "1,083 feet tall")."""
        low, n = self.low, len(self.toks)
        unit, j, scale = {currency} if currency else set(), i + 1, 1.0
        if j < n and low[j] in _SCALES:
            scale, j = 10.0 ** _SCALES[low[j]], j + 1
        if unit:
            return unit, j, scale, currency
        if j < n and (low[j] in _PERCENT or f"{low[j]} {low[j + 1] if j + 1 < n else ''}" in _PERCENT):
            return {"%"}, j + (1 if low[j] in _PERCENT else 2), scale, "percent"
        if j < n and low[j] in _CURRENCY:
            return {_CURRENCY[low[j]]}, j + 1, scale, _CURRENCY[low[j]]
        j += 1 if j < n and low[j] == "-" else 0
        if fraction and j + 1 < n and low[j] == "of":  # "two-thirds of the members"
            j += 2 if low[j + 1] in _DETERMINERS else 1
        if not (j < n and self.terms[j] and low[j] not in _CLAUSE and low[j] not in _MONTHS):
            return set(), j, scale, ""
        return {("/" if fraction else "") + self.terms[j]}, j + 1, scale, low[j]

    def _context(self, span: tuple[int, int], valued: set[int]) -> tuple[frozenset[str], frozenset[str]]:
        """Content words before the value (up to NEAR, over commas and dashes: "its summit, Jan. 13")
        and after it (up to the next comma or dash: that starts another phrase); the nearest CLOSE
        of each side are the words that must agree."""
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
                and self.low[i] not in _NOT_HOLDERS:
            run.append(i)
            i += step
        return run if step == 1 else run[::-1]

    def _roles(self) -> list[Role]:
        """Who holds which role: "Defense Minister X" (a title, then the name) and "X, the security
        chair at Y," (a name, then an apposition holding a title). A role after a word of another
        time ("former President X") is left out: its holder then is no disagreement with now."""
        roles, low = [], self.low
        for i, w in enumerate(low):
            if w not in _TITLES or _possessive(w):
                continue
            name = self._name_run(i + 1, 1)
            if name and name[-1] + 1 < len(low) and low[name[-1] + 1] in _TITLES:
                continue  # "party president Prime Minister X": the capitalised words open the next role
            # the words qualifying the title: "Japan's Defense Minister", "fourth-year head coach"
            qualifiers = [k for k in range(max(0, i - 4), i) if all(self.terms[m] for m in range(k, i))]
            start = qualifiers[0] if qualifiers else i
            if name and not any(low[k] in _ROLE_TIME for k in range(max(0, start - 2), i)):
                key = {self.terms[k] for k in range(start, i + 1)}
                after = name[-1] + 1
                if after < len(low) and low[after] == "of":  # "Professor X of Tokyo University"
                    key |= {self.terms[k] for k in self._name_run(after + 1, 1)}
                roles.append(Role(frozenset(key), frozenset(self.terms[k] for k in name), self.span(start, i),
                                  self.span(name[0], name[-1])))
        for c, w in enumerate(low):
            name = self._name_run(c - 1, -1) if w == "," else []
            end = next((k for k in range(c + 1, min(c + 14, len(low))) if low[k] in ",;"), None)
            if name and end and any(low[k] in _TITLES for k in range(c + 1, end)) \
                    and not any(low[k] in _ROLE_TIME for k in range(c + 1, end)):
                key = frozenset(self.terms[k] for k in range(c + 1, end) if self.terms[k])
                roles.append(Role(key, frozenset(self.terms[k] for k in name), self.span(c + 1, end - 1),
                                  self.span(name[0], name[-1])))
        return roles

    def span(self, i: int, j: int) -> str:
        """Tokens i..j as written."""
        return self.text[self.toks[i][1]:self.toks[j][2]]

    def words(self, terms: set[str], skip: tuple[int, int]) -> str:
        """The three of `terms` nearest to tokens `skip` (a value), as this sentence writes them and
        in its order: what `about` calls the thing ("revised Kishida administration")."""
        at = [i for i, t in enumerate(self.terms) if t in terms and not skip[0] <= i < skip[1]]
        nearest = sorted(at, key=lambda i: skip[0] - i if i < skip[0] else i - skip[1])
        seen: dict[str, int] = {}
        for i in nearest:
            seen.setdefault(self.toks[i][0], i)
        return " ".join(sorted(list(seen)[:3], key=seen.get))

    def near(self, i: int, width: int = 3) -> set[str]:
        """Up to `width` content words each side of token i."""
        return set([t for t in self.terms[:i] if t][-width:]) | set([t for t in self.terms[i + 1:] if t][:width])


def agree(a: Value, b: Value) -> bool:
    """Whether two values of one unit can both be true. Figures: with a hedge, the ranges they
    allow meet ("about 300" and 316); without, the finer rounds to the coarser (4.17 to 4.2, 4.2
    to 4; not 2.5 to 2). Dates: the same year, month and day wherever both give one, a hedge
    ("before 2027") widening the date to a range."""
    if a.kind == "qty" and (a.value[3] or b.value[3]):
        return a.value[0] < b.value[1] and b.value[0] < a.value[1]
    if a.kind == "qty":
        fine, coarse = sorted((a.value, b.value), key=lambda v: v[1] - v[0])
        return fine[2] == coarse[2] or coarse[0] < fine[2] < coarse[1]
    if a.value[0] and b.value[0]:
        (lo_a, hi_a), (lo_b, hi_b) = interval(a), interval(b)
        return lo_a <= hi_b and lo_b <= hi_a
    (_, ma, da, _), (_, mb, db, _) = a.value, b.value  # no year on one side: "October 24" / "October 2025"
    return not (ma and mb) or (ma == mb and (not da or not db or da == db))


def interval(v: Value) -> tuple[float, float] | None:
    """The range a value allows: a figure's as read; a dated value's as day numbers (a year, a
    month or a day, widened by its hedge); None for a date without a year."""
    if v.kind == "qty":
        return v.value[:2]
    year, month, day, hedge = v.value
    if not year:
        return None
    lo = (year * 12 + (month or 1) - 1) * 31 + (day or 1) - 1
    hi = lo + (0 if day else 30 if month else 371)
    hedges = {"date-before": (float("-inf"), hi), "date-after": (lo, float("inf")), "about": (lo - 372, hi + 372)}
    return hedges.get(hedge, (lo, hi))
