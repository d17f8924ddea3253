"""Comparing a run with an earlier one (--baseline): which questions went pass->fail and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.errors import HarnessError


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
