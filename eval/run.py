"""`briefing eval` / `python -m eval`: answer quality against gold Q&A pairs.

`run_eval(settings, gold_path, out_dir, ...)` does the work and is what tests call with their
own Settings; `main(argv)` is the thin command-line wrapper (exit 0 ok, 1 a floor was missed,
2 harness error).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from eval import metrics as M
from eval import totals as T
from eval.baseline import diff_runs, load_baseline
from eval.errors import HarnessError
from eval.gate import Floor, check_gate, load_thresholds, parse_floor
from eval.gold import evidence_not_in_sources, load_gold
from eval.judge import JUDGE_CACHE, Judge
from eval.outputs import print_summary, write_outputs
from eval.results import EvalRun
from rag.base.errors import BriefingError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("eval") / "out"

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


# --------------------------------------------------------------------------- helpers


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


_SECRET = re.compile(r"key|auth|password|secret|token", re.I)


def settings_dump(settings) -> dict[str, Any]:
    data = settings.model_dump(mode="json")
    return {k: ("***" if v and _SECRET.search(k) else v) for k, v in data.items()}


def default_out_dir() -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = DEFAULT_OUT / stamp
    n = 2
    while out.exists():
        out = DEFAULT_OUT / f"{stamp}-{n}"
        n += 1
    return out


def corpus_data_dir(settings, corpus: Path) -> Path:
    """A private index folder for an eval corpus: <data_dir>/eval/<folder name>-<path hash>."""
    resolved = Path(corpus).expanduser().resolve()
    slug = re.sub(r"[^\w.-]+", "-", resolved.name or "corpus")
    return Path(settings.data_dir) / "eval" / f"{slug}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"


def _support_checker():
    try:
        from rag.verify import supports
    except ImportError:
        return None
    return supports


# --------------------------------------------------------------------------- the run


def run_eval(
    settings,
    gold_path: Path,
    out_dir: Path | None = None,
    *,
    k: int = 5,
    corpus: Path | None = None,
    ingest_corpus: bool = True,
    baseline: Path | None = None,
    floors: Sequence[Floor] = (),
    judge: bool = False,
    progress: bool | None = None,
    supports=None,
    answerer=None,
    stdout=None,
) -> EvalRun:
    """Answer every gold question with `settings`' index, score it, write the reports.
    `answerer` replaces the one `settings` would build (an `rag.answerer.Answerer`).

    Raises HarnessError for problems that are not the answerer's fault (exit 2); the pipeline's
    own errors (an unusable index, a model that will not load) count as such here."""
    stdout = stdout or sys.stdout
    started = time.time()
    if k < 1:
        raise HarnessError("--k must be at least 1")
    records, gold_sha = load_gold(gold_path)
    base = load_baseline(baseline) if baseline else None
    if judge and not settings.llm_configured:
        raise HarnessError("--judge needs an LLM: set OPENAI_API_KEY or OPENAI_BASE_URL (BRIEFING_OPENAI_*)")
    warnings: list[str] = []
    corpus = Path(corpus) if corpus else None
    try:
        briefing, documents, ingest_summary = prepare_index(settings, records, corpus, warnings,
                                                            ingest_corpus=ingest_corpus, progress=progress,
                                                            answerer=answerer)
        supports = supports if supports is not None else _support_checker()
        if supports is None:
            warnings.append("citation_precision not computed: the support check rag.verify.supports is not available")
        judge_ = Judge(settings, Path(settings.data_dir) / JUDGE_CACHE) if judge else None
        rows, models = answer_questions(briefing, records, k, supports=supports, judge=judge_, progress=progress)
        summary, tags = score_run(rows, k, briefing.embedder, judged=judge_ is not None)
    except HarnessError:
        raise
    except BriefingError as exc:
        raise HarnessError(str(exc)) from exc

    manifest = build_manifest(
        settings, started=started, gold_path=gold_path, gold_sha=gold_sha, records=records, corpus=corpus,
        briefing=briefing, documents=documents, ingest_summary=ingest_summary, k=k, models=models,
        judge=judge_, supports=supports)
    run = EvalRun(out_dir=Path(out_dir) if out_dir else default_out_dir(), manifest=manifest, rows=rows,
                  summary=summary, tags=tags, gate=check_gate(floors, summary["totals"]),
                  diff=diff_runs(base["questions"], {r["id"]: bool(r["pass"]) for r in rows}) if base else None,
                  baseline=base, warnings=warnings)
    write_outputs(run)
    print_summary(run, stdout)
    return run


def prepare_index(settings, records: list[dict], corpus: Path | None, warnings: list[str], *,
                  ingest_corpus: bool = True, progress: bool | None = None, answerer=None):
    """Bring the index in line with the corpus (incremental: nothing is embedded when unchanged),
    open the pipeline over it, and warn about gold sources and evidence the index does not hold.
    Returns (briefing, document records, ingest summary or None)."""
    from rag.pipeline import Briefing

    ingest_summary = _ingest_corpus(settings, corpus, warnings, progress) if ingest_corpus else None
    briefing = Briefing(settings, answerer=answerer)
    documents = briefing.store.document_records()
    if not documents:
        raise HarnessError(f"the index in {briefing.store.location} is empty; pass --corpus DIR")
    indexed = [d.source for d in documents]
    unknown_sources = sorted({s for r in records for s in r["sources"]
                              if not any(M.source_matches(x, s) for x in indexed)})
    if unknown_sources:
        warnings.append(f"gold sources not in the index: {', '.join(unknown_sources[:10])}")
    not_verbatim = evidence_not_in_sources(records, documents, briefing.store)
    if not_verbatim:
        warnings.append(f"evidence quotes not found verbatim in their sources: {', '.join(not_verbatim[:10])}"
                        + (f" and {len(not_verbatim) - 10} more" if len(not_verbatim) > 10 else ""))
    return briefing, documents, ingest_summary


def _ingest_corpus(settings, corpus: Path | None, warnings: list[str], progress: bool | None) -> dict | None:
    target = corpus or Path(settings.corpus)
    if not target.exists():
        if corpus is not None:
            raise HarnessError(f"corpus not found: {corpus}")
        warnings.append(f"corpus folder {target} not found; evaluating the existing index as it is")
        return None
    from ingest.index import ingest

    report = ingest([target], settings, progress=progress)
    if not report.ok:
        warnings.append(f"ingest: {len(report.failed)} file(s) failed: "
                        + "; ".join(f"{f.source}: {f.reason}" for f in report.failed[:5]))
    return report.summary()


def answer_questions(briefing, records: list[dict], k: int, *, supports=None, judge: Judge | None = None,
                     progress: bool | None = None) -> tuple[list[dict[str, Any]], set[str]]:
    """Ask every gold question and score its answer: one row per question (an exception is
    recorded in its row, not raised), and the answer models that were used."""
    from tqdm import tqdm

    try:  # warm up (model load, BM25 build) so the first question's latency is comparable
        briefing.retrieve(records[0]["question"], k)
    except BriefingError:
        pass
    rows: list[dict[str, Any]] = []
    models: set[str] = set()
    show = progress if progress is not None else True
    bar = tqdm(records, desc="Evaluating", unit="q", file=sys.stderr, disable=not show)
    for record in bar:
        t0 = time.perf_counter()
        try:
            answer = briefing.ask(record["question"])
        except Exception as exc:  # recorded, reported, and the run exits 2 at the end
            rows.append(_error_row(record, exc))
            continue
        latency = time.perf_counter() - t0
        if answer.model:
            models.add(answer.model)
        rows.append(_answer_row(record, answer, latency, k, briefing.embedder, supports, judge))
    bar.close()
    return rows, models


def _answer_row(record: dict, answer, latency: float, k: int, embedder, supports, judge: Judge | None) -> dict:
    m = M.score_answer(record, answer, k, embedder=embedder, supports=supports, with_similarity=False)
    if judge is not None and record["answerable"] and not answer.abstained:
        m["judge"] = judge.verdict(record, answer)
    passed, reasons = M.question_passes(m)
    return {
        "id": record["id"], "question": record["question"], "tags": record["tags"],
        "answerable": record["answerable"], "key_facts": record["key_facts"],
        "reference_answer": record["reference_answer"], "pass": passed, "reasons": reasons,
        "latency_s": round(latency, 4), "metrics": m, "answer": answer.to_dict(),
    }


def _error_row(record: dict, exc: Exception) -> dict:
    row = {"id": record["id"], "question": record["question"], "tags": record["tags"],
           "answerable": record["answerable"], "key_facts": record["key_facts"], "answer": None,
           "metrics": {"answerable": record["answerable"], "abstained": False,
                       "error": f"{type(exc).__name__}: {exc}"},
           "latency_s": None}
    row["pass"], row["reasons"] = M.question_passes(row["metrics"])
    return row


def score_run(rows: list[dict[str, Any]], k: int, embedder, *, judged: bool = False):
    """Semantic similarity for every answered answerable question (one batch), then the totals
    (with the judge's, when it was asked) and the per-tag breakdown. Returns (summary, tags)."""
    scored = [r for r in rows if r["answer"] is not None and r["answerable"] and not r["metrics"]["abstained"]]
    sims = M.semantic_similarities(embedder, [(r["answer"]["text"], r["reference_answer"]) for r in scored])
    for r, sim in zip(scored, sims):
        r["metrics"]["semantic_similarity"] = sim
    summary = T.aggregate(rows, k)
    if judged:
        verdicts = [r["metrics"]["judge"] for r in rows if r["metrics"].get("judge")]
        scored_verdicts = [v for v in verdicts if v["status"] == "scored"]
        summary["totals"]["judge_correct"] = T.mean(float(v["correct"]) for v in scored_verdicts)
        summary["totals"]["judge_faithful"] = T.mean(float(v["faithful"]) for v in scored_verdicts)
        summary["counts"]["judge_correct"] = summary["counts"]["judge_faithful"] = len(scored_verdicts)
        summary["judge_unscored"] = len(verdicts) - len(scored_verdicts)
    return summary, T.per_tag(rows)


def build_manifest(settings, *, started: float, gold_path: Path, gold_sha: str, records: list[dict],
                   corpus: Path | None, briefing, documents: list, ingest_summary: dict | None, k: int,
                   models: set[str], judge: Judge | None, supports) -> dict[str, Any]:
    """What the run was: when, which commit, gold file, index, models and settings."""
    embedder = briefing.embedder
    return {
        "started": _dt.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 2),
        "git_commit": _git_commit(),
        "gold": {"path": str(gold_path), "sha256": gold_sha, "records": len(records)},
        "corpus": str(corpus or settings.corpus),
        "index": briefing.store.location,
        "documents": len(documents),
        "ingest": ingest_summary,
        "k": k,
        "answer_mode": settings.resolved_answer_mode,
        "models": {
            "embedder": getattr(embedder, "name", settings.embed_model),
            "answerer": sorted(models) or [settings.llm_model if settings.resolved_answer_mode == "llm" else "extractive"],
            "judge": judge.model if judge else None,
        },
        "support_check": (f"verbatim quote of the cited passage, else {supports.__module__}.{supports.__name__}"
                          if supports else None),
        "settings": settings_dump(settings),
        "python": sys.version.split()[0],
    }

# --------------------------------------------------------------------------- command line


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
