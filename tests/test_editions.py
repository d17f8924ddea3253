"""A question about one edition of a recurring thing (a season, a ceremony) whose passages are
about another edition abstains and says which (rag.editions). The rule on its own, then
through the whole pipeline over a small corpus indexed for real."""

from __future__ import annotations

import pytest

from helpers import indexed_briefing
from rag.editions import other_edition

# The asked years and ordinals are used (a club founded in 1974, a 16th-century hall), so only
# the edition rule can tell that the passages are about other editions.
DOCS = {
    "rams-1986.txt": ("1986 Harbor Rams season\n\nThe 1986 Harbor Rams football team represented Eastport "
                      "University during the 1986 season. The team was coached by Ann Hale and won seven games. "
                      "The club itself was founded in 1974.\n"),
    "awards-15.txt": ("15th Annual Lantern Awards\n\nThe 15th Annual Lantern Awards were hosted by Mara Quill, a "
                      "singer-songwriter, on August 1, 2013 in the 16th century hall of Dover.\n"),
}


@pytest.fixture(scope="module")
def editions_briefing(tmp_path_factory):
    return indexed_briefing(tmp_path_factory, DOCS, "editions")


@pytest.mark.parametrize("question, answer, passages, expected", [
    # another season of the same team, and the asked one named nowhere
    ("The 1974 Harbor Rams football team represented what university?",
     "The 1986 Harbor Rams football team represented Eastport University.", "The 1986 Harbor Rams football team",
     ("1974 Harbor", "1986 Harbor")),
    ("Who hosted the 16th Annual Lantern Awards?", "The 15th Annual Lantern Awards were held in Dover.", "",
     ("16th Annual", "15th Annual")),
    ("Who coached the 2014–15 Harbor Rams?", "The 2013-14 Harbor Rams were coached by Ann Hale.", "",
     ("2014-15 Harbor", "2013-14 Harbor")),
    # the asked edition is in the passages found: the answer may rest on it
    ("The 1974 Harbor Rams football team represented what university?",
     "The 1986 Harbor Rams football team represented Eastport University.", "The 1974 Harbor Rams won twice.", None),
    # a year and an ordinal are not two editions of one kind: "the 18th ... Awards" may be "the 2002 ... Awards"
    ("Who hosted the 18th Lantern Awards?", "The 2002 Lantern Awards were hosted by Mara Quill.", "", None),
    # another name after the other year: not the same thing
    ("What did the 1974 Harbor Rams win?", "The 1986 Eastport Gulls won the cup.", "", None),
    # a year that is no edition (a lower-case word follows) is not compared
    ("What happened in 1974 at the harbor?", "In 1986 Harbor Rams fans rioted.", "", None),
    ("Who won the same title as the 1986 Harbor Rams?", "The 1986 Harbor Rams won the title.", "The 1986 Harbor Rams",
     None),
])
def test_another_edition_of_the_asked_thing(question, answer, passages, expected):
    assert other_edition(question, answer, passages + "\n" + answer) == expected


def test_an_answer_about_another_edition_abstains_and_says_which(editions_briefing):
    answer = editions_briefing.ask("The 1974 Harbor Rams football team represented what university?")
    assert answer.abstained, answer.text
    assert "“1986 Harbor …”, not “1974 Harbor …”" in answer.text, answer.text
    answer = editions_briefing.ask("Who hosted the 16th Annual Lantern Awards?")
    assert answer.abstained and "“15th Annual …”" in answer.text, answer.text


def test_the_edition_the_passages_hold_is_answered(editions_briefing):
    answer = editions_briefing.ask("The 1986 Harbor Rams football team represented what university?")
    assert not answer.abstained and "Eastport University" in answer.text, answer.text
    answer = editions_briefing.ask("Who hosted the 15th Annual Lantern Awards?")
    assert not answer.abstained and "Mara Quill" in answer.text, answer.text
