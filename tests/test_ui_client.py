"""The running app without a browser: the named API endpoint through gradio_client, the launch
guards (bind address, basic auth), and how uploads are indexed."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from helpers import free_port
except ImportError:  # pragma: no cover
    from tests.helpers import free_port

QUESTION = "What does FOIP stand for?"


@pytest.fixture(scope="module")
def app_url(settings, briefing):
    """The app over the shared session index, sharing its pipeline with the `briefing` fixture."""
    from ui.app import build_app

    app = build_app(settings, briefing)
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield app.local_url
    app.close()


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def _comparable(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings"}


def test_named_endpoint_returns_the_same_answer_as_ask(client, briefing):
    got = client.predict(QUESTION, None, api_name="/ask")
    expected = briefing.ask(QUESTION).to_dict()
    assert got["text"] == expected["text"]
    assert got["citations"] == expected["citations"]
    assert _comparable(got) == _comparable(expected)
    assert "[1]" in got["text"] and got["citations"][0]["n"] == 1
    assert any("Free and Open Indo-Pacific" in s["text"] for c in got["citations"] for s in c["spans"])


def test_named_endpoint_applies_the_sources_filter(client, briefing):
    source = "asan-issue-brief-2025-43-japan-under-takaichi.txt"
    question = "What does Takaichi's coalition mean for Korea?"
    got = client.predict(question, [source], api_name="/ask")
    expected = briefing.ask(question, filters={"sources": [source]}).to_dict()
    assert _comparable(got) == _comparable(expected)
    assert got["passages"] and {p["source"] for p in got["passages"]} == {source}


def test_named_endpoint_is_documented_and_errors_are_readable(client):
    from gradio_client.exceptions import AppError

    api = client.view_api(print_info=False, return_format="dict")
    assert "/ask" in api["named_endpoints"]
    params = [p["parameter_name"] for p in api["named_endpoints"]["/ask"]["parameters"]]
    assert params[:2] == ["question", "sources"]
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", None, api_name="/ask")
    with pytest.raises(AppError, match="YYYY-MM-DD"):
        client.predict(QUESTION, None, "last year", "", api_name="/ask")


def test_only_the_ask_endpoint_is_public(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]
    assert not api["unnamed_endpoints"]


# --- launch guards -------------------------------------------------------------------------------

def test_refuses_to_bind_beyond_localhost_without_auth(settings):
    from rag.base.errors import BriefingError
    from ui.server import check_bind, launch

    with pytest.raises(BriefingError, match="BRIEFING_UI_AUTH"):
        launch(settings.model_copy(update={"ui_host": "0.0.0.0"}))
    check_bind(settings.model_copy(update={"ui_host": "0.0.0.0", "ui_auth": "a:b"}))
    check_bind(settings.model_copy(update={"ui_host": "0.0.0.0", "ui_allow_remote": True}))
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(settings.model_copy(update={"ui_host": host}))


def test_auth_setting_is_validated():
    from rag.base.errors import BriefingError
    from ui.server import parse_auth

    assert parse_auth("") is None
    assert parse_auth("ana:s3cr:et") == ("ana", "s3cr:et")
    for bad in ("nopassword", ":pw", "user:"):
        with pytest.raises(BriefingError):
            parse_auth(bad)


def test_launch_with_auth_requires_login(settings):
    from gradio_client import Client

    from ui.server import launch

    port = free_port()
    app = launch(settings.model_copy(update={"ui_auth": "analyst:correct horse", "ui_port": port}),
                 prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url + "config", timeout=10)
        assert info.value.code in (401, 403)
        with pytest.raises(Exception):
            Client(url, verbose=False)
        authed = Client(url, auth=("analyst", "correct horse"), verbose=False)
        assert "/ask" in authed.view_api(print_info=False, return_format="dict")["named_endpoints"]
    finally:
        app.close()


# --- uploads are indexed with the corpus as their root ---------------------------------------------

def test_uploads_get_the_same_source_as_a_later_corpus_ingest(tmp_path):
    from ingest.index import ingest
    from ingest.store import Store
    from rag.base.settings import Settings
    from ui.uploads import ingest_files, save_uploads

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "base.txt").write_text("Base note\n\nThe harbour opened in 1901.\n", encoding="utf-8")
    incoming = tmp_path / "Zephyr note.txt"
    incoming.write_text("Zephyr note\n\nThe Zephyr Accord was signed in Reykjavik in 2031.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "index", corpus=corpus, answer_mode="extractive")
    store = Store(settings)
    assert ingest([corpus], settings, store=store, progress=False).ok

    saved = save_uploads([str(incoming)], corpus, max_mb=1)
    report = ingest_files(saved.saved, corpus, settings, store)
    assert report.added == ["uploads/Zephyr-note.txt"], report.summary()
    record = {r.source: r for r in store.document_records()}["uploads/Zephyr-note.txt"]
    assert record.root == str(corpus.resolve())

    again = ingest([corpus], settings, store=store, progress=False)  # what `briefing ingest` would do
    assert again.added == [] and sorted(again.unchanged) == ["base.txt", "uploads/Zephyr-note.txt"]
    assert sorted(r.source for r in store.document_records()) == ["base.txt", "uploads/Zephyr-note.txt"]


def test_launch_indexes_the_corpus_when_the_index_is_empty(tmp_path):
    from gradio_client import Client

    from rag.base.settings import Settings
    from ui.server import launch

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text("Harbour note\n\nThe northern harbour opened in 1901.\n", encoding="utf-8")
    port = free_port()
    settings = Settings(data_dir=tmp_path / "index", corpus=corpus, answer_mode="extractive", ui_port=port,
                        openai_api_key="", openai_base_url="")
    app = launch(settings, prevent_thread_lock=True, quiet=True)
    try:
        got = Client(f"http://127.0.0.1:{port}/", verbose=False).predict("When did the northern harbour open?", None,
                                                                          api_name="/ask")
        assert "1901" in got["text"] and got["citations"][0]["passage"]["source"] == "harbour.txt"
    finally:
        app.close()
