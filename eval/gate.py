"""The gate: floors and ceilings on the totals (--fail-under, --fail-over, a thresholds file)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from eval.errors import HarnessError


@dataclass
class Floor:
    metric: str
    op: str  # ">=" or "<="
    value: float
    origin: str = ""

    def check(self, actual: float | None) -> bool:
        if actual is None:
            return False
        return actual >= self.value if self.op == ">=" else actual <= self.value


def parse_floor(spec: str, op: str = ">=", origin: str = "--fail-under") -> Floor:
    name, sep, value = spec.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return Floor(name.strip(), op, float(value), origin)
    except ValueError:
        raise HarnessError(f"{origin}: expected metric=value, got {spec!r}") from None


def load_thresholds(path: Path) -> list[Floor]:
    """`metric >= value` / `metric <= value` lines; `#` comments; blank lines ignored."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"thresholds file not found: {path}")
    floors = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([\w@.\-]+)\s*(>=|<=)\s*([-+0-9.eE]+)", line)
        if not m:
            raise HarnessError(f"{path}:{lineno}: expected `metric >= value` or `metric <= value`, got {line!r}")
        try:
            floors.append(Floor(m.group(1), m.group(2), float(m.group(3)), f"{path.name}:{lineno}"))
        except ValueError:
            raise HarnessError(f"{path}:{lineno}: bad number {m.group(3)!r}") from None
    return floors


def check_gate(floors: Sequence[Floor], totals: dict[str, Any]) -> list[dict[str, Any]]:
    unknown = [f for f in floors if f.metric not in totals]
    if unknown:
        names = ", ".join(sorted(totals))
        bad = ", ".join(f"{f.metric} ({f.origin})" for f in unknown)
        raise HarnessError(f"unknown metric(s) in the gate: {bad}. Known: {names}")
    return [{"metric": f.metric, "op": f.op, "value": f.value, "actual": totals[f.metric],
             "ok": f.check(totals[f.metric]), "origin": f.origin} for f in floors]
