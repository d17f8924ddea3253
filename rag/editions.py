"""Which edition of a recurring thing a question names, and whether the passages found are
about another one.

"The 1974 Texas Tech Raiders football team represented what university?" and "Who hosted the
16th Annual Young Hollywood Awards?" name one season, one ceremony. When that edition is
missing from the index (a broken chain), the nearest passage is often another edition's ("The
1986 Texas Tech Red Raiders football team…", "The 15th Annual Young Hollywood Awards…"): it
reads like an answer, but it is about a different thing. `other_edition` finds that case, so
the evidence stage abstains and says which edition the passages are about instead.

An edition is a year or an ordinal written right before a capitalised name; two editions
compare only within a kind (a year with a year, an ordinal with an ordinal), since "the 18th
Independent Spirit Awards" may well be "the 2002 Independent Spirit Awards". README "How it
works" gives the figures this was kept on.
"""

from __future__ import annotations

import re

# "1974 Texas", "16th Annual", "2014–15 Colorado": the edition, then the first word of the name.
_EDITION = re.compile(r"\b(\d{4}(?:[–-]\d{2,4})?|\d{1,3}(?:st|nd|rd|th))\s+([A-Z][\w'&.-]*)")


def _kind(edition: str) -> str:
    return "year" if edition[:4].isdigit() else "ordinal"


def _editions(text: str) -> list[tuple[str, str]]:
    return [(m.group(1).lower().replace("–", "-"), m.group(2)) for m in _EDITION.finditer(text)]


def other_edition(question: str, answer_text: str, passages_text: str) -> tuple[str, str] | None:
    """(the question's edition, the one the answer is about), e.g. ("1974 Texas", "1986 Texas"),
    when the answer's sentence names the question's thing with another edition of the same kind
    and the passages found never name the question's; otherwise None."""
    asked = _editions(question)
    if not asked:
        return None  # most questions name no edition: the passages need not be read
    found = set(_editions(passages_text))
    for edition, name in asked:
        if (edition, name) in found:
            continue
        others = [e for e, n in _editions(answer_text) if n == name and e != edition and _kind(e) == _kind(edition)]
        if others:
            return f"{edition} {name}", f"{others[0]} {name}"
    return None
