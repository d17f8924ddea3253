"""The gold Q&A file: parsing and checking it, and checking its evidence quotes against the index.
The format is described in `briefing eval --help` (`eval.cli.HELP_EPILOG`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from eval import metrics as M
from eval.errors import HarnessError

_REQUIRED = {"id": str, "question": str, "answerable": bool}
_OPTIONAL = {"reference_answer": str, "key_facts": list, "sources": list, "evidence": list, "tags": list,
             "plausible_answers": list, "verdict": str, "options": list}
_VERDICTS = ("yes", "no")


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
        if "verdict" in rec and rec["verdict"] not in _VERDICTS:
            problems.append(f"{where}: `verdict` must be \"yes\" or \"no\", got {rec['verdict']!r}")
        for key in ("sources", "evidence", "tags", "plausible_answers", "options"):
            if not all(isinstance(v, str) for v in rec.get(key, [])):
                problems.append(f"{where}: `{key}` must be a list of strings")
        if rec["id"] in seen:
            problems.append(f"{where}: duplicate id {rec['id']!r}")
        seen.add(rec["id"])
        records.append({
            "id": rec["id"], "question": rec["question"], "answerable": rec["answerable"],
            "reference_answer": rec.get("reference_answer", ""), "key_facts": facts,
            "sources": list(rec.get("sources", [])), "evidence": list(rec.get("evidence", [])),
            "tags": list(rec.get("tags", [])), "plausible_answers": list(rec.get("plausible_answers", [])),
            "verdict": rec.get("verdict"), "options": list(rec.get("options", [])),
        })
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise HarnessError(f"bad gold file {path}:\n  {shown}")
    if not records:
        raise HarnessError(f"gold file {path} has no records")
    return records, digest


def evidence_not_in_sources(records, documents, store) -> list[str]:
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
