"""TEST STAND-IN for an OpenAI-compatible chat server -- NOT a model.

No language model runs on these machines.  This module is a tiny, scripted,
local HTTP server that speaks the OpenAI *wire protocol* (the subset the
project uses) so that tests can drive the real ``openai`` client over real
sockets.  Every "answer" it returns is
text that the test itself scripted; nothing here generates, ranks or judges
language, so passing tests against it says nothing about answer quality.

Standard library only.

Endpoints
---------
* ``POST /v1/chat/completions`` -- non-streaming (``chat.completion`` JSON) and
  streaming (``"stream": true`` -> ``text/event-stream`` of
  ``chat.completion.chunk`` events, a final chunk carrying ``finish_reason``,
  an optional usage chunk when ``stream_options.include_usage`` is set, then
  ``data: [DONE]``).  Streaming bodies use HTTP/1.1 chunked transfer encoding,
  like real servers.
* ``GET /v1/models`` -- lists one model (:data:`MODEL_ID`).
* anything else -- 404 with an OpenAI-style JSON error body.

Usage
-----
::

    with StubOpenAI() as stub:
        stub.script(Reply(content="Hello there."), Reply(status=500))
        client = openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0)
        ...
        assert stub.requests[0]["model"] == "my-model"

Replies queued with :meth:`StubOpenAI.script` are consumed one per chat request,
in order; when the queue is empty :attr:`StubOpenAI.default` is used.

Failure knobs on :class:`Reply`: ``status`` (OpenAI-style JSON error body),
``delay`` (sleep before answering -- for client timeouts), ``chunk_delay``
(sleep between SSE chunks), ``truncate_stream`` (send part of the stream and
then drop the connection without the terminating chunk / ``[DONE]``),
``malformed`` (invalid JSON body, or an invalid ``data:`` line when
streaming), ``headers`` (extra response headers, e.g. ``Retry-After``) and
``stall`` / ``stall_after`` (streaming: go silent for ``stall`` seconds once
the role chunk and ``stall_after`` content deltas are out -- a server that
starts answering and then hangs).
"""

from __future__ import annotations

import collections
import itertools
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["MODEL_ID", "Reply", "StubOpenAI"]

#: The one model id listed by ``GET /v1/models``.  Chat requests may name any
#: model; the response echoes whatever the request asked for.
MODEL_ID = "stub-model"

_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout_error", None),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", "service_unavailable"),
}

_REASONS = {
    400: "Bad request (stub)",
    401: "Incorrect API key provided (stub)",
    403: "Permission denied (stub)",
    404: "Not found (stub)",
    429: "Rate limit reached (stub)",
    500: "The server had an error while processing your request (stub)",
    503: "The server is overloaded or not ready yet (stub)",
}


@dataclass
class Reply:
    """One scripted response of the stand-in server."""

    content: str = ""  # assistant text (error message when status != 200)
    status: int = 200  # HTTP status; non-2xx sends {"error": {...}}
    delay: float = 0.0  # seconds to sleep before answering (timeout tests)
    chunk_delay: float = 0.0  # seconds between SSE chunks
    truncate_stream: bool = False  # streaming: drop connection mid-stream
    malformed: bool = False  # invalid JSON body / invalid `data:` line
    headers: dict = field(default_factory=dict)  # extra response headers
    stall: float = 0.0  # streaming: seconds of silence after `stall_after` content deltas
    stall_after: int = 1  # content deltas sent before the stall


def _split_deltas(text: str) -> list[str]:
    """Split text into word-sized deltas that join back to exactly ``text``."""
    if not text:
        return []
    return re.findall(r"\s*\S+\s*|\s+", text)


def _token_count(text: str) -> int:
    return len(text.split())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # server_close() must not wait for sleeping handlers
    allow_reuse_address = True

    stub: "StubOpenAI"

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: D401
        # Clients disconnecting (timeouts, truncation tests) are expected; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OpenAIStub/1.0"
    sys_version = ""
    server: _Server

    # -- plumbing -----------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # no noisy request logs in test output

    def setup(self) -> None:
        super().setup()
        self.server.stub._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.stub._track(self.connection, add=False)

    @property
    def _stub(self) -> "StubOpenAI":
        return self.server.stub

    def _send_json(self, status: int, payload: Any, headers: dict | None = None, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(str(k), str(v))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_error_json(self, status: int, message: str | None = None, headers: dict | None = None) -> None:
        etype, code = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        msg = message or _REASONS.get(status) or f"Stub error {status}"
        self._send_json(status, {"error": {"message": msg, "type": etype, "param": None, "code": code}}, headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # -- routing ------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "test-stub"}],
                },
            )
        else:
            self._send_error_json(404, f"Unknown path {self.path} (stub)")

    def do_POST(self) -> None:  # noqa: N802
        raw = self._read_body()  # always drain the body so keep-alive stays in sync
        path = self.path.split("?", 1)[0].rstrip("/")
        if path != "/v1/chat/completions":
            self._send_error_json(404, f"Unknown path {self.path} (stub)")
            return
        headers = {k: v for k, v in self.headers.items()}
        try:
            body = json.loads(raw.decode("utf-8") or "null")
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError:
            self._stub._record({"_invalid_body": raw.decode("utf-8", "replace"), "headers": headers})
            self._send_error_json(400, "Request body is not valid JSON (stub)")
            return
        self._stub._record({**body, "headers": headers})
        reply = self._stub._next_reply()

        if reply.delay > 0 and self._stub._stopping.wait(reply.delay):
            self.close_connection = True
            return  # server is stopping: abandon the request
        if reply.status != 200:
            self._send_error_json(reply.status, reply.content or None, reply.headers)
            return
        model = body.get("model") or MODEL_ID
        if body.get("stream"):
            self._stream(reply, model, body)
        else:
            self._complete(reply, model, body)

    # -- chat completions ---------------------------------------------------

    def _usage(self, body: dict, content: str) -> dict:
        prompt = sum(
            _token_count(m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content")))
            for m in body.get("messages") or []
            if isinstance(m, dict)
        )
        completion = _token_count(content)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _complete(self, reply: Reply, model: str, body: dict) -> None:
        if reply.malformed:
            self._send_json(200, None, reply.headers, raw=b'{"id": "chatcmpl-stub", "choices": [ <<not json')
            return
        payload = {
            "id": self._stub._new_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "stub",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": self._usage(body, reply.content),
        }
        self._send_json(200, payload, reply.headers)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self, reply: Reply, model: str, body: dict) -> None:
        cid = self._stub._new_id()
        created = int(time.time())

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            obj = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "stub",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            return b"data: " + json.dumps(obj).encode("utf-8") + b"\n\n"

        deltas = _split_deltas(reply.content)
        events: list[bytes] = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": d}) for d in deltas]
        if reply.malformed:
            # An invalid data line right after the first content delta.
            events.insert(min(2, len(events)), b'data: {"id": "chatcmpl-stub", "choices": [ <<not json\n\n')
        if reply.truncate_stream:
            # Keep the role chunk plus roughly half of the content deltas, then drop.
            keep = 1 + max(1, len(deltas) // 2) if deltas else 1
            events = events[:keep]
        else:
            events.append(chunk({}, "stop"))
            opts = body.get("stream_options") or {}
            if isinstance(opts, dict) and opts.get("include_usage"):
                usage_obj = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "stub",
                    "choices": [],
                    "usage": self._usage(body, reply.content),
                }
                events.append(b"data: " + json.dumps(usage_obj).encode("utf-8") + b"\n\n")
            events.append(b"data: [DONE]\n\n")

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in reply.headers.items():
            self.send_header(str(k), str(v))
        self.end_headers()
        try:
            for i, ev in enumerate(events):
                if i and reply.chunk_delay > 0 and self._stub._stopping.wait(reply.chunk_delay):
                    reply = Reply(truncate_stream=True)  # stopping: drop like a truncation
                    break
                if reply.stall > 0 and i == 1 + reply.stall_after and self._stub._stopping.wait(reply.stall):
                    reply = Reply(truncate_stream=True)
                    break
                self._write_chunk(ev)
            if reply.truncate_stream:
                # Drop the connection without the terminating zero-length chunk:
                # the client sees an incomplete chunked body.
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class StubOpenAI:
    """Scripted local OpenAI-compatible server (TEST STAND-IN, no model)."""

    def __init__(self) -> None:
        self.base_url: str = ""
        self.requests: list[dict] = []
        self.default: Reply = Reply(content="This is a scripted reply from the test stub.")
        self._queue: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> "StubOpenAI":
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.stub = self
        self._server = server
        port = server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"openai-stub-{port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in delay / chunk_delay
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # unblock keep-alive handlers waiting for a next request
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> "StubOpenAI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies; each chat request consumes one, in order."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Number of scripted replies not yet consumed."""
        with self._lock:
            return len(self._queue)

    # -- internals used by the handler --------------------------------------

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _record(self, entry: dict) -> None:
        with self._lock:
            self.requests.append(entry)

    def _new_id(self) -> str:
        with self._lock:
            return f"chatcmpl-stub-{next(self._ids)}"

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)
