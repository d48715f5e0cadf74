"""A real HTTP server on 127.0.0.1 (random port) that answers with canned responses.

Connector tests run against it instead of mocks, so the whole HTTP stack is exercised: status
codes, headers, gzip, redirects, conditional GET, slow answers. Every request is recorded.

    with LocalHTTPServer() as server:
        server.route("/feed.xml", Reply(body=data, headers={"Content-Type": "application/rss+xml"}))
        server.route("/old", redirect_to("/feed.xml", status=301))
        client.get(server.url("/feed.xml"))
        assert server.requests[-1].headers["user-agent"].startswith("Resonanz")
"""

from __future__ import annotations

import gzip as gzip_lib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType


@dataclass
class Request:
    """A request the server received; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    """What to answer. With ``etag`` / ``last_modified`` set the server does conditional GET:
    a request whose ``If-None-Match`` / ``If-Modified-Since`` matches gets ``304``."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    delay_s: float = 0.0
    etag: str | None = None
    last_modified: str | None = None


Handler = Callable[[Request], Reply]


def redirect_to(location: str, *, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


def file_reply(path: Path, *, content_type: str = "application/xml", **kwargs: object) -> Reply:
    reply = Reply(body=path.read_bytes(), **kwargs)  # type: ignore[arg-type]
    reply.headers.setdefault("Content-Type", content_type)
    return reply


class LocalHTTPServer:
    """Serves ``routes`` (path -> Reply, or a function of the request) until stopped."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, reply: Reply | Handler) -> None:
        self.routes[path] = reply

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> LocalHTTPServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="local-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (safe to call twice: a test may stop the server to refuse connections)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
        route = self.routes.get(request.path)
        if route is None:
            return Reply(status=404, body=b"not found", headers={"Content-Type": "text/plain"})
        reply = route(request) if callable(route) else route
        if reply.status == 200 and (
            (reply.etag and request.headers.get("if-none-match") == reply.etag)
            or (reply.last_modified and request.headers.get("if-modified-since") == reply.last_modified)
        ):
            return Reply(status=304, headers=_validators(reply))
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path
                request = Request("GET", path, {k.lower(): v for k, v in self.headers.items()})
                reply = server._answer(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = gzip_lib.compress(reply.body) if reply.gzip else reply.body
                try:
                    self.send_response(reply.status)
                    for name, value in {**reply.headers, **_validators(reply)}.items():
                        self.send_header(name, value)
                    if reply.gzip:
                        self.send_header("Content-Encoding", "gzip")
                    if reply.status != 304:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if reply.status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

        return _Handler


def _validators(reply: Reply) -> dict[str, str]:
    headers: dict[str, str] = {}
    if reply.etag:
        headers["ETag"] = reply.etag
    if reply.last_modified:
        headers["Last-Modified"] = reply.last_modified
    return headers
