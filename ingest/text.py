"""Splitting raw document text into paragraphs and sentences, keeping character offsets.

Offsets always index into the raw text so that a citation can be shown in its document.
A hand-rolled splitter is used instead of llama-index's node parsers because those do not
report offsets for the furniture-free text we index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = {
    "u.s", "u.k", "u.n", "dr", "mr", "mrs", "ms", "prof", "gen", "lt", "col", "sen", "rep", "st",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "no", "vol", "fig", "e.g", "i.e", "etc", "vs", "inc", "ltd", "co", "jr", "sr", "a.m", "p.m",
    "m.a", "ph.d", "m.a.l.d", "b.a", "approx", "est", "dept", "gov", "adm",
}
_SENTENCE_END = re.compile(r"[.!?。]+[\"”’')\]]*(?=\s+|$)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"“‘'(\[]?[A-Z0-9\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af•\-]")
_WORD = re.compile(r"\w+", re.UNICODE)
_BULLET = re.compile(r"[•▪◦·*\-–]\s+")


@dataclass(frozen=True)
class Unit:
    """A sentence or a heading line, as `raw[start:end]`."""

    start: int
    end: int
    text: str
    paragraph: int
    is_heading: bool = False

    @property
    def words(self) -> int:
        return len(_WORD.findall(self.text))


def paragraphs(raw: str) -> list[tuple[int, int]]:
    """Non-blank lines as (start, end) with surrounding whitespace trimmed.

    Briefs captured from the web put one paragraph per line, so a line is the paragraph unit.
    """
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"[^\n]+", raw):
        start, end = match.span()
        line = raw[start:end]
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        span = (start + lead, start + lead + len(stripped))
        if spans and _continues(raw[spans[-1][0]:spans[-1][1]], stripped):
            spans[-1] = (spans[-1][0], span[1])  # a page break inside a sentence
        else:
            spans.append(span)
    return spans


def _continues(previous: str, line: str) -> bool:
    return line[:1].islower() and not re.search(r"[.!?:;\"”’)]$", previous) and len(previous.split()) > 8


def split_sentences(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within raw[start:end]."""
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for match in _SENTENCE_END.finditer(raw, start, end):
        stop = match.end()
        if stop >= end:
            break
        if not _NEXT_STARTS_SENTENCE.match(raw, stop, end):
            continue
        words = raw[sentence_start:match.start() + 1].split()
        token = words[-1].lower().rstrip(".").lstrip("\"“‘'([") if words else ""
        if match.group().startswith(".") and (
            token in _ABBREVIATIONS
            or re.fullmatch(r"[a-z]", token)
            or (len(words) == 1 and re.fullmatch(r"\d{1,2}|[ivx]{1,4}", token))  # "1. Heading ..."
        ):
            continue
        spans.append((sentence_start, stop))
        sentence_start = stop
        while sentence_start < end and raw[sentence_start].isspace():
            sentence_start += 1
    if sentence_start < end:
        spans.append((sentence_start, end))
    return [(s, e) for s, e in spans if raw[s:e].strip()]


def is_heading(text: str) -> bool:
    """A short line without closing punctuation: a section title or an interview question."""
    stripped = text.strip().lstrip("•-* ").strip()
    if stripped.endswith("?"):
        return True
    return len(_WORD.findall(stripped)) <= 14 and not re.search(r"[.!;\"”]$", stripped)


def units(raw: str, keep: list[tuple[int, int]] | None = None) -> list[Unit]:
    """Sentences and headings of the paragraphs in `keep` (default: all paragraphs)."""
    out: list[Unit] = []
    for index, (p_start, p_end) in enumerate(keep if keep is not None else paragraphs(raw)):
        bullet = _BULLET.match(raw, p_start, p_end)
        if bullet and bullet.end() < p_end:
            p_start = bullet.end()  # a list marker is layout, not part of the sentence quoted
        para = raw[p_start:p_end]
        if is_heading(para):
            out.append(Unit(p_start, p_end, para, index, is_heading=True))
            continue
        for s, e in split_sentences(raw, p_start, p_end):
            out.append(Unit(s, e, raw[s:e], index))
    return out


def word_tokens(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]
