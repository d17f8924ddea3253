"""`briefing mcp` through the SDK's own client: the real `python -m rag mcp` subprocess over stdio,
on the session index, with the call sequence the README shows. One server, one session: the
whole conversation runs once (the model loads once) and the tests below read its transcript."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

ROOT = Path(__file__).resolve().parents[1]

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

QUESTION = "What does FOIP stand for?"


async def converse(params: StdioServerParameters) -> dict:
    """List and call everything once; return what came back, keyed by step."""
    out: dict = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        out["init"] = await session.initialize()
        out["tools"] = await session.list_tools()
        out["ask"] = await session.call_tool("ask", {"question": QUESTION})
        out["retrieve"] = await session.call_tool("retrieve", {"question": QUESTION, "k": 3})
        out["documents"] = await session.call_tool("list_documents", {})
        out["resources"] = await session.list_resources()
        out["read"] = await session.read_resource(out["resources"].resources[0].uri)
        out["empty"] = await session.call_tool("ask", {"question": "  "})
    return out


@pytest.fixture(scope="module")
def transcript(settings) -> dict:
    env = {**os.environ, "BRIEFING_DATA_DIR": str(settings.data_dir), "BRIEFING_CORPUS": str(settings.corpus),
           "BRIEFING_ANSWER_MODE": "extractive", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    params = StdioServerParameters(command=sys.executable, args=["-m", "rag", "mcp"], env=env, cwd=str(ROOT))

    async def bounded() -> dict:
        with anyio.fail_after(120):  # a hung server fails the test instead of the whole run
            return await converse(params)

    return anyio.run(bounded)


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def test_tools_are_listed_with_input_schemas(transcript):
    tools = {t.name: t for t in transcript["tools"].tools}
    assert set(tools) == {"ask", "retrieve", "list_documents"}
    assert tools["ask"].inputSchema["required"] == ["question"]
    retrieve = tools["retrieve"].inputSchema
    assert retrieve["required"] == ["question"] and retrieve["properties"]["k"]["default"] == 5
    assert transcript["init"].serverInfo.name == "briefing"


def test_ask_returns_cited_text_and_the_answer_payload(transcript):
    result = transcript["ask"]
    assert not result.isError
    assert "[1]" in text_of(result) and "Sources:" in text_of(result)
    payload = result.structuredContent
    assert payload["question"] == QUESTION and not payload["abstained"]
    assert "[1]" in payload["text"]
    first = payload["citations"][0]
    assert first["n"] == 1 and first["verified"] and first["spans"]
    assert {"source", "title", "date"} <= set(first["passage"])


def test_retrieve_returns_k_passages(transcript):
    result = transcript["retrieve"]
    assert not result.isError
    passages = result.structuredContent["passages"]
    assert len(passages) == 3
    assert all({"source", "title", "date", "text", "score"} <= set(p) for p in passages)


def test_list_documents_names_the_bundled_corpus(transcript, corpus_copy):
    documents = transcript["documents"].structuredContent["documents"]
    assert sorted(d["source"] for d in documents) == sorted(p.name for p in corpus_copy.glob("*.txt"))
    assert all(d["chunks"] > 0 for d in documents)


def test_documents_are_resources_with_their_text(transcript, corpus_copy):
    resources = transcript["resources"].resources
    assert len(resources) == 5
    assert all(str(r.uri).startswith("briefing://documents/") for r in resources)
    contents = transcript["read"].contents
    source = resources[0].name
    assert contents[0].text.strip() and contents[0].text.split()[:20] == (corpus_copy / source).read_text(encoding="utf-8").split()[:20]


def test_an_empty_question_is_a_readable_tool_error(transcript):
    result = transcript["empty"]
    assert result.isError
    assert "question is empty" in text_of(result)


def test_ask_gives_the_same_payload_as_ask_in_a_script(transcript, briefing):
    def comparable(d: dict) -> dict:
        return {k: v for k, v in d.items() if k != "timings"}

    assert comparable(transcript["ask"].structuredContent) == comparable(briefing.ask(QUESTION).to_dict())
