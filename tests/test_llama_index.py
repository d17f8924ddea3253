"""The llama-index integration, driven only through llama-index's own APIs (retrieve, aretrieve,
RetrieverQueryEngine, query): what a llama-index user gets when they swap ours in. Offline: the
only LLM is llama-index's MockLLM, passed explicitly."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llama_index.core.base.response.schema import Response
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, TextNode

from rag.llama_index import BriefingQueryEngine, BriefingRetriever

ROOT = Path(__file__).resolve().parents[1]
FOIP = "What does FOIP stand for?"
UNANSWERABLE = "What is the capital of Australia?"


@pytest.fixture(scope="module")
def foip_response(briefing):
    return BriefingQueryEngine(briefing).query(FOIP)


def _assert_is_our_passage(briefing, hit):
    """A node holding our passage, located in its document by the offsets its metadata and char
    indices give. The passage is the document's sentences from `start` to `end` (page furniture
    and captions in between left out, so not always the raw slice): it begins and ends there."""
    assert isinstance(hit, NodeWithScore) and isinstance(hit.node, TextNode)
    meta = hit.node.metadata
    assert {"source", "title", "date", "doc_id", "author", "page", "start", "end"} <= meta.keys()
    assert (hit.node.start_char_idx, hit.node.end_char_idx) == (meta["start"], meta["end"])
    located = briefing.store.document_text(meta["doc_id"])[meta["start"]:meta["end"]]
    text = hit.node.text
    assert located.startswith(text[:40]) and located.endswith(text[-40:]), (text[:80], located[:80])
    assert meta["source"].endswith(".txt") and meta["title"]


def test_retriever_returns_our_passages_as_nodes(briefing):
    retriever = BriefingRetriever(briefing, k=4)
    assert isinstance(retriever, BaseRetriever)
    hits = retriever.retrieve(FOIP)
    passages = briefing.retrieve(FOIP, 4)
    assert [(h.node.id_, h.node.text) for h in hits] == [(p.chunk_id, p.text) for p in passages]
    assert [h.score for h in hits] == pytest.approx([p.score for p in passages])
    for hit in hits:
        _assert_is_our_passage(briefing, hit)
    # Offsets and ids stay out of what an LLM is shown; provenance goes in.
    shown = hits[0].node.get_content(metadata_mode="llm")
    assert hits[0].node.metadata["title"] in shown and "doc_id" not in shown


def test_aretrieve_gives_the_same_nodes(briefing):
    retriever = BriefingRetriever(briefing, k=3)
    hits = asyncio.run(retriever.aretrieve(FOIP))
    assert [h.node.id_ for h in hits] == [h.node.id_ for h in retriever.retrieve(FOIP)]


def test_retriever_inside_a_llama_index_pipeline(briefing):
    retriever = BriefingRetriever(briefing, k=3)
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
    response = engine.query(FOIP)
    assert isinstance(response, Response) and response.response
    assert [s.node.id_ for s in response.source_nodes] == [p.chunk_id for p in briefing.retrieve(FOIP, 3)]
    for source in response.source_nodes:
        _assert_is_our_passage(briefing, source)


def test_query_engine_sources_are_the_cited_passages_with_verdicts(briefing, foip_response):
    response = foip_response
    answer = response.metadata["briefing"]
    assert "Free and Open Indo-Pacific" in response.response and re.search(r"\[\d+\]", response.response)
    assert response.response == answer["text"] and response.metadata["abstained"] is False
    assert len(response.source_nodes) == len(answer["citations"]) > 0
    for source, citation in zip(response.source_nodes, answer["citations"]):
        meta = source.node.metadata
        assert (meta["n"], meta["verified"], meta["spans"]) == (citation["n"], citation["verified"], citation["spans"])
        assert source.node.id_ == citation["passage"]["chunk_id"] and f"[{meta['n']}]" in response.response
        _assert_is_our_passage(briefing, source)
        document = briefing.store.document_text(meta["doc_id"])
        for span in meta["spans"]:
            assert document[span["start"]:span["end"]] == span["text"]


def test_query_engine_abstains_on_an_unanswerable_question(briefing):
    response = asyncio.run(BriefingQueryEngine(briefing).aquery(UNANSWERABLE))
    assert response.metadata["abstained"] is True
    assert response.response.startswith("The documents don't answer this")
    assert response.metadata["briefing"]["abstained"] is True


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## llama-index (`rag.llama_index`)", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs_with_default_settings(settings, monkeypatch):
    # The example builds its pipeline from BRIEFING_* variables, as a user's script would.
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BRIEFING_CORPUS", str(settings.corpus))
    monkeypatch.setenv("BRIEFING_ANSWER_MODE", "extractive")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(_readme_example(), "README.md", "exec"), {})
    assert "Free and Open Indo-Pacific" in printed.getvalue()
    assert printed.getvalue().rstrip().endswith("False extractive")


def test_constructing_reads_no_settings_and_loads_nothing(monkeypatch):
    # Construction is lazy: a bad environment only matters once a question is asked.
    monkeypatch.setenv("BRIEFING_TOP_K", "not-a-number")
    BriefingRetriever()
    BriefingQueryEngine()


def test_missing_llama_index_says_which_extra_to_install():
    code = ("import sys; sys.modules['llama_index.core.base.base_query_engine'] = None\n"
            "try:\n    import rag.llama_index\nexcept ImportError as exc:\n    print(exc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "pip install 'briefing-chat[llama-index]'" in done.stdout, done.stdout + done.stderr
