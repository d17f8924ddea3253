"""Bridge questions over a small corpus indexed for real (real model, real Chroma): the second
hop (rag.hops) finds the passage about the entity the first passage names, and the extractive
answer quotes the bridge sentence and the answer sentence, each cited."""

from __future__ import annotations

import pytest

from helpers import indexed_briefing
from rag.hops import bridge_names, names_in, needs_hop, second_hop

DOCS = {
    "harbor-lights.txt": "Harbor Lights (film)\n\nHarbor Lights is a 2011 drama film written and directed by "
                         "Marta Quillon and produced by Ben Farrow. The film follows a lighthouse keeper on a "
                         "northern coast. It premiered at a regional festival in the spring of 2011.\n",
    "marta-quillon.txt": "Marta Quillon\n\nMarta Quillon is a novelist and screenwriter. She has lived in "
                         "Savannah, Georgia since 2002, where she teaches writing. Her first novel appeared in 2004.\n",
    "ben-farrow.txt": "Ben Farrow\n\nBen Farrow is a film producer. He founded a small studio in 1999 and "
                      "produced eleven features.\n",
}
# Other films, keepers and coasts, so that the first hop's best passages are not the director's.
for i, (title, place) in enumerate([("Northern Beacon", "Norway"), ("The Keeper's Year", "Scotland"),
                                    ("Tidewater", "Maine"), ("Salt and Stone", "Brittany"),
                                    ("Fog Signal", "Newfoundland"), ("Last Light", "Cornwall")]):
    DOCS[f"film-{i}.txt"] = (f"{title}\n\n{title} is a drama film about a lighthouse keeper on the coast of {place}. "
                             f"The film was shot over one winter and premiered at a festival.\n")

QUESTION = "The director of the drama film Harbor Lights has lived in what city since 2002?"


@pytest.fixture(scope="module")
def hop_briefing(tmp_path_factory):
    return indexed_briefing(tmp_path_factory, DOCS, "hop")


def test_names_are_capitalised_runs_and_punctuation_ends_them():
    sentence = 'It recounts the stories of Bill Clinton, Monica Lewinsky and "Their Lives" by World Ahead Publishing.'
    assert names_in(sentence) == ["Their Lives", "Bill Clinton", "Monica Lewinsky", "World Ahead Publishing"]
    assert bridge_names("Who wrote Their Lives?", sentence) == ["Bill Clinton", "Monica Lewinsky",
                                                                "World Ahead Publishing"]


def test_bridge_cues():
    assert needs_hop("Where is the company that Sachin Warrier worked for headquartered?")
    assert needs_hop(QUESTION)
    assert not needs_hop("When was Japan's National Security Strategy first established?")


def test_second_hop_brings_the_passage_about_the_bridge_entity(hop_briefing):
    retriever = hop_briefing.retriever
    first = retriever.retrieve(QUESTION, 2)
    sources = [p.source for p in first.passages]
    assert sources[0] == "harbor-lights.txt"
    assert "marta-quillon.txt" not in sources  # the first hop alone misses it
    merged = second_hop(retriever, first, 2)
    merged_sources = [p.source for p in merged.passages]
    assert merged_sources[:2] == sources  # first-hop passages keep their place
    assert "marta-quillon.txt" in merged_sources
    assert "hop" in merged.timings
    assert [p.source for p in merged.passages if p.chunk_id in merged.hop_passages] == ["marta-quillon.txt"]


class _Rejects:
    """A learned answerability check that says no to everything, counting its calls."""

    def __init__(self):
        self.calls = 0

    def verdict(self, profile, sentences, bm25):
        from rag.answerability import Verdict

        self.calls += 1
        return Verdict(0.0, False, ())


def test_the_one_window_check_does_not_judge_an_answer_a_second_hop_brought_in(hop_briefing):
    from rag.evidence import gather

    retriever = hop_briefing.retriever
    first = retriever.retrieve(QUESTION, 2)
    check = _Rejects()
    assert gather(first, retriever.snapshot(), check).abstain and check.calls == 1
    merged = second_hop(retriever, first, 2)
    assert merged.hop_passages
    assert not gather(merged, retriever.snapshot(), check).abstain and check.calls == 1


def test_no_hop_when_the_first_passage_answers(hop_briefing):
    retriever = hop_briefing.retriever
    first = retriever.retrieve("Who produced the drama film Harbor Lights?", 2)
    assert second_hop(retriever, first, 2) is first


def test_answer_quotes_bridge_and_answer_sentences_each_cited(hop_briefing):
    answer = hop_briefing.ask(QUESTION)
    assert not answer.abstained, answer.text
    by_source = {c.passage.source: c for c in answer.citations}
    assert {"harbor-lights.txt", "marta-quillon.txt"} <= set(by_source), answer.text
    assert any("directed by Marta Quillon" in s.text for s in by_source["harbor-lights.txt"].spans)
    assert any("Savannah" in s.text for s in by_source["marta-quillon.txt"].spans)
    # The bridge comes first, then the answer, each with its own marker (the answer's own, after
    # it: "She has lived in Savannah" comes with the sentence naming her, cited the same).
    bridge, hop = by_source["harbor-lights.txt"], by_source["marta-quillon.txt"]
    savannah = answer.text.index("Savannah")
    assert answer.text.index(f"[{bridge.n}]") < savannah < answer.text.index(f"[{hop.n}]", savannah)


def test_a_roadmap_sentence_is_never_quoted_as_the_answer(briefing):
    # Tokuchi's piece opens with "This article discusses the following three points: ..."; it
    # matches the question best and answers nothing.
    answer = briefing.ask("What are the major shifts in Japan's strategic environment since the 2022 strategy, "
                          "according to Tokuchi?")
    assert not answer.abstained, answer.text
    assert "This article discusses" not in answer.text
    assert answer.citations


# A bridge question of a type (a figure) whose answer sentence, in the second passage, matches the
# question far less than the bridge sentence; and a suburb question whose second passage holds
# a sentence about being a suburb before the one with the figure asked.
TYPED_DOCS = {
    "owen-tarrant.txt": ("Owen Tarrant\n\nA campaigner from the north, Owen Tarrant has been a vocal critic of river "
                         "dams, and of companies such as Norvale and Quenby Works. Since 2006 he has organized "
                         "campaigns against new dams.\n"),
    "quenby-works.txt": ("Quenby Works\n\nThe Quenby Works company, a British engineering firm. One of the oldest "
                         "engineering firms, it has offices in more than 40 cities.\n"),
    "norvale.txt": "Norvale\n\nNorvale is a brand of bottled water sold since 1988.\n",
    "tarn-otters.txt": ("Tarn Otters\n\nThe Tarn Otters are a professional hockey team of the northern league. "
                        "Based in the Kelby suburb of Marrow Point, the team plays its home games at Dale Arena.\n"),
    "marrow-point.txt": ("Marrow Point\n\nMarrow Point is a city in Dale County. It is a suburb of Kelby, and a "
                         "principal city in the Kelby area. The 2010 census reported a population of 48,982.\n"),
    "kelby.txt": "Kelby\n\nKelby is a city on the river Tarn and the seat of Dale County.\n",
    "ivo-marsh.txt": ("Ivo Marsh\n\nIvo Marsh (3 March 1890 – 9 May 1921) was a Welsh rally driver credited with "
                      "four race wins. He was the closest friend of Teodor Vance.\n"),
    "teodor-vance.txt": ("Teodor Vance\n\nTeodor Vance (12 June 1891 – 4 July 1930) was a Welsh rally driver "
                         "whose wins made him famous. At the time of his death he was the most successful driver of "
                         "the country, with 31 wins.\n"),
    # The album's passage: its title line and a sentence repeating the question's names match the
    # question best and name nothing new; the bridge ("the Pelican Lodge") comes third; a namesake
    # album's passage brings names of its own.
    "lena-orr-live.txt": ("Lena Orr Live\n\n(1971) is Lena Orr's second album. Lena Orr said she improvised "
                          "much of the material on her second album. It was recorded at the Pelican Lodge in "
                          "Port Alder.\n"),
    "pelican-lodge.txt": ("Pelican Lodge\n\nThe Pelican Lodge is a hotel and casino located on the Alder Strip in "
                          "Maren Bay.\n"),
    "lena-orr-songs.txt": ("Lena Orr Songs\n\nLena Orr Songs (1975) is an album by Lena Orr and Dana Wick, "
                           "recorded with the Harlow Quartet.\n"),
    # A namesake's passage (another Ravi) is found too, and its sentence naming many things matches
    # the question as well as the one naming the company.
    "ravi-ostrander.txt": ("Ravi Ostrander\n\nRavi Ostrander is a singer and composer from Delmar. He was working "
                           "as an engineer at Kestrel Data Systems in Orwin.\n"),
    "ravi-bellamy.txt": ("Ravi Bellamy\n\nRavi Bellamy is an engineer and entrepreneur who worked for Quillmart, "
                         "Dana Price, Omar Vell, Tessaly Partners and Harwick Capital.\n"),
    "kestrel-data-systems.txt": ("Kestrel Data Systems\n\nKestrel Data Systems is a software company headquartered "
                                 "in Brannock.\n"),
}


@pytest.fixture(scope="module")
def typed_hop_briefing(tmp_path_factory):
    return indexed_briefing(tmp_path_factory, TYPED_DOCS, "typed-hop")


def test_a_figure_in_the_passage_about_the_bridge_is_not_missing(typed_hop_briefing):
    answer = typed_hop_briefing.ask(
        "Owen Tarrant has been a vocal critic of Norvale and another company that has offices in how many cities?")
    assert not answer.abstained, answer.text
    assert "more than 40 cities" in answer.text
    assert "quenby-works.txt" in {c.passage.source for c in answer.citations}


def test_the_second_passages_sentence_holding_the_rest_of_the_question_answers(typed_hop_briefing):
    assert needs_hop("The Tarn Otters are based in a suburb of a city with a population of what in 2010?")
    answer = typed_hop_briefing.ask("The Tarn Otters are based in a suburb of a city with a population of what in "
                                    "2010?")
    assert not answer.abstained, answer.text
    assert "48,982" in answer.text and "Based in the Kelby suburb of Marrow Point" in answer.text, answer.text


def test_a_count_is_answered_by_the_sentence_counting_what_is_asked(typed_hop_briefing):
    # Teodor Vance's opening sentence holds figures too (the days of his dates) and as many of the
    # question's words: only the sentence counting wins answers "how many wins".
    answer = typed_hop_briefing.ask("Ivo Marsh was the closest friend of the rally driver who had how many wins?")
    assert not answer.abstained, answer.text
    assert "with 31 wins" in answer.text, answer.text
    assert "whose wins made him famous" not in answer.text, answer.text


def test_the_bridge_is_taken_from_the_best_sentences_that_name_something_new(typed_hop_briefing):
    # The best-matching sentences ("(1971) is Lena Orr's second album.", the title lines) name
    # only what the question names: they must not use up the sentences bridge names come from.
    question = "Where is the hotel and casino located in which Lena Orr's second album was recorded?"
    retriever = typed_hop_briefing.retriever
    first = retriever.retrieve(question, 2)
    assert [p.source for p in first.passages] == ["lena-orr-live.txt", "lena-orr-songs.txt"]
    merged = second_hop(retriever, first, 2)
    assert [p.source for p in merged.passages if p.chunk_id in merged.hop_passages] == ["pelican-lodge.txt"]
    answer = typed_hop_briefing.ask(question)
    assert "It was recorded at the Pelican Lodge" in answer.text, answer.text
    assert "on the Alder Strip in Maren Bay" in answer.text, answer.text


def test_the_bridge_is_taken_first_from_the_passage_about_the_thing_the_question_names(typed_hop_briefing):
    question = "Where is the company that Ravi Ostrander worked for as an engineer headquartered?"
    retriever = typed_hop_briefing.retriever
    first = retriever.retrieve(question, 2)
    assert [p.source for p in first.passages] == ["ravi-ostrander.txt", "ravi-bellamy.txt"]
    merged = second_hop(retriever, first, 2)
    assert [p.source for p in merged.passages if p.chunk_id in merged.hop_passages] == ["kestrel-data-systems.txt"]
