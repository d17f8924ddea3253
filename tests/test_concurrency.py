"""Many users at once: concurrent asks on one Briefing give the answers serial asks give, a write
racing the reads breaks none of them, and the app's `/ask` answers questions side by side
instead of one at a time (issue "A team's index")."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import traceback
from pathlib import Path

import pytest

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from helpers import free_port
except ImportError:  # pragma: no cover
    from tests.helpers import free_port

# `make test` runs this module after the rest, on its own: it times answers side by side.
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[1]
THREADS, PER_THREAD = 8, 10


def _questions(n: int) -> list[str]:
    lines = (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    questions = list(dict.fromkeys(json.loads(line)["question"] for line in lines if line.strip()))
    assert len(questions) >= n
    return questions[:n]


def _comparable(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings"}


@contextlib.contextmanager
def _one_blas_thread():
    """numpy's BLAS on one thread for the block, then as it was (left alone without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def _no_errors(errors: list[str]) -> None:
    if errors:
        pytest.fail(f"{len(errors)} thread(s) failed; the first:\n{errors[0]}", pytrace=False)


def _together(n: int, work) -> tuple[list, list[str]]:
    """Run work(i) for i < n on n threads released at once; (results by i, exceptions raised)."""
    start = threading.Barrier(n)
    results: list = [None] * n
    errors: list[str] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test, with where it came from
            errors.append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results, errors


# --- the pipeline -----------------------------------------------------------------------------------

def test_concurrent_asks_on_one_briefing_equal_serial_asks(settings):
    """8 threads x 10 different questions on one fresh Briefing (so its parts are built by the
    racing first questions too), then the same 80 serially on it: the same answers, no error."""
    from rag.pipeline import Briefing

    questions = _questions(THREADS * PER_THREAD)
    briefing = Briefing(settings)

    def asks(i: int) -> list[dict]:
        return [briefing.ask(q).to_dict() for q in questions[i::THREADS]]

    with _one_blas_thread():  # as the servers run it (rag.base.threads.one_blas_thread); only faster
        results, errors = _together(THREADS, asks)
        _no_errors(errors)
        concurrent = {q: d for i, got in enumerate(results) for q, d in zip(questions[i::THREADS], got)}
        assert len(concurrent) == len(questions)
        for question in questions:
            assert _comparable(concurrent[question]) == _comparable(briefing.ask(question).to_dict()), question


def test_a_write_racing_the_reads_breaks_no_answer(tmp_path):
    """Readers keep asking while uploads and removals (the app's own handlers, one at a time as
    their queue runs them) change the index under them: no reader fails, and once the upload is
    removed again the answers are what they were."""
    from ingest.index import ingest
    from rag.base.settings import Settings
    from rag.pipeline import Briefing
    from ui.handlers import DocumentHandlers

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text(
        "Harbour note\n\nThe harbour of Vell opened in 1901. It handles grain and timber. "
        "The harbour master in 2024 was Ana Brel.\n", encoding="utf-8")
    (corpus / "rail.txt").write_text(
        "Rail note\n\nThe Vell railway reached the coast in 1912. Its trains carry coal and passengers. "
        "Electric trains replaced steam in 1968.\n", encoding="utf-8")
    incoming = tmp_path / "Zephyr note.txt"
    incoming.write_text("Zephyr note\n\nThe Zephyr Accord on harbour tariffs was signed in Reykjavik in 2031.\n",
                        encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "index", corpus=corpus, answer_mode="extractive",
                        openai_api_key="", openai_base_url="")
    briefing = Briefing(settings)
    assert ingest([corpus], settings, store=briefing.store, progress=False).ok
    questions = ["When did the harbour of Vell open?", "What does the harbour handle?",
                 "When did electric trains replace steam?", "Who was the harbour master in 2024?"]
    before = {q: _comparable(briefing.ask(q).to_dict()) for q in questions}

    docs = DocumentHandlers(settings, briefing)
    writing = threading.Event()
    readers, rounds = 4, 3

    def work(i: int):
        if i == readers:  # the writer: upload, then remove, `rounds` times
            try:
                for _ in range(rounds):
                    docs.add_files([str(incoming)], [], "", "", progress=lambda *a, **k: None)
                    assert "uploads/Zephyr-note.txt" in {r.source for r in docs.records()}
                    docs.remove_document("uploads/Zephyr-note.txt", [], "", "")
                    assert "uploads/Zephyr-note.txt" not in {r.source for r in docs.records()}
            finally:
                writing.set()
            return None
        asked = 0
        while not writing.is_set() or asked < len(questions):
            answer = briefing.ask(questions[asked % len(questions)])
            assert answer.text and answer.to_dict()["question"]
            asked += 1
        return asked

    results, errors = _together(readers + 1, work)
    _no_errors(errors)
    assert all(n >= len(questions) for n in results[:readers])
    briefing.invalidate()
    assert {q: _comparable(briefing.ask(q).to_dict()) for q in questions} == before


# --- the app ------------------------------------------------------------------------------------

def test_asking_runs_concurrently_and_writes_one_at_a_time(settings, briefing):
    """How the events are queued: questions (chat and `/ask`) share one queue running
    `ui_concurrency` at once; uploads and removals have their own, one at a time."""
    from ui.app import build_app

    app = build_app(settings.model_copy(update={"ui_concurrency": 6}), briefing)
    by_name = {}
    for fn in app.fns.values():
        by_name.setdefault(getattr(fn.fn, "__name__", ""), []).append(fn)
    for name in ("respond", "api_ask"):
        assert {(f.concurrency_id, f.concurrency_limit) for f in by_name[name]} == {("ask", 6)}, name
    for name in ("add_files", "remove_document"):
        assert {(f.concurrency_id, f.concurrency_limit) for f in by_name[name]} == {("index-writes", 1)}, name
    assert app._queue.default_concurrency_limit == 6  # page loads and the like do not queue behind each other


WAIT = 0.25  # seconds each `/ask` of the timed app also waits, as for an LLM's reply


class WaitingBriefing:
    """The shared pipeline, whose ask() first waits WAIT seconds the way an LLM call waits on the
    network (sleeping releases the GIL, as a socket read does). Real answers, but a queue that
    runs one question at a time shows plainly: 8 questions then take at least 8 x WAIT however
    idle or busy the machine is, while side by side they wait once."""

    def __init__(self, briefing):
        self._briefing = briefing

    def __getattr__(self, name):
        return getattr(self._briefing, name)

    def ask(self, *args, **kwargs):
        time.sleep(WAIT)
        return self._briefing.ask(*args, **kwargs)


@pytest.fixture(scope="module")
def app_url(settings, briefing):
    from ui.app import build_app

    app = build_app(settings, WaitingBriefing(briefing))
    app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield app.local_url
    app.close()


def _client(url: str):
    from gradio_client import Client

    # Plain http on loopback: ssl_verify=False only spares gradio_client loading the CA bundle
    # for every request (~50 ms of CPU each on this machine).
    return Client(url, verbose=False, ssl_verify=False)


def test_app_answers_concurrent_questions_side_by_side(app_url, briefing):
    """8 users' `/ask` at once, against the same 8 asked one after another through the same app:
    the same answers, in clearly less time (a one-at-a-time queue makes the two about equal).
    Best of two rounds each, so a burst of load from other processes does not decide it."""
    questions = _questions(8)
    expected = {q: _comparable(briefing.ask(q).to_dict()) for q in questions}
    serial_client = _client(app_url)
    clients = [_client(app_url) for _ in questions]
    serial_client.predict(questions[0], api_name="/ask")  # warm: the model and the snapshot are loaded

    serial, concurrent = [], []
    for _ in range(2):
        t0 = time.perf_counter()
        got = [serial_client.predict(q, api_name="/ask") for q in questions]
        serial.append(time.perf_counter() - t0)
        assert [_comparable(g) for g in got] == [expected[q] for q in questions]

        t0 = time.perf_counter()
        got, errors = _together(len(questions), lambda i: clients[i].predict(questions[i], api_name="/ask"))
        concurrent.append(time.perf_counter() - t0)
        _no_errors(errors)
        assert [_comparable(g) for g in got] == [expected[q] for q in questions]
    assert min(serial) >= len(questions) * WAIT
    assert min(concurrent) < 0.5 * min(serial), (serial, concurrent)
