"""Sanity checks for the hand-written evaluation data in eval/.

No network, no heavy imports: only the standard library and pytest.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold.jsonl"
PAIRS = ROOT / "eval" / "support_pairs.jsonl"

TAGS = {
    "factoid",
    "multi-document",
    "paraphrased",
    "dates-numbers",
    "unanswerable",
    "who",
    "why",
    "definition",
}
UNSUPPORTED_KINDS = {"wrong-number", "wrong-entity", "unrelated", "negation", "overclaim"}

GOLD_KEYS = {
    "id": str,
    "question": str,
    "answerable": bool,
    "reference_answer": str,
    "key_facts": list,
    "sources": list,
    "evidence": list,
    "tags": list,
}
PAIR_KEYS = {
    "id": str,
    "sentence": str,
    "passage": str,
    "source": str,
    "supported": bool,
    "kind": str,
}


def _load(path: Path) -> list[dict]:
    records = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:  # pragma: no cover - failure path
                pytest.fail(f"{path.name}:{lineno}: invalid JSON: {exc}")
            assert isinstance(obj, dict), f"{path.name}:{lineno}: not a JSON object"
            records.append(obj)
    return records


def _corpus_text(name: str) -> str:
    path = CORPUS / name
    assert path.is_file(), f"source file not in corpus/: {name!r}"
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    return _load(GOLD)


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return _load(PAIRS)


def _check_keys(rec: dict, spec: dict) -> None:
    rid = rec.get("id", "?")
    missing = set(spec) - set(rec)
    assert not missing, f"{rid}: missing keys {sorted(missing)}"
    for key, typ in spec.items():
        assert isinstance(rec[key], typ), f"{rid}: {key} should be {typ.__name__}"
        if typ is str and key != "reference_answer":
            assert rec[key].strip(), f"{rid}: {key} is empty"


# ---------------------------------------------------------------- gold.jsonl


def test_gold_parses_and_has_enough_records(gold):
    assert len(gold) >= 40


def test_gold_schema(gold):
    for rec in gold:
        _check_keys(rec, GOLD_KEYS)
        rid = rec["id"]
        assert rec["reference_answer"].strip(), f"{rid}: empty reference_answer"
        assert rec["tags"], f"{rid}: no tags"
        assert all(isinstance(t, str) for t in rec["tags"]), rid
        unknown = set(rec["tags"]) - TAGS
        assert not unknown, f"{rid}: unknown tags {sorted(unknown)}"
        assert len(rec["tags"]) == len(set(rec["tags"])), f"{rid}: duplicate tags"
        for fact in rec["key_facts"]:
            assert isinstance(fact, list) and fact, f"{rid}: key fact must be a non-empty list"
            assert all(isinstance(a, str) and a.strip() for a in fact), f"{rid}: bad alias in {fact}"
        assert all(isinstance(s, str) for s in rec["sources"]), rid
        assert all(isinstance(e, str) and e.strip() for e in rec["evidence"]), rid


def test_gold_ids_unique(gold):
    dupes = [i for i, n in Counter(r["id"] for r in gold).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_gold_counts(gold):
    unanswerable = [r for r in gold if not r["answerable"]]
    assert len(unanswerable) >= 8
    hard = [r for r in gold if {"multi-document", "paraphrased"} & set(r["tags"])]
    assert len(hard) >= 8


def test_gold_answerable_consistency(gold):
    for rec in gold:
        rid = rec["id"]
        if rec["answerable"]:
            assert len(rec["key_facts"]) >= 1, f"{rid}: answerable but no key facts"
            assert len(rec["sources"]) >= 1, f"{rid}: answerable but no sources"
            assert len(rec["evidence"]) >= 1, f"{rid}: answerable but no evidence"
            assert "unanswerable" not in rec["tags"], f"{rid}: answerable but tagged unanswerable"
        else:
            assert rec["key_facts"] == [], f"{rid}: unanswerable but has key facts"
            assert rec["sources"] == [], f"{rid}: unanswerable but has sources"
            assert rec["evidence"] == [], f"{rid}: unanswerable but has evidence"
            assert "unanswerable" in rec["tags"], f"{rid}: unanswerable but not tagged so"


def test_gold_sources_exist(gold):
    for rec in gold:
        for src in rec["sources"]:
            assert (CORPUS / src).is_file(), f"{rec['id']}: unknown source {src!r}"


def test_gold_evidence_verbatim(gold):
    texts: dict[str, str] = {}
    for rec in gold:
        for quote in rec["evidence"]:
            found = False
            for src in rec["sources"]:
                if src not in texts:
                    texts[src] = _corpus_text(src)
                if quote in texts[src]:
                    found = True
                    break
            assert found, f"{rec['id']}: evidence not verbatim in {rec['sources']}: {quote!r}"


# ------------------------------------------------------- support_pairs.jsonl


def test_pairs_parse_and_count(pairs):
    assert len(pairs) >= 40
    labels = {p["supported"] for p in pairs}
    assert labels == {True, False}, "both supported and unsupported pairs are needed"


def test_pairs_schema(pairs):
    for rec in pairs:
        _check_keys(rec, PAIR_KEYS)
        if not rec["supported"]:
            assert rec["kind"] in UNSUPPORTED_KINDS, f"{rec['id']}: unknown kind {rec['kind']!r}"
    dupes = [i for i, n in Counter(p["id"] for p in pairs).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_pairs_passage_verbatim(pairs):
    texts: dict[str, str] = {}
    for rec in pairs:
        src = rec["source"]
        if src not in texts:
            texts[src] = _corpus_text(src)
        assert rec["passage"] in texts[src], f"{rec['id']}: passage not verbatim in {src}"
