"""One writer at a time per index: `writer_lock()` serialises ingests, wherever they run.

An ingest reads the index's document records, decides what to add, replace and remove, and writes
it; two ingests interleaving those steps would each act on a stale picture (and the crash-safe
write order in ingest.store assumes one writer). So every writer takes this lock first and reads
the records only once it holds it: the second ingest then starts from the first one's result,
and two ingests run at once end in the same index as running them one after the other.

- Local (embedded) index: an OS file lock (`flock`) on `<data_dir>/ingest.lock`. The kernel drops
  it the moment its process ends, however it ends, so a crashed writer never blocks anyone. The
  file also holds who has it (host, pid, start time, command) for the waiting writer's message.
- Chroma server (writers may be on different machines): a lease kept in Chroma itself, in the
  small collection `<collection>-locks`. Leases are numbered records `lease-<n>`; the highest one
  is the lock's state (held, or released). To take the lock a writer adds record n+1. Chroma keeps
  the first `add` of an id and ignores later ones, and the writer reads the record back after a
  short random pause, so of writers racing for the same number exactly one finds its own holder id
  there; the others wait. (Even if a Chroma version let a later `add` win instead, the pause and
  read-back still leave one winner, the last writer, as the read-back is what counts.)
  The holder refreshes its lease's heartbeat from a daemon thread every ttl/5 seconds, stamped with
  the server's clock (its heartbeat endpoint), so machines with unsynchronised clocks agree on a
  lease's age. A lease whose heartbeat is older than its ttl (Settings.ingest_lock_ttl, recorded in
  the lease) belongs to a writer that crashed or lost the server, and the next writer takes over by
  adding the next number. Release marks the holder's own lease `released` (if it is still its
  own); the record stays as a tombstone so lease numbers only grow and a late `add` of an old number
  can never look current.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from ingest.store import _is_connection_error
from rag.base.errors import BriefingError, StoreError
from rag.base.settings import Settings

LOCK_FILE = "ingest.lock"  # in the data dir of a local index
LOCKS_SUFFIX = "-locks"  # <collection>-locks on a Chroma server
_REMIND = 30.0  # seconds between two "still waiting" messages
_FILE_POLL = 0.1  # seconds between two tries of a local lock (a syscall: cheap)
_SETTLE = (0.1, 0.4)  # random pause between writing a lease and reading it back
_DUMMY = [1.0]  # the lease records' one-dimensional vector: Chroma wants one, nothing searches it


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def _holder_info() -> dict[str, Any]:
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0.endswith("__main__.py"):  # `python -m rag ingest ...` shows as such, not as __main__.py
        program = f"python -m {Path(argv0).parent.name}"
    else:
        program = Path(argv0).name or "python"
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "command": " ".join([program, *sys.argv[1:]])[:300],
    }


def _who(info: dict[str, Any], heartbeat_age: float | None = None) -> str:
    if not info.get("pid"):
        return "holder not known yet"
    who = f"host {info.get('host') or '?'}, pid {info['pid']}"
    if info.get("command"):
        who += f", `{info['command']}`"
    who += f", since {info.get('started') or '?'}"
    if heartbeat_age is not None:
        who += f"; last heartbeat {max(0.0, heartbeat_age):.0f} s ago"
    return who


def waiting_message(info: dict[str, Any], heartbeat_age: float | None = None, ttl: float | None = None) -> str:
    expiry = (f"a crashed writer's lock expires after {ttl:g} s" if ttl is not None
              else "the lock is freed as soon as that process ends, even if it crashed")
    return (f"Another ingest is writing to this index ({_who(info, heartbeat_age)}). "
            f"Waiting for it to finish… (Ctrl-C to stop; {expiry})")


def _timeout_error(location: str, waited: float, info: dict[str, Any], heartbeat_age: float | None,
                   ttl: float | None) -> StoreError:
    if ttl is not None:
        advice = (f"Run this ingest again once it has finished; if that writer crashed, its lock "
                  f"expires {ttl:g} s after its last heartbeat (BRIEFING_INGEST_LOCK_TTL).")
    else:
        advice = ("Run this ingest again once it has finished; if that process hangs, stop it "
                  f"(pid {info.get('pid', '?')} on {info.get('host', '?')}) and its lock is freed at once.")
    return StoreError(f"Another ingest is still writing to the index in {location} ({_who(info, heartbeat_age)}) "
                      f"after waiting {waited:.0f} s. {advice}")


@contextlib.contextmanager
def writer_lock(store, settings: Settings, wait: float | None = None,
                log: Callable[[str], None] = _stderr) -> Iterator[Any]:
    """Hold the one writer's lock of `store`'s index for the `with` block.

    Waits for another writer (telling `log` who it is, and again every 30 s); with `wait`
    seconds given and exceeded, raises StoreError. `store` says which index (its own settings:
    data dir, or server and collection); `settings` gives the lease ttl."""
    target = store.settings
    if target.chroma_host:
        lock: _FileLock | _LeaseLock = _LeaseLock(store, settings.ingest_lock_ttl, log)
    else:
        lock = _FileLock(Path(target.data_dir) / LOCK_FILE, log)
    try:
        lock.acquire(wait)  # inside: a Ctrl-C just after the lock was won still releases it
        yield lock
    finally:
        lock.release()


class _FileLock:
    def __init__(self, path: Path, log: Callable[[str], None]):
        self.path = path
        self.log = log
        self.fd: int | None = None

    def acquire(self, wait: float | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The file is never deleted: unlinking it would let the next writer lock a fresh file
        # while a waiter still blocks on the old one.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started = time.monotonic()
        told: float | None = None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                        raise StoreError(f"Cannot lock {self.path} ({exc.strerror or exc}). "
                                         "Check that the data folder is writable.") from None
                now = time.monotonic()
                info = self._read(fd)
                if wait is not None and now - started >= wait:
                    raise _timeout_error(str(self.path.parent), now - started, info, None, None)
                # The holder writes its details just after locking: give it a moment before
                # printing a message that could not name it.
                if (told is None and (info or now - started > 1.0)) or (told is not None and now - told >= _REMIND):
                    self.log(waiting_message(info))
                    told = now
                time.sleep(_FILE_POLL)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd  # held from here on: release() unlocks and closes it
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder_info()).encode("utf-8"), 0)

    @staticmethod
    def _read(fd: int) -> dict[str, Any]:
        try:
            data = json.loads(os.pread(fd, 8192, 0).decode("utf-8") or "{}")
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)  # while still held, so the next holder's details are not cut
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None


def _slot_id(n: int) -> str:
    return f"lease-{n:012d}"


def _slot_number(record_id: str) -> int | None:
    try:
        return int(record_id.removeprefix("lease-")) if record_id.startswith("lease-") else None
    except ValueError:
        return None


class _LeaseLock:
    def __init__(self, store, ttl: float, log: Callable[[str], None]):
        self.store = store
        self.ttl = float(ttl)
        self.log = log
        self.me = uuid.uuid4().hex
        self.info = _holder_info()
        self.name = f"{store.settings.collection}{LOCKS_SUFFIX}"
        self.slot: int | None = None  # the lease number held
        self.lost = False  # set by the heartbeat if another writer took the lease over
        self._meta: dict[str, Any] = {}
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None
        self._col = None

    # --- Chroma calls (a lost server becomes the StoreError the rest of ingest gives) -----------
    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BriefingError:
            raise
        except Exception as exc:
            if not _is_connection_error(exc):
                raise
            raise StoreError(f"Lost the connection to the Chroma server at {self.store.location} while taking "
                             f"the ingest lock ({type(exc).__name__}: {exc}). Check that `chroma run` is still "
                             "running there.") from None

    def _collection(self):
        if self._col is None:
            # No embedding function: Chroma's default one would download a model. The records
            # carry a dummy vector.
            self._col = self._call(self.store.client.get_or_create_collection, self.name, embedding_function=None,
                                   metadata={"purpose": "ingest writer lease (ingest/lock.py)"})
        return self._col

    def _server_now(self) -> float:
        """The server's clock in seconds (every writer stamps and judges leases with it)."""
        try:
            return int(self.store.client.heartbeat()) / 1e9
        except Exception:  # an older server without a clock: ours, and hope the clocks agree
            return time.time()

    def _slots(self) -> list[tuple[int, dict[str, Any]]]:
        got = self._call(self._collection().get, include=["metadatas"])
        slots = [(n, dict(m or {})) for i, m in zip(got["ids"], got["metadatas"] or [])
                 if (n := _slot_number(i)) is not None]
        return sorted(slots, key=lambda s: s[0])

    def _lease_ttl(self, meta: dict[str, Any]) -> float:
        try:
            return float(meta.get("ttl") or self.ttl)  # the holder's promise, not the waiter's setting
        except (TypeError, ValueError):
            return self.ttl

    # --- acquire / release ----------------------------------------------------------------
    def acquire(self, wait: float | None) -> None:
        started = time.monotonic()
        told: float | None = None
        written: int | None = None
        try:
            while True:
                slots = self._slots()
                top_n, top = slots[-1] if slots else (-1, {})
                now = self._server_now()
                age = now - float(top.get("heartbeat") or 0.0)
                free = not slots or top.get("state") == "released" or age > self._lease_ttl(top)
                if free:
                    written = top_n + 1
                    self._meta = {**self.info, "holder": self.me, "state": "held", "ttl": self.ttl, "heartbeat": now}
                    self._call(self._collection().add, ids=[_slot_id(written)], embeddings=[_DUMMY],
                               metadatas=[self._meta])
                    time.sleep(random.uniform(*_SETTLE))
                    slots = self._slots()
                    if slots and slots[-1][0] == written and slots[-1][1].get("holder") == self.me:
                        self.slot = written
                        break
                    self._drop_own(written)  # another writer won this number
                    written = None
                    time.sleep(random.uniform(0.05, 0.3))  # back off, then look again
                    continue
                waited = time.monotonic() - started
                if wait is not None and waited >= wait:
                    raise _timeout_error(self.store.location, waited, top, age, self._lease_ttl(top))
                if told is None or time.monotonic() - told >= _REMIND:
                    self.log(waiting_message(top, age, self._lease_ttl(top)))
                    told = time.monotonic()
                time.sleep(min(1.0, self._lease_ttl(top) / 10) * random.uniform(0.8, 1.2))
        except BaseException:
            if written is not None:  # Ctrl-C (or a lost server) between writing a lease and confirming it
                with contextlib.suppress(Exception):
                    self._drop_own(written)
            raise
        # Leases below ours are history: their writers finished or crashed.
        older = [_slot_id(n) for n, _ in slots[:-1]]
        if older:
            with contextlib.suppress(Exception):
                self._call(self._collection().delete, ids=older)
        self._beater = threading.Thread(target=self._beat, name="ingest-lock-heartbeat", daemon=True)
        self._beater.start()

    def _drop_own(self, n: int) -> None:
        got = self._call(self._collection().get, ids=[_slot_id(n)], include=["metadatas"])
        if got["ids"] and (got["metadatas"][0] or {}).get("holder") == self.me:
            self._call(self._collection().delete, ids=[_slot_id(n)])

    def _beat(self) -> None:
        interval = max(0.05, self.ttl / 5)
        while not self._stop.wait(interval):
            try:
                slots = self._slots()
                if not slots or slots[-1][0] != self.slot or slots[-1][1].get("holder") != self.me:
                    # Our heartbeat stalled past the ttl and a waiter took over: say so once.
                    self.lost = True
                    top = slots[-1][1] if slots else {}
                    self.log(f"warning: this ingest's lock on {self.store.location} was taken over by another "
                             f"writer ({_who(top)}) after its heartbeat stopped for over {self.ttl:g} s; "
                             "run this ingest again when that one has finished.")
                    return
                self._meta["heartbeat"] = self._server_now()
                self._call(self._collection().update, ids=[_slot_id(self.slot)], metadatas=[self._meta])
            except Exception:  # a server hiccup: try again next beat; ingest reports a lost server itself
                continue

    def release(self) -> None:
        if self.slot is None:
            return
        self._stop.set()
        if self._beater is not None:
            self._beater.join(timeout=10)
        try:
            got = self._call(self._collection().get, ids=[_slot_id(self.slot)], include=["metadatas"])
            if got["ids"] and (got["metadatas"][0] or {}).get("holder") == self.me:  # still ours
                self._call(self._collection().update, ids=[_slot_id(self.slot)],
                           metadatas=[{**self._meta, "state": "released", "heartbeat": self._server_now()}])
        except Exception as exc:  # never hide the ingest's own outcome behind a failed release
            self.log(f"warning: could not release the ingest lock on {self.store.location} ({exc}); "
                     f"it expires {self.ttl:g} s after its last heartbeat.")
        finally:
            self.slot = None
