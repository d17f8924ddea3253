"""How a learned answerability check would do end to end at other thresholds, without rerunning.

    python -m eval.check_sweep --set squad-holdout [--thresholds 0.01 0.02 0.04] [--check reader]

Every question of the set is asked as `briefing eval` asks it, with a check that records the
probability the learned check gives (when the rule stage lets the question reach it) and then
lets the answer through. The sweep then replays the run at each threshold: a question abstains
when the rules abstained, or when its probability is under the threshold. It prints, per
threshold, the figures the issue tracks (gold fact in the answer, abstained when it should,
wrongly abstained), so a threshold is chosen on whole answers rather than on the reader's
pair scores (eval/train_reader.py `calibrate`, which can disagree: see the README).

Use it on tune or calibration parts to choose; a holdout part only reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from eval.metrics import score_answer
from eval.train_answerability import open_set
from rag.answerability import AnswerCheck, build_check

DEFAULT_THRESHOLDS = (0.0, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.06)


class RecordingCheck:
    """Wraps a check: remembers its probability for the last question, never rejects."""

    def __init__(self, check: AnswerCheck):
        self.check, self.last = check, None

    def verdict(self, profile, sentences, bm25):
        verdict = self.check.verdict(profile, sentences, bm25)
        self.last = None if verdict is None else verdict.probability
        return None


def collect(settings, set_name: str, check: AnswerCheck, k: int = 5) -> list[dict[str, Any]]:
    """One row per question of outside set `set_name`: answerable, rules abstained, fact, probability."""
    from rag.pipeline import Briefing

    _, local, records = open_set(settings, set_name)
    recorder = RecordingCheck(check)
    briefing = Briefing(local, answer_check=recorder)
    rows = []
    for record in records:
        recorder.last = None
        answer = briefing.ask(record["question"])
        metrics = score_answer(record, answer, k, with_similarity=False)
        rows.append({"id": record["id"], "answerable": bool(record.get("answerable", True)),
                     "abstained": answer.abstained, "fact": metrics.get("answer_has_fact") or 0.0,
                     "probability": recorder.last})
    return rows


def sweep(rows: Sequence[dict[str, Any]], thresholds: Iterable[float]) -> list[dict[str, float]]:
    """The run replayed at each threshold (see the module docstring)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    out = []
    for threshold in thresholds:
        def abstains(r: dict[str, Any]) -> bool:
            return r["abstained"] or (r["probability"] is not None and r["probability"] < threshold)
        out.append({
            "threshold": threshold,
            "fact": sum(r["fact"] for r in answerable if not abstains(r)) / max(len(answerable), 1),
            "abstains_when_it_should": sum(map(abstains, unanswerable)) / max(len(unanswerable), 1),
            "wrongly_abstains": sum(map(abstains, answerable)) / max(len(answerable), 1),
        })
    return out


def main(argv: Sequence[str] | None = None, stdout=sys.stdout) -> int:
    from rag.base.settings import Settings

    p = argparse.ArgumentParser(prog="python -m eval.check_sweep", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", dest="set_name", required=True, help="an outside set (eval/external.py SETS)")
    p.add_argument("--check", choices=("reader", "features"), default="reader")
    p.add_argument("--thresholds", nargs="+", type=float, default=list(DEFAULT_THRESHOLDS))
    p.add_argument("--rows", type=Path, help="also write the per-question rows here (JSON lines)")
    args = p.parse_args(argv)
    check = build_check(args.check)
    if check is None:
        print(f"no trained {args.check} check in rag/models: nothing to sweep", file=sys.stderr)
        return 2
    rows = collect(Settings(), args.set_name, check)
    if args.rows:
        args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"{args.set_name}: {len(rows)} questions, {sum(r['answerable'] for r in rows)} answerable", file=stdout)
    for line in sweep(rows, args.thresholds):
        print(f"  threshold {line['threshold']:.4f}  fact {line['fact']:.3f}  abstains when it should "
              f"{line['abstains_when_it_should']:.3f}  wrongly abstains {line['wrongly_abstains']:.3f}", file=stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
