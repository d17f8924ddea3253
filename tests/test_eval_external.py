"""The outside question sets (eval/external.py): how their corpora and gold files are built, and
the CI gate on their small fixed subsets (eval/thresholds-squad-gate, eval/thresholds-hotpot-gate),
run through `briefing eval --set` like a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import external as X
from eval import cli
from eval.gold import load_gold
from rag.base.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sets_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sets")


def test_squad_parts_are_disjoint_and_every_question_is_over_one_corpus(sets_root):
    tune, holdout, gate = (X.build_set(n, sets_root) for n in ("squad-tune", "squad-holdout", "squad-gate"))
    assert tune.corpus == holdout.corpus == gate.corpus  # one corpus: every article
    assert sorted(p.name for p in tune.corpus.iterdir()) == [
        "Huguenot.txt", "Immune_system.txt", "Packet_switching.txt", "Steam_engine.txt"]
    first = (tune.corpus / "Huguenot.txt").read_text().split("\n\n")
    assert first[0] == "Huguenot" and len(first) == 45  # title line, then the 44 paragraphs
    t_ids = {r["id"] for r in load_gold(tune.gold)[0]}
    h_records = load_gold(holdout.gold)[0]
    assert t_ids.isdisjoint(r["id"] for r in h_records)
    assert all("immune_system" in r["tags"] for r in h_records)  # the article nobody tunes on
    assert len(t_ids) + len(h_records) == 1699
    g_records = load_gold(gate.gold)[0]
    assert {r["id"] for r in g_records} <= t_ids and len(g_records) == 249


def test_squad_records_carry_answers_as_aliases_and_plausible_answers_apart(sets_root):
    records = load_gold(X.build_set("squad-tune", sets_root).gold)[0]
    answerable = next(r for r in records if r["answerable"])
    assert answerable["key_facts"] and answerable["sources"] and answerable["evidence"]
    assert not any(a.endswith((",", ".")) for facts in answerable["key_facts"] for a in facts)
    impossible = [r for r in records if not r["answerable"]]
    assert impossible and all(not r["key_facts"] for r in impossible)
    assert sum(bool(r["plausible_answers"]) for r in impossible) > 0.9 * len(impossible)


def test_hotpot_broken_chain_questions_lose_a_supporting_paragraph(sets_root):
    built = X.build_set("hotpot-gate", sets_root)
    records = load_gold(built.gold)[0]
    rows = X._hotpot_rows()
    by_id = {f"hotpot-{r['question_id']}": r for r in rows}
    files = {p.name for p in built.corpus.iterdir()}
    broken = [r for r in records if "broken_chain" in r["tags"]]
    assert len(broken) == 16 and all(not r["answerable"] for r in broken)
    for record in broken:
        removed = X._removed_title(by_id[record["id"]])
        assert f"{X._slug(removed)}.txt" not in files
    kept = [r for r in records if r["answerable"]]
    assert all(any(s in files for s in r["sources"]) for r in kept)
    assert all(set(r["sources"]) <= files for r in kept)  # no kept question lost a paragraph
    yes_no = [r for r in kept if "yes_no" in r["tags"]]
    assert yes_no and all(r["verdict"] in ("yes", "no") and not r["key_facts"] for r in yes_no)


def test_hotpot_holdout_is_the_last_hundred_questions(sets_root):
    holdout = load_gold(X.build_set("hotpot-holdout", sets_root).gold)[0]
    tune = load_gold(X.build_set("hotpot-tune", sets_root).gold)[0]
    assert {r["id"] for r in holdout}.isdisjoint(r["id"] for r in tune)
    assert all("holdout" in r["tags"] for r in holdout) and 80 <= len(holdout) <= 100


def test_an_unknown_set_is_a_harness_error(sets_root, capsys):
    code = cli.main(["--set", "squad-everything", "--no-progress"], settings=Settings(data_dir=sets_root))
    assert code == 2 and "unknown eval set 'squad-everything'" in capsys.readouterr().err


def test_set_and_corpus_together_are_refused(sets_root, tmp_path, capsys):
    code = cli.main(["--set", "squad-gate", "--corpus", str(tmp_path)], settings=Settings(data_dir=sets_root))
    assert code == 2 and "leave out --corpus" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["squad-gate", "hotpot-gate"])
def test_outside_gate_meets_its_floors(name, tmp_path_factory, capsys):
    data = tmp_path_factory.mktemp(name)
    out = data / "out"
    thresholds = ROOT / "eval" / f"thresholds-{name}"
    code = cli.main(["--set", name, "--thresholds", str(thresholds), "--out", str(out), "--no-progress"],
                  settings=Settings(data_dir=data, answer_mode="extractive"))
    printed = capsys.readouterr()
    assert code != 2, f"eval harness error:\n{printed.err[-3000:]}"
    results = json.loads((out / "results.json").read_text())
    missed = [f"{g['metric']} = {g['actual']} (needs {g['op']} {g['value']})"
              for g in results["gate"]["checks"] if not g["ok"]]
    assert results["gate"]["checks"], f"{thresholds.name} has no floors"
    assert code == 0 and not missed, (
        f"{name} fell below {thresholds.name}:\n  " + "\n  ".join(missed) + f"\nfull report: {out / 'report.md'}")


def test_a_choice_record_gets_its_options_when_the_gold_is_one_of_them():
    question = "Which novelist wrote under the pen name Walter Ericson: Laura Esquivel or Howard Fast?"
    assert X._options(question, ["Howard Melvin Fast"]) == ["Laura Esquivel", "Howard Fast"]
    assert X._options(question, ["Walter Ericson"]) == []  # the gold is neither option
    assert X._options("Who was the first to fly, Orville or Wilbur?", ["Wilbur Wright"]) == ["Orville", "Wilbur"]
