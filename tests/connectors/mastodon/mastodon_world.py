"""A fake Mastodon instance behind ``httpx.MockTransport`` that pages the way the REST API documents
it (``min_id`` / ``max_id`` / ``since_id``, newest first, ``Link`` header, rate-limit headers,
``Idempotency-Key``), built from the hand-written payloads in tests/payloads/mastodon/, plus the
few steps every pull test takes through the real pull job and the test database."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "mastodon"
BASE = "https://social.example"
TOKEN = "test-token-123"
FIRST_ID = 111000000000001000


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def make_status(n: int, *, tag: str = "bahn", text: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Status number ``n`` (ids grow with n), shaped like tests/payloads/mastodon/status.json."""
    status = payload("status.json")
    sid = str(FIRST_ID + n)
    status.update(
        id=sid,
        uri=f"{BASE}/users/anna/statuses/{sid}",
        url=f"{BASE}/@anna/{sid}",
        created_at=(now() - timedelta(hours=1) + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
        content=f'<p>{text or f"Meldung {n} zu"} <a href="{BASE}/tags/{tag}">#{tag}</a></p>',
        tags=[{"name": tag, "url": f"{BASE}/tags/{tag}"}],
        media_attachments=[],
    )
    status.update(overrides)
    return status


def order_key(value: str) -> tuple[int, str]:
    return len(value), value


@dataclass
class FakeMastodon:
    statuses: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    #: answers (or exceptions) used, in order, before the normal routes
    scripted: list[httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    remaining: int = 299
    posted: dict[str, dict[str, Any]] = field(default_factory=dict)  # Idempotency-Key -> status
    own_statuses: list[dict[str, Any]] = field(default_factory=list)
    next_post_id: int = FIRST_ID + 900_000

    def add(self, *statuses: dict[str, Any]) -> None:
        self.statuses.extend(statuses)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), timeout=5.0)

    def _headers(self) -> dict[str, str]:
        reset = (now() + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(self.remaining), "X-RateLimit-Reset": reset}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer(request) if callable(answer) else answer
        path = request.url.path
        if request.headers.get("authorization") not in (None, f"Bearer {TOKEN}"):
            return httpx.Response(401, json=payload("error_401.json"))
        if request.method == "POST" and path == "/api/v1/statuses":
            return self._post(request)
        if path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1].lower()
            found = [s for s in self.statuses if any(t["name"] == tag for t in s["tags"])]
            return self._page(request, found)
        if path == "/api/v2/search":
            words = request.url.params["q"].lower().split()
            found = [s for s in self.statuses if all(w in s["content"].lower() for w in words)]
            # search sorts by id, newest first, and min_id / max_id only bound the range (unlike timelines)
            params = request.url.params
            ordered = sorted(found, key=lambda o: order_key(o["id"]), reverse=True)
            if params.get("max_id"):
                ordered = [o for o in ordered if order_key(o["id"]) < order_key(params["max_id"])]
            if params.get("min_id"):
                ordered = [o for o in ordered if order_key(o["id"]) > order_key(params["min_id"])]
            chosen = copy.deepcopy(ordered[: min(int(params.get("limit", "20")), 40)])
            body = {"accounts": [], "statuses": chosen, "hashtags": []}
            return httpx.Response(200, json=body, headers=self._headers())  # search has no Link header
        if path == "/api/v1/notifications":
            types = request.url.params.get_list("types[]")
            return self._page(request, [n for n in self.notifications if n["type"] in types])
        if path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json={"id": "108000000000000001", "acct": "radwerk"}, headers=self._headers())
        if path == "/api/v1/accounts/108000000000000001/statuses":
            newest = sorted(self.own_statuses, key=lambda s: order_key(s["id"]), reverse=True)
            return httpx.Response(200, json=newest[:40], headers=self._headers())
        return httpx.Response(404, json={"error": "Record not found"})

    def _page(self, request: httpx.Request, objects: list[dict[str, Any]]) -> httpx.Response:
        """Newest first; ``min_id`` gives the objects immediately newer than it (as documented)."""
        params = request.url.params
        limit = min(int(params.get("limit", "20")), 40)
        ordered = sorted(objects, key=lambda o: order_key(o["id"]))
        if params.get("max_id"):
            ordered = [o for o in ordered if order_key(o["id"]) < order_key(params["max_id"])]
        if params.get("since_id"):
            ordered = [o for o in ordered if order_key(o["id"]) > order_key(params["since_id"])]
        if params.get("min_id"):
            chosen = [o for o in ordered if order_key(o["id"]) > order_key(params["min_id"])][:limit]
        else:
            chosen = ordered[-limit:]
        chosen = list(reversed(chosen))
        headers = self._headers()
        if chosen:
            base = str(request.url.copy_with(query=None))
            keep = [(k, v) for k, v in params.multi_items() if k not in ("max_id", "min_id", "since_id")]
            nxt = urlencode([*keep, ("max_id", chosen[-1]["id"])])
            prev = urlencode([*keep, ("min_id", chosen[0]["id"])])
            headers["Link"] = f'<{base}?{nxt}>; rel="next", <{base}?{prev}>; rel="prev"'
        return httpx.Response(200, json=copy.deepcopy(chosen), headers=headers)

    def _post(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("idempotency-key")
        if key and key in self.posted:
            return httpx.Response(200, json=self.posted[key], headers=self._headers())
        body = json.loads(request.content)
        parent = body.get("in_reply_to_id")
        if parent and not any(s["id"] == parent for s in self.statuses):
            return httpx.Response(404, json={"error": "Record not found"})
        if len(body["status"]) > 500:
            return httpx.Response(422, json=payload("error_422.json"))
        self.next_post_id += 1
        status = make_status(0, text=body["status"], id=str(self.next_post_id), in_reply_to_id=parent)
        status.update(visibility=body.get("visibility", "public"), content=f"<p>{body['status']}</p>")
        status["created_at"] = now().isoformat().replace("+00:00", "Z")
        status["account"] = {**status["account"], "acct": "radwerk", "username": "radwerk"}
        if key:
            self.posted[key] = status
        self.own_statuses.append(status)
        return httpx.Response(200, json=status, headers=self._headers())


@dataclass
class MastodonWorld:
    db: Database
    settings: Settings
    server: FakeMastodon

    def add_source(self, name: str = "m", **config: Any) -> int:
        with transaction(self.db.sessions) as session:
            data = SourceCreate(name=name, kind="mastodon", config={"instance": BASE, **config})
            return do_create_source(session, data=data).id

    def pull(self, source_id: int) -> IngestRun:
        with self.server.client() as client:
            return pull_source(self.db.sessions, source_id=source_id, settings=self.settings, http=client)

    def source(self, source_id: int) -> Source:
        with self.db.sessions() as session:
            found = session.get(Source, source_id)
            assert found is not None
            return found

    def mentions(self) -> list[Mention]:
        with self.db.sessions() as session:
            return list(session.scalars(select(Mention).order_by(Mention.id)))

    def mention(self, external_id: str) -> Mention:
        with self.db.sessions() as session:
            found = session.scalar(select(Mention).where(Mention.external_id == external_id))
            assert found is not None, external_id
            return found

    def quarantine(self) -> list[QuarantineItem]:
        with self.db.sessions() as session:
            return list(session.scalars(select(QuarantineItem).order_by(QuarantineItem.id)))
