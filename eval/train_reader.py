"""Fine-tune the answer reader (rag/reader.py): a cross-encoder from the bundled MiniLM that reads
a question with one evidence window and says whether the window answers it.

    python -m eval.train_reader [--sets squad-tune hotpot-tune] [--epochs 3]

Needs the test extras (torch CPU, transformers); the product never does: rag/reader.py runs
the result in numpy. Data: the *tune* parts of the outside sets only (never a holdout part,
never the bundled gold). For every question, the pipeline's own evidence gives the windows
(a sentence with its neighbours, rag.answerability.window_text) of the best three sentences; a
window is a positive when the question is answerable and the window holds a gold answer
string, and a negative otherwise (every window of an unanswerable or broken-chain question).
Only the top `TRAINED_LAYERS` encoder layers, the pooler and the head are trained; the file
written (rag/models/reader.npz, float16) holds just those, the rest comes from the model
package. Deterministic given the data (fixed seed, one thread order).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from eval.external import build_set
from eval.gold import load_gold
from eval.metrics import normalize
from eval.train_answerability import lowest_safe_threshold, open_set
from rag.reader import MAX_TOKENS

TRAINED_LAYERS = 3


def collect_pairs(settings, set_name: str) -> list[tuple[str, str, int, str]]:
    """(question, window text, label, question id) for the best windows of each question."""
    from rag.answerability import best_windows
    from rag.evidence import gather

    briefing, local, records = open_set(settings, set_name)
    pairs = []
    for record in records:
        if record.get("verdict"):
            continue  # a yes/no question's window holds no answer string to label it by
        retrieval = briefing.retriever.retrieve(record["question"], local.top_k, None)
        evidence = gather(retrieval, briefing.retriever.snapshot(), check=None)
        aliases = [normalize(a) for facts in record["key_facts"] for a in facts]
        for text in best_windows(evidence.sentences):
            label = int(record["answerable"] and any(a and a in normalize(text) for a in aliases))
            pairs.append((record["question"], text, label, record["id"]))
    return pairs


def pairs_cache(settings) -> Path:
    """Where the training pairs are kept for `--calibrate-only` (the index folder, not the repo)."""
    return Path(settings.data_dir) / "eval" / "reader-pairs.jsonl"


def calibrate(settings, set_names: Sequence[str], max_wrong: float, out: Path, stdout=sys.stdout) -> float:
    """Pick the reader's threshold with the numpy reader the product runs: the highest at which
    at most `max_wrong` of each set's answerable questions score below it (their best window's
    probability), and write it with its provenance next to the weights."""
    from rag.reader import load_reader

    load_reader.cache_clear()
    reader = load_reader(out)
    answerable: dict[str, bool] = {}
    for name in set_names:
        built = build_set(name, Path(settings.data_dir) / "eval" / "sets")
        answerable.update({r["id"]: r["answerable"] for r in load_gold(built.gold)[0]})
    grouped: dict[str, tuple[str, list[str]]] = {}
    for line in pairs_cache(settings).read_text(encoding="utf-8").splitlines():
        question, text, _, qid = json.loads(line)
        if qid in answerable:
            grouped.setdefault(qid, (question, []))[1].append(text)
    best = {qid: max(reader.scores(q, texts)) for qid, (q, texts) in grouped.items()}
    per_set = []
    for name in set_names:
        prefix = name.split("-")[0]  # question ids start with their dataset ("squad-", "hotpot-")
        ids = [qid for qid in best if qid.startswith(prefix)]
        per_set.append((name, np.array([best[q] for q in ids]), np.array([answerable[q] for q in ids], dtype=bool)))
    threshold = lowest_safe_threshold([(scores, labels) for _, scores, labels in per_set], max_wrong)
    for name, scores, labels in per_set:
        print(f"{name}: rejects {(scores[~labels] < threshold).mean():.3f} of unanswerable, "
              f"{(scores[labels] < threshold).mean():.3f} of answerable", file=stdout)
    about = {"about": "rag/reader.py; trained and calibrated by `python -m eval.train_reader` on "
                      + ", ".join(set_names) + f"; threshold keeps wrong abstentions <= {max_wrong} per set",
             "threshold": round(threshold, 6)}
    out.with_suffix(".json").write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    print(f"threshold {threshold:.4f} -> {out.with_suffix('.json')}", file=stdout)
    return threshold


def train(settings, set_names: Sequence[str], epochs: int, out: Path, stdout=sys.stdout) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ingest.embed import _bundled_model_dir

    random.seed(0)
    torch.manual_seed(0)
    pairs = [p for name in set_names for p in collect_pairs(settings, name)]
    cache = pairs_cache(settings)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    print(f"{len(pairs)} pairs, {sum(p[2] for p in pairs)} positive (written to {cache})", file=stdout)
    folder = str(_bundled_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1)
    layers = model.config.num_hidden_layers
    for name, param in model.named_parameters():
        trained = name.startswith(("bert.pooler", "classifier")) or any(
            name.startswith(f"bert.encoder.layer.{i}.") for i in range(layers - TRAINED_LAYERS, layers))
        param.requires_grad = trained
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=4e-5, weight_decay=0.01)
    positives = sum(p[2] for p in pairs)
    pos_weight = torch.tensor((len(pairs) - positives) / max(positives, 1))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    model.train()
    for epoch in range(epochs):
        order = list(range(len(pairs)))
        random.shuffle(order)
        total = 0.0
        for start in range(0, len(order), 16):
            batch = [pairs[i] for i in order[start:start + 16]]
            enc = tokenizer([b[0] for b in batch], [b[1] for b in batch], truncation="only_second",
                            max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            logits = model(**enc).logits.squeeze(-1)
            loss = loss_fn(logits, torch.tensor([float(b[2]) for b in batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        print(f"epoch {epoch + 1}: loss {total / len(pairs):.4f}", file=stdout, flush=True)
    export(model, out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)", file=stdout)


def export(model, out: Path) -> None:
    """Write what training changes (the top `TRAINED_LAYERS` layers, the pooler, the head) as
    float16, under the names rag/reader.py reads (no "bert." prefix)."""
    layers = model.config.num_hidden_layers
    tuned = tuple(f"bert.encoder.layer.{i}." for i in range(layers - TRAINED_LAYERS, layers))
    state = {k.removeprefix("bert."): v.detach().numpy().astype(np.float16) for k, v in model.state_dict().items()
             if k.startswith(("bert.pooler", "classifier") + tuned)}
    np.savez_compressed(out, **state)


def main(argv: Sequence[str] | None = None) -> int:
    from rag.base.settings import Settings
    from rag.reader import READER_FILE

    p = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=["squad-tune", "hotpot-tune"])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--out", type=Path, default=READER_FILE)
    p.add_argument("--max-wrong", type=float, default=0.04, help="share of answerable questions the threshold may reject")
    p.add_argument("--calibrate-only", action="store_true", help="keep the weights, pick the threshold again")
    args = p.parse_args(argv)
    settings = Settings()
    if not args.calibrate_only:
        train(settings, args.sets, args.epochs, args.out)
    calibrate(settings, args.sets, args.max_wrong, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
