"""What a run leaves behind: the `EvalRun` it returns. Writing it to --out and printing its
summary is `eval.outputs`; rendering report.md / report.html is `eval.report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.errors import HarnessError


@dataclass
class EvalRun:
    out_dir: Path
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    tags: dict[str, dict[str, Any]]
    gate: list[dict[str, Any]] = field(default_factory=list)
    diff: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, Any]:
        return self.summary["totals"]

    @property
    def gate_failed(self) -> bool:
        return any(not g["ok"] for g in self.gate)

    @property
    def errors(self) -> int:
        return self.summary["errors"]

    @property
    def exit_code(self) -> int:
        """0 every floor met, 1 a floor was missed, 2 (HarnessError's) a question raised."""
        if self.errors:
            return HarnessError.exit_code
        return 1 if self.gate_failed else 0

