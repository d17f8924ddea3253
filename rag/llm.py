"""The LLM answerer: a chat model (`rag.chat.ChatClient`) writes the answer from the numbered
passages, and every sentence is checked against the passages it cites (`rag.verify.Verifier`).

Streaming and failures
----------------------
Deltas are yielded as the model writes them, then the final `Answer`, which is authoritative:
its `text` is the model's text and its citations carry the verification result.

Retries are the client's (see `rag.chat`). When the model cannot answer, the extractive answer
is used with `notice="LLM unavailable (<reason>); showing an extractive answer"`. If some text
had already been streamed, a separator delta (FALLBACK_SEPARATOR, naming the reason) is yielded
before the extractive text, so a consumer that only concatenates deltas never shows a half
sentence as if it were the answer; consumers that render the final Answer replace the streamed
text with it.

Time is bounded by the client (`rag.chat.OpenAIChat`, from `Settings`): the first token within
`llm_first_token_timeout` (15 s, retries included, so a dead or silent server falls back by
then), at most `llm_timeout` (15 s) of silence between chunks, the whole answer within
`llm_answer_timeout` (60 s). Each of these is an `LLMError`, so it falls back like any other
failure: before any text, with the notice only; after some, with the separator too. Nothing
here raises to the user: any unexpected error falls back too.
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import TYPE_CHECKING, Iterator

from rag.answerer import relay
from rag.base.errors import LLMError
from rag.base.types import Answer, Passage
from rag.chat import ChatClient
from rag.extractive import ExtractiveAnswerer
from rag.prompts import fill, load_prompt
from rag.verify import Verifier

if TYPE_CHECKING:  # pragma: no cover
    from rag.evidence import Evidence

MAX_PASSAGES = 6  # passages numbered [1..k] in the prompt (the evidence's top passages)
MAX_OUTPUT_TOKENS = 700
MAX_ANSWER_CHARS = 8000  # a runaway stream is cut here (treated like a truncated stream)
FALLBACK_SEPARATOR = "\n\n[The model's answer was interrupted ({reason}); showing an extractive answer instead.]\n\n"


# --- the prompt ------------------------------------------------------------------------------


def _attr(value: str) -> str:
    return " ".join(str(value).split()).replace('"', "'").replace("<", "(").replace(">", ")")


def _quoted(text: str) -> str:
    """Passage text made unable to close (or open) a passage block."""
    return re.sub(r"<\s*(/?)\s*passage", lambda m: f"‹{m.group(1)}passage", text, flags=re.I)


def format_passages(passages: list[Passage]) -> str:
    blocks = []
    for n, p in enumerate(passages, 1):
        where = f' page="{p.page}"' if p.page else ""
        blocks.append(
            f'<passage id={n} title="{_attr(p.title or p.source)}" date="{_attr(p.date or "undated")}" '
            f'source="{_attr(p.source)}"{where}>\n{_quoted(p.text.strip())}\n</passage>'
        )
    return "\n\n".join(blocks)


def build_messages(question: str, passages: list[Passage]) -> list[dict[str, str]]:
    """System + user messages: the rules, the numbered quoted passages and the standalone question.
    No conversation history goes in: earlier answers are not evidence."""
    user = fill(load_prompt("answer_user.txt"), passages=format_passages(passages), question=" ".join(question.split()))
    return [{"role": "system", "content": load_prompt("answer_system.txt").strip()}, {"role": "user", "content": user}]


# --- the answerer ----------------------------------------------------------------------------


class LLMAnswerer:
    """Answers with `client` (None: no endpoint configured, every answer falls back), checks them
    with `verifier`, and falls back to `fallback` when the model gives no complete answer."""

    mode = "llm"

    def __init__(self, client: ChatClient | None, verifier: Verifier, fallback: ExtractiveAnswerer):
        self.client = client
        self.verifier = verifier
        self.fallback = fallback

    def answer(self, question: str, evidence: "Evidence") -> Iterator[str | Answer]:
        """`question` is the standalone question (already condensed by the pipeline); the
        conversation is deliberately not put in the prompt, so earlier answers are not evidence."""
        if self.client is None:
            yield from self._fallback(evidence, question,
                                      "no endpoint configured: set OPENAI_API_KEY or OPENAI_BASE_URL", False)
            return
        passages = list(evidence.passages[:MAX_PASSAGES])
        started = time.monotonic()
        parts: list[str] = []
        try:
            for delta in self._stream(build_messages(question, passages)):
                parts.append(delta)
                yield delta
        except LLMError as failure:
            yield from self._fallback(evidence, question, failure.reason, bool(parts))
            return
        generated = time.monotonic()
        text = "".join(parts).strip()
        if not text:
            yield from self._fallback(evidence, question, "the model returned an empty answer", False)
            return
        try:
            answer = self._checked(question, evidence, passages, text)
        except Exception as exc:  # noqa: BLE001 - a bug in checking must not hide the evidence
            yield from self._fallback(evidence, question,
                                      f"its answer could not be checked ({type(exc).__name__}: {exc})", True)
            return
        yield dataclasses.replace(answer, timings={"llm": generated - started, "verify": time.monotonic() - generated})

    def _stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        size = 0
        try:
            for delta in self.client.stream(messages, MAX_OUTPUT_TOKENS):
                size += len(delta)
                yield delta
                if size > MAX_ANSWER_CHARS:
                    raise LLMError(f"the answer ran past {MAX_ANSWER_CHARS} characters")
        except LLMError:
            raise
        except Exception as exc:  # noqa: BLE001 - a client outside rag.chat may raise anything
            raise LLMError(f"unexpected {type(exc).__name__} from the LLM client: {str(exc)[:200]}") from exc

    def _fallback(self, evidence: "Evidence", question: str, reason: str, streamed: bool) -> Iterator[str | Answer]:
        if streamed:
            yield FALLBACK_SEPARATOR.format(reason=reason)
        answer = yield from relay(self.fallback.answer(question, evidence))
        yield dataclasses.replace(answer, notice=f"LLM unavailable ({reason}); showing an extractive answer")

    def _checked(self, question: str, evidence: "Evidence", passages: list[Passage], text: str) -> Answer:
        checked = self.verifier.verify(text, passages)
        citations, unsupported = checked.citations, checked.unsupported
        abstained = not checked.backed and checked.admits_silence
        notice = ""
        if abstained:
            unsupported = ()  # nothing is asserted: the model said the documents don't answer
            citations = tuple(c for c in citations if c.verified)
        elif checked.claims and not checked.backed:
            notice = "No sentence of this answer could be verified against the passages; treat it as unverified."
        elif unsupported:
            verb = "is" if len(unsupported) == 1 else "are"
            notice = (f"{len(unsupported)} of {checked.claims} sentences {verb} not backed by the passages they cite "
                      "(marked unverified).")
        return Answer(
            question=question,
            text=checked.text,
            citations=citations,
            passages=tuple(evidence.passages),
            abstained=abstained,
            mode="llm",
            model=self.client.model,
            unsupported=unsupported,
            notice=notice,
        )
