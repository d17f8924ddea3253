"""The answer reader (rag/reader.py) runs a fine-tuned MiniLM cross-encoder in numpy: its
scores must be the ones torch computes for the same weights, and the check built on it must
make the pipeline abstain when it says the evidence does not answer."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from eval.train_reader import export  # noqa: E402
from ingest.embed import _bundled_model_dir  # noqa: E402
from rag.answerability import ReaderCheck  # noqa: E402
from rag.pipeline import Briefing  # noqa: E402
from rag.reader import load_reader  # noqa: E402

PAIRS = [
    ("What do larger drugs provoke?", "Larger drugs (>500 Da) can provoke a neutralizing immune response."),
    ("When was the treaty signed?", "The treaty was signed in Reykjavik in March 2024 after two years of talks."),
    ("Who founded the society?", "The weather was mild and the harbour quiet all week."),
]


@pytest.fixture(scope="module")
def reader_file(tmp_path_factory):
    torch.manual_seed(7)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(_bundled_model_dir()), num_labels=1)
    with torch.no_grad():  # a head that says something: random weights, scaled up
        model.classifier.weight.mul_(20)
    model.eval()
    path = tmp_path_factory.mktemp("reader") / "reader.npz"
    export(model, path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(_bundled_model_dir()))
    enc = tokenizer([q for q, _ in PAIRS], [t for _, t in PAIRS], padding=True, return_tensors="pt")
    # The exported file is float16: compare against torch running those same rounded weights.
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(param.half().float())
        expected = torch.sigmoid(model(**enc).logits.squeeze(-1)).tolist()
    return path, expected


def test_numpy_reader_scores_match_torch(reader_file):
    path, expected = reader_file
    reader = load_reader(path)
    got = [reader.scores(q, [t])[0] for q, t in PAIRS]
    assert got == pytest.approx(expected, abs=2e-3)
    assert max(expected) - min(expected) > 0.05  # the comparison is not between constants
    # Several windows in one padded batch score as each alone.
    alone = reader.scores(PAIRS[0][0], [PAIRS[2][1]])[0]
    assert reader.scores(PAIRS[0][0], [PAIRS[0][1], PAIRS[2][1]]) == pytest.approx([got[0], alone], abs=1e-4)


def test_a_reader_that_rejects_makes_the_pipeline_abstain_and_one_that_accepts_does_not(settings, reader_file):
    reader = load_reader(reader_file[0])
    question = "What did Takaichi pledge on defense spending?"
    strict = Briefing(settings, answer_check=ReaderCheck(reader, threshold=1.01)).ask(question)
    lenient = Briefing(settings, answer_check=ReaderCheck(reader, threshold=0.0)).ask(question)
    assert strict.abstained and "closest passages" in strict.text, strict.text
    assert not lenient.abstained, lenient.text


def test_the_check_settings_name(settings):
    from rag import answerability as A

    assert A.build_check("off") is None
    features = A.build_check("features")  # the shipped logistic regression
    assert isinstance(features, A.FeatureCheck) and 0 < features.model.threshold < 1
    assert Briefing(settings).answer_check is None  # off by default (README: it refuses too many answerable ones)
    shipped = Briefing(settings.model_copy(update={"answer_check": "reader"})).answer_check  # its shipped weights
    assert isinstance(shipped, A.ReaderCheck) and 0 < shipped.threshold < 1 and shipped.windows == A.READ_WINDOWS
    assert isinstance(Briefing(settings.model_copy(update={"answer_check": "features"})).answer_check, A.FeatureCheck)
