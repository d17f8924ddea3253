"""Raw document text as paragraphs and units (sentences and headings), keeping character offsets
into the raw text; sentences come from the shared splitter in `rag.base.text`.

Two layouts reach us: web captures with one paragraph per line, and hard-wrapped text (plain-text
reports, e-mails) whose lines are cut at a fixed width inside a paragraph. Wrapped lines are
joined back into their paragraph, so a sentence is never cut at a line end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.base.text import ends_sentence, split_sentences, word_count

_BULLET = re.compile(r"[•▪◦·*\-–]\s+")
# What opens a line of its own even in wrapped text: a list item, a numbered point, a Markdown heading.
# (Not "J. Smith": an initial opening a wrapped line is no list item.)
_OWN_LINE = re.compile(r"(?:[•▪◦·*\-–>]|\(?\d{1,3}[.)]|\([a-zA-Z]\)|[a-z][.)]|#+)\s")
# Text is wrapped at 60-130 columns; one-paragraph-per-line captures run to hundreds.
_WRAP_WIDTH = (40, 160)
# A wrapped line plus the word pushed on to the next one reaches this share of the width: less
# than all of it, as text wrapped in a proportional font (e-mail, PDF extraction) runs ragged.
_FULL_LINE = 0.6


@dataclass(frozen=True)
class Unit:
    """A sentence or a heading, as `raw[start:end]` verbatim (a wrapped one keeps its line breaks)."""

    start: int
    end: int
    text: str
    paragraph: int
    is_heading: bool = False

    @property
    def words(self) -> int:
        return word_count(self.text)


def paragraphs(raw: str) -> list[tuple[int, int]]:
    """Paragraphs as (start, end) with surrounding whitespace trimmed: each non-blank line, joined
    with the line before it when it continues that line's sentence across a page break or, in
    hard-wrapped text, across a wrap (see `wrap_width` and `_wrapped`)."""
    lines = line_spans(raw)
    width = wrap_width(raw, lines)
    spans: list[tuple[int, int]] = []
    for i, span in enumerate(lines):
        previous = lines[i - 1] if i else None
        line = raw[span[0]:span[1]]
        if spans and (
            _continues(raw[spans[-1][0]:spans[-1][1]], line)  # a page break inside a sentence
            or (width and _wrapped(raw, previous, span, width))
        ):
            spans[-1] = (spans[-1][0], span[1])
        else:
            spans.append(span)
    return spans


def line_spans(raw: str) -> list[tuple[int, int]]:
    """Non-blank lines as (start, end), surrounding whitespace trimmed."""
    spans = []
    for match in re.finditer(r"[^\n]+", raw):
        line = match.group()
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            spans.append((match.start() + lead, match.start() + lead + len(stripped)))
    return spans


def _column(raw: str, offset: int) -> int:
    return offset - raw.rfind("\n", 0, offset) - 1


def wrap_width(raw: str, lines: list[tuple[int, int]]) -> int:
    """The column the text is hard-wrapped at, or 0 when it is not wrapped.

    Wrapped text has most lines running close to one width (only a paragraph's last line, a
    heading or a list item falls short), so the width is the length nearly all lines stay within,
    and most lines followed directly by another line reach it.
    """
    if len(lines) < 2:
        return 0
    ends = [_column(raw, end) for _, end in lines]
    width = sorted(ends)[round(0.9 * (len(ends) - 1))]
    if not _WRAP_WIDTH[0] <= width <= _WRAP_WIDTH[1]:
        return 0
    followed = [col for col, (_, end), (start, _) in zip(ends, lines, lines[1:]) if raw.count("\n", end, start) == 1]
    full = [col for col in followed if col >= 0.75 * width]
    return width if followed and len(full) >= 0.6 * len(followed) else 0


def _wrapped(raw: str, previous: tuple[int, int], line: tuple[int, int], width: int) -> bool:
    """Whether `line` is the wrapped continuation of `previous`: no blank line between, `previous`
    long enough that its next word plausibly did not fit, `line` opens no list item or heading, and
    the sentence runs on (no stop closes `previous`, or `line` starts lower-case)."""
    if raw.count("\n", previous[1], line[0]) != 1 or _OWN_LINE.match(raw, line[0], line[1]):
        return False
    text = raw[line[0]:line[1]]
    if _column(raw, previous[1]) + 1 + len(text.split()[0]) < _FULL_LINE * width:
        return False
    return text[:1].islower() or not ends_sentence(raw[previous[0]:previous[1]])


def _continues(previous: str, line: str) -> bool:
    return line[:1].islower() and not re.search(r"[.!?:;\"”’)]$", previous) and len(previous.split()) > 8


def is_heading(text: str) -> bool:
    """A short line without closing punctuation: a section title or an interview question."""
    stripped = text.strip().lstrip("•-* ").strip()
    if stripped.endswith(("?", "？")):
        return True
    return word_count(stripped) <= 14 and not re.search(r"[.!;\"”。！」』]$", stripped)


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
