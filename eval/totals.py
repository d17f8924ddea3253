"""Totals of an eval run over its per-question metric dicts (`eval.metrics.score_answer`):
means over the questions a metric applies to, the abstention confusion matrix, latency
percentiles, and the same per gold tag. Pure and deterministic, like `eval.metrics`."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

# --------------------------------------------------------------------------- abstention


def confusion(outcomes: Iterable[tuple[bool, bool]]) -> dict[str, Any]:
    """Confusion matrix of (answerable, abstained) pairs with the two error rates:
    false-answer rate = unanswerable questions answered / unanswerable questions;
    over-refusal rate = answerable questions abstained on / answerable questions."""
    counts = Counter((bool(a), bool(b)) for a, b in outcomes)
    m = {
        "answerable_answered": counts[(True, False)],
        "answerable_abstained": counts[(True, True)],
        "unanswerable_answered": counts[(False, False)],
        "unanswerable_abstained": counts[(False, True)],
    }
    answerable = m["answerable_answered"] + m["answerable_abstained"]
    unanswerable = m["unanswerable_answered"] + m["unanswerable_abstained"]
    total = answerable + unanswerable
    m["false_answer_rate"] = m["unanswerable_answered"] / unanswerable if unanswerable else None
    m["over_refusal_rate"] = m["answerable_abstained"] / answerable if answerable else None
    m["abstention_accuracy"] = (m["answerable_answered"] + m["unanswerable_abstained"]) / total if total else None
    return m


# --------------------------------------------------------------------------- aggregation


def mean(values: Iterable[float | None]) -> float | None:
    """Mean over the values that are not None (None when there are none)."""
    kept = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    values = [float(v) for v in values if v is not None]
    return float(np.percentile(values, q)) if values else None


TOTAL_METRICS = (
    # name in the totals (@k becomes @<k>), key in the per-question metrics
    ("hit@k", "hit@k"),
    ("recall@k", "recall@k"),
    ("mrr", "rr"),
    ("evidence_hit@k", "evidence_hit@k"),
    ("key_fact_recall", "key_fact_recall"),
    ("token_f1", "token_f1"),
    ("semantic_similarity", "semantic_similarity"),
    ("citation_validity", "citation_validity"),
    ("citation_precision", "citation_precision"),
    ("citation_recall", "citation_recall"),
    ("answer_has_fact", "answer_has_fact"),
    ("plausible_answer_rate", "plausible_repeated"),
)


def aggregate(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """Totals over per-question metric dicts (each with "metrics", "pass", "latency_s").
    Metric names carry k (`hit@5`); `counts` says how many questions each average is over."""
    ok_rows = [r for r in rows if not r["metrics"].get("error")]
    totals: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for name, key in TOTAL_METRICS:
        values = [r["metrics"].get(key) for r in ok_rows]
        label = name.replace("@k", f"@{k}")
        totals[label] = mean(values)
        counts[label] = sum(v is not None for v in values)
    matrix = confusion((r["metrics"]["answerable"], r["metrics"]["abstained"]) for r in ok_rows)
    totals["false_answer_rate"] = matrix["false_answer_rate"]
    totals["over_refusal_rate"] = matrix["over_refusal_rate"]
    totals["abstention_accuracy"] = matrix["abstention_accuracy"]
    totals["pass_rate"] = sum(bool(r["pass"]) for r in rows) / len(rows) if rows else None
    latencies = [r["latency_s"] for r in ok_rows if r.get("latency_s") is not None]
    totals["latency_p50"] = percentile(latencies, 50)
    totals["latency_p95"] = percentile(latencies, 95)
    counts.update({
        "false_answer_rate": matrix["unanswerable_answered"] + matrix["unanswerable_abstained"],
        "over_refusal_rate": matrix["answerable_answered"] + matrix["answerable_abstained"],
        "abstention_accuracy": len(ok_rows), "pass_rate": len(rows),
        "latency_p50": len(latencies), "latency_p95": len(latencies),
    })
    return {"totals": totals, "counts": counts, "confusion": matrix,
            "questions": len(rows), "errors": len(rows) - len(ok_rows)}


def per_tag(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per gold tag: question count, pass rate, key-fact recall (answered answerable questions),
    abstention rate and the two abstention error rates."""
    tags = sorted({t for r in rows for t in r.get("tags", [])})
    out = {}
    for tag in tags:
        group = [r for r in rows if tag in r.get("tags", [])]
        ok = [r for r in group if not r["metrics"].get("error")]
        matrix = confusion((r["metrics"]["answerable"], r["metrics"]["abstained"]) for r in ok)
        out[tag] = {
            "questions": len(group),
            "pass_rate": sum(bool(r["pass"]) for r in group) / len(group),
            "key_fact_recall": mean(r["metrics"].get("key_fact_recall") for r in ok),
            "abstention_rate": sum(r["metrics"]["abstained"] for r in ok) / len(ok) if ok else None,
            "over_refusal_rate": matrix["over_refusal_rate"],
            "false_answer_rate": matrix["false_answer_rate"],
        }
    return out


# Metrics where lower is better (a gate on them is a ceiling, `metric <= value`).
LOWER_IS_BETTER = {"false_answer_rate", "plausible_answer_rate", "over_refusal_rate", "latency_p50", "latency_p95"}
