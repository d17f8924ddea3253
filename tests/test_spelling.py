"""Names matched tolerant of typos and inflection (rag/spelling.py), and what that changes for a
question on a real index: a misspelled name is no longer "never mentioned"."""

from __future__ import annotations

import pytest

from rag.spelling import edit_distance_at_most_one, resembles

VOCABULARY = sorted(["africa", "kishida", "revolution", "steam", "engine", "japanese", "ishiba", "1598", "10", "000",
                     "user", "datagram"])


@pytest.mark.parametrize("term,expected", [
    ("kishida", "kishida"),  # exact
    ("kishdia", "kishida"),  # two letters swapped
    ("kishda", "kishida"),  # one letter dropped
    ("african", "africa"),  # another inflection of the same stem
    ("revolutionary", "revolution"),
    ("japan", "japanese"),  # the demonym is the only form the documents use
    ("10000", "10 000"),  # the documents write "10,000", which the index splits at the comma
    ("userdatagram", "user datagram"),  # run together in the question
])
def test_a_misspelled_or_inflected_name_finds_the_indexed_word(term, expected):
    assert resembles(term, VOCABULARY) == expected


@pytest.mark.parametrize("term", ["ishihara", "kishimoto", "steal", "1599", "asia", "engineering", "1000",
                                  "userdatagrams"])
def test_different_words_are_not_taken_for_each_other(term):
    assert resembles(term, VOCABULARY) is None


def test_one_edit_means_one_insertion_deletion_substitution_or_neighbour_swap():
    assert edit_distance_at_most_one("kishida", "kishdia")
    assert edit_distance_at_most_one("kishida", "kisida")
    assert edit_distance_at_most_one("kishida", "kishidaa")
    assert not edit_distance_at_most_one("kishida", "kisdiha")
    assert not edit_distance_at_most_one("kishida", "ishiba")


def test_a_misspelled_name_in_a_question_is_not_reported_as_never_mentioned(briefing):
    correct = briefing.ask("What did Takaichi pledge on defense spending?")
    typo = briefing.ask("What did Takiachi pledge on defense spending?")
    assert not correct.abstained
    assert "never mention" not in typo.text, typo.text
    assert not typo.abstained
    assert {c.passage.source for c in typo.citations} & {c.passage.source for c in correct.citations}


def test_a_name_the_documents_do_not_use_is_still_reported(briefing):
    answer = briefing.ask("What did Zelensky pledge on defense spending?")
    assert answer.abstained and "never mention “Zelensky”" in answer.text, answer.text
