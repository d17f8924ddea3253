"""Sources differ: where sentences from different documents, all evidence for one question, give
different values for the same thing: a figure or count with the same unit, the date of the same
event, the holder of the same role, or opposite stances on the same subject and object.

    find_conflicts([Statement("a", "brief-1.txt", "The party won 316 seats."),
                    Statement("b", "brief-2.txt", "The party won 310 seats.")])
    -> [Disagreement(about="seats party won", keys=("a", "b"), values=("316 seats", "310 seats"))]

A false alarm costs more than a miss: telling a reader that the documents disagree when they do
not undermines the answer. So every test leans to "no disagreement":
- the same thing: the same unit, at least two context words in common, one of them an ordinary
  word (an event or an attribute, not only a name), and no describing word next to either value
  that the other lacks ("exports rose 5%" is not "imports rose 3%");
- the same entity and time: the sentences share a name (or neither names anything), do not each
  name something the other does not, carry no pronoun whose referent is untold ("It was
  released in May 1980"), no figures of different years, no "this year" from documents dated in
  different years, and do not differ in every value they share (the same frame for another
  season or election);
- agreement wins: a value agrees when the other side states it anywhere, rounds to it, holds
  it within the range it gives, or meets its hedge ("about 300", "more than 300" and 316).
Reading the sentences (figures, dates, names, roles, stance words) is `rag.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rag.facts import Sentence, Value, agree, interval

SAME_TOPIC = 0.25  # share of content words two sentences need in common to compare figures at all
SAME_CLAIM = 0.6  # ... to compare who holds a role, or a stance: nearly the same sentence
SAME_WORDS = 0.9  # ... to read a negation as a flip: the same words but for it ("not to feature X")


@dataclass(frozen=True)
class Statement:
    key: str  # the caller's id for the sentence; returned in results
    doc_id: str  # the document it comes from
    text: str  # one sentence
    date: str = ""  # the document's ISO date ("2025-12-29") or ""


@dataclass(frozen=True)
class Disagreement:
    about: str  # a short readable name of what the sides differ on ("seats won", "date signed")
    keys: tuple[str, ...]  # the sides' keys (2 or more), each from a different document
    values: tuple[str, ...]  # the differing value as written in each side, in the order of keys


def _agreed(v: Value, own: Sentence, other: Sentence) -> bool:
    """The other side states a value `v` agrees with, or, when `v` is its side's only value of
    that unit, a range holding it ("from 15 to 25 percent", "1910-45")."""
    same = [w for w in other.values if w.kind == v.kind and w.unit & v.unit]
    if any(agree(v, w) for w in same):
        return True
    mine = [w for w in own.values if w.kind == v.kind and w.unit & v.unit]
    bounds, own_bounds = [b for b in map(interval, same) if b], interval(v)
    if len(mine) == 1 and len(bounds) >= 2 and own_bounds:
        return min(b[0] for b in bounds) <= own_bounds[0] and own_bounds[1] <= max(b[1] for b in bounds)
    return False


def _same_thing(a: Value, b: Value, A: Sentence, B: Sentence) -> set[str]:
    """The context words two values share when they describe the same thing, else: at least two,
    one of them an ordinary word (an event or an attribute: "signed", "revenue"), since sharing
    only a name ("Tomb Raider in 1996" / "Tomb Raider between 2001 and 2007") says the same
    entity, not the same fact about it; and neither has a describing word of its own next to it
    ("exports rose 5%" / "imports rose 3%", "the remaining 173 km2" / "the total land area")."""
    shared = a.near & b.near
    if len(shared) < 2 or not shared & (A.lower | B.lower) or (a.close - b.near) or (b.close - a.near):
        return set()
    return shared


def _all_differ(A: Sentence, B: Sentence) -> bool:
    """Two or more values of one side have counterparts of the same unit on the other side and
    none of them agree: the sentences share a frame ("scored 327 points while the defense
    allowed 276") but report different occasions; an edit or a disagreement changes one value."""
    pairs = [(a, b) for a in A.values for b in B.values if a.kind == b.kind and a.unit & b.unit]
    sides = max(len({id(a) for a, _ in pairs}), len({id(b) for _, b in pairs}))
    return sides >= 2 and not any(agree(a, b) for a, b in pairs)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _differ(A: Sentence, B: Sentence, dates: tuple[str, str]) -> list[tuple[str, str, str]]:
    """What two sentences from different documents give different values for: (about, A's, B's)."""
    # The first word is a name when neither sentence writes it in lower case ("Apple", not "Revenue").
    names_a = A.names | ({A.initial} if A.initial and A.initial not in A.lower | B.lower else set())
    names_b = B.names | ({B.initial} if B.initial and B.initial not in A.lower | B.lower else set())
    if (names_a or names_b) and not names_a & names_b:
        return []  # no entity in common: "Apple reported ..." / "The company reported ..."
    years = {d[:4] for d in dates}
    if (A.relative_year or B.relative_year) and len(years) > 1 and "" not in years:
        return []  # "this year" in documents dated in different years means different years
    if A.pronoun or B.pronoun or _all_differ(A, B):
        return []
    crossed = bool(names_a - names_b and names_b - names_a)  # each names something the other does not
    overlap, found = _jaccard(A.bag, B.bag), []
    if overlap >= SAME_TOPIC and not crossed:
        for a in A.values:
            if a.kind == "qty" and A.years and B.years and not A.years & B.years:
                continue  # figures of different years
            for b in B.values:
                if b.kind == a.kind and a.unit & b.unit and not (a.scope or b.scope) \
                        and not _agreed(a, A, B) and not _agreed(b, B, A):
                    shared = _same_thing(a, b, A, B)
                    if shared:
                        found.append((f"{a.label} {A.words(shared, a.span)}".strip(), a.surface, b.surface))
                        break
    for ra in A.roles:
        for rb in B.roles:
            holders = ra.name | rb.name  # "Prime Minister X" / "Prime Minister Y": only the holder differs
            if ra.key == rb.key and not ra.name & rb.name and not ra.name <= B.names and not rb.name <= A.names \
                    and not ((names_a - holders) - names_b and (names_b - holders) - names_a) \
                    and _jaccard(A.bag - holders, B.bag - holders) >= SAME_CLAIM:
                found.append((ra.surface, ra.holder, rb.holder))
    if overlap >= SAME_CLAIM and not crossed:
        found += (_stances(A, B) or [(about, vb, va) for about, va, vb in _stances(B, A)])[:1]
    return list({about: (about, va, vb) for about, va, vb in found}.values())


def _stances(A: Sentence, B: Sentence) -> list[tuple[str, str, str]]:
    """A says one of an opposite pair where B says the other ("approved" / "rejected"), or A
    negates a word B asserts ("decision not to send" / "decision to send"), about the same words
    (each word's occurrences paired by the context they share)."""
    def best(hits_a, hits_b):
        return max((len(A.near(i) & B.near(j)), i, j) for i in hits_a for j in hits_b)

    out = []
    for (p, side), hits_a in A.poles.items():
        hits_b = B.poles.get((p, 1 - side))
        if hits_b and (p, 1 - side) not in A.poles and (p, side) not in B.poles:
            n, i, j = best(hits_a, hits_b)
            negated = any(s.is_negator(k) for s, at in ((A, i), (B, j)) for k in range(max(0, at - 3), at))
            if n >= 2 and not negated:  # "did not reject" is no opposite of "approved"
                out.append((f"stance on {A.words(A.near(i) & B.near(j), (i, i + 1))}", A.toks[i][0], B.toks[j][0]))
    if len(A.negated) > len(B.negated) and _jaccard(A.bag, B.bag) >= SAME_WORDS:
        for term, i in A.negated.items():
            hits_b = [j for j, t in enumerate(B.terms) if t == term]
            if hits_b and term not in B.negated:
                n, i, j = best([i], hits_b)
                if n >= 2:
                    k = max(k for k in range(max(0, i - 3), i) if A.is_negator(k))
                    shared = A.near(i) & B.near(j) | {term}
                    out.append((f"stance on {A.words(shared, (k, k + 1))}", A.span(k, i), B.toks[j][0]))
    return out


def find_conflicts(statements: Sequence[Statement]) -> list[Disagreement]:
    """Where two or more of `statements` (sentences that are evidence for one question), from
    different documents, give different values for the same thing; sentences of one document
    never disagree with each other. A side that states the same differing value as another side
    joins its disagreement (("a", "c", "b"), ("316 seats", "316 seats", "310 seats"))."""
    read = [Sentence(s.text) for s in statements]
    groups: list[tuple[str, dict[str, str], set[str]]] = []  # about, key -> value, documents
    for x, (st_a, A) in enumerate(zip(statements, read)):
        for st_b, B in zip(statements[x + 1:], read[x + 1:]):
            if st_a.doc_id == st_b.doc_id:
                continue
            for about, va, vb in _differ(A, B, (st_a.date, st_b.date)):
                group = next((g for g in groups if g[0] == about and (st_a.key in g[1] or st_b.key in g[1])), None)
                if group is None:
                    groups.append((about, {st_a.key: va, st_b.key: vb}, {st_a.doc_id, st_b.doc_id}))
                    continue
                for st, value in ((st_a, va), (st_b, vb)):
                    if st.key not in group[1] and st.doc_id not in group[2]:
                        group[1][st.key] = value
                        group[2].add(st.doc_id)
    return [Disagreement(about, tuple(sides), tuple(sides.values())) for about, sides, _ in groups]
