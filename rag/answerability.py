"""Does the best evidence answer what the question asks? A small learned check.

The retrieval score says a sentence is *about* the question; a question can still go
unanswered by it: the question swaps an argument ("smaller drugs" against "Larger drugs"), adds
a qualifier the passage does not have ("upgraded", "in Toulouse"), or asks about a thing the
passage only mentions. Those are the adversarial unanswerable questions of SQuAD 2.0, and no
hand rule separates them from paraphrased answerable ones well. So the signals below (how much
of the question, weighted by rarity, the best sentence and its neighbours cover; the rarest
term they miss; whether a name or number of the question is missing; type and novelty of the
sentence; polarity) are combined by a logistic regression trained on outside data.

Weights: rag/models/answerability.json, written by `python -m eval.train_answerability` (see
that module for the data it trains on and how the threshold is chosen). No model file, no
check: the answerer then behaves as without this stage.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, Sequence

from rag.base.text import term_set
from rag.bm25 import BM25Index
from rag.question import QuestionProfile, contradicts, matches_type, negates
from rag.reader import READER_FILE, Reader, load_reader
from rag.spelling import resembles

MODEL_FILE = Path(__file__).resolve().parent / "models" / "answerability.json"
READER_THRESHOLD_FILE = READER_FILE.with_suffix(".json")  # the reader's threshold and provenance
READ_WINDOWS = 1  # windows of the best sentences the reader reads (each costs about 35 ms, and on the
# calibration questions reading 3 rejected no more unanswerables at the same wrong-rejection rate)
_NEIGHBOUR_GAP = 3  # characters between sentences that still count as adjacent

FEATURES = (
    "coverage_sentence", "coverage_window", "coverage_passage", "missing_idf", "missing_count",
    "missing_entity_window", "missing_entity_passage", "similarity", "score", "gap", "type_missing",
    "question_negated", "sentence_negates", "opposite", "novel_terms", "question_terms", "yes_no",
)


@dataclass(frozen=True)
class Verdict:
    probability: float  # that the evidence answers the question
    answerable: bool
    missing: tuple[str, ...]  # the question's terms the best sentence and its neighbours lack, rarest first


def _window(best: Any, sentences: Sequence[Any]) -> list[Any]:
    """The best sentence with the sentences right before and after it in its passage."""
    same = sorted((s for s in sentences if s.passage.chunk_id == best.passage.chunk_id), key=lambda s: s.start)
    i = next((j for j, s in enumerate(same) if s.start == best.start), None)
    if i is None:
        return [best]
    out = [best]
    if i > 0 and best.start - same[i - 1].end <= _NEIGHBOUR_GAP:
        out.append(same[i - 1])
    if i + 1 < len(same) and same[i + 1].start - best.end <= _NEIGHBOUR_GAP:
        out.append(same[i + 1])
    return out


def window_text(sentence: Any, sentences: Sequence[Any]) -> str:
    """A sentence with its neighbours, in document order: what the reader reads for it."""
    return " ".join(" ".join(s.text.split()) for s in sorted(_window(sentence, sentences), key=lambda s: s.start))


def best_windows(sentences: Sequence[Any], n: int = READ_WINDOWS) -> list[str]:
    """The distinct windows (`window_text`) of the best sentences, best first, at most `n`."""
    texts: list[str] = []
    for sentence in sentences:
        text = window_text(sentence, sentences)
        if text not in texts:
            texts.append(text)
            if len(texts) == n:
                break
    return texts


def _matched(term: str, vocabulary: list[str]) -> bool:
    return resembles(term, vocabulary) is not None


def _covered(question_terms: list[str], text_terms: frozenset[str], bm25: BM25Index) -> tuple[float, list[str]]:
    """idf-weighted share of question terms in `text_terms` (a term also counts when a word of
    the text resembles it: inflection, a typo), and the missing terms, rarest first."""
    vocabulary = sorted(text_terms)
    total, found, missing = 0.0, 0.0, []
    for term in dict.fromkeys(question_terms):
        weight = bm25.idf(term)
        total += weight
        if term in text_terms or _matched(term, vocabulary):
            found += weight
        else:
            missing.append(term)
    missing.sort(key=bm25.idf, reverse=True)
    return (found / total if total else 0.0), missing


def features(profile: QuestionProfile, sentences: Sequence[Any], bm25: BM25Index) -> tuple[dict[str, float], list[str]]:
    """The feature vector for the best sentence of `sentences` (best first) and the question
    terms its window lacks."""
    best = sentences[0]
    window = _window(best, sentences)
    question_terms = list(profile.terms)
    sentence_terms = term_set(best.text)
    joined = " ".join(s.text for s in window)
    passage_terms = term_set(best.passage.text)
    passage_vocabulary = sorted(passage_terms)
    cov_s, _ = _covered(question_terms, sentence_terms, bm25)
    cov_w, missing = _covered(question_terms, term_set(joined), bm25)
    cov_p, _ = _covered(question_terms, passage_terms, bm25)
    entities = set(profile.entities)
    max_idf = max((bm25.idf(t) for t in question_terms), default=1.0) or 1.0
    second = sentences[1].score if len(sentences) > 1 else 0.0
    asked = set(question_terms)
    novel = [t for t in sentence_terms if t not in asked]
    values = {
        "coverage_sentence": cov_s,
        "coverage_window": cov_w,
        "coverage_passage": cov_p,
        "missing_idf": (bm25.idf(missing[0]) / max_idf) if missing else 0.0,
        "missing_count": float(len(missing)),
        "missing_entity_window": float(any(t in entities for t in missing)),
        "missing_entity_passage": float(any(t in entities and not _matched(t, passage_vocabulary) for t in missing)),
        "similarity": float(best.similarity),
        "score": float(best.score),
        "gap": float(best.score - second),
        "type_missing": float(profile.answer_type != "any" and not any(matches_type(profile.answer_type, s.text) for s in window)),
        "question_negated": float(profile.negated),
        "sentence_negates": float(any(negates(best.text, t) for t in question_terms if t not in entities)),
        "opposite": float(bool(contradicts(profile.text, joined))),
        "novel_terms": min(len(novel), 20) / 20,
        "question_terms": math.log1p(len(set(question_terms))),
        "yes_no": float(profile.yes_no),
    }
    return values, missing


@dataclass(frozen=True)
class Model:
    weights: dict[str, float]
    bias: float
    means: dict[str, float]
    scales: dict[str, float]
    threshold: float

    def probability(self, values: dict[str, float]) -> float:
        z = self.bias + sum(w * (values[name] - self.means[name]) / self.scales[name]
                            for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Model":
        return cls(dict(data["weights"]), float(data["bias"]), dict(data["means"]), dict(data["scales"]),
                   float(data["threshold"]))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> Model | None:
    """The trained model, or None when the file is absent (the check is then skipped)."""
    try:
        return Model.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


class AnswerCheck(Protocol):
    """Decides whether the best evidence answers the question (`gather` asks it last)."""

    def verdict(self, profile: QuestionProfile, sentences: Sequence[Any], bm25: BM25Index) -> Verdict | None: ...


class FeatureCheck:
    """The logistic regression over `features` (rag/models/answerability.json)."""

    def __init__(self, model: Model):
        self.model = model

    def verdict(self, profile: QuestionProfile, sentences: Sequence[Any], bm25: BM25Index) -> Verdict | None:
        if not sentences:
            return None
        values, missing = features(profile, sentences, bm25)
        p = self.model.probability(values)
        return Verdict(p, p >= self.model.threshold, tuple(missing))


class ReaderCheck:
    """The cross-encoder reader (rag/reader.py) on the windows of the best few sentences: the
    evidence answers when one of them reads as an answer with probability >= `threshold`."""

    def __init__(self, reader: Reader, threshold: float, windows: int = READ_WINDOWS):
        self.reader, self.threshold, self.windows = reader, threshold, windows

    def verdict(self, profile: QuestionProfile, sentences: Sequence[Any], bm25: BM25Index) -> Verdict | None:
        # A yes/no question's window holds no answer span, so the reader was never trained
        # (or calibrated) on one: rag.verdict decides those.
        texts = [] if profile.yes_no else best_windows(sentences, self.windows)
        if not texts:
            return None
        p = max(self.reader.scores(profile.text, texts))
        _, missing = _covered(list(profile.terms), term_set(texts[0]), bm25)
        return Verdict(p, p >= self.threshold, tuple(missing))


def build_check(kind: str) -> AnswerCheck | None:
    """The check `Settings.answer_check` names ("reader", "features", "off"); None when its
    trained file is absent, so the answerer then runs on its rules alone."""
    if kind == "features":
        model = load_model()
        return FeatureCheck(model) if model else None
    if kind == "reader":
        reader = load_reader()
        if reader is None or not READER_THRESHOLD_FILE.is_file():
            return None
        threshold = json.loads(READER_THRESHOLD_FILE.read_text(encoding="utf-8"))["threshold"]
        return ReaderCheck(reader, float(threshold))
    return None

