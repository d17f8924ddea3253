"""How well `rag.conflicts.find_conflicts` tells documents that disagree from ones that do not.

`python -m eval.conflicts` prints three measurements:
1. The labelled pairs of eval/conflicts.jsonl: precision and recall, by origin ("corpus": real
   sentence pairs from two bundled documents, none a conflict; "planted": a real sentence and an
   edited copy, most of them conflicts), and every misclassified pair.
2. The planted documents (eval/planted/): for each edit in manifest.jsonl, the sentences of the
   original and the planted copy that share content words with the edit's question, as one
   evidence set: is the edit found, and what else is flagged.
3. Outside data nobody on the team wrote (HotpotQA, eval/external/): for each question, the
   sentences of its ten paragraphs (separate Wikipedia articles) that share a content word with
   the question, compared across paragraphs. These paragraphs are about different entities, so a
   flag here is most likely a false alarm; the first ones are printed for a person to judge.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from rag.base.text import split_sentences, term_set
from rag.conflicts import Disagreement, Statement, find_conflicts

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "eval" / "conflicts.jsonl"
PLANTED = ROOT / "eval" / "planted"
CORPUS = ROOT / "corpus"
HOTPOT = ROOT / "eval" / "external" / "hotpotqa-dev-350.jsonl"
SHOWN = 15  # outside-data alarms printed for a person to judge


def load_pairs(path: Path = PAIRS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predict(pair: dict) -> list[Disagreement]:
    a, b = pair["a"], pair["b"]
    return find_conflicts([Statement("a", a["doc"], a["text"], a.get("date", "")),
                           Statement("b", b["doc"], b["text"], b.get("date", ""))])


def score(pairs: list[dict]) -> dict:
    """Counts, precision and recall over `pairs`, and the misclassified ones."""
    tp = fp = fn = tn = 0
    wrong = []
    for pair in pairs:
        found = predict(pair)
        if found and pair["conflict"]:
            tp += 1
        elif found:
            fp += 1
            wrong.append((pair, found))
        elif pair["conflict"]:
            fn += 1
            wrong.append((pair, found))
        else:
            tn += 1
    return {"pairs": len(pairs), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "wrong": wrong}


def sentences(text: str) -> list[str]:
    """A document's sentences, each line split as the index splits it (`rag.base.text.split_sentences`)."""
    out = []
    for para in re.finditer(r"[^\n]+", text):
        out += [text[s:e].strip() for s, e in split_sentences(text, para.start(), para.end())]
    return [s for s in out if s]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _is_edit(d: Disagreement, texts: dict[str, str], edit: dict) -> bool:
    """Whether a disagreement is between the two sentences of a manifest edit (a sentence the
    splitter reads with a heading in front of it still counts)."""
    sides = [_norm(texts[k]) for k in d.keys]
    return any(_norm(edit["original"]) in s for s in sides) and any(_norm(edit["edited"]) in s for s in sides)


def planted_check() -> dict:
    """Each manifest edit as a question's evidence set: both documents' sentences sharing at
    least two content words with the question (the original and the edited sentence always in).
    An alarm counts as another alarm only when it is not between the sentences of some edit."""
    manifest = load_pairs(PLANTED / "manifest.jsonl")
    found = others = 0
    extra, missed = [], []
    for m in manifest:
        question = term_set(m["question"])
        statements = []
        for doc, folder in ((m["original_file"], CORPUS), (m["file"], PLANTED)):
            for k, sent in enumerate(sentences((folder / doc).read_text(encoding="utf-8"))):
                if len(term_set(sent) & question) >= 2 or _norm(m["original"]) in _norm(sent) \
                        or _norm(m["edited"]) in _norm(sent):
                    statements.append(Statement(f"{doc}#{k}", doc, sent))
        texts = {s.key: s.text for s in statements}
        hits = find_conflicts(statements)
        if any(_is_edit(d, texts, m) for d in hits):
            found += 1
        else:
            missed.append(m)
        rest = [d for d in hits if not any(_is_edit(d, texts, e) for e in manifest)]
        others += len(rest)
        extra += [(m, d, texts) for d in rest]
    return {"edits": len(manifest), "found": found, "other_alarms": others, "extra": extra, "missed": missed}


def outside_check(limit: int | None = None) -> dict:
    """Alarms over HotpotQA's paragraphs, sentences compared across paragraphs of one question."""
    rows = [json.loads(line) for line in HOTPOT.read_text(encoding="utf-8").splitlines() if line.strip()]
    compared = alarms = 0
    shown = []
    for row in rows[:limit]:
        question = term_set(row["question_text"])
        statements = []
        for context in row["contexts"]:
            for k, sent in enumerate(sentences(context["paragraph_text"])):
                if term_set(sent) & question:
                    statements.append(Statement(f"{context['title']}#{k}", context["title"], sent))
        docs = [s.doc_id for s in statements]
        compared += sum(1 for i, d in enumerate(docs) for e in docs[i + 1:] if d != e)
        texts = {s.key: s.text for s in statements}
        for d in find_conflicts(statements):
            alarms += len(d.keys) * (len(d.keys) - 1) // 2
            if len(shown) < SHOWN:
                shown.append((row["question_text"], d, texts))
    return {"questions": len(rows[:limit]), "pairs_compared": compared, "alarms": alarms, "shown": shown}


def _show(d: Disagreement, texts: dict[str, str]) -> str:
    lines = [f"    about: {d.about}"]
    lines += [f"    [{k}] {v!r}: {texts[k][:200]}" for k, v in zip(d.keys, d.values)]
    return "\n".join(lines)


def main() -> int:
    pairs = load_pairs()
    print(f"Labelled pairs ({PAIRS.relative_to(ROOT)}):")
    for origin in ("corpus", "planted", "all"):
        part = [p for p in pairs if origin in ("all", p["origin"])]
        s = score(part)
        print(f"  {origin:8} pairs {s['pairs']:3}  conflicts {s['tp'] + s['fn']:3}  tp {s['tp']:3}  fp {s['fp']:3}  "
              f"fn {s['fn']:3}  tn {s['tn']:3}  precision {s['precision']:.3f}  recall {s['recall']:.3f}")
    wrong = score(pairs)["wrong"]
    print(f"  misclassified: {len(wrong)}")
    for pair, found in wrong:
        kind = "false alarm" if found else "missed"
        print(f"  - {pair['id']} ({kind}; {pair['about']})")
        print(f"    a: {pair['a']['text'][:160]}\n    b: {pair['b']['text'][:160]}")
        for d in found:
            print(f"    flagged: {d.about}: {d.values}")

    started = time.perf_counter()
    p = planted_check()
    print(f"\nPlanted documents ({PLANTED.relative_to(ROOT)}): {p['found']}/{p['edits']} edits found in their "
          f"evidence sets, {p['other_alarms']} other alarms")
    for m in p["missed"]:
        print(f"  - missed ({m['kind']}): {m['edited'][:150]}")
    for m, d, texts in p["extra"]:
        print(f"  - question: {m['question']}\n{_show(d, texts)}")

    o = outside_check()
    print(f"\nOutside data (HotpotQA, {o['questions']} questions, {o['pairs_compared']} sentence pairs from different "
          f"paragraphs): {o['alarms']} pairs flagged ({time.perf_counter() - started:.1f} s)")
    for question, d, texts in o["shown"]:
        print(f"  - question: {question}\n{_show(d, texts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
