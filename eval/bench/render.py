"""The benchmark's results as the plain-text report `briefing bench` prints."""

from __future__ import annotations

from typing import Any

import numpy as np


def _fmt(v: Any, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return f"{v:g}{unit}" if isinstance(v, (int, float)) else str(v)


def render(result: dict[str, Any]) -> str:
    m, e = result["machine"], result["embedding"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['os']}, Python {m['python']}, "
             f"chromadb {m['chromadb']} (load average at start {m['load_average_start']}, end {m.get('load_average_end')})",
             "", "Embedding throughput (all-MiniLM-L6-v2, real corpus):"]
    for name, label in (("numpy", "numpy embedder"), ("sentence_transformers", "sentence-transformers")):
        r = e.get(name, {})
        if "skipped" in r:
            lines.append(f"  {label:24s} skipped ({r['skipped']})")
        else:
            lines.append(f"  {label:24s} {r['chunk_texts']['per_s']:8.2f} chunks/s (chunk texts)  "
                         f"{r['sentences']['per_s']:8.2f} sentences/s  (model load {r['model_load_s']} s)")
    ing, re_ = result["ingest"], result["reingest_unchanged"]
    lines += ["", f"Ingest end to end: {ing['chunks']} chunks ({ing['distinct_sentences_embedded']} sentences embedded) "
              f"in {ing['seconds']} s = {ing['chunks_per_s']} chunks/s; ratio to raw chunk embedding "
              f"{ing['ratio_to_raw_chunk_embedding']}, to the model-only rate of its own work "
              f"({ing['model_only_chunks_per_s']} chunks/s) {ing['ratio_to_model_only']}",
              f"Re-ingest of the unchanged corpus: {re_['seconds'] * 1000:.1f} ms ({re_['chunks_written']} chunks written)"]
    q = result.get("quality")
    if q:
        lines += ["", f"Ranking quality on eval/gold.jsonl ({q['questions']} answerable questions, real corpus):",
                  f"  retrieve()          source hit@5 {q['briefing_retrieve']['source_hit@5']:.3f}   "
                  f"evidence hit@5 {q['briefing_retrieve']['evidence_hit@5']:.3f}",
                  f"  llama-index dense   source hit@5 {q['llama_index']['source_hit@5']:.3f}   "
                  f"evidence hit@5 {q['llama_index']['evidence_hit@5']:.3f}"]
    lines += ["", "Warm latency (ms, p50/p95) and peak memory per size (own process each):",
              f"  {'index':>22s} {'chunks':>7s} {'sentences':>9s} {'retrieve()':>14s} {'ask()':>14s} "
              f"{'llama-index':>14s} {'ratio':>6s} {'peak MB':>8s} {'cold s':>7s}"]
    for s in result["scales"]:
        lat = s.get("latency", {})
        label = s["label"]
        if "error" in lat or not lat:
            lines.append(f"  {label:>22s} {_fmt(s.get('chunks')):>7s}  {lat.get('error', 'not measured')[:200]}")
            continue
        cell = lambda k: f"{lat[k]['p50']:.1f}/{lat[k]['p95']:.1f}"  # noqa: E731
        lines.append(f"  {label:>22s} {lat['chunks']:>7d} {lat['sentence_rows']:>9d} {cell('retrieve'):>14s} "
                     f"{cell('ask'):>14s} {cell('llama_index_retrieve'):>14s} "
                     f"{lat['retrieve_vs_llama_index_p50']:>6.2f} {lat['peak_rss_mb']:>8.0f} "
                     f"{lat['first_retrieve_s']:>7.1f}")
    lines += ["", *[f"Note: {n}" for n in result["notes"]]]
    return "\n".join(lines)
