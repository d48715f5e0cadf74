"""Data for the care tests: a case with a customer mention, a publishing source, a fake publisher
whose answers a test scripts, and a local HTTP server that accepts POSTs (the shared test server
answers GET only)."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from resonanz.cases.models import Case, CaseMention
from resonanz.clock import now
from resonanz.connectors.base import (
    Connector,
    OutgoingReply,
    PublishCheck,
    PublishResult,
    PullResult,
    RawItem,
    ReplyKind,
)
from resonanz.hookspecs import hookimpl
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.schemas import MentionIn
from resonanz.plugins import get_plugin_manager
from resonanz.sources.models import Source

_seq = itertools.count(1)


def make_source(session: Session, *, kind: str, config: dict[str, Any] | None = None) -> Source:
    source = Source(name=f"{kind}-{next(_seq)}", kind=kind, config=config or {}, created_at=now())
    session.add(source)
    session.flush()
    return source


def make_case(
    session: Session,
    *,
    text: str = "Meine Lieferung ist seit zwei Wochen verspätet, wo bleibt sie?",
    platform: str = "portal",
    lang: str = "de",
    source: Source | None = None,
    priority: str = "normal",
    tags: list[str] | None = None,
    status: str = "open",
) -> Case:
    n = next(_seq)
    stamp = now()
    author = Author(platform=platform, handle=f"kunde{n}", name=f"Kundin {n}", first_seen_at=stamp, last_seen_at=stamp)
    session.add(author)
    session.flush()
    mention = Mention(
        platform=platform, external_id=f"post-{n}", source_id=source.id if source else None, author_id=author.id,
        published_at=stamp, fetched_at=stamp, updated_at=stamp, text=text, lang=lang,
        content_hash=f"{n:064d}", revision_hash=f"{n:064d}",
    )  # fmt: skip
    session.add(mention)
    session.flush()
    case = Case(
        subject=text[:80], lang=lang, platform=platform, author_id=author.id, source_id=source.id if source else None,
        status=status, priority=priority, tags=tags or [], created_at=stamp, updated_at=stamp, priority_reasons=[],
    )  # fmt: skip
    session.add(case)
    session.flush()
    session.add(CaseMention(case_id=case.id, mention_id=mention.id, added_at=stamp))
    session.flush()
    return case


class FakePublisherConfig(BaseModel):
    label: str = "fake"


class FakePublisher(Connector):
    """A publisher whose answers come from ``script`` (a PublishResult or an exception per call)."""

    kind = "fake_publisher"
    title = "Fake publisher (tests)"
    platform = "portal"
    Config = FakePublisherConfig
    pulls = False
    publishes = True
    reply_kinds = frozenset({ReplyKind.REPLY, ReplyKind.DIRECT})
    publish_check: ClassVar[PublishCheck] = PublishCheck.NONE
    script: ClassVar[list[Exception | str]] = []
    published: ClassVar[list[OutgoingReply]] = []
    lookups: ClassVar[list[OutgoingReply]] = []
    found: ClassVar[dict[str, str]] = {}

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        return PullResult(cursor=cursor)

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        raise NotImplementedError

    def publish(self, reply: OutgoingReply) -> PublishResult:
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception):
            raise step
        type(self).published.append(reply)
        return PublishResult(
            platform="portal", external_id=f"out-{reply.idempotency_key}", published_at=datetime.now(UTC)
        )

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        type(self).lookups.append(reply)
        ext = self.found.get(reply.idempotency_key)
        return (
            None if ext is None else PublishResult(platform="portal", external_id=ext, published_at=datetime.now(UTC))
        )


class _Plugin:
    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        return [FakePublisher]


@contextmanager
def fake_publisher() -> Iterator[type[FakePublisher]]:
    pm = get_plugin_manager()
    plugin = _Plugin()
    pm.register(plugin, name="fake-publisher")
    FakePublisher.script, FakePublisher.published, FakePublisher.lookups, FakePublisher.found = [], [], [], {}
    FakePublisher.publish_check = PublishCheck.NONE
    try:
        yield FakePublisher
    finally:
        pm.unregister(plugin)


class PostServer:
    """127.0.0.1 on a random port; ``answers`` is a list of (status, body, headers) used in order
    (the last one repeats); every POST is kept in ``received`` as (headers, body)."""

    def __init__(self, answers: list[tuple[int, bytes, dict[str, str]]]) -> None:
        self.answers = answers
        self.received: list[tuple[dict[str, str], bytes]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, answer, headers = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/replies"

    def __enter__(self) -> PostServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def ok(data: dict[str, Any] | None = None) -> tuple[int, bytes, dict[str, str]]:
    return 200, json.dumps(data or {}).encode(), {"Content-Type": "application/json"}


@contextmanager
def frozen_clock(start: datetime) -> Iterator[Callable[[float], None]]:
    """Time stands at ``start``; the yielded function moves it on by seconds."""
    from datetime import timedelta

    from resonanz.clock import set_clock

    current = [start]
    set_clock(lambda: current[0])
    try:
        yield lambda seconds: current.__setitem__(0, current[0] + timedelta(seconds=seconds))
    finally:
        set_clock(None)
