"""The README's copy-paste examples for the command line and `ask()` run as written (the API,
MCP and llama-index sections are run by their own test files; the web app's by test_ui_client)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(heading: str, language: str) -> str:
    section = README.split(f"## {heading}", 1)[1]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def _env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    env.update(BRIEFING_DATA_DIR=str(settings.data_dir), BRIEFING_CORPUS=str(settings.corpus),
               BRIEFING_ANSWER_MODE="extractive")
    return env


def test_the_from_a_script_example_runs(settings):
    code = _block("From a script", "python")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(settings), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[1]" in done.stdout and "False extractive" in done.stdout, done.stdout[-2000:]


def test_the_command_line_examples_run(settings):
    lines = [line.split("#", 1)[0].strip() for line in _block("Command line", "bash").splitlines()]
    asks = [line for line in lines if line.startswith('briefing ask "What does FOIP')]
    assert asks, "the README shows a `briefing ask` example"
    briefing = Path(sys.executable).with_name("briefing")
    for line in asks + ["briefing docs --json"]:
        args = [str(briefing)] + [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line)[1:]]
        done = subprocess.run(args, cwd=ROOT, env=_env(settings), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (line, done.stderr[-2000:])
        if "docs" in line:
            assert len(json.loads(done.stdout)) == 5
        else:
            assert "[1]" in done.stdout and "Free and Open Indo-Pacific" in done.stdout, done.stdout[-1500:]


def test_ask_json_gives_the_same_payload_as_ask_in_a_script(settings, briefing):
    question = "What does FOIP stand for?"
    done = subprocess.run([str(Path(sys.executable).with_name("briefing")), "ask", "--json", question], cwd=ROOT,
                          env=_env(settings), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    got, expected = json.loads(done.stdout), briefing.ask(question).to_dict()
    got.pop("timings"), expected.pop("timings")
    assert got == expected
