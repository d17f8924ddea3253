"""`briefing serve`: an OpenAI-compatible HTTP API over the corpus, so any OpenAI client or chat
front-end (Open WebUI, LibreChat, the `openai` SDK) can ask the documents.

    GET  /v1/models             one model per answer mode that can work here:
                                briefing-extractive always, briefing-llm when an LLM is configured
    POST /v1/chat/completions   the last user message is the question, earlier user/assistant
                                messages the history (follow-ups are condensed by the pipeline);
                                `model` picks the answer mode; `stream: true` sends SSE chunks;
                                the extra field `scope` ("auto", "top", "all") as in rag.ask

The reply text is the answer with its `[n]` markers, then a plain-text "Sources" block for
clients that show only text. The whole `Answer.to_dict()` payload (citations, cited spans,
verification verdicts, abstained, notice) rides along as the extra field `briefing` on the
completion object; when streaming, on the last chunk before `data: [DONE]`. Sampling
parameters (temperature, max_tokens, n ...) are accepted and ignored: the answer is the pipeline's.

Errors use OpenAI's shape, `{"error": {"message", "type", "code"}}`: 400 bad input, 401 no or a
wrong bearer token when `BRIEFING_API_KEYS` is set, 404 unknown model, 503 unusable index.

FastAPI/uvicorn rather than Gradio's app: the routes and status codes are OpenAI's, not
Gradio's, and both come with Gradio anyway. The pipeline is synchronous, so answering runs in
the thread pool and the event loop keeps serving other requests.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Iterator

# At module level: FastAPI reads the handlers' annotations (Request) from this module's globals.
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from rag.base.errors import BriefingError, ConfigError, InputError, LLMError, StoreError
from rag.base.net import is_loopback
from rag.base.settings import Settings
from rag.base.threads import one_blas_thread
from rag.base.types import Answer
from rag.scope import SCOPES

if TYPE_CHECKING:  # pragma: no cover
    from rag.pipeline import Briefing

MODELS = {"briefing-extractive": "extractive", "briefing-llm": "llm"}
OWNER = "briefing-chat"
SOURCES_HEADING = "Sources:"
SPAN_CHARS = 300  # of a passage quoted when a citation has no cited span (keeps the block readable)


# --- pure formatting: the OpenAI objects and the plain-text tail ------------------------------


def sources_block(answer: Answer) -> str:
    """One line per citation: `[n] title — source, date: "cited spans"` (empty without citations)."""
    if not answer.citations:
        return ""
    lines = [SOURCES_HEADING]
    for c in answer.citations:
        p = c.passage
        page = f", p. {p.page}" if p.page else ""
        quoted = " … ".join(" ".join(s.text.split()) for s in c.spans) or " ".join(p.text.split())[:SPAN_CHARS]
        flag = "" if c.verified else " [UNVERIFIED: the passage does not support the sentence]"
        lines.append(f'[{c.n}] {p.title or p.source} — {p.source}, {p.date or "undated"}{page}: "{quoted}"{flag}')
    return "\n".join(lines)


def reply_tail(answer: Answer) -> str:
    """What follows the answer text in the reply: the notice, unsupported sentences, the sources."""
    parts = []
    if answer.notice:
        parts.append(f"Notice: {answer.notice}")
    if answer.unsupported:
        parts.append("Unsupported by the documents (not sourced):\n"
                     + "\n".join(f"! {sentence}" for sentence in answer.unsupported))
    if answer.citations:
        parts.append(sources_block(answer))
    return "".join(f"\n\n{part}" for part in parts)


def reply_text(answer: Answer) -> str:
    return answer.text + reply_tail(answer)


def strip_reply_tail(text: str) -> str:
    """An earlier reply as sent back in `messages`, without our Sources block: the condenser
    should see the answer, not a list of file names."""
    at = text.rfind(f"\n\n{SOURCES_HEADING}\n")
    return text[:at] if at >= 0 else text


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(answer: Answer, model: str, cid: str | None = None, created: int | None = None) -> dict[str, Any]:
    """The `chat.completion` object for a finished answer, with `briefing` = Answer.to_dict()."""
    return {
        "id": cid or completion_id(),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(answer)},
                     "logprobs": None, "finish_reason": "stop"}],
        "briefing": answer.to_dict(),
    }


def chunk(cid: str, model: str, created: int, delta: dict[str, Any], finish_reason: str | None = None,
          answer: Answer | None = None) -> dict[str, Any]:
    """One `chat.completion.chunk`; the last one (finish_reason set) carries `briefing`."""
    out: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if answer is not None:
        out["briefing"] = answer.to_dict()
    return out


def sse(payload: dict[str, Any] | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"


def error_body(message: str, type_: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def model_list(settings: Settings) -> dict[str, Any]:
    return {"object": "list",
            "data": [{"id": m, "object": "model", "created": 0, "owned_by": OWNER} for m in available_models(settings)]}


def available_models(settings: Settings) -> list[str]:
    """briefing-extractive always; briefing-llm only where an endpoint is configured to write it."""
    return [m for m, mode in MODELS.items() if mode == "extractive" or settings.llm_configured]


# --- reading a request ------------------------------------------------------------------------


def message_text(content: Any, where: str) -> str:
    """The text of a message's content: a string, or OpenAI's list of parts, whose
    {"type": "text", "text": ...} parts count (images and the like are skipped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict):
                raise InputError(f"{where}.content has a part that is not an object; send "
                                 '[{"type": "text", "text": "..."}] or a plain string.')
            if part.get("type") == "text":
                if not isinstance(part.get("text"), str):
                    raise InputError(f'{where}.content has a "text" part whose "text" is not a string.')
                texts.append(part["text"])
        return "\n".join(texts)
    raise InputError(f"{where}.content must be a string or a list of "
                     '{"type": "text", "text": "..."} parts, not ' + type(content).__name__ + ".")


def parse_messages(messages: Any) -> tuple[str, list[dict[str, str]]]:
    """(question, history): the last user message, and the user/assistant turns before it
    (system and tool messages are not part of the conversation the condenser reads)."""
    if not isinstance(messages, list) or not messages:
        raise InputError('`messages` is empty: send at least [{"role": "user", "content": "<your question>"}].')
    turns = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InputError(f'messages[{i}] is not an object: send {{"role": "user", "content": "..."}}.')
        turns.append((message.get("role"), message_text(message.get("content"), f"messages[{i}]")))
    users = [i for i, (role, _) in enumerate(turns) if role == "user"]
    if not users:
        raise InputError('No message has "role": "user"; the last user message is the question. '
                         'Add {"role": "user", "content": "<your question>"}.')
    last = users[-1]
    history = [{"role": role, "content": strip_reply_tail(text) if role == "assistant" else text}
               for role, text in turns[:last] if role in ("user", "assistant") and text.strip()]
    return turns[last][1], history


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def parse_keys(value: str) -> tuple[str, ...]:
    return tuple(k for k in (part.strip() for part in (value or "").split(",")) if k)


def key_accepted(token: str, keys: tuple[str, ...]) -> bool:
    # compare_digest against every key, no early exit: the timing says nothing about which one is close
    matches = [hmac.compare_digest(token.encode(), key.encode()) for key in keys]
    return bool(token) and any(matches)


def check_bind(host: str, settings: Settings) -> None:
    """Without API keys anyone who can reach the port reads the documents: loopback only."""
    if is_loopback(host) or parse_keys(settings.api_keys):
        return
    raise ConfigError(
        f"Refusing to serve the API on {host} without API keys: that makes the documents readable from other "
        "machines. Set BRIEFING_API_KEYS=<token>[,<token>...] (clients send Authorization: Bearer <token>), "
        "or use --host 127.0.0.1."
    )


# --- answer modes -------------------------------------------------------------------------------


class Modes:
    """The pipeline per model name. The server's own Briefing answers in its configured mode;
    the other mode, asked for by `model`, gets a Briefing built on first use that shares the
    index, embedder and retriever (one model load per process)."""

    def __init__(self, briefing: "Briefing"):
        self.base = briefing
        self._by_mode: dict[str, Briefing] = {briefing.settings.resolved_answer_mode: briefing}
        self._lock = threading.Lock()

    def get(self, model: str) -> "Briefing | None":
        if model not in available_models(self.base.settings):
            return None
        mode = MODELS[model]
        with self._lock:
            if mode not in self._by_mode:
                from rag.pipeline import Briefing

                b = self.base
                self._by_mode[mode] = Briefing(b.settings.model_copy(update={"answer_mode": mode}), store=b.store,
                                               embedder=b.embedder, retriever=b.retriever,
                                               answer_check=b.answer_check)
            return self._by_mode[mode]


# --- the app ------------------------------------------------------------------------------------

_STATUS = ((InputError, 400, "invalid_request_error", "invalid_request"),
           (StoreError, 503, "server_error", "index_unavailable"),
           (LLMError, 502, "server_error", "llm_failed"),
           (ConfigError, 500, "server_error", "bad_setting"),
           (BriefingError, 500, "server_error", None))


def error_status(exc: BriefingError) -> tuple[int, str, str | None]:
    return next((status, type_, code) for cls, status, type_, code in _STATUS if isinstance(exc, cls))


def create_app(briefing_or_settings: "Briefing | Settings | None" = None) -> FastAPI:
    """The ASGI app over one Briefing (given, or built from the Settings; parts load on first use).
    Nothing here serialises requests: each answer runs in Starlette's thread pool (40 threads)
    on the thread-safe pipeline."""
    from rag.pipeline import Briefing

    one_blas_thread()

    given = briefing_or_settings
    briefing = given if isinstance(given, Briefing) else Briefing(given or Settings())
    modes = Modes(briefing)
    keys = parse_keys(briefing.settings.api_keys)
    app = FastAPI(title="briefing-chat OpenAI-compatible API", docs_url=None, redoc_url=None)

    def refuse(status: int, message: str, type_: str, code: str | None) -> JSONResponse:
        return JSONResponse(error_body(message, type_, code), status_code=status)

    @app.exception_handler(BriefingError)
    async def briefing_error(_request, exc: BriefingError):
        status, type_, code = error_status(exc)
        return refuse(status, str(exc), type_, code)

    @app.exception_handler(HTTPException)
    async def http_error(_request, exc: HTTPException):
        return refuse(exc.status_code, str(exc.detail), "invalid_request_error", None)

    @app.middleware("http")
    async def require_key(request: Request, call_next):
        if keys and not key_accepted(bearer_token(request.headers.get("authorization")), keys):
            return refuse(401, "Missing or wrong API key: send Authorization: Bearer <key>, one of the keys in "
                          "BRIEFING_API_KEYS on the server.", "authentication_error", "invalid_api_key")
        return await call_next(request)

    @app.get("/v1/models")
    async def models():
        return model_list(briefing.settings)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        try:
            body = await request.json()
        except ValueError as exc:
            raise InputError(f"The request body is not JSON ({exc}); send an OpenAI chat completion request.") from exc
        if not isinstance(body, dict):
            raise InputError("The request body must be a JSON object (an OpenAI chat completion request).")
        model = body.get("model")
        pipeline = modes.get(model) if isinstance(model, str) else None
        if pipeline is None:
            offered = ", ".join(available_models(briefing.settings))
            return refuse(404, f"The model {model!r} does not exist here; use one of: {offered} (GET /v1/models).",
                          "invalid_request_error", "model_not_found")
        question, history = parse_messages(body.get("messages"))
        question = pipeline.check_question(question)
        scope = body.get("scope", "auto")
        if not isinstance(scope, str) or scope not in SCOPES:
            raise InputError(f"`scope` must be one of {', '.join(SCOPES)} (\"all\": one row per document), got {scope!r}.")
        if not body.get("stream"):
            answer = await run_in_threadpool(pipeline.ask, question, history, None, scope)
            return completion(answer, model)
        stream = pipeline.ask_stream(question, history, None, scope)
        # The first item comes after condensing and retrieval: their errors still get a status code.
        first = await run_in_threadpool(next, stream)
        return StreamingResponse(stream_events(first, stream, model), media_type="text/event-stream")

    return app


def stream_events(first: str | Answer, rest: Iterator[str | Answer], model: str) -> Iterator[str]:
    """SSE lines for an answer stream: the role, each text delta, the reply tail (notice, sources),
    a last chunk with finish_reason "stop" and `briefing`, then [DONE]. A sync iterator:
    Starlette runs it in the thread pool. An error mid-stream is sent as OpenAI's error event."""
    cid, created = completion_id(), int(time.time())
    yield sse(chunk(cid, model, created, {"role": "assistant", "content": ""}))
    answer = None
    try:
        for item in _chain(first, rest):
            if isinstance(item, Answer):
                answer = item
            elif item:
                yield sse(chunk(cid, model, created, {"content": item}))
    except BriefingError as exc:
        _, type_, code = error_status(exc)
        yield sse(error_body(str(exc), type_, code))
        return
    tail = reply_tail(answer)
    if tail:
        yield sse(chunk(cid, model, created, {"content": tail}))
    yield sse(chunk(cid, model, created, {}, finish_reason="stop", answer=answer))
    yield sse("[DONE]")


def _chain(first, rest):
    yield first
    yield from rest


# --- serving ------------------------------------------------------------------------------------


def warm_up(briefing: "Briefing") -> None:
    try:
        if briefing.warm_up() == 0:
            print("The index is empty: run `briefing ingest` first; questions get a 503 until then.", flush=True)
    except Exception as exc:  # noqa: BLE001 - the first question reports the same problem, with its status
        print(f"warm-up failed: {type(exc).__name__}: {exc}", flush=True)


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Check the bind address, then serve the API with uvicorn until interrupted (blocking)."""
    import uvicorn

    settings = settings or Settings()
    host = host or settings.api_host
    port = settings.api_port if port is None else port
    check_bind(host, settings)
    from rag.pipeline import Briefing

    briefing = Briefing(settings)
    app = create_app(briefing)
    # Load the index and the embedding model behind the socket, so the first question is fast.
    threading.Thread(target=warm_up, args=(briefing,), daemon=True, name="briefing-warm-up").start()
    print(f"OpenAI-compatible API on http://{host}:{port}/v1 (models: {', '.join(available_models(settings))}"
          f"{'; API keys required' if parse_keys(settings.api_keys) else ''})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
