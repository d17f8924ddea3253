"""The one parser of `[n]` citation markers, used by the answerers, the support check, the UI and
the eval: `[2]`, `[1, 3]`, `[1][2]`, `[2-4]` and loose forms such as `[Passage 2]`.
"""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")
MARKER_RUN = re.compile(r"(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])+")


def markers_in(sentence: str) -> list[int]:
    """[2], [1, 3], [1][2], [2-4] -> the marker numbers, in order of appearance."""
    out: list[int] = []
    for group in MARKER.findall(sentence):
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
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", MARKER.sub("", sentence))).strip()


def marker_runs(text: str) -> list[re.Match]:
    """Each run of adjacent markers ("[1][3]", " [2, 4]") as a match, in order."""
    return list(MARKER_RUN.finditer(text))
