"""Smoke test of the benchmark script: `python -m eval.bench --quick` runs end to end and writes
its JSON (real corpus + a ~1k-chunk synthetic index, built in a temporary cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick(tmp_path):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    env["BRIEFING_BENCH_CACHE"] = str(tmp_path / "cache")
    done = subprocess.run([sys.executable, "-m", "eval.bench", "--quick", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())

    numpy = result["embedding"]["numpy"]
    assert numpy["chunk_texts"]["per_s"] > 0 and numpy["sentences"]["per_s"] > 0
    ingest = result["ingest"]
    assert ingest["documents"] == 5 and ingest["chunks"] > 0 and ingest["chunks_per_s"] > 0
    assert ingest["ratio_to_raw_chunk_embedding"] > 0
    assert result["reingest_unchanged"]["chunks_written"] == 0
    for name in ("briefing_retrieve", "llama_index"):
        assert 0 <= result["quality"][name]["source_hit@5"] <= 1

    labels = [s["label"] for s in result["scales"]]
    assert labels == ["real corpus", "~1,000 synthetic"]
    for scale in result["scales"]:
        latency = scale["latency"]
        assert "error" not in latency, latency.get("error")
        for key in ("retrieve", "ask", "llama_index_retrieve"):
            assert 0 < latency[key]["p50"] <= latency[key]["p95"]
        assert latency["peak_rss_mb"] > 50
    synthetic = result["scales"][1]
    assert synthetic["complete"] and 1000 <= synthetic["chunks"] < 1200 and synthetic["vectors"] == "synthetic"
    assert any("synthetic" in note for note in result["notes"])
    assert "Warm latency" in done.stdout and "llama-index" in done.stdout

    # a second run reuses the cached 1k index
    again = subprocess.run([sys.executable, "-m", "eval.bench", "--quick", "--out", str(out)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(out.read_text())["scales"][1]["cached"] is True
