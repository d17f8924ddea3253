"""`briefing`: the command line (ingest, ask, docs, ui, serve, mcp, eval, bench)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.base.errors import BriefingError
from rag.base.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    if getattr(args, "mode", None):
        overrides["answer_mode"] = args.mode
    return Settings(**overrides)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.index import ingest

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [settings.corpus]
    report = ingest(paths, settings, progress=None if not args.no_progress else False)
    print(report.summary())
    return 0 if report.ok else 1


def format_sources(answer) -> str:
    lines = []
    for c in answer.citations:
        p = c.passage
        where = f"p. {p.page}, " if p.page else ""
        title = p.title or p.source
        flag = "" if c.verified else "  [UNVERIFIED: the passage does not support the sentence]"
        lines.append(f"[{c.n}] {title} ({p.date or 'undated'}) — {p.source}, {where}chars {p.start}-{p.end}{flag}")
        lines += [f"      “{d.phrase}” = {d.label} (as of {p.date})" for d in c.dates]
    return "\n".join(lines)


def format_coverage(answer) -> str:
    """The per-document table of a collection answer: one line per document in scope."""
    rows = [("document", "date", "mentions it", "cited")]
    rows += [(r.title or r.source, r.date or "undated", "yes" if r.addresses else "no",
              " ".join(f"[{c.n}]" for c in r.citations) or "-") for r in answer.coverage]
    widths = [min(max(len(row[i]) for row in rows), 60 if i == 0 else 20) for i in range(4)]
    lines = ["  ".join(cell[:w].ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.pipeline import Briefing
    from rag.base.types import Answer

    briefing = Briefing(_settings(args))
    filters = {"sources": args.source} if args.source else None
    scope = "all" if args.all else "top" if args.top else "auto"
    if args.json:
        print(json.dumps(briefing.ask(args.question, filters=filters, scope=scope).to_dict(), ensure_ascii=False, indent=2))
        return 0
    answer = None
    for item in briefing.ask_stream(args.question, filters=filters, scope=scope):
        if isinstance(item, Answer):
            answer = item
        else:
            print(item, end="", flush=True)
    print()
    if answer.notice:
        print(f"\nNotice: {answer.notice}")
    if answer.unsupported:
        print("\nUnsupported by the documents (shown for transparency, not sourced):")
        for sentence in answer.unsupported:
            print(f"  ! {sentence}")
    if answer.coverage:
        print("\nEvery document in scope:")
        print(format_coverage(answer))
    if answer.citations:
        print("\nSources:")
        print(format_sources(answer))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from ingest.store import Store

    records = Store(_settings(args)).document_records()
    if args.json:
        print(json.dumps([r.__dict__ | {"page_starts": list(r.page_starts)} for r in records], ensure_ascii=False, indent=2))
        return 0
    if not records:
        print("No documents indexed yet. Run `briefing ingest`.")
    for r in records:
        print(f"{r.source}\n    title: {r.title or '-'}\n    date: {r.date or '-'}   author: {r.author or '-'}"
              f"   chunks: {r.chunks}   sha256: {r.content_hash[:12]}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from ui.server import launch

    settings = _settings(args)
    overrides = {k: v for k, v in (("ui_host", args.host), ("ui_port", args.port)) if v is not None}
    launch(settings.model_copy(update=overrides))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from rag.api import serve

    serve(_settings(args), host=args.host, port=args.port)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from rag.mcp_server import run
    from rag.pipeline import Briefing

    run(Briefing(_settings(args)), transport=args.transport, host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Ask questions about briefing documents, with cited passages.",
                                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="index folder (default: $BRIEFING_DATA_DIR or .briefing)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index files or folders (default: $BRIEFING_CORPUS or corpus/)")
    p.add_argument("paths", nargs="*")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    p.add_argument("--source", action="append", help="only this document (source path); repeatable")
    p.add_argument("--mode", choices=["auto", "extractive", "llm"], help="answerer (default: auto)")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--all", action="store_true",
                       help="answer across all documents: one row per document (default: when the question asks "
                            "\"which documents ...\" or \"what changed since ...\")")
    scope.add_argument("--top", action="store_true", help="answer from the best passages only, never per document")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("docs", help="list indexed documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("ui", help="start the web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("serve", help="start the OpenAI-compatible API (/v1/chat/completions, /v1/models)")
    p.add_argument("--host", help="interface (default: $BRIEFING_API_HOST or 127.0.0.1; others need BRIEFING_API_KEYS)")
    p.add_argument("--port", type=int, help="port (default: $BRIEFING_API_PORT or 8000)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="start the MCP server (tools ask, retrieve, list_documents; documents as resources)")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio",
                   help="stdio (default; for clients that spawn `briefing mcp`) or streamable HTTP at /mcp")
    p.add_argument("--host", default="127.0.0.1", help="HTTP interface (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8401, help="HTTP port (default: 8401)")
    p.set_defaults(func=cmd_mcp)

    p = sub.add_parser("eval", help="answer-quality eval against gold Q&A (see `briefing eval --help`)", add_help=False)
    p.set_defaults(func=lambda a: _delegate("eval.cli", a))
    p = sub.add_parser("bench", help="speed and scale benchmarks", add_help=False)
    p.set_defaults(func=lambda a: _delegate("eval.bench", a))
    return parser


def _delegate(module: str, args: argparse.Namespace) -> int:
    import importlib

    return importlib.import_module(module).main(args.rest)


def _command_index(argv: list[str]) -> int | None:
    """Where the sub-command stands: the first word that is not a global option (or its value)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--data-dir":
            i += 2
        elif token.startswith("-"):
            i += 1
        else:
            return i
    return None


EXIT_CODES = """exit codes: 0 done; 1 some files could not be indexed, or an eval floor was missed;
2 bad input (question, filter, file, override) or an eval harness error; 3 the index cannot be
used; 4 a setting cannot work; 5 the LLM failed where no fallback applies; 130 interrupted."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # eval/bench own their options: hand everything after the sub-command over untouched. Only
    # the sub-command position counts: in `briefing ingest eval corpus`, "eval" is a folder.
    at = _command_index(argv)
    if at is not None and argv[at] in ("eval", "bench"):
        args = parser.parse_args(argv[: at + 1])
        args.rest = argv[at + 1:]
    else:
        args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BriefingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
