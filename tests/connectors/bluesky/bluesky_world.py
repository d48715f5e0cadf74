"""A fake Bluesky PDS behind ``httpx.MockTransport``: createSession, searchPosts (since inclusive,
until exclusive, newest first, opaque cursor), listNotifications, getPosts, resolveHandle,
createRecord and getRecord, answering with the shapes of tests/payloads/bluesky/ (written from the
lexicons), and the few steps every pull test takes through the real pull job."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "bluesky"
SERVICE = "https://pds.example"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
OWN_DID = "did:plc:radwerk00000000000000000"
ACCESS = "eyJhbGciOiJIUzI1NiJ9.access.test"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_post(n: int, *, text: str | None = None, at: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """Post number ``n`` (later with n), shaped like tests/payloads/bluesky/post_view.json."""
    post = payload("post_view.json")
    created = at or (now() - timedelta(hours=1) + timedelta(seconds=10 * n))
    post["uri"] = f"at://did:plc:anna4example000000000000/app.bsky.feed.post/3kpost{n:07d}"
    post["cid"] = f"bafyreicid{n:07d}"
    post["record"] = {"$type": "app.bsky.feed.post", "createdAt": stamp(created), "langs": ["de"],
                      "text": text or f"Radwerk Meldung {n}"}  # fmt: skip
    post["indexedAt"] = stamp(created + timedelta(seconds=1))
    post.update(overrides)
    return post


def sort_at(post: dict[str, Any]) -> datetime:
    times = [post["record"]["createdAt"], post["indexedAt"]]
    return min(datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times)


@dataclass
class FakeBluesky:
    posts: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    handles: dict[str, str] = field(default_factory=lambda: {"anna.bsky.social": "did:plc:anna4example000000000000"})
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # rkey -> {uri, cid, value}
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[Any] = field(default_factory=list)  # per-nsid answers: (nsid, Response | Exception | callable)
    remaining: int = 2999

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), timeout=5.0)

    def _headers(self) -> dict[str, str]:
        reset = int((now() + timedelta(minutes=5)).timestamp())
        return {"RateLimit-Limit": "3000", "RateLimit-Remaining": str(self.remaining), "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "3000;w=300"}  # fmt: skip

    def ok(self, body: Any) -> httpx.Response:
        return httpx.Response(200, json=body, headers=self._headers())

    def calls(self, nsid: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/xrpc/{nsid}"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        nsid = request.url.path.removeprefix("/xrpc/")
        for i, (name, answer) in enumerate(self.scripted):
            if name == nsid:
                del self.scripted[i]
                if isinstance(answer, Exception):
                    raise answer
                return answer(request) if callable(answer) else answer
        if nsid == "com.atproto.server.createSession":
            if json.loads(request.content).get("password") != APP_PASSWORD:
                return httpx.Response(401, json=payload("error_auth.json"))
            return self.ok(payload("create_session.json"))
        if request.headers.get("authorization") != f"Bearer {ACCESS}":
            return httpx.Response(401, json={"error": "AuthenticationRequired", "message": "Authentication Required"})
        route = getattr(self, "_" + nsid.replace(".", "_"), None)
        if route is None:
            return httpx.Response(404, json={"error": "MethodNotImplemented", "message": "Method Not Implemented"})
        return route(request)  # type: ignore[no-any-return]

    def _app_bsky_feed_searchPosts(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        words = params["q"].lower().split()
        found = [p for p in self.posts if all(w in p["record"]["text"].lower() for w in words)]
        if params.get("since"):
            since = datetime.fromisoformat(params["since"].replace("Z", "+00:00"))
            found = [p for p in found if sort_at(p) >= since]
        if params.get("until"):
            until = datetime.fromisoformat(params["until"].replace("Z", "+00:00"))
            found = [p for p in found if sort_at(p) < until]
        found.sort(key=sort_at, reverse=True)
        offset = int(params.get("cursor", "0"))
        limit = int(params.get("limit", "25"))
        page = found[offset : offset + limit]
        body: dict[str, Any] = {"posts": copy.deepcopy(page), "hitsTotal": len(found)}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)
        return self.ok(body)

    def _app_bsky_notification_listNotifications(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        reasons = params.get_list("reasons")
        found = sorted(
            (n for n in self.notifications if not reasons or n["reason"] in reasons),
            key=lambda n: n["indexedAt"],
            reverse=True,
        )
        if params.get("cursor"):
            found = [n for n in found if n["indexedAt"] < params["cursor"]]
        page = found[: int(params.get("limit", "50"))]
        body: dict[str, Any] = {"notifications": copy.deepcopy(page), "seenAt": stamp(now())}
        if len(found) > len(page):
            body["cursor"] = page[-1]["indexedAt"]
        return self.ok(body)

    def _app_bsky_feed_getPosts(self, request: httpx.Request) -> httpx.Response:
        uris = request.url.params.get_list("uris")
        return self.ok({"posts": [copy.deepcopy(p) for p in self.posts if p["uri"] in uris]})

    def _com_atproto_identity_resolveHandle(self, request: httpx.Request) -> httpx.Response:
        did = self.handles.get(request.url.params["handle"].lower())
        if did is None:
            return httpx.Response(400, json={"error": "InvalidRequest", "message": "Unable to resolve handle"})
        return self.ok({"did": did})

    def _com_atproto_repo_createRecord(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["repo"] != OWN_DID:
            return httpx.Response(401, json={"error": "InvalidToken", "message": "Token could not be verified"})
        rkey = body["rkey"]
        if rkey in self.records:
            return httpx.Response(400, json={"error": "InvalidRequest", "message": "Record already exists"})
        uri = f"at://{OWN_DID}/{body['collection']}/{rkey}"
        self.records[rkey] = {"uri": uri, "cid": f"bafyreinew{len(self.records)}", "value": body["record"]}
        return self.ok({"uri": uri, "cid": self.records[rkey]["cid"], "validationStatus": "valid"})

    def _com_atproto_repo_getRecord(self, request: httpx.Request) -> httpx.Response:
        found = self.records.get(request.url.params["rkey"])
        if found is None:
            return httpx.Response(400, json=payload("error_record_not_found.json"))
        return self.ok(found)


@dataclass
class BlueskyWorld:
    db: Database
    settings: Settings
    server: FakeBluesky

    def add_source(self, name: str = "b", **config: Any) -> int:
        with transaction(self.db.sessions) as session:
            values = {"service": SERVICE, "identifier": "radwerk.bsky.social", **config}
            return do_create_source(session, data=SourceCreate(name=name, kind="bluesky", config=values)).id

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


def uris(numbers: range | list[int]) -> list[str]:
    return sorted(f"at://did:plc:anna4example000000000000/app.bsky.feed.post/3kpost{n:07d}" for n in numbers)


__all__ = ["UTC", "BlueskyWorld", "FakeBluesky", "make_post", "payload", "stamp", "uris"]
