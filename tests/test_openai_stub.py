"""Prove that tests/openai_stub.py (a TEST STAND-IN, no model) speaks the OpenAI
wire protocol well enough for the REAL clients -- the official ``openai``
package and llama-index's ``OpenAILike`` -- over real local sockets.

These tests also pin down exactly how each failure mode surfaces in both
clients, because the LLM answerer maps those exceptions to fallbacks:

=====================  ===========================================  ==========================
failure                 openai (max_retries=0)                       OpenAILike (max_retries=0)
=====================  ===========================================  ==========================
HTTP 500 / 503          openai.InternalServerError                   same (openai exception)
HTTP 401                openai.AuthenticationError                   same
HTTP 429                openai.RateLimitError                        same
HTTP 400                openai.BadRequestError                       same
no answer in timeout    openai.APITimeoutError                       same
server gone / refused   openai.APIConnectionError                    same
stall mid-stream        httpx.ReadTimeout (NOT wrapped by openai)    same
truncated stream        httpx.RemoteProtocolError (NOT wrapped),     same
                        after the deltas sent so far were yielded
malformed JSON body     json.JSONDecodeError (ValueError)            same
malformed SSE line      json.JSONDecodeError, mid-iteration          same
=====================  ===========================================  ==========================

Where the error is raised: ``client.chat.completions.create(stream=True)``
raises HTTP-status / timeout / connection errors from ``create()`` itself;
``OpenAILike.stream_chat()`` returns a lazy generator, so the same errors only
appear on the first ``next()``.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import openai
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai_like import OpenAILike

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from openai_stub import MODEL_ID, Reply, StubOpenAI
except ImportError:  # pragma: no cover - if tests/ ever becomes a package
    from tests.openai_stub import MODEL_ID, Reply, StubOpenAI

MODEL = "briefing-test-model"
MSGS = [
    {"role": "system", "content": "Answer from the passages."},
    {"role": "user", "content": "What is the budget?"},
]
TEXT = "The budget is  forty million, per passage [1].\nSee also [2]."


@pytest.fixture
def stub():
    with StubOpenAI() as s:
        yield s


def oa(stub: StubOpenAI, timeout: float = 10.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0, timeout=timeout)


def li(stub: StubOpenAI, timeout: float = 10.0) -> OpenAILike:
    return OpenAILike(
        model=MODEL,
        api_base=stub.base_url,
        api_key="test",
        is_chat_model=True,
        max_retries=0,
        timeout=timeout,
    )


def li_msgs() -> list[ChatMessage]:
    return [ChatMessage(role=m["role"], content=m["content"]) for m in MSGS]


def drain_openai(stream) -> tuple[list[str], BaseException | None]:
    """Collect content deltas until the stream ends or raises."""
    deltas: list[str] = []
    try:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                deltas.append(chunk.choices[0].delta.content)
    except Exception as exc:  # noqa: BLE001 - returned for inspection
        return deltas, exc
    return deltas, None


def drain_li(gen) -> tuple[list[str], BaseException | None]:
    deltas: list[str] = []
    try:
        for r in gen:
            if r.delta:
                deltas.append(r.delta)
    except Exception as exc:  # noqa: BLE001
        return deltas, exc
    return deltas, None


# --------------------------------------------------------------------------
# happy paths
# --------------------------------------------------------------------------


def test_base_url_and_lifecycle():
    s = StubOpenAI().start()
    try:
        assert s.base_url.startswith("http://127.0.0.1:") and s.base_url.endswith("/v1")
        assert s.start() is s  # idempotent
    finally:
        s.stop()
    s.stop()  # idempotent


def test_openai_non_streaming(stub):
    stub.script(Reply(content=TEXT))
    resp = oa(stub).chat.completions.create(model=MODEL, messages=MSGS)
    assert resp.object == "chat.completion"
    assert resp.id.startswith("chatcmpl-")
    assert isinstance(resp.created, int)
    assert resp.model == MODEL  # echoes the request's model
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == TEXT
    assert choice.finish_reason == "stop"
    assert resp.usage.completion_tokens > 0
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


def test_openai_streaming_deltas_join_in_order(stub):
    stub.script(Reply(content=TEXT))
    chunks = list(oa(stub).chat.completions.create(model=MODEL, messages=MSGS, stream=True))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.model == MODEL for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) > 3  # really split into several deltas
    assert "".join(deltas) == TEXT  # spaces/newlines preserved, order kept
    assert deltas[0] == "The "
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_openai_streaming_include_usage(stub):
    stub.script(Reply(content="one two three"))
    chunks = list(
        oa(stub).chat.completions.create(
            model=MODEL, messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 3


def test_openai_empty_content(stub):
    stub.script(Reply(content=""), Reply(content=""))
    assert oa(stub).chat.completions.create(model=MODEL, messages=MSGS).choices[0].message.content == ""
    deltas, err = drain_openai(oa(stub).chat.completions.create(model=MODEL, messages=MSGS, stream=True))
    assert (deltas, err) == ([], None)


def test_openai_models_list(stub):
    models = oa(stub).models.list()
    assert [m.id for m in models.data] == [MODEL_ID]


def test_unknown_path_is_404_json(stub):
    root = stub.base_url[: -len("/v1")]
    for method, path in [("GET", "/v1/nope"), ("POST", "/v1/embeddings"), ("GET", "/")]:
        r = httpx.request(method, root + path, json={} if method == "POST" else None)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/json")
        assert "message" in r.json()["error"]
    assert stub.requests == []  # only chat completions are recorded


def test_llamaindex_chat(stub):
    stub.script(Reply(content=TEXT))
    resp = li(stub).chat(li_msgs())
    assert resp.message.content == TEXT
    assert resp.raw.model == MODEL


def test_llamaindex_stream_chat(stub):
    stub.script(Reply(content=TEXT))
    responses = list(li(stub).stream_chat(li_msgs()))
    deltas = [r.delta for r in responses if r.delta]
    assert len(deltas) > 3
    assert "".join(deltas) == TEXT
    assert responses[-1].message.content == TEXT  # accumulated message


def test_requests_are_recorded(stub):
    stub.script(Reply(content="a"), Reply(content="b"))
    oa(stub).chat.completions.create(model=MODEL, messages=MSGS)
    list(li(stub).stream_chat(li_msgs()))
    assert len(stub.requests) == 2
    first, second = stub.requests
    for req in (first, second):
        assert req["model"] == MODEL
        assert req["messages"] == MSGS
        assert req["headers"]["Authorization"] == "Bearer test"
    assert not first.get("stream")
    assert second["stream"] is True
    assert "temperature" in second  # llama-index sends its default temperature


def test_script_order_then_default(stub):
    stub.default = Reply(content="fallback default")
    stub.script(Reply(content="first"), Reply(content="second"))
    assert stub.pending == 2
    c = oa(stub)
    got = [c.chat.completions.create(model=MODEL, messages=MSGS).choices[0].message.content for _ in range(4)]
    assert got == ["first", "second", "fallback default", "fallback default"]
    assert stub.pending == 0


def test_concurrent_requests(stub):
    stub.default = Reply(content="same answer", delay=0.4)
    c = oa(stub)
    out: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: out.append(c.chat.completions.create(model=MODEL, messages=MSGS).choices[0].message.content)
        )
        for _ in range(5)
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert out == ["same answer"] * 5
    assert time.monotonic() - t0 < 1.6  # parallel; one by one would take >= 2.0 s


# --------------------------------------------------------------------------
# HTTP status errors
# --------------------------------------------------------------------------

STATUS_CASES = [
    (500, openai.InternalServerError),
    (503, openai.InternalServerError),
    (401, openai.AuthenticationError),
    (429, openai.RateLimitError),
    (400, openai.BadRequestError),
]


@pytest.mark.parametrize("status,exc_type", STATUS_CASES)
def test_status_errors_openai(stub, status, exc_type):
    stub.script(Reply(status=status), Reply(status=status))
    c = oa(stub)
    with pytest.raises(exc_type) as ei:
        c.chat.completions.create(model=MODEL, messages=MSGS)
    assert ei.value.status_code == status
    assert isinstance(ei.value.body, dict) and ei.value.body["message"]
    # streaming: raised by create() itself, before any iteration
    with pytest.raises(exc_type):
        c.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    assert len(stub.requests) == 2  # max_retries=0: no hidden retries


@pytest.mark.parametrize("status,exc_type", STATUS_CASES)
def test_status_errors_llamaindex(stub, status, exc_type):
    stub.script(Reply(status=status), Reply(status=status))
    llm = li(stub)
    with pytest.raises(exc_type):
        llm.chat(li_msgs())
    gen = llm.stream_chat(li_msgs())  # lazy: nothing raised yet
    with pytest.raises(exc_type):
        next(gen)
    assert len(stub.requests) == 2


def test_error_body_shape_and_custom_message(stub):
    stub.script(Reply(status=429, content="slow down", headers={"Retry-After": "0"}))
    with pytest.raises(openai.RateLimitError) as ei:
        oa(stub).chat.completions.create(model=MODEL, messages=MSGS)
    assert ei.value.body == {
        "message": "slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert ei.value.response.headers["retry-after"] == "0"


def test_500_is_an_apistatuserror_subclass(stub):
    # The answerer may catch the broad classes; make sure the hierarchy holds.
    stub.script(Reply(status=500))
    with pytest.raises(openai.APIStatusError):
        li(stub).chat(li_msgs())


# --------------------------------------------------------------------------
# timeouts, truncation, malformed payloads, dead server
# --------------------------------------------------------------------------


def test_timeout_openai(stub):
    stub.script(Reply(content="late", delay=5), Reply(content="late", delay=5))
    c = oa(stub, timeout=0.5)
    for kwargs in ({}, {"stream": True}):
        t0 = time.monotonic()
        with pytest.raises(openai.APITimeoutError) as ei:
            c.chat.completions.create(model=MODEL, messages=MSGS, **kwargs)
        assert time.monotonic() - t0 < 3
        assert isinstance(ei.value, openai.APIConnectionError)  # APITimeoutError subclasses it
        assert isinstance(ei.value.__cause__, httpx.TimeoutException)


def test_timeout_llamaindex(stub):
    stub.script(Reply(content="late", delay=5), Reply(content="late", delay=5))
    llm = li(stub, timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        llm.chat(li_msgs())
    assert time.monotonic() - t0 < 3
    t0 = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        next(llm.stream_chat(li_msgs()))
    assert time.monotonic() - t0 < 3


def test_stall_mid_stream_raises_raw_httpx_read_timeout(stub):
    # Headers and the first chunk arrive at once, then the server stalls longer
    # than the read timeout.  openai does NOT wrap errors raised while
    # iterating a stream, so this is httpx.ReadTimeout, not APITimeoutError.
    stub.script(Reply(content="a b c d", chunk_delay=2), Reply(content="a b c d", chunk_delay=2))
    t0 = time.monotonic()
    stream = oa(stub, timeout=0.5).chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    deltas, err = drain_openai(stream)
    assert isinstance(err, httpx.ReadTimeout)
    assert not isinstance(err, openai.OpenAIError)
    assert deltas == []  # only the role chunk (empty content) got through
    assert time.monotonic() - t0 < 3

    t0 = time.monotonic()
    deltas, err = drain_li(li(stub, timeout=0.5).stream_chat(li_msgs()))
    assert isinstance(err, httpx.ReadTimeout)
    assert time.monotonic() - t0 < 3


def test_chunk_delay_within_timeout_streams_fine(stub):
    stub.script(Reply(content="a b c d", chunk_delay=0.05))
    deltas, err = drain_openai(oa(stub, timeout=2).chat.completions.create(model=MODEL, messages=MSGS, stream=True))
    assert err is None and "".join(deltas) == "a b c d"


def test_truncated_stream_openai(stub):
    # Deterministic: the stub sends the role chunk + half the content deltas in
    # chunked encoding, then shuts the socket without the terminating chunk.
    # The client yields what it received, then raises httpx.RemoteProtocolError
    # (incomplete chunked read) -- never a silent clean end.
    content = "one two three four five six"
    stub.script(Reply(content=content, truncate_stream=True))
    stream = oa(stub).chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    deltas, err = drain_openai(stream)
    assert isinstance(err, httpx.RemoteProtocolError)
    assert not isinstance(err, openai.OpenAIError)
    assert deltas == ["one ", "two ", "three "]
    assert content.startswith("".join(deltas))


def test_truncated_stream_llamaindex(stub):
    content = "one two three four five six"
    stub.script(Reply(content=content, truncate_stream=True))
    deltas, err = drain_li(li(stub).stream_chat(li_msgs()))
    assert isinstance(err, httpx.RemoteProtocolError)
    assert deltas == ["one ", "two ", "three "]


def test_truncate_flag_ignored_for_non_streaming(stub):
    stub.script(Reply(content="whole answer", truncate_stream=True))
    assert oa(stub).chat.completions.create(model=MODEL, messages=MSGS).choices[0].message.content == "whole answer"


def test_malformed_non_streaming(stub):
    stub.script(Reply(content="x", malformed=True), Reply(content="x", malformed=True))
    with pytest.raises(json.JSONDecodeError):
        oa(stub).chat.completions.create(model=MODEL, messages=MSGS)
    with pytest.raises(json.JSONDecodeError):
        li(stub).chat(li_msgs())


def test_malformed_stream_line(stub):
    stub.script(Reply(content="one two three", malformed=True), Reply(content="one two three", malformed=True))
    deltas, err = drain_openai(oa(stub).chat.completions.create(model=MODEL, messages=MSGS, stream=True))
    assert isinstance(err, json.JSONDecodeError)
    assert deltas == ["one "]  # the bad line comes right after the first content delta
    deltas, err = drain_li(li(stub).stream_chat(li_msgs()))
    assert isinstance(err, json.JSONDecodeError)
    assert deltas == ["one "]


def test_stop_is_quick_while_reply_sleeps():
    stub = StubOpenAI().start()
    stub.script(Reply(content="never", delay=30))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            oa(stub, timeout=20).chat.completions.create(model=MODEL, messages=MSGS)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=call, daemon=True)
    t.start()
    deadline = time.monotonic() + 5
    while not stub.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stub.requests, "request never reached the stub"
    t0 = time.monotonic()
    stub.stop()
    assert time.monotonic() - t0 < 1
    t.join(5)
    assert not t.is_alive()
    # The in-flight client sees the connection dropped without a response.
    assert len(errors) == 1 and type(errors[0]) is openai.APIConnectionError


def test_server_down_is_connection_error():
    stub = StubOpenAI().start()
    stub.stop()
    with pytest.raises(openai.APIConnectionError) as ei:
        oa(stub).chat.completions.create(model=MODEL, messages=MSGS)
    assert not isinstance(ei.value, openai.APITimeoutError)
    with pytest.raises(openai.APIConnectionError):
        li(stub).chat(li_msgs())
