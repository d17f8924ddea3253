"""The support check on sentences from no bundled brief (issue 10, "general, not tuned"): places
are not folded into one another, and a change reported the other way round is a polarity
conflict wherever the passage states it, with the near-misses that must still pass."""

from __future__ import annotations

import pytest

from rag import verify
from rag.base.lexicon import LEXICONS, load_groups, load_pairs
from rag.verify.claims import direction_mentions


# (claim, passage, supported)
PLACES = [
    ("Seoul condemned the missile test on Monday.", "Seoul condemned the missile test on Monday.", True),
    ("Pyongyang condemned the missile test on Monday.", "Seoul condemned the missile test on Monday.", False),
    ("Osaka will host the trade fair in May.", "Tokyo will host the trade fair in May.", False),
    ("Tokyo will host the trade fair in May.", "Tokyo will host the trade fair in May.", True),
    # A city is not its country: a passage about Japan does not state what Tokyo did, nor the reverse.
    ("Tokyo announced new export controls on Friday.", "Japan announced new export controls on Friday.", False),
    ("Japan announced new export controls on Friday.", "Tokyo announced new export controls on Friday.", False),
    ("Shanghai reported record port traffic last year.", "Beijing reported record port traffic last year.", False),
    ("Beijing reported record port traffic last year.", "Beijing reported record port traffic last year.", True),
    # Demonyms still fold into their country.
    ("The Japanese government announced new export controls.", "Japan announced new export controls.", True),
]


@pytest.mark.parametrize("claim, passage, supported", PLACES)
def test_places_are_not_folded_into_one(embedder, claim, passage, supported):
    assert verify.supports(claim, passage, embedder) is supported


_AFTER = "Shares of the carmaker rose 5% on Tuesday after falling 3% on Monday."
_WHILE = "In March, exports rose by 4% while imports fell sharply."
DIRECTIONS = [
    ("Shares climbed 5% on Tuesday.", "Shares slumped 5% on Tuesday.", False),
    ("Shares slumped 5% on Tuesday.", "Shares climbed 5% on Tuesday.", False),
    ("Shares slumped 5% on Tuesday.", "Shares slumped 5% on Tuesday.", True),
    ("Rice prices soared in the spring.", "Rice prices plunged in the spring.", False),
    ("The company cut its workforce by a third.", "The company grew its workforce by a third.", False),
    ("Sales were up 4% from a year earlier.", "Sales were down 4% from a year earlier.", False),
    ("Sales were down 4% from a year earlier.", "Sales were down 4% from a year earlier.", True),
    # The passage states both a rise and a fall: the claim is matched to the one it is about.
    ("Shares of the carmaker rose 5% on Tuesday.", _AFTER, True),
    ("Shares of the carmaker fell 3% on Monday.", _AFTER, True),
    ("Shares of the carmaker fell 5% on Tuesday.", _AFTER, False),
    ("Exports rose by 4% in March.", _WHILE, True),
    ("In March, imports fell sharply.", _WHILE, True),
    ("In March, imports rose sharply.", _WHILE, False),
    # Near-misses: words of change in a sense that reports no change of amount.
    ("The ministry declined to comment on the fall in exports.",
     "Exports fell in May; the ministry declined to comment on the fall in exports.", True),
    ("The regulator set up a panel after profits fell.", "Profits fell, and the regulator set up a panel.", True),
    # General antonyms (lexicons/antonyms.txt) are still a swap.
    ("The council approved the housing plan on Monday.", "The council rejected the housing plan on Monday.", False),
]


@pytest.mark.parametrize("claim, passage, supported", DIRECTIONS)
def test_directions_of_change(embedder, claim, passage, supported):
    result = verify.check(claim, passage, embedder)
    assert result.supported is supported, result.failed
    if not supported:
        assert "polarity" in result.failed


@pytest.mark.parametrize("text, expected", [
    ("Shares rose 5% after falling 3%.", [("up", {"share", "5", "percent"}), ("down", {"3", "percent"})]),
    ("Output declined to 3 percent.", [("down", {"output", "3", "percent"})]),
    ("The ministry declined to comment.", []),  # a refusal
    ("He set up a panel and stepped down.", []),  # phrasal verbs, no figure
    ("Sales were down 4% from a year earlier.", [("down", {"sale", "4", "percent", "year", "earlier"})]),
    ("Prices did not rise.", []),  # negated: no direction stated
])
def test_direction_mentions(text, expected):
    assert [(d, c) for d, c in direction_mentions(text)] == expected


def test_direction_lexicon_is_consistent():
    groups = load_groups("directions.txt")
    assert not groups["up"] & groups["down"]
    assert groups["refusal-sense"] <= groups["down"]
    # A pair of opposite changes belongs in directions.txt, where the place it is said of is
    # checked, not in antonyms.txt's window-wide test.
    changes = groups["up"] | groups["down"]
    assert not [pair for pair in load_pairs("antonyms.txt") if set(pair) <= changes]


@pytest.mark.parametrize("name", ["antonyms.txt", "directions.txt", "name_variants.txt", "abbreviations.txt"])
def test_lexicons_say_where_they_come_from(name):
    header = [line for line in (LEXICONS / name).read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert header and "general english" in " ".join(header).lower()
