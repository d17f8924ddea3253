"""A team's index: several writers, several readers (ingest/lock.py), all real parts.

- local index: a second writer waits for the `flock` holder (and says who holds it), gets the lock
  once released, and at once when the holder is killed;
- Chroma server: the same with the lease kept in Chroma (heartbeats keep a live holder's lease,
  a killed holder's lease is taken over after its ttl);
- end to end: two `briefing ingest` processes at once against a real `chroma run`, with a client
  asking questions meanwhile, end in exactly the index a one-after-the-other build gives; a
  running `Briefing` sees a document added or removed by another process within seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import free_port
from rag.base.errors import BriefingError, StoreError
from rag.base.settings import Settings

# `make test` runs this module after the rest, on its own: its leases expire in two seconds.
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
CHROMA = Path(sys.executable).parent / "chroma"
TTL = 2.0  # the lease ttl of the server tests' holders (the default is 30 s)

# A process that takes the lock from its BRIEFING_* environment, says HELD, and holds it until
# a line arrives on stdin (or it is killed).
HOLDER = """
import sys
from ingest.lock import writer_lock
from ingest.store import Store
from rag.base.settings import Settings

settings = Settings()
with writer_lock(Store(settings), settings, log=lambda m: print("LOG", m, flush=True)):
    print("HELD", flush=True)
    sys.stdin.readline()
print("RELEASED", flush=True)
"""


def _env(**briefing) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    env.update({f"BRIEFING_{k.upper()}": str(v) for k, v in briefing.items()})
    env.update(BRIEFING_ANSWER_MODE="extractive", HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    return env


def _heartbeat(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory):
    if not CHROMA.is_file():
        pytest.skip(f"no chroma executable at {CHROMA}")
    port = free_port()
    path = tmp_path_factory.mktemp("writers-chroma")
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


def _local(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "index", chroma_host="", answer_mode="extractive",
                    openai_api_key="", openai_base_url="")


def _server(port: int, collection: str, tmp_path: Path, **more) -> Settings:
    return Settings(data_dir=tmp_path / "unused", chroma_host="127.0.0.1", chroma_port=port, collection=collection,
                    answer_mode="extractive", openai_api_key="", openai_base_url="", **more)


def _holder_env(settings: Settings, ttl: float | None = None) -> dict[str, str]:
    fields = {"data_dir": settings.data_dir, "collection": settings.collection}
    if settings.chroma_host:
        fields.update(chroma_host=settings.chroma_host, chroma_port=settings.chroma_port)
    if ttl is not None:
        fields["ingest_lock_ttl"] = ttl
    return _env(**fields)


def _start_holder(settings: Settings, ttl: float | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=ROOT, env=_holder_env(settings, ttl),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "HELD", line + proc.stdout.read()[-3000:]
    return proc


class Waiter:
    """writer_lock() taken in a thread of the test process; records its messages and when it got in."""

    def __init__(self, settings: Settings, wait: float | None = None):
        from ingest.lock import writer_lock
        from ingest.store import Store

        self.messages: list[str] = []
        self.got = threading.Event()
        self.got_at = 0.0
        self.release = threading.Event()
        self.error: BaseException | None = None
        store = Store(settings)  # opened in this thread (see _never_together)

        def run():
            try:
                with writer_lock(store, settings, wait=wait, log=self.messages.append):
                    self.got_at = time.monotonic()
                    self.got.set()
                    self.release.wait(30)
            except BaseException as exc:  # reported by the test
                self.error = exc
                self.got.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait_for_message(self, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while not self.messages and time.monotonic() < deadline and not self.got.is_set():
            time.sleep(0.05)
        assert self.messages, f"no waiting message (error: {self.error!r})"
        return self.messages[0]

    def finish(self) -> None:
        self.release.set()
        self.thread.join(10)
        assert self.error is None, repr(self.error)


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.kill()
    out = proc.stdout.read() if proc.stdout else ""
    proc.wait(10)
    return out


# --- local index: flock -----------------------------------------------------------------------

def test_local_writer_waits_for_the_holder_and_says_who_it_is(tmp_path):
    settings = _local(tmp_path)
    holder = _start_holder(settings)
    try:
        waiter = Waiter(settings)
        message = waiter.wait_for_message()
        assert message.startswith("Another ingest is writing to this index (host "), message
        assert f"pid {holder.pid}" in message and "since " in message and "Ctrl-C to stop" in message, message
        time.sleep(0.5)
        assert not waiter.got.is_set(), "the waiter got the lock while it was held"
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "RELEASED"
        assert waiter.got.wait(5), "the waiter did not get the released lock"
        waiter.finish()
    finally:
        _stop(holder)
    assert (settings.data_dir / "ingest.lock").read_text() == ""  # the waiter's details went on release


def test_local_lock_of_a_killed_holder_is_free_at_once(tmp_path):
    settings = _local(tmp_path)
    holder = _start_holder(settings)
    try:
        waiter = Waiter(settings)
        waiter.wait_for_message()
        killed = time.monotonic()
        holder.kill()  # SIGKILL: no finally, no cleanup; the kernel drops the flock
        assert waiter.got.wait(5)
        assert waiter.got_at - killed < 2.0
        waiter.finish()
    finally:
        _stop(holder)


def test_local_wait_limit_is_a_clear_store_error(tmp_path):
    settings = _local(tmp_path)
    holder = _start_holder(settings)
    try:
        waiter = Waiter(settings, wait=0.5)
        assert waiter.got.wait(10)
        assert isinstance(waiter.error, StoreError), repr(waiter.error)
        assert f"pid {holder.pid}" in str(waiter.error) and "Run this ingest again" in str(waiter.error)
    finally:
        _stop(holder)


def test_local_threads_never_hold_the_lock_together(tmp_path):
    _never_together(_local(tmp_path))


def _never_together(settings: Settings, writers: int = 4) -> None:
    """Writers racing for the lock: at most one is ever inside, and each gets in."""
    from ingest.lock import writer_lock
    from ingest.store import Store

    inside, most, done, errors = [0], [0], [], []
    guard = threading.Lock()
    start = threading.Barrier(writers)

    # Opened here, one after the other: chromadb's client cache is not safe to fill from threads.
    stores = [Store(settings) for _ in range(writers)]

    def writer(i: int):
        try:
            start.wait()
            with writer_lock(stores[i], settings, log=lambda m: None):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.2)
                with guard:
                    inside[0] -= 1
            done.append(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(done) == list(range(writers)) and most[0] == 1, (done, most)


# --- Chroma server: the lease ----------------------------------------------------------------

def test_server_writer_waits_while_the_heartbeat_goes_on(chroma_port, tmp_path):
    settings = _server(chroma_port, "lease-wait", tmp_path)
    holder = _start_holder(settings, ttl=TTL)
    try:
        waiter = Waiter(settings)
        message = waiter.wait_for_message()
        assert message.startswith("Another ingest is writing to this index (host "), message
        assert f"pid {holder.pid}" in message and "last heartbeat" in message, message
        assert f"a crashed writer's lock expires after {TTL:g} s" in message, message  # the holder's ttl
        time.sleep(2.5 * TTL)  # well past the ttl: the holder's heartbeats keep its lease
        assert not waiter.got.is_set(), f"the waiter took a live lease: {waiter.error!r}"
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "RELEASED"
        released = time.monotonic()
        assert waiter.got.wait(5), "the waiter did not get the released lease"
        assert waiter.got_at - released < 3.0
        waiter.finish()
    finally:
        _stop(holder)


def test_server_lease_of_a_killed_holder_is_taken_over_after_its_ttl(chroma_port, tmp_path):
    settings = _server(chroma_port, "lease-crash", tmp_path)
    holder = _start_holder(settings, ttl=TTL)
    try:
        waiter = Waiter(settings)
        waiter.wait_for_message()
        killed = time.monotonic()
        holder.kill()  # no release: only the stopped heartbeat tells
        assert waiter.got.wait(TTL + 10), "the waiter never took over the dead holder's lease"
        assert waiter.error is None, repr(waiter.error)
        took = waiter.got_at - killed
        assert TTL * 0.5 < took < TTL + 4, took  # after the ttl (less the last beat's lead), not before
        waiter.finish()
    finally:
        _stop(holder)


def test_server_wait_limit_is_a_clear_store_error(chroma_port, tmp_path):
    settings = _server(chroma_port, "lease-limit", tmp_path)
    holder = _start_holder(settings, ttl=TTL)
    try:
        waiter = Waiter(settings, wait=0.5)
        assert waiter.got.wait(10)
        assert isinstance(waiter.error, StoreError), repr(waiter.error)
        assert f"pid {holder.pid}" in str(waiter.error) and "expires 2 s after its last heartbeat" in str(waiter.error)
    finally:
        _stop(holder)


def test_server_writers_racing_never_hold_the_lease_together(chroma_port, tmp_path):
    _never_together(_server(chroma_port, "lease-race", tmp_path))


# --- end to end: two ingests and an asking client at once --------------------------------------

A_FILES = ["japan-forward-choi-eunmi-interview.txt", "takaichi-coalition-security-trump-talks.txt",
           "tokuchi-nss-revision-japan-korea-partnership.txt"]
B_FILES = ["asan-issue-brief-2025-43-japan-under-takaichi.txt", "korea-herald-takaichi-supermajority-seoul.txt"]
SHARED = A_FILES[0]  # in both folders, a different version in each: both ingests write this document
MEMO = ("Team memo\n\nThe Tidewater Accord on coastal fisheries was signed in Nemuro by the two "
        "agriculture ministers. It sets a joint quota for the Nemuro Strait from next spring.\n")


def _corpus_folders(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "team-a", tmp_path / "team-b"
    a.mkdir()
    b.mkdir()
    for name in A_FILES:
        shutil.copy(CORPUS / name, a / name)
    for name in B_FILES:
        shutil.copy(CORPUS / name, b / name)
    (b / SHARED).write_text((CORPUS / SHARED).read_text(encoding="utf-8")
                            + "\n\nEditor's note: this version adds the interview's closing remarks on "
                            "student exchanges between Seoul and Tokyo.\n", encoding="utf-8")
    return a, b


def _ingest_process(folder: Path, settings: Settings, out: Path) -> subprocess.Popen:
    env = _env(chroma_host="127.0.0.1", chroma_port=settings.chroma_port, collection=settings.collection,
               data_dir=settings.data_dir)
    return subprocess.Popen([sys.executable, "-m", "rag", "ingest", str(folder), "--no-progress"], cwd=ROOT,
                            env=env, stdout=open(out, "w"), stderr=subprocess.STDOUT)


def _index_state(settings: Settings) -> dict:
    """Everything an index holds, by id: document records (and texts), chunks, sentences."""
    from ingest.store import Store, _get_all

    store = Store(settings)
    state = {"records": store.records_with_state(),
             "texts": {r.doc_id: store.document_text(r.doc_id) for r in store.document_records()}}
    for kind in ("chunks", "sentences"):
        ids, texts, metas, vectors = store.all_rows(kind)
        order = np.argsort(ids)
        state[kind] = [(ids[i], texts[i], metas[i]) for i in order]
        state[f"{kind}-vectors"] = vectors[order]
    state["document-ids"] = sorted(_get_all(store.documents, include=[])["ids"])
    return state


def _wait_until(condition, timeout: float) -> float:
    """Seconds until condition() held (fails past timeout)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_two_ingests_and_a_reader_at_once_end_in_the_clean_build(chroma_port, tmp_path):
    from ingest.index import ingest
    from rag.pipeline import Briefing

    a, b = _corpus_folders(tmp_path)
    team = _server(chroma_port, "team", tmp_path)
    briefing = Briefing(team)  # a running app, started before anything is indexed
    outs = [tmp_path / "ingest-a.out", tmp_path / "ingest-b.out"]
    procs = [_ingest_process(a, team, outs[0]), _ingest_process(b, team, outs[1])]
    asks = {"answered": 0, "empty": 0}
    try:
        while any(p.poll() is None for p in procs):
            try:
                answer = briefing.ask("What does FOIP stand for?")
                asks["answered"] += 1
                assert answer.text
            except BriefingError as exc:  # the one acceptable failure: nothing committed yet
                assert "is empty" in str(exc), exc
                asks["empty"] += 1
            time.sleep(0.3)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(60)
    logs = [out.read_text() for out in outs]
    assert [p.returncode for p in procs] == [0, 0], logs
    # They did overlap: one of them waited for the other, and said so.
    assert any("Another ingest is writing to this index" in log for log in logs), logs
    assert sum(asks.values()) > 0

    # Which ingest ran second decides the shared document's version; the clean build runs them
    # one after the other in that order, in a fresh collection of the same server.
    from ingest.store import Store

    winner = next(r for r in Store(team).document_records() if r.source == SHARED).root
    order = [b, a] if winner == str(a.resolve()) else [a, b]
    clean = _server(chroma_port, "team-clean", tmp_path)
    for folder in order:
        report = ingest([folder], clean, progress=False, log=lambda m: None)
        assert report.ok, report.summary()
    got, expected = _index_state(team), _index_state(clean)
    assert [s for _, s in got["records"]] == [""] * 5  # nothing left pending
    assert got["records"] == expected["records"]
    assert got["texts"] == expected["texts"] and got["document-ids"] == expected["document-ids"]
    for kind in ("chunks", "sentences"):
        assert got[kind] == expected[kind], kind
        np.testing.assert_allclose(got[f"{kind}-vectors"], expected[f"{kind}-vectors"], atol=1e-5)
    assert len(got["chunks"]) > 0 and {m["source"] for _, _, m in got["chunks"]} == set(A_FILES + B_FILES)
    answer = briefing.ask("What does FOIP stand for?")
    assert answer.citations, answer.text

    # The running app sees another process's new document, and its removal, within seconds.
    memo_dir = tmp_path / "team-memo"
    memo_dir.mkdir()
    (memo_dir / "tidewater-memo.txt").write_text(MEMO, encoding="utf-8")
    sources = lambda: {r.source for r in briefing.retriever.documents()}  # noqa: E731
    assert "tidewater-memo.txt" not in sources()
    add = _ingest_process(memo_dir, team, tmp_path / "ingest-memo.out")
    assert add.wait(120) == 0, (tmp_path / "ingest-memo.out").read_text()
    assert _wait_until(lambda: "tidewater-memo.txt" in sources(), 3.5) <= 3.5
    top = briefing.retrieve("Where was the Tidewater Accord signed?")[0]
    assert top.source == "tidewater-memo.txt", top
    (memo_dir / "tidewater-memo.txt").unlink()
    remove = _ingest_process(memo_dir, team, tmp_path / "remove-memo.out")
    assert remove.wait(120) == 0, (tmp_path / "remove-memo.out").read_text()
    assert "1 removed" in (tmp_path / "remove-memo.out").read_text()
    _wait_until(lambda: "tidewater-memo.txt" not in sources(), 3.5)
    assert all(p.source != "tidewater-memo.txt" for p in briefing.retrieve("Where was the Tidewater Accord signed?"))
