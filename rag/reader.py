"""The answer reader: a cross-encoder that reads a question with one evidence window and scores
whether the window answers it (trained by `python -m eval.train_reader`).

A bi-encoder similarity says a sentence is about the question; only reading both together can
tell "Larger drugs can provoke a response" from an answer to "What do smaller drugs provoke?".
The model is the bundled all-MiniLM-L6-v2 with its top layers fine-tuned and a one-logit head;
rag/models/reader.npz holds only what training changed (float16), the rest is read from the
model package, and the forward pass is numpy, like ingest.embed (no torch at run time).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

READER_FILE = Path(__file__).resolve().parent / "models" / "reader.npz"
MAX_TOKENS = 192
_EPS = 1e-12


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU, in place, by the embedder's blocked routine: a plain elementwise
    formula took two thirds of a question's reading time (measured)."""
    from ingest.embed import _gelu_

    _gelu_(x.reshape(-1, x.shape[-1]))
    return x


class Reader:
    """Scores (question, window) pairs; get one with `load_reader`."""

    def __init__(self, weights: dict[str, np.ndarray], tokenizer, heads: int, layers: int):
        self.w = weights
        self.tok = tokenizer
        self.heads = heads
        self.layers = layers

    def _encoder_layer(self, x: np.ndarray, mask: np.ndarray, i: int) -> np.ndarray:
        w, p = self.w, f"encoder.layer.{i}."
        b, n, d = x.shape
        h = self.heads

        def dense(t: np.ndarray, name: str) -> np.ndarray:
            return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q = dense(x, "attention.self.query").reshape(b, n, h, d // h).transpose(0, 2, 1, 3)
        k = dense(x, "attention.self.key").reshape(b, n, h, d // h).transpose(0, 2, 1, 3)
        v = dense(x, "attention.self.value").reshape(b, n, h, d // h).transpose(0, 2, 1, 3)
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d // h) + mask[:, None, None, :]
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
        x = _layer_norm(x + dense(ctx, "attention.output.dense"),
                        w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        inner = _gelu(dense(x, "intermediate.dense"))
        return _layer_norm(x + dense(inner, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])

    def scores(self, question: str, windows: Sequence[str]) -> list[float]:
        """The probability that each window answers `question`."""
        if not windows:
            return []
        encodings = [self.tok.encode(question, text) for text in windows]
        n = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), n), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.full((len(encodings), n), -1e9, dtype=np.float32)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            types[row, :len(e.ids)] = e.type_ids
            mask[row, :len(e.ids)] = 0.0
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(n)]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for i in range(self.layers):
            x = self._encoder_layer(x, mask, i)
        pooled = np.tanh(x[:, 0] @ w["pooler.dense.weight"].T + w["pooler.dense.bias"])
        logits = pooled @ w["classifier.weight"].T + w["classifier.bias"]
        return [1.0 / (1.0 + math.exp(-float(z))) for z in logits[:, 0]]


@lru_cache(maxsize=2)
def load_reader(path: Path = READER_FILE) -> Reader | None:
    """The reader, or None when no trained file is there (the check is then skipped)."""
    path = Path(path)
    if not path.is_file():
        return None
    import json

    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from ingest.embed import _resolve_model_dir, DEFAULT_MODEL

    folder = _resolve_model_dir(DEFAULT_MODEL)
    with np.load(path) as tuned:
        changed = {k: tuned[k].astype(np.float32) for k in tuned.files}
    # The package's float32 weights as they are (no copy), less the ones training replaced.
    weights = {k: v for k, v in load_file(str(folder / "model.safetensors")).items() if k not in changed}
    weights.update(changed)
    config = json.loads((folder / "config.json").read_text())
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
    return Reader(weights, tokenizer, config["num_attention_heads"], config["num_hidden_layers"])
