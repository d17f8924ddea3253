"""Ingest's parallel path (ingest.pipeline, ingest.embed_worker) builds the serial path's index.

The bundled corpus is small enough for the serial path, so these tests force the workers on it
(`Batching(parallel_min_sentences=0)`, given to `ingest()` through its `pipeline` argument) and
shrink groups and slices so a run has several of each, with
documents split across slices that finish in any order. Also: bad files are still reported, an
exception or a kill -9 mid-run leaves an index the next run completes, a worker that dies is
replaced by embedding in the ingesting process, and no worker outlives its ingest.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from ingest.embed_worker import WorkerPool
from ingest.index import ingest
from ingest.pipeline import Batching, EmbedPipeline, worker_count
from ingest.store import Store
from rag.base.errors import ConfigError
from rag.base.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _settings(data_dir: Path, workers: int, **extra) -> Settings:
    return Settings(data_dir=data_dir, answer_mode="extractive", openai_api_key="", openai_base_url="",
                    ingest_workers=workers, **extra)


def snapshot(data_dir: Path) -> dict:
    store = Store(_settings(data_dir, 1))
    snap = {}
    for kind in ("chunks", "sentences", "documents"):
        got = getattr(store, kind).get(include=["documents", "metadatas", "embeddings"])
        rows = sorted(zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]), key=lambda r: r[0])
        # "root" names the folder a document was ingested from: tests that copy the corpus differ there.
        snap[kind] = ([(i, d, json.dumps({k: v for k, v in m.items() if k != "root"}, sort_keys=True))
                       for i, d, m, _ in rows],
                      np.asarray([e for *_, e in rows], dtype=np.float32))
    return snap


def assert_same_index(got: dict, want: dict) -> None:
    for kind in ("chunks", "sentences", "documents"):
        assert [r[0] for r in got[kind][0]] == [r[0] for r in want[kind][0]], f"{kind}: ids differ"
        assert got[kind][0] == want[kind][0], f"{kind}: texts or metadata differ"
        np.testing.assert_allclose(got[kind][1], want[kind][1], atol=1e-5)


# The corpus's ~330 sentences: several groups, and documents that span several slices.
SMALL = Batching(group_sentences=120, task_sentences=16, parallel_min_sentences=0)


class SpiedPool(WorkerPool):
    def __init__(self, spy: "PoolSpy", *args) -> None:
        super().__init__(*args)
        self.spy = spy

    def submit(self, texts):
        self.spy.submits += 1
        self.spy.on_submit(self)
        return super().submit(texts)


class PoolSpy:
    """The pipeline's worker-pool factory: records every pool started (to check that it ran, and
    that its workers ended). `pipeline` is what the tests give `ingest()`."""

    def __init__(self, embed_inline=None) -> None:
        self.pools: list[SpiedPool] = []
        self.submits = 0
        self.pipeline = partial(EmbedPipeline, batching=SMALL, pool=self, embed_inline=embed_inline)

    def __call__(self, *args) -> SpiedPool:
        pool = SpiedPool(self, *args)
        self.pools.append(pool)
        return pool

    def on_submit(self, pool) -> None:
        pass

    def all_ended(self) -> bool:
        return all(proc.poll() is not None for pool in self.pools for proc in pool._procs)


@pytest.fixture
def parallel():
    return PoolSpy()


@pytest.fixture
def force_parallel():
    """The parallel path, and nothing embedded in the ingesting process."""

    def forbidden(texts):
        raise AssertionError("the parallel path embedded in the ingesting process")

    return PoolSpy(embed_inline=forbidden)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, corpus_copy):
    """The serial path's index of the bundled corpus."""
    data_dir = tmp_path_factory.mktemp("serial")
    report = ingest([corpus_copy], _settings(data_dir, 1), progress=False)
    assert report.ok and len(report.added) == 5, report.summary()
    return {"snapshot": snapshot(data_dir), "report": report}


def test_parallel_path_builds_the_serial_index(tmp_path, corpus_copy, reference, force_parallel):
    report = ingest([corpus_copy], _settings(tmp_path / "index", 2), progress=False, pipeline=force_parallel.pipeline)
    assert report.ok, report.summary()
    assert force_parallel.pools and force_parallel.submits > 10  # it did run on the workers
    assert sorted(report.added) == sorted(reference["report"].added)
    assert report.chunks_written == reference["report"].chunks_written
    assert_same_index(snapshot(tmp_path / "index"), reference["snapshot"])
    assert force_parallel.all_ended()


def test_a_failing_document_is_reported_and_the_rest_indexed(tmp_path, corpus_copy, reference, force_parallel):
    folder = tmp_path / "corpus"
    shutil.copytree(corpus_copy, folder)
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 50)
    (folder / "empty.txt").write_bytes(b"")
    report = ingest([folder], _settings(tmp_path / "index", 2), progress=False, pipeline=force_parallel.pipeline)
    failed = {f.source: f.reason for f in report.failed}
    assert set(failed) == {"junk.txt", "empty.txt"}, report.summary()
    assert "binary" in failed["junk.txt"] and "empty" in failed["empty.txt"]
    assert sorted(report.added) == sorted(reference["report"].added)
    assert_same_index(snapshot(tmp_path / "index"), reference["snapshot"])


class InterruptedStore(Store):
    """Raises KeyboardInterrupt at its second commit, as Ctrl-C would between two groups."""

    calls = 0

    def write_documents(self, items):
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt
        return super().write_documents(items)


def test_an_exception_mid_run_stops_the_workers_and_the_next_run_completes(tmp_path, corpus_copy, reference,
                                                                           force_parallel):
    settings = _settings(tmp_path / "index", 2)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus_copy], settings, store=InterruptedStore(settings), progress=False,
               pipeline=force_parallel.pipeline)
    assert force_parallel.all_ended()  # killed, not left to finish the queued slices
    committed = Store(settings).document_records()
    assert 0 < len(committed) < 5  # the first group is committed, the rest is not

    report = ingest([corpus_copy], settings, progress=False, pipeline=force_parallel.pipeline)
    assert report.ok and len(report.added) == 5 - len(committed), report.summary()
    assert_same_index(snapshot(tmp_path / "index"), reference["snapshot"])
    assert force_parallel.all_ended()


RUNNER = """
import os, signal, sys
from functools import partial
from pathlib import Path
from ingest.embed_worker import WorkerPool
from ingest.index import ingest
from ingest.pipeline import Batching, EmbedPipeline
from ingest.store import Store
from rag.base.settings import Settings

def pool(*args):
    started = WorkerPool(*args)
    print("workers", *[p.pid for p in started._procs], flush=True)
    return started

class CrashingStore(Store):
    def _wrote(self):
        super()._wrote()
        if self.writes >= int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)

settings = Settings(data_dir=sys.argv[1], answer_mode="extractive", openai_api_key="", openai_base_url="",
                    ingest_workers=2)
small = Batching(group_sentences=120, task_sentences=16, parallel_min_sentences=0)
ingest([Path(sys.argv[2])], settings, store=CrashingStore(settings), progress=False,
       pipeline=partial(EmbedPipeline, batching=small, pool=pool))
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")  # ended; a zombie only waits for its new parent to reap it


@pytest.mark.parametrize("crash_after", [4, 9])
def test_kill_9_mid_run_ends_the_workers_and_the_rerun_converges(tmp_path, corpus_copy, reference, crash_after):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    data_dir = tmp_path / "index"
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(data_dir), str(corpus_copy), str(crash_after)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pids = [int(p) for line in proc.stdout.splitlines() if line.startswith("workers") for p in line.split()[1:]]
    assert len(pids) == 2, proc.stdout + proc.stderr
    deadline = time.monotonic() + 60  # a worker notices at its next read, after its current slice
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(_gone(pid) for pid in pids), "an embedding worker outlived its killed parent"

    report = ingest([corpus_copy], _settings(data_dir, 2), progress=False)
    assert report.ok, report.summary()
    assert_same_index(snapshot(data_dir), reference["snapshot"])


def test_a_dead_worker_is_replaced_by_embedding_here(tmp_path, corpus_copy, reference, parallel):
    def kill_workers(pool):
        if parallel.submits == 5:
            for proc in pool._procs:
                proc.kill()

    parallel.on_submit = kill_workers
    messages: list[str] = []
    report = ingest([corpus_copy], _settings(tmp_path / "index", 2), progress=False, log=messages.append,
                    pipeline=parallel.pipeline)
    assert report.ok and len(report.added) == 5, report.summary()
    assert any("worker process died" in m for m in messages), messages
    assert_same_index(snapshot(tmp_path / "index"), reference["snapshot"])


def test_a_model_that_cannot_load_raises_its_config_error(tmp_path, corpus_copy, force_parallel):
    settings = _settings(tmp_path / "index", 2, embed_model=str(tmp_path / "no-model-here"))
    with pytest.raises(ConfigError, match="missing"):
        ingest([corpus_copy], settings, progress=False, pipeline=force_parallel.pipeline)
    assert force_parallel.all_ended()


def test_small_jobs_and_one_worker_stay_serial(tmp_path, corpus_copy, reference):
    def forbidden(*args, **kwargs):
        raise AssertionError("a worker pool was started")

    assert worker_count(_settings(tmp_path, 0)) >= 1
    report = ingest([corpus_copy], _settings(tmp_path / "small", 0), progress=False,  # ~330 sentences
                    pipeline=partial(EmbedPipeline, pool=forbidden))
    assert report.ok and len(report.added) == 5
    report = ingest([corpus_copy], _settings(tmp_path / "one", 1), progress=False,
                    pipeline=partial(EmbedPipeline, batching=SMALL, pool=forbidden))
    assert report.ok and len(report.added) == 5
    assert_same_index(snapshot(tmp_path / "one"), reference["snapshot"])


def test_progress_shows_chunks_and_documents_per_second(tmp_path, corpus_copy, force_parallel, capsys):
    report = ingest([corpus_copy], _settings(tmp_path / "index", 2), progress=True, pipeline=force_parallel.pipeline)
    assert report.ok
    err = capsys.readouterr().err
    assert "chunk/s" in err and "docs/s" in err and f"{report.chunks_written}/{report.chunks_written}" in err
    assert "docs=5/5" in err


def test_single_threaded_embedding_matches_the_default(embedder):
    texts = ["The port of Busan expanded its container terminal in 2024.", "Komeito left the coalition.",
             "A much longer sentence " * 30]
    default, threads = embedder.embed(texts), embedder._threads
    try:
        embedder.use_threads(1)
        single = embedder.embed(texts)
    finally:
        embedder.use_threads(threads)
    np.testing.assert_allclose(single, default, atol=1e-5)
