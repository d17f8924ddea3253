"""report.md and a self-contained report.html (inline CSS, plots as base64 PNG) for an eval run."""

from __future__ import annotations

import base64
import html as _html
import io
from typing import TYPE_CHECKING, Any

from eval.totals import LOWER_IS_BETTER

if TYPE_CHECKING:
    from eval.results import EvalRun

_ANSWER_CHARS = 1200  # answers longer than this are cut in the reports (questions.jsonl has them whole)


def fmt(value: Any, name: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if name.startswith("latency"):
            return f"{value:.3f}s"
        return f"{value:.3f}" if isinstance(value, float) else str(value)
    return str(value)


def _delta(name: str, value: Any, base: Any) -> str:
    if not isinstance(value, (int, float)) or not isinstance(base, (int, float)):
        return ""
    d = value - base
    if abs(d) < 5e-4:
        return "="
    better = (d < 0) if name in LOWER_IS_BETTER else (d > 0)
    return f"{d:+.3f} {'better' if better else 'worse'}"


def _facts(facts: list[list[str]], found: list[bool] | None = None) -> list[str]:
    out = []
    for i, aliases in enumerate(facts):
        mark = ""
        if found is not None and i < len(found):
            mark = "found" if found[i] else "MISSING"
        out.append((" / ".join(aliases), mark))
    return out


def _answer_text(row: dict) -> str:
    if row.get("answer") is None:
        return f"(error: {row['metrics'].get('error')})"
    text = row["answer"]["text"]
    return text if len(text) <= _ANSWER_CHARS else text[:_ANSWER_CHARS] + " …"


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _ordered_rows(run: "EvalRun") -> list[dict]:
    return [r for r in run.rows if not r["pass"]] + [r for r in run.rows if r["pass"]]


# --------------------------------------------------------------------------- markdown


def markdown(run: "EvalRun") -> str:
    m, t = run.manifest, run.totals
    base = (run.baseline or {}).get("totals") or {}
    lines = [
        "# Eval report",
        "",
        f"- gold: `{m['gold']['path']}` ({m['gold']['records']} records, sha256 `{m['gold']['sha256'][:12]}`)",
        f"- commit: `{m['git_commit'] or 'unknown'}`; answerer: {m['answer_mode']} "
        f"({', '.join(m['models']['answerer'])}); embedder: {m['models']['embedder']}; k = {m['k']}",
        f"- index: `{m['index']}` ({m['documents']} documents); started {m['started']}, {m['seconds']} s",
        f"- **{sum(r['pass'] for r in run.rows)} of {len(run.rows)} questions passed**",
    ]
    if run.gate:
        failed = [g for g in run.gate if not g["ok"]]
        lines.append(f"- gate: **{'FAILED' if failed else 'passed'}**"
                     + (": " + ", ".join(f"{g['metric']} = {fmt(g['actual'], g['metric'])} (needs {g['op']} {g['value']:g})"
                                         for g in failed) if failed else ""))
    for w in run.warnings:
        lines.append(f"- warning: {w}")
    if run.errors:
        lines.append(f"- **ERROR: {run.errors} question(s) raised an exception**")

    lines += ["", "## Totals", ""]
    if base:
        lines += ["| metric | value | n | baseline | change |", "|---|---:|---:|---:|---|"]
    else:
        lines += ["| metric | value | n |", "|---|---:|---:|"]
    for name, value in t.items():
        row = f"| {name} | {fmt(value, name)} | {run.summary['counts'].get(name, '')} |"
        if base:
            row += f" {fmt(base.get(name), name)} | {_delta(name, value, base.get(name))} |"
        lines.append(row)

    c = run.summary["confusion"]
    lines += ["", "## Abstention", "", "| | answered | abstained |", "|---|---:|---:|",
              f"| answerable | {c['answerable_answered']} | {c['answerable_abstained']} |",
              f"| unanswerable | {c['unanswerable_answered']} | {c['unanswerable_abstained']} |", "",
              f"false-answer rate {fmt(c['false_answer_rate'])}, over-refusal rate {fmt(c['over_refusal_rate'])}"]

    lines += ["", "## Per tag", "", "| tag | questions | pass rate | key-fact recall | abstained | over-refusal | false answers |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for tag, v in sorted(run.tags.items(), key=lambda kv: (kv[1]["pass_rate"], kv[0])):
        lines.append(f"| {tag} | {v['questions']} | {fmt(v['pass_rate'])} | {fmt(v['key_fact_recall'])} | "
                     f"{fmt(v['abstention_rate'])} | {fmt(v['over_refusal_rate'])} | {fmt(v['false_answer_rate'])} |")

    if run.diff is not None:
        lines += ["", "## Changes against the baseline", "", f"Baseline: `{run.baseline['path']}`", ""]
        titles = {r["id"]: r["question"] for r in run.rows}
        for key, title in (("pass_to_fail", "Pass → fail"), ("fail_to_pass", "Fail → pass")):
            ids = run.diff[key]
            lines.append(f"**{title} ({len(ids)})**" + ("" if ids else ": none"))
            lines += [f"- `{q}` {_md_escape(titles.get(q, ''))}" for q in ids]
            lines.append("")
        if run.diff["new"] or run.diff["missing"]:
            lines.append(f"New questions: {', '.join(run.diff['new']) or '-'}; "
                         f"missing from this run: {', '.join(run.diff['missing']) or '-'}")

    failures = [r for r in run.rows if not r["pass"]]
    lines += ["", f"## Failures ({len(failures)})", ""]
    for r in failures:
        lines += _md_question(r)
    passes = [r for r in run.rows if r["pass"]]
    lines += ["", f"## Passed ({len(passes)})", "", "| id | question | key-fact recall | abstained | latency |",
              "|---|---|---:|---|---:|"]
    for r in passes:
        lines.append(f"| {r['id']} | {_md_escape(r['question'])} | {fmt(r['metrics'].get('key_fact_recall'))} | "
                     f"{fmt(r['metrics'].get('abstained'))} | {fmt(r['latency_s'], 'latency')} |")
    return "\n".join(lines) + "\n"


def _md_question(r: dict) -> list[str]:
    m = r["metrics"]
    out = [f"### {r['id']}: {_md_escape(r['question'])}", "",
           f"- tags: {', '.join(r['tags']) or '-'}; answerable: {fmt(r['answerable'])}; "
           f"abstained: {fmt(m.get('abstained'))}",
           f"- why it failed: {'; '.join(r['reasons'])}"]
    if r["key_facts"]:
        out.append("- expected facts: " + "; ".join(f"{f}" + (f" ({mark})" if mark else "")
                                                    for f, mark in _facts(r["key_facts"], m.get("key_facts_found"))))
    scores = ", ".join(f"{k} {fmt(m.get(k))}" for k in ("hit@k", "evidence_hit@k", "citation_recall", "token_f1")
                       if m.get(k) is not None)
    if scores:
        out.append(f"- scores: {scores}")
    if r.get("reference_answer"):
        out.append(f"- reference: {_md_escape(r['reference_answer'])}")
    out += ["", "Answer:", ""]
    out += ["> " + line if line.strip() else ">" for line in _answer_text(r).splitlines()]
    if r.get("answer") and r["answer"]["citations"]:
        out += ["", "Citations:", ""]
        for c in r["answer"]["citations"]:
            p = c["passage"]
            flag = "" if c["verified"] else " (unverified)"
            out.append(f"- [{c['n']}] {p['source']}, chars {p['start']}-{p['end']}{flag}")
    out.append("")
    return out


# --------------------------------------------------------------------------- plots

_BAR_METRICS = ("hit@", "recall@", "mrr", "evidence_hit@", "key_fact_recall", "token_f1", "semantic_similarity",
                "citation_validity", "citation_precision", "citation_recall", "false_answer_rate",
                "over_refusal_rate", "abstention_accuracy", "pass_rate", "judge_correct", "judge_faithful")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def metric_bars(totals: dict, baseline: dict | None) -> str:
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    names = [n for n in totals if n.startswith(_BAR_METRICS)]
    fig = Figure(figsize=(8, 0.35 * len(names) + 1.2))
    ax = fig.add_subplot()
    ys = list(range(len(names)))[::-1]
    height = 0.38 if baseline else 0.7
    values = [totals[n] if totals[n] is not None else 0.0 for n in names]
    ax.barh([y + (height / 2 if baseline else 0) for y in ys], values, height=height, label="this run", color="#3b6ea8")
    if baseline:
        base = [baseline.get(n) or 0.0 for n in names]
        ax.barh([y - height / 2 for y in ys], base, height=height, label="baseline", color="#b8b8b8")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    ax.set_yticks(ys, names, fontsize=8)
    ax.set_xlim(0, 1.0)
    ax.set_title("false_answer_rate and over_refusal_rate: lower is better", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def latency_histogram(latencies: list[float]) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 2.6))
    ax = fig.add_subplot()
    if latencies:
        ax.hist(latencies, bins=min(30, max(5, len(latencies) // 3)), color="#3b6ea8")
        for q, style in ((50, "--"), (95, ":")):
            import numpy as np

            v = float(np.percentile(latencies, q))
            ax.axvline(v, color="#c0392b", linestyle=style, label=f"p{q} {v:.3f}s")
        ax.legend(fontsize=8)
    ax.set_xlabel("seconds per question", fontsize=8)
    ax.set_ylabel("questions", fontsize=8)
    return _png(fig)


# --------------------------------------------------------------------------- html

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1,h2,h3{line-height:1.2} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1e7b34}.fail{color:#b3261e;font-weight:600}.muted{color:#777}
.q{border:1px solid #e3e3e3;border-left:4px solid #b3261e;border-radius:4px;padding:.6em 1em;margin:1em 0}
.q.ok{border-left-color:#1e7b34}
blockquote{margin:.4em 0;padding:.4em .8em;background:#f6f6f6;white-space:pre-wrap}
code{background:#f1f1f1;padding:0 .25em;border-radius:3px}
img{max-width:100%}
"""


def _e(value: Any) -> str:
    return _html.escape(str(value), quote=True)


def html(run: "EvalRun") -> str:
    m, t = run.manifest, run.totals
    base = (run.baseline or {}).get("totals") or {}
    passed = sum(r["pass"] for r in run.rows)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Eval report: {passed}/{len(run.rows)} passed</title><style>{_CSS}</style></head><body>",
        f"<h1>Eval report: {passed} of {len(run.rows)} questions passed</h1>",
        "<ul>",
        f"<li>gold <code>{_e(m['gold']['path'])}</code> ({m['gold']['records']} records, sha256 "
        f"<code>{_e(m['gold']['sha256'][:12])}</code>)</li>",
        f"<li>commit <code>{_e(m['git_commit'] or 'unknown')}</code>; answerer {_e(m['answer_mode'])} "
        f"({_e(', '.join(m['models']['answerer']))}); embedder {_e(m['models']['embedder'])}; k = {m['k']}</li>",
        f"<li>index <code>{_e(m['index'])}</code> ({m['documents']} documents); started {_e(m['started'])}, "
        f"{m['seconds']} s</li>",
    ]
    if run.gate:
        failed = [g for g in run.gate if not g["ok"]]
        parts.append(f"<li>gate: <span class='{'fail' if failed else 'pass'}'>{'FAILED' if failed else 'passed'}</span> "
                     + _e(", ".join(f"{g['metric']} = {fmt(g['actual'], g['metric'])} (needs {g['op']} {g['value']:g})"
                                    for g in failed)) + "</li>")
    parts += [f"<li class='fail'>warning: {_e(w)}</li>" for w in run.warnings]
    if run.errors:
        parts.append(f"<li class='fail'>ERROR: {run.errors} question(s) raised an exception</li>")
    parts.append("</ul>")

    parts.append("<h2>Totals</h2><table><tr><th>metric</th><th>value</th><th>n</th>"
                 + ("<th>baseline</th><th>change</th>" if base else "") + "</tr>")
    for name, value in t.items():
        parts.append(f"<tr><td>{_e(name)}</td><td class='n'>{_e(fmt(value, name))}</td>"
                     f"<td class='n'>{_e(run.summary['counts'].get(name, ''))}</td>"
                     + (f"<td class='n'>{_e(fmt(base.get(name), name))}</td><td>{_e(_delta(name, value, base.get(name)))}</td>"
                        if base else "") + "</tr>")
    parts.append("</table>")
    parts.append(f"<h2>Metrics{' vs baseline' if base else ''}</h2>"
                 f"<img alt='metric bars' src='data:image/png;base64,{metric_bars(t, base or None)}'>")
    latencies = [r["latency_s"] for r in run.rows if r.get("latency_s") is not None]
    parts.append("<h2>Latency</h2>"
                 f"<img alt='latency histogram' src='data:image/png;base64,{latency_histogram(latencies)}'>")

    c = run.summary["confusion"]
    parts.append("<h2>Abstention</h2><table><tr><th></th><th>answered</th><th>abstained</th></tr>"
                 f"<tr><th>answerable</th><td class='n'>{c['answerable_answered']}</td><td class='n'>{c['answerable_abstained']}</td></tr>"
                 f"<tr><th>unanswerable</th><td class='n'>{c['unanswerable_answered']}</td><td class='n'>{c['unanswerable_abstained']}</td></tr>"
                 f"</table><p>false-answer rate {_e(fmt(c['false_answer_rate']))}, over-refusal rate "
                 f"{_e(fmt(c['over_refusal_rate']))}</p>")

    parts.append("<h2>Per tag</h2><table><tr><th>tag</th><th>questions</th><th>pass rate</th><th>key-fact recall</th>"
                 "<th>abstained</th><th>over-refusal</th><th>false answers</th></tr>")
    for tag, v in sorted(run.tags.items(), key=lambda kv: (kv[1]["pass_rate"], kv[0])):
        parts.append(f"<tr><td>{_e(tag)}</td><td class='n'>{v['questions']}</td><td class='n'>{_e(fmt(v['pass_rate']))}</td>"
                     f"<td class='n'>{_e(fmt(v['key_fact_recall']))}</td><td class='n'>{_e(fmt(v['abstention_rate']))}</td>"
                     f"<td class='n'>{_e(fmt(v['over_refusal_rate']))}</td><td class='n'>{_e(fmt(v['false_answer_rate']))}</td></tr>")
    parts.append("</table>")

    if run.diff is not None:
        titles = {r["id"]: r["question"] for r in run.rows}
        parts.append(f"<h2>Changes against the baseline</h2><p>Baseline <code>{_e(run.baseline['path'])}</code></p>")
        for key, title, cls in (("pass_to_fail", "Pass → fail", "fail"), ("fail_to_pass", "Fail → pass", "pass")):
            ids = run.diff[key]
            parts.append(f"<h3 class='{cls}'>{title} ({len(ids)})</h3><ul>"
                         + "".join(f"<li><a href='#{_e(q)}'><code>{_e(q)}</code></a> {_e(titles.get(q, ''))}</li>" for q in ids)
                         + "</ul>")
        if run.diff["new"] or run.diff["missing"]:
            parts.append(f"<p>New: {_e(', '.join(run.diff['new']) or '-')}; missing: {_e(', '.join(run.diff['missing']) or '-')}</p>")

    failures = [r for r in run.rows if not r["pass"]]
    parts.append(f"<h2>Failures ({len(failures)})</h2>")
    parts += [_html_question(r) for r in failures]
    passes = [r for r in run.rows if r["pass"]]
    parts.append(f"<h2>Passed ({len(passes)})</h2>")
    parts += [_html_question(r) for r in passes]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_question(r: dict) -> str:
    m = r["metrics"]
    ok = r["pass"]
    out = [f"<div class='q{' ok' if ok else ''}' id='{_e(r['id'])}'>",
           f"<h3>{_e(r['id'])}: {_e(r['question'])} <span class='{'pass' if ok else 'fail'}'>{'pass' if ok else 'FAIL'}</span></h3>",
           f"<p class='muted'>tags: {_e(', '.join(r['tags']) or '-')}; answerable: {_e(fmt(r['answerable']))}; "
           f"abstained: {_e(fmt(m.get('abstained')))}; latency {_e(fmt(r.get('latency_s'), 'latency'))}</p>"]
    if r["reasons"]:
        out.append(f"<p class='fail'>{_e('; '.join(r['reasons']))}</p>")
    if r["key_facts"]:
        out.append("<p>expected facts: " + "; ".join(
            f"{_e(f)}" + (f" <span class='{'pass' if mark == 'found' else 'fail'}'>({mark})</span>" if mark else "")
            for f, mark in _facts(r["key_facts"], m.get("key_facts_found"))) + "</p>")
    if r.get("reference_answer"):
        out.append(f"<p class='muted'>reference: {_e(r['reference_answer'])}</p>")
    out.append(f"<blockquote>{_e(_answer_text(r))}</blockquote>")
    if r.get("answer") and r["answer"]["citations"]:
        out.append("<ul>")
        for c in r["answer"]["citations"]:
            p = c["passage"]
            flag = " <span class='fail'>(unverified)</span>" if not c["verified"] else ""
            out.append(f"<li>[{c['n']}] {_e(p['source'])}, chars {p['start']}-{p['end']}{flag}</li>")
        out.append("</ul>")
    out.append("</div>")
    return "\n".join(out)
