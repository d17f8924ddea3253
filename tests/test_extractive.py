"""The extractive answer brings along what a quoted sentence depends on (rag.extractive
add_continuations): here, who "she" is; and a "what county?" question prefers the sentence that
names a county (rag.question.names_kind). Over a small corpus indexed for real."""

from __future__ import annotations

import pytest

from helpers import indexed_briefing
from rag.question import asked_kind, names_kind

DOCS = {
    "ria-voss.txt": ("Ria Voss\n\nRia Voss (born June 6, 1966) is an American rock musician and painter. She currently "
                     "plays bass in the band Iron Lark. She married the sculptor Tom Adair in 1999.\n"),
    "iron-lark.txt": ("Iron Lark\n\nIron Lark is a rock band formed in Tulsa in 2011. The band has released three "
                      "albums on a small label.\n"),
    "galleria-nine.txt": ("Galleria Nine\n\nGalleria Nine is a three-level shopping mall owned by Orton Estates, "
                          "located at 200 Main Drive in Lake Corner. It is the second-largest mall in the Lake Corner "
                          "area, after Lake Corner Center.\n"),
    "lake-corner.txt": ("Lake Corner\n\nLake Corner is a place located in Birch County, Virginia, near the Galleria "
                        "Nine mall.\n"),
}


@pytest.fixture(scope="module")
def voss_briefing(tmp_path_factory):
    return indexed_briefing(tmp_path_factory, DOCS, "extractive")


def test_a_quote_opening_with_she_comes_with_the_sentence_that_names_her(voss_briefing):
    answer = voss_briefing.ask("Who plays bass in the band Iron Lark?")
    assert not answer.abstained, answer.text
    assert "She currently plays bass in the band Iron Lark." in answer.text, answer.text
    # The document's opening, quoted before it and cited, says who she is.
    assert answer.text.index("Ria Voss (born June 6, 1966)") < answer.text.index("She currently plays bass")
    assert answer.text.count("Ria Voss (born") == 1
    assert {c.passage.source for c in answer.citations} >= {"ria-voss.txt"}


@pytest.mark.parametrize("question, sentence, expected", [
    ("Tysons Galleria is located in what county?", "Tysons is a place in Fairfax County, Virginia.", True),
    ("Which university did she attend?", "She studied at Texas Tech University until 1990.", True),
    # the name is the question's own, or no name carries the kind
    ("What river flows through the Ohio River valley?", "The Ohio River valley is wide.", False),
    ("Tysons Galleria is located in what county?", "The county board met in Tysons.", False),
    # "what is", "which of": no kind is asked
    ("What is the Harbor County budget?", "Harbor County spends a lot.", False),
])
def test_a_sentence_names_the_kind_of_thing_asked_for(question, sentence, expected):
    assert names_kind(asked_kind(question), sentence, question) is expected


def test_what_county_is_answered_with_the_sentence_naming_one(voss_briefing):
    answer = voss_briefing.ask("Galleria Nine is located in what county?")
    assert not answer.abstained, answer.text
    assert "Birch County" in answer.text, answer.text
