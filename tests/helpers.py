"""Small helpers shared by test modules (tests/ is on sys.path under pytest's default import mode)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def indexed_briefing(tmp_path_factory, docs: dict[str, str], name: str, **settings):
    """A Briefing over `docs` (file name -> text) written to a fresh folder and indexed for real
    (real model, real Chroma), extractive and offline."""
    from ingest.index import ingest
    from rag.base.settings import Settings
    from rag.pipeline import Briefing

    corpus = tmp_path_factory.mktemp(f"{name}-corpus")
    for file_name, text in docs.items():
        (corpus / file_name).write_text(text, encoding="utf-8")
    s = Settings(data_dir=tmp_path_factory.mktemp(f"{name}-index"), corpus=corpus, answer_mode="extractive",
                 openai_api_key="", openai_base_url="", **settings)
    report = ingest([corpus], s, progress=False)
    assert report.ok and len(report.added) == len(docs), report.summary()
    return Briefing(s)
