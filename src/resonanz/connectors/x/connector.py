"""X (Twitter API v2): recent search and the mentions timeline in, replies out.

**Cursor.** Both endpoints answer newest first, in pages linked by ``meta.next_token``, bounded
below by ``since_id``. A pull walks down from the newest post to the stored ``since_id``; only a
pass that reaches it (no ``next_token`` left) moves ``since_id`` up to the newest id seen. A pass
that stops early (``max_pages``, the rate limit running out) stores the ``next_token`` and the
newest id as ``pending``, and the next pull finishes that gap first. The first pull of a stream
takes the newest page only. The walk is the shared
:func:`~resonanz.connectors.page_walk.walk_newest_first` with :class:`SinceId` as its mark.

**Rate limits.** X sends ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (Unix seconds) on
every answer: a ``429`` waits until the reset, and a pull stops early when ``remaining`` hits 0.

**Auth.** Reading uses the app's bearer token. Replies need the user context: OAuth 1.0a (consumer
key and secret, the account's access token and secret), which does not expire.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.clock import now
from resonanz.connectors.base import (
    Connector,
    OutgoingReply,
    PublishCheck,
    PublishResult,
    PullResult,
    RawItem,
    Rejected,
    ReplyKind,
    read_secret,
)
from resonanz.connectors.http_api import MalformedBodyError, Response, call, compact_json
from resonanz.connectors.page_walk import Entry, Page, walk_newest_first
from resonanz.connectors.x.oauth1 import authorization
from resonanz.connectors.x.parse import PLATFORM, parse_tweet
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.schemas import MentionIn
from resonanz.mentions.text import normalize_whitespace

API = "https://api.x.com"
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
FIELDS = {
    "tweet.fields": "created_at,author_id,conversation_id,referenced_tweets,lang,public_metrics,"
    "edit_history_tweet_ids,note_tweet",
    "expansions": "author_id",
    "user.fields": "username,name,public_metrics",
}
GUIDANCE = {
    400: "X refused the request (check the search query's syntax)",
    401: "X refused the token; check bearer_token_env (Developer Portal > your app > Keys and tokens)",
    403: "the app's access level does not allow this endpoint (search and mentions need the Basic tier or higher; "
    "replies need 'Read and write' app permissions)",
    404: "no such user or post",
}


def id_order(value: str) -> tuple[int, str]:
    return len(value), value


class SinceId:
    """X's position in a stream, a :class:`~resonanz.connectors.page_walk.Mark`: ``since_id``,
    the newest post a complete walk reached (X answers only newer ones, so nothing is re-read and
    no overlap is needed), and ``pending``, the ``next_token`` and newest id of a walk that stopped
    early (finished first by the next pull, before ``since_id`` moves up)."""

    def __init__(self, since: str | None, pending: dict[str, Any] | None) -> None:
        self.since = since
        self.pending = pending
        self.newest: str | None = (pending or {}).get("newest")

    @classmethod
    def load(cls, state: Any) -> SinceId:
        state = state if isinstance(state, dict) else {}
        since, pending = state.get("since_id"), state.get("pending")
        return cls(str(since) if since else None, pending if isinstance(pending, dict) and pending else None)

    @property
    def first(self) -> bool:
        return self.since is None and self.pending is None

    def reached_since(self, at: float) -> bool:
        return False  # X bounds the answer by since_id itself

    def admit(self, key: str, at: float | None) -> bool:
        self.newest = max([key, *([self.newest] if self.newest else [])], key=id_order)
        return True

    def finish(self, *, complete: bool, resume: dict[str, Any] | None = None, more: bool = False) -> dict[str, Any]:
        if complete:
            return {"since_id": self.newest or self.since}
        if self.since is None and self.newest is None and not (resume or {}).get("next_token"):
            return {}  # a first pull that got nothing stays a first pull
        return {"since_id": self.since, "pending": {"next_token": (resume or {}).get("next_token"),
                                                    "newest": self.newest}}  # fmt: skip


class XConfig(BaseModel):
    # ids typed on the command line (`--set app_id=123`) arrive as JSON numbers
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    queries: list[str] = Field(default_factory=list, description="recent-search queries (X query syntax)")
    user_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$", description="own account id: mentions")
    mentions: bool = Field(default=False, description="pull the mentions timeline of user_id")
    bearer_token_env: str = Field(default="RESONANZ_X_BEARER_TOKEN", pattern=_ENV)
    consumer_key_env: str = Field(default="RESONANZ_X_CONSUMER_KEY", pattern=_ENV)
    consumer_secret_env: str = Field(default="RESONANZ_X_CONSUMER_SECRET", pattern=_ENV)
    access_token_env: str = Field(default="RESONANZ_X_ACCESS_TOKEN", pattern=_ENV)
    access_secret_env: str = Field(default="RESONANZ_X_ACCESS_SECRET", pattern=_ENV)
    max_results: int = Field(default=100, ge=10, le=100)
    max_pages: int = Field(default=5, ge=1, le=100)
    api_base: str = API

    @field_validator("queries", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class XConnector(Connector):
    """Recent search and the own mentions; replies."""

    kind: ClassVar[str] = "x"
    title: ClassVar[str] = "X (Twitter API v2)"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = XConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY})
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> XConfig:
        assert isinstance(self.config, XConfig)
        return self.config

    def _client(self) -> httpx.Client:
        return self.http if self.http is not None else httpx.Client(timeout=self.settings.http_timeout_s)

    def _secret(self, name: str, what: str) -> str:
        value = read_secret(name, settings=self.settings)
        if value is None:
            raise ConnectorPermanentError(f"no X {what}: set {name} (or that key in RESONANZ_SECRETS_FILE)")
        return value

    def _send(self, client: httpx.Client, method: str, url: str, *, what: str, write: bool = False,
              **kwargs: Any) -> Response:  # fmt: skip
        response = call(client, method, url, what=what, max_bytes=self.settings.http_max_bytes, guidance=GUIDANCE,
                        write=write, answer_statuses=frozenset({429}), **kwargs)  # fmt: skip
        if response.status == 429:
            raise ConnectorTransientError(f"X's rate limit is used up ({what})", retry_after=self._reset(response))
        return response

    @staticmethod
    def _reset(response: Response) -> float | None:
        try:
            return max(1.0, float(response.headers["x-rate-limit-reset"]) - now().timestamp())
        except (KeyError, ValueError):
            return None

    # -- pull -------------------------------------------------------------------------------

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        streams: list[tuple[str, str, dict[str, Any]]] = [
            (f"search:{q}", "/2/tweets/search/recent", {"query": q}) for q in self.cfg.queries
        ]
        if self.cfg.mentions:
            if not self.cfg.user_id:
                raise ConnectorPermanentError("mentions=true needs user_id (the account's numeric id)")
            streams.append(("mentions", f"/2/users/{self.cfg.user_id}/mentions", {}))
        if not streams:
            raise ConnectorPermanentError("give queries or mentions=true with user_id")
        headers = {"Authorization": f"Bearer {self._secret(self.cfg.bearer_token_env, 'bearer token')}",
                   "User-Agent": self.settings.user_agent}  # fmt: skip
        states: dict[str, Any] = dict(cursor.get("streams") or {})
        result = PullResult()
        client = self._client()
        try:
            for key, path, params in streams:
                states[key], stop = self._walk(client, result, key, path, params, headers, states.get(key) or {})
                if stop:
                    break
        finally:
            if self.http is None:
                client.close()
        result.cursor = {"streams": states}
        return result

    def _walk(self, client: httpx.Client, result: PullResult, key: str, path: str, params: dict[str, Any],
              headers: dict[str, str], state: dict[str, Any]) -> tuple[dict[str, Any], bool]:  # fmt: skip
        """One stream down to ``since_id``; (new state, rate limit used up)."""
        mark = SinceId.load(state)

        def fetch(token: str | None, page: int) -> Page | None:
            query = {**params, **FIELDS, "max_results": self.cfg.max_results}
            query.update({"since_id": mark.since} if mark.since else {})
            query.update({"pagination_token": token} if token else {})
            what = f"{key}, page {page}"
            response = self._send(client, "GET", self.cfg.api_base.rstrip("/") + path, what=what, params=query,
                                  headers=headers)  # fmt: skip
            try:
                body = response.json()
                tweets = body.get("data") or [] if isinstance(body, dict) else None
                if not isinstance(tweets, list):
                    raise MalformedBodyError("the answer has no 'data' list")
            except MalformedBodyError as exc:
                result.rejected.append(Rejected(payload=response.body, reason=str(exc), location=what, stage="fetch"))
                return None
            users = {u.get("id"): u for u in (body.get("includes") or {}).get("users") or [] if isinstance(u, dict)}
            entries = [
                Entry(str(tweet["id"]), None, (tweet, users.get(tweet.get("author_id"), {}), f"{what}, post {n + 1}"))
                for n, tweet in enumerate(tweets)
                if isinstance(tweet, dict) and tweet.get("id")
            ]
            remaining = response.headers.get("x-rate-limit-remaining")
            exhausted = remaining is not None and remaining.strip() == "0"
            token = (body.get("meta") or {}).get("next_token")
            if exhausted and token and not mark.first:
                result.warnings.append(f"X's rate limit is used up after {what}; the next pull goes on from here")
            return Page(entries, token, exhausted=exhausted, sent=len(tweets))

        def emit(item: tuple[dict[str, Any], dict[str, Any], str], _page: int, _index: int) -> None:
            tweet, author, location = item
            result.items.append(RawItem(payload=compact_json({"tweet": tweet, "author": author}), location=location))

        walked = walk_newest_first(mark, fetch, emit, max_pages=self.cfg.max_pages, resume_key="next_token")
        if walked.capped:
            result.warnings.append(f"{key}: stopped after max_pages={self.cfg.max_pages}; the next pull goes on")
        return walked.state, walked.exhausted and not walked.complete

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_tweet(item)

    # -- publish ----------------------------------------------------------------------------

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``, signed with OAuth 1.0a."""
        url = self.cfg.api_base.rstrip("/") + "/2/tweets"
        header = authorization(
            "POST", url,
            consumer_key=self._secret(self.cfg.consumer_key_env, "consumer key"),
            consumer_secret=self._secret(self.cfg.consumer_secret_env, "consumer secret"),
            token=self._secret(self.cfg.access_token_env, "access token"),
            token_secret=self._secret(self.cfg.access_secret_env, "access token secret"),
        )  # fmt: skip
        body = {"text": reply.text, "reply": {"in_reply_to_tweet_id": reply.in_reply_to}}
        client = self._client()
        try:
            headers = {"Authorization": header, "User-Agent": self.settings.user_agent}
            response = self._send(client, "POST", url, what="the reply", write=True, json_body=body, headers=headers)
            try:
                data = response.json().get("data")
            except (MalformedBodyError, AttributeError) as exc:
                raise ConnectorPermanentError(f"X's answer to the post is not JSON: {exc}") from exc
        finally:
            if self.http is None:
                client.close()
        if not isinstance(data, dict) or not data.get("id"):
            raise ConnectorPermanentError("X answered the post without an id")
        return PublishResult(platform=PLATFORM, external_id=str(data["id"]), url=f"https://x.com/i/status/{data['id']}",
                             published_at=now(), raw=data)  # fmt: skip

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """The account's newest posts: one answering the same post with the same text, since the reply was queued."""
        if not self.cfg.user_id:
            raise ConnectorPermanentError("set user_id so a reply can be looked up")
        start = (reply.created_utc - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"max_results": 20, "start_time": start, "tweet.fields": "created_at,referenced_tweets"}
        headers = {"Authorization": f"Bearer {self._secret(self.cfg.bearer_token_env, 'bearer token')}"}
        client = self._client()
        try:
            url = f"{self.cfg.api_base.rstrip('/')}/2/users/{self.cfg.user_id}/tweets"
            body = self._send(client, "GET", url, what="the account's posts", params=params, headers=headers).json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()
        wanted = normalize_whitespace(reply.text)
        for tweet in (body.get("data") if isinstance(body, dict) else None) or []:
            refs = {r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"}
            if reply.in_reply_to in refs and normalize_whitespace(str(tweet.get("text") or "")) == wanted:
                return PublishResult(platform=PLATFORM, external_id=str(tweet["id"]), published_at=now(), raw=tweet)
        return None
