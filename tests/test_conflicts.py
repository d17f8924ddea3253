"""The cross-document disagreement detector (rag.conflicts): general examples from several
domains, the labelled pairs of eval/conflicts.jsonl against their floors, and the provenance of
that set and of the planted documents (eval/planted/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.conflicts import load_pairs, score
from rag.conflicts import Disagreement, Statement, find_conflicts

ROOT = Path(__file__).resolve().parents[1]


def differ(a: str, b: str, date_a: str = "", date_b: str = "", same_doc: bool = False) -> list[Disagreement]:
    other = "doc-1" if same_doc else "doc-2"
    return find_conflicts([Statement("a", "doc-1", a, date_a), Statement("b", other, b, date_b)])


@pytest.mark.parametrize("a, b, values", [
    ("The company reported revenue of $4.2 billion in 2023.", "The company reported revenue of $3.9 billion in 2023.",
     ("$4.2 billion", "$3.9 billion")),
    ("The party won 316 seats in the election.", "The party won 310 seats in the election.",
     ("316 seats", "310 seats")),
    ("The trade agreement was signed in March 2024 by both countries.",
     "The trade agreement was signed in May 2024 by both countries.", ("March 2024", "May 2024")),
    ("The central bank raised its policy rate to 5.25 percent in July.",
     "The central bank raised its policy rate to 5.5 percent in July.", ("5.25 percent", "5.5 percent")),
    ("The museum was founded in 1901 by a group of local merchants.",
     "The museum was founded in 1905 by a group of local merchants.", ("1901", "1905")),
    ("The treaty was signed in 1990 and ratified by parliament in 1992.",
     "The treaty was signed in 1990 and ratified by parliament in 1993.", ("1992", "1993")),
    ("The new bridge over the river is 1,200 meters long.", "The new bridge over the river is 1,400 meters long.",
     ("1,200 meters", "1,400 meters")),
    ("Two-thirds of the members voted for the merger.", "Three-quarters of the members voted for the merger.",
     ("Two-thirds of the members", "Three-quarters of the members")),
])
def test_a_different_value_for_the_same_thing_is_a_disagreement(a, b, values):
    found = differ(a, b)
    assert [d.values for d in found] == [values], found
    assert found[0].keys == ("a", "b") and found[0].about


@pytest.mark.parametrize("a, b, values", [
    ("Prime Minister John Smith opened the new bridge in the capital.",
     "Prime Minister Jane Doe opened the new bridge in the capital.", ("John Smith", "Jane Doe")),
    ("The council approved the new housing plan on Monday.", "The council rejected the new housing plan on Monday.",
     ("approved", "rejected")),
    ("The city decided not to build the new stadium near the harbour.",
     "The city decided to build the new stadium near the harbour.", ("not to build", "build")),
    ("Unemployment fell to 4.1% in March, the statistics office said.",
     "Unemployment rose to 4.1% in March, the statistics office said.", ("fell", "rose")),
])
def test_another_holder_of_a_role_or_the_opposite_stance_is_a_disagreement(a, b, values):
    assert [d.values for d in differ(a, b)] == [values]


@pytest.mark.parametrize("a, b", [
    # different years, different quantities, different subjects
    ("The company reported revenue of $4.2 billion in 2023.", "The company reported revenue of $3.9 billion in 2022."),
    ("Japan will raise defense spending to 2% of GDP.", "Japan will raise defense spending to 43 trillion yen."),
    ("Apple reported revenue of $4.2 billion in 2023.", "Microsoft reported revenue of $3.9 billion in 2023."),
    ("Japan's exports rose 5% last year.", "Japan's imports rose 3% last year."),
    ("In 2020 the city had 1.2 million residents.", "In 2023 the city had 1.3 million residents."),
    ("He was born in 1950 in a small town.", "She was born in 1960 in a small town."),
    ("It was released in May 1980 as the first single from the album.",
     "It was released in October 1980 as the first single from the album."),
    # approximations, rounding, ranges, another unit, a coarser date
    ("The party won about 300 seats in the election.", "The party won 316 seats in the election."),
    ("The party won more than 300 seats in the election.", "The party won 316 seats in the election."),
    ("The party won between 300 and 320 seats in the election.", "The party won 316 seats in the election."),
    ("The company reported revenue of $4.2 billion in 2023.", "The company reported revenue of $4.17 billion in 2023."),
    ("The company employs about 5,000 people in Europe.", "The company employs 4,800 people in Europe."),
    ("The tower is 330 meters tall.", "The tower is 1,083 feet tall."),
    ("The trade agreement was signed in March 2024 by both countries.",
     "The trade agreement was signed in 2024 by both countries."),
    # a value the other side also states, a change "after" another, another time for the role
    ("Tariffs were raised from 15 percent to 25 percent.", "Tariffs were raised to 25 percent."),
    ("Shares rose 5% after falling 3% in the morning.", "Shares rose 5% in the morning."),
    ("Former President John Smith opened the new bridge.", "President Jane Doe opened the new bridge."),
    # different seasons of one team: every figure differs
    ("The team scored 327 points while the defense allowed 276 points.",
     "The team scored 282 points while the defense allowed 165 points."),
])
def test_no_false_alarm(a, b):
    assert differ(a, b) == []


def test_sentences_of_one_document_never_disagree():
    a, b = "The party won 316 seats in the election.", "The party won 310 seats in the election."
    assert differ(a, b, same_doc=True) == []
    assert differ(a, b)


def test_this_year_in_documents_of_different_years_is_not_the_same_year():
    a, b = "The budget for schools rose 5% this year.", "The budget for schools rose 3% this year."
    assert differ(a, b, "2024-03-01", "2025-03-01") == []
    assert differ(a, b, "2025-01-10", "2025-03-01")


def test_sides_with_the_same_value_join_one_disagreement():
    found = find_conflicts([Statement("a", "d1", "The party won 316 seats in the election."),
                            Statement("c", "d3", "The party won 316 seats in the election."),
                            Statement("b", "d2", "The party won 310 seats in the election.")])
    assert len(found) == 1
    assert dict(zip(found[0].keys, found[0].values)) == {"a": "316 seats", "c": "316 seats", "b": "310 seats"}


def test_labelled_pairs_meet_their_floors():
    pairs = load_pairs()
    assert len(pairs) >= 40
    assert sum(p["origin"] == "corpus" for p in pairs) >= 25
    assert sum(p["origin"] == "planted" and p["conflict"] for p in pairs) >= 20
    result = score(pairs)
    assert result["precision"] >= 0.9, [p["id"] for p, found in result["wrong"] if found]
    assert result["recall"] >= 0.7, [p["id"] for p, found in result["wrong"] if not found]


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_labelled_sentences_and_planted_edits_are_in_their_documents():
    corpus = {p.name: _norm(p.read_text(encoding="utf-8")) for p in (ROOT / "corpus").glob("*.txt")}
    planted = {p.name: _norm(p.read_text(encoding="utf-8")) for p in (ROOT / "eval" / "planted").glob("*.txt")}
    for pair in load_pairs():
        assert pair["a"]["doc"] != pair["b"]["doc"], pair["id"]
        sides = ("a", "b") if pair["origin"] == "corpus" else ("a",)  # a planted pair's "b" is the edited copy
        for side in sides:
            doc = pair[side]["doc"]
            assert doc in corpus, (pair["id"], doc)
            assert _norm(pair[side]["text"]) in corpus[doc], (pair["id"], side)
    manifest_text = (ROOT / "eval" / "planted" / "manifest.jsonl").read_text(encoding="utf-8")
    manifest = [json.loads(line) for line in manifest_text.splitlines() if line.strip()]
    assert 3 <= len(planted) <= 5 and len(manifest) >= len(planted)
    for edit in manifest:
        assert edit["kind"] in {"figure", "date", "count", "name", "stance"} and edit["question"].endswith("?")
        assert edit["file"] == f"planted-{edit['original_file']}" and edit["original"] != edit["edited"]
        assert _norm(edit["edited"]) in planted[edit["file"]], edit["edited"]
        assert _norm(edit["original"]) in corpus[edit["original_file"]], edit["original"]
        assert _norm(edit["original"]) not in planted[edit["file"]], edit["original"]
