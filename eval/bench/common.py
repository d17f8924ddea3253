"""What the benchmarks share: paths, the settings they open indexes with, the gold questions,
and logging to stderr (stdout carries the report, and a worker's JSON)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold.jsonl"
TOP_K = 8


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_settings(data_dir: Path, **extra):
    """Offline settings over `data_dir`: the bundled corpus, extractive answers, no LLM, no server."""
    from rag.base.settings import Settings

    return Settings(data_dir=data_dir, corpus=CORPUS, answer_mode="extractive", openai_api_key="",
                    openai_base_url="", chroma_host="", **extra)


def gold_questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
