"""`briefing mcp`: the corpus as a Model Context Protocol server, so MCP clients (Claude Desktop,
IDE agents, the `mcp` SDK's own ClientSession) can ask the documents and read them.

    tools      ask(question)            the cited answer: text content = the answer with its
                                        `[n]` markers and a Sources block; structured content =
                                        `Answer.to_dict()` (citations, spans, verified, abstained)
               retrieve(question, k=5)  the best passages: source, title, date, text, score
               list_documents()         the indexed documents: source, title, date, chunks
    resources  briefing://documents/<source>   one per indexed document, its raw text

Built on the SDK's FastMCP. The resource list is read from the store on every request rather
than registered once, so documents ingested while the server runs show up without a restart.
Errors the user can act on (`BriefingError`: an empty question, an empty index) come back as
tool results with `isError` and the message, not as protocol failures.

stdio is the default transport, and there stdout belongs to the protocol: `protocol_stdout` moves
every other write to stdout (a stray print, a C library) onto stderr.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, Iterable, Literal
from urllib.parse import quote, unquote

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ResourceError
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.stdio import stdio_server
from mcp.types import CallToolResult, Resource, TextContent
from pydantic import Field

from rag.base.errors import BriefingError, ConfigError
from rag.base.net import is_loopback
from rag.base.threads import one_blas_thread
from rag.base.types import Answer, Passage

if TYPE_CHECKING:  # pragma: no cover
    from rag.pipeline import Briefing

NAME = "briefing"
RESOURCE_PREFIX = "briefing://documents/"
MAX_K = 50  # passages per retrieve call: enough for any client, small enough to stay one reply
INSTRUCTIONS = ("Answers questions about a folder of briefing documents. `ask` returns an answer whose "
                "[n] markers cite passages (structuredContent.citations); `retrieve` returns raw passages; "
                "the documents themselves are resources.")


# --- pure formatting: what the tools return ---------------------------------------------------


def document_uri(source: str) -> str:
    """The resource URI of a document; `/` stays readable, anything else URI-unsafe is escaped."""
    return RESOURCE_PREFIX + quote(source, safe="/")


def source_of(uri: str) -> str | None:
    """The source a resource URI names, or None when it is not one of ours."""
    uri = str(uri)
    return unquote(uri[len(RESOURCE_PREFIX):]) if uri.startswith(RESOURCE_PREFIX) else None


def answer_text(answer: Answer) -> str:
    """The answer, then its notice and one line per citation: clients that show only the text
    content still see what each `[n]` points to."""
    lines = [answer.text]
    if answer.notice:
        lines += ["", f"Notice: {answer.notice}"]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            p = c.passage
            flag = "" if c.verified else " [UNVERIFIED]"
            lines.append(f"[{c.n}] {p.title or p.source} — {p.source}, {p.date or 'undated'}{flag}")
    return "\n".join(lines)


def passage_dict(p: Passage) -> dict[str, Any]:
    return {"source": p.source, "title": p.title, "date": p.date, "page": p.page, "start": p.start,
            "end": p.end, "score": round(float(p.score), 6), "text": p.text}


def passages_text(passages: list[Passage]) -> str:
    return "\n\n".join(f"[{i}] {p.title or p.source} — {p.source}, {p.date or 'undated'} (score {p.score:.3f})\n{p.text}"
                       for i, p in enumerate(passages, 1)) or "No passages found."


def documents_text(documents: list[dict[str, Any]]) -> str:
    return "\n".join(f"{d['source']} — {d['title'] or '-'} ({d['date'] or 'undated'}, {d['chunks']} chunks)"
                     for d in documents) or "No documents indexed yet. Run `briefing ingest`."


def result(text: str, structured: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structuredContent=structured)


def error_result(exc: BriefingError) -> CallToolResult:
    """A tool error the model can read and act on: just the message, no traceback."""
    return CallToolResult(content=[TextContent(type="text", text=str(exc))], isError=True)


# --- the server -------------------------------------------------------------------------------


class BriefingMCP(FastMCP):
    """FastMCP whose resources are the store's documents, listed live on each request."""

    def __init__(self, briefing: "Briefing", **options: Any):
        self.briefing = briefing
        # The SDK logs every request at INFO; on a client's stderr that drowns the warnings.
        options.setdefault("log_level", "WARNING")
        super().__init__(NAME, instructions=INSTRUCTIONS, **options)

    async def list_resources(self) -> list[Resource]:
        records = await anyio.to_thread.run_sync(self.briefing.store.document_records)
        return [Resource(uri=document_uri(r.source), name=r.source, title=r.title or None,
                         description=f"{r.date or 'undated'}, {r.chunks} chunks", mimeType="text/plain")
                for r in records]

    async def read_resource(self, uri: Any) -> Iterable[ReadResourceContents]:
        source = source_of(uri)
        record = next((r for r in await anyio.to_thread.run_sync(self.briefing.store.document_records)
                       if r.source == source), None)
        if record is None:
            raise ResourceError(f"Unknown document: {uri}. list_resources (or the list_documents tool) names them.")
        text = await anyio.to_thread.run_sync(self.briefing.store.document_text, record.doc_id)
        return [ReadResourceContents(content=text, mime_type="text/plain")]


def build_server(briefing: "Briefing", **options: Any) -> BriefingMCP:
    """The MCP server over one `Briefing`; `options` go to FastMCP (host, port for HTTP)."""
    one_blas_thread()  # calls run in worker threads at once (rag.base.threads)
    server = BriefingMCP(briefing, **options)

    # The pipeline is synchronous: each call runs in a worker thread so the event loop keeps
    # answering pings and cancellations meanwhile.
    async def call(fn, *args) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)

    @server.tool()
    async def ask(question: Annotated[str, Field(description="A question about the documents")],
                  scope: Annotated[Literal["auto", "top", "all"], Field(
                      description="all: answer per document, every document checked (coverage, conflicts, "
                                  "timeline); top: from the best passages; auto: decide from the question")] = "auto",
                  ) -> CallToolResult:
        """Answer a question from the documents. Every sentence cites its passage with [n]; the
        structured content carries the citations (source, title, date, cited spans, verified),
        `abstained` (true when the documents do not answer it), and for questions about the whole
        collection `coverage` (one row per document), `conflicts` and `timeline`."""
        try:
            answer = await call(briefing.ask, question, None, None, scope)
        except BriefingError as exc:
            return error_result(exc)
        return result(answer_text(answer), answer.to_dict())

    @server.tool()
    async def retrieve(question: Annotated[str, Field(description="What to search the documents for")],
                       k: Annotated[int, Field(ge=1, le=MAX_K, description="How many passages")] = 5) -> CallToolResult:
        """The k passages that best match the question, best first (source, title, date, text, score)."""
        try:
            passages = await call(briefing.retrieve, question, k)
        except BriefingError as exc:
            return error_result(exc)
        return result(passages_text(passages), {"passages": [passage_dict(p) for p in passages]})

    @server.tool()
    async def list_documents() -> CallToolResult:
        """The indexed documents: source, title, date, chunks. Each is also a resource
        (briefing://documents/<source>) holding its full text."""
        try:
            records = await call(briefing.store.document_records)
        except BriefingError as exc:
            return error_result(exc)
        documents = [{"source": r.source, "title": r.title, "date": r.date, "author": r.author,
                      "chunks": r.chunks, "uri": document_uri(r.source)} for r in records]
        return result(documents_text(documents), {"documents": documents})

    return server


# --- running it -------------------------------------------------------------------------------


def protocol_stdout() -> io.TextIOWrapper:
    """Claim stdout for the protocol: keep a private handle on the real stdout, then point file
    descriptor 1 and `sys.stdout` at stderr, so nothing else can corrupt the JSON-RPC stream."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return io.TextIOWrapper(protocol, encoding="utf-8", write_through=True)


async def _serve_stdio(server: BriefingMCP, stdout: io.TextIOWrapper) -> None:
    # FastMCP.run_stdio_async, with our stdout handle: it would take sys.stdout, now stderr.
    async with stdio_server(stdout=anyio.wrap_file(stdout)) as (read_stream, write_stream):
        lowlevel = server._mcp_server
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def note(message: str) -> None:
    """Progress for the person running the server: stderr, never the protocol's stdout."""
    print(message, file=sys.stderr, flush=True)


def warm_up(briefing: "Briefing") -> None:
    """Open the index and load the embedding model before the first call, so that call does not
    run into a client's timeout. An unusable index raises here, before any client connects."""
    count = len(briefing.store.document_records())
    briefing.warm_up()
    note(f"briefing mcp: {count} documents in {briefing.store.location}")


def require_loopback(host: str) -> None:
    """The HTTP transport has no authentication: anyone who can reach it reads the documents."""
    if not is_loopback(host):
        raise ConfigError(f"`briefing mcp --transport http` has no authentication, so it only binds to loopback, "
                          f"not {host}. Keep 127.0.0.1 and put an authenticating proxy in front.")


def run(briefing: "Briefing", transport: str = "stdio", host: str = "127.0.0.1", port: int = 8401) -> None:
    """Serve until the client hangs up (stdio) or the process is stopped (HTTP, at /mcp)."""
    if transport == "stdio":
        stdout = protocol_stdout()  # before anything else can write to stdout
        warm_up(briefing)
        anyio.run(_serve_stdio, build_server(briefing), stdout)
    else:
        require_loopback(host)
        warm_up(briefing)
        note(f"briefing mcp: streamable HTTP on http://{host}:{port}/mcp")
        build_server(briefing, host=host, port=port).run("streamable-http")
