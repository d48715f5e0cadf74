"""The Bluesky connector: the XRPC side (I/O). Mapping and the pure parts of posting (facets,
record keys) live in :mod:`~resonanz.connectors.bluesky.parse`.

A pull logs in with an app password (``com.atproto.server.createSession``; the tokens live only
in memory for the pull) and reads two kinds of stream through the account's PDS:

* ``app.bsky.feed.searchPosts`` with ``sort=latest`` for each query, bounded by ``since``/``until``;
* ``app.bsky.notification.listNotifications`` filtered to mentions, replies and quotes.

Both answer newest first and page into the past with an opaque ``cursor``; the position across
pulls is a :class:`~resonanz.connectors.windows.Window` (high-water mark, overlap, ids seen in the
overlap, the unread rest of an unfinished pull), so there are no gaps and no duplicates.
Errors follow :mod:`resonanz.connectors.http_api`; ``RateLimit-Reset`` (Unix time) sets the
retry delay, and a pull stops early when ``RateLimit-Remaining`` reaches 0.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
from resonanz.connectors.bluesky.parse import (
    PLATFORM,
    POST_COLLECTION,
    facets_for,
    mention_spans,
    parse_post,
    parse_time,
    sort_time,
    split_uri,
    tid_for,
    web_url,
)
from resonanz.connectors.http_api import MalformedBodyError, Response, call, compact_json
from resonanz.connectors.page_walk import Entry, Page, walk_newest_first
from resonanz.connectors.windows import Window
from resonanz.errors import ConnectorPermanentError
from resonanz.mentions.schemas import MentionIn

DEFAULT_PASSWORD_ENV = "RESONANZ_BLUESKY_APP_PASSWORD"  # noqa: S105 (a variable name, not a secret)
OVERLAP_S = 120.0  # posts are indexed a little after their sortAt; read that far back again
MAX_GRAPHEMES = 300
NOTIFICATION_REASONS = ("mention", "reply", "quote")
GUIDANCE = {
    400: "the request was refused",
    401: "the identifier or app password is wrong, or the session expired; create an app password under "
    "Settings > Privacy and security > App passwords and put it into the variable named by password_env",
    403: "the account may not do this (taken down, deactivated, or the app password lacks the permission)",
    404: "the service has no such method (check service: it must be the account's PDS or https://bsky.social)",
}


def iso(at: float) -> str:
    """A Unix time as the AT Protocol writes datetimes (UTC, milliseconds, ``Z``)."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BlueskyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifier: str = Field(min_length=3, description="the account's handle (or DID) that logs in")
    password_env: str = Field(
        default=DEFAULT_PASSWORD_ENV,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="environment variable (or secrets-file key) holding the app password",
    )
    service: str = Field(default="https://bsky.social", description="the account's PDS or entryway")
    queries: list[str] = Field(default_factory=list, description="searchPosts queries")
    notifications: bool = Field(default=False, description="pull mentions, replies and quotes of the account")
    lang: str | None = Field(default=None, max_length=20, description="only posts in this language (searchPosts)")
    limit: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=10, ge=1, le=200)

    @field_validator("service")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if "://" not in value:
            value = "https://" + value
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL (got {value!r})")
        return value

    @field_validator("identifier")
    @classmethod
    def _handle(cls, value: str) -> str:
        return value.strip().lstrip("@")

    @field_validator("queries", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part]
        return value

    @model_validator(mode="after")
    def _something_to_watch(self) -> BlueskyConfig:
        if not (self.queries or self.notifications):
            raise ValueError("give at least one of queries or notifications=true")
        return self


class BlueskyConnector(Connector):
    """Search and notifications of one Bluesky account; replies with reply refs and facets."""

    kind: ClassVar[str] = "bluesky"
    title: ClassVar[str] = "Bluesky (AT Protocol)"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = BlueskyConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY})
    # the record key is derived from the outbox's key, so getRecord tells whether the reply is out
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> BlueskyConfig:
        assert isinstance(self.config, BlueskyConfig)
        return self.config

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.settings.http_timeout_s, follow_redirects=False)

    def _xrpc(
        self,
        client: httpx.Client,
        method: str,
        nsid: str,
        *,
        what: str,
        token: str | None = None,
        params: Any = None,
        body: Any = None,
        write: bool = False,
        answer_statuses: frozenset[int] = frozenset(),
    ) -> Response:
        headers = {"Accept": "application/json", "User-Agent": self.settings.user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return call(
            client,
            method,
            f"{self.cfg.service}/xrpc/{nsid}",
            what=what,
            max_bytes=self.settings.http_max_bytes,
            guidance=GUIDANCE,
            params=params,
            json_body=body,
            headers=headers,
            write=write,
            answer_statuses=answer_statuses,
        )

    def _session(self, client: httpx.Client) -> tuple[str, str]:
        """``(accessJwt, did)`` of a fresh session; the tokens are never stored."""
        password = read_secret(self.cfg.password_env, settings=self.settings)
        if password is None:
            raise ConnectorPermanentError(
                f"no Bluesky app password: set the environment variable {self.cfg.password_env} (or that key in "
                "RESONANZ_SECRETS_FILE); create one under Settings > Privacy and security > App passwords"
            )
        body = {"identifier": self.cfg.identifier, "password": password}
        response = self._xrpc(client, "POST", "com.atproto.server.createSession", what="logging in", body=body)
        try:
            data = response.json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(f"createSession answered with something else than JSON: {exc}") from exc
        if not isinstance(data, dict) or not data.get("accessJwt") or not data.get("did"):
            raise ConnectorPermanentError("createSession answered without accessJwt and did")
        return str(data["accessJwt"]), str(data["did"])

    # -- pull -------------------------------------------------------------------------------

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        result = PullResult()
        same = cursor.get("service") == self.cfg.service and cursor.get("identifier") == self.cfg.identifier
        states: dict[str, Any] = dict(cursor.get("streams") or {}) if same else {}
        client = self.http if self.http is not None else self._client()
        try:
            token, _did = self._session(client)
            for query in self.cfg.queries:
                if self._pull_search(client, token, query, states, result):
                    break
            else:
                if self.cfg.notifications:
                    self._pull_notifications(client, token, states, result)
        finally:
            if self.http is None:
                client.close()
        result.cursor = {"service": self.cfg.service, "identifier": self.cfg.identifier, "streams": states}
        return result

    def _reject(self, result: PullResult, response: Response, exc: Exception, location: str, key: str) -> None:
        result.rejected.append(
            Rejected(
                payload=response.body,
                reason=str(exc),
                location=location,
                stage="fetch",
                content_type=response.headers.get("content-type"),
                context={"url": response.url, "stream": key},
            )
        )

    def _rate_limited(self, response: Response, result: PullResult, what: str) -> bool:
        remaining = response.remaining()
        if remaining is not None and remaining <= 0:
            result.warnings.append(f"the rate limit is used up after {what}; the next pull goes on from here")
            return True
        return False

    def _pull_search(
        self, client: httpx.Client, token: str, query: str, states: dict[str, Any], result: PullResult
    ) -> bool:
        """One query; True when the rate limit ran out."""
        key = f"search:{query}"
        what = f"the search {query!r}"
        window = Window.load(states.get(key), overlap_s=OVERLAP_S)

        def fetch(page_cursor: str | None, page_no: int) -> Page | None:
            params: dict[str, Any] = {"q": query, "sort": "latest", "limit": self.cfg.limit}
            if window.since is not None:
                params["since"] = iso(window.since)
            if window.until is not None:
                params["until"] = iso(window.until + 0.001)  # `until` is exclusive; ties come back as re-reads
            if self.cfg.lang:
                params["lang"] = self.cfg.lang
            if page_cursor:
                params["cursor"] = page_cursor
            response = self._xrpc(client, "GET", "app.bsky.feed.searchPosts", what=what, token=token, params=params)
            try:
                data = response.json()
                if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
                    raise MalformedBodyError(f"the answer from {response.url} has no 'posts' list")
            except MalformedBodyError as exc:
                self._reject(result, response, exc, f"{what}, page {page_no}", key)
                return None
            entries = []
            for post in data["posts"]:
                at = sort_time(post) if isinstance(post, dict) else None
                uri = str(post.get("uri")) if isinstance(post, dict) else ""
                entries.append(Entry(uri, at.timestamp() if at else None, {"post": post}))
            return Page(entries, data.get("cursor"), exhausted=self._rate_limited(response, result, what))

        def emit(body: Any, page_no: int, index: int) -> None:
            result.items.append(self._item(body, f"{what}, page {page_no}, item {index + 1}", key))

        walked = walk_newest_first(window, fetch, emit, max_pages=self.cfg.max_pages)
        if walked.capped:
            result.warnings.append(f"{what}: stopped after max_pages={self.cfg.max_pages}; the next pull goes on")
        states[key] = walked.state
        return walked.exhausted

    def _pull_notifications(self, client: httpx.Client, token: str, states: dict[str, Any], result: PullResult) -> None:
        key, what = "notifications", "the account's notifications"
        window = Window.load(states.get(key), overlap_s=OVERLAP_S)

        def fetch(page_cursor: str | None, page_no: int) -> Page | None:
            params: list[tuple[str, Any]] = [("limit", self.cfg.limit)]
            params += [("reasons", reason) for reason in NOTIFICATION_REASONS]
            if page_cursor:
                params.append(("cursor", page_cursor))
            nsid = "app.bsky.notification.listNotifications"
            response = self._xrpc(client, "GET", nsid, what=what, token=token, params=params)
            try:
                data = response.json()
                if not isinstance(data, dict) or not isinstance(data.get("notifications"), list):
                    raise MalformedBodyError(f"the answer from {response.url} has no 'notifications' list")
            except MalformedBodyError as exc:
                self._reject(result, response, exc, f"{what}, page {page_no}", key)
                return None
            entries = []
            for note in data["notifications"]:
                if not isinstance(note, dict) or note.get("reason") not in NOTIFICATION_REASONS:
                    continue  # older servers ignore `reasons`
                at = parse_time(note.get("indexedAt"))
                entries.append(Entry(str(note.get("uri")), at.timestamp() if at else None, {"notification": note}))
            exhausted = self._rate_limited(response, result, what)
            return Page(entries, data.get("cursor"), exhausted=exhausted, sent=len(data["notifications"]))

        def emit(body: Any, page_no: int, index: int) -> None:
            result.items.append(self._item(body, f"{what}, page {page_no}, item {index + 1}", key))

        walked = walk_newest_first(window, fetch, emit, max_pages=self.cfg.max_pages, resume_key="cursor")
        if walked.capped:
            result.warnings.append(f"{what}: stopped after max_pages={self.cfg.max_pages}; the next pull goes on")
        states[key] = walked.state

    def _item(self, body: dict[str, Any], location: str, key: str) -> RawItem:
        return RawItem(
            payload=compact_json({"service": self.cfg.service, **body}), location=location, context={"stream": key}
        )

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_post(item)

    # -- publish ----------------------------------------------------------------------------

    def _reply_refs(self, client: httpx.Client, token: str, parent_uri: str) -> dict[str, Any]:
        """``{"root": {uri, cid}, "parent": {uri, cid}}`` for an answer to ``parent_uri``."""
        try:
            split_uri(parent_uri)
        except ValueError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        response = self._xrpc(
            client, "GET", "app.bsky.feed.getPosts", what="the post answered", token=token, params={"uris": parent_uri}
        )
        try:
            posts = response.json().get("posts")
        except (MalformedBodyError, AttributeError) as exc:
            raise ConnectorPermanentError(f"getPosts answered with something unexpected: {exc}") from exc
        found = [p for p in posts or [] if isinstance(p, dict) and p.get("uri") == parent_uri and p.get("cid")]
        if not found:
            raise ConnectorPermanentError(f"the post answered ({parent_uri}) is gone (deleted) or not visible")
        parent = {"uri": parent_uri, "cid": str(found[0]["cid"])}
        record = found[0].get("record") or {}
        root = (record.get("reply") or {}).get("root") if isinstance(record, dict) else None
        if not (isinstance(root, dict) and root.get("uri") and root.get("cid")):
            root = parent
        return {"root": {"uri": str(root["uri"]), "cid": str(root["cid"])}, "parent": parent}

    def _dids(self, client: httpx.Client, token: str, text: str) -> dict[str, str]:
        """Handles mentioned in ``text`` resolved to DIDs (unresolvable ones are left out)."""
        dids: dict[str, str] = {}
        for _start, _end, handle in mention_spans(text):
            response = self._xrpc(
                client, "GET", "com.atproto.identity.resolveHandle", what=f"resolving @{handle}", token=token,
                params={"handle": handle}, answer_statuses=frozenset({400}),
            )  # fmt: skip
            if response.status == 200:
                did = response.json().get("did")
                if isinstance(did, str) and did.startswith("did:"):
                    dids[handle.lower()] = did
        return dids

    def _result(self, uri: str, reply: OutgoingReply, handle: str, raw: Any) -> PublishResult:
        return PublishResult(
            platform=PLATFORM, external_id=uri, url=web_url(handle, uri), published_at=reply.created_utc, raw=raw
        )

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with ``reply`` refs (root and
        parent uri + cid, read with getPosts), facets for links and resolvable mentions (UTF-8 byte
        offsets), and a record key derived from the outbox's key."""
        if reply.kind != ReplyKind.REPLY or not reply.in_reply_to:
            raise ConnectorPermanentError("Bluesky replies only (direct messages need the chat API, not supported)")
        if len(reply.text) > MAX_GRAPHEMES:
            raise ConnectorPermanentError(
                f"a Bluesky post holds at most {MAX_GRAPHEMES} characters ({len(reply.text)} given)"
            )
        client = self.http if self.http is not None else self._client()
        try:
            token, did = self._session(client)
            record: dict[str, Any] = {
                "$type": POST_COLLECTION,
                "text": reply.text,
                "createdAt": iso(reply.created_utc.timestamp()),
                "reply": self._reply_refs(client, token, reply.in_reply_to),
            }
            facets = facets_for(reply.text, self._dids(client, token, reply.text))
            if facets:
                record["facets"] = facets
            rkey = tid_for(reply.idempotency_key, reply.created_utc)
            body = {"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
            try:
                response = self._xrpc(
                    client, "POST", "com.atproto.repo.createRecord", what="publishing a reply", token=token,
                    body=body, write=True,
                )  # fmt: skip
            except ConnectorPermanentError:
                # a record with this key may exist already (an earlier try that timed out): that is success
                existing = self._get_record(client, token, did, rkey)
                if existing is not None:
                    return self._result(existing[0], reply, self.cfg.identifier, existing[1])
                raise
            data = response.json()
            if not isinstance(data, dict) or not data.get("uri"):
                raise ConnectorPermanentError("createRecord answered without the new record's uri")
            return self._result(str(data["uri"]), reply, self.cfg.identifier, {**data, "record": record})
        finally:
            if self.http is None:
                client.close()

    def _get_record(self, client: httpx.Client, token: str, did: str, rkey: str) -> tuple[str, Any] | None:
        response = self._xrpc(
            client, "GET", "com.atproto.repo.getRecord", what="looking up a published reply", token=token,
            params={"repo": did, "collection": POST_COLLECTION, "rkey": rkey}, answer_statuses=frozenset({400, 404}),
        )  # fmt: skip
        if response.status != 200:
            return None  # RecordNotFound
        data = response.json()
        return (str(data["uri"]), data) if isinstance(data, dict) and data.get("uri") else None

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """``com.atproto.repo.getRecord`` of the record key :func:`tid_for` gives this reply."""
        client = self.http if self.http is not None else self._client()
        try:
            token, did = self._session(client)
            found = self._get_record(client, token, did, tid_for(reply.idempotency_key, reply.created_utc))
        finally:
            if self.http is None:
                client.close()
        return None if found is None else self._result(found[0], reply, self.cfg.identifier, found[1])
