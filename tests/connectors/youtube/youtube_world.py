"""A fake YouTube Data API v3 (httpx.MockTransport) that pages comment threads newest first with
``nextPageToken``, answers search, comments.list / comments.insert and the OAuth token endpoint,
built from tests/payloads/youtube/."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from resonanz.clock import now

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "youtube"
CHANNEL = "UCK8sQmJBp8GCxrOtXWBpyEA"
VIDEO = "dQw4w9WgXcQ"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeYouTube:
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # stream selector -> threads
    search_results: list[str] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[httpx.Response | Exception] = field(default_factory=list)
    inserted: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 3

    def add(self, where: str, n: int, *, at: datetime, text: str | None = None, edited: datetime | None = None) -> None:
        thread = copy.deepcopy(payload("comment_thread.json"))
        thread_id = f"Ugz{n:020d}AaABAg"
        thread["id"] = thread["snippet"]["topLevelComment"]["id"] = thread_id
        top = thread["snippet"]["topLevelComment"]["snippet"]
        top["textOriginal"] = top["textDisplay"] = text or f"Kommentar {n}"
        top["publishedAt"] = stamp(at)
        top["updatedAt"] = stamp(edited or at)
        reply = thread["replies"]["comments"][0]
        reply["id"] = f"{thread_id}.reply{n}"
        reply["snippet"]["parentId"] = thread_id
        reply["snippet"]["publishedAt"] = reply["snippet"]["updatedAt"] = stamp(at + timedelta(seconds=30))
        found = [t for t in self.threads.get(where, []) if t["id"] != thread_id]
        self.threads[where] = sorted([*found, thread], key=lambda t: t["snippet"]["topLevelComment"]["snippet"]
                                     ["publishedAt"], reverse=True)  # fmt: skip

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "oauth2.googleapis.com":
            form = dict(parse_qsl(request.content.decode()))
            if form.get("refresh_token") != "1//refresh":
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Bad Request"})
            return httpx.Response(200, json={"access_token": "ya29.yt", "expires_in": 3599, "token_type": "Bearer"})
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        params, path = request.url.params, request.url.path
        if request.method == "POST" and path == "/youtube/v3/comments":
            assert request.headers["authorization"] == "Bearer ya29.yt"
            snippet = json.loads(request.content)["snippet"]
            comment = {"kind": "youtube#comment", "id": f"{snippet['parentId']}.mine{len(self.inserted)}",
                       "snippet": {**snippet, "textDisplay": snippet["textOriginal"], "publishedAt": stamp(now()),
                                   "updatedAt": stamp(now()), "authorDisplayName": "@radwerk"}}  # fmt: skip
            self.inserted.append(comment)
            return httpx.Response(200, json=comment)
        assert params.get("key") == "yt-key"
        if path == "/youtube/v3/search":
            items = [{"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": v}}
                     for v in self.search_results]  # fmt: skip
            return httpx.Response(200, json={"kind": "youtube#searchListResponse", "items": items})
        if path == "/youtube/v3/comments":
            mine = [c for c in self.inserted if c["snippet"]["parentId"] == params["parentId"]]
            return httpx.Response(200, json={"kind": "youtube#commentListResponse", "items": mine})
        if path == "/youtube/v3/commentThreads":
            where = params.get("allThreadsRelatedToChannelId") or params["videoId"]
            if where not in self.threads and where != CHANNEL and where != VIDEO:
                return httpx.Response(403, json=payload("error_403_comments_disabled.json"))
            start = int(params.get("pageToken") or 0)
            chosen = self.threads.get(where, [])[start : start + self.page_size]
            info = {"totalResults": len(chosen), "resultsPerPage": self.page_size}
            body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "items": copy.deepcopy(chosen),
                                    "pageInfo": info}  # fmt: skip
            if start + self.page_size < len(self.threads.get(where, [])):
                body["nextPageToken"] = str(start + self.page_size)
            return httpx.Response(200, json=body)
        return httpx.Response(404, json={"error": {"code": 404, "errors": [{"reason": "notFound"}]}})
