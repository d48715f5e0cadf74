"""A fake Reddit behind ``httpx.MockTransport``: ``/api/v1/access_token`` (HTTP Basic, password and
client_credentials grants), listings ``/r/{sub}/new``, ``/r/{sub}/comments``, ``/search`` and
``/user/{name}/comments`` (newest first, ``after`` fullnames, ``X-Ratelimit-*`` headers) and
``/api/comment``, answering with the shapes of tests/payloads/reddit/."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from sqlalchemy import select

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.mentions.models import Mention, QuarantineItem
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import IngestRun, Source
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import SourceCreate

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "reddit"
AUTH, API = "https://auth.reddit.example", "https://oauth.reddit.example"
CLIENT_ID, SECRET, PASSWORD = "p-jcoLKBynTLew", "gko_LXELoV07ZBNUXrvWZfzE3aI", "hunter2-but-longer"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.reddit.test"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def make_post(n: int, *, sub: str = "berlin", at: datetime | None = None, title: str | None = None) -> dict[str, Any]:
    thing = payload("link.json")
    created = (at or (now() - timedelta(hours=3) + timedelta(seconds=60 * n))).timestamp()
    thing["data"].update(id=f"p{n:05d}", name=f"t3_p{n:05d}", subreddit=sub, created_utc=created, created=created,
                         title=title or f"Radwerk Frage {n}", selftext_html=None, selftext=f"Text {n}",
                         permalink=f"/r/{sub}/comments/p{n:05d}/radwerk/")  # fmt: skip
    return thing


def make_comment(n: int, *, sub: str = "berlin", parent: str = "t3_p00001") -> dict[str, Any]:
    thing = payload("comment.json")
    created = (now() - timedelta(hours=3) + timedelta(seconds=60 * n)).timestamp()
    thing["data"].update(id=f"c{n:05d}", name=f"t1_c{n:05d}", subreddit=sub, created_utc=created, parent_id=parent,
                         link_id="t3_p00001", body=f"Kommentar {n}", body_html=None,
                         permalink=f"/r/{sub}/comments/p00001/radwerk/c{n:05d}/")  # fmt: skip
    return thing


@dataclass
class FakeReddit:
    things: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[tuple[str, Any]] = field(default_factory=list)
    remaining: float = 599.0
    mine: list[dict[str, Any]] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), timeout=5.0)

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def _headers(self) -> dict[str, str]:
        return {"X-Ratelimit-Used": "1", "X-Ratelimit-Remaining": f"{self.remaining:.1f}", "X-Ratelimit-Reset": "412"}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for i, (name, answer) in enumerate(self.scripted):
            if path == name or path.endswith(name):
                del self.scripted[i]
                if isinstance(answer, Exception):
                    raise answer
                return answer(request) if callable(answer) else answer  # type: ignore[no-any-return]
        if path == "/api/v1/access_token":
            return self._token(request)
        if request.headers.get("authorization") != f"bearer {TOKEN}":
            return httpx.Response(401, json=payload("error_401.json"))
        if request.method == "POST" and path == "/api/comment":
            return self._comment(request)
        parts = path.strip("/").split("/")
        params = request.url.params
        if len(parts) == 3 and parts[0] == "r" and parts[2] in ("new", "comments"):
            kind = "t3" if parts[2] == "new" else "t1"
            found = [t for t in self.things if t["kind"] == kind and t["data"]["subreddit"].lower() == parts[1].lower()]
        elif path == "/search":
            words = params["q"].lower().split()
            found = [
                t for t in self.things if t["kind"] == "t3" and all(w in t["data"]["title"].lower() for w in words)
            ]
        elif len(parts) == 3 and parts[0] == "user" and parts[2] == "comments":
            found = list(self.mine)
        else:
            return httpx.Response(404, json={"message": "Not Found", "error": 404})
        return self._listing(found, params)

    def _listing(self, found: list[dict[str, Any]], params: httpx.QueryParams) -> httpx.Response:
        ordered = sorted(found, key=lambda t: t["data"]["created_utc"], reverse=True)
        if params.get("after"):
            names = [t["data"]["name"] for t in ordered]
            ordered = ordered[names.index(params["after"]) + 1 :] if params["after"] in names else []
        limit = int(params.get("limit", "25"))
        page = ordered[:limit]
        after = page[-1]["data"]["name"] if len(ordered) > limit else None
        body = {"kind": "Listing", "data": {"after": after, "dist": len(page), "modhash": "", "geo_filter": "",
                                            "children": copy.deepcopy(page), "before": None}}  # fmt: skip
        return httpx.Response(200, json=body, headers=self._headers())

    def _token(self, request: httpx.Request) -> httpx.Response:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json=payload("error_401.json"))
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") == "password" and form.get("password") != PASSWORD:
            return httpx.Response(200, json=payload("token_error.json"))  # Reddit answers 200 with an error
        return httpx.Response(200, json=payload("access_token.json"))

    def _comment(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        names = {t["data"]["name"] for t in self.things}
        if form["thing_id"] not in names:
            return httpx.Response(200, json=payload("comment_error_deleted.json"))
        answer = payload("comment_posted.json")
        data = answer["json"]["data"]["things"][0]["data"]
        n = len(self.mine) + 1
        data.update(id=f"mine{n}", name=f"t1_mine{n}", parent_id=form["thing_id"], body=form["text"],
                    created_utc=now().timestamp())  # fmt: skip
        self.mine.append(copy.deepcopy(answer["json"]["data"]["things"][0]))
        return httpx.Response(200, json=answer, headers=self._headers())


@dataclass
class RedditWorld:
    db: Database
    settings: Settings
    server: FakeReddit

    def add_source(self, name: str = "r", **config: Any) -> int:
        values = {"client_id": CLIENT_ID, "auth_url": AUTH, "api_url": API, **config}
        with transaction(self.db.sessions) as session:
            return do_create_source(session, data=SourceCreate(name=name, kind="reddit", config=values)).id

    def pull(self, source_id: int) -> IngestRun:
        with self.server.client() as client:
            return pull_source(self.db.sessions, source_id=source_id, settings=self.settings, http=client)

    def source(self, source_id: int) -> Source:
        with self.db.sessions() as session:
            found = session.get(Source, source_id)
            assert found is not None
            return found

    def ids(self) -> list[str]:
        with self.db.sessions() as session:
            return sorted(session.scalars(select(Mention.external_id)))

    def mention(self, external_id: str) -> Mention:
        with self.db.sessions() as session:
            found = session.scalar(select(Mention).where(Mention.external_id == external_id))
            assert found is not None, external_id
            return found

    def quarantine(self) -> list[QuarantineItem]:
        with self.db.sessions() as session:
            return list(session.scalars(select(QuarantineItem).order_by(QuarantineItem.id)))
