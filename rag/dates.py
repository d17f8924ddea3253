"""Dates as a reader means them: relative phrases in a document ("last month", "on Monday", "this
autumn") resolved against the document's own date, written dates read into the days they cover,
and the period a question about change asks for ("since October", "between March and May 2025").

Pure text logic over word lists in rag/base/lexicons/, no list of things: the same rules hold for
any corpus. The phrase patterns and calendar arithmetic live in rag.date_phrases.

Rules chosen where English is loose (each one tested in tests/test_dates.py):
- a bare weekday, month or day ("on Monday", "in October", "Jan. 13") is the latest one on or
  before the document date (a Monday document's "on Monday" is that day), or the first one on or
  after it when a future word comes shortly before ("will meet on Monday");
- "last"/"next" + weekday or month is strictly before/after the document date; "this Monday" is
  the one in the document date's week (Monday to Sunday); "last week" is the calendar week before;
- "the past six months", "the last year" are stretches ending at the document date; "last year"
  is the calendar year before; "N years ago" / "a year earlier" is the year, N months ago the month;
- seasons are meteorological and northern (winter is December-February, named by its December's
  year); early/mid/late is a third of a month (days 1-10, 11-20, 21-end) or a year (four months).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag import date_phrases as dp
from rag.base.lexicon import load_groups, load_pairs

_PERIOD_WORDS = load_groups("period_words.txt")
_CHANGE_CUES: dict[str, set[str]] = {}
for _cue, _kind in load_pairs("change_cues.txt"):
    _CHANGE_CUES.setdefault(_kind, set()).add(_cue)


@dataclass(frozen=True)
class DateNote:
    start: int  # offset of the phrase in the given text
    end: int
    phrase: str  # exactly text[start:end], e.g. "last month", "on Monday", "this autumn"
    resolved: str  # "2025-12-22", "2025-11", "2025", or a range "2025-09/2025-11"
    label: str  # "Monday 22 December 2025", "November 2025", "autumn 2025 (Sep–Nov)"


@dataclass(frozen=True)
class Period:
    date_from: str  # ISO day "YYYY-MM-DD" or "" (open)
    date_to: str  # ISO day or "" (open)
    phrase: str  # the question's words that set it, e.g. "since October 2025"


def relative_dates(text: str, as_of: str) -> list[DateNote]:
    """The relative date phrases of `text`, resolved against the document date `as_of`
    ("YYYY-MM-DD" or "YYYY-MM"; empty or unreadable gives []): in text order, not overlapping,
    the longest match winning. Dates written in full ("October 2025", "2024") are not reported."""
    return [DateNote(s, e, text[s:e], resolved, label) for s, e, resolved, label in dp.find(text, as_of)]


def _alt(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


# A question is typed by a person: names in any case, abbreviations with or without a period.
_M = rf"(?:{_alt(dp.MONTH_OF)})\.?"
_P = rf"(?P<part>{_alt(dp.PARTS)})[-\s]+"
_S = _alt(dp.SEASONS)
_ORD = "(?:st|nd|rd|th)?"
_WRITTEN = [(kind, re.compile(p, re.I)) for kind, p in [
    ("iso", r"(?P<y>\d{4})-(?P<m>\d{2})(?:-(?P<d>\d{2}))?"),
    ("day", rf"(?:(?:{_alt(dp.WEEKDAY_OF)}),?\s+)?(?:(?P<mon>{_M})\s+(?P<d>\d{{1,2}}){_ORD}|(?P<d2>\d{{1,2}}){_ORD}"
            rf"\s+(?:of\s+)?(?P<mon2>{_M}))(?:,?\s+(?P<y>\d{{4}}))?"),
    ("month", rf"(?:{_P})?(?P<mon>{_M})(?:,?\s+(?:of\s+)?(?P<y>\d{{4}}))?"),
    # "winter 2025" and "winter 2025-26" are the winter that starts in December 2025
    ("season", rf"(?:{_P})?(?P<s>{_S})(?:\s+(?:of\s+)?(?P<y>\d{{4}})(?:\s*[-/–]\s*\d{{2}}(?:\d{{2}})?)?)?"),
    ("quarter", r"q(?P<q>[1-4])\s+(?P<y>\d{4})|(?P<y2>\d{4})\s+q(?P<q2>[1-4])"),
    ("year", rf"(?:{_P})?(?P<y>\d{{4}})"),
    ("decade", r"(?P<y>\d{3}0)'?s"),
]]
_STRIP = " \t\n?!.,;:()\"'“”‘’"


def _first_day(iso: str) -> date:
    parts = [int(x) for x in iso.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


def _last_day(iso: str) -> date:
    parts = [int(x) for x in iso.split("-")]
    if len(parts) == 3:
        return date(*parts)
    return dp.month_days(dp.mi(parts[0], parts[1] if len(parts) > 1 else 12))[1]


def _bounds(resolved: str) -> tuple[str, str]:
    """The first and last day an ISO resolution covers: "2025-09/2025-11" -> 1 Sep .. 30 Nov."""
    lo, _, hi = resolved.partition("/")
    return _first_day(lo).isoformat(), _last_day(hi or lo).isoformat()


def _written(kind: str, g: dict, ref: dp.AsOf | None) -> str | None:
    """The ISO resolution of one written date; None when it needs a reference year and has none."""
    y = int(g["y"]) if g.get("y") else None
    part = (g.get("part") or "").lower()
    if kind == "iso":  # checked by _bounds: "2025-13-40" raises ValueError
        return "-".join(x for x in (g["y"], g["m"], g["d"]) if x)
    if kind == "quarter":
        return dp.quarter_span(int(g["y"] or g["y2"]) * 4 + int(g["q"] or g["q2"]) - 1)[0]
    if kind == "decade":
        return f"{y}/{y + 9}"
    if kind == "year":
        return dp.months_span(*dp.part_of_year(y, part))[0] if part else str(y)
    if y is None and ref is None:
        return None
    if kind == "day":
        k, d = dp.MONTH_OF[(g["mon"] or g["mon2"]).lower().rstrip(".")], int(g["d"] or g["d2"])
        found = date(y, k, d) if y else dp.month_day(k, d, ref, ahead=False)
        return found.isoformat() if found else None
    if kind == "month":
        k = dp.MONTH_OF[g["mon"].lower().rstrip(".")]
        i = dp.mi(y, k) if y else dp.latest(k, ref.mi)
        return dp.days_span(*dp.part_of_month(i, part))[0] if part else dp.months_span(i, i)[0]
    months = dp.SEASONS[g["s"].lower()]
    return dp.season_span(months, dp.mi(y, months[0]) if y else dp.latest(months[0], ref.mi), part)[0]


_DAY = dict(_WRITTEN)["day"]


def first_day(text: str) -> str | None:
    """The first day `text` writes out with its year ("born June 20, 1941", "15 September
    1941"), as an ISO date; None when it writes none."""
    for match in _DAY.finditer(text):
        if match.group("y"):
            try:
                return _written("day", match.groupdict(), None)
            except (ValueError, OverflowError):  # "31 April 1941"
                continue
    return None


def parse_date(text: str, reference: str = "") -> tuple[str, str] | None:
    """(first day, last day) of one written date, as ISO days: "December 29, 2025", "Dec 2025",
    "2025", "autumn 2025", "Q3 2025", "the 1990s", "early 2025". A date without a year ("October",
    "Dec. 29", "spring") and a relative one ("last October", "last year") need `reference` (an ISO
    date, the newest document's) and are the latest such date not after it. None when the text
    is not a date."""
    whole = " ".join(text.strip(_STRIP).split())
    # "the 1990s", "the autumn of 2025", "the 4th of July" are dates; "the march", "the May" are not
    article = re.match(r"(?i)the\s+", whole)
    cleaned = whole[article.end():] if article else whole
    try:
        ref = dp.AsOf(reference)
    except (TypeError, ValueError):
        ref = None
    try:
        for kind, pattern in _WRITTEN:
            match = pattern.fullmatch(cleaned)
            if match and article and kind not in ("decade", "season") and not cleaned[0].isdigit():
                return None
            if match:
                resolved = _written(kind, match.groupdict(), ref)
                return _bounds(resolved) if resolved else None
    except (ValueError, OverflowError):  # "2025-13-40", "31 April 2025", "0000"
        return None
    # Relative phrases, read as in a document (its patterns want month and weekday names capitalised).
    names = set(dp.MONTH_OF) | set(dp.WEEKDAY_OF)
    capitalised = re.sub(r"[A-Za-z]+", lambda w: w[0].capitalize() if w[0].lower() in names else w[0], whole)
    found = dp.find(capitalised, reference)
    if len(found) == 1 and found[0][:2] == (0, len(capitalised)):
        return _bounds(found[0][2])
    return None


def _read_date(question: str, tokens: list[re.Match], k: int, ends, reference: str, year: str = ""):
    """The first of the runs tokens[k:n], n in `ends`, that is one date: ((first, last), end
    offset), else None. `year` is tried on a run without one ("March" of "between March and May
    2025")."""
    for n in ends:
        raw = question[tokens[k].start():tokens[n - 1].end()].rstrip(_STRIP)
        for candidate in ([f"{raw} {year}"] if year and not re.search(r"\b\d{4}\b", raw) else []) + [raw]:
            span = parse_date(candidate, reference)
            if span:
                return span, tokens[k].start() + len(raw)
    return None


def _range_at(question: str, tokens: list[re.Match], words: list[str], k: int, reference: str):
    """"between A and B" / "from A to B" at token k: (first day, last day, end offset) or None."""
    for j in range(k + 2, min(k + 7, len(words) - 1)):
        if words[j] not in _PERIOD_WORDS["join"]:
            continue
        second = _read_date(question, tokens, j + 1, range(min(j + 7, len(tokens)), j + 1, -1), reference)
        if not second:
            continue
        year = re.search(r"\b\d{4}\b", question[tokens[j + 1].start():second[1]])
        first = _read_date(question, tokens, k + 1, [j], reference, year[0] if year else "")
        if first and first[0][0] > second[0][1]:  # "between December and March 2025": December 2024
            last_year = int(second[0][1][:4])
            for y in (last_year, last_year - 1):
                retry = _read_date(question, tokens, k + 1, [j], reference, str(y))
                if retry and retry[0][0] <= second[0][1]:
                    first = retry
                    break
        if first:
            return first[0][0], second[0][1], second[1]
    return None


def question_period(question: str, reference: str = "") -> Period | None:
    """The period a question about change bounds: "since October" (from the first day of the
    latest October not after `reference`), "after/before/until DATE", "between A and B", "from A
    to B"; a year written on B only is A's year too ("between March and May 2025"). "in DATE" is
    not a period here. None when no boundary word introduces a date."""
    tokens = list(re.finditer(r"\S+", question))
    words = [t[0].lower().strip(_STRIP) for t in tokens]
    bounds = {"from": "", "to": ""}
    spans: list[tuple[int, int]] = []
    for k, word in enumerate(words):
        if spans and tokens[k].start() < spans[-1][1]:
            continue  # inside a date already read
        both = _range_at(question, tokens, words, k, reference) if word in _PERIOD_WORDS["range"] else None
        if both:
            bounds = {"from": bounds["from"] or both[0], "to": bounds["to"] or both[1]}
            spans.append((tokens[k].start(), both[2]))
            continue
        group = next((g for g in ("from", "after", "to", "before") if word in _PERIOD_WORDS[g]), None)
        found = _read_date(question, tokens, k + 1, range(min(k + 7, len(tokens)), k + 1, -1), reference) \
            if group else None
        if not found:
            continue
        (lo, hi), end = found
        day = {"from": lo, "to": hi, "after": (date.fromisoformat(hi) + timedelta(1)).isoformat(),
               "before": (date.fromisoformat(lo) - timedelta(1)).isoformat()}[group]
        side = "from" if group in ("from", "after") else "to"
        bounds[side] = bounds[side] or day
        spans.append((tokens[k].start(), end))
    if not spans:
        return None
    return Period(bounds["from"], bounds["to"], question[spans[0][0]:spans[-1][1]])


def _has(words: str, phrase: str) -> bool:
    """Whether the space-padded, space-joined `words` hold `phrase` as whole words."""
    return f" {phrase} " in words


def asks_about_change(question: str) -> bool:
    """Whether the question asks how something changed over time: a change phrase ("over time",
    "timeline of", "what is new"), or a change verb that a boundary follows ("changed since
    October", "evolve between March and May") or that ends a question not asking for a date or a
    thing ("How has X shifted?"; not "When did X change its name?", "What did X change?")."""
    tokens = re.findall(r"[\w']+", question.lower().replace("’", "'"))
    words = f" {' '.join(tokens)} "
    if any(_has(words, cue) for cue in _CHANGE_CUES["phrase"]):
        return True
    if not tokens or tokens[0] in _CHANGE_CUES["date"]:
        return False  # "When did X change its name?" asks for a date
    for i, token in enumerate(tokens):
        if token in _CHANGE_CUES["verb"]:
            after = f" {' '.join(tokens[i + 1:])} "
            if any(_has(after, cue) for cue in _CHANGE_CUES["boundary"]):
                return True
            if i == len(tokens) - 1 and tokens[0] not in _CHANGE_CUES["other"]:
                return True
    return False
