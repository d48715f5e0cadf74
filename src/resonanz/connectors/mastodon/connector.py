"""The Mastodon connector: the HTTP side (I/O). Mapping is pure and lives in
:mod:`~resonanz.connectors.mastodon.parse`.

One source watches one instance (any server speaking the Mastodon REST API) through up to three
kinds of stream: hashtag timelines (``/api/v1/timelines/tag/:tag``), full-text status search
(``/api/v2/search?type=statuses``) and the mentions of the source's own account
(``/api/v1/notifications?types[]=mention``). Each stream keeps its own position in the cursor.

**No gaps, no duplicates.** On timelines and notifications Mastodon's ``min_id`` returns the
statuses *immediately* newer than an id (``since_id`` would return the newest ones and skip
what lies between), so a pull walks forward page by page from the stored ``min_id``, following
the ``Link: <…min_id=…>; rel="prev"`` header while pages come back full, and stores the newest
id it fully processed. A pull that stops early (``max_pages``, a rate limit running out, a
malformed page) stores how far it got, and the next pull goes on from there. Search answers the
newest matches above ``min_id`` instead, so a search is walked down with ``max_id`` (see
:meth:`MastodonConnector._pull_search`). The first pull of a stream takes only the newest page.

Errors follow :mod:`resonanz.connectors.http_api`; the ``X-RateLimit-Reset`` time of a 429 becomes
the retry delay, and a pull stops early (with a warning) when ``X-RateLimit-Remaining`` reaches 0.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from resonanz.clock import ensure_utc
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
from resonanz.connectors.mastodon.parse import (
    PLATFORM,
    host_of,
    parse_status,
    parse_time,
    split_key,
    status_key,
)
from resonanz.errors import ConnectorPermanentError
from resonanz.mentions.schemas import MentionIn
from resonanz.mentions.text import html_to_text, normalize_whitespace

DEFAULT_TOKEN_ENV = "RESONANZ_MASTODON_TOKEN"  # noqa: S105 (a variable name, not a secret)
_LINK = re.compile(r"<(?P<url>[^>]*)>\s*;\s*rel=\"?(?P<rel>[^\";]+)\"?")
_TAG = re.compile(r"^[\w]+$", re.UNICODE)
GUIDANCE = {
    401: "the access token is missing, wrong or revoked; create one under Preferences > Development > "
    "New application on your instance (scopes read:statuses read:notifications write:statuses) and put it "
    "into the environment variable named by token_env",
    403: "the instance refuses this request to the token's account (missing scope, suspended account, or "
    "search/timelines closed to API clients); check the application's scopes",
    404: "the instance has no such endpoint or status (check instance; very old Mastodon versions lack v2 search)",
    410: "the instance says this is gone",
    422: "the instance refused the request",
}
PUBLISH_GUIDANCE = {
    **GUIDANCE,
    404: "the post being answered is gone (deleted) or not visible to this account",
    422: "the instance refused the reply (too long, empty, or the post answered cannot be replied to)",
}


def link_targets(header: str | None) -> dict[str, str]:
    """``rel -> url`` from an RFC 8288 ``Link`` header as Mastodon writes it."""
    return {m["rel"]: m["url"] for m in _LINK.finditer(header or "")}


def id_order(status_id: str) -> tuple[int, str]:
    """Mastodon ids are strings of digits that sort by length, then lexically (as numbers)."""
    return len(status_id), status_id


class MastodonConfig(BaseModel):
    """What to watch on one instance, and the name of the token's secret (never the token)."""

    model_config = ConfigDict(extra="forbid")

    instance: str = Field(
        validation_alias=AliasChoices("instance", "url"),  # `resonanz source add mastodon NAME --url HOST`
        description="the instance's base URL, e.g. https://mastodon.social",
    )
    hashtags: list[str] = Field(default_factory=list, description="hashtags to follow (without #)")
    queries: list[str] = Field(default_factory=list, description="full-text status searches")
    notifications: bool = Field(default=False, description="pull mentions of the token's own account")
    token_env: str = Field(
        default=DEFAULT_TOKEN_ENV,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="environment variable (or secrets-file key) holding the access token",
    )
    limit: int = Field(default=40, ge=1, le=40, description="statuses per page (Mastodon's maximum is 40)")
    max_pages: int = Field(default=10, ge=1, le=200, description="pages per stream and pull")
    reply_visibility: Literal["public", "unlisted", "private"] = Field(
        default="public", description="visibility of published replies"
    )

    @field_validator("instance")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if "://" not in value:
            value = "https://" + value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"must be the instance's base URL like https://mastodon.social (got {value!r})")
        return value

    @field_validator("hashtags", "queries", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # `--set hashtags=bahn,zug` on the command line
            return [part for part in (p.strip() for p in value.split(",")) if part]
        return value

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = [tag.strip().lstrip("#") for tag in value]
        bad = [tag for tag in tags if not _TAG.match(tag)]
        if bad:
            raise ValueError(f"hashtags are letters, digits and _ only (got {bad})")
        return tags

    @model_validator(mode="after")
    def _something_to_watch(self) -> MastodonConfig:
        if not (self.hashtags or self.queries or self.notifications):
            raise ValueError("give at least one of hashtags, queries or notifications=true")
        return self


class MastodonConnector(Connector):
    """Hashtags, search and own mentions on one Mastodon instance; replies and direct messages."""

    kind: ClassVar[str] = "mastodon"
    title: ClassVar[str] = "Mastodon (any instance)"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = MastodonConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY, ReplyKind.DIRECT})
    # Mastodon keeps an Idempotency-Key for one hour: a second POST with the same key returns
    # the first status. After that, find_published looks through the account's own statuses.
    publish_check: ClassVar[PublishCheck] = PublishCheck.KEY
    idempotency_window_s: ClassVar[int | None] = 3600

    @property
    def cfg(self) -> MastodonConfig:
        assert isinstance(self.config, MastodonConfig)
        return self.config

    def _token(self, *, required: bool) -> str | None:
        token = read_secret(self.cfg.token_env, settings=self.settings)
        if token is None and required:
            raise ConnectorPermanentError(
                f"no Mastodon access token: set the environment variable {self.cfg.token_env} (or that key in "
                f"RESONANZ_SECRETS_FILE); create the token on {self.cfg.instance}/settings/applications"
            )
        return token

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.settings.http_timeout_s, follow_redirects=False)

    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self.settings.user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _get(self, client: httpx.Client, path: str, params: Any, token: str | None, what: str) -> Response:
        return call(
            client,
            "GET",
            self.cfg.instance + path,
            what=what,
            max_bytes=self.settings.http_max_bytes,
            guidance=GUIDANCE,
            params=params,
            headers=self._headers(token),
        )

    # -- pull -------------------------------------------------------------------------------

    def streams(self) -> list[tuple[str, str, list[tuple[str, Any]], str]]:
        """``(cursor key, path, fixed params, description)`` of every configured stream."""
        found: list[tuple[str, str, list[tuple[str, Any]], str]] = []
        for tag in self.cfg.hashtags:
            found.append((f"tag:{tag.lower()}", f"/api/v1/timelines/tag/{tag}", [], f"the hashtag timeline #{tag}"))
        for query in self.cfg.queries:
            params: list[tuple[str, Any]] = [("q", query), ("type", "statuses"), ("resolve", "false")]
            found.append((f"search:{query}", "/api/v2/search", params, f"the search {query!r}"))
        if self.cfg.notifications:
            params = [("types[]", "mention"), ("types[]", "update")]
            found.append(("notifications", "/api/v1/notifications", params, "the account's mentions"))
        return found

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        needs_token = bool(self.cfg.queries or self.cfg.notifications)
        token = self._token(required=needs_token)
        known = cursor.get("streams") if cursor.get("instance") == self.cfg.instance else None
        states: dict[str, dict[str, Any]] = dict(known or {})
        result = PullResult()
        client = self.http if self.http is not None else self._client()
        try:
            for key, path, params, what in self.streams():
                walk = self._pull_search if key.startswith("search:") else self._pull_stream
                stopped = walk(client, result, states, key, path, params, what, token)
                if stopped:
                    break  # the rate limit is used up: the other streams wait for the next pull
        finally:
            if self.http is None:
                client.close()
        result.cursor = {"instance": self.cfg.instance, "streams": states}
        return result

    def _pull_stream(
        self,
        client: httpx.Client,
        result: PullResult,
        states: dict[str, dict[str, Any]],
        key: str,
        path: str,
        params: list[tuple[str, Any]],
        what: str,
        token: str | None,
    ) -> bool:
        """Walk one stream forward from its stored ``min_id``; True when the rate limit ran out."""
        state = dict(states.get(key) or {})
        min_id: str | None = state.get("min_id")
        for page_no in range(1, self.cfg.max_pages + 1):
            first_pull = min_id is None
            query = [*params, ("limit", self.cfg.limit)] + ([("min_id", min_id)] if min_id else [])
            response = self._get(client, path, query, token, what)
            location = f"{what}, page {page_no}"
            objects = self._take(response, key, location, result)
            if objects is None:
                break  # keep min_id: the next pull asks for the same page again
            ids = [str(obj["id"]) for obj in objects if isinstance(obj, dict) and obj.get("id")]
            if ids:
                min_id = self._next_min_id(response, ids)
                state["min_id"] = min_id
                states[key] = state
            remaining = response.remaining()
            if remaining is not None and remaining <= 0:
                result.warnings.append(
                    f"the instance's rate limit is used up after {what}; the next pull goes on from here"
                )
                return True
            # a short page is the newest there is; the first pull of a stream takes the newest page only
            if first_pull or len(objects) < self.cfg.limit:
                break
        else:
            result.warnings.append(f"{what}: stopped after max_pages={self.cfg.max_pages}; the next pull goes on")
        return False

    def _pull_search(
        self,
        client: httpx.Client,
        result: PullResult,
        states: dict[str, dict[str, Any]],
        key: str,
        path: str,
        params: list[tuple[str, Any]],
        what: str,
        token: str | None,
    ) -> bool:
        """Walk a search *down* from the newest result to the stored ``min_id``.

        Mastodon's search answers the newest matches above ``min_id`` (it sorts by id, newest
        first), not the ones immediately after it as timelines do, so walking up would skip what
        lies between. Each page's oldest id becomes ``max_id`` for the next; a pass that stops
        early stores that ``max_id`` and the newest id seen as ``pending``, and only a pass that
        reaches ``min_id`` moves it up. True when the rate limit ran out.
        """
        state = dict(states.get(key) or {})
        lower: str | None = state.get("min_id")
        stored = state.get("pending")
        pending: dict[str, Any] = stored if isinstance(stored, dict) else {}
        upper: str | None = pending.get("max_id")
        newest: str | None = pending.get("newest")
        first_pull = lower is None and not pending
        complete = stopped = False
        for page_no in range(1, self.cfg.max_pages + 1):
            bounds = [("min_id", lower)] if lower else []
            bounds += [("max_id", upper)] if upper else []
            response = self._get(client, path, [*params, ("limit", self.cfg.limit), *bounds], token, what)
            objects = self._take(response, key, f"{what}, page {page_no}", result)
            if objects is None:
                break
            ids = [str(obj["id"]) for obj in objects if isinstance(obj, dict) and obj.get("id")]
            if ids:
                newest = max([*ids, *([newest] if newest else [])], key=id_order)
                upper = min(ids, key=id_order)
            remaining = response.remaining()
            if remaining is not None and remaining <= 0:
                result.warnings.append(f"the instance's rate limit is used up after {what}; the next pull goes on")
                stopped = True
                break
            if first_pull or len(objects) < self.cfg.limit:
                complete = True
                break
        else:
            result.warnings.append(f"{what}: stopped after max_pages={self.cfg.max_pages}; the next pull goes on")
        if complete:
            states[key] = {"min_id": newest or lower}
        elif upper or newest:
            states[key] = {"min_id": lower, "pending": {"max_id": upper, "newest": newest}}
        return stopped

    def _take(self, response: Response, key: str, location: str, result: PullResult) -> list[Any] | None:
        """The page's objects as raw items added to ``result``; None (and the page quarantined) when
        the body is not the documented JSON."""
        try:
            objects = self._objects(response, key)
        except MalformedBodyError as exc:
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
            return None
        field = "notification" if key == "notifications" else "status"
        for n, obj in enumerate(objects):
            result.items.append(
                RawItem(
                    payload=compact_json({"instance": self.cfg.instance, field: obj}),
                    location=f"{location}, item {n + 1}",
                    context={"stream": key},
                )
            )
        return objects

    def _next_min_id(self, response: Response, ids: list[str]) -> str:
        """The newest id of the page, from the ``rel="prev"`` link when it points at this instance."""
        prev = link_targets(response.headers.get("link")).get("prev")
        if prev:
            parts = urlsplit(prev)
            if f"{parts.scheme}://{parts.netloc}" == self.cfg.instance:
                found = parse_qs(parts.query).get("min_id")
                if found and found[0].isdigit():
                    return found[0]
        return max(ids, key=id_order)

    @staticmethod
    def _objects(response: Response, key: str) -> list[Any]:
        data = response.json()
        if key.startswith("search:"):
            if not isinstance(data, dict) or not isinstance(data.get("statuses"), list):
                raise MalformedBodyError(f"the search answer from {response.url} has no 'statuses' list")
            return list(data["statuses"])
        if not isinstance(data, list):
            raise MalformedBodyError(f"expected a JSON array from {response.url}, got {type(data).__name__}")
        return data

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_status(item)

    # -- publish ----------------------------------------------------------------------------

    def _reply_body(self, reply: OutgoingReply) -> dict[str, Any]:
        text = reply.text
        if reply.recipient:
            mention = "@" + reply.recipient.lstrip("@")
            if mention.lower() not in text.lower():
                text = f"{mention} {text}"  # Mastodon only notifies (and delivers DMs to) mentioned accounts
        body: dict[str, Any] = {
            "status": text,
            "visibility": "direct" if reply.kind == ReplyKind.DIRECT else self.cfg.reply_visibility,
        }
        if reply.in_reply_to:
            host, local = split_key(reply.in_reply_to)
            if host != host_of(self.cfg.instance):
                raise ConnectorPermanentError(
                    f"{reply.in_reply_to} was pulled from {host}; answer it from a Mastodon source on {host}"
                )
            body["in_reply_to_id"] = local
        return body

    def _result(self, status: Any) -> PublishResult:
        if not isinstance(status, dict) or not status.get("id"):
            raise ConnectorPermanentError("the instance answered the post without a status id")
        return PublishResult(
            platform=PLATFORM,
            external_id=status_key(host_of(self.cfg.instance), str(status["id"])),
            url=str(status.get("url") or status.get("uri") or "") or None,
            published_at=parse_time(status.get("created_at"), "status", "created_at"),
            raw=status,
        )

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """``POST /api/v1/statuses`` with ``in_reply_to_id`` (reply) or ``visibility=direct`` (direct
        message), carrying the outbox's key as ``Idempotency-Key``."""
        body = self._reply_body(reply)
        token = self._token(required=True)
        client = self.http if self.http is not None else self._client()
        try:
            response = call(
                client,
                "POST",
                self.cfg.instance + "/api/v1/statuses",
                what="publishing a reply",
                max_bytes=self.settings.http_max_bytes,
                guidance=PUBLISH_GUIDANCE,
                write=True,
                json_body=body,
                headers={**self._headers(token), "Idempotency-Key": reply.idempotency_key},
            )
            try:
                return self._result(response.json())
            except MalformedBodyError as exc:
                raise ConnectorPermanentError(f"the instance's answer to the post is not JSON: {exc}") from exc
        finally:
            if self.http is None:
                client.close()

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """Look for the reply among the account's 40 newest statuses: same ``in_reply_to_id`` (or a
        direct message), created after the outbox made the reply, containing its text."""
        body = self._reply_body(reply)
        wanted = normalize_whitespace(reply.text).casefold()
        token = self._token(required=True)
        client = self.http if self.http is not None else self._client()
        try:
            me = self._get(client, "/api/v1/accounts/verify_credentials", None, token, "the token's account").json()
            if not isinstance(me, dict) or not me.get("id"):
                raise ConnectorPermanentError("verify_credentials answered without an account id")
            path = f"/api/v1/accounts/{me['id']}/statuses"
            statuses = self._get(client, path, {"limit": 40}, token, "the account's own statuses").json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()
        earliest = reply.created_utc - timedelta(minutes=5)  # clock skew between us and the instance
        for status in statuses if isinstance(statuses, list) else []:
            if not isinstance(status, dict):
                continue
            if status.get("in_reply_to_id") != body.get("in_reply_to_id"):
                continue
            if reply.kind == ReplyKind.DIRECT and status.get("visibility") != "direct":
                continue
            try:
                created = ensure_utc(parse_time(status.get("created_at"), "status", "created_at"))
            except ValueError:
                continue
            if created >= earliest and wanted in html_to_text(str(status.get("content") or "")).casefold():
                return self._result(status)
        return None
