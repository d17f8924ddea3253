"""The extractive answer brings along what a quoted sentence depends on (rag.extractive
add_continuations): here, who "she" is. Over a small corpus indexed for real."""

from __future__ import annotations

import pytest

from helpers import indexed_briefing

DOCS = {
    "ria-voss.txt": ("Ria Voss\n\nRia Voss (born June 6, 1966) is an American rock musician and painter. She currently "
                     "plays bass in the band Iron Lark. She married the sculptor Tom Adair in 1999.\n"),
    "iron-lark.txt": ("Iron Lark\n\nIron Lark is a rock band formed in Tulsa in 2011. The band has released three "
                      "albums on a small label.\n"),
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
