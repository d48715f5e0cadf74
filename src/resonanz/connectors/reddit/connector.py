"""The Reddit connector: OAuth and listings (I/O). Mapping is pure and lives in
:mod:`~resonanz.connectors.reddit.parse`.

A pull gets an access token from ``/api/v1/access_token`` (HTTP Basic with the app's client id
and secret; ``grant_type=password`` when a username is configured, which answering needs, else
``client_credentials``, read-only), keeps it in memory for that pull only, and reads from
``oauth.reddit.com``: ``/r/{sub}/new`` (posts), ``/r/{sub}/comments`` (comments) and
``/search?sort=new`` (posts matching a query). Listings are newest first and page into the past
with ``after``; a :class:`~resonanz.connectors.windows.Window` keeps the position (high-water mark
on ``created_utc``, overlap, ids seen, the ``after`` of an unfinished pull), so there are no gaps
and no duplicates across restarts. Reddit's ``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset``
(seconds) are read as documented in :mod:`resonanz.connectors.http_api`.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
from resonanz.connectors.http_api import MalformedBodyError, Response, call, compact_json, error_message
from resonanz.connectors.page_walk import Entry, Page, walk_newest_first
from resonanz.connectors.reddit.parse import PLATFORM, WEB, parse_thing, thing_time
from resonanz.connectors.windows import Window
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.schemas import MentionIn
from resonanz.mentions.text import normalize_whitespace

OVERLAP_S = 300.0
DEFAULT_SECRET_ENV = "RESONANZ_REDDIT_CLIENT_SECRET"  # noqa: S105 (a variable name, not a secret)
DEFAULT_PASSWORD_ENV = "RESONANZ_REDDIT_PASSWORD"  # noqa: S105 (a variable name, not a secret)
GUIDANCE = {
    401: "the app's client id / secret (or the account's password) are wrong; check the app under "
    "https://www.reddit.com/prefs/apps and the variables named by client_secret_env / password_env",
    403: "Reddit refuses this (a private or banned subreddit, a suspended account, or a missing scope)",
    404: "no such subreddit or endpoint (check subreddits)",
}
#: errors Reddit reports inside a 200 answer of /api/comment, sorted like HTTP statuses
_TRANSIENT_API_ERRORS = frozenset({"RATELIMIT"})
_SUB = r"^[A-Za-z0-9_]{2,21}$"


class RedditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=5, description="the app's client id (shown under the app's name)")
    client_secret_env: str = Field(default=DEFAULT_SECRET_ENV, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    username: str | None = Field(default=None, description="the account that answers (script app owner)")
    password_env: str = Field(default=DEFAULT_PASSWORD_ENV, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    subreddits: list[str] = Field(default_factory=list)
    posts: bool = Field(default=True, description="pull /r/{sub}/new")
    comments: bool = Field(default=True, description="pull /r/{sub}/comments")
    queries: list[str] = Field(default_factory=list, description="site-wide searches (posts), sort=new")
    limit: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=10, ge=1, le=100)
    auth_url: str = Field(default="https://www.reddit.com")
    api_url: str = Field(default="https://oauth.reddit.com")

    @field_validator("subreddits", "queries", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part]
        return value

    @field_validator("subreddits")
    @classmethod
    def _subs(cls, value: list[str]) -> list[str]:
        subs = [s.strip().removeprefix("/").removeprefix("r/") for s in value]
        bad = [s for s in subs if not re.match(_SUB, s)]
        if bad:
            raise ValueError(f"subreddit names are 2-21 letters, digits or _ (got {bad})")
        return subs

    @field_validator("auth_url", "api_url")
    @classmethod
    def _http(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL (got {value!r})")
        return value

    @model_validator(mode="after")
    def _something_to_watch(self) -> RedditConfig:
        if not (self.queries or (self.subreddits and (self.posts or self.comments))):
            raise ValueError("give subreddits (with posts and/or comments) or queries")
        return self


class RedditConnector(Connector):
    """Subreddit posts and comments and site search; replies to posts and comments."""

    kind: ClassVar[str] = "reddit"
    title: ClassVar[str] = "Reddit"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = RedditConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY})
    # /api/comment has no idempotency key; find_published looks through the account's newest comments
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> RedditConfig:
        assert isinstance(self.config, RedditConfig)
        return self.config

    def _user_agent(self) -> str:
        # Reddit asks for "<platform>:<app id>:<version> (by /u/<username>)" and throttles generic agents
        by = f" (by /u/{self.cfg.username})" if self.cfg.username else ""
        return f"server:resonanz:{self.cfg.client_id}:0.1{by}"

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.settings.http_timeout_s, follow_redirects=False)

    def _token(self, client: httpx.Client, *, user: bool) -> str:
        secret = read_secret(self.cfg.client_secret_env, settings=self.settings)
        if secret is None:
            raise ConnectorPermanentError(
                f"no Reddit client secret: set the environment variable {self.cfg.client_secret_env} (or that key "
                "in RESONANZ_SECRETS_FILE); create a 'script' app under https://www.reddit.com/prefs/apps"
            )
        form: dict[str, str] = {"grant_type": "client_credentials"}
        if self.cfg.username:
            password = read_secret(self.cfg.password_env, settings=self.settings)
            if password is None:
                raise ConnectorPermanentError(
                    f"no password for u/{self.cfg.username}: set the environment variable {self.cfg.password_env}"
                )
            form = {"grant_type": "password", "username": self.cfg.username, "password": password}
        elif user:
            raise ConnectorPermanentError("answering on Reddit needs username (and password_env) in the source")
        response = call(
            client, "POST", f"{self.cfg.auth_url}/api/v1/access_token", what="the access token",
            max_bytes=self.settings.http_max_bytes, guidance=GUIDANCE, form=form,
            headers={"User-Agent": self._user_agent(), "Authorization": _basic(self.cfg.client_id, secret)},
        )  # fmt: skip
        try:
            data = response.json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        if not isinstance(data, dict) or not data.get("access_token"):
            said = error_message(response.body) or "no access_token"
            raise ConnectorPermanentError(f"Reddit gave no access token ({said}): {GUIDANCE[401]}")
        return str(data["access_token"])

    def _get(self, client: httpx.Client, token: str, path: str, params: Any, what: str) -> Response:
        return call(
            client, "GET", self.cfg.api_url + path, what=what, max_bytes=self.settings.http_max_bytes,
            guidance=GUIDANCE, params=params,
            headers={"User-Agent": self._user_agent(), "Authorization": f"bearer {token}"},
        )  # fmt: skip

    # -- pull -------------------------------------------------------------------------------

    def streams(self) -> list[tuple[str, str, dict[str, Any], str]]:
        found: list[tuple[str, str, dict[str, Any], str]] = []
        for sub in self.cfg.subreddits:
            if self.cfg.posts:
                found.append((f"new:{sub.lower()}", f"/r/{sub}/new", {}, f"new posts in r/{sub}"))
            if self.cfg.comments:
                found.append((f"comments:{sub.lower()}", f"/r/{sub}/comments", {}, f"comments in r/{sub}"))
        for query in self.cfg.queries:
            params = {"q": query, "sort": "new", "type": "link"}
            found.append((f"search:{query}", "/search", params, f"the search {query!r}"))
        return found

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        result = PullResult()
        states: dict[str, Any] = dict(cursor.get("streams") or {}) if cursor.get("api_url") == self.cfg.api_url else {}
        client = self.http if self.http is not None else self._client()
        try:
            token = self._token(client, user=False)
            for key, path, params, what in self.streams():
                if self._pull_stream(client, token, key, path, params, what, states, result):
                    break
        finally:
            if self.http is None:
                client.close()
        result.cursor = {"api_url": self.cfg.api_url, "streams": states}
        return result

    def _pull_stream(
        self,
        client: httpx.Client,
        token: str,
        key: str,
        path: str,
        fixed: dict[str, Any],
        what: str,
        states: dict[str, Any],
        result: PullResult,
    ) -> bool:
        """Page back from the newest thing to the window's mark; True when the rate limit ran out."""
        window = Window.load(states.get(key), overlap_s=OVERLAP_S)

        def fetch(after: str | None, page_no: int) -> Page | None:
            params = {**fixed, "limit": self.cfg.limit, "raw_json": 1, **({"after": after} if after else {})}
            response = self._get(client, token, path, params, what)
            try:
                listing = response.json()
                children = listing["data"]["children"]
                if listing.get("kind") != "Listing" or not isinstance(children, list):
                    raise MalformedBodyError(f"the answer from {response.url} is not a Listing")
            except (MalformedBodyError, KeyError, TypeError) as exc:
                result.rejected.append(
                    Rejected(
                        payload=response.body, reason=f"not a Reddit listing: {exc}",
                        location=f"{what}, page {page_no}", stage="fetch",
                        content_type=response.headers.get("content-type"),
                        context={"url": response.url, "stream": key},
                    )
                )  # fmt: skip
                return None
            entries = []
            for thing in children:
                data = thing.get("data") if isinstance(thing, dict) else None
                at = thing_time(data) if isinstance(data, dict) else None
                name = str(data.get("name") or "") if isinstance(data, dict) else ""
                entries.append(Entry(name, at.timestamp() if at else None, thing))
            remaining = response.remaining()
            exhausted = remaining is not None and remaining <= 0
            if exhausted:
                result.warnings.append(f"the rate limit is used up after {what}; the next pull goes on from here")
            return Page(entries, listing["data"].get("after"), exhausted=exhausted)

        def emit(thing: Any, page_no: int, index: int) -> None:
            result.items.append(RawItem(payload=compact_json({"thing": thing}),
                                        location=f"{what}, page {page_no}, item {index + 1}",
                                        context={"stream": key}))  # fmt: skip

        walked = walk_newest_first(window, fetch, emit, max_pages=self.cfg.max_pages, resume_key="after")
        if walked.capped:
            result.warnings.append(f"{what}: stopped after max_pages={self.cfg.max_pages}; the next pull goes on")
        states[key] = walked.state
        return walked.exhausted

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_thing(item)

    # -- publish ----------------------------------------------------------------------------

    def _thing_result(self, thing: Any) -> PublishResult:
        data = thing.get("data") if isinstance(thing, dict) else None
        if not isinstance(data, dict) or not data.get("name"):
            raise ConnectorPermanentError("Reddit answered the comment without the new thing")
        at = thing_time(data)
        if at is None:
            raise ConnectorPermanentError("Reddit answered the comment without created_utc")
        permalink = data.get("permalink")
        url = f"{WEB}{permalink}" if isinstance(permalink, str) else None
        return PublishResult(platform=PLATFORM, external_id=str(data["name"]), url=url, published_at=at, raw=data)

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """``POST /api/comment`` with ``thing_id`` = the fullname answered (``t3_`` post or ``t1_`` comment)."""
        thing_id = reply.in_reply_to or ""
        if reply.kind != ReplyKind.REPLY or not thing_id.startswith(("t1_", "t3_")):
            raise ConnectorPermanentError("Reddit replies go to a post (t3_…) or comment (t1_…); DMs are not supported")
        client = self.http if self.http is not None else self._client()
        try:
            token = self._token(client, user=True)
            response = call(
                client, "POST", f"{self.cfg.api_url}/api/comment", what="publishing a reply",
                max_bytes=self.settings.http_max_bytes, guidance=GUIDANCE, write=True,
                form={"thing_id": thing_id, "text": reply.text, "api_type": "json"},
                headers={"User-Agent": self._user_agent(), "Authorization": f"bearer {token}"},
            )  # fmt: skip
            try:
                answer = response.json()["json"]
            except (MalformedBodyError, KeyError, TypeError) as exc:
                raise ConnectorPermanentError(
                    f"Reddit's answer to the comment is not the documented JSON: {exc}"
                ) from exc
            errors = answer.get("errors") or []
            if errors:
                code = str(errors[0][0]) if isinstance(errors[0], list) and errors[0] else "ERROR"
                said = "; ".join(" ".join(str(p) for p in e[:2]) for e in errors if isinstance(e, list))
                if code in _TRANSIENT_API_ERRORS:
                    raise ConnectorTransientError(f"Reddit refused for now: {said}")
                raise ConnectorPermanentError(f"Reddit refused the reply: {said}")
            things = (answer.get("data") or {}).get("things") or []
            return self._thing_result(things[0] if things else None)
        finally:
            if self.http is None:
                client.close()

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """The account's newest comments: one answering ``in_reply_to``, made after the reply was
        queued (with 5 minutes for clock skew), whose text is the reply's."""
        client = self.http if self.http is not None else self._client()
        try:
            token = self._token(client, user=True)
            path = f"/user/{self.cfg.username}/comments"
            params = {"sort": "new", "limit": 100, "raw_json": 1}
            listing = self._get(client, token, path, params, "the account's own comments").json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()
        wanted = normalize_whitespace(reply.text)
        earliest = reply.created_utc - timedelta(minutes=5)
        for thing in ((listing or {}).get("data") or {}).get("children") or []:
            data = thing.get("data") if isinstance(thing, dict) else None
            if not isinstance(data, dict) or data.get("parent_id") != reply.in_reply_to:
                continue
            at = thing_time(data)
            if at is not None and at >= earliest and normalize_whitespace(str(data.get("body") or "")) == wanted:
                return self._thing_result(thing)
        return None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
