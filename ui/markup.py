"""HTML building blocks shared by the chat and the sources panel.

Safety rule: every string that comes from a document, a file name or a user goes through `esc()`
before it is placed in HTML. Markup is only ever produced by the `ui` rendering modules, from
fixed templates.
"""

from __future__ import annotations

import html
from typing import Iterable


def esc(text: object) -> str:
    """HTML-escape anything (quotes included) so it can only ever show as text."""
    return html.escape("" if text is None else str(text), quote=True)


def anchor_id(turn: int, n: int) -> str:
    """DOM id of citation `n` of answer number `turn` in the sources panel."""
    return f"src-{int(turn)}-{int(n)}"


def merge_ranges(ranges: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Clip to [0, length), drop empty ranges, merge overlapping/touching ones, sorted."""
    clipped = sorted((max(0, a), min(length, b)) for a, b in ranges)
    merged: list[tuple[int, int]] = []
    for a, b in clipped:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
