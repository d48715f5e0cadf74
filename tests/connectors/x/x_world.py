"""A fake X API v2 (httpx.MockTransport): recent search and mentions newest first with
``since_id`` / ``pagination_token`` / ``meta.next_token``, ``x-rate-limit-*`` headers, and
``POST /2/tweets`` that checks the OAuth 1.0a signature as X would."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from resonanz.clock import now
from resonanz.connectors.x.oauth1 import signature

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "x"
FIRST = 1861780000000000000
SECRETS = {"RESONANZ_X_BEARER_TOKEN": "bearer-1", "RESONANZ_X_CONSUMER_KEY": "ck", "RESONANZ_X_CONSUMER_SECRET": "cs",
           "RESONANZ_X_ACCESS_TOKEN": "at", "RESONANZ_X_ACCESS_SECRET": "as"}  # fmt: skip


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def make_tweet(n: int, *, at: datetime, text: str | None = None) -> dict[str, Any]:
    tweet = copy.deepcopy(payload("search_recent.json")["data"][0])
    tweet["id"] = str(FIRST + n)
    tweet["edit_history_tweet_ids"] = [tweet["id"]]
    tweet["text"] = text or f"Radwerk Beitrag {n}"
    tweet["created_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return tweet


@dataclass
class FakeX:
    tweets: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    scripted: list[httpx.Response | Exception] = field(default_factory=list)
    remaining: int = 449
    own: list[dict[str, Any]] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def headers(self) -> dict[str, str]:
        reset = int((now() + timedelta(minutes=15)).timestamp())
        return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(self.remaining),
                "x-rate-limit-reset": str(reset)}  # fmt: skip

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            answer = self.scripted.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if request.method == "POST":
            return self._post(request)
        assert request.headers["authorization"] == "Bearer bearer-1"
        params, path = request.url.params, request.url.path
        if path.endswith("/tweets") and path.startswith("/2/users/"):
            return httpx.Response(200, json={"data": copy.deepcopy(self.own)}, headers=self.headers())
        key = lambda t: (len(t["id"]), t["id"])  # noqa: E731
        found = sorted(self.tweets, key=key, reverse=True)
        if params.get("since_id"):
            found = [t for t in found if key(t) > (len(params["since_id"]), params["since_id"])]
        start = int(params.get("pagination_token") or 0)
        size = int(params["max_results"])
        chosen = found[start : start + size]
        body: dict[str, Any] = {"data": copy.deepcopy(chosen), "includes": payload("search_recent.json")["includes"],
                                "meta": {"result_count": len(chosen)}}  # fmt: skip
        if not chosen:
            del body["data"]
        if start + size < len(found):
            body["meta"]["next_token"] = str(start + size)
        return httpx.Response(200, json=body, headers=self.headers())

    def _post(self, request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        oauth = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}
        given = oauth.pop("oauth_signature")
        url = str(request.url.copy_with(query=None))
        if given != signature("POST", url, oauth.items(), "cs", "as"):
            return httpx.Response(401, json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})
        body = json.loads(request.content)
        created = copy.deepcopy(payload("post_created.json"))
        created["data"]["id"] = str(FIRST + 900 + len(self.own))
        created["data"]["text"] = body["text"]
        answered = {"type": "replied_to", "id": body["reply"]["in_reply_to_tweet_id"]}
        self.own.append({**created["data"], "referenced_tweets": [answered]})
        return httpx.Response(201, json=created, headers=self.headers())
