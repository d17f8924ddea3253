"""Outside question sets as eval data: SQuAD 2.0 and HotpotQA, turned into a corpus folder and a
gold file that `briefing eval` runs like the bundled one (`briefing eval --set squad-holdout`).

The questions were written by people outside this project, about documents nobody here chose,
so they measure what the bundled gold cannot: whether the answerer carries over. Each set has
a *tune* part (look at its failures, change rules) and a *holdout* part that nobody tunes on:
its figure is the honest one. The *gate* sets are small fixed subsets of the tune part that
`make test` runs with floors (eval/thresholds-<set>).

How the corpus and gold are built follows eval/external/README.md (the datasets' own
recommendation for a fair test):
- SQuAD: one plain-text document per article (title line, then paragraphs separated by blank
  lines); every question over the whole corpus. An answerable question's key fact is its
  answer strings (any one counts), which must also be in the top-k passages; an unanswerable
  one must abstain, and repeating one of its `plausible_answers` is counted apart.
- HotpotQA: one document per distinct paragraph title, every question over one corpus of
  all paragraphs. Yes/no questions must open with the verdict. One question in four has a
  supporting paragraph deleted from the corpus, so its chain cannot be completed: it must
  abstain (tag `broken_chain`). A question that needs a deleted paragraph for another
  question's sake is left out.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from eval.errors import HarnessError
from eval.metrics import option_is
from rag.compared import choice

DATA = Path(__file__).resolve().parent / "external"
SQUAD_FILE = DATA / "squad2-dev-4-articles.json"
HOTPOT_FILE = DATA / "hotpotqa-dev-350.jsonl"
SQUAD_HOLDOUT = ("Immune_system",)  # the article nobody tunes on
HOTPOT_HOLDOUT_FROM = 250  # questions from this position on are the holdout part
BROKEN_EVERY = 4  # every 4th HotpotQA question loses a supporting paragraph
SQUAD_GATE_EVERY = 5  # the gate: every 5th tune question
HOTPOT_GATE_BLOCK = 16  # the gate: the first 4 questions of every 16 in the tune part (the file is
# ordered by question kind, yes/no last), over their own paragraphs


@dataclass(frozen=True)
class BuiltSet:
    name: str
    corpus: Path
    gold: Path
    questions: int
    documents: int


# --------------------------------------------------------------------------- helpers

def _aliases(texts: list[str]) -> list[str]:
    """Answer strings as key-fact aliases: edge punctuation dropped, and each also without a
    leading article (SQuAD's own normalisation ignores both)."""
    out: list[str] = []
    for text in texts:
        text = text.strip().strip(".,;:!?\"'()[] ").strip()
        for alias in (text, re.sub(r"^(the|a|an)\s+", "", text, flags=re.I)):
            if alias and alias not in out:
                out.append(alias)
    return out


def _slug(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title).strip("_")[:80] or "untitled"


def _write_set(root: Path, name: str, documents: dict[str, str], records: list[dict], digest: str) -> BuiltSet:
    """Write the corpus folder and gold file once per source digest and content (rebuilt when
    either changes: a change to how records are built must reach a set built before it)."""
    content = json.dumps([sorted(documents.items()), records], ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256((digest + content).encode()).hexdigest()
    folder = root / name
    corpus, gold, stamp = folder / "corpus", folder / "gold.jsonl", folder / "built-from"
    if not (stamp.is_file() and stamp.read_text() == digest and gold.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        if documents:
            corpus.mkdir(exist_ok=True)
            for old in corpus.iterdir():
                if old.name not in documents:
                    old.unlink()
            for file_name, text in documents.items():
                path = corpus / file_name
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    path.write_text(text, encoding="utf-8")
        gold.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        stamp.write_text(digest)
    return BuiltSet(name, corpus, gold, len(records), len(documents))


def _digest(path: Path, *parts: object) -> str:
    h = hashlib.sha256(path.read_bytes())
    h.update(repr(parts).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- SQuAD 2.0

def _squad_articles() -> list[dict]:
    try:
        return json.loads(SQUAD_FILE.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as exc:
        raise HarnessError(f"cannot read {SQUAD_FILE}: {exc}") from exc


def squad_documents(articles: list[dict]) -> dict[str, str]:
    return {f"{_slug(a['title'])}.txt": a["title"].replace("_", " ") + "\n\n"
            + "\n\n".join(p["context"].strip() for p in a["paragraphs"]) + "\n"
            for a in articles}


def squad_records(articles: list[dict], part: str) -> list[dict]:
    records = []
    for article in articles:
        holdout = article["title"] in SQUAD_HOLDOUT
        if (part == "tune" and holdout) or (part == "holdout" and not holdout):
            continue
        source = f"{_slug(article['title'])}.txt"
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                impossible = bool(qa.get("is_impossible"))
                tags = ["squad", "holdout" if holdout else "tune", _slug(article["title"]).lower(),
                        "unanswerable" if impossible else "answerable"]
                record: dict[str, Any] = {"id": f"squad-{qa['id']}", "question": qa["question"].strip(),
                                          "answerable": not impossible, "tags": tags}
                if impossible:
                    record["plausible_answers"] = _aliases([a["text"] for a in qa.get("plausible_answers", [])])
                else:
                    aliases = _aliases([a["text"] for a in qa["answers"]])
                    record.update(key_facts=[aliases], reference_answer=aliases[0], sources=[source],
                                  evidence=aliases)
                records.append(record)
    return records


def build_squad(root: Path, part: str) -> BuiltSet:
    articles = _squad_articles()
    records = squad_records(articles, "all" if part == "gate" else part)
    if part == "gate":
        records = [r for r in records if "tune" in r["tags"]][::SQUAD_GATE_EVERY]
    name = "squad" if part == "all" else f"squad-{part}"
    # Every part is asked over the whole corpus; the corpus folder is shared by name.
    built = _write_set(root, "squad-corpus", squad_documents(articles), [], _digest(SQUAD_FILE, "corpus"))
    gold = _write_set(root, name, {}, records, _digest(SQUAD_FILE, part, SQUAD_GATE_EVERY))
    return BuiltSet(name, built.corpus, gold.gold, gold.questions, built.documents)


# --------------------------------------------------------------------------- HotpotQA

def _hotpot_rows() -> list[dict]:
    try:
        return [json.loads(line) for line in HOTPOT_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read {HOTPOT_FILE}: {exc}") from exc


def _answers(row: dict) -> list[str]:
    return [s for s in row["answers_objects"][0]["spans"] if s.strip()]


def _removed_title(row: dict) -> str:
    """The supporting paragraph a broken-chain question loses: the bridge (the one without the
    answer string) when exactly one holds the answer, else the second."""
    supporting = [c for c in row["contexts"] if c["is_supporting"]]
    answers = [a.lower() for a in _answers(row)]
    without = [c for c in supporting if not any(a in c["paragraph_text"].lower() for a in answers)]
    return (without[0] if len(without) == 1 else supporting[-1])["title"]


def _options(question: str, aliases: list[str]) -> list[str]:
    """A choice question's two options ("Which band formed first, Lit or Adorable?") when the gold
    answer is one of them (`eval.metrics.option_is`); [] otherwise."""
    offered = choice(question)
    if not offered:
        return []
    matched = [o for o in offered if any(option_is(o, a) for a in aliases)]
    return list(offered) if len(matched) == 1 else []


def hotpot_set(rows: list[dict], positions: Sequence[int], *, own_corpus: bool) -> tuple[dict[str, str], list[dict]]:
    """(documents, records) for the questions at `positions`; the corpus is every paragraph of
    all rows (or only of these rows, `own_corpus`), less the broken questions' paragraphs."""
    removed = {_removed_title(rows[i]) for i in range(len(rows)) if i % BROKEN_EVERY == BROKEN_EVERY - 1}
    pool = [rows[i] for i in positions] if own_corpus else rows
    paragraphs: dict[str, str] = {}
    for row in pool:
        for context in row["contexts"]:
            paragraphs.setdefault(context["title"], context["paragraph_text"].strip())
    file_of: dict[str, str] = {}
    used: set[str] = set()
    for title in sorted(paragraphs):
        base = _slug(title)
        name, n = f"{base}.txt", 2
        while name.lower() in used:  # titles differing only in punctuation or case
            name, n = f"{base}-{n}.txt", n + 1
        used.add(name.lower())
        file_of[title] = name
    documents = {file_of[t]: f"{t}\n\n{paragraphs[t]}\n" for t in paragraphs if t not in removed}
    records = []
    for i in positions:
        row = rows[i]
        supporting = [c["title"] for c in row["contexts"] if c["is_supporting"]]
        broken = i % BROKEN_EVERY == BROKEN_EVERY - 1
        if not broken and any(t in removed for t in supporting):
            continue  # its chain was broken for another question's sake
        answers = _answers(row)
        tags = ["hotpotqa", "holdout" if i >= HOTPOT_HOLDOUT_FROM else "tune"]
        record: dict[str, Any] = {"id": f"hotpot-{row['question_id']}", "question": row["question_text"].strip()}
        if broken:
            record.update(answerable=False, tags=tags + ["broken_chain", "unanswerable"],
                          plausible_answers=_aliases(answers))
        elif answers and answers[0].lower() in ("yes", "no"):
            record.update(answerable=True, verdict=answers[0].lower(), tags=tags + ["yes_no", "answerable"],
                          reference_answer=answers[0], sources=[file_of[t] for t in supporting])
        else:
            aliases = _aliases(answers)
            record.update(answerable=True, key_facts=[aliases], reference_answer=aliases[0],
                          sources=[file_of[t] for t in supporting], evidence=aliases,
                          tags=tags + ["bridge_or_comparison", "answerable"])
            options = _options(record["question"], aliases)
            if options:
                record.update(options=options, tags=record["tags"] + ["choice"])
        records.append(record)
    return documents, records


def build_hotpot(root: Path, part: str) -> BuiltSet:
    rows = _hotpot_rows()
    positions = {"all": range(len(rows)), "tune": range(min(HOTPOT_HOLDOUT_FROM, len(rows))),
                 "holdout": range(HOTPOT_HOLDOUT_FROM, len(rows)),
                 "gate": [i for i in range(min(HOTPOT_HOLDOUT_FROM, len(rows))) if i % HOTPOT_GATE_BLOCK < BROKEN_EVERY]}[part]
    own = part == "gate"
    documents, records = hotpot_set(rows, positions, own_corpus=own)
    name = "hotpot" if part == "all" else f"hotpot-{part}"
    corpus_name = "hotpot-gate-corpus" if own else "hotpot-corpus"
    built = _write_set(root, corpus_name, documents, [], _digest(HOTPOT_FILE, corpus_name, BROKEN_EVERY))
    gold = _write_set(root, name, {}, records, _digest(HOTPOT_FILE, part, BROKEN_EVERY, HOTPOT_HOLDOUT_FROM))
    return BuiltSet(name, built.corpus, gold.gold, gold.questions, built.documents)


# --------------------------------------------------------------------------- the registry

SETS: dict[str, Callable[[Path], BuiltSet]] = {
    **{("squad" if p == "all" else f"squad-{p}"): (lambda root, p=p: build_squad(root, p))
       for p in ("all", "tune", "holdout", "gate")},
    **{("hotpot" if p == "all" else f"hotpot-{p}"): (lambda root, p=p: build_hotpot(root, p))
       for p in ("all", "tune", "holdout", "gate")},
}


def build_set(name: str, root: Path) -> BuiltSet:
    """Materialise outside set `name` (corpus folder + gold file) under `root`."""
    if name not in SETS:
        raise HarnessError(f"unknown eval set {name!r}; known: {', '.join(SETS)}")
    return SETS[name](Path(root))
