"""`briefing eval` / `python -m eval`: answer quality against gold Q&A pairs.

`run_eval(settings, gold_path, out_dir, ...)` does the work and is what tests call with their
own Settings; `main(argv)` is the thin command-line wrapper (exit 0 ok, 1 a floor was missed,
2 harness error).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from eval import metrics as M

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("eval") / "out"
JUDGE_CACHE = "eval-judge-cache.jsonl"

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


class HarnessError(Exception):
    """The eval itself could not run properly (exit 2), as opposed to a missed floor (exit 1)."""


@dataclass
class Floor:
    metric: str
    op: str  # ">=" or "<="
    value: float
    origin: str = ""

    def check(self, actual: float | None) -> bool:
        if actual is None:
            return False
        return actual >= self.value if self.op == ">=" else actual <= self.value


@dataclass
class EvalRun:
    out_dir: Path
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    tags: dict[str, dict[str, Any]]
    gate: list[dict[str, Any]] = field(default_factory=list)
    diff: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, Any]:
        return self.summary["totals"]

    @property
    def gate_failed(self) -> bool:
        return any(not g["ok"] for g in self.gate)

    @property
    def errors(self) -> int:
        return self.summary["errors"]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.gate_failed else 0


# --------------------------------------------------------------------------- gold file

_REQUIRED = {"id": str, "question": str, "answerable": bool}
_OPTIONAL = {"reference_answer": str, "key_facts": list, "sources": list, "evidence": list, "tags": list}


def load_gold(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Parse and check a gold JSONL file; returns (records, sha256 of the file bytes)."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"gold file not found: {path}")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HarnessError(f"{path}: not UTF-8 ({exc})") from exc
    records, seen, problems = [], set(), []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(rec, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        for key, typ in _REQUIRED.items():
            if not isinstance(rec.get(key), typ) or (typ is str and not rec[key].strip()):
                problems.append(f"{where}: `{key}` must be a non-empty {typ.__name__}" if typ is str
                                else f"{where}: `{key}` must be true or false")
        for key, typ in _OPTIONAL.items():
            if key in rec and not isinstance(rec[key], typ):
                problems.append(f"{where}: `{key}` must be a {typ.__name__}")
        if problems and problems[-1].startswith(where):
            continue
        facts = []
        for fact in rec.get("key_facts", []):
            aliases = [fact] if isinstance(fact, str) else fact
            if not isinstance(aliases, list) or not aliases or not all(isinstance(a, str) and a.strip() for a in aliases):
                problems.append(f"{where}: each key fact must be a string or a non-empty list of strings, got {fact!r}")
                break
            facts.append(aliases)
        for key in ("sources", "evidence", "tags"):
            if not all(isinstance(v, str) for v in rec.get(key, [])):
                problems.append(f"{where}: `{key}` must be a list of strings")
        if rec["id"] in seen:
            problems.append(f"{where}: duplicate id {rec['id']!r}")
        seen.add(rec["id"])
        records.append({
            "id": rec["id"], "question": rec["question"], "answerable": rec["answerable"],
            "reference_answer": rec.get("reference_answer", ""), "key_facts": facts,
            "sources": list(rec.get("sources", [])), "evidence": list(rec.get("evidence", [])),
            "tags": list(rec.get("tags", [])),
        })
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise HarnessError(f"bad gold file {path}:\n  {shown}")
    if not records:
        raise HarnessError(f"gold file {path} has no records")
    return records, digest


# --------------------------------------------------------------------------- gates


def parse_floor(spec: str, op: str = ">=", origin: str = "--fail-under") -> Floor:
    name, sep, value = spec.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return Floor(name.strip(), op, float(value), origin)
    except ValueError:
        raise HarnessError(f"{origin}: expected metric=value, got {spec!r}") from None


def load_thresholds(path: Path) -> list[Floor]:
    """`metric >= value` / `metric <= value` lines; `#` comments; blank lines ignored."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"thresholds file not found: {path}")
    floors = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([\w@.\-]+)\s*(>=|<=)\s*([-+0-9.eE]+)", line)
        if not m:
            raise HarnessError(f"{path}:{lineno}: expected `metric >= value` or `metric <= value`, got {line!r}")
        try:
            floors.append(Floor(m.group(1), m.group(2), float(m.group(3)), f"{path.name}:{lineno}"))
        except ValueError:
            raise HarnessError(f"{path}:{lineno}: bad number {m.group(3)!r}") from None
    return floors


def check_gate(floors: Sequence[Floor], totals: dict[str, Any]) -> list[dict[str, Any]]:
    unknown = [f for f in floors if f.metric not in totals]
    if unknown:
        names = ", ".join(sorted(totals))
        bad = ", ".join(f"{f.metric} ({f.origin})" for f in unknown)
        raise HarnessError(f"unknown metric(s) in the gate: {bad}. Known: {names}")
    return [{"metric": f.metric, "op": f.op, "value": f.value, "actual": totals[f.metric],
             "ok": f.check(totals[f.metric]), "origin": f.origin} for f in floors]


# --------------------------------------------------------------------------- baseline


def load_baseline(path: Path) -> dict[str, Any]:
    """A previous run: its results.json, its questions.jsonl, or its output folder.
    Returns {"path", "questions": {id: passed}, "totals": {...} or None}."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise HarnessError(f"baseline not found: {path}")
    try:
        if path.suffix == ".jsonl":
            questions = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    questions[row["id"]] = bool(row["pass"])
            return {"path": str(path), "questions": questions, "totals": None}
        data = json.loads(path.read_text(encoding="utf-8"))
        questions = {qid: bool(q["pass"]) for qid, q in data["questions"].items()}
        return {"path": str(path), "questions": questions, "totals": data.get("totals"),
                "manifest": data.get("manifest", {})}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise HarnessError(f"baseline {path} is not a results.json or questions.jsonl of an eval run ({exc!r})") from exc


def diff_runs(baseline: dict[str, bool], current: dict[str, bool]) -> dict[str, list[str]]:
    return {
        "pass_to_fail": [q for q in current if q in baseline and baseline[q] and not current[q]],
        "fail_to_pass": [q for q in current if q in baseline and not baseline[q] and current[q]],
        "new": [q for q in current if q not in baseline],
        "missing": [q for q in baseline if q not in current],
    }


# --------------------------------------------------------------------------- LLM judge


class Judge:
    """Optional LLM verdicts {correct, faithful} for answered answerable questions.

    Temperature 0, one request per (model, prompt) ever: verdicts are cached by the sha256 of
    the request in `cache_path` (JSONL). A reply that is not the expected JSON, or a failed
    request, is "unscored" and not cached. Never part of the gate unless a floor names it.
    """

    SYSTEM = (
        "You grade answers to questions about a set of documents. Reply with only a JSON object "
        '{"correct": true|false, "faithful": true|false}. "correct": the answer states what the '
        "reference answer states (extra detail is fine; missing or contradicting it is not). "
        '"faithful": every claim of the answer is supported by the cited passages shown.'
    )

    def __init__(self, settings, cache_path: Path, client=None):
        self.settings = settings
        self.model = settings.llm_model
        self.cache_path = Path(cache_path)
        self._client = client
        self.cache: dict[str, dict] = {}
        if self.cache_path.is_file():
            for line in self.cache_path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.cache[row["key"]] = row["verdict"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue

    @property
    def client(self):
        if self._client is None:
            from openai import OpenAI  # lazily: the default eval never needs it

            s = self.settings
            self._client = OpenAI(api_key=s.openai_api_key or "not-needed", base_url=s.openai_base_url or None,
                                  timeout=s.llm_timeout, max_retries=s.llm_max_retries)
        return self._client

    def messages(self, record: dict, answer) -> list[dict[str, str]]:
        facts = "; ".join(" / ".join(aliases) for aliases in record["key_facts"]) or "-"
        cited = "\n\n".join(f"[{c.n}] {c.passage.text}" for c in answer.citations) or "(none)"
        user = (f"Question: {record['question']}\n\nReference answer: {record['reference_answer'] or '-'}\n"
                f"Key facts: {facts}\n\nAnswer to grade:\n{answer.text}\n\nCited passages:\n{cited}")
        return [{"role": "system", "content": self.SYSTEM}, {"role": "user", "content": user}]

    @staticmethod
    def parse(content: str) -> dict | None:
        match = re.search(r"\{.*\}", content or "", re.S)
        if not match:
            return None
        try:
            data = json.loads(match.group())
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), bool) for k in ("correct", "faithful")):
            return None
        return {"correct": data["correct"], "faithful": data["faithful"]}

    def verdict(self, record: dict, answer) -> dict[str, Any]:
        messages = self.messages(record, answer)
        key = hashlib.sha256(json.dumps({"model": self.model, "temperature": 0, "messages": messages},
                                        sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if key in self.cache:
            return {**self.cache[key], "status": "scored", "cached": True}
        try:
            reply = self.client.chat.completions.create(model=self.model, messages=messages, temperature=0)
            content = reply.choices[0].message.content or ""
        except Exception as exc:  # any client/server failure leaves the question unscored
            return {"status": "unscored", "error": f"{type(exc).__name__}: {exc}"[:300]}
        verdict = self.parse(content)
        if verdict is None:
            return {"status": "unscored", "error": f"unparseable reply: {content[:200]!r}"}
        self.cache[key] = verdict
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with self.cache_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key, "verdict": verdict}) + "\n")
        return {**verdict, "status": "scored", "cached": False}


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


def _evidence_not_in_sources(records, documents, store) -> list[str]:
    """Ids of records with an evidence quote that none of their (indexed) sources contains."""
    texts: dict[str, str] = {}
    bad = []
    for rec in records:
        docs = [d for d in documents if any(M.source_matches(d.source, s) for s in rec["sources"])]
        if not docs or not rec["evidence"]:
            continue
        for d in docs:
            if d.doc_id not in texts:
                texts[d.doc_id] = M.normalize(store.document_text(d.doc_id))
        if any(not any(M.normalize(q) in texts[d.doc_id] for d in docs) for q in rec["evidence"]):
            bad.append(rec["id"])
    return bad


def _support_checker():
    try:
        from rag.verify import supports
    except ImportError:
        return None
    return supports


def _json_default(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


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
    stdout=None,
) -> EvalRun:
    """Answer every gold question with `settings`' index, score it, write the reports.

    Raises HarnessError for problems that are not the answerer's fault (exit 2)."""
    from rag.errors import BriefingError
    from rag.pipeline import Briefing

    stdout = stdout or sys.stdout
    started = time.time()
    if k < 1:
        raise HarnessError("--k must be at least 1")
    records, gold_sha = load_gold(gold_path)
    base = load_baseline(baseline) if baseline else None
    if judge and not settings.llm_configured:
        raise HarnessError("--judge needs an LLM: set OPENAI_API_KEY or OPENAI_BASE_URL (BRIEFING_OPENAI_*)")
    warnings: list[str] = []

    # -- index: bring it in line with the corpus (incremental; nothing is embedded when unchanged)
    corpus = Path(corpus) if corpus else None
    ingest_summary = None
    if ingest_corpus:
        target = corpus or Path(settings.corpus)
        if not target.exists():
            if corpus is not None:
                raise HarnessError(f"corpus not found: {corpus}")
            warnings.append(f"corpus folder {target} not found; evaluating the existing index as it is")
        else:
            from ingest.index import ingest

            report = ingest([target], settings, progress=progress)
            ingest_summary = report.summary()
            if not report.ok:
                warnings.append(f"ingest: {len(report.failed)} file(s) failed: "
                                + "; ".join(f"{f.source}: {f.reason}" for f in report.failed[:5]))
    briefing = Briefing(settings)
    try:
        documents = briefing.store.document_records()
    except BriefingError as exc:
        raise HarnessError(str(exc)) from exc
    if not documents:
        raise HarnessError(f"the index in {briefing.store.location} is empty; pass --corpus DIR")
    indexed = [d.source for d in documents]
    unknown_sources = sorted({s for r in records for s in r["sources"]
                              if not any(M.source_matches(x, s) for x in indexed)})
    if unknown_sources:
        warnings.append(f"gold sources not in the index: {', '.join(unknown_sources[:10])}")
    not_verbatim = _evidence_not_in_sources(records, documents, briefing.store)
    if not_verbatim:
        warnings.append(f"evidence quotes not found verbatim in their sources: {', '.join(not_verbatim[:10])}"
                        + (f" and {len(not_verbatim) - 10} more" if len(not_verbatim) > 10 else ""))

    supports = supports if supports is not None else _support_checker()
    if supports is None:
        warnings.append("citation_precision not computed: the support check rag.verify.supports is not available")
    embedder = briefing.embedder
    judge_ = Judge(settings, Path(settings.data_dir) / JUDGE_CACHE) if judge else None

    # -- warm up (model load, BM25 build) so the first question's latency is comparable
    try:
        briefing.retrieve(records[0]["question"], k)
    except BriefingError:
        pass

    from tqdm import tqdm

    show = progress if progress is not None else True
    rows: list[dict[str, Any]] = []
    models: set[str] = set()
    bar = tqdm(records, desc="Evaluating", unit="q", file=sys.stderr, disable=not show)
    for record in bar:
        t0 = time.perf_counter()
        try:
            answer = briefing.ask(record["question"])
        except Exception as exc:  # recorded, reported, and the run exits 2 at the end
            row = {"id": record["id"], "question": record["question"], "tags": record["tags"],
                   "answerable": record["answerable"], "key_facts": record["key_facts"], "answer": None,
                   "metrics": {"answerable": record["answerable"], "abstained": False,
                               "error": f"{type(exc).__name__}: {exc}"},
                   "latency_s": None}
            row["pass"], row["reasons"] = M.question_passes(row["metrics"])
            rows.append(row)
            continue
        latency = time.perf_counter() - t0
        if answer.model:
            models.add(answer.model)
        m = M.score_answer(record, answer, k, embedder=embedder, supports=supports, with_similarity=False)
        if judge_ is not None and record["answerable"] and not answer.abstained:
            m["judge"] = judge_.verdict(record, answer)
        passed, reasons = M.question_passes(m)
        rows.append({
            "id": record["id"], "question": record["question"], "tags": record["tags"],
            "answerable": record["answerable"], "key_facts": record["key_facts"],
            "reference_answer": record["reference_answer"], "pass": passed, "reasons": reasons,
            "latency_s": round(latency, 4), "metrics": m, "answer": answer.to_dict(),
        })
    bar.close()
    scored = [r for r in rows if r["answer"] is not None and r["answerable"] and not r["metrics"]["abstained"]]
    sims = M.semantic_similarities(embedder, [(r["answer"]["text"], r["reference_answer"]) for r in scored])
    for r, sim in zip(scored, sims):
        r["metrics"]["semantic_similarity"] = sim

    summary = M.aggregate(rows, k)
    if judge_ is not None:
        verdicts = [r["metrics"]["judge"] for r in rows if r["metrics"].get("judge")]
        scored = [v for v in verdicts if v["status"] == "scored"]
        summary["totals"]["judge_correct"] = M.mean(float(v["correct"]) for v in scored)
        summary["totals"]["judge_faithful"] = M.mean(float(v["faithful"]) for v in scored)
        summary["counts"]["judge_correct"] = summary["counts"]["judge_faithful"] = len(scored)
        summary["judge_unscored"] = len(verdicts) - len(scored)
    tags = M.per_tag(rows)
    gate = check_gate(floors, summary["totals"])
    current = {r["id"]: bool(r["pass"]) for r in rows}
    diff = diff_runs(base["questions"], current) if base else None

    manifest = {
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
            "judge": judge_.model if judge_ else None,
        },
        "support_check": (f"verbatim quote of the cited passage, else {supports.__module__}.{supports.__name__}"
                          if supports else None),
        "settings": settings_dump(settings),
        "python": sys.version.split()[0],
    }
    out_dir = Path(out_dir) if out_dir else default_out_dir()
    run = EvalRun(out_dir=out_dir, manifest=manifest, rows=rows, summary=summary, tags=tags, gate=gate,
                  diff=diff, baseline=base, warnings=warnings)
    write_outputs(run)
    print_summary(run, stdout)
    return run


def write_outputs(run: EvalRun) -> None:
    from eval import report

    out = run.out_dir
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "manifest": run.manifest,
        "totals": run.totals,
        "counts": run.summary["counts"],
        "confusion": run.summary["confusion"],
        "errors": run.errors,
        "judge_unscored": run.summary.get("judge_unscored"),
        "per_tag": run.tags,
        "gate": {"checks": run.gate, "passed": not run.gate_failed},
        "baseline": ({"path": run.baseline["path"], "totals": run.baseline["totals"]} if run.baseline else None),
        "diff": run.diff,
        "warnings": run.warnings,
        "questions": {r["id"]: {"pass": r["pass"], "reasons": r["reasons"], "tags": r["tags"],
                                "key_fact_recall": r["metrics"].get("key_fact_recall"),
                                "abstained": r["metrics"].get("abstained")} for r in run.rows},
    }
    run.files = {
        "results": out / "results.json",
        "questions": out / "questions.jsonl",
        "markdown": out / "report.md",
        "html": out / "report.html",
    }
    run.files["results"].write_text(json.dumps(results, indent=2, ensure_ascii=False, default=_json_default) + "\n",
                                    encoding="utf-8")
    with run.files["questions"].open("w", encoding="utf-8") as fh:
        for r in run.rows:
            fh.write(json.dumps(r, ensure_ascii=False, default=_json_default) + "\n")
    run.files["markdown"].write_text(report.markdown(run), encoding="utf-8")
    run.files["html"].write_text(report.html(run), encoding="utf-8")


def print_summary(run: EvalRun, out) -> None:
    from eval.report import fmt

    t = run.totals
    print(f"{run.summary['questions']} questions, {sum(r['pass'] for r in run.rows)} passed "
          f"(pass_rate {fmt(t['pass_rate'])})", file=out)
    for name, value in t.items():
        n = run.summary["counts"].get(name)
        print(f"  {name:<22} {fmt(value, name):>8}" + (f"   (n={n})" if n is not None else ""), file=out)
    weakest = sorted(run.tags.items(), key=lambda kv: (kv[1]["pass_rate"], kv[0]))[:3]
    if weakest:
        print("  weakest tags (pass rate, key-fact recall, abstained): " + "; ".join(
            f"{tag} {fmt(v['pass_rate'])}, {fmt(v['key_fact_recall'])}, {fmt(v['abstention_rate'])}"
            for tag, v in weakest), file=out)
    for w in run.warnings:
        print(f"warning: {w}", file=out)
    if run.errors:
        print(f"ERROR: {run.errors} question(s) raised an exception (see report)", file=out)
    if run.diff is not None:
        print(f"vs baseline {run.baseline['path']}:", file=out)
        print(f"  pass -> fail ({len(run.diff['pass_to_fail'])}): {' '.join(run.diff['pass_to_fail']) or '-'}", file=out)
        print(f"  fail -> pass ({len(run.diff['fail_to_pass'])}): {' '.join(run.diff['fail_to_pass']) or '-'}", file=out)
        if run.diff["new"] or run.diff["missing"]:
            print(f"  new: {len(run.diff['new'])}, missing: {len(run.diff['missing'])}", file=out)
    for g in run.gate:
        status = "ok  " if g["ok"] else "FAIL"
        print(f"gate {status} {g['metric']} = {fmt(g['actual'], g['metric'])} (needs {g['op']} {g['value']:g})", file=out)
    print(f"reports: {run.out_dir}/ (report.md, report.html, results.json, questions.jsonl)", file=out)


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


def main(argv: Sequence[str] | None = None, settings=None) -> int:
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
        settings = _resolve_settings(args, settings)
        run = run_eval(settings, args.gold, args.out, k=args.k, corpus=args.corpus, baseline=args.baseline,
                       floors=floors, judge=args.judge, progress=False if args.no_progress else None)
    except HarnessError as exc:
        print(f"eval error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - anything else is a harness error too
        import traceback

        traceback.print_exc()
        print(f"eval error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if run.errors:
        print(f"eval error: {run.errors} question(s) raised an exception", file=sys.stderr)
    return run.exit_code


def _resolve_settings(args: argparse.Namespace, settings=None):
    import os

    from rag.settings import Settings

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
        if not os.environ.get("BRIEFING_DATA_DIR"):
            update["data_dir"] = corpus_data_dir(settings, args.corpus)
    return settings.model_copy(update=update) if update else settings
