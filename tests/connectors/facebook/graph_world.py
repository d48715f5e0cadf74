"""A fake Graph API (httpx.MockTransport): the Page feed and comment edges newest first with
``paging.next`` links, Instagram media and comments with replies, usage headers, replies."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "facebook"
PAGE = "104857600000001"
IG = "17841400000009999"
BASE = "https://graph.facebook.com/v21.0"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def gtime(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class FakeGraph:
    posts: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # object id -> newest first
    media: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[httpx.Response | Exception] = field(default_factory=list)
    usage: int = 10
    page_size: int = 2

    def add_post(self, n: int, *, at: datetime, message: str | None = None, updated: datetime | None = None) -> str:
        post = copy.deepcopy(payload("feed.json")["data"][0])
        post["id"] = f"{PAGE}_{122100000000000000 + n}"
        post["message"] = message or f"Beitrag {n}"
        post["created_time"], post["updated_time"] = gtime(at), gtime(updated or at)
        self.posts = sorted([p for p in self.posts if p["id"] != post["id"]] + [post],
                            key=lambda p: p["created_time"], reverse=True)  # fmt: skip
        return str(post["id"])

    def add_comment(self, object_id: str, n: int, *, at: datetime, parent: str | None = None) -> str:
        comment = copy.deepcopy(payload("comments.json")["data"][1])
        comment["id"] = f"{object_id.split('_')[-1]}_{987650000000000 + n}"
        comment["message"] = f"Kommentar {n}"
        comment["created_time"] = gtime(at)
        if parent:
            comment["parent"] = {"id": parent}
        self.comments[object_id] = sorted([*self.comments.get(object_id, []), comment],
                                          key=lambda c: c["created_time"], reverse=True)  # fmt: skip
        return str(comment["id"])

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def headers(self) -> dict[str, str]:
        app = json.dumps({"call_count": self.usage, "total_cputime": 5, "total_time": 5})
        buc = json.dumps({PAGE: [{"type": "pages", "call_count": self.usage, "total_cputime": 3, "total_time": 3,
                                  "estimated_time_to_regain_access": 0}]})  # fmt: skip
        return {"X-App-Usage": app, "X-Business-Use-Case-Usage": buc}

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        start = int(request.url.params.get("after") or 0)
        chosen = items[start : start + self.page_size]
        body: dict[str, Any] = {"data": copy.deepcopy(chosen), "paging": {"cursors": {"before": "b", "after": "a"}}}
        if start + self.page_size < len(items):
            body["paging"]["next"] = f"{BASE}{request.url.path.removeprefix('/v21.0')}?after={start + self.page_size}"
        return httpx.Response(200, json=body, headers=self.headers())

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == "Bearer page-token"
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        path = request.url.path.removeprefix("/v21.0")
        parts = path.strip("/").split("/")
        if request.method == "POST":
            form = dict(parse_qsl(request.content.decode()))
            new = {"id": f"{parts[0].split('_')[-1]}_{len(self.requests)}" if "_" in parts[0] else "17858893269099999"}
            mine = {**new, "message": form["message"], "text": form["message"],
                    "from": {"id": PAGE if "_" in parts[0] else IG, "name": "Radwerk"}}  # fmt: skip
            self.comments.setdefault(parts[0], []).insert(0, mine)
            return httpx.Response(200, json=new, headers=self.headers())
        if parts == [PAGE, "feed"]:
            return self._page(request, self.posts)
        if parts == [IG, "media"]:
            return httpx.Response(200, json={"data": self.media}, headers=self.headers())
        if len(parts) == 2 and parts[1] in ("comments", "replies"):
            if parts[0] not in self.comments and parts[0] not in {p["id"] for p in self.posts} | {
                m["id"] for m in self.media
            }:
                return httpx.Response(400, json={"error": {"message": "Unsupported get request. Object with ID "
                                      "does not exist", "type": "GraphMethodException", "code": 100,
                                      "error_subcode": 33}})  # fmt: skip
            return self._page(request, self.comments.get(parts[0], []))
        return httpx.Response(404, json={"error": {"message": "Unknown path", "code": 803}})
