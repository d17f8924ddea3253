"""Many users at once: `python -m eval.bench.concurrency [--users 20] [--questions 50] [--target ui|api|both]`.

Indexes the bundled corpus into a temporary data folder, starts the real server as a subprocess
(`briefing ui` and/or `briefing serve`, each on a free port), waits until it answers, warms it
with a few questions, then lets U users (threads) each ask Q questions from eval/gold.jsonl
(cycled; user i starts i questions further on, so different questions run at the same time)
through the public endpoint: the app's `/ask` via gradio_client (one Client per user), the API's
`POST /v1/chat/completions` via httpx (model briefing-extractive, one connection pool per user).

Printed per target: answers, errors, latency p50/p95/max, answers/s over the whole run, the
server's CPU seconds per answer, and the load average before and after (the machine may be
shared: read the figures with it). Goal of the issue: 0 errors, p95 <= 1.5 s, >= 15 answers/s;
the exit code is 0 when every target met it, 1 otherwise. `--ui-concurrency 1` gives the app a
one-question-at-a-time queue, for comparison.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from eval.bench.common import CORPUS, ROOT, gold_questions, log
from eval.bench.machine import load_average

MODEL = "briefing-extractive"
WARM_QUESTIONS = 5
START_TIMEOUT = 180.0  # seconds for a server to load and answer its first question
GOAL = {"p95_s": 1.5, "answers_per_s": 15.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def server_env(data_dir: Path, ui_concurrency: int | None = None) -> dict[str, str]:
    """Offline, extractive, over `data_dir`; a developer's LLM key must not change the figures."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")
           and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(BRIEFING_DATA_DIR=str(data_dir), BRIEFING_CORPUS=str(CORPUS), BRIEFING_ANSWER_MODE="extractive",
               BRIEFING_CHROMA_HOST="", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", PYTHONUNBUFFERED="1")
    if ui_concurrency is not None:
        env["BRIEFING_UI_CONCURRENCY"] = str(ui_concurrency)
    return env


def build_index(data_dir: Path) -> None:
    log(f"indexing {CORPUS} into {data_dir} ...")
    subprocess.run([sys.executable, "-m", "rag", "ingest", str(CORPUS), "--no-progress"], cwd=ROOT,
                   env=server_env(data_dir), check=True, stdout=subprocess.DEVNULL)


# --- the two targets: how to start one and how one user asks it --------------------------------

@dataclass
class Target:
    name: str
    command: list[str]
    url: str
    # A user: made once per user thread (outside the timed run), called once per question;
    # raises on any failure.
    user: Callable[[str], Callable[[str], None]]


def ui_target(port: int) -> Target:
    def user(url: str) -> Callable[[str], None]:
        from gradio_client import Client

        # ssl_verify=False: the URL is plain http on loopback, so no TLS is involved either way, but
        # gradio_client posts each question with a fresh httpx client, which otherwise loads the CA
        # bundle every time: ~50 ms of CPU per question in this process, more than the server spends.
        client = Client(url, verbose=False, ssl_verify=False)

        def ask(question: str) -> None:
            answer = client.predict(question, api_name="/ask")
            if not isinstance(answer, dict) or "text" not in answer:
                raise RuntimeError(f"unexpected /ask result: {str(answer)[:200]}")
        return ask

    return Target("ui", [sys.executable, "-m", "rag", "ui", "--port", str(port)], f"http://127.0.0.1:{port}/", user)


def api_target(port: int) -> Target:
    def user(url: str) -> Callable[[str], None]:
        import httpx

        client = httpx.Client(base_url=url, timeout=60.0)

        def ask(question: str) -> None:
            reply = client.post("/v1/chat/completions",
                                json={"model": MODEL, "messages": [{"role": "user", "content": question}]})
            if reply.status_code != 200:
                raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:200]}")
            if "briefing" not in reply.json():
                raise RuntimeError(f"no `briefing` field in: {reply.text[:200]}")
        return ask

    return Target("api", [sys.executable, "-m", "rag", "serve", "--port", str(port)],
                  f"http://127.0.0.1:{port}", user)


# --- running one ---------------------------------------------------------------------------------

@dataclass
class Result:
    target: str
    users: int
    questions: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    server_cpu_s: float | None = None
    client_cpu_s: float = 0.0  # this process's: the users' HTTP clients share the cores with the server
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.answers / self.wall_s if self.wall_s else 0.0

    def met(self) -> bool:
        return (not self.errors and self.answers == self.users * self.questions
                and _pct(self.latencies, 0.95) <= GOAL["p95_s"] and self.rate >= GOAL["answers_per_s"])

    def report(self) -> str:
        ms = [x * 1000 for x in self.latencies]
        per = max(self.answers, 1)
        cpu = (f"{self.server_cpu_s:.1f} s ({self.server_cpu_s / per * 1000:.0f} ms per answer)"
               if self.server_cpu_s is not None else "n/a")
        cpu += f"; clients' CPU {self.client_cpu_s:.1f} s ({self.client_cpu_s / per * 1000:.0f} ms per answer)"
        lines = [
            f"{self.target}: {self.users} users x {self.questions} questions",
            f"  answers {self.answers}, errors {len(self.errors)}",
            f"  latency p50 {_pct(ms, 0.5):.0f} ms, p95 {_pct(ms, 0.95):.0f} ms, max {max(ms, default=0):.0f} ms",
            f"  {self.rate:.1f} answers/s ({self.wall_s:.1f} s wall); server CPU {cpu}",
            f"  load average before {self.load_before}, after {self.load_after}",
            f"  goal (0 errors, p95 <= {GOAL['p95_s']} s, >= {GOAL['answers_per_s']:.0f} answers/s): "
            f"{'met' if self.met() else 'MISSED'}",
        ]
        lines += [f"  error: {e}" for e in self.errors[:5]]
        return "\n".join(lines)


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (Linux /proc), or None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def wait_until_answering(target: Target, proc: subprocess.Popen, question: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{target.name} server exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            target.user(target.url)(question)
            return
        except Exception as exc:  # not listening yet, or still loading
            last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.5)
    raise RuntimeError(f"{target.name} server did not answer within {START_TIMEOUT:.0f} s ({last}):\n"
                       f"{log_path.read_text()[-3000:]}")


def run_users(target: Target, questions: list[str], users: int, per_user: int, result: Result,
              pid: int | None = None) -> None:
    """Every user connects first, then all start together; each asks its questions in turn."""
    ready = threading.Barrier(users + 1)
    lock = threading.Lock()

    def one_user(i: int) -> None:
        try:
            ask = target.user(target.url)
        except Exception as exc:
            with lock:
                result.errors.append(f"user {i} could not connect: {type(exc).__name__}: {exc}")
            ready.wait()
            return
        ready.wait()
        for j in range(per_user):
            question = questions[(i + j) % len(questions)]
            t0 = time.perf_counter()
            try:
                ask(question)
            except Exception as exc:
                with lock:
                    result.errors.append(f"{question!r}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                result.latencies.append(elapsed)

    threads = [threading.Thread(target=one_user, args=(i,), name=f"user-{i}") for i in range(users)]
    for t in threads:
        t.start()
    ready.wait()
    result.load_before = load_average()
    cpu0 = cpu_seconds(pid) if pid else None
    own0 = time.process_time()
    started = time.perf_counter()
    for t in threads:
        t.join()
    result.wall_s = time.perf_counter() - started
    result.client_cpu_s = time.process_time() - own0
    cpu1 = cpu_seconds(pid) if pid else None
    result.server_cpu_s = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
    result.load_after = load_average()


def bench_target(target: Target, data_dir: Path, questions: list[str], users: int, per_user: int,
                 ui_concurrency: int | None = None) -> Result:
    log_path = data_dir / f"{target.name}-server.log"
    result = Result(target.name, users, per_user)
    with open(log_path, "w") as out:
        proc = subprocess.Popen(target.command, cwd=ROOT, env=server_env(data_dir, ui_concurrency), stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        log(f"{target.name}: started {' '.join(target.command[1:])} (pid {proc.pid}); waiting for it to answer ...")
        wait_until_answering(target, proc, questions[0], log_path)
        warm = target.user(target.url)
        for question in questions[:WARM_QUESTIONS]:
            warm(question)
        log(f"{target.name}: {users} users x {per_user} questions ...")
        run_users(target, questions, users, per_user, result, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.concurrency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (threads); default 20")
    parser.add_argument("--questions", type=int, default=50, help="questions each user asks; default 50")
    parser.add_argument("--target", choices=["ui", "api", "both"], default="both",
                        help="the web app's /ask (ui), the OpenAI-compatible API (api), or both (default)")
    parser.add_argument("--ui-concurrency", type=int,
                        help="the app's BRIEFING_UI_CONCURRENCY (default: the setting's default; 1 = one question at a time)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary index and server logs")
    args = parser.parse_args(argv)
    questions = [q["question"] for q in gold_questions()]
    data_dir = Path(tempfile.mkdtemp(prefix="briefing-concurrency-"))
    results = []
    try:
        build_index(data_dir)
        names = ["ui", "api"] if args.target == "both" else [args.target]
        for name in names:  # one server at a time: they would compete for the same cores
            target = ui_target(free_port()) if name == "ui" else api_target(free_port())
            results.append(bench_target(target, data_dir, questions, args.users, args.questions, args.ui_concurrency))
            print(results[-1].report(), flush=True)
    finally:
        if args.keep:
            log(f"index and server logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if all(r.met() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
