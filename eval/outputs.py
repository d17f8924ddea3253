"""What a run writes to --out (results.json, questions.jsonl, report.md, report.html) and the
summary it prints."""

from __future__ import annotations

import json
from pathlib import Path

from eval import report
from eval.report import fmt
from eval.results import EvalRun


def write_outputs(run: EvalRun) -> None:
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


def _json_default(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)
