"""The LLM answerer: an OpenAI-compatible chat model writes the answer from the numbered
passages, and every sentence is checked against the passages it cites (`rag.verify`).

Reached only through `rag.answer` when the answer mode resolves to "llm" and retrieval found
evidence (abstention stays retrieval-gated: the model is never asked when the documents hold
nothing relevant). llama-index and openai are imported here, lazily, never by `import rag`.

Streaming and failures
----------------------
Deltas are yielded as the model writes them; the generator then *returns* the final `Answer`
(`rag.answer` yields it). The final Answer is authoritative: its `text` is the model's text,
and its citations carry the verification result.

Transient failures (connection refused, timeout, 429, 5xx, a malformed or cut-off stream) are
retried with exponential backoff (BACKOFF_BASE * 2**attempt, capped at BACKOFF_CAP; a
Retry-After header is honoured up to RETRY_AFTER_CAP, beyond that we give up at once), at most
`llm_max_retries` times and only while no text has been shown. 400/401/403/404 are not retried.
When the model cannot answer, the extractive answer is used with
`notice="LLM unavailable (<reason>); showing an extractive answer"`. If some text had already
been streamed, a separator delta (FALLBACK_SEPARATOR, naming the reason) is yielded before the
extractive text, so a consumer that only concatenates deltas never shows a half sentence as if
it were the answer; consumers that render the final Answer replace the streamed text with it.

Time is bounded: every request has `llm_timeout` to connect and to deliver each chunk, a whole
streamed answer is cut off after ANSWER_DEADLINE_FACTOR * llm_timeout (a slow drip cannot go on
forever), a retry only starts while the budget (the first answer's deadline plus
llm_timeout + BACKOFF_CAP per allowed retry) has room for it, and no retry follows shown text.
Worst case: about (1 + llm_max_retries) * ANSWER_DEADLINE_FACTOR * llm_timeout. Nothing here
raises to the user: any unexpected error falls back too.
"""

from __future__ import annotations

import dataclasses
import email.utils
import functools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterator

from rag import verify
from rag.extractive import extractive_answer
from rag.markers import normalise_markers, says_documents_silent
from rag.types import Answer, Passage, Span

if TYPE_CHECKING:  # pragma: no cover
    from rag.evidence import Evidence
    from rag.pipeline import Briefing
    from rag.settings import Settings

PROMPTS = Path(__file__).with_name("prompts")
MAX_PASSAGES = 6  # passages numbered [1..k] in the prompt (the evidence's top passages)
MAX_OUTPUT_TOKENS = 700
MAX_ANSWER_CHARS = 8000  # a runaway stream is cut here (treated like a truncated stream)
BACKOFF_BASE = 0.25
BACKOFF_CAP = 2.0
RETRY_AFTER_CAP = 5.0
ANSWER_DEADLINE_FACTOR = 4.0  # a whole streamed answer may take this many llm_timeouts
FALLBACK_SEPARATOR = "\n\n[The model's answer was interrupted ({reason}); showing an extractive answer instead.]\n\n"


# --- prompts ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


def fill(template: str, **values: str) -> str:
    """`{name}` placeholders replaced in one pass (passage text may itself contain braces)."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group()), template)


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


# --- talking to the endpoint -----------------------------------------------------------------


class LLMFailure(Exception):
    """Why the model gave no (complete) answer, in words for the notice."""

    def __init__(self, reason: str, retryable: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


def endpoint(settings: "Settings") -> str:
    return settings.openai_base_url or "https://api.openai.com/v1"


def make_llm(settings: "Settings", max_tokens: int = MAX_OUTPUT_TOKENS, timeout: float | None = None):
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=settings.llm_model,
        api_base=endpoint(settings),
        api_key=settings.openai_api_key or "not-needed",
        is_chat_model=True,
        timeout=timeout if timeout is not None else settings.llm_timeout,
        max_retries=0,  # retries are ours: bounded, visible, and fast in tests
        max_tokens=max_tokens,
        temperature=0.0,
    )


def _chat_messages(messages: list[dict[str, str]]):
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def classify(exc: BaseException, settings: "Settings") -> LLMFailure:
    """Map a client exception to a reason a user can act on, and whether a retry may help."""
    if isinstance(exc, LLMFailure):
        return exc
    if isinstance(exc, ImportError):
        return LLMFailure(f"the LLM client is not installed ({exc.name or exc}); run `pip install llama-index-llms-openai-like`")
    try:
        import httpx
        import openai
    except ImportError as missing:  # pragma: no cover - both are dependencies
        return LLMFailure(f"the LLM client is not installed ({missing.name})")
    where = endpoint(settings)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        body = exc.body if isinstance(exc.body, dict) else {}
        if isinstance(body.get("error"), dict):
            body = body["error"]
        message = " ".join(str(body.get("message") or "").split())
        code = str(getattr(exc, "code", "") or body.get("code") or "")
        if status == 401:
            return LLMFailure(f"{where} rejected the API key (HTTP 401); check OPENAI_API_KEY")
        if status == 403:
            return LLMFailure(f"{where} refused access (HTTP 403); check the key's permissions for model '{settings.llm_model}'")
        if status == 404:
            return LLMFailure(f"model '{settings.llm_model}' or the chat endpoint was not found at {where} (HTTP 404); "
                              "check BRIEFING_LLM_MODEL and OPENAI_BASE_URL (it usually ends in /v1)")
        if status == 429:
            if code == "insufficient_quota":
                return LLMFailure("the account behind OPENAI_API_KEY has no quota left (HTTP 429)")
            return LLMFailure(f"rate limited by {where} (HTTP 429)", True, _retry_after(exc.response))
        if status >= 500 or status in (408, 409):
            return LLMFailure(f"{where} returned a server error (HTTP {status})", True, _retry_after(exc.response))
        detail = f": {message[:200]}" if message else ""
        return LLMFailure(f"{where} rejected the request (HTTP {status}{detail})")
    if isinstance(exc, openai.APITimeoutError):
        return LLMFailure(f"no response from {where} within {settings.llm_timeout:g}s", True)
    if isinstance(exc, openai.APIConnectionError):
        return LLMFailure(f"cannot connect to {where}; is the server running? (OPENAI_BASE_URL)", True)
    if isinstance(exc, httpx.TimeoutException):
        return LLMFailure(f"the answer stream from {where} stalled for more than {settings.llm_timeout:g}s", True)
    if isinstance(exc, httpx.TransportError):  # RemoteProtocolError, ReadError ...: cut off mid-stream
        return LLMFailure(f"the connection to {where} dropped before the answer was complete", True)
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return LLMFailure(f"{where} sent a malformed response", True)
    if isinstance(exc, openai.OpenAIError):
        return LLMFailure(f"the LLM client failed ({type(exc).__name__}: {str(exc)[:200]})")
    return LLMFailure(f"unexpected {type(exc).__name__} from the LLM client: {str(exc)[:200]}")


def _stream_once(settings: "Settings", messages: list[dict[str, str]], deadline: float) -> Iterator[str]:
    """One streamed request: content deltas, or LLMFailure."""
    generator = None
    try:
        llm = make_llm(settings)
        generator = llm.stream_chat(_chat_messages(messages))
        size = 0
        for response in generator:
            delta = response.delta or ""
            if not delta:
                continue
            size += len(delta)
            yield delta
            if time.monotonic() > deadline:
                raise LLMFailure(f"the answer took longer than {deadline_seconds(settings):g}s", False)
            if size > MAX_ANSWER_CHARS:
                raise LLMFailure(f"the answer ran past {MAX_ANSWER_CHARS} characters", False)
    except GeneratorExit:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes a reason and a fallback
        raise classify(exc, settings) from exc
    finally:
        if generator is not None:
            try:
                generator.close()
            except Exception:  # noqa: BLE001
                pass


def deadline_seconds(settings: "Settings") -> float:
    return ANSWER_DEADLINE_FACTOR * settings.llm_timeout


def backoff(attempt: int, failure: LLMFailure) -> float | None:
    """Seconds to wait before retry number `attempt + 1`, or None when waiting is pointless."""
    if failure.retry_after is not None:
        return None if failure.retry_after > RETRY_AFTER_CAP else failure.retry_after
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt)


def complete(settings: "Settings", messages: list[dict[str, str]], max_tokens: int, timeout: float) -> str:
    """One short non-streamed completion (used to condense follow-ups). Raises LLMFailure."""
    try:
        response = make_llm(settings, max_tokens=max_tokens, timeout=timeout).chat(_chat_messages(messages))
        return response.message.content or ""
    except Exception as exc:  # noqa: BLE001
        raise classify(exc, settings) from exc


# --- the answerer ----------------------------------------------------------------------------


def llm_answer_stream(
    briefing: "Briefing", question: str, history: list, evidence: "Evidence"
) -> Generator[str, None, Answer]:
    """Yield the model's text deltas; return the verified `Answer` (or the extractive fallback).

    `question` is the standalone question (already condensed from `history` by `rag.answer`);
    `history` is deliberately not put in the prompt, so earlier answers cannot act as evidence.
    """
    settings = briefing.settings
    if not settings.llm_configured:
        return (yield from _fallback(evidence, question, settings,
                                     "no endpoint configured: set OPENAI_API_KEY or OPENAI_BASE_URL", False))
    passages = list(evidence.passages[:MAX_PASSAGES])
    messages = build_messages(question, passages)
    started = time.monotonic()
    deadline = started + deadline_seconds(settings)
    budget_end = started + deadline_seconds(settings) + settings.llm_max_retries * (settings.llm_timeout + BACKOFF_CAP)
    parts: list[str] = []
    attempt = 0
    while True:
        try:
            for delta in _stream_once(settings, messages, deadline):
                parts.append(delta)
                yield delta
            break
        except LLMFailure as failure:
            wait = backoff(attempt, failure) if failure.retryable else None
            if (parts or wait is None or attempt >= settings.llm_max_retries
                    or time.monotonic() + wait + settings.llm_timeout > budget_end):
                return (yield from _fallback(evidence, question, settings, failure.reason, bool(parts)))
            time.sleep(wait)
            attempt += 1
            deadline = time.monotonic() + deadline_seconds(settings)
    generated = time.monotonic()
    text = "".join(parts).strip()
    if not text:
        return (yield from _fallback(evidence, question, settings, "the model returned an empty answer", False))
    try:
        answer = build_answer(briefing, question, evidence, passages, text)
    except Exception as exc:  # noqa: BLE001 - a bug in checking must not hide the evidence
        answer = yield from _fallback(evidence, question, settings,
                                      f"its answer could not be checked ({type(exc).__name__}: {exc})", True)
        return answer
    return dataclasses.replace(answer, timings={"llm": generated - started, "verify": time.monotonic() - generated})


def _fallback(evidence: "Evidence", question: str, settings: "Settings", reason: str,
              streamed: bool) -> Generator[str, None, Answer]:
    answer = extractive_answer(evidence, question, settings.answer_sentences)
    if streamed:
        yield FALLBACK_SEPARATOR.format(reason=reason)
    yield answer.text
    return dataclasses.replace(answer, notice=f"LLM unavailable ({reason}); showing an extractive answer")


def build_answer(briefing: "Briefing", question: str, evidence: "Evidence", passages: list[Passage],
                 text: str) -> Answer:
    settings = briefing.settings
    text = normalise_markers(text)
    by_marker = {n: p for n, p in enumerate(passages, 1)}
    checks = verify.check_sentences(text, by_marker, briefing.embedder)
    citations = verify.citations_from_checks(checks, by_marker, SpanMapper(briefing.store))
    unsupported = verify.unsupported_sentences(checks)
    claims = [c for c in checks if not c.no_claim]
    backed = [c for c in claims if c.supported]
    abstained = not backed and any(says_documents_silent(c.sentence) for c in checks)
    notice = ""
    if abstained:
        unsupported = ()  # nothing is asserted: the model said the documents don't answer
        citations = tuple(c for c in citations if c.verified)
    elif claims and not backed:
        notice = "No sentence of this answer could be verified against the passages; treat it as unverified."
    elif unsupported:
        verb = "is" if len(unsupported) == 1 else "are"
        notice = (f"{len(unsupported)} of {len(claims)} sentences {verb} not backed by the passages they cite "
                  "(marked unverified).")
    return Answer(
        question=question,
        text=text,
        citations=citations,
        passages=tuple(evidence.passages),
        abstained=abstained,
        mode="llm",
        model=settings.llm_model,
        unsupported=unsupported,
        notice=notice,
    )


class SpanMapper:
    """Maps a window of a passage's text to the raw-document sentences it covers.

    A passage's text is its chunk's units (sentences, headings) joined by a space or a newline;
    the sentence index stores each unit with its raw-document offsets and its position in the
    chunk, so the units are located in the passage text in order.
    """

    def __init__(self, store: Any):
        self.store = store
        self._units: dict[str, list[tuple[int, int, Span]]] = {}

    def _locate(self, passage: Passage) -> list[tuple[int, int, Span]]:
        if passage.chunk_id not in self._units:
            located: list[tuple[int, int, Span]] = []
            try:
                metas, _ = self.store.sentences_of([passage.chunk_id])
            except Exception:  # noqa: BLE001 - no spans is better than no answer
                metas = []
            cursor = 0
            for meta in sorted(metas, key=lambda m: int(m.get("position", 0))):
                unit = meta["text"]
                at = passage.text.find(unit, cursor)
                if at < 0:
                    continue
                located.append((at, at + len(unit), Span(int(meta["start"]), int(meta["end"]), unit)))
                cursor = at + len(unit)
            self._units[passage.chunk_id] = located
        return self._units[passage.chunk_id]

    def __call__(self, passage: Passage, start: int, end: int) -> list[Span]:
        return [span for a, b, span in self._locate(passage) if a < end and b > start]
