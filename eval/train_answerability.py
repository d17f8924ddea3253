"""Train the answerability check (rag/answerability.py) and write rag/models/answerability.json.

    python -m eval.train_answerability [--sets squad-tune hotpot-tune] [--max-wrong 0.04]

Data: the *tune* parts of the outside sets only (eval/external.py), never their holdout parts
and never the bundled gold, so that both stay honest tests. Each question is retrieved and its
evidence gathered exactly as `ask()` does; the questions the rule stage already abstains on are
left out (the model only sees what reaches it). The label is the gold's `answerable`.

Model: logistic regression on standardised features (numpy, L2, full-batch gradient descent),
with each set weighted equally and both classes balanced within a set. Threshold: the highest
one at which at most `--max-wrong` of each set's answerable questions are rejected, because a
wrong abstention costs an analyst more than a missed one. Deterministic: same data, same file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from eval.external import build_set
from eval.gold import load_gold
from eval.run import _ingest_corpus, corpus_data_dir
from rag.answerability import FEATURES, MODEL_FILE, features

L2 = 0.01
STEPS = 3000
RATE = 0.5


def open_set(settings, set_name: str):
    """(pipeline, its settings, gold records) for outside set `set_name`, its index brought up to
    date in the folder `briefing eval --set` uses (so the two share one index)."""
    from rag.pipeline import Briefing

    built = build_set(set_name, Path(settings.data_dir) / "eval" / "sets")
    local = settings.model_copy(update={"corpus": built.corpus, "data_dir": corpus_data_dir(settings, built.corpus)})
    _ingest_corpus(local, built.corpus, [], progress=False)
    return Briefing(local), local, load_gold(built.gold)[0]


def collect(settings, set_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of one set's questions that reach the learned check."""
    from rag.evidence import gather

    briefing, local, records = open_set(settings, set_name)
    rows, labels = [], []
    for record in records:
        retrieval = briefing.retriever.retrieve(record["question"], local.top_k, None)
        snapshot = briefing.retriever.snapshot()
        evidence = gather(retrieval, snapshot, check=None)
        if evidence.abstain or not evidence.sentences:
            continue
        values, _ = features(evidence.profile, evidence.sentences, snapshot.bm25)
        rows.append([values[name] for name in FEATURES])
        labels.append(1.0 if record["answerable"] else 0.0)
    return np.array(rows, dtype=float), np.array(labels)


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    w, b = np.zeros(x.shape[1]), 0.0
    total = weight.sum()
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * weight
        w -= RATE * (x.T @ g / total + L2 * w)
        b -= RATE * g.sum() / total
    return w, b


def lowest_safe_threshold(parts: Sequence[tuple[np.ndarray, np.ndarray]], max_wrong: float) -> float:
    """The highest threshold that rejects at most `max_wrong` of each part's answerable questions:
    `parts` are (probabilities, answerable flags) per set, so every set is held to the bound."""
    threshold = 1.0
    for p, answerable in parts:
        ok = np.sort(p[answerable])
        cut = float(ok[int(np.floor(max_wrong * len(ok)))]) if len(ok) else 1.0
        threshold = min(threshold, cut)
    return threshold


def train(settings, set_names: Sequence[str], max_wrong: float, out: Path = MODEL_FILE, stdout=sys.stdout) -> dict:
    parts = [(name, *collect(settings, name)) for name in set_names]
    x = np.vstack([p[1] for p in parts])
    y = np.concatenate([p[2] for p in parts])
    weight = np.concatenate([
        np.where(labels == 1, 0.5 / max(labels.sum(), 1), 0.5 / max((1 - labels).sum(), 1)) for _, _, labels in parts
    ])
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    w, b = fit((x - means) / scales, y, weight)
    scored = [(name, 1 / (1 + np.exp(-(((xs - means) / scales) @ w + b))), labels == 1) for name, xs, labels in parts]
    threshold = lowest_safe_threshold([(p, answerable) for _, p, answerable in scored], max_wrong)
    model = {
        "about": "rag/answerability.py; trained by `python -m eval.train_answerability` on "
                 + ", ".join(set_names) + f"; threshold keeps wrong abstentions <= {max_wrong} per set",
        "features": list(FEATURES),
        "weights": {n: round(float(v), 6) for n, v in zip(FEATURES, w)},
        "bias": round(float(b), 6),
        "means": {n: round(float(v), 6) for n, v in zip(FEATURES, means)},
        "scales": {n: round(float(v), 6) for n, v in zip(FEATURES, scales)},
        "threshold": round(threshold, 6),
    }
    for name, p, answerable in scored:
        keep = p >= threshold
        print(f"{name}: {len(p)} questions reach the check; rejects "
              f"{(~keep & ~answerable).sum()}/{(~answerable).sum()} unanswerable, "
              f"{(~keep & answerable).sum()}/{answerable.sum()} answerable", file=stdout)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} (threshold {threshold:.3f})", file=stdout)
    return model


def main(argv: Sequence[str] | None = None) -> int:
    from rag.base.settings import Settings

    p = argparse.ArgumentParser(prog="python -m eval.train_answerability", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=["squad-tune", "hotpot-tune"])
    p.add_argument("--max-wrong", type=float, default=0.04)
    p.add_argument("--out", type=Path, default=MODEL_FILE)
    args = p.parse_args(argv)
    train(Settings(), args.sets, args.max_wrong, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
