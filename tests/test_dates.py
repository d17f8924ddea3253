"""Dates as a reader means them (rag/dates.py, rag/date_phrases.py): relative phrases in a
document resolved against its date, written dates read into the days they cover, the period a
question about change bounds, and whether a question asks about change at all. Pure text logic:
no index, no model."""

from __future__ import annotations

import dataclasses

import pytest

from rag.base.lexicon import LEXICONS
from rag.dates import DateNote, Period, asks_about_change, parse_date, question_period, relative_dates

MONDAY = "2025-12-29"  # a Monday, three days before a new year
THURSDAY = "2026-01-01"  # a Thursday, New Year's Day


def resolved(text: str, as_of: str) -> list[tuple[str, str]]:
    return [(n.phrase, n.resolved) for n in relative_dates(text, as_of)]


def one(text: str, as_of: str) -> DateNote:
    notes = relative_dates(text, as_of)
    assert len(notes) == 1, notes
    return notes[0]


def test_notes_are_frozen_and_their_offsets_index_the_text():
    text = ("On Monday the ministry said that last month's figures, published yesterday, were revised; "
            "two weeks ago, in October and this autumn, and again on Jan. 13, the past six months looked different.")
    notes = relative_dates(text, MONDAY)
    assert [n.phrase for n in notes] == ["On Monday", "last month", "yesterday", "two weeks ago", "October",
                                         "this autumn", "Jan. 13", "the past six months"]
    for note in notes:
        assert text[note.start:note.end] == note.phrase
    assert [n.start for n in notes] == sorted(n.start for n in notes)
    assert all(a.end <= b.start for a, b in zip(notes, notes[1:]))  # not overlapping
    with pytest.raises(dataclasses.FrozenInstanceError):
        notes[0].phrase = "x"
    assert dataclasses.is_dataclass(Period) and Period("", "", "").date_from == ""


@pytest.mark.parametrize("as_of", ["", "   ", "yesterday", "2025", "2025-13-01", "2025-02-30", "29/12/2025", None])
def test_a_missing_or_unreadable_document_date_gives_nothing(as_of):
    assert relative_dates("Yesterday, last month and on Monday.", as_of) == []


@pytest.mark.parametrize("text,as_of,expected,label", [
    ("It rained yesterday.", THURSDAY, "2025-12-31", "Wednesday 31 December 2025"),  # across the year
    ("Talks resume tomorrow.", "2025-12-31", "2026-01-01", "Thursday 1 January 2026"),
    ("Today the cabinet met.", "2025-03-01", "2025-03-01", "Saturday 1 March 2025"),
    ("It began the day before yesterday.", "2025-03-01", "2025-02-27", "Thursday 27 February 2025"),
    ("The vote was last night.", "2024-03-01", "2024-02-29", "Thursday 29 February 2024"),  # leap year
])
def test_today_yesterday_tomorrow(text, as_of, expected, label):
    note = one(text, as_of)
    assert (note.resolved, note.label) == (expected, label)


@pytest.mark.parametrize("phrase,as_of,expected", [
    # The rule: a bare weekday is the latest such day on or before the document date, so a Monday
    # document's "on Monday" is that same day; "last" is strictly before, "next" strictly after.
    ("on Monday", MONDAY, "2025-12-29"),
    ("on Friday", MONDAY, "2025-12-26"),
    ("Sunday", MONDAY, "2025-12-28"),  # "the ministry said Sunday"
    ("last Monday", MONDAY, "2025-12-22"),
    ("this past Monday", MONDAY, "2025-12-22"),
    ("last Friday", MONDAY, "2025-12-26"),
    ("next Monday", MONDAY, "2026-01-05"),
    ("next Wednesday", MONDAY, "2025-12-31"),
    ("this Friday", MONDAY, "2026-01-02"),  # the document date's week, Monday to Sunday, across the year
    ("on Tuesday", THURSDAY, "2025-12-30"),  # back across the year boundary
    ("on Thursday", THURSDAY, "2026-01-01"),
    ("last Thursday", THURSDAY, "2025-12-25"),
    ("next Sunday", THURSDAY, "2026-01-04"),
    ("this Monday", THURSDAY, "2025-12-29"),
    ("on Saturday", "2025-03-03", "2025-03-01"),  # back across a month boundary
])
def test_weekdays(phrase, as_of, expected):
    note = one(f"The talks took place {phrase}, officials said.", as_of)
    assert (note.phrase, note.resolved) == (phrase, expected)


def test_a_future_word_puts_a_bare_weekday_ahead():
    assert resolved("The leaders will meet on Monday.", THURSDAY) == [("on Monday", "2026-01-05")]
    assert resolved("A vote is scheduled for Friday.", MONDAY) == [("Friday", "2026-01-02")]
    assert resolved("They met on Monday.", THURSDAY) == [("on Monday", "2025-12-29")]
    assert resolved("They met on Monday.", THURSDAY)[0] != resolved("They will meet on Monday.", THURSDAY)[0]


def test_weekday_labels_name_the_day():
    assert one("It happened last Monday.", MONDAY).label == "Monday 22 December 2025"


@pytest.mark.parametrize("phrase,as_of,expected,label", [
    ("last week", "2026-01-07", "2025-12-29/2026-01-04", "29 December 2025 – 4 January 2026"),
    ("this week", MONDAY, "2025-12-29/2026-01-04", "29 December 2025 – 4 January 2026"),
    ("next week", "2025-12-03", "2025-12-08/2025-12-14", "8–14 December 2025"),
    ("last month", "2026-01-07", "2025-12", "December 2025"),
    ("this month", MONDAY, "2025-12", "December 2025"),
    ("next month", MONDAY, "2026-01", "January 2026"),
    ("last year", "2026-01-07", "2025", "2025"),
    ("this year", MONDAY, "2025", "2025"),
    ("next year", MONDAY, "2026", "2026"),
    ("the previous year", MONDAY, "2024", "2024"),
    ("the prior month", "2025-03-15", "2025-02", "February 2025"),
    ("last quarter", "2026-01-07", "2025-10/2025-12", "Q4 2025 (Oct–Dec)"),
    ("next quarter", MONDAY, "2026-01/2026-03", "Q1 2026 (Jan–Mar)"),
])
def test_last_this_next_units(phrase, as_of, expected, label):
    note = one(f"Exports fell {phrase}.", as_of)
    assert (note.phrase, note.resolved, note.label) == (phrase, expected, label)


@pytest.mark.parametrize("phrase,as_of,expected", [
    ("last October", MONDAY, "2025-10"),  # strictly before the document's month
    ("last December", MONDAY, "2024-12"),
    ("last October", "2025-10-15", "2024-10"),
    ("this past March", MONDAY, "2025-03"),
    ("next January", MONDAY, "2026-01"),
    ("next December", "2025-12-01", "2026-12"),
    ("this March", MONDAY, "2025-03"),
])
def test_months_with_last_this_next(phrase, as_of, expected):
    assert resolved(f"Prices rose {phrase}.", as_of) == [(phrase, expected)]


@pytest.mark.parametrize("text,as_of,expected", [
    # A bare month is the latest such month not after the document's month.
    ("Prices have risen since October.", MONDAY, [("October", "2025-10")]),
    ("The deal was signed in December.", MONDAY, [("December", "2025-12")]),
    ("The deal was signed in December.", "2026-02-10", [("December", "2025-12")]),
    ("The deal was signed in November.", "2025-10-31", [("November", "2024-11")]),
    ("October saw a surge.", MONDAY, [("October", "2025-10")]),
    ("The summit was held in Sept. after delays.", MONDAY, [("Sept.", "2025-09")]),
    ("The cabinet fell in early October.", MONDAY, [("early October", "2025-10-01/2025-10-10")]),
    ("Talks stalled in mid-July.", MONDAY, [("mid-July", "2025-07-11/2025-07-20")]),
    ("Talks stalled in late February.", "2024-03-05", [("late February", "2024-02-21/2024-02-29")]),
    # "May" and "March" are common words too: months only after a date word.
    ("Rates fell in May and rose in March.", MONDAY, [("May", "2025-05"), ("March", "2025-03")]),
    ("Talks ran between March and May.", MONDAY, [("March", "2025-03"), ("May", "2025-05")]),
    ("May said the plan would work.", MONDAY, []),
    ("Protesters march on the capital and may return.", MONDAY, []),
    # A month name before a name is part of that name.
    ("Historians of the October Revolution disagree.", MONDAY, []),
    # A future word puts it ahead.
    ("Elections will be held in October.", MONDAY, [("October", "2026-10")]),
])
def test_bare_months(text, as_of, expected):
    assert resolved(text, as_of) == expected


@pytest.mark.parametrize("text,as_of,expected", [
    ("The ceasefire began on Jan. 13.", "2026-02-10", "2026-01-13"),
    ("The ceasefire began on Jan. 13.", MONDAY, "2025-01-13"),  # not after the document date
    ("The ceasefire began on 13 January.", MONDAY, "2025-01-13"),
    ("The ceasefire began on December 29.", MONDAY, "2025-12-29"),
    ("The ceasefire began on December 30.", MONDAY, "2024-12-30"),
    ("The ceasefire began on the 4th of July.", MONDAY, "2025-07-04"),
    ("Leap day, Feb. 29, was chosen.", MONDAY, "2024-02-29"),
    ("The talks will resume on Jan. 13.", MONDAY, "2026-01-13"),
])
def test_a_month_and_day_without_a_year(text, as_of, expected):
    notes = relative_dates(text, as_of)
    assert [n.resolved for n in notes] == [expected]
    assert notes[0].label.endswith(expected[:4])


def test_an_impossible_day_is_not_a_date():
    assert relative_dates("It was due on Feb. 30 or April 31.", MONDAY) == []


@pytest.mark.parametrize("phrase,as_of,expected,label", [
    ("this autumn", MONDAY, "2025-09/2025-11", "autumn 2025 (Sep–Nov)"),
    ("this fall", MONDAY, "2025-09/2025-11", "autumn 2025 (Sep–Nov)"),  # fall is autumn
    ("last autumn", MONDAY, "2025-09/2025-11", "autumn 2025 (Sep–Nov)"),  # the latest one over
    ("this winter", MONDAY, "2025-12/2026-02", "winter 2025–26 (Dec–Feb)"),  # under way, across the year
    ("last winter", MONDAY, "2024-12/2025-02", "winter 2024–25 (Dec–Feb)"),
    ("next summer", MONDAY, "2026-06/2026-08", "summer 2026 (Jun–Aug)"),
    ("this summer", MONDAY, "2025-06/2025-08", "summer 2025 (Jun–Aug)"),
    ("this winter", "2026-01-15", "2025-12/2026-02", "winter 2025–26 (Dec–Feb)"),  # still the same winter
    ("last winter", "2026-01-15", "2024-12/2025-02", "winter 2024–25 (Dec–Feb)"),
    ("next winter", "2026-01-15", "2026-12/2027-02", "winter 2026–27 (Dec–Feb)"),
    ("this spring", "2026-01-15", "2026-03/2026-05", "spring 2026 (Mar–May)"),
    ("this winter", "2025-10-01", "2025-12/2026-02", "winter 2025–26 (Dec–Feb)"),  # the coming one
    ("next spring", "2025-04-10", "2026-03/2026-05", "spring 2026 (Mar–May)"),
])
def test_seasons(phrase, as_of, expected, label):
    note = one(f"Growth slowed {phrase}.", as_of)
    assert (note.phrase, note.resolved, note.label) == (phrase, expected, label)


@pytest.mark.parametrize("text,expected", [
    ("Growth slowed in the spring.", [("spring", "2025-03/2025-05")]),
    ("Prices have risen since the summer.", [("summer", "2025-06/2025-08")]),
    ("Rains came in late summer.", [("late summer", "2025-08")]),
    ("Exports fall when prices fall.", []),  # the verb
    ("Since the fall of the government, markets have calmed.", []),  # "the fall of" is an event
    ("The spring was dry.", []),  # a bare season needs a date word before it
    ("It would be likely to fall under that category.", []),
    ("If ratings were to fall sharply, the cabinet would go.", []),
    ("Empires rise and fall.", []),
])
def test_bare_seasons_need_a_date_word(text, expected):
    assert resolved(text, MONDAY) == expected


@pytest.mark.parametrize("phrase,as_of,expected", [
    ("two weeks ago", MONDAY, "2025-12-15"),
    ("3 days ago", THURSDAY, "2025-12-29"),
    ("a week ago", "2026-01-03", "2025-12-27"),
    ("six months ago", MONDAY, "2025-06"),
    ("two months ago", "2026-01-20", "2025-11"),
    ("two years ago", MONDAY, "2023"),
    ("a decade ago", MONDAY, "2015"),
    ("a year earlier", MONDAY, "2024"),
    ("A year ago", MONDAY, "2024"),
    ("the past six months", MONDAY, "2025-06-29/2025-12-29"),
    ("the past six months", "2025-08-31", "2025-02-28/2025-08-31"),  # no 31 February
    ("the last two years", MONDAY, "2023-12-29/2025-12-29"),
    ("the past 30 days", MONDAY, "2025-11-29/2025-12-29"),
    ("the past year", MONDAY, "2024-12-29/2025-12-29"),
    ("the last month", MONDAY, "2025-11-29/2025-12-29"),  # a stretch, unlike "last month"
    ("this past week", MONDAY, "2025-12-22/2025-12-29"),
])
def test_counted_back_from_the_document_date(phrase, as_of, expected):
    assert resolved(f"Over {phrase} support dropped.", as_of) == [(phrase, expected)]


@pytest.mark.parametrize("phrase,as_of,expected,label", [
    ("earlier this year", MONDAY, "2025-01/2025-12", "January–December 2025"),
    ("earlier this year", "2025-04-02", "2025-01/2025-04", "January–April 2025"),
    ("later this year", "2025-04-02", "2025-04/2025-12", "April–December 2025"),
    ("earlier this month", MONDAY, "2025-12-01/2025-12-29", "1–29 December 2025"),
    ("later this month", "2025-12-10", "2025-12-10/2025-12-31", "10–31 December 2025"),
    ("earlier this week", "2026-01-02", "2025-12-29/2026-01-02", "29 December 2025 – 2 January 2026"),
    ("late last year", "2026-02-01", "2025-09/2025-12", "late 2025 (Sep–Dec)"),
    ("early next year", MONDAY, "2026-01/2026-04", "early 2026 (Jan–Apr)"),
    ("mid-this year", MONDAY, "2025-05/2025-08", "mid 2025 (May–Aug)"),
    ("early last month", "2026-01-20", "2025-12-01/2025-12-10", "1–10 December 2025"),
])
def test_parts_of_the_current_unit(phrase, as_of, expected, label):
    note = one(f"The plan was announced {phrase}.", as_of)
    assert (note.phrase, note.resolved, note.label) == (phrase, expected, label)


@pytest.mark.parametrize("text", [
    "The election was held in October 2025.",
    "It was signed on Dec. 29, 2025, in the capital.",
    "It was signed on December 29, 2025.",
    "It was signed on 29 December 2025.",
    "It was signed on Monday, December 22, 2025.",
    "The plan dates from 2024.",
    "Growth slowed in autumn 2025.",
    "It began in the fall of 2021.",
    "It began in mid-October 2025.",
    "Figures for May 2025 were revised.",
])
def test_dates_written_in_full_are_not_reported(text):
    assert relative_dates(text, MONDAY) == []


def test_written_dates_and_relative_ones_side_by_side():
    text = "In October 2025 the cabinet fell; last month a new one formed, and since October 2024 prices doubled."
    assert resolved(text, MONDAY) == [("last month", "2025-11")]


def test_the_longest_match_wins():
    assert resolved("It happened the day before yesterday.", MONDAY) == [("the day before yesterday", "2025-12-27")]
    assert resolved("The talks ended Monday, Dec. 22.", MONDAY) == [("Monday, Dec. 22", "2025-12-22")]
    assert resolved("It fell in late last year.", MONDAY) == [("late last year", "2024-09/2024-12")]


def test_a_count_against_something_else_is_not_against_the_document_date():
    assert resolved("The target is to be met two years earlier than planned.", MONDAY) == []
    assert resolved("It was reached two years earlier.", MONDAY) == [("two years earlier", "2023")]


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_document_dates_outside_the_calendar_arithmetic_give_nothing(as_of):
    assert relative_dates("Yesterday, tomorrow, next year, two years ago.", as_of) == []


def test_a_document_dated_only_to_the_month():
    # Without a day, day-level phrases cannot be resolved and are left out; the rest still are.
    assert resolved("Yesterday and on Monday, and last week.", "2025-12") == []
    assert resolved("Last month, in October and since Jan. 13, and last year.", "2025-12") == [
        ("Last month", "2025-11"), ("October", "2025-10"), ("Jan. 13", "2025-01-13"), ("last year", "2024")]
    assert resolved("Over the past six months.", "2025-12") == [("the past six months", "2025-06/2025-12")]


@pytest.mark.parametrize("text,expected", [
    ("2025-12-29", ("2025-12-29", "2025-12-29")),
    ("December 29, 2025", ("2025-12-29", "2025-12-29")),
    ("29 December 2025", ("2025-12-29", "2025-12-29")),
    ("Dec. 29, 2025", ("2025-12-29", "2025-12-29")),
    ("Monday, December 29, 2025", ("2025-12-29", "2025-12-29")),
    ("december 2025", ("2025-12-01", "2025-12-31")),
    ("Dec 2025", ("2025-12-01", "2025-12-31")),
    ("2025-02", ("2025-02-01", "2025-02-28")),
    ("2025", ("2025-01-01", "2025-12-31")),
    ("autumn 2025", ("2025-09-01", "2025-11-30")),
    ("winter 2023", ("2023-12-01", "2024-02-29")),  # the winter that starts in December
    ("winter 2025-26", ("2025-12-01", "2026-02-28")),
    ("Q3 2025", ("2025-07-01", "2025-09-30")),
    ("q1 2024", ("2024-01-01", "2024-03-31")),
    ("the 1990s", ("1990-01-01", "1999-12-31")),
    ("early 2025", ("2025-01-01", "2025-04-30")),
    ("late October 2025", ("2025-10-21", "2025-10-31")),
    ("  October 2025? ", ("2025-10-01", "2025-10-31")),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected
    assert parse_date(text, MONDAY) == expected  # a full date does not need the reference


@pytest.mark.parametrize("text,reference,expected", [
    ("October", MONDAY, ("2025-10-01", "2025-10-31")),
    ("October", "2025-09-30", ("2024-10-01", "2024-10-31")),  # the latest October not after it
    ("December", MONDAY, ("2025-12-01", "2025-12-31")),
    ("may", MONDAY, ("2025-05-01", "2025-05-31")),  # a question may be typed in lower case
    ("Dec. 29", MONDAY, ("2025-12-29", "2025-12-29")),
    ("spring", MONDAY, ("2025-03-01", "2025-05-31")),
    ("last October", MONDAY, ("2025-10-01", "2025-10-31")),
    ("last year", MONDAY, ("2024-01-01", "2024-12-31")),
    ("the past six months", MONDAY, ("2025-06-29", "2025-12-29")),
])
def test_parse_date_without_a_year_needs_a_reference(text, reference, expected):
    assert parse_date(text, reference) == expected
    assert parse_date(text) is None


@pytest.mark.parametrize("text", ["", "hello", "the election", "2025-13-40", "31 April 2025", "the march",
                                  "October the fifth", "Q5 2025", "12345"])
def test_parse_date_rejects_what_is_not_a_date(text):
    assert parse_date(text, MONDAY) is None


@pytest.mark.parametrize("question,date_from,date_to,phrase", [
    ("What changed since October?", "2025-10-01", "", "since October"),
    ("How has the assessment of the coalition changed since October 2025?", "2025-10-01", "", "since October 2025"),
    ("How did the policy evolve between March and May 2025?", "2025-03-01", "2025-05-31", "between March and May 2025"),
    ("What happened between December and March 2025?", "2024-12-01", "2025-03-31", "between December and March 2025"),
    ("How did spending change from 2020 to 2024?", "2020-01-01", "2024-12-31", "from 2020 to 2024"),
    ("What was said after October 2025?", "2025-11-01", "", "after October 2025"),
    ("What was the stance before 2020?", "", "2019-12-31", "before 2020"),
    ("What was agreed until March 2025?", "", "2025-03-31", "until March 2025"),
    ("What changed after October 2025 and before 2026?", "2025-11-01", "2025-12-31",
     "after October 2025 and before 2026"),
    ("Since last October, what changed?", "2025-10-01", "", "Since last October"),
    ("What has changed since the 1990s?", "1990-01-01", "", "since the 1990s"),
    ("What is new since Dec. 1?", "2025-12-01", "", "since Dec. 1"),
    ("What changed since the 4th of July?", "2025-07-04", "", "since the 4th of July"),
    ("What happened between December and March?", "2024-12-01", "2025-03-31", "between December and March"),
])
def test_question_period(question, date_from, date_to, phrase):
    assert question_period(question, MONDAY) == Period(date_from, date_to, phrase)


def test_a_range_runs_forwards():
    # Each bare month is the latest not after the reference; the first is then moved back a year
    # when it would come after the second.
    assert question_period("What happened between March and May?", "2025-04-10") == Period(
        "2024-03-01", "2024-05-31", "between March and May")
    assert question_period("How did it change from October 2025 to March?", "2026-04-01") == Period(
        "2025-10-01", "2026-03-31", "from October 2025 to March")


@pytest.mark.parametrize("question,reference", [
    ("What happened in October 2025?", MONDAY),  # "in DATE" places a question, it bounds no change
    ("What changed since the election?", MONDAY),  # no date after the word
    ("What changed since October?", ""),  # a bare month needs the reference
    ("Who leads the coalition?", MONDAY),
    ("What did the report say about the march before the vote?", MONDAY),
])
def test_no_question_period(question, reference):
    assert question_period(question, reference) is None


@pytest.mark.parametrize("question", [
    "What changed since October?",
    "How has the assessment of the coalition changed since October?",
    "How did the policy evolve between March and May?",
    "How has public support changed over time?",
    "Give me a timeline of the negotiations.",
    "How has the party's stance shifted?",
    "How has the party’s stance shifted?",
    "What is new since the summit?",
    "What's new on the trade talks?",
    "What is the trend in defence spending?",
    "Has the policy changed?",
    "How have relations developed over the past year?",
])
def test_questions_about_change(question):
    assert asks_about_change(question)


@pytest.mark.parametrize("question", [
    "When did the party change its name?",  # asks for a date
    "What did the coalition change?",  # asks for the thing changed
    "Who leads the coalition?",
    "What does the acronym stand for?",
    "How did the company develop the missile?",  # a change verb with an object
    "Why did the minister resign in October?",
    "What is the policy on change management?",
    "",
])
def test_ordinary_questions(question):
    assert not asks_about_change(question)


@pytest.mark.parametrize("name", ["months.txt", "weekdays.txt", "seasons.txt", "relative_dates.txt",
                                  "relative_days.txt", "number_words.txt", "period_words.txt", "change_cues.txt"])
def test_each_date_lexicon_says_what_it_is_for(name):
    assert (LEXICONS / name).read_text(encoding="utf-8").startswith("# ")
