"""The threshold sweep replays a run: rules' abstentions stay, a low probability adds one."""

from eval.check_sweep import RecordingCheck, sweep
from rag.answerability import Verdict

ROWS = [
    {"answerable": True, "abstained": False, "fact": 1.0, "probability": 0.5},
    {"answerable": True, "abstained": False, "fact": 1.0, "probability": 0.02},
    {"answerable": True, "abstained": True, "fact": 0.0, "probability": None},
    {"answerable": False, "abstained": False, "fact": 0.0, "probability": 0.01},
    {"answerable": False, "abstained": False, "fact": 0.0, "probability": None},  # a hop answer: never judged
]


def test_a_threshold_of_zero_is_the_run_as_it_was():
    (line,) = sweep(ROWS, [0.0])
    assert line == {"threshold": 0.0, "fact": 2 / 3, "abstains_when_it_should": 0.0, "wrongly_abstains": 1 / 3}


def test_raising_the_threshold_abstains_on_lower_probabilities_only():
    low, high = sweep(ROWS, [0.015, 0.03])
    assert (low["abstains_when_it_should"], low["wrongly_abstains"], low["fact"]) == (0.5, 1 / 3, 2 / 3)
    assert (high["abstains_when_it_should"], high["wrongly_abstains"], high["fact"]) == (0.5, 2 / 3, 1 / 3)


class _Fixed:
    def __init__(self, p):
        self.p = p

    def verdict(self, profile, sentences, bm25):
        return Verdict(self.p, False, ()) if self.p is not None else None


def test_the_recording_check_remembers_the_probability_and_never_rejects():
    recorder = RecordingCheck(_Fixed(0.003))
    assert recorder.verdict(None, [], None) is None and recorder.last == 0.003
    recorder = RecordingCheck(_Fixed(None))
    assert recorder.verdict(None, [], None) is None and recorder.last is None
