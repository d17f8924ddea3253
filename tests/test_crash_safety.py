"""kill -9 during ingest, then ingest again: the index must be exactly what a clean run builds.

An ingest runs in a subprocess whose store (a test-side `Store` subclass handed to `ingest()`)
SIGKILLs the process after its n-th collection write, for every n the run makes, plus
two kills from outside at arbitrary moments. Between the crash and the re-run the corpus may
change again (the edited file edited once more, or reverted, or the deleted file restored). The
re-run must converge to the clean run's index: same chunk ids, sentence ids and document records
(texts, metadata, vectors), no leftovers of another version, nothing missing.

Also: ask() keeps answering while another thread ingests changes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ingest.index import ingest
from ingest.store import Store
from rag.base.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

RUNNER = """
import json, os, signal, sys
from pathlib import Path
from ingest.index import ingest
from ingest.store import Store
from rag.base.settings import Settings

class CrashingStore(Store):
    crash_after = int(sys.argv[3])

    def _wrote(self):
        super()._wrote()
        if self.crash_after and self.writes >= self.crash_after:
            os.kill(os.getpid(), signal.SIGKILL)

settings = Settings(data_dir=sys.argv[1], answer_mode="extractive", openai_api_key="", openai_base_url="")
store = CrashingStore(settings)
print("started", flush=True)
report = ingest([Path(sys.argv[2])], settings, store=store, progress=False)
print(json.dumps({"ok": report.ok, "writes": store.writes, "summary": report.summary()}), flush=True)
"""


def _head(name: str, chars: int) -> str:
    text = (CORPUS / name).read_text(encoding="utf-8")
    cut = text.find("\n", chars)
    return text if cut < 0 else text[:cut] + "\n"


A1 = _head("asan-issue-brief-2025-43-japan-under-takaichi.txt", 2500)
A2 = A1.replace("notably rapid pace", "remarkably rapid pace") + "\nA closing paragraph added in the second version says talks resume in May.\n"
A3 = A1 + "\nA third version instead notes that the Diet session ends in June.\n"
B = _head("tokuchi-nss-revision-japan-korea-partnership.txt", 2500)
C = _head("korea-herald-takaichi-supermajority-seoul.txt", 2000)
D = _head("takaichi-coalition-security-trump-talks.txt", 2000)
E = _head("japan-forward-choi-eunmi-interview.txt", 2000)

V1 = {"a.txt": A1, "b.txt": B, "c.txt": C, "d.txt": D}
V2 = {"a.txt": A2, "c.txt": C, "d.txt": D, "e.txt": E}  # a edited, b deleted, e added
FINAL = {
    "same": V2,
    "edited-again": {**V2, "a.txt": A3},
    "reverted": {**V2, "a.txt": A1},
    "restored": {**V2, "b.txt": B},
}


def set_corpus(folder: Path, files: dict[str, str]) -> None:
    for path in folder.iterdir():
        if path.name not in files:
            path.unlink()
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, answer_mode="extractive", openai_api_key="", openai_base_url="")


def run_ingest(data_dir: Path, corpus: Path, crash_after: int | None = None, kill_after: float | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(data_dir), str(corpus), str(crash_after or 0)],
                            cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        proc.stdout.readline()  # "started": imports done, store open
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def snapshot(data_dir: Path) -> dict:
    store = Store(_settings(data_dir))
    snap = {}
    for kind in ("chunks", "sentences", "documents"):
        got = getattr(store, kind).get(include=["documents", "metadatas", "embeddings"])
        rows = sorted(zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]), key=lambda r: r[0])
        snap[kind] = {
            "rows": [(i, d, json.dumps(m, sort_keys=True)) for i, d, m, _ in rows],
            "vectors": np.asarray([e for *_, e in rows], dtype=np.float32),
        }
    return snap


def assert_same_index(got: dict, want: dict) -> None:
    for kind in ("chunks", "sentences", "documents"):
        got_ids = [r[0] for r in got[kind]["rows"]]
        want_ids = [r[0] for r in want[kind]["rows"]]
        assert got_ids == want_ids, f"{kind}: extra {set(got_ids) - set(want_ids)}, missing {set(want_ids) - set(got_ids)}"
        assert got[kind]["rows"] == want[kind]["rows"], f"{kind}: texts or metadata differ"
        np.testing.assert_allclose(got[kind]["vectors"], want[kind]["vectors"], atol=1e-4)
    records = [json.loads(r[2]) for r in got["documents"]["rows"]]
    assert all(not m.get("pending") for m in records)
    hashes = {m["doc_id"]: m["content_hash"] for m in records}
    for kind in ("chunks", "sentences"):  # no row of another version of any document
        assert all(hashes[json.loads(r[2])["doc_id"]] == json.loads(r[2])["content_hash"] for r in got[kind]["rows"])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A corpus folder, a v1 index template (built in a subprocess, so closed), the number of
    writes a v1 -> v2 ingest makes, and clean reference indexes of every final state."""
    base = tmp_path_factory.mktemp("crash")
    corpus = base / "corpus"
    corpus.mkdir()
    set_corpus(corpus, V1)
    template = base / "template"
    code, out, err = run_ingest(template, corpus)
    assert code == 0, err
    set_corpus(corpus, V2)
    probe = base / "probe"
    shutil.copytree(template, probe)
    code, out, err = run_ingest(probe, corpus)
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["ok"], result["summary"]
    references = {}
    for name, files in FINAL.items():
        set_corpus(corpus, files)
        report = ingest([corpus], _settings(base / f"ref-{name}"), progress=False)
        assert report.ok, report.summary()
        references[name] = snapshot(base / f"ref-{name}")
    return {"base": base, "corpus": corpus, "template": template, "writes": result["writes"], "refs": references}


def _converges(lab, case: str, final: str, **crash) -> str:
    data_dir = lab["base"] / case
    shutil.copytree(lab["template"], data_dir)
    set_corpus(lab["corpus"], V2)
    code, out, err = run_ingest(data_dir, lab["corpus"], **crash)
    set_corpus(lab["corpus"], FINAL[final])
    report = ingest([lab["corpus"]], _settings(data_dir), progress=False)
    assert report.ok, report.summary()
    assert_same_index(snapshot(data_dir), lab["refs"][final])
    again = ingest([lab["corpus"]], _settings(data_dir), progress=False)  # and it stays converged
    assert again.chunks_written == 0 and not again.removed
    return f"rc={code}"


def test_a_v1_to_v2_ingest_makes_enough_writes_to_crash_between(lab):
    # intent (update + placeholder), sentences, chunks, 2 deletes of old versions, commit;
    # then the removal of b.txt: mark, 2 deletes, record delete
    assert lab["writes"] >= 10


@pytest.mark.parametrize("final", list(FINAL))
def test_kill_after_every_write_then_rerun_converges(lab, final):
    """Every crash point for this final state (the four final states share the crash points
    round-robin, so each point is covered and the test stays fast)."""
    points = [n for n in range(1, lab["writes"]) if n % len(FINAL) == list(FINAL).index(final)]
    for n in points:
        code = _converges(lab, f"crash-{final}-{n}", final, crash_after=n)
        assert code == f"rc={-signal.SIGKILL}", f"the run was meant to be killed after write {n}"


@pytest.mark.parametrize("delay", [0.3, 1.5])
def test_kill_from_outside_at_an_arbitrary_moment(lab, delay):
    _converges(lab, f"kill-{delay}", "same", kill_after=delay)


# ------------------------------------------------------------------------------ concurrent ask


def test_ask_keeps_working_while_another_thread_ingests(tmp_path):
    from rag.pipeline import Briefing

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    set_corpus(corpus, V1)
    settings = _settings(tmp_path / "index")
    assert ingest([corpus], settings, progress=False).ok
    briefing = Briefing(settings)
    questions = ["What does the Takaichi Cabinet want to change in security policy?",
                 "What did Choi Eun-mi tell The Korea Herald?",
                 "Which party replaced Komeito in the coalition?"]
    briefing.retrieve(questions[0])  # load the model before the race starts
    errors: list[BaseException] = []
    results: list[int] = []
    stop = threading.Event()

    def asker():
        while not stop.is_set():
            for q in questions:
                try:
                    passages = briefing.retrieve(q)
                    answer = briefing.ask(q)
                    results.append(len(passages))
                    results.append(len(answer.passages))
                except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                    errors.append(exc)

    thread = threading.Thread(target=asker, daemon=True)
    thread.start()
    try:
        for files in (V2, FINAL["edited-again"], V1, V2):
            set_corpus(corpus, files)
            report = ingest([corpus], settings, progress=False)
            assert report.ok, report.summary()
            time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not errors, repr(errors[:3])
    assert len(results) >= 6 and all(n > 0 for n in results), results
