"""Relative date phrases in document text ("last month", "on Monday", "this autumn", "two weeks
ago", "Jan. 13") and the calendar arithmetic that resolves them against a document's date; the
public functions over them are in rag.dates.

The phrases are regular expressions over the word lists in rag/base/lexicons/ (months.txt,
weekdays.txt, seasons.txt, relative_dates.txt, relative_days.txt, number_words.txt). Dates
written in full ("October 2025", "Dec. 29, 2025") are matched too, only so that the relative
rules cannot take a piece of them ("October" of "October 2025"), and are never reported.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from rag.base.lexicon import load_groups, load_pairs

_MONTH_GROUPS = load_groups("months.txt")
MONTH_OF = {name: int(k) for k, names in _MONTH_GROUPS.items() if k.isdigit() for name in names}
FULL_MONTH = {int(k): max(names, key=len).capitalize() for k, names in _MONTH_GROUPS.items() if k.isdigit()}
_AMBIGUOUS_MONTHS = _MONTH_GROUPS["ambiguous"]
WEEKDAY_OF = {name: int(k) for k, names in load_groups("weekdays.txt").items() for name in names}
_FULL_WEEKDAY = {n: name.capitalize() for name, n in WEEKDAY_OF.items()}
SEASONS = {name: tuple(int(m) for m in months.split()) for name, months in load_pairs("seasons.txt")}
_SEASON_LABEL = {months: name for name, months in reversed(list(SEASONS.items()))}  # first listed wins
_DAY_PHRASES = {phrase: int(days) for phrase, days in load_pairs("relative_days.txt")}
_NUMBERS = {word: int(n) for word, n in load_pairs("number_words.txt")}
_W = load_groups("relative_dates.txt")
# A unit as (days, months): weeks count in days, quarters and years in months.
_UNITS = {"day": (1, 0), "week": (7, 0), "month": (0, 1), "quarter": (0, 3), "year": (0, 12), "decade": (0, 120)}
_UNIT_OF = {word: unit for unit in _UNITS for word in _W[unit]}
# The thirds of a month, year or season: a rule, like the units, rather than a word list.
PARTS = {"early": 0, "mid": 1, "late": 2}


def _alt(words, ci: bool = True) -> str:
    body = "|".join(sorted(words, key=len, reverse=True))
    return f"(?i:{body})" if ci else f"(?:{body})"


# Month and weekday names must be capitalised in a document: "may" the verb, "march" the walk.
# Abbreviations may take a period, full names not (it would swallow a sentence's full stop).
_MON = _alt([n.capitalize() + ("" if n == FULL_MONTH[k].lower() else r"\.?") for n, k in MONTH_OF.items()], ci=False)
_WD = _alt([n.capitalize() for n in WEEKDAY_OF], ci=False)
_SEASON = _alt(SEASONS)
_NUM = "(?:" + _alt(map(re.escape, _NUMBERS)) + r"|\d{1,3})"
_UNIT = _alt(_UNIT_OF)
_UNIT1 = _alt(_UNITS)  # singular: "last month", not "last months"
_ORD = r"(?:st|nd|rd|th)?"
_PART = _alt(PARTS)
_DAY_PHRASE = _alt(r"\s+".join(map(re.escape, p.split())) for p in _DAY_PHRASES)
_DAY_NUM = rf"(?P<day>\d{{1,2}}){_ORD}\b"
_ABSOLUTE = [  # written in full: claimed so that no relative rule takes a piece of them
    rf"(?:{_WD},?\s+)?{_MON}\s+\d{{1,2}}{_ORD},?\s+\d{{4}}\b",
    rf"(?:{_WD},?\s+)?\d{{1,2}}{_ORD}\s+(?:of\s+)?{_MON},?\s+\d{{4}}\b",
    rf"(?:{_PART}[-\s]+)?{_MON},?\s+(?:of\s+)?\d{{4}}\b",
    rf"(?:{_PART}[-\s]+)?{_SEASON}\s+(?:of\s+)?\d{{4}}\b",
]
_MOD = rf"(?i:this\s+past|{'|'.join(_W['last'] | _W['this'] | _W['next'])})"  # "last", "this past", "next"
_RULES: list[tuple[str, re.Pattern]] = [(kind, re.compile(p)) for kind, p in [
    *[("absolute", p) for p in _ABSOLUTE],
    ("day", rf"\b{_DAY_PHRASE}\b"),
    ("weekday", rf"\b(?:(?P<mod>{_MOD}|(?i:on))\s+)?(?P<wd>{_WD})\b"),
    ("month_day", rf"\b(?:{_WD},?\s+)?(?:(?P<mon>{_MON})\s+{_DAY_NUM}"
                  rf"|{_DAY_NUM.replace('day>', 'day2>')}\s+(?:(?i:of)\s+)?(?P<mon2>{_MON}))"),
    ("month", rf"\b(?P<mod>{_MOD})\s+(?P<mon>{_MON})(?!\w)"),
    ("month", rf"\b(?:(?P<part>{_PART})[-\s]+)?(?P<mon>{_MON})(?!\w)(?![.\s]*\d)"),  # not "Feb. 30"
    ("season", rf"\b(?P<mod>{_MOD})\s+(?P<s>{_SEASON})\b"),
    ("season", rf"\b(?:(?P<part>{_PART})[-\s]+)?(?P<s>{_SEASON})\b(?!\s+(?i:of)\b)"),
    # Before "unit": of two equally long matches the first rule's wins, and "the last month" is
    # the month up to the document date, not the calendar month before it.
    ("rolling", rf"\b(?i:the|this)\s+{_alt(_W['rolling'])}(?:\s+(?P<n>{_NUM}))?\s+(?P<u>{_UNIT})\b"),
    ("unit", rf"\b(?P<mod>(?i:the\s+)?{_MOD})\s+(?P<u>{_UNIT1})\b"),
    # not "two years earlier than planned", which counts from the plan, not the document date
    ("ago", rf"\b(?P<n>{_NUM})\s+(?P<u>{_UNIT})\s+{_alt(_W['ago'])}\b(?!\s+(?i:than)\b)"),
    ("within", rf"\b(?P<w>{_alt(_W['earlier_in'] | _W['later_in'])})\s+(?i:this)\s+"
               rf"(?P<u>{_alt(('week', 'month', 'year'))})\b"),
    ("part_unit", rf"\b(?P<part>{_PART})[-\s]+(?P<mod>{_MOD})\s+(?P<u>{_alt(('month', 'year'))})\b"),
]]


# Months are counted as one integer, year * 12 + month - 1, so that arithmetic crosses years.
def mi(y: int, m: int) -> int:
    return y * 12 + m - 1


def ym(i: int) -> tuple[int, int]:
    return i // 12, i % 12 + 1


def month_days(i: int) -> tuple[date, date]:
    y, m = ym(i)
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def _shift_months(d: date, n: int) -> date:
    y, m = ym(mi(d.year, d.month) + n)
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _day_label(d: date) -> str:
    return f"{_FULL_WEEKDAY[d.weekday()]} {d.day} {FULL_MONTH[d.month]} {d.year}"


def day_note(d: date) -> tuple[str, str]:
    return d.isoformat(), _day_label(d)


def days_span(a: date, b: date) -> tuple[str, str]:
    if a == b:
        return day_note(a)
    if (a.year, a.month) == (b.year, b.month):
        label = f"{a.day}–{b.day} {FULL_MONTH[a.month]} {a.year}"
    elif a.year == b.year:
        label = f"{a.day} {FULL_MONTH[a.month]} – {b.day} {FULL_MONTH[b.month]} {a.year}"
    else:
        label = f"{a.day} {FULL_MONTH[a.month]} {a.year} – {b.day} {FULL_MONTH[b.month]} {b.year}"
    return f"{a.isoformat()}/{b.isoformat()}", label


def _month_iso(i: int) -> str:
    return "%04d-%02d" % ym(i)


def _abbr(i: int) -> str:
    return FULL_MONTH[ym(i)[1]][:3]


def months_span(i: int, j: int, label: str = "") -> tuple[str, str]:
    (y, m), (y2, m2) = ym(i), ym(j)
    if i == j:
        return _month_iso(i), label or f"{FULL_MONTH[m]} {y}"
    if not label:
        label = f"{FULL_MONTH[m]}–{FULL_MONTH[m2]} {y}" if y == y2 else \
            f"{FULL_MONTH[m]} {y} – {FULL_MONTH[m2]} {y2}"
    return f"{_month_iso(i)}/{_month_iso(j)}", label


def season_span(months: tuple[int, ...], start: int, part: str = "") -> tuple[str, str]:
    """The occurrence of a season whose first month is `start` (a month index)."""
    y = ym(start)[0]
    year = f"{y}–{(y + 1) % 100:02d}" if months[0] > months[-1] else str(y)
    if part:
        lo = hi = start + PARTS[part]
        word = f"{part} {_SEASON_LABEL[months]}"
    else:
        lo, hi, word = start, start + len(months) - 1, _SEASON_LABEL[months]
    names = "–".join(dict.fromkeys(_abbr(i) for i in (lo, hi)))
    return months_span(lo, hi, f"{word} {year} ({names})")


def quarter_span(q: int) -> tuple[str, str]:
    """Quarter q counted like months (year * 4 + quarter - 1): "Q3 2025 (Jul–Sep)"."""
    first = q * 3
    return months_span(first, first + 2, f"Q{q % 4 + 1} {q // 4} ({_abbr(first)}–{_abbr(first + 2)})")


def part_of_year(y: int, part: str) -> tuple[int, int]:
    """The month indexes of early/mid/late year y: a third of a year is four months ("late 2025"
    is September-December)."""
    lo = mi(y, 1) + 4 * PARTS[part]
    return lo, lo + 3


def part_of_month(i: int, part: str) -> tuple[date, date]:
    """Early/mid/late in month i: days 1-10, 11-20, 21 to the end."""
    first, last = month_days(i)
    third = PARTS[part]
    return first.replace(day=1 + 10 * third), (last if third == 2 else first.replace(day=10 + 10 * third))


class AsOf:
    """The document date: `day` when known to the day, else None; `mi` its month index; `bound`
    the last day it may mean (its own day, or the last day of its month)."""

    def __init__(self, text: str):
        self.day: date | None = None
        match = re.fullmatch(r"\s*(\d{4})-(\d{2})(?:-(\d{2}))?\s*", text or "")
        y, m = int(match[1]), int(match[2])  # raises on no match: callers catch
        if not 1000 <= y < 9000:
            raise ValueError(f"not a document date: {text!r}")  # keeps the arithmetic inside the calendar
        self.mi = mi(y, m)
        self.bound = month_days(self.mi)[1]
        if match[3]:
            self.day = self.bound = date(y, m, int(match[3]))


def _words_before(text: str, start: int, n: int) -> list[str]:
    """Up to n words before `start` within its clause, lower-cased."""
    clause = re.split(r"[.;:!?]\s", text[:start])[-1]
    return [w.lower() for w in re.findall(r"[\w']+", clause)][-n:]


def _future(text: str, start: int) -> bool:
    """A future word shortly before ("will meet on Monday"): a bare date is then ahead, not past."""
    return any(w in _W["future"] or w.endswith("'ll") for w in _words_before(text, start, 8))


def _cued(text: str, start: int, cues: frozenset[str]) -> bool:
    """A date word right before ("in May", "since the spring"), skipping an article."""
    words = [w for w in _words_before(text, start, 2) if w != "the"]
    return bool(words) and words[-1] in cues


def latest(k: int, i: int) -> int:
    """The latest month index <= i whose month is k (1..12)."""
    return i - (i - (k - 1)) % 12


def month_day(k: int, d: int, a: AsOf, ahead: bool) -> date | None:
    """Day d of month k: the latest not after the document date, or with `ahead` the first on or
    after it; None when no year has that day (31 April)."""
    days = []
    for y in range(a.bound.year - 8, a.bound.year + 9):  # 8 years finds every 29 February
        if d <= calendar.monthrange(y, k)[1]:
            days.append(date(y, k, d))
    if ahead:
        days = [x for x in days if x >= (a.day or month_days(a.mi)[0])]
        return days[0] if days else None
    days = [x for x in days if x <= a.bound]
    return days[-1] if days else None


def _on_day(kind: str, g: dict, mod: str, text: str, start: int, a: AsOf) -> tuple[str, str] | None:
    """"yesterday", "last Monday", "Jan. 13": one day."""
    if kind == "month_day":
        k, d = MONTH_OF[(g["mon"] or g["mon2"]).lower().rstrip(".")], int(g["day"] or g["day2"])
        found = month_day(k, d, a, _future(text, start)) if 1 <= d <= 31 else None
        return day_note(found) if found else None
    if not a.day:
        return None  # a document dated to the month has no "yesterday"
    if kind == "day":
        return day_note(a.day + timedelta(_DAY_PHRASES[" ".join(g["phrase"].lower().split())]))
    wd, today = WEEKDAY_OF[g["wd"].lower()], a.day.weekday()
    back, ahead = (today - wd) % 7, (wd - today) % 7
    if mod == "last":
        return day_note(a.day - timedelta(back or 7))
    if mod == "next":
        return day_note(a.day + timedelta(ahead or 7))
    if mod == "this":  # the one in the document date's week, Monday to Sunday
        return day_note(a.day + timedelta(wd - today))
    return day_note(a.day + timedelta(ahead) if _future(text, start) else a.day - timedelta(back))


def _named(kind: str, g: dict, mod: str, part: str, text: str, m: re.Match, a: AsOf) -> tuple[str, str] | None:
    """"last October", "in early May", "this winter": a named month or season."""
    y, mo = ym(a.mi)
    if kind == "month":
        name = g["mon"].lower().rstrip(".")
        k = MONTH_OF[name]
        if not mod and not part:
            if name in _AMBIGUOUS_MONTHS and not _cued(text, m.start(), _W["cue"]):
                return None  # "May said": the name, not the month
            if re.match(r"\s+[A-Z][a-z]", text[m.end():]):
                return None  # "the October Revolution": a month name before a name is part of that name
        if mod == "this":
            i = mi(y, k)
        elif mod == "last":
            i = latest(k, a.mi - 1)
        elif mod == "next":
            i = a.mi + 1 + (k - 1 - (a.mi + 1)) % 12
        else:
            i = a.mi + (k - mo) % 12 if _future(text, m.start()) else latest(k, a.mi)
        return days_span(*part_of_month(i, part)) if part else months_span(i, i)
    if not mod and not part and not _cued(text, m.start(), _W["season_cue"]):
        return None  # "prices fall", "spring" the noun: a bare season needs "in", "since"...
    months = SEASONS[g["s"].lower()]
    begun = latest(months[0], a.mi)  # the latest occurrence begun by the document date
    current = begun if a.mi - begun < len(months) else None
    if mod == "last":  # the latest one over: in December, "last autumn" is the one just ended
        start = begun - 12 if current is not None else begun
    elif mod == "next":
        start = begun + 12
    elif mod == "this":  # the one under way, else the one that starts in the same year
        start = current if current is not None else mi(y, months[0])
    elif _future(text, m.start()):
        start = current if current is not None else begun + 12
    else:
        start = begun
    return season_span(months, start, part)


def _in_units(kind: str, g: dict, mod: str, part: str, a: AsOf) -> tuple[str, str] | None:
    """"last week", "the past six months", "two years ago", "earlier this year", "late last year"."""
    y = ym(a.mi)[0]
    unit = _UNIT_OF[g["u"].lower()]
    days, months = _UNITS[unit]
    shift = {"last": -1, "this": 0, "next": 1}.get(mod, 0)
    n = _NUMBERS.get((g.get("n") or "one").lower()) or int(g["n"])
    if kind == "unit":
        if unit == "week":
            monday = a.day - timedelta(a.day.weekday()) + timedelta(7 * shift) if a.day else None
            return days_span(monday, monday + timedelta(6)) if monday else None
        if unit == "quarter":
            return quarter_span(a.mi // 3 + shift)
        if unit == "month":
            return months_span(a.mi + shift, a.mi + shift)
        return (str(y + shift), str(y + shift)) if unit == "year" else None  # not "the next day"
    if kind == "rolling":  # a stretch ending at the document date
        if a.day:
            start = a.day - timedelta(days * n) if days else _shift_months(a.day, -months * n)
            return days_span(start, a.day)
        return months_span(a.mi - months * n, a.mi) if months else None
    if kind == "ago":
        if days:
            return day_note(a.day - timedelta(days * n)) if a.day else None
        if unit == "month":
            return months_span(a.mi - n, a.mi - n)
        if unit == "quarter":
            return quarter_span((a.mi - 3 * n) // 3)
        return str(y - months // 12 * n), str(y - months // 12 * n)
    if kind == "within":  # "earlier this year": from the unit's start to the date, or on to its end
        early = g["w"].lower() in _W["earlier_in"]
        if unit == "year":
            return months_span(mi(y, 1), a.mi) if early else months_span(a.mi, mi(y, 12))
        if not a.day:
            return None
        monday = a.day - timedelta(a.day.weekday())
        first, last = (monday, monday + timedelta(6)) if unit == "week" else month_days(a.mi)
        return days_span(first, a.day) if early else days_span(a.day, last)
    if unit == "year":  # part_unit: "late last year", "early next month"
        lo, hi = part_of_year(y + shift, part)
        return months_span(lo, hi, f"{part} {y + shift} ({_abbr(lo)}–{_abbr(hi)})")
    return days_span(*part_of_month(a.mi + shift, part))


def _resolve(kind: str, m: re.Match, text: str, a: AsOf) -> tuple[str, str] | None:
    g = {**m.groupdict(), "phrase": m[0]}
    mod = re.sub(r"^the ", "", " ".join(g["mod"].lower().split())) if g.get("mod") else ""
    mod = "last" if mod == "this past" or mod in _W["last"] else mod
    mod = "this" if mod in _W["this"] else "next" if mod in _W["next"] else mod
    part = (g.get("part") or "").lower()
    if kind in ("day", "weekday", "month_day"):
        return _on_day(kind, g, mod, text, m.start(), a)
    if kind in ("month", "season"):
        return _named(kind, g, mod, part, text, m, a)
    return _in_units(kind, g, mod, part, a)


def find(text: str, as_of: str) -> list[tuple[int, int, str, str]]:
    """(start, end, resolved, label) of the relative date phrases in `text`, resolved against the
    document date `as_of` ("YYYY-MM-DD" or "YYYY-MM"; anything else gives []). In text order, not
    overlapping, the longest match winning (of two as long, the earlier rule's). The rules are
    listed in rag.dates."""
    try:
        a = AsOf(as_of)
    except (TypeError, ValueError):
        return []
    found = []
    for kind, pattern in _RULES:
        for m in pattern.finditer(text):
            try:
                resolved = None if kind == "absolute" else _resolve(kind, m, text, a)
            except (ValueError, OverflowError):  # past the calendar's ends (year 1, year 9999)
                continue
            if kind == "absolute" or resolved:
                found.append((m.start(), m.end(), kind, resolved))
    taken: list[tuple[int, int, str, tuple[str, str] | None]] = []
    for item in sorted(found, key=lambda f: (f[0] - f[1], f[0])):  # longest first; stable sort keeps rule order
        if all(item[1] <= t[0] or item[0] >= t[1] for t in taken):
            taken.append(item)
    return [(s, e, *r) for s, e, kind, r in sorted(taken) if kind != "absolute"]
