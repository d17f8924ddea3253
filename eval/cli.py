"""`briefing eval` / `python -m eval`: the command line over `eval.run.run_eval`.

`main(argv)` parses the options, builds the Settings (and an outside set's corpus and gold file)
and returns the exit status: 0 all floors met, 1 a floor was missed, 2 harness error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from eval.errors import HarnessError
from eval.gate import load_thresholds, parse_floor
from eval.run import corpus_data_dir, run_eval
from rag.base.errors import BriefingError

HELP_EPILOG = """\
gold file (JSONL, one JSON object per line; blank lines ignored):
  {"id": "q001", "question": "What does FOIP stand for?", "answerable": true,
   "reference_answer": "Free and Open Indo-Pacific.",
   "key_facts": [["Free and Open Indo-Pacific", "Free and Open Indo Pacific"], "FOIP"],
   "sources": ["asan-brief.txt"], "evidence": ["the FOIP (Free and Open Indo-Pacific) initiative"],
   "tags": ["factoid", "definition"]}
  {"id": "q090", "question": "What is the 2026 defense budget in yen?", "answerable": false,
   "tags": ["unanswerable"]}

  id, question, answerable   required; ids unique
  key_facts        facts the answer must state: each a list of aliases (any one counts) or a
                   single string. Matched case-insensitively in the first 1000 characters of
                   the answer, with curly/straight quotes, dashes and whitespace unified.
  reference_answer a short correct answer (token F1, semantic similarity, the LLM judge)
  sources          file names as `briefing docs` lists them (path relative to the ingested folder)
  evidence         verbatim quotes from the sources that answer the question (evidence hit@k,
                   citation recall)
  tags             free labels; totals are broken down per tag
  verdict          "yes" or "no": a yes/no question's answer must open with it
  options          a choice question's options (["Lit", "Adorable"]): the answer must open with
                   the one its first key fact names, alone ("Lit. ..."); quoting both is no choice
  Unanswerable questions (the documents don't say) have answerable=false and empty
  key_facts/sources/evidence: the right outcome is an abstention.

your own documents: write 20-50 questions people really ask of them (a fifth or so that the
documents can't answer), then `briefing eval --corpus my-docs/ --gold my-gold.jsonl`. The eval
warns about sources that are not indexed and evidence quotes not found verbatim in them.
Keep the first run's results.json and pass it as --baseline after each change.

a question passes when it is answerable and the answer has every key fact and valid citations,
or it is unanswerable and the answerer abstains. Abstentions are left out of the answer and
citation metrics (and counted in false_answer_rate / over_refusal_rate instead).

metrics (totals; names for --fail-under and thresholds files):
  hit@K recall@K mrr evidence_hit@K key_fact_recall token_f1 semantic_similarity
  citation_validity citation_precision citation_recall false_answer_rate over_refusal_rate
  abstention_accuracy pass_rate latency_p50 latency_p95 (seconds)
  judge_correct judge_faithful (only with --judge)

thresholds file: one `metric >= value` or `metric <= value` per line, `#` starts a comment.

outputs in --out: results.json (manifest, totals, per tag, gate, diff), questions.jsonl (one
line per question: answer, metrics, pass/fail), report.md, report.html.

exit status: 0 all floors met, 1 a floor was missed, 2 harness error (bad gold file, missing
corpus, an exception).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="briefing eval",
        description="Answer every question of a gold file with the configured pipeline, score the answers\n"
                    "offline and deterministically (retrieval, key facts, citations, abstention, latency),\n"
                    "write reports, diff against a previous run, and gate on floors.",
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--gold", type=Path, default=Path(__file__).resolve().parent / "gold.jsonl",
                   help="gold Q&A file, JSONL (default: the bundled eval/gold.jsonl)")
    p.add_argument("--corpus", type=Path,
                   help="folder of documents the gold file is about; indexed into its own data dir "
                        "(<data_dir>/eval/<name>-<hash>) unless BRIEFING_DATA_DIR is set "
                        "(default: $BRIEFING_CORPUS or corpus/, into the configured index)")
    p.add_argument("--set", dest="eval_set", metavar="NAME",
                   help="an outside question set instead of --gold/--corpus: squad, squad-tune, squad-holdout, "
                        "squad-gate, hotpot, hotpot-tune, hotpot-holdout, hotpot-gate (eval/external/README.md); "
                        "built under <data_dir>/eval/sets/ and always indexed into its own folder "
                        "(<data_dir>/eval/<name>-<hash>)")
    p.add_argument("--out", type=Path, help="output folder (default: eval/out/<timestamp>/)")
    p.add_argument("--baseline", type=Path,
                   help="a previous run's results.json, questions.jsonl or output folder: "
                        "list questions that went pass->fail and fail->pass")
    p.add_argument("--k", type=int, default=5, help="cut-off for hit@k, recall@k, evidence_hit@k (default 5)")
    p.add_argument("--fail-under", nargs="+", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when METRIC < VALUE (e.g. key_fact_recall=0.7 hit@5=0.9)")
    p.add_argument("--fail-over", nargs="+", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when METRIC > VALUE (e.g. false_answer_rate=0.2 latency_p95=2)")
    p.add_argument("--thresholds", type=Path, help="file of `metric >= value` / `metric <= value` lines "
                                                   "(CI uses eval/thresholds)")
    p.add_argument("--judge", action="store_true",
                   help="also ask the configured LLM for {correct, faithful} verdicts (cached; not gated "
                        "unless a floor names judge_correct/judge_faithful)")
    p.add_argument("--mode", choices=["auto", "extractive", "llm"], help="answerer (default: $BRIEFING_ANSWER_MODE)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None, settings=None, answerer=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    try:
        floors = [parse_floor(s, ">=") for s in args.fail_under]
        floors += [parse_floor(s, "<=", "--fail-over") for s in args.fail_over]
        if args.thresholds:
            floors += load_thresholds(args.thresholds)
        if args.eval_set:
            _use_set(args, settings)
        settings = _resolve_settings(args, settings)
        run = run_eval(settings, args.gold, args.out, k=args.k, corpus=args.corpus, baseline=args.baseline,
                       floors=floors, judge=args.judge, progress=False if args.no_progress else None,
                       answerer=answerer)
    except BriefingError as exc:  # HarnessError (2): run_eval raises the pipeline's own errors as one
        print(f"eval error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - anything else is a harness error too
        import traceback

        traceback.print_exc()
        print(f"eval error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return HarnessError.exit_code
    if run.errors:
        print(f"eval error: {run.errors} question(s) raised an exception", file=sys.stderr)
    return run.exit_code


def _use_set(args: argparse.Namespace, settings=None) -> None:
    """Point --gold and --corpus at outside set `--set`, materialised under the data dir."""
    from eval.external import build_set
    from rag.base.settings import Settings

    if args.corpus or args.gold != build_parser().get_default("gold"):
        raise HarnessError("--set builds its own corpus and gold file: leave out --corpus and --gold")
    base = settings if settings is not None else Settings()
    built = build_set(args.eval_set, Path(base.data_dir) / "eval" / "sets")
    args.gold, args.corpus = built.gold, built.corpus


def _resolve_settings(args: argparse.Namespace, settings=None):
    import os

    from rag.base.settings import Settings

    try:
        settings = settings if settings is not None else Settings()
    except Exception as exc:  # pydantic validation of BRIEFING_* variables
        raise HarnessError(f"bad BRIEFING_* setting: {exc}") from exc
    update: dict[str, Any] = {}
    if args.mode:
        update["answer_mode"] = args.mode
    if args.corpus:
        if not args.corpus.is_dir():
            raise HarnessError(f"corpus folder not found: {args.corpus}")
        update["corpus"] = args.corpus
        # An outside set always gets its own index under the data dir: with BRIEFING_DATA_DIR
        # set, sets run one after another in one folder used to share one index, so a SQuAD
        # run also searched HotpotQA's 3,313 paragraphs (and every document ingested there).
        if getattr(args, "eval_set", None) or not os.environ.get("BRIEFING_DATA_DIR"):
            update["data_dir"] = corpus_data_dir(settings, args.corpus)
    return settings.model_copy(update=update) if update else settings
