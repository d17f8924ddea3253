"""Turning a follow-up ("and what did China say about it?") into a standalone question.

Only the standalone question goes on to retrieval and to the answer prompt: the conversation
itself is never shown to the answerer, so an earlier answer cannot stand in for evidence.

With an LLM configured (answer mode "llm"), the model rewrites the question (prompt:
rag/prompts/condense.txt; one short request, no retries). Otherwise, or when that request fails,
an offline rule applies: a question that leans on the conversation (a pronoun such as it/they/
that, an opening such as "and ..." / "what about ...", or almost no content words of its own)
gets the key terms of the previous question(s) appended in parentheses.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from rag.base.errors import LLMError
from rag.base.lexicon import load_words
from rag.base.markers import strip_markers
from rag.base.text import STOPWORDS

from rag.chat import ChatClient
from rag.prompts import fill, load_prompt

HISTORY_TURNS = 3  # most recent exchanges shown to the model
ANSWER_CHARS = 400  # of each earlier answer shown to the model (enough to resolve "she", "that plan")
CONDENSE_TIMEOUT_CAP = 10.0
CONDENSE_MAX_TOKENS = 120
MAX_CONTEXT_TERMS = 8

_ANAPHORA = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers|there|"
    r"the same|such|former|latter|the above|the other)\b", re.I)
_CONTINUATION = re.compile(
    r"^\s*(and|but|also|so|then|or|what about|how about|what else|why( not)?\??$|how so|same for|and what|anything else)\b",
    re.I)
_QUESTION_WORDS = load_words("question_words.txt")


def normalize_history(history: Iterable[Any] | None) -> list[tuple[str, str]]:
    """(role, text) turns from [(user, assistant), ...] pairs or [{"role", "content"}, ...] dicts."""
    turns: list[tuple[str, str]] = []
    for item in history or []:
        if isinstance(item, dict):
            role = str(item.get("role") or "")
            text = _text(item.get("content"))
            if role in ("user", "assistant") and text:
                turns.append((role, text))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            user, assistant = (_text(x) for x in item)
            if user:
                turns.append(("user", user))
            if assistant:
                turns.append(("assistant", assistant))
    return turns


def _text(content: Any) -> str:
    """Plain text of a message's content (str, or a list of {"type": "text", "text": ...} parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return " ".join(content.split())
    if isinstance(content, dict):
        return _text(content.get("text") or content.get("content"))
    if isinstance(content, (list, tuple)):
        return " ".join(t for t in (_text(part) for part in content) if t)
    return ""


def needs_context(question: str) -> bool:
    """Does the question lean on the conversation (pronoun, continuation, or almost no content)?"""
    own = _key_terms(question)
    return bool(_ANAPHORA.search(question) or _CONTINUATION.search(question) or len(own) < 2)


def _key_terms(text: str) -> list[str]:
    words = re.findall(r"[\w’'-]+", text)
    out: list[str] = []
    for word in words:
        plain = word.strip("'’-")
        low = plain.lower()
        if len(plain) < 2 and not plain.isdigit():
            continue
        if low in STOPWORDS or low in _QUESTION_WORDS or _ANAPHORA.fullmatch(low):
            continue
        if low.endswith(("'s", "’s")):
            plain = plain[:-2]
        if plain.lower() not in (o.lower() for o in out):
            out.append(plain)
    return out


def offline_condense(question: str, history: Iterable[Any] | None) -> str:
    """The question, with the previous questions' key terms appended when it needs them."""
    return _offline(question, normalize_history(history))


def _offline(question: str, turns: list[tuple[str, str]]) -> str:
    previous = [text for role, text in turns if role == "user"]
    if not previous or not needs_context(question):
        return question
    own = {t.lower() for t in _key_terms(question)}
    context: list[str] = []
    for earlier in reversed(previous[-HISTORY_TURNS:]):
        context += [t for t in _key_terms(earlier) if t.lower() not in own and t not in context]
        if not needs_context(earlier):  # a standalone question: no need to look further back
            break
    context = context[:MAX_CONTEXT_TERMS]
    return f"{question} ({' '.join(context)})" if context else question


def _format_history(turns: list[tuple[str, str]]) -> str:
    recent = turns[-2 * HISTORY_TURNS:]
    lines = []
    for role, text in recent:
        if role == "assistant":
            text = strip_markers(text.split("\n\nNearest passages:")[0])
            if len(text) > ANSWER_CHARS:
                text = text[:ANSWER_CHARS].rsplit(" ", 1)[0] + " ..."
        lines.append(f"{'User' if role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


def _clean(reply: str, question: str, limit: int) -> str:
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    text = re.sub(r"^(standalone question|rewritten question|question)\s*:\s*", "", lines[0], flags=re.I)
    text = " ".join(text.strip().strip("\"“”'`").split())
    if not text or len(text) > limit:
        return ""
    return text


class Condenser:
    """Makes follow-ups standalone: with `client` (LLM mode) the model rewrites the question,
    otherwise, or when that request fails, the offline rule applies."""

    def __init__(self, client: ChatClient | None = None, max_chars: int = 1000, timeout: float = CONDENSE_TIMEOUT_CAP):
        self.client = client
        self.max_chars = max_chars
        self.timeout = min(timeout, CONDENSE_TIMEOUT_CAP)

    def condense(self, question: str, history: Iterable[Any] | None) -> str:
        """A standalone version of `question` given the conversation so far (unchanged without history)."""
        turns = normalize_history(history)
        if not any(role == "user" for role, _ in turns):
            return question
        if self.client is not None:
            try:
                prompt = fill(load_prompt("condense.txt"), history=_format_history(turns), question=question)
                reply = self.client.complete([{"role": "user", "content": prompt}], CONDENSE_MAX_TOKENS, self.timeout)
                standalone = _clean(reply, question, self.max_chars)
                if standalone:
                    return standalone
            except LLMError:  # the offline rule is always there
                pass
        return _offline(question, turns)
