"""The LLM client seam: `ChatClient` (what the LLM answerer and the condenser need) and
`OpenAIChat`, its implementation on the `openai` SDK for any OpenAI-compatible endpoint.

The SDK is imported when the first request is made, never by `import rag`. Retries are ours,
not the SDK's (`max_retries=0`): the SDK waits as long as a server's Retry-After asks (we saw
120 s), which a person waiting for an answer will not. Here a transient failure (connection
refused, timeout, 408/409/429/5xx) is retried at most `llm_max_retries` times, only before the
first delta (never once text may be on the user's screen), after BACKOFF_BASE * 2**attempt
seconds (at most BACKOFF_CAP) or a Retry-After of at most RETRY_AFTER_CAP; a longer Retry-After
is a failure at once. Every failure leaves here as an `LLMError` whose message says what to do.

Time bounds of `stream` (all from `Settings`, all on the monotonic clock):
- `llm_first_token_timeout` (15 s) from the first request to the first content delta, retries
  and their waits included. Each request's httpx connect/write/read/pool timeouts are
  `llm_timeout` cut to what is left of it, and a retry starts only if MIN_ATTEMPT_SECONDS are
  left after its wait, so a dead or silent server fails by this deadline (`no_token_bound`).
  Chunks without content (role chunks) do not count; the deadline is also checked on each.
- `llm_timeout` (15 s): the longest silence between two chunks once streaming (httpx's read
  timeout, one value per request, so a retry's is the cut one).
- `llm_answer_timeout` (60 s): the whole answer, checked on every chunk; so the longest stream is
  this plus one silence.
The deadlines are checked when a chunk arrives, and no thread watches the clock: a role chunk
just before the first-token deadline and then silence costs up to one more (cut) read timeout,
and a server that sends only SSE comments (which the SDK swallows) keeps a read alive, bounded
only by its own end of the stream.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any, Iterator, Protocol

from rag.base.errors import LLMError
from rag.base.settings import Settings

BACKOFF_BASE = 0.25
BACKOFF_CAP = 2.0
RETRY_AFTER_CAP = 5.0
MIN_ATTEMPT_SECONDS = 1.0  # a retry with less time than this before the deadline is not worth sending


class ChatClient(Protocol):
    model: str

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Content deltas of one streamed chat completion, within the client's time bounds; raises LLMError."""

    def complete(self, messages: list[dict[str, str]], max_tokens: int, timeout: float) -> str:
        """One short non-streamed completion; raises LLMError."""


def endpoint(settings: Settings) -> str:
    return settings.openai_base_url or "https://api.openai.com/v1"


class OpenAIChat:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.llm_model
        self.endpoint = endpoint(settings)
        self._client: Any = None

    def _sdk(self):
        if self._client is None:
            try:
                import openai
            except ImportError as exc:  # pragma: no cover - a dependency
                raise LLMError(f"the LLM client is not installed ({exc.name}); run `pip install openai`") from exc
            self._client = openai.OpenAI(
                base_url=self.endpoint, api_key=self.settings.openai_api_key or "not-needed",
                timeout=self.settings.llm_timeout, max_retries=0,
            )
        return self._client

    def warm_up(self) -> None:
        """Import the SDK and build the client now (the UI does this in the background)."""
        self._sdk()

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Content deltas of one streamed answer, within the time bounds of the module docstring."""
        now = time.monotonic()
        clock = _Deadlines(first_token=now + self.settings.llm_first_token_timeout,
                           answer=now + self.settings.llm_answer_timeout)
        attempt = 0
        while True:
            started = False
            try:
                for delta in self._stream_once(messages, max_tokens, clock):
                    started = True
                    yield delta
                return
            except RetryableError as failure:
                wait = None if started else self._retry_wait(failure, attempt, clock.first_token)
                if wait is None:
                    raise LLMError(failure.reason) from failure
                time.sleep(wait)
                attempt += 1

    def _retry_wait(self, failure: "RetryableError", attempt: int, first_token_by: float) -> float | None:
        """Seconds to wait before the next attempt, or None: no retry left, a Retry-After too long,
        or the attempt could not have MIN_ATTEMPT_SECONDS before the first-token deadline."""
        if attempt >= self.settings.llm_max_retries:
            return None
        wait = failure.wait(attempt)
        if wait is None or time.monotonic() + wait + MIN_ATTEMPT_SECONDS > first_token_by:
            return None
        return wait

    def _request_timeout(self, first_token_by: float) -> tuple[Any, bool]:
        """httpx timeouts for one request: `llm_timeout`, cut to what is left before the first-token
        deadline (so this attempt ends by it); and whether the deadline did the cutting."""
        import httpx

        left = max(0.01, first_token_by - time.monotonic())
        limit = min(self.settings.llm_timeout, left)
        return httpx.Timeout(connect=limit, read=limit, write=limit, pool=limit), left <= self.settings.llm_timeout

    def _stream_once(self, messages: list[dict[str, str]], max_tokens: int, clock: "_Deadlines") -> Iterator[str]:
        timeout, cut = self._request_timeout(clock.first_token)
        # a timeout the deadline cut is reported as the deadline, not as the cut value
        waited = self.settings.llm_first_token_timeout if cut else self.settings.llm_timeout
        response = None
        try:
            response = self._sdk().chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True,
                timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reason
            raise classify(exc, self.settings, waited=waited) from exc
        try:
            got_token = False
            for chunk in response:
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    got_token = True
                    yield delta
                clock.check(got_token, self)
        except GeneratorExit:
            raise
        except Exception as exc:  # noqa: BLE001
            raise classify(exc, self.settings, streaming=True, waited=timeout.read) from exc
        finally:
            try:
                response.close()
            except Exception:  # noqa: BLE001
                pass

    def complete(self, messages: list[dict[str, str]], max_tokens: int, timeout: float) -> str:
        """No retries: this is the short follow-up rewrite, which has an offline fallback."""
        try:
            reply = self._sdk().with_options(timeout=timeout).chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=0.0)
            return reply.choices[0].message.content or ""
        except Exception as exc:  # noqa: BLE001
            raise LLMError(classify(exc, self.settings).reason) from exc


class _Deadlines:
    """The two monotonic deadlines of one streamed answer (see the module docstring)."""

    def __init__(self, first_token: float, answer: float):
        self.first_token = first_token
        self.answer = answer

    def check(self, got_token: bool, chat: OpenAIChat) -> None:
        """Raise (not retryable: the time is spent) when a deadline has passed."""
        now = time.monotonic()
        s = chat.settings
        if now > self.answer:
            raise LLMError(f"the answer took longer than {s.llm_answer_timeout:g}s")
        if not got_token and now > self.first_token:
            raise LLMError(f"no answer from {chat.endpoint} within {s.llm_first_token_timeout:g}s")


def no_token_bound(settings: Settings) -> float:
    """The longest `stream` takes to fail when no chunk ever comes (a dead or silent server):
    the first-token deadline, since every attempt's timeouts are cut to it and no retry starts
    after it. The sum of all attempts and waits is the bound without that cut."""
    attempts = settings.llm_max_retries + 1
    waits = sum(max(RETRY_AFTER_CAP, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** i)) for i in range(attempts - 1))
    return min(settings.llm_first_token_timeout, attempts * settings.llm_timeout + waits)


class RetryableError(LLMError):
    """A transient failure: worth another attempt while nothing has been shown."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after

    def wait(self, attempt: int) -> float | None:
        """Seconds before the next attempt, or None when waiting is pointless."""
        if self.retry_after is not None:
            return None if self.retry_after > RETRY_AFTER_CAP else self.retry_after
        return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt)


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
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def classify(exc: BaseException, settings: Settings, streaming: bool = False,
             waited: float | None = None) -> LLMError:
    """Map an SDK exception to a reason a user can act on. `streaming`: it was raised while
    reading a stream that had started (openai 1-2 let httpx's errors through there, openai 3
    wraps them as APITimeoutError / APIConnectionError; both mean a stall or a cut-off).
    `waited`: the seconds a timeout stands for (default `llm_timeout`)."""
    if isinstance(exc, LLMError):
        return exc
    import httpx
    import openai

    where = endpoint(settings)
    waited = settings.llm_timeout if waited is None else waited
    if isinstance(exc, httpx.TimeoutException) or (streaming and isinstance(exc, openai.APITimeoutError)):
        return RetryableError(f"the answer stream from {where} stalled for more than {waited:.3g}s")
    # RemoteProtocolError, ReadError ...: cut off mid-stream
    if isinstance(exc, httpx.TransportError) or (streaming and isinstance(exc, openai.APIConnectionError)):
        return RetryableError(f"the connection to {where} dropped before the answer was complete")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        body = exc.body if isinstance(exc.body, dict) else {}
        if isinstance(body.get("error"), dict):
            body = body["error"]
        message = " ".join(str(body.get("message") or "").split())
        code = str(getattr(exc, "code", "") or body.get("code") or "")
        if status == 401:
            return LLMError(f"{where} rejected the API key (HTTP 401); check OPENAI_API_KEY")
        if status == 403:
            return LLMError(f"{where} refused access (HTTP 403); check the key's permissions for model '{settings.llm_model}'")
        if status == 404:
            return LLMError(f"model '{settings.llm_model}' or the chat endpoint was not found at {where} (HTTP 404); "
                            "check BRIEFING_LLM_MODEL and OPENAI_BASE_URL (it usually ends in /v1)")
        if status == 429:
            if code == "insufficient_quota":
                return LLMError("the account behind OPENAI_API_KEY has no quota left (HTTP 429)")
            return RetryableError(f"rate limited by {where} (HTTP 429)", _retry_after(exc.response))
        if status >= 500 or status in (408, 409):
            return RetryableError(f"{where} returned a server error (HTTP {status})", _retry_after(exc.response))
        detail = f": {message[:200]}" if message else ""
        return LLMError(f"{where} rejected the request (HTTP {status}{detail})")
    if isinstance(exc, openai.APITimeoutError):
        return RetryableError(f"no response from {where} within {waited:.3g}s")
    if isinstance(exc, openai.APIConnectionError):
        return RetryableError(f"cannot connect to {where}; is the server running? (OPENAI_BASE_URL)")
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return RetryableError(f"{where} sent a malformed response")
    if isinstance(exc, openai.OpenAIError):
        return LLMError(f"the LLM client failed ({type(exc).__name__}: {str(exc)[:200]})")
    return LLMError(f"unexpected {type(exc).__name__} from the LLM client: {str(exc)[:200]}")
