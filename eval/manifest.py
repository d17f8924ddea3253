"""The manifest of an eval run: when, which commit, gold file, index, models and settings."""

from __future__ import annotations

import datetime as _dt
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eval.judge import Judge

ROOT = Path(__file__).resolve().parents[1]


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
