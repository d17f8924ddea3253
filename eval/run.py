"""Answer quality against gold Q&A pairs: `run_eval(settings, gold_path, out_dir, ...)`.

It indexes the corpus, answers every gold question, scores the answers, writes the reports and
checks the floors; tests call it with their own Settings. `eval.cli` is the command line.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from eval import metrics as M
from eval import totals as T
from eval.baseline import diff_runs, load_baseline
from eval.errors import HarnessError
from eval.gate import Floor, check_gate
from eval.gold import evidence_not_in_sources, load_gold
from eval.judge import JUDGE_CACHE, Judge
from eval.manifest import build_manifest
from eval.outputs import print_summary, write_outputs
from eval.results import EvalRun
from rag.base.errors import BriefingError

DEFAULT_OUT = Path("eval") / "out"

# --------------------------------------------------------------------------- helpers


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
