"""Questions comparing named things (rag.compared): which things they compare, a retrieval for a
thing the first passages never name, and an abstention that says which thing the documents
leave out. Parsing is tested on its own; the rest over a small corpus indexed for real."""

from __future__ import annotations

from dataclasses import replace

import pytest

from helpers import indexed_briefing
from rag.compared import choice, compared_hop, compared_things, names, unnamed

# Six documents about one band, so that a retrieval for the whole question finds only its side.
DOCS = {f"copper-lanterns-{i}.txt": (f"Copper Lanterns, part {i}\n\nCopper Lanterns is a rock band that was formed "
                                     f"in Leeds in 2003. Its album number {i} was recorded in a barn and the band "
                                     f"toured it for a year.\n") for i in range(6)}
DOCS["vellum-tide.txt"] = ("Vellum Tide\n\nVellum Tide is a folk group formed in Cork in 1994 by two sisters. It "
                           "released four records.\n")
# "Iron" and "Heron" are both used, but no document names a band "Iron Heron".
DOCS["iron-works.txt"] = "Iron works\n\nThe old iron works by the river closed in 1971.\n"
DOCS["heron-walk.txt"] = "Heron walk\n\nA heron nests by the river every spring.\n"
CHOICE = "Which band was formed first, Copper Lanterns or Vellum Tide?"


def test_a_choice_closes_the_question():
    assert choice(CHOICE) == ("Copper Lanterns", "Vellum Tide")
    # What precedes the choice is cut at the last comma or colon, not read into the first name.
    assert choice("Which writer was from England, Henry Roth or Robert Erskine Childers?") == (
        "Henry Roth", "Robert Erskine Childers")
    assert choice("Which novelist wrote under the pen name Walter Ericson: Laura Esquivel or Howard Fast?") == (
        "Laura Esquivel", "Howard Fast")
    assert choice("Who has more scope of profession, Phil Rosen or  Delmer Daves") == ("Phil Rosen", "Delmer Daves")
    # Set off by commas, an option is taken whole, its lower-case words too.
    assert choice("Which game was released first, Icehouse pieces or Kill Doctor Lucky?") == (
        "Icehouse pieces", "Kill Doctor Lucky")
    assert choice("Which band, Letters to Cleo or Screaming Trees, had more members?") == (
        "Letters to Cleo", "Screaming Trees")
    assert choice("Which magazine is for adults, Jack and Jill or Paper?") == ("Jack and Jill", "Paper")
    assert choice("Did the minister resign or stay on after the vote?") is None  # no names
    assert choice("Did Lit or Adorable tour Japan in 1998?") is None  # the choice does not close it
    assert choice("Was it Lit or Adorable or Sloan?") is None


def test_compared_things_are_a_yes_no_comparison_or_a_choice():
    assert compared_things("Were both the Battle of Stones River and the Battle of the Cold Ford fought in the "
                           "19th century?") == ("Battle of Stones River", "Battle of the Cold Ford")
    assert compared_things("Are Hot Rod and The Memory of Our People both magazines?") == (
        "Hot Rod", "The Memory of Our People")
    assert compared_things(CHOICE) == ("Copper Lanterns", "Vellum Tide")
    # A question that lists two things but asks what they are compares nothing to check.
    assert compared_things("The Polar Bear and Daiquiri are both examples of what?") == ()
    assert compared_things("What did Tokyo and Seoul agree in 2025?") == ()


def test_a_passage_names_a_thing_by_all_its_words_typos_and_nationality_aside():
    assert names("Vellum Tide", DOCS["vellum-tide.txt"])
    assert names("Vellum Tyde", DOCS["vellum-tide.txt"]) is False  # "tyde": too short for an edit
    assert names("Copper Lantern", DOCS["copper-lanterns-0.txt"])  # another inflection
    assert names("Neil Jordan American", "Irish film director Neil Jordan was born in Sligo.")
    assert not names("Iron Heron", DOCS["iron-works.txt"]) and not names("Iron Heron", DOCS["heron-walk.txt"])


@pytest.fixture(scope="module")
def band_briefing(tmp_path_factory):
    return indexed_briefing(tmp_path_factory, DOCS, "compared", top_k=3)


def test_a_thing_the_first_passages_miss_gets_a_retrieval_of_its_own(band_briefing):
    retriever = band_briefing.retriever
    # The first retrieval as it goes when one side's passages crowd out the other's.
    full = retriever.retrieve(CHOICE, 8)
    first = replace(full, passages=[p for p in full.passages if p.source != "vellum-tide.txt"][:3])
    assert unnamed(CHOICE, first.passages) == ["Vellum Tide"]
    merged = compared_hop(retriever, first, 3)
    sources = [p.source for p in merged.passages]
    assert sources[:2] == [p.source for p in first.passages[:2]] and sources[2] == "vellum-tide.txt"
    assert [p.source for p in merged.passages if p.chunk_id in merged.hop_passages] == ["vellum-tide.txt"]
    assert "compared" in merged.timings and unnamed(CHOICE, merged.passages) == []
    assert compared_hop(retriever, merged, 3) is merged  # nothing missing: nothing asked


def test_a_thing_named_only_below_the_passages_read_gets_its_passage_moved_up(band_briefing):
    """The evidence stage reads the first few passages: a thing named only further down would
    never be quoted, so it counts as missing, and its passage goes up once, not twice."""
    retriever = band_briefing.retriever
    full = retriever.retrieve(CHOICE, 8)
    others = [p for p in full.passages if p.source != "vellum-tide.txt"]
    vellum = next(p for p in full.passages if p.source == "vellum-tide.txt")
    first = replace(full, passages=others[:7] + [vellum])
    assert unnamed(CHOICE, first.passages) == [] and unnamed(CHOICE, first.passages[:6]) == ["Vellum Tide"]
    assert compared_hop(retriever, first, 8) is first  # reading them all, nothing is missing
    merged = compared_hop(retriever, first, 8, read=6)
    sources = [p.source for p in merged.passages]
    assert sources[2] == "vellum-tide.txt" and sources.count("vellum-tide.txt") == 1, sources
    assert len(merged.passages) == 8


def test_the_answer_names_the_option_its_quotes_decide_and_quotes_both_sides(band_briefing):
    answer = band_briefing.ask(CHOICE)
    assert not answer.abstained, answer.text
    assert answer.text.startswith("Vellum Tide. ")  # formed in 1994, the other in 2003
    cited = {c.passage.source for c in answer.citations}
    assert "vellum-tide.txt" in cited and any(s.startswith("copper-lanterns") for s in cited), answer.text
    assert "1994" in answer.text and "2003" in answer.text


def test_a_thing_no_passage_names_makes_the_answer_abstain_and_say_which(band_briefing):
    answer = band_briefing.ask("Which band was formed first, Copper Lanterns or Iron Heron?")
    assert answer.abstained, answer.text
    assert "say nothing about “Iron Heron”, so the comparison cannot be made" in answer.text
    # The same holds for a yes/no comparison.
    answer = band_briefing.ask("Are Copper Lanterns and Iron Heron both rock bands?")
    assert answer.abstained and "“Iron Heron”" in answer.text, answer.text


# One game, and two others named after it: their sentences name it too, match the question better
# than its own document's, and give later years than its own.
GAME_DOCS = {
    "reef-cove.txt": "Reef Cove\n\nReef Cove is a board game designed by Ada Lind, first published in 2002.\n",
    "harbor-game.txt": "Harbor Game\n\nHarbor Game, by Otto Brenner, came out in 1995 and sold widely.\n",
    "harbor-game-dice.txt": ("Harbor Game Dice\n\nHarbor Game Dice is a board game based on Harbor Game, "
                             "published in 2007.\n"),
    "harbor-game-cards.txt": ("Harbor Game Cards\n\nHarbor Game Cards is a board game of cards published in 2010, "
                              "the second Harbor Game spin-off.\n"),
}


@pytest.fixture(scope="module")
def game_briefing(tmp_path_factory):
    return indexed_briefing(tmp_path_factory, GAME_DOCS, "titled")


def test_each_option_is_quoted_from_the_document_titled_with_its_name(game_briefing):
    """"Harbor Game Dice ... published in 2007" names Harbor Game but is another game's year: the
    option's own document (its title line is the option's name) is the one quoted and compared."""
    answer = game_briefing.ask("Which board game was published most recently, Reef Cove or Harbor Game?")
    assert not answer.abstained, answer.text
    assert answer.text.startswith("Reef Cove. "), answer.text
    cited = {c.passage.source for c in answer.citations}
    assert {"reef-cove.txt", "harbor-game.txt"} <= cited, answer.text
    assert "1995" in answer.text and "2002" in answer.text


# A game whose own document gives its year only in its second sentence, after a first that the
# question matches better; and a genus whose count comes after its description.
VALUE_DOCS = {
    "tin-pyramids.txt": ("Tin pyramids\n\nTin pyramids are stackable game pieces and a game system for abstract "
                         "board games. The game system was invented by Mara Quill in 1987, for a game of its own.\n"),
    "lantern-dice.txt": "Lantern Dice\n\nLantern Dice is a board game released in 1996 by Foxglove Games.\n",
    "grey-thorn.txt": ("Greythorn\n\nGreythorn is a small genus of shrubs native to the hills of the south coast. "
                       "There are seven species, two in the west and five in the east. One species is deciduous.\n"),
    "sand-palm.txt": "Sandpalm\n\nSandpalm is a genus of two species of palm, both native to the dunes.\n",
}


@pytest.fixture(scope="module")
def value_briefing(tmp_path_factory):
    return indexed_briefing(tmp_path_factory, VALUE_DOCS, "values")


def test_an_options_value_is_quoted_from_its_document_when_its_best_sentence_lacks_it(value_briefing):
    answer = value_briefing.ask("Which game was released first, Tin pyramids or Lantern Dice?")
    assert not answer.abstained, answer.text
    assert answer.text.startswith("Tin pyramids. "), answer.text
    assert "1987" in answer.text and "1996" in answer.text
    # The document's first count of species, not a later "One species is deciduous".
    answer = value_briefing.ask("Which genus has more species, Greythorn or Sandpalm?")
    assert answer.text.startswith("Greythorn. "), answer.text
    assert "There are seven species" in answer.text
