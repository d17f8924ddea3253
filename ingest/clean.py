"""Recognising page furniture (share widgets, comment forms, stray ids, duplicated alt text).

The patterns are common web furniture and capture artefacts (a "date YYYY-MM-DD" header line,
tag lists, photo credits), never the leftovers of one saved page: a word that only one file
happens to carry is indexed like any other text.

Photo captions are kept: in news pages they are often the only place a date or a meeting is
stated.

Nothing is deleted from the raw text: furniture paragraphs are simply not indexed, so citation
offsets still point into the text the user can open.
"""

from __future__ import annotations

import re

from ingest.text import paragraphs

_FURNITURE_LINES = re.compile(
    r"""^(
        leave\ a\ reply | add\ a\ comment | related:? | share(\ this)?:? |
        your\ email\ address\ will\ not\ be\ published.* | required\ fields\ are\ marked.* |
        (click\ to\ )?(share|tweet|print|email)(\ on\ \w+)?  | facebook | twitter | linkedin |
        advertisement | subscribe.* | sign\ up.* | read\ more.* | photo:.* |
        (•\s*)?\#[\w ]+ | date\s+\d{4}-\d{2}-\d{2}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_STRAY_ID = re.compile(r"^[A-Z0-9]{16,}$")


def _is_repeated_alt_text(line: str) -> bool:
    """An image's alt text captured twice in a row: 'X stands at a podium. X stands at a podium.'"""
    half = len(line) // 2
    first, second = line[:half].strip(), line[half:].strip()
    return len(first) > 20 and first == second


def is_furniture(line: str) -> bool:
    stripped = line.strip()
    return bool(
        _FURNITURE_LINES.match(stripped)
        or _STRAY_ID.match(stripped)
        or _is_repeated_alt_text(stripped)
    )


_DATE_PREFIX = re.compile(r"date\s+\d{4}-\d{2}-\d{2}\s+", re.IGNORECASE)


def content_paragraphs(raw: str) -> list[tuple[int, int]]:
    """Paragraph spans worth indexing: everything except furniture.

    A captured "date 2026-02-10 " prefix glued to the first paragraph is metadata, not prose.
    """
    kept = []
    for start, end in paragraphs(raw):
        if is_furniture(raw[start:end]):
            continue
        prefix = _DATE_PREFIX.match(raw, start, end)
        kept.append((prefix.end() if prefix else start, end))
    return kept
