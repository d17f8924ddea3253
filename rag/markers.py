"""An answer's text as the support check reads it: its sentences, the [n] citation markers that
close them, the clauses each run of markers vouches for, and admissions that state no claim
("The documents don't say.").
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")
_MARKER_RUN = re.compile(r"(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])+")


def markers_in(sentence: str) -> list[int]:
    """[2], [1, 3], [1][2], [2-4] -> the marker numbers, in order of appearance."""
    out: list[int] = []
    for group in _MARKER.findall(sentence):
        for part in re.split(r"\s*[,;]\s*", group):
            if re.fullmatch(r"\d+\s*[–-]\s*\d+", part):
                a, b = (int(x) for x in re.split(r"\s*[–-]\s*", part))
                out += list(range(a, b + 1)) if 0 < b - a < 10 else [a, b]
            elif part.strip().isdigit():
                out.append(int(part))
    return list(dict.fromkeys(out))


_LOOSE_MARKER = re.compile(r"\[(?:passages?|sources?|doc(?:ument)?s?)?\s*#?\s*(\d+(?:\s*(?:[,;–-]|and)\s*#?\d+)*)\]", re.I)


def normalise_markers(text: str) -> str:
    """"[Passage 2]", "[1, 3]", "[2-4]" -> "[2]", "[1][3]", "[2][3][4]": one number per bracket."""
    def one_per_bracket(match: re.Match) -> str:
        numbers = markers_in("[" + re.sub(r"\s*and\s*", ",", match.group(1).replace("#", "")) + "]")
        return "".join(f"[{n}]" for n in numbers) or match.group()

    return _LOOSE_MARKER.sub(one_per_bracket, text)


def strip_markers(sentence: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", _MARKER.sub("", sentence))).strip()


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer, each with the markers that close it."""
    out: list[str] = []
    for para in re.finditer(r"[^\n]+", text):
        line = para.group().strip().lstrip("-*•").strip()
        if not line:
            continue
        start = 0
        for match in re.finditer(r"[.!?][\"”’')]*((?:\s*\[[\d,;\s–-]+\])*)(?=\s+[\"“‘'(\[]?[A-Z0-9])", line):
            # no split after abbreviations such as "U.S." or "Jan." (the next word would be part of it)
            word = line[:match.start() + 1].split()[-1].lower() if line[:match.start() + 1].split() else ""
            if match.group().startswith(".") and (word.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"(\w\.)+", word)):
                continue
            out.append(line[start:match.end()].strip())
            start = match.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return [s for s in out if strip_markers(s)]


_ABBREVIATIONS = {"u.s", "u.k", "u.n", "dr", "mr", "mrs", "ms", "prof", "gen", "st", "jan", "feb", "mar", "apr",
                  "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "vol", "e.g", "i.e", "vs", "etc"}

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
    runs = list(_MARKER_RUN.finditer(sentence))
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
