"""`python -m eval.collection`: questions about the whole collection, asked and scored.

    --set bundled   the bundled corpus (corpus/)
    --set planted   the bundled corpus plus eval/planted/: edited copies of some of its documents,
                    dated differently, with planted disagreements (eval/planted/manifest.jsonl)

Gold records (eval/collection_gold.jsonl) have a `kind`:
    coverage  `documents`: the sources that address the topic (every other one does not);
              scored by document recall and precision
    timeline  `order`: the dated sources expected, oldest first; `documents`: every source that
              addresses the topic, dated or not, in the period or not; `undated` (optional):
              sources that must be listed apart; scored by exact order and every entry cited
On the planted set, the copies of a gold source count as addressing the topic too (their text is
the same), and each manifest edit adds a `conflict` question: its two documents must be reported
as differing. Every other reported disagreement is a false alarm (conflict precision): the
bundled corpus agrees with itself on what its questions ask.

Prints the figures and exits 1 when a floor of `--thresholds` fails (eval/thresholds-collection).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from eval.errors import HarnessError
from eval.gate import check_gate, load_thresholds
from eval.totals import percentile
from rag.dates import question_period

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOLD = HERE / "collection_gold.jsonl"
PLANTED = HERE / "planted"
SETS = ("bundled", "planted")


def load_records(path: Path = GOLD) -> list[dict[str, Any]]:
    records = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("kind") not in ("coverage", "timeline") or not record.get("question"):
            raise HarnessError(f"{path.name}:{lineno}: needs `kind` coverage|timeline and a `question`")
        records.append(record)
    return records


def load_manifest(folder: Path = PLANTED) -> list[dict[str, Any]]:
    path = folder / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def planted_records(records: list[dict], manifest: list[dict], dates: dict[str, str]) -> list[dict]:
    """The gold for the planted set: copies address what their originals address, timelines
    take the copies in at their own dates, and each edit asks for its disagreement."""
    copies: dict[str, list[str]] = {}
    for edit in manifest:
        copies.setdefault(edit["original_file"], [])
        if edit["file"] not in copies[edit["original_file"]]:
            copies[edit["original_file"]].append(edit["file"])
    out = []
    for record in records:
        record = dict(record)
        if record["kind"] == "coverage":
            record["documents"] = record["documents"] + [c for d in record["documents"] for c in copies.get(d, [])]
        else:
            # A copy is dated differently from its original, so it may fall in the question's
            # period when the original does not (or the other way round).
            period = question_period(record["question"], max(dates.values()))
            wanted = [d for d in record["documents"] + [c for d in record["documents"] for c in copies.get(d, [])]
                      if dates.get(d) and (period is None or _in(dates[d], period))]
            record["order"] = sorted(wanted, key=lambda s: (dates[s], s))
            record.pop("undated", None)  # a copy may carry a date its original lacks
        out.append(record)
    for i, edit in enumerate(manifest, 1):
        out.append({"id": f"planted{i:02d}", "kind": "conflict", "question": edit["question"],
                    "pair": sorted([edit["original_file"], edit["file"]]), "edited": edit["edited"]})
    return out


def _in(date: str, period) -> bool:
    return (not period.date_from or date >= period.date_from) and (not period.date_to or date <= period.date_to)


def _conflict_pairs(answer) -> list[tuple[str, ...]]:
    return [tuple(sorted(c.passage.source for c in k.sides)) for k in answer.conflicts]


def score(records: list[dict], answers: list, planted_pairs: set[tuple[str, ...]]) -> dict[str, Any]:
    """The totals over one set (see the module docstring)."""
    found = wanted = hit = 0
    order_ok, cited_ok, undated_ok, undated_n = [], [], [], 0
    alarms = correct = 0
    expected_conflicts = detected = 0
    for record, answer in zip(records, answers):
        pairs = _conflict_pairs(answer)
        alarms += len(pairs)
        correct += sum(p in planted_pairs for p in pairs)
        if record["kind"] == "coverage":
            said = {r.source for r in answer.coverage if r.addresses}
            gold = set(record["documents"])
            found, wanted, hit = found + len(said), wanted + len(gold), hit + len(said & gold)
        elif record["kind"] == "timeline":
            order_ok.append([e.citation.passage.source for e in answer.timeline] == record["order"]
                            and [e.date for e in answer.timeline] == sorted(e.date for e in answer.timeline))
            cited_ok += [bool(e.citation.spans) for e in answer.timeline]
            if "undated" in record:
                undated_n += 1
                undated_ok.append(set(record["undated"]) <= {c.passage.source for c in answer.undated})
        else:
            expected_conflicts += 1
            detected += tuple(record["pair"]) in pairs
    ratio = lambda a, b: round(a / b, 3) if b else None  # noqa: E731
    return {
        "coverage_recall": ratio(hit, wanted), "coverage_precision": ratio(hit, found) if found else 1.0,
        "timeline_order": ratio(sum(order_ok), len(order_ok)), "timeline_cited": ratio(sum(cited_ok), len(cited_ok)),
        "timeline_undated": ratio(sum(undated_ok), undated_n),
        "conflict_alarms": alarms, "conflict_precision": ratio(correct, alarms) if alarms else 1.0,
        "conflict_recall": ratio(detected, expected_conflicts),
    }


def _prepare(name: str, settings):
    """An index of the set's documents in its own data dir (incremental across runs)."""
    from ingest.index import ingest
    from rag.pipeline import Briefing

    settings = settings.model_copy(update={"data_dir": Path(settings.data_dir) / "eval" / f"collection-{name}"})
    folders = [ROOT / "corpus"] + ([PLANTED] if name == "planted" else [])
    report = ingest(folders, settings, progress=False, log=lambda msg: None)
    if not report.ok:
        raise HarnessError("ingest failed: " + "; ".join(f"{f.source}: {f.reason}" for f in report.failed))
    return Briefing(settings)


def run_set(name: str, settings, records: list[dict] | None = None, out=sys.stdout) -> dict[str, Any]:
    records = records if records is not None else load_records()
    briefing = _prepare(name, settings)
    planted_pairs: set[tuple[str, ...]] = set()
    if name == "planted":
        manifest = load_manifest()
        dates = {r.source: r.date for r in briefing.store.document_records()}
        records = planted_records(records, manifest, dates)
        planted_pairs = {tuple(sorted([e["original_file"], e["file"]])) for e in manifest}
    answers, latencies = [], []
    for record in records:
        started = time.perf_counter()
        answers.append(briefing.ask(record["question"], scope=record.get("scope", "auto")))
        latencies.append(time.perf_counter() - started)
    totals = score(records, answers, planted_pairs)
    totals["latency_p95"] = round(percentile(latencies[1:] or latencies, 95) or 0.0, 3)  # the first loads the model
    print(f"collection questions, set {name}: {len(records)} questions", file=out)
    for key, value in totals.items():
        print(f"  {key:20} {value}", file=out)
    for record, answer in zip(records, answers):
        problems = _problems(record, answer, planted_pairs)
        if problems:
            print(f"  - {record['id']}: {record['question']}\n      {problems}", file=out)
    return totals


def _problems(record: dict, answer, planted_pairs) -> str:
    bits = []
    false_alarms = [p for p in _conflict_pairs(answer) if p not in planted_pairs]
    if false_alarms:
        bits.append(f"false alarm(s): {false_alarms} on {[k.about for k in answer.conflicts]}")
    if record["kind"] == "coverage":
        said = {r.source for r in answer.coverage if r.addresses}
        gold = set(record["documents"])
        if said != gold:
            bits.append(f"missed {sorted(gold - said)}, extra {sorted(said - gold)}")
    elif record["kind"] == "timeline":
        got = [e.citation.passage.source for e in answer.timeline]
        if got != record["order"]:
            bits.append(f"order {got}, expected {record['order']}")
    elif tuple(record["pair"]) not in _conflict_pairs(answer):
        bits.append(f"conflict {record['pair']} not reported")
    return "; ".join(bits)


def main(argv: Sequence[str] | None = None, settings=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.collection", description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", dest="sets", action="append", choices=SETS,
                        help="bundled or planted (repeatable; default both)")
    parser.add_argument("--thresholds", type=Path, help="floors per set: `<set>.<metric> >= value` lines")
    args = parser.parse_args(argv)
    from rag.base.settings import Settings

    settings = settings or Settings()
    totals: dict[str, Any] = {}
    try:
        for name in args.sets or SETS:
            totals.update({f"{name}.{k}": v for k, v in run_set(name, settings).items()})
        gate = check_gate(load_thresholds(args.thresholds), totals) if args.thresholds else []
    except HarnessError as exc:
        print(f"eval error: {exc}", file=sys.stderr)
        return 2
    failed = [g for g in gate if not g["ok"]]
    for g in failed:
        print(f"GATE FAILED: {g['metric']} = {g['actual']} (needs {g['op']} {g['value']}, {g['origin']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
