"""Warm `retrieve()` / `ask()` latency (p50/p95) and the llama-index retriever's, with peak memory,
measured in a worker process of its own per index size (so peak memory is that size's)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eval.bench.common import ROOT, bench_settings, gold_questions
from eval.bench.machine import peak_rss_mb
from eval.bench.ranking import LlamaBaseline


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50": round(_pct(ms, 0.5), 2), "p95": round(_pct(ms, 0.95), 2), "mean": round(statistics.fmean(ms), 2),
            "n": len(ms)}


def latency_worker(index: Path, queries: int) -> dict[str, Any]:
    """Runs in its own process: warm retrieve()/ask()/llama-index latency and peak memory."""
    from rag.pipeline import Briefing

    questions = [q["question"] for q in gold_questions()]
    picked = [questions[i % len(questions)] for i in range(queries)]
    briefing = Briefing(bench_settings(index))
    started = time.perf_counter()
    briefing.retrieve(picked[0])  # loads model, opens the index, builds BM25
    first_s = time.perf_counter() - started
    for q in picked[:3]:
        briefing.ask(q)
    baseline = LlamaBaseline(briefing.store, briefing.embedder)
    for q in picked[:3]:
        baseline.retrieve(q)
    calls = {"retrieve": briefing.retrieve, "ask": briefing.ask, "llama_index_retrieve": baseline.retrieve}
    timings: dict[str, list[float]] = {name: [] for name in calls}
    load_start = os.getloadavg()[0]
    for i, q in enumerate(picked):
        # Interleaved, in rotating order: a burst of load from other processes hits all three alike.
        names = list(calls)
        for name in names[i % 3:] + names[: i % 3]:
            t = time.perf_counter()
            calls[name](q)
            timings[name].append(time.perf_counter() - t)
    out = {name: _summary_ms(values) for name, values in timings.items()}
    out["retrieve_vs_llama_index_p50"] = round(out["retrieve"]["p50"] / out["llama_index_retrieve"]["p50"], 2)
    out["first_retrieve_s"] = round(first_s, 3)
    out["chunks"] = briefing.store.count()
    out["sentence_rows"] = briefing.store.sentences.count()
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out["load_average_1m"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    return out


def run_worker(index: Path, queries: int) -> dict[str, Any]:
    """`latency_worker` in a fresh process (`python -m eval.bench --worker INDEX`)."""
    cmd = [sys.executable, "-m", "eval.bench", "--worker", str(index), "--queries", str(queries)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])
