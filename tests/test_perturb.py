"""The synthetic unanswerable questions the reader trains on (eval/perturb.py): each kind of
alteration must change what the question asks so that the window stops answering it, and
leave the question alone where it cannot."""

from __future__ import annotations

import random

from eval.perturb import antonym, negate, perturbations, swap_name, swap_number, swap_word, vocabulary

WINDOW = ("The guild was founded in Lyon in 1847 by weavers. It supported higher wages and "
          "opposed the new tariff, which the Chamber of Commerce approved.")


def test_a_name_the_window_holds_is_swapped_for_one_it_lacks():
    altered = swap_name("Where did the Chamber of Commerce approve the tariff?", WINDOW, ["Geneva Council", "Lyon"],
                        random.Random(0))
    assert altered == "Where did the Geneva Council approve the tariff?"
    assert swap_name("Where did Paris approve it?", WINDOW, ["Geneva Council"], random.Random(0)) is None


def test_a_number_is_moved_off_every_number_of_the_window():
    altered = swap_number("What was founded in 1847?", WINDOW, random.Random(3))
    assert altered is not None and "1847" not in altered
    year = altered.split()[-1].rstrip("?")
    assert year.isdigit() and year not in WINDOW and abs(int(year) - 1847) <= 30
    assert swap_number("What was founded in 1900?", WINDOW, random.Random(0)) is None


def test_negation_goes_after_an_auxiliary_and_never_twice():
    assert negate("What was founded by weavers?", WINDOW, random.Random(0)) == "What was not founded by weavers?"
    assert negate("What was not founded by weavers?", WINDOW, random.Random(0)) is None
    assert negate("What did the guild found?", WINDOW, random.Random(0)) is None  # "not" would follow the subject


def test_an_antonym_is_used_only_when_the_window_lacks_it():
    assert antonym("Did the guild support higher wages?", "The guild backed wages.", random.Random(0)) \
        == "Did the guild oppose higher wages?"
    assert antonym("Did the guild support higher wages?", WINDOW + " Others oppose it.", random.Random(0)) is None


def test_a_word_is_replaced_by_one_of_the_same_ending_from_elsewhere():
    # "tariff" is the longest word the window holds; no word ends like it, so nothing fits.
    assert swap_word("Which tariff did the guild oppose?", WINDOW, ["custom", "network"], random.Random(0)) is None
    altered = swap_word("Who opposed the tariff?", WINDOW, ["planned", "opposed", "tariff"], random.Random(0))
    assert altered == "Who planned the tariff?"


def test_perturbations_are_of_distinct_kinds_deterministic_and_never_the_question():
    names, words = vocabulary([WINDOW, "The Geneva Council raised levies in 1850 against merchants."])
    question = "Who founded the guild in Lyon in 1847?"
    first = perturbations(question, WINDOW, names, words, random.Random(5), most=3)
    assert first == perturbations(question, WINDOW, names, words, random.Random(5), most=3)
    kinds = [kind for kind, _ in first]
    assert len(kinds) == len(set(kinds)) >= 2
    assert all(altered != question for _, altered in first)


def test_vocabulary_skips_sentence_initial_capitals():
    names, words = vocabulary(["Weavers met. The Geneva Council raised levies against merchants."])
    assert "Geneva Council" in names and "Weavers" not in names and "The" not in names
    assert "merchants" in words and "met" not in words


def test_the_threshold_is_set_on_questions_the_weights_never_saw():
    from eval.train_reader import CALIBRATION_ARTICLE, is_calibration

    assert is_calibration({"tags": ["squad", "tune", CALIBRATION_ARTICLE]}, 0.0)
    assert not is_calibration({"tags": ["squad", "tune", "steam_engine"]}, 0.99)
    assert is_calibration({"tags": ["hotpotqa", "tune"]}, 0.8) and not is_calibration({"tags": ["hotpotqa"]}, 0.5)
