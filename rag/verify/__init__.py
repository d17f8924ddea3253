"""The support check, one stage with one entry: `Verifier(embedder).verify(text, passages)`.

Inside, in dependency order: `sentences` (an answer's sentences and the clauses each marker run
vouches for), `claims` (what a sentence states: numbers, names, negations), `rules` (the lexical
rules applied to a passage), `check` (one claim against one passage, and whole answers), and
`verifier` (the entry). `check`/`supports`/`support_score` judge a single sentence/passage pair,
which the eval also uses.
"""

from rag.verify.check import SUPPORT_THRESHOLD, SupportCheck, check, support_score, supports, verify_answer
from rag.verify.verifier import SpanMapper, Verification, Verifier

__all__ = ["SUPPORT_THRESHOLD", "SpanMapper", "SupportCheck", "Verification", "Verifier", "check",
           "support_score", "supports", "verify_answer"]
