"""The CI gate: the full eval on eval/gold.jsonl against the bundled corpus must meet the
floors in eval/thresholds (the same check as `briefing eval --thresholds eval/thresholds`)."""

from __future__ import annotations

import json
from pathlib import Path

from eval import cli

ROOT = Path(__file__).resolve().parents[1]


def test_bundled_corpus_meets_the_floors(settings, tmp_path, capsys):
    out = tmp_path / "eval"
    code = cli.main(["--gold", str(ROOT / "eval" / "gold.jsonl"), "--thresholds", str(ROOT / "eval" / "thresholds"),
                   "--out", str(out), "--no-progress"], settings=settings)
    printed = capsys.readouterr()
    assert code != 2, f"eval harness error:\n{printed.err[-3000:]}"
    results = json.loads((out / "results.json").read_text())
    missed = [f"{g['metric']} = {g['actual']} (needs {g['op']} {g['value']})"
              for g in results["gate"]["checks"] if not g["ok"]]
    assert code == 0 and not missed, (
        "answer quality fell below eval/thresholds:\n  " + "\n  ".join(missed)
        + f"\nfailing questions: {[q for q, v in results['questions'].items() if not v['pass']]}"
        + f"\nfull report: {out / 'report.md'}"
    )
    assert results["gate"]["checks"], "eval/thresholds has no floors"
