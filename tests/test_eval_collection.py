"""The collection questions' gate (eval/thresholds-collection), run as a user would, plus the
planted set's gold built from its manifest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from eval.collection import load_manifest, load_records, planted_records

ROOT = Path(__file__).resolve().parents[1]


def test_the_collection_gate_passes_on_both_sets(tmp_path):
    env = {**os.environ, "BRIEFING_DATA_DIR": str(tmp_path), "BRIEFING_ANSWER_MODE": "extractive",
           "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    done = subprocess.run([sys.executable, "-m", "eval.collection", "--thresholds", "eval/thresholds-collection"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "set bundled" in done.stdout and "set planted" in done.stdout


def test_planted_gold_counts_copies_and_asks_every_edit():
    records, manifest = load_records(), load_manifest()
    dates = {"asan-issue-brief-2025-43-japan-under-takaichi.txt": "2025-12-29",
             "planted-asan-issue-brief-2025-43-japan-under-takaichi.txt": "2026-01-19",
             "korea-herald-takaichi-supermajority-seoul.txt": "2026-02-10",
             "planted-korea-herald-takaichi-supermajority-seoul.txt": "2026-02-17",
             "tokuchi-nss-revision-japan-korea-partnership.txt": "2025-11-20",
             "planted-tokuchi-nss-revision-japan-korea-partnership.txt": "2025-12-04"}
    planted = planted_records(records, manifest, dates)
    russia = next(r for r in planted if r["id"] == "cov06")
    assert russia["documents"] == ["tokuchi-nss-revision-japan-korea-partnership.txt",
                                   "planted-tokuchi-nss-revision-japan-korea-partnership.txt"]
    spending = next(r for r in planted if r["id"] == "tl01")
    assert [dates[s] for s in spending["order"]] == sorted(dates[s] for s in spending["order"])
    assert sum(r["kind"] == "conflict" for r in planted) == len(manifest) == 26
