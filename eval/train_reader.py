"""Fine-tune the answer reader (rag/reader.py): a cross-encoder from the bundled MiniLM that reads
a question with one evidence window and says whether the window answers it.

    python -m eval.train_reader [--sets squad-tune hotpot-tune] [--epochs 5] [--max-wrong 0.03]

Needs the test extras (torch CPU, transformers); the product never does: rag/reader.py runs
the result in numpy. Data: the *tune* parts of the outside sets only (never a holdout part,
never the bundled gold). For every question, the pipeline's own evidence gives the windows
(a sentence with its neighbours, rag.answerability.window_text) of the best three sentences; a
window is a positive when the question is answerable and the window holds a gold answer
string, and a negative otherwise (every window of an unanswerable or broken-chain question).
Each answerable question is also asked in up to two altered forms (eval/perturb.py: a name or
number swapped, a negation, an antonym, a word from elsewhere) against the window that answers
the original, as negatives: the reader must learn that the question and the window agree, not
which topics were asked about.

The tune parts are split: the training part (`is_calibration` false) trains the weights, the
calibration part (one SQuAD article, the last questions of HotpotQA tune) picks the threshold,
so the threshold is set on questions the weights never saw, as the holdout and the user's own
questions are. Only the top `TRAINED_LAYERS` encoder layers, the pooler and the head are
trained; the file written (rag/models/reader.npz, float16) holds just those, the rest comes
from the model package. Deterministic given the data (fixed seed, one thread order).
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

TRAINED_LAYERS = 2
LEARNING_RATE = 1e-4  # the trained layers' (the head's is 10x)
BATCH = 16


CALIBRATION_ARTICLE = "packet_switching"  # SQuAD tune article whose questions only calibrate
CALIBRATION_SHARE = 0.3  # the last share of HotpotQA tune questions that only calibrate
PERTURBED_PER_QUESTION = 2
# Windows of each question's best sentences trained on: more than the check reads, since a
# window about the topic that does not hold the answer is the negative it learns most from.
TRAIN_WINDOWS = 3


def is_calibration(record: dict, position: float) -> bool:
    """Whether a tune record (at `position`, 0..1, in its set) only calibrates the threshold."""
    if "squad" in record.get("tags", ()):
        return CALIBRATION_ARTICLE in record["tags"]
    return position >= 1 - CALIBRATION_SHARE


def collect_pairs(settings, set_name: str, perturbed: int = PERTURBED_PER_QUESTION) -> list[tuple[str, str, int, str, bool]]:
    """(question, window text, label, question id, calibration?) for the best windows of each
    question, plus the perturbed negatives of the training part's answerable questions."""
    from eval.perturb import perturbations, vocabulary
    from rag.answerability import best_windows
    from rag.evidence import gather

    briefing, local, records = open_set(settings, set_name)
    pairs, answering = [], {}
    for n, record in enumerate(records):
        if record.get("verdict"):
            continue  # a yes/no question's window holds no answer string to label it by
        held = is_calibration(record, n / max(len(records), 1))
        retrieval = briefing.retriever.retrieve(record["question"], local.top_k, None)
        evidence = gather(retrieval, briefing.retriever.snapshot(), check=None)
        aliases = [normalize(a) for facts in record.get("key_facts", []) for a in facts]
        for text in best_windows(evidence.sentences, TRAIN_WINDOWS):
            label = int(record["answerable"] and any(a and a in normalize(text) for a in aliases))
            pairs.append((record["question"], text, label, record["id"], held))
            if label and not held:
                answering.setdefault(record["id"], (record["question"], text))
    # Replacement names and words come from the training part's own windows: never from a
    # calibration or holdout document, and mostly on the topics the questions are about.
    names, words = vocabulary(sorted({p[1] for p in pairs if not p[4]}))
    rng = random.Random(0)
    for qid, (question, text) in answering.items():
        for _, altered in perturbations(question, text, names, words, rng, perturbed):
            pairs.append((altered, text, 0, qid + "~", False))
    return pairs


def pairs_cache(settings) -> Path:
    """Where the training pairs are kept for `--calibrate-only` (the index folder, not the repo)."""
    return Path(settings.data_dir) / "eval" / "reader-pairs.jsonl"


def write_pairs(settings, set_names: Sequence[str], perturbed: int = PERTURBED_PER_QUESTION) -> list:
    """Collect every set's pairs and keep them in `pairs_cache` (what training and calibration read)."""
    collected = [p for name in set_names for p in collect_pairs(settings, name, perturbed)]
    cache = pairs_cache(settings)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("".join(json.dumps(p) + "\n" for p in collected), encoding="utf-8")
    return collected


def calibrate(settings, set_names: Sequence[str], max_wrong: float, out: Path, stdout=sys.stdout) -> float:
    """Pick the reader's threshold with the numpy reader the product runs: the highest at which
    at most `max_wrong` of each set's answerable questions score below it (their best window's
    probability), and write it with its provenance next to the weights."""
    from rag.answerability import READ_WINDOWS
    from rag.reader import load_reader

    load_reader.cache_clear()
    reader = load_reader(out)
    answerable: dict[str, bool] = {}
    for name in set_names:
        built = build_set(name, Path(settings.data_dir) / "eval" / "sets")
        answerable.update({r["id"]: r["answerable"] for r in load_gold(built.gold)[0]})
    grouped: dict[str, tuple[str, list[str]]] = {}
    for line in pairs_cache(settings).read_text(encoding="utf-8").splitlines():
        question, text, _, qid, held = json.loads(line)
        if held and qid in answerable:
            grouped.setdefault(qid, (question, []))[1].append(text)
    # As ReaderCheck reads them: the windows of the best READ_WINDOWS sentences, best first.
    best = {qid: max(reader.scores(q, texts[:READ_WINDOWS])) for qid, (q, texts) in grouped.items()}
    per_set = []
    for name in set_names:
        prefix = name.split("-")[0]  # question ids start with their dataset ("squad-", "hotpot-")
        ids = [qid for qid in best if qid.startswith(prefix)]
        per_set.append((name, np.array([best[q] for q in ids]), np.array([answerable[q] for q in ids], dtype=bool)))
    threshold = lowest_safe_threshold([(scores, labels) for _, scores, labels in per_set], max_wrong)
    for name, scores, labels in per_set:
        print(f"{name}: rejects {(scores[~labels] < threshold).mean():.3f} of unanswerable, "
              f"{(scores[labels] < threshold).mean():.3f} of answerable", file=stdout)
    about = {"about": "rag/reader.py; trained by `python -m eval.train_reader` on the training part of "
                      + ", ".join(set_names) + " with perturbed negatives; threshold from their calibration part, "
                      f"keeping wrong abstentions <= {max_wrong} per set",
             "threshold": round(threshold, 6)}
    out.with_suffix(".json").write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    print(f"threshold {threshold:.4f} -> {out.with_suffix('.json')}", file=stdout)
    return threshold


def _top(model, hidden, mask):
    """The trained top of the model on hidden states entering its first trained layer."""
    bert = model.bert
    extended, _ = bert._create_attention_masks(attention_mask=mask, encoder_attention_mask=None,
                                               embedding_output=hidden, encoder_hidden_states=None, cache=None)
    for layer in bert.encoder.layer[model.config.num_hidden_layers - TRAINED_LAYERS:]:
        hidden = layer(hidden, attention_mask=extended)
    return model.classifier(model.dropout(bert.pooler(hidden))).squeeze(-1)


def _frozen_states(model, tokenizer, pairs, batch: int = 32) -> list:
    """Each pair's hidden states after the frozen layers, computed once: they never change,
    so the epochs run only the trained layers (two of six) forward and backward."""
    import torch

    first_trained = model.config.num_hidden_layers - TRAINED_LAYERS
    states = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch):
            chunk = pairs[start:start + batch]
            enc = tokenizer([b[0] for b in chunk], [b[1] for b in chunk], truncation="only_second",
                            max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            hidden = model.bert(**enc, output_hidden_states=True).hidden_states[first_trained]
            for row, n in enumerate(enc["attention_mask"].sum(1).tolist()):
                states.append(hidden[row, :n].clone())
    return states


def train(settings, set_names: Sequence[str], epochs: int, out: Path, stdout=sys.stdout,
          perturbed: int = PERTURBED_PER_QUESTION) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ingest.embed import _bundled_model_dir

    random.seed(0)
    torch.manual_seed(0)
    collected = write_pairs(settings, set_names, perturbed)
    cache = pairs_cache(settings)
    pairs = [p for p in collected if not p[4]]
    print(f"{len(collected)} pairs; training on {len(pairs)}, {sum(p[2] for p in pairs)} positive, "
          f"{sum(p[3].endswith('~') for p in pairs)} perturbed (written to {cache})", file=stdout, flush=True)
    folder = str(_bundled_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=1, attn_implementation="eager")
    model.eval()
    states = _frozen_states(model, tokenizer, pairs)
    labels = torch.tensor([float(p[2]) for p in pairs])
    layers = model.config.num_hidden_layers
    top = [p for i in range(layers - TRAINED_LAYERS, layers) for p in model.bert.encoder.layer[i].parameters()]
    head = list(model.bert.pooler.parameters()) + list(model.classifier.parameters())
    for param in model.parameters():
        param.requires_grad = False
    for param in top + head:
        param.requires_grad = True
    # The head starts from nothing and needs a larger step than the layers it sits on.
    optimizer = torch.optim.AdamW([{"params": top, "lr": LEARNING_RATE}, {"params": head, "lr": 10 * LEARNING_RATE}],
                                  weight_decay=0.01)
    # Batches of similar length: far less padding than random batches of windows of 40-190 tokens.
    by_length = sorted(range(len(pairs)), key=lambda i: len(states[i]))
    batches = [by_length[i:i + BATCH] for i in range(0, len(by_length), BATCH)]
    steps = epochs * len(batches)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps))
    positives = float(labels.sum())
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(pairs) - positives) / max(positives, 1)))
    model.train()
    for epoch in range(epochs):
        random.shuffle(batches)
        total = 0.0
        for batch in batches:
            hidden = torch.nn.utils.rnn.pad_sequence([states[i] for i in batch], batch_first=True)
            mask = torch.zeros(hidden.shape[:2], dtype=torch.long)
            for row, i in enumerate(batch):
                mask[row, :len(states[i])] = 1
            loss = loss_fn(_top(model, hidden, mask), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(batch)
        print(f"epoch {epoch + 1}: loss {total / len(pairs):.4f}", file=stdout, flush=True)
    model.eval()
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
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--perturbed", type=int, default=PERTURBED_PER_QUESTION,
                   help="altered questions per answerable training question (eval/perturb.py)")
    p.add_argument("--out", type=Path, default=READER_FILE)
    p.add_argument("--max-wrong", type=float, default=0.03, help="share of answerable questions the threshold may reject")
    p.add_argument("--calibrate-only", action="store_true", help="keep the weights, pick the threshold again")
    args = p.parse_args(argv)
    settings = Settings()
    if not args.calibrate_only:
        train(settings, args.sets, args.epochs, args.out, perturbed=args.perturbed)
    elif not pairs_cache(settings).is_file():  # a fresh data dir: collect the pairs (minutes, no training)
        write_pairs(settings, args.sets, args.perturbed)
    calibrate(settings, args.sets, args.max_wrong, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
