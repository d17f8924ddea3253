"""`briefing serve`: the OpenAI-compatible API, through the real `openai` client against the real
uvicorn server on a loopback port (the session index, extractive mode), plus its pure formatting
helpers and the bind guard."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from helpers import free_port
except ImportError:  # pragma: no cover
    from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What does FOIP stand for?"
DEFENSE_Q = "What did Takaichi pledge on defense spending?"
FOLLOW_UP = "And what did China say about it?"
KEY = "test-key-1"


@contextlib.contextmanager
def running(app):
    """The app served by uvicorn in a background thread; yields its /v1 base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True, name="api-test-server")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def base_url(briefing):
    from rag.api import create_app

    with running(create_app(briefing)) as url:
        yield url


@pytest.fixture(scope="module")
def keyed_url(settings, briefing):
    """A second server over the same index whose settings require KEY."""
    from rag.api import create_app
    from rag.pipeline import Briefing

    keyed = Briefing(settings.model_copy(update={"api_keys": f"{KEY}, other-key"}), store=briefing.store,
                     embedder=briefing.embedder, retriever=briefing.retriever)
    with running(create_app(keyed)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url):
    return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)


def _comparable(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings"}


def _ask(client, question, **kw):
    return client.chat.completions.create(model="briefing-extractive",
                                          messages=[{"role": "user", "content": question}], **kw)


# --- through the openai client --------------------------------------------------------------


def test_models_lists_the_extractive_mode_only_without_an_llm(client):
    assert [m.id for m in client.models.list()] == ["briefing-extractive"]


def test_a_completion_carries_markers_sources_and_the_full_answer(client, briefing):
    reply = _ask(client, QUESTION)
    text = reply.choices[0].message.content
    extra = reply.model_extra["briefing"]
    expected = briefing.ask(QUESTION).to_dict()
    assert _comparable(extra) == _comparable(expected)  # the same payload as rag.ask
    assert reply.object == "chat.completion" and reply.model == "briefing-extractive"
    assert reply.choices[0].finish_reason == "stop"
    assert text.startswith(expected["text"]) and "[1]" in text
    sources = text.split("\n\nSources:\n", 1)[1].splitlines()
    assert len(sources) == len(expected["citations"])
    first = expected["citations"][0]
    assert sources[0].startswith(f"[1] {first['passage']['title']} — {first['passage']['source']}, ")
    assert " ".join(first["spans"][0]["text"].split()) in sources[0]
    assert "Free and Open Indo-Pacific" in text


def test_streamed_deltas_add_up_to_the_reply_and_the_last_chunk_carries_the_answer(client):
    whole = _ask(client, QUESTION)
    chunks = list(_ask(client, QUESTION, stream=True))
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert [c for c in chunks if c.model_extra.get("briefing")] == [chunks[-1]]
    assert _comparable(chunks[-1].model_extra["briefing"]) == _comparable(whole.model_extra["briefing"])


def test_earlier_messages_are_the_history_of_a_follow_up(client, briefing):
    first = _ask(client, DEFENSE_Q).choices[0].message.content
    assert "\n\nSources:\n" in first
    reply = client.chat.completions.create(model="briefing-extractive", messages=[
        {"role": "system", "content": "You are helpful."},  # not part of the conversation
        {"role": "user", "content": [{"type": "text", "text": DEFENSE_Q}]},  # the list-of-parts format
        {"role": "assistant", "content": first},  # sent back with its Sources block, which is dropped
        {"role": "user", "content": FOLLOW_UP},
    ])
    answer_text = first.split("\n\nSources:\n")[0]
    expected = briefing.ask(FOLLOW_UP, history=[{"role": "user", "content": DEFENSE_Q},
                                                {"role": "assistant", "content": answer_text}]).to_dict()
    extra = reply.model_extra["briefing"]
    assert extra["question"] == FOLLOW_UP
    assert _comparable(extra) == _comparable(expected)
    assert extra["text"] != briefing.ask(FOLLOW_UP).text  # the history changed the answer


def test_an_unanswerable_question_abstains(client):
    reply = _ask(client, "What is the capital of Australia?")
    assert reply.choices[0].message.content.startswith("The documents don't answer this")
    assert reply.model_extra["briefing"]["abstained"] is True


def test_unknown_model_is_404_in_openai_shape(client, base_url):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.code == "model_not_found" and "briefing-extractive" in caught.value.message
    # LLM mode is not offered where no LLM is configured
    raw = httpx.post(f"{base_url}/chat/completions", json={"model": "briefing-llm", "messages": []})
    assert raw.status_code == 404 and set(raw.json()["error"]) >= {"message", "type", "code"}


@pytest.mark.parametrize("messages, says", [
    ([], "`messages` is empty"),
    ([{"role": "system", "content": "Be brief."}], 'No message has "role": "user"'),
    ([{"role": "user", "content": 42}], "must be a string or a list of"),
    ([{"role": "user", "content": "   "}], "The question is empty"),
    ([{"role": "user", "content": "why " * 400}], "Ask something shorter"),
])
def test_bad_input_is_400_saying_what_to_do(client, messages, says):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="briefing-extractive", messages=messages)
    assert caught.value.status_code == 400 and says in caught.value.message
    assert caught.value.type == "invalid_request_error"


def test_a_streamed_request_with_bad_input_is_400_before_any_chunk(client):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="briefing-extractive", messages=[], stream=True)


# --- API keys and the bind guard ------------------------------------------------------------------


@pytest.mark.parametrize("api_key", [None, "wrong-key"], ids=["no key", "wrong key"])
def test_keys_set_refuse_a_request_without_a_valid_key(keyed_url, api_key):
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    raw = httpx.get(f"{keyed_url}/models", headers=headers)
    assert raw.status_code == 401 and raw.json()["error"]["code"] == "invalid_api_key"
    # the openai client always sends a key: without one it is the raw request above, also for completions
    if api_key is None:
        raw = httpx.post(f"{keyed_url}/chat/completions", json={"model": "briefing-extractive", "messages": []})
        assert raw.status_code == 401 and raw.json()["error"]["type"] == "authentication_error"
        return
    with pytest.raises(openai.AuthenticationError):
        _ask(openai.OpenAI(base_url=keyed_url, api_key=api_key, max_retries=0), QUESTION)


def test_keys_set_accept_each_configured_key(keyed_url):
    for key in (KEY, "other-key"):
        reply = _ask(openai.OpenAI(base_url=keyed_url, api_key=key, max_retries=0), QUESTION)
        assert "[1]" in reply.choices[0].message.content


def test_serve_refuses_a_remote_host_without_keys(settings, monkeypatch):
    from rag import cli
    from rag.api import check_bind, serve
    from rag.base.errors import ConfigError

    monkeypatch.delenv("BRIEFING_API_KEYS", raising=False)
    with pytest.raises(ConfigError, match="BRIEFING_API_KEYS"):
        serve(settings, host="0.0.0.0", port=free_port())
    assert cli.main(["--data-dir", str(settings.data_dir), "serve", "--host", "0.0.0.0"]) == 4
    check_bind("0.0.0.0", settings.model_copy(update={"api_keys": KEY}))  # keys make it allowed
    check_bind("::1", settings)  # loopback needs none


# --- the README example ---------------------------------------------------------------------------


def test_the_readme_python_example_runs(base_url, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## OpenAI-compatible API (`briefing serve`)", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 'base_url="http://127.0.0.1:8400/v1"' in code
    exec(compile(code.replace("http://127.0.0.1:8400/v1", base_url), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "Free and Open Indo-Pacific" in printed and "Sources:" in printed and "False [True" in printed


# --- pure helpers -------------------------------------------------------------------------------


def _answer(**kw):
    from rag.base.types import Answer, Citation, Passage, Span

    passage = Passage("c1", "d1", "brief.txt", "A Brief", "2025-01-02", "Alpha beta. Gamma.", 0, 18, page=3)
    citation = Citation(1, passage, (Span(0, 11, "Alpha\nbeta."),), verified=kw.pop("verified", True))
    return Answer(question="q", text="Alpha beta. [1]", citations=(citation,), **kw)


def test_sources_block_has_one_line_per_citation():
    from rag.api import sources_block

    assert sources_block(_answer()) == 'Sources:\n[1] A Brief — brief.txt, 2025-01-02, p. 3: "Alpha beta."'
    assert sources_block(_answer(verified=False)).endswith("[UNVERIFIED: the passage does not support the sentence]")


def test_reply_text_adds_notice_unsupported_and_sources_and_history_drops_them_again():
    from rag.api import reply_text, strip_reply_tail

    answer = _answer(notice="LLM unavailable (timeout); showing an extractive answer", unsupported=("Made up.",))
    text = reply_text(answer)
    assert text.startswith("Alpha beta. [1]\n\nNotice: LLM unavailable")
    assert "\n\nUnsupported by the documents (not sourced):\n! Made up.\n\nSources:\n[1] A Brief" in text
    assert strip_reply_tail(reply_text(_answer())) == "Alpha beta. [1]"


def test_completion_and_chunk_objects_are_openai_shaped():
    from rag.api import chunk, completion, sse

    done = completion(_answer(), "briefing-extractive", cid="chatcmpl-1", created=7)
    assert done["object"] == "chat.completion" and done["created"] == 7
    assert done["choices"][0]["message"]["role"] == "assistant" and done["briefing"]["text"] == "Alpha beta. [1]"
    last = chunk("chatcmpl-1", "briefing-extractive", 7, {}, finish_reason="stop", answer=_answer())
    assert last["choices"][0]["finish_reason"] == "stop" and last["briefing"]["citations"][0]["n"] == 1
    assert "briefing" not in chunk("chatcmpl-1", "m", 7, {"content": "x"})
    assert json.loads(sse(last)[len("data: "):]) == last and sse("[DONE]") == "data: [DONE]\n\n"


def test_models_offer_llm_mode_only_when_configured(settings):
    from rag.api import available_models

    assert available_models(settings) == ["briefing-extractive"]
    configured = settings.model_copy(update={"openai_base_url": "http://127.0.0.1:9/v1"})
    assert available_models(configured) == ["briefing-extractive", "briefing-llm"]


def test_the_model_picks_the_answer_mode(settings, briefing):
    """With an LLM configured, briefing-llm answers through it (the scripted stand-in server of
    tests/openai_stub.py) and briefing-extractive still quotes the documents."""
    from openai_stub import Reply, StubOpenAI

    from rag.api import create_app
    from rag.pipeline import Briefing

    with StubOpenAI() as stub:
        configured = settings.model_copy(update={"openai_base_url": stub.base_url, "openai_api_key": "test",
                                                 "llm_model": "stub-model", "llm_timeout": 5})
        both = Briefing(configured, store=briefing.store, embedder=briefing.embedder, retriever=briefing.retriever)
        with running(create_app(both)) as url:
            client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=60)
            assert [m.id for m in client.models.list()] == ["briefing-extractive", "briefing-llm"]
            stub.script(Reply(content="Takaichi pledged 2% of GDP for defense [1]."))
            llm = client.chat.completions.create(model="briefing-llm",
                                                 messages=[{"role": "user", "content": DEFENSE_Q}])
            extractive = _ask(client, DEFENSE_Q)
    assert llm.model_extra["briefing"]["mode"] == "llm" and llm.model_extra["briefing"]["model"] == "stub-model"
    assert llm.choices[0].message.content.startswith("Takaichi pledged 2% of GDP for defense [1].")
    assert len(stub.requests) == 1
    assert extractive.model_extra["briefing"]["mode"] == "extractive"
