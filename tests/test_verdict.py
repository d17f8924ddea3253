"""Yes/no verdicts (rag.verdict) and choices (rag.options): unit cases on plain sentences, and the real pipeline over the
bundled corpus opening its answer with the verdict."""

from __future__ import annotations

import pytest

from eval.metrics import verdict_given
from rag.compared import comparison
from rag.options import choose, gives_value
from rag.question import analyze
from rag.verdict import decide, nationality_forms

DERRICKSON = "Scott Derrickson (born July 16, 1966) is an American director, screenwriter and producer."
WOOD = "Edward Davis Wood Jr. (October 10, 1924 – December 10, 1978) was an American filmmaker, actor and writer."
COLDPLAY = "Coldplay are a British rock band formed in London in 1996."
BOUVIER = "Pierre Charles Bouvier (born 9 May 1979) is a Canadian singer and musician."


def test_same_nationality_compares_the_nationality_each_sentence_gives():
    question = "Were Scott Derrickson and Ed Wood of the same nationality?"
    assert decide(question, [DERRICKSON, WOOD]) == "yes"
    english = "Edward Wood was an English filmmaker."
    assert decide(question, [DERRICKSON, english]) == "no"


def test_same_country_tells_different_countries_apart():
    assert decide("Are both Coldplay and Pierre Bouvier from the same country?", [COLDPLAY, BOUVIER]) == "no"


def test_english_and_british_are_one_nationality():
    question = "Were Alfred Gell and Edmund Leach of the same nationality?"
    quotes = ["Alfred Gell was a British social anthropologist.", "Edmund Leach was an English social anthropologist."]
    assert decide(question, quotes) == "yes"


def test_no_verdict_when_one_compared_thing_has_no_quote():
    assert decide("Were Scott Derrickson and Ed Wood of the same nationality?", [DERRICKSON]) is None


def test_a_quote_is_matched_to_its_thing_by_the_passage_it_comes_from():
    question = "Are Local H and For Against both from the United States?"
    quotes = ["Local H is an American rock band originally formed in Zion, Illinois.",
              "The band was formed in Lincoln, Nebraska, in the United States in 1984."]
    contexts = ["Local H\n\nLocal H is an American rock band", "For Against\n\nFor Against is a band"]
    assert decide(question, quotes, contexts) == "yes"
    assert decide(question, quotes) is None  # the second quote names neither band


def test_both_attribute_must_hold_for_each_thing():
    question = "Are Freakonomics and In the Realm of the Hackers both American documentaries?"
    freak = "Freakonomics is a 2010 American documentary film based on the book."
    hackers = "In the Realm of the Hackers is a 2003 Australian documentary film."
    assert decide(question, [freak, hackers]) == "no"
    assert decide(question, [freak, "In the Realm of the Hackers is an American documentary."]) == "yes"
    # The country asked of a thing is its own, the first its sentences give, not one they mention.
    mention = "The Australian teenagers of In the Realm of the Hackers broke into US military computers."
    assert decide(question, [freak, hackers, mention]) == "no"


def test_a_region_places_a_thing_in_its_country_after_any_country_named_outright():
    question = "Are Rutgers University and Carnegie Mellon University both located in America?"
    rutgers = "Rutgers University is an American public research university in New Jersey."
    cmu = "Carnegie Mellon University is a private research university in Pittsburgh, Pennsylvania."
    assert decide(question, [rutgers, cmu]) == "yes"
    assert decide(question, [rutgers, cmu.replace("Pittsburgh, Pennsylvania", "Doha")]) == "no"
    assert nationality_forms("Virginia Woolf was an English writer.") == ["england", "us"]
    assert nationality_forms("a suburb of Sydney, New South Wales") == ["australia"]  # not Wales
    # A region the question names is asked about as such, not as its country.
    assert nationality_forms("located in California", regions=False) == []


def test_a_count_bound_asked_of_both_is_read_from_each_things_count():
    question = "Both Sorbaria and Goldenrod are a genus of more than 50 flowering plants?"
    assert analyze(question).yes_no  # a statement asked as a question
    sorbaria = "Sorbaria is a genus of around 9 species of flowering plants in the family Rosaceae."
    goldenrod = "Goldenrod is a genus of about 100 to 120 species of flowering plants in the aster family."
    assert decide(question, [sorbaria, goldenrod]) == "no"
    assert decide(question, [sorbaria.replace("around 9", "around 90"), goldenrod]) == "yes"
    assert decide(question.replace("more than", "fewer than"), [sorbaria, goldenrod]) == "no"
    assert decide(question, [sorbaria, "Goldenrod is a genus of flowering plants."]) is None  # no count given
    assert not analyze("Both Sorbaria and Goldenrod belong to which family?").yes_no


def test_place_names_after_the_compared_noun_are_compared():
    question = "Were Goo Goo Dolls and Echosmith formed in the same city?"
    quotes = ["The Goo Goo Dolls are a rock band formed in 1986 in Buffalo, New York.",
              "Echosmith is an American indie pop band formed in February 2009 in Chino, California."]
    assert decide(question, quotes) == "no"


def test_plain_proposition_stated_negated_or_not_stated():
    question = "Did the treaty enter into force?"
    assert decide(question, ["The treaty entered into force in 1994."]) == "yes"
    assert decide(question, ["The treaty did not enter into force."]) == "no"
    assert decide(question, ["The treaty was signed in Rome in 1957."]) is None


def test_a_choice_picks_the_option_its_quotes_decide():
    born = "Who was born first, Scott Derrickson or Ed Wood?"
    assert choose(born, [DERRICKSON, WOOD]) == "Ed Wood"
    assert choose("Who is younger, Scott Derrickson or Ed Wood?", [DERRICKSON, WOOD]) == "Scott Derrickson"
    formed = "Which band formed more recently, Coldplay or Ed Wood?"
    assert choose(formed, [COLDPLAY, WOOD]) == "Coldplay"  # "more recently" is a date, not a count
    members = "Which band has more members, The Futureheads or Marcy Playground?"
    quotes = ["The Futureheads are an English rock band of four members.",
              "Marcy Playground is an American band consisting of three members: John Wozniak and others."]
    assert choose(members, quotes) == "The Futureheads"
    assert choose("Which genus has fewer species, Apium or Elodea?",
                  ["Apium is a genus of about 20 species.", "Elodea is a genus of 6 species."]) == "Elodea"
    # No option named: a value missing for one side, a tie, or a comparative it cannot weigh.
    assert choose(born, [DERRICKSON]) is None
    assert choose(members, [quotes[0], "Marcy Playground is an American band."]) is None
    assert choose("Which genus has more species, Apium or Elodea?",
                  ["Apium has 20 species.", "Elodea has 20 species."]) is None
    assert choose("Which magazine is published more often, Paper or Jack and Jill?",
                  ["Paper is a monthly magazine.", "Jack and Jill is a magazine for children."]) is None
    assert choose("Who was born first?", [DERRICKSON, WOOD]) is None  # no options


def test_how_often_is_compared_in_issues_a_year():
    often = "Which magazine is published more often, Paper or Jack and Jill?"
    quotes = ["Paper is a monthly magazine.", "Jack and Jill is a bimonthly magazine."]
    assert choose(often, quotes) == "Paper"
    assert choose("Which magazine is published less frequently, Paper or Jack and Jill?", quotes) == "Jack and Jill"
    # What it changed to counts, and a frequency word in a title ("Weekly Tide") is a name.
    tide = ('Based on the magazine "Weekly Tide", "Tide" is retooled for readers abroad, changing it from a '
            'weekly publication to a monthly one.')
    assert choose("Which magazine is published more often, Tide or Harbor Notes?",
                  [tide, "Harbor Notes is a biweekly magazine."]) == "Harbor Notes"
    assert choose("Which magazine is published more often, Tide or Harbor Notes?",
                  [tide, "Harbor Notes is a monthly magazine."]) is None  # a tie
    assert gives_value(often, "Paper is a monthly magazine.")
    assert not gives_value(often, "Paper is a magazine founded in 1984.")


def test_a_choice_of_the_option_whose_quotes_state_what_is_asked():
    band = "Which band is from England, Fireflight or Dirty Pretty Things?"
    fireflight = "Fireflight is an American Christian rock band formed in Eustis, Florida in 1999."
    dirty = "Dirty Pretty Things were an English band fronted by Carl Barât."
    assert choose(band, [fireflight, dirty]) == "Dirty Pretty Things"  # "English" states "England"
    escape = "Who had to escape the Nazis, Sigmund Freud or Evelyn Waugh?"
    freud, waugh = "In 1938 Freud left Austria to escape the Nazis.", "Evelyn Waugh was an English writer."
    assert choose(escape, [freud, waugh]) == "Sigmund Freud"
    # Both (or neither) state it, or the question weighs a value ("best"): no option.
    assert choose(band, [fireflight.replace("American", "English"), dirty]) is None
    assert choose(band, [fireflight, "Dirty Pretty Things were a band fronted by Carl Barât."]) is None
    ranking = "Who had the best singles ranking, Roberta Vinci or Jorge Lozano?"
    assert choose(ranking, ["Roberta Vinci is an Italian tennis player.",
                            "Jorge Lozano reached his best singles ranking of World No. 40."]) is None


def test_both_in_a_century_compares_the_century_of_each_things_year():
    question = "Were both the Battle of Stones River and the Battle of the Cold Ford fought in the 19th century?"
    stones = "The Battle of Stones River was fought from December 31, 1862, to January 2, 1863."
    ford = "The Battle of the Cold Ford took place from November 25 to December 2, 1950."
    contexts = [f"Battle of Stones River\n{stones}", f"Battle of the Cold Ford\n{ford}"]
    assert decide(question, [stones, ford], contexts) == "no"
    assert decide(question, [stones, ford.replace("1950", "1850")], contexts) == "yes"
    assert decide(question, [stones, "The Battle of the Cold Ford was a decisive battle."], contexts) is None
    assert decide(question.replace("19th", "20th"), [ford.replace("1950", "1901"), stones.replace(
        "1862", "2000")], contexts[::-1]) == "yes"


def test_a_ranking_is_compared_by_the_place_of_the_ranking_asked():
    ranking = "Who had the best singles ranking, Roberta Vinci or Jorge Lozano?"
    vinci = ("Up until 2015 she held the position of World No. 1 in doubles, while reaching a career-high of "
             "World No. 7 in singles in May 2016.")
    lozano = ["Jorge Lozano reached his highest doubles ranking of World No. 4 in 1988.",
              "His highest singles ranking was World No. 51, achieved the following month."]
    contexts = ["Roberta Vinci\nRoberta Vinci is an Italian tennis player. " + vinci] + [
        "Jorge Lozano\nJorge Lozano is a tennis player from Mexico. " + " ".join(lozano)] * 2
    # Vinci's No. 1 is a doubles place, Lozano's No. 4 too: 7 against 51 in singles.
    assert choose(ranking, [vinci] + lozano, contexts) == "Roberta Vinci"
    # A side with no singles place leaves the choice open.
    assert choose(ranking, [vinci, lozano[0]], contexts[:2]) is None


def test_the_counted_noun_is_not_an_options_first_word():
    """Without a comma "more species Eucryphia or ..." counts species, not "Eucryphia"."""
    question = "Which Genus has more species Eucryphia or Lepidozamia ?"
    quotes = ["Eucryphia is a small genus of trees.", "There are seven species, two in South America.",
              "Lepidozamia is a genus of two species of cycad."]
    contexts = ["Eucryphia\n" + " ".join(quotes[:2])] * 2 + ["Lepidozamia\n" + quotes[2]]
    assert choose(question, quotes, contexts) == "Eucryphia"
    assert gives_value(question, quotes[1]) and not gives_value(question, quotes[0])
    assert gives_value("Which game was released first, Icehouse pieces or Kill Doctor Lucky?",
                       "The game system was invented in 1987.")
    assert not gives_value("Are Eucryphia and Lepidozamia both genera?", quotes[1])  # no choice


def test_a_year_is_an_options_own_only_in_a_passage_about_it():
    question = "Who was born first, Arthur Conan Doyle or Penelope Lively?"
    adrian = "Adrian Malcolm Conan Doyle (19 November 1910 – 3 June 1970) was the youngest son of Sir Arthur Conan Doyle."
    lively = "Dame Penelope Margaret Lively (born 17 March 1933) is a British writer."
    contexts = [f"Adrian Malcolm Conan Doyle\n{adrian}", f"Penelope Lively\n{lively}"]
    assert choose(question, [adrian, lively], contexts) is None  # 1910 is the son's year
    doyle = "Sir Arthur Ignatius Conan Doyle (22 May 1859 – 7 July 1930) was a British writer."
    assert choose(question, [doyle, lively], [f"Arthur Conan Doyle\n{doyle}", contexts[1]]) == "Arthur Conan Doyle"
    # A year in brackets right after the name is its own, whatever the passage is about.
    arabi = "The word is derived from the nickname of Ibn Arabi (1165–1240), the greatest shaykh."
    haq = "Mahbub ul Haq (24 February 1934 – 16 July 1998) was a Pakistani economist."
    assert choose("Who was born first, Mahbub ul Haq or Ibn Arabi?", [haq, arabi],
                  [f"Mahbub ul Haq\n{haq}", f"Akbarian school\n{arabi}"]) == "Ibn Arabi"


def test_options_of_the_same_year_are_told_apart_by_the_day():
    question = "Who was born first, Ulf Merbold or Miroslaw Hermaszewski?"
    merbold = "Ulf Dietrich Merbold (born June 20, 1941) is a German physicist."
    hermaszewski = "Miroslaw Hermaszewski (born 15 September 1941) is a retired Polish cosmonaut."
    assert choose(question, [merbold, hermaszewski]) == "Ulf Merbold"
    assert choose(question, [merbold, "Miroslaw Hermaszewski (born 1941) is a cosmonaut."]) is None


def test_a_pair_of_names_inside_the_question_is_no_comparison():
    assert comparison("Does Choi Eunmi expect relations between Seoul and Tokyo to stay steady?") is None
    c = comparison("Were the bands Skin Yard and Ostava from the U.S.?")
    assert c is not None and c.things == ("Skin Yard", "Ostava") and c.attribute == "from the U.S."


def test_short_country_forms_count_only_in_capitals():
    assert nationality_forms("They told us about the US and the U.K.") == ["us", "uk"]


@pytest.mark.parametrize("question,verdict", [
    ("Did Tokyo send a cabinet-level official to the Takeshima Day ceremony this year?", "no"),
])
def test_answer_opens_with_the_verdict_the_quotes_decide(briefing, question, verdict):
    answer = briefing.ask(question)
    assert not answer.abstained, answer.text
    assert verdict_given(answer.text) == verdict, answer.text
    # The verdict word is no quote: every cited sentence after it still is one.
    body = answer.text.split(" ", 1)[1]
    assert body.strip() and answer.citations
    for citation in answer.citations:
        for span in citation.spans:
            assert span.text in body
