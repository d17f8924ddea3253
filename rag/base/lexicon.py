"""Word lists kept as data files in `rag/base/lexicons/` (one place to read, review and cite).

A lexicon file holds whitespace-separated entries (`load_words`) or one phrase per line
(`load_lines`); `#` starts a comment. Pair files
(`a -> b` per line) are read by `load_pairs`, grouped files (`group: words` per line) by
`load_groups`.
"""

from __future__ import annotations

import functools
from pathlib import Path

LEXICONS = Path(__file__).with_name("lexicons")


def _lines(name: str) -> list[str]:
    text = (LEXICONS / name).read_text(encoding="utf-8")
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


@functools.lru_cache(maxsize=None)
def load_lines(name: str) -> tuple[str, ...]:
    """Each non-comment line whole (for files of phrases or patterns, one per line)."""
    return tuple(_lines(name))


@functools.lru_cache(maxsize=None)
def load_words(name: str) -> frozenset[str]:
    """All whitespace-separated entries of a lexicon file."""
    return frozenset(word for line in _lines(name) for word in line.split())


@functools.lru_cache(maxsize=None)
def load_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """`left -> right` lines (either side may contain spaces), in file order."""
    pairs = []
    for line in _lines(name):
        left, sep, right = line.partition("->")
        if not sep:
            raise ValueError(f"{LEXICONS / name}: a line without '->': {line!r}")
        pairs.append((left.strip(), right.strip()))
    return tuple(pairs)


@functools.lru_cache(maxsize=None)
def load_groups(name: str) -> dict[str, frozenset[str]]:
    """`group: word word ...` lines -> {group: its words}; a group may span several lines."""
    groups: dict[str, set[str]] = {}
    for line in _lines(name):
        group, sep, words = line.partition(":")
        if not sep or not group.strip() or " " in group.strip():
            raise ValueError(f"{LEXICONS / name}: a line without 'group:': {line!r}")
        groups.setdefault(group.strip(), set()).update(words.split())
    return {group: frozenset(words) for group, words in groups.items()}
