"""Server mode: the same code against a real `chroma run` on a free loopback port.

The fixture starts the server from the venv's `chroma` executable, waits for its heartbeat and
stops it at teardown. Ingesting the bundled corpus there and asking a question must give the
same answer and citations as the local index of the session fixtures.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.base.errors import BriefingError

CHROMA = Path(sys.executable).parent / "chroma"
QUESTIONS = ["What does FOIP stand for?", "Which party left the coalition with the LDP?"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _heartbeat(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not CHROMA.is_file():
        pytest.skip(f"no chroma executable at {CHROMA}")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path / "server.log", "wb")
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(path / "data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not come up: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server_settings(chroma_server, settings, tmp_path_factory):
    from ingest.index import ingest

    s = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma_server,
                                    "data_dir": tmp_path_factory.mktemp("unused-local-dir")})
    report = ingest([settings.corpus], s, progress=False)
    assert report.ok and len(report.added) == 5, report.summary()
    return s


def _comparable(answer) -> dict:
    """The payload, scores to 4 places: the server's index may have been embedded after a server
    surface set BLAS to one thread (rag.base.threads), which moves a vector by ~1e-7."""
    data = answer.to_dict()
    data.pop("timings")
    for passage in data["passages"] + [c["passage"] for c in data["citations"]]:
        passage["score"] = round(passage["score"], 4)
    return data


def test_server_index_matches_the_local_one(server_settings, settings):
    from ingest.store import Store

    server, local = Store(server_settings), Store(settings)
    assert server.location == f"127.0.0.1:{server_settings.chroma_port}"
    assert server.document_records() == local.document_records()
    assert sorted(server.all_chunks()[0]) == sorted(local.all_chunks()[0])
    assert server.sentences.count() == local.sentences.count()
    # Nothing of the index is written locally; a reader keeps only its own read cache there.
    assert {p.name for p in Path(server_settings.data_dir).iterdir()} <= {"readcache"}


@pytest.mark.parametrize("question", QUESTIONS)
def test_same_answer_and_citations_as_the_local_index(server_settings, briefing, question):
    from rag.pipeline import Briefing

    remote = Briefing(server_settings).ask(question)
    local = briefing.ask(question)
    assert remote.citations, remote.text
    assert _comparable(remote) == _comparable(local)


def test_reingest_through_the_server_writes_nothing(server_settings):
    from ingest.index import ingest

    report = ingest([server_settings.corpus], server_settings, progress=False)
    assert report.ok and report.chunks_written == 0 and len(report.unchanged) == 5


def test_server_down_is_a_clear_error(settings):
    from ingest.index import ingest
    from rag.pipeline import Briefing

    down = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": _free_port()})
    with pytest.raises(BriefingError, match=r"Cannot reach the Chroma server at 127\.0\.0\.1:\d+.*chroma run"):
        Briefing(down).ask("What does FOIP stand for?")
    with pytest.raises(BriefingError, match="Cannot reach the Chroma server"):
        ingest([settings.corpus], down, progress=False)


def test_server_lost_after_start_is_a_clear_error(settings, tmp_path):
    """A server that goes away under a running session: BriefingError, not a transport traceback."""
    from ingest.store import Store

    port = _free_port()
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path / "data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat(port):
            assert proc.poll() is None and time.monotonic() < deadline, "chroma run did not come up"
            time.sleep(0.2)
        store = Store(settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port}))
        assert store.count() == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    with pytest.raises(BriefingError, match="Lost the connection to the Chroma server"):
        store.count()
