"""tests/openai_stub.py (a TEST STAND-IN, no model) against the real `openai` client over real
sockets: the few facts the LLM tests rely on, above all how each failure surfaces, because
`rag.chat.classify` maps exactly these exceptions to the notice a user sees:

    HTTP 500/503, 401, 429, 400   openai.InternalServerError / AuthenticationError / RateLimitError / BadRequestError
    no answer within the timeout  openai.APITimeoutError
    server gone                   openai.APIConnectionError
    stall mid-stream              a timeout raised while iterating, after the deltas so far
                                  (httpx.ReadTimeout in openai 1-2, openai.APITimeoutError in 3)
    truncated stream              a connection error raised while iterating, after the deltas so far
                                  (httpx.RemoteProtocolError in openai 1-2, APIConnectionError in 3)
    malformed SSE line            json.JSONDecodeError, mid-iteration
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from openai_stub import Reply, StubOpenAI
except ImportError:  # pragma: no cover
    from tests.openai_stub import Reply, StubOpenAI

MODEL = "briefing-test-model"
MSGS = [{"role": "system", "content": "Answer from the passages."}, {"role": "user", "content": "What is the budget?"}]
TEXT = "The budget is  forty million, per passage [1].\nSee also [2]."


@pytest.fixture
def stub():
    with StubOpenAI() as s:
        yield s


def client(stub: StubOpenAI, timeout: float = 10.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0, timeout=timeout)


def drain(stream) -> tuple[list[str], BaseException | None]:
    deltas: list[str] = []
    try:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                deltas.append(chunk.choices[0].delta.content)
    except Exception as exc:  # noqa: BLE001 - returned for inspection
        return deltas, exc
    return deltas, None


def test_streaming_deltas_join_in_order_and_requests_are_recorded(stub):
    stub.script(Reply(content=TEXT))
    deltas, err = drain(client(stub).chat.completions.create(model=MODEL, messages=MSGS, stream=True))
    assert err is None and len(deltas) > 3 and "".join(deltas) == TEXT
    (request,) = stub.requests
    assert request["model"] == MODEL and request["messages"] == MSGS and request["stream"] is True
    assert {k.lower(): v for k, v in request["headers"].items()}["authorization"] == "Bearer test"


@pytest.mark.parametrize("status, exc_type", [
    (500, openai.InternalServerError), (503, openai.InternalServerError), (401, openai.AuthenticationError),
    (429, openai.RateLimitError), (400, openai.BadRequestError),
])
def test_status_errors_raise_from_create(stub, status, exc_type):
    stub.script(Reply(status=status, headers={"Retry-After": "3"}))
    with pytest.raises(exc_type) as caught:
        client(stub).chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    assert caught.value.status_code == status and caught.value.response.headers["retry-after"] == "3"
    assert len(stub.requests) == 1


def test_no_answer_within_the_timeout(stub):
    stub.script(Reply(content="late", delay=5))
    with pytest.raises(openai.APITimeoutError):
        client(stub, timeout=0.5).chat.completions.create(model=MODEL, messages=MSGS, stream=True)


@pytest.mark.parametrize("reply, exc_types, delivered", [
    (Reply(content="a b c d", chunk_delay=2), (httpx.TimeoutException, openai.APITimeoutError), []),
    (Reply(content="one two three four five six", truncate_stream=True),
     (httpx.RemoteProtocolError, openai.APIConnectionError), ["one ", "two ", "three "]),
    (Reply(content="one two three", malformed=True), (json.JSONDecodeError,), ["one "]),
], ids=["stall", "truncated", "malformed"])
def test_stream_failures_surface_mid_iteration(stub, reply, exc_types, delivered):
    stub.script(reply)
    stream = client(stub, timeout=0.5).chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    deltas, err = drain(stream)  # create() returned: the failure comes while iterating
    assert isinstance(err, exc_types), repr(err)
    assert deltas == delivered


def test_server_down_is_a_connection_error():
    stub = StubOpenAI().start()
    stub.stop()
    with pytest.raises(openai.APIConnectionError) as caught:
        client(stub).chat.completions.create(model=MODEL, messages=MSGS)
    assert not isinstance(caught.value, openai.APITimeoutError)
