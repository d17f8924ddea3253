"""Ingest's embedding worker processes: `WorkerPool` (the ingesting side) and `main` (a worker).

Each worker is a plain `python -m ingest.embed_worker` subprocess that reads pickled lists of
sentences on stdin and writes their vectors on stdout. Not multiprocessing: its spawn start
re-runs the parent's main script in every worker (a script without an `if __name__ ==
"__main__"` guard would ingest again there, and wait forever for the writers' lock its parent
holds), and a worker it starts outlives a parent killed with kill -9. A subprocess imports only
what it needs, gets its environment before numpy loads (OpenBLAS reads its thread count once,
at load), and sees end-of-file on stdin when its parent dies, however it dies.

Two single-threaded processes use two cores better than one process with two threads: threads
pay a barrier on every threaded BLAS call, and a time slice whenever another process holds a
core (measured on a loaded 2-core machine: one default-threaded process 55-87 sentences/s, one
single-threaded process 146-158).

This module imports only the standard library at the top: it is what a worker starts with.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

# One thread per worker: OpenBLAS, OpenMP/MKL (if numpy was built with them), the tokenizer.
_SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "TOKENIZERS_PARALLELISM": "false"}


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, out of memory)."""


class WorkerPool:
    """`n` worker processes; `submit(texts)` returns a Future of their (len(texts), dim) vectors.

    One thread here per worker takes the next task, sends it and waits for the answer, so
    submitting never blocks and the workers take tasks as they become free."""

    def __init__(self, n: int, model: str, batch_size: int) -> None:
        package_root = str(Path(__file__).resolve().parents[1])  # where this `ingest` comes from
        env = {**os.environ, **_SINGLE_THREADED,
               "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
        self._tasks: queue.Queue = queue.Queue()
        self._closing = False
        self._alive = n
        self._lock = threading.Lock()
        self._procs = [
            subprocess.Popen([sys.executable, "-m", "ingest.embed_worker", model, str(batch_size)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            for _ in range(n)
        ]
        self._threads = [threading.Thread(target=self._serve, args=(proc,), name=f"embed-worker-{i}", daemon=True)
                         for i, proc in enumerate(self._procs)]
        for thread in self._threads:
            thread.start()

    def submit(self, texts: list[str]) -> Future:
        future: Future = Future()
        with self._lock:
            if self._alive:
                self._tasks.put((future, texts))
                return future
        future.set_running_or_notify_cancel()
        future.set_exception(WorkerDied("every embedding worker process has ended"))
        return future

    def _serve(self, proc: subprocess.Popen) -> None:
        while True:
            item = self._tasks.get()
            if item is None:
                break
            future, texts = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                proc.stdin.write(pickle.dumps(texts, protocol=pickle.HIGHEST_PROTOCOL))
                proc.stdin.flush()
                ok, value = pickle.load(proc.stdout)
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                future.set_exception(WorkerDied(f"embedding worker {proc.pid} ended "
                                                f"(exit code {proc.poll()}: {type(exc).__name__})"))
                self._worker_gone()
                return
            (future.set_result if ok else future.set_exception)(value)
        try:
            proc.stdin.close()  # end of file: the worker exits
        except OSError:
            pass

    def _worker_gone(self) -> None:
        with self._lock:
            self._alive -= 1
            if not self._alive:  # nobody is left to take what is queued (and submit() queues no more)
                self._fail_queued(WorkerDied("every embedding worker process has ended"))

    def _fail_queued(self, exc: BaseException | None) -> None:
        while True:
            try:
                item = self._tasks.get_nowait()
            except queue.Empty:
                return
            if item is None:
                continue
            future, _ = item
            if exc is None:
                future.cancel()
            elif future.set_running_or_notify_cancel():
                future.set_exception(exc)

    def close(self, abort: bool = False) -> None:
        """Stop the workers: after the queued tasks, or (`abort`) at once, cancelling those."""
        if self._closing:
            return
        self._closing = True
        if abort:
            self._fail_queued(None)
            for proc in self._procs:
                if proc.poll() is None:
                    proc.kill()
        for _ in self._procs:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join(timeout=None if not abort else 5)
        for proc in self._procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass


def main() -> None:
    """A worker: answer each pickled list of texts with (True, vectors) or (False, exception)."""
    # Ctrl-C reaches the whole process group; the ingesting process handles it and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    model, batch_size = sys.argv[1], int(sys.argv[2])
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    embedder = None
    while True:
        try:
            texts = pickle.load(requests)
        except EOFError:  # the ingest is done, or its process died
            return
        try:
            if embedder is None:  # loaded here, so a model that cannot load raises in the parent
                from ingest.embed import load_embedder

                embedder = load_embedder(model)
                embedder.use_threads(1)
            answer = pickle.dumps((True, embedder.embed(texts, batch_size=batch_size)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
            try:
                answer = pickle.dumps((False, exc))
            except Exception:  # an exception that cannot be pickled
                answer = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        try:
            answers.write(answer)
            answers.flush()
        except BrokenPipeError:  # the parent died
            return


if __name__ == "__main__":
    main()
