"""A fake Algolia HN Search API behind ``httpx.MockTransport``: ``search_by_date`` with ``query``,
``tags``, ``numericFilters`` on ``created_at_i``, ``page`` / ``hitsPerPage`` and Algolia's
1,000-hit paging limit, answering with the shape of tests/payloads/hackernews/."""

from __future__ import annotations

import copy
import json
import re
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

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "hackernews"
API = "https://hn.example/api/v1"
PAGINATION_LIMIT = 1000
_FILTER = re.compile(r"^created_at_i(>=|<=|>|<|=)(\d+)$")


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def make_comment(n: int, *, at: datetime | None = None, text: str | None = None) -> dict[str, Any]:
    """Comment ``n`` (later with n) on story 39580000, shaped like the first hit of search_by_date.json."""
    hit = payload("search_by_date.json")["hits"][0]
    created = at or (now() - timedelta(hours=2) + timedelta(seconds=30 * n))
    hit.update(
        objectID=str(40000000 + n),
        created_at_i=int(created.timestamp()),
        created_at=created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        comment_text=text or f"Radwerk comment number {n}",
    )
    return hit


@dataclass
class FakeAlgolia:
    hits: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[Any] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), timeout=5.0)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer  # type: ignore[no-any-return]
        if request.url.path != "/api/v1/search_by_date":
            return httpx.Response(404, json={"message": "Not Found", "status": 404})
        params = request.url.params
        words = params.get("query", "").lower().split()
        tags = params.get("tags", "")
        wanted = set(tags.strip("()").split(",")) if tags else set()
        found = [h for h in self.hits if all(w in json.dumps(h).lower() for w in words)]
        if wanted:
            found = [h for h in found if wanted & set(h["_tags"])]
        for part in filter(None, params.get("numericFilters", "").split(",")):
            match = _FILTER.match(part)
            if not match:
                return httpx.Response(400, json=payload("error_400.json"))
            op, value = match.group(1), int(match.group(2))
            ops = {">=": int.__ge__, "<=": int.__le__, ">": int.__gt__, "<": int.__lt__, "=": int.__eq__}
            found = [h for h in found if ops[op](h["created_at_i"], value)]
        found.sort(key=lambda h: (h["created_at_i"], h["objectID"]), reverse=True)
        per_page, page = int(params.get("hitsPerPage", "20")), int(params.get("page", "0"))
        reachable = found[:PAGINATION_LIMIT]
        pages = -(-len(reachable) // per_page)
        body = {
            "hits": copy.deepcopy(reachable[page * per_page : (page + 1) * per_page]),
            "nbHits": len(found), "nbPages": pages, "page": page, "hitsPerPage": per_page,
            "exhaustiveNbHits": True, "query": params.get("query", ""), "params": str(request.url.query),
            "processingTimeMS": 1,
        }  # fmt: skip
        return httpx.Response(200, json=body)


@dataclass
class HackerNewsWorld:
    db: Database
    settings: Settings
    server: FakeAlgolia

    def add_source(self, name: str = "hn", **config: Any) -> int:
        with transaction(self.db.sessions) as session:
            values = {"api_url": API, "queries": ["radwerk"], **config}
            return do_create_source(session, data=SourceCreate(name=name, kind="hackernews", config=values)).id

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


def comment_ids(numbers: range | list[int]) -> list[str]:
    return sorted(str(40000000 + n) for n in numbers)
