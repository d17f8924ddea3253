"""An answer's text as the support check reads it: its sentences, the [n] citation markers that
close them, the clauses each run of markers vouches for, and admissions that state no claim
("The documents don't say.").
"""

from __future__ import annotations

import re

from rag.base.markers import MARKER_RUN, markers_in, strip_markers
from rag.base.text import split_sentences

_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])+")


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer (the shared splitter, line by line), each with the markers
    that close it: in "... in 2027. [2] Next ...", the "[2]" belongs to the first sentence."""
    out: list[str] = []
    for para in re.finditer(r"[^\n]+", text):
        line = para.group().strip().lstrip("-*•").strip()
        first = len(out)
        for start, end in split_sentences(line):
            sentence = line[start:end].strip()
            leading = _LEADING_MARKERS.match(sentence)
            if leading and len(out) > first:
                out[-1] += " " + leading.group().strip()
                sentence = sentence[leading.end():].strip()
            if sentence:
                out.append(sentence)
    return [s for s in out if strip_markers(s)]


_SILENT = re.compile(
    r"\b(the )?(documents|passages|sources|briefs|texts)( provided| given)? (do not|don't|does not|doesn't|never) "
    r"(say|state|mention|answer|specify|address|discuss|cover|give|provide|indicate)"
    r"|\b(the )?(documents|passages|sources) (are|is) silent",
    re.I,
)


def says_documents_silent(sentence: str) -> bool:
    """"The documents don't say." and its variants: an admission, not a claim to verify."""
    return bool(_SILENT.search(strip_markers(sentence)))


def is_no_claim(sentence: str) -> bool:
    """A sentence stating no fact of its own: nothing to verify."""
    plain = strip_markers(sentence)
    if says_documents_silent(plain) and not markers_in(sentence):
        return True
    return len(re.findall(r"\w+", plain)) < 3


def _drop_admission(clause: str) -> str:
    """"The documents don't say why, but X" -> "X": only the claim part is checked."""
    match = _SILENT.search(clause)
    if not match:
        return clause
    rest = re.search(r"(,|;|—|\bbut\b|\bhowever\b|\bthough\b)\s*(but\s+|however,?\s+)?", clause[match.end():])
    return clause[match.end() + rest.end():] if rest and len(clause[match.end() + rest.end():].split()) >= 3 else clause


def clauses(sentence: str) -> list[tuple[str, tuple[int, ...]]]:
    """(claim text, markers) for each run of markers: "A said X [1], while B said Y [2]." gives
    ("A said X", (1,)) and ("while B said Y", (2,)). A clause too short to check on its own
    (fewer than 5 words) is checked as the whole sentence instead; text after the last markers
    joins the last clause."""
    runs = list(MARKER_RUN.finditer(sentence))
    if not runs:
        return []
    out: list[tuple[str, tuple[int, ...]]] = []
    previous = 0
    for i, run in enumerate(runs):
        clause = sentence[previous:run.start()]
        if i == len(runs) - 1:
            tail = strip_markers(sentence[run.end():])
            if len(re.findall(r"\w+", tail)) >= 3:
                clause = clause + " " + tail
        if len(re.findall(r"\w+", strip_markers(clause))) < 5:
            clause = sentence
        out.append((_drop_admission(strip_markers(clause)).strip(" ,;:—–-"), tuple(markers_in(run.group()))))
        previous = run.end()
    return out
