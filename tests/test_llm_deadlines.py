"""The LLM time bounds (rag.chat's module docstring): a first-token deadline that includes
retries, a silence limit between chunks and a whole-answer deadline, so a dead or stalled
server falls back to the extractive answer in bounded time.

No model runs here: `openai_stub.StubOpenAI` is a TEST STAND-IN for the OpenAI wire protocol
(scripted replies over real sockets). The settings are small (first token 1.5 s, answer 3 s) so
the bounds show in seconds; the defaults are checked arithmetically, not waited for.
"""

from __future__ import annotations

import socket
import time

import pytest

from rag.base.types import Answer

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from openai_stub import Reply, StubOpenAI
except ImportError:  # pragma: no cover
    from tests.openai_stub import Reply, StubOpenAI

# `make test` runs this module after the rest, on its own: it times deadlines to half a second.
pytestmark = pytest.mark.serial

QUESTION = "What did Takaichi pledge on defense spending?"
MSGS = [{"role": "user", "content": "What is the budget?"}]
FIRST_TOKEN = 1.5
SMALL = {"llm_first_token_timeout": FIRST_TOKEN, "llm_answer_timeout": 3.0, "llm_timeout": 15.0, "llm_max_retries": 2}
MARGIN = 0.5  # scheduling and socket slack for the client alone
PIPELINE_MARGIN = 2.5  # plus retrieval and the extractive answer on a shared machine


@pytest.fixture
def stub():
    with StubOpenAI() as s:
        yield s


@pytest.fixture
def silent_url():
    """A port that accepts connections (the kernel's backlog) and never reads or answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        listener.close()


@pytest.fixture
def refused_url():
    dead = StubOpenAI().start()
    url = dead.base_url
    dead.stop()
    return url


def small_settings(base_url: str, **overrides):
    from rag.base.settings import Settings

    return Settings(answer_mode="llm", openai_base_url=base_url, openai_api_key="test", llm_model="m",
                    **{**SMALL, **overrides})


def stream_for(base_url: str, **overrides) -> tuple[list[str], Exception | None, float]:
    """Drive OpenAIChat.stream alone: the deltas, the error it ended with, the seconds it took."""
    from rag.chat import OpenAIChat

    chat = OpenAIChat(small_settings(base_url, **overrides))
    chat.warm_up()  # the SDK import is not part of the bound being measured
    deltas: list[str] = []
    started = time.monotonic()
    try:
        for delta in chat.stream(MSGS, 50):
            deltas.append(delta)
        error = None
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        error = exc
    return deltas, error, time.monotonic() - started


def ask_through_pipeline(briefing, settings, base_url: str, **overrides) -> tuple[list[str], Answer, float]:
    from rag.pipeline import Briefing

    s = settings.model_copy(update={"answer_mode": "llm", "openai_base_url": base_url, "openai_api_key": "test",
                                    "llm_model": "m", **SMALL, **overrides})
    b = Briefing(s, store=briefing.store, embedder=briefing.embedder, retriever=briefing.retriever)
    b.chat.warm_up()
    started = time.monotonic()
    items = list(b.ask_stream(QUESTION))
    elapsed = time.monotonic() - started
    assert isinstance(items[-1], Answer) and all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1], elapsed


def assert_extractive_fallback(answer: Answer, words: str) -> None:
    assert answer.mode == "extractive" and not answer.abstained and answer.citations
    assert all(c.verified for c in answer.citations)
    assert answer.notice.startswith("LLM unavailable (") and answer.notice.endswith("showing an extractive answer")
    assert words in answer.notice, answer.notice


# --- a server that accepts and never answers -------------------------------------------------------


def test_silent_server_falls_back_at_the_first_token_deadline(briefing, settings, silent_url):
    deltas, answer, elapsed = ask_through_pipeline(briefing, settings, silent_url)
    assert FIRST_TOKEN - 0.1 < elapsed < FIRST_TOKEN + PIPELINE_MARGIN, elapsed
    assert_extractive_fallback(answer, f"no response from {silent_url} within {FIRST_TOKEN:g}s")
    assert deltas == [answer.text]  # nothing half-written was shown


def test_server_that_never_sends_headers_is_cut_at_the_deadline_not_after_all_retries(stub):
    stub.script(*[Reply(content="late", delay=30)] * 5)
    deltas, error, elapsed = stream_for(stub.base_url)
    assert deltas == [] and "no response" in str(error) and f"{FIRST_TOKEN:g}s" in str(error)
    assert FIRST_TOKEN - 0.1 < elapsed < FIRST_TOKEN + MARGIN, elapsed
    assert len(stub.requests) == 1  # llm_timeout > the deadline: a retry could not have finished


def test_role_chunk_alone_does_not_count_as_the_first_token(stub):
    stub.script(Reply(content="one two three", stall=30, stall_after=0))
    deltas, error, elapsed = stream_for(stub.base_url)
    assert deltas == [] and "stalled" in str(error)
    assert elapsed < FIRST_TOKEN + MARGIN, elapsed


# --- retries stay inside the first-token deadline --------------------------------------------------


def test_retry_timeouts_are_cut_to_what_is_left_of_the_deadline(stub):
    from rag.chat import BACKOFF_BASE

    # attempt 1 times out after llm_timeout (1.2 s); the retry, after 0.25 s, gets only the 1.05 s left
    stub.script(*[Reply(content="late", delay=30)] * 5)
    deltas, error, elapsed = stream_for(stub.base_url, llm_timeout=1.2, llm_first_token_timeout=2.5)
    assert deltas == [] and len(stub.requests) == 2
    assert 2.5 - 0.1 < elapsed < 2.5 + MARGIN, elapsed
    assert 1.2 + BACKOFF_BASE + 1.2 > 2.5  # so without the cut it would have run past the deadline
    assert "within 2.5s" in str(error)


def test_many_retries_never_run_past_the_deadline(stub):
    from rag.chat import MIN_ATTEMPT_SECONDS

    stub.script(*[Reply(content="late", delay=30)] * 20)
    deltas, error, elapsed = stream_for(stub.base_url, llm_timeout=0.4, llm_first_token_timeout=3.0,
                                        llm_max_retries=10)
    assert deltas == [] and error is not None
    assert 2 <= len(stub.requests) < 11  # it retried, but not all ten times
    assert elapsed < 3.0 + MARGIN, elapsed
    assert elapsed > 3.0 - MIN_ATTEMPT_SECONDS - 1.0  # it used the time it had (last backoff 1 s)


def test_quick_failures_stop_retrying_when_no_time_is_left(stub):
    stub.script(*[Reply(status=503)] * 20)
    _, error, elapsed = stream_for(stub.base_url, llm_max_retries=10)
    # 0 s, then +0.25 s; the next wait (0.5 s) would leave less than MIN_ATTEMPT_SECONDS
    assert len(stub.requests) == 2 and "HTTP 503" in str(error)
    assert elapsed < FIRST_TOKEN, elapsed


# --- a server that starts answering and then stalls ------------------------------------------------


def test_stall_after_the_first_token_is_cut_by_the_chunk_timeout(stub):
    stub.script(Reply(content="one two three four", stall=30, stall_after=1))
    deltas, error, elapsed = stream_for(stub.base_url, llm_timeout=0.5)
    assert deltas == ["one "] and "stalled for more than 0.5s" in str(error)
    assert 0.5 <= elapsed < 0.5 + MARGIN, elapsed
    assert len(stub.requests) == 1  # text was shown: never retried


def test_stall_mid_answer_falls_back_with_the_separator(briefing, settings, stub):
    stub.script(Reply(content="one two three four", stall=30, stall_after=2))
    deltas, answer, elapsed = ask_through_pipeline(briefing, settings, stub.base_url, llm_timeout=0.5)
    assert elapsed < 0.5 + PIPELINE_MARGIN, elapsed
    assert_extractive_fallback(answer, "stalled for more than 0.5s")
    assert "".join(deltas[:-2]) == "one two " and "interrupted" in deltas[-2] and deltas[-1] == answer.text


def test_slow_drip_is_cut_at_the_answer_deadline(stub):
    stub.script(Reply(content=" ".join(["word"] * 200), chunk_delay=0.1))
    deltas, error, elapsed = stream_for(stub.base_url, llm_answer_timeout=1.0)
    assert deltas and "took longer than 1s" in str(error)
    assert elapsed < 1.0 + MARGIN, elapsed


# --- a dead server ---------------------------------------------------------------------------------


def test_connection_refused_falls_back_quickly(briefing, settings, refused_url):
    deltas, answer, elapsed = ask_through_pipeline(briefing, settings, refused_url)
    assert elapsed < 2.0, elapsed
    assert_extractive_fallback(answer, "cannot connect to " + refused_url)
    assert deltas == [answer.text]


# --- the defaults ------------------------------------------------------------------------------------


def test_default_bounds_keep_the_fallback_under_20_seconds():
    from rag.base.settings import Settings
    from rag.chat import BACKOFF_CAP, MIN_ATTEMPT_SECONDS, RETRY_AFTER_CAP, no_token_bound

    defaults = Settings.model_construct()  # the declared defaults, whatever the environment says
    assert defaults.llm_first_token_timeout <= 15
    assert defaults.llm_answer_timeout >= defaults.llm_first_token_timeout
    assert no_token_bound(defaults) < 20
    # a retry is only sent with MIN_ATTEMPT_SECONDS left, so the longest wait plus it must fit
    assert max(BACKOFF_CAP, RETRY_AFTER_CAP) + MIN_ATTEMPT_SECONDS < defaults.llm_first_token_timeout
    # without the cut, the old arithmetic (every attempt's timeout plus every wait) would not fit
    uncut = defaults.llm_max_retries + 1
    assert uncut * defaults.llm_timeout > no_token_bound(defaults)
