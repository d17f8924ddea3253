"""Shared fixtures: the real corpus indexed once per session with the real model and real Chroma,
and a guard that fails any connection leaving this machine (the suite proves the offline claim)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):  # a developer's key must not leak into tests
    os.environ.pop(_var, None)


def _is_loopback(address) -> bool:
    if isinstance(address, tuple):
        host = address[0]
    elif isinstance(address, (str, bytes)):
        return True  # AF_UNIX path
    else:
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Any attempt to connect beyond loopback fails the test that made it."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise RuntimeError(f"network access attempted in tests: {address!r}")
        return real_connect(self, address)

    def guarded_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise RuntimeError(f"network access attempted in tests: {address!r}")
        return real_connect_ex(self, address)

    socket.socket.connect = guarded
    socket.socket.connect_ex = guarded_ex
    yield
    socket.socket.connect = real_connect
    socket.socket.connect_ex = real_connect_ex


@pytest.fixture(scope="session")
def embedder():
    """The real embedding model (loaded once per process by load_embedder's own cache)."""
    from ingest.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def corpus_copy(tmp_path_factory) -> Path:
    """A private copy of the bundled corpus (tests that edit files use their own copies)."""
    target = tmp_path_factory.mktemp("corpus")
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def settings(tmp_path_factory, corpus_copy):
    """Settings for an index of the bundled corpus, built once per session (real model, real Chroma)."""
    from ingest.index import ingest
    from rag.base.settings import Settings

    s = Settings(data_dir=tmp_path_factory.mktemp("index"), corpus=corpus_copy, answer_mode="extractive",
                 openai_api_key="", openai_base_url="")
    report = ingest([corpus_copy], s, progress=False)
    assert report.ok and len(report.added) == 5, report.summary()
    return s


@pytest.fixture(scope="session")
def briefing(settings):
    """The offline pipeline over the session index, shared so the model loads once."""
    from rag.pipeline import Briefing

    return Briefing(settings)
