"""A Facebook Page and its Instagram professional account through the Graph API.

**What is read.** Facebook: the Page's feed (``/{page-id}/feed``: its own posts and visitors'
posts) and, for every post younger than ``comment_days``, its comments and replies
(``/{post-id}/comments?filter=stream&order=reverse_chronological``). Instagram: the account's
media (``/{ig-user-id}/media``) younger than ``comment_days`` and their comments with replies.

**Cursor.** The feed answers newest first; the cursor keeps the newest ``created_time`` and the
posts of the hour before it with their ``updated_time`` (an edited post comes again as a
revision), and reads pages until one reaches an hour below it. Each watched post or media item
keeps the ids of the comments handed over; a pull reads its comment pages newest first until a
page holds nothing new, so nothing is skipped or repeated. An object older than ``comment_days``
is no longer watched.

**Rate limits.** Every answer carries ``X-App-Usage`` and, for Page tokens,
``X-Business-Use-Case-Usage`` (percentages of the allowance, and
``estimated_time_to_regain_access`` in minutes). A pull stops early with a warning when any share
reaches ``throttle_at_percent``; throttling errors (codes 4, 17, 32, 613, 80001...) are transient
and wait the estimated time.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

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
from resonanz.connectors.facebook.parse import graph_time, parse_graph
from resonanz.connectors.http_api import MalformedBodyError, Response, call, compact_json
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.schemas import MentionIn
from resonanz.mentions.text import normalize_whitespace

GRAPH = "https://graph.facebook.com/v21.0"
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80008})
TRANSIENT_CODES = frozenset({1, 2})
OVERLAP_S = 3600.0
POST_FIELDS = "id,message,created_time,updated_time,from,permalink_url"
FB_COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url,like_count"
IG_FIELDS = "id,text,timestamp,username,from,like_count,parent_id"
GUIDANCE = {
    190: "the Page access token is invalid or expired; create a long-lived Page token again (see DESCRIPTION.md)",
    10: "the token lacks a permission (pages_read_engagement, pages_read_user_content, pages_manage_engagement, "
    "instagram_basic, instagram_manage_comments)",
    200: "the token lacks a permission for this object",
    100: "Graph refused a parameter or the object does not exist",
}


class GraphError(Exception):
    def __init__(self, code: int, subcode: int | None, message: str) -> None:
        super().__init__(message)
        self.code, self.subcode, self.message = code, subcode, message


def graph_error(response: Response) -> GraphError | None:
    try:
        error = json.loads(response.body).get("error")
        return GraphError(int(error.get("code")), error.get("error_subcode"), str(error.get("message") or ""))
    except (ValueError, AttributeError, TypeError):
        return None


def usage_of(headers: dict[str, str]) -> tuple[float, float]:
    """(highest share of any allowance in percent, minutes until access is regained) from
    ``X-App-Usage`` and ``X-Business-Use-Case-Usage``."""
    top, wait = 0.0, 0.0
    try:
        app = json.loads(headers.get("x-app-usage") or "{}")
        top = max([top, *(float(v) for v in app.values() if isinstance(v, int | float))])
    except (ValueError, AttributeError):
        pass
    try:
        buc = json.loads(headers.get("x-business-use-case-usage") or "{}")
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                for name in ("call_count", "total_cputime", "total_time"):
                    if isinstance(entry.get(name), int | float):
                        top = max(top, float(entry[name]))
                if isinstance(entry.get("estimated_time_to_regain_access"), int | float):
                    wait = max(wait, float(entry["estimated_time_to_regain_access"]))
    except (ValueError, AttributeError):
        pass
    return top, wait


class FacebookConfig(BaseModel):
    # ids typed on the command line (`--set page_id=123`) arrive as JSON numbers
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    page_id: str = Field(pattern=r"^[0-9]{5,20}$", description="the Facebook Page's numeric id")
    instagram_account_id: str | None = Field(default=None, pattern=r"^[0-9]{5,20}$", description="IG user id")
    page_posts: bool = Field(default=True, description="read the Page's feed and its comments")
    page_token_env: str = Field(default="RESONANZ_FACEBOOK_PAGE_TOKEN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    comment_days: int = Field(default=7, ge=1, le=90, description="how long a post's comments are watched")
    max_pages: int = Field(default=5, ge=1, le=100)
    throttle_at_percent: float = Field(default=90.0, gt=0, le=100)
    graph_base: str = GRAPH


class FacebookConnector(Connector):
    """Page posts and comments, Instagram comments; replies to comments and posts."""

    kind: ClassVar[str] = "facebook"
    title: ClassVar[str] = "Facebook Page / Instagram (Graph API)"
    platform: ClassVar[str] = "facebook"
    Config: ClassVar[type[BaseModel]] = FacebookConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY})
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> FacebookConfig:
        assert isinstance(self.config, FacebookConfig)
        return self.config

    def _token(self) -> str:
        token = read_secret(self.cfg.page_token_env, settings=self.settings)
        if token is None:
            raise ConnectorPermanentError(f"no Page access token: set {self.cfg.page_token_env}")
        return token

    def _client(self) -> httpx.Client:
        return self.http if self.http is not None else httpx.Client(timeout=self.settings.http_timeout_s)

    def _request(self, client: httpx.Client, method: str, path_or_url: str, *, what: str, write: bool = False,
                 **kwargs: Any) -> Response:  # fmt: skip
        url = path_or_url if path_or_url.startswith("http") else self.cfg.graph_base.rstrip("/") + path_or_url
        headers = {"Authorization": f"Bearer {self._token()}", "User-Agent": self.settings.user_agent}
        response = call(client, method, url, what=what, max_bytes=self.settings.http_max_bytes, write=write,
                        headers=headers, answer_statuses=frozenset({400, 403, 404}), **kwargs)  # fmt: skip
        if response.status in (400, 403, 404):
            error = graph_error(response)
            code = error.code if error else 0
            said = error.message if error else response.body[:200].decode("utf-8", "replace")
            if code in THROTTLE_CODES or code in TRANSIENT_CODES:
                _top, wait = usage_of(response.headers)
                retry = wait * 60 if wait else 600.0
                raise ConnectorTransientError(f"Graph throttles {what} (code {code}: {said})", retry_after=retry)
            if code == 100 and error is not None and error.subcode == 33:
                raise LookupError(said)  # the object is gone
            hint = GUIDANCE.get(code, "")
            raise ConnectorPermanentError(f"HTTP {response.status} from {what} (code {code}: {said})" + (
                f": {hint}" if hint else ""))  # fmt: skip
        return response

    # -- pull -------------------------------------------------------------------------------

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        result = PullResult()
        state = dict(cursor)
        client = self._client()
        try:
            if self.cfg.page_posts:
                watched = self._feed(client, result, state)
                self._comments(client, result, "facebook", watched, state, "posts")
            if self.cfg.instagram_account_id and not self._throttled(result):
                media = self._media(client)
                self._comments(client, result, "instagram", media, state, "media")
        except _AllowanceUsedError:
            pass  # the allowance is nearly used up: what was read is handed over, the rest waits
        finally:
            if self.http is None:
                client.close()
        result.cursor = state
        return result

    def _check_usage(self, response: Response, result: PullResult) -> None:
        top, _wait = usage_of(response.headers)
        if top >= self.cfg.throttle_at_percent:
            result.warnings.append(f"Graph API usage at {top:.0f}% of the allowance; the next pull goes on from here")
            raise _AllowanceUsedError

    @staticmethod
    def _throttled(result: PullResult) -> bool:
        return any("of the allowance" in w for w in result.warnings)

    def _feed(self, client: httpx.Client, result: PullResult, state: dict[str, Any]) -> dict[str, float]:
        """Walk the feed down to an hour below the newest post handed over; ``state['feed']`` is
        written after every page, so a stop keeps what was read. Only a complete walk moves
        ``hwm`` up (a walk cut short leaves a gap that the next pull must still read)."""
        feed = dict(state.get("feed") or {})
        hwm = feed.get("hwm") if isinstance(feed.get("hwm"), int | float) else None
        floor = feed.get("floor") if isinstance(feed.get("floor"), int | float) else None
        seen: dict[str, str] = dict(feed.get("seen") or {})
        watched: dict[str, float] = {k: float(v) for k, v in (feed.get("watched") or {}).items()}
        newest, oldest = hwm, None

        def save(complete: bool, more: bool) -> None:
            nonlocal floor
            if hwm is None and more and oldest is not None and floor is None:
                floor = oldest  # the first pull took the newest page: nothing older is read later
            mark = newest if complete else hwm
            keep = (mark or newest or 0) - OVERLAP_S
            state["feed"] = {"hwm": mark, "floor": floor, "watched": self._young(watched),
                             "seen": {k: v for k, v in seen.items() if watched.get(k, 0) >= keep}}  # fmt: skip

        url: str | None = f"/{self.cfg.page_id}/feed"
        params: dict[str, Any] | None = {"fields": POST_FIELDS, "limit": 25}
        for page in range(1, (1 if hwm is None else self.cfg.max_pages) + 1):
            what = f"the Page feed, page {page}"
            response = self._request(client, "GET", url or "", what=what, params=params)
            posts = self._data(response, result, what)
            if posts is None:
                return watched
            reached = False
            for n, post in enumerate(posts):
                at = graph_time(post.get("created_time"))
                if at is None:
                    continue
                ts = at.timestamp()
                below = floor if hwm is None else max(hwm - OVERLAP_S, floor or 0)
                if below is not None and ts < below:
                    reached = True
                    continue
                watched[str(post["id"])] = ts
                newest = ts if newest is None else max(newest, ts)
                oldest = ts if oldest is None else min(oldest, ts)
                stamp = str(post.get("updated_time") or post.get("created_time"))
                if seen.get(str(post["id"])) != stamp:
                    seen[str(post["id"])] = stamp
                    self._item(result, "facebook", "post", post, str(post["id"]), f"{what}, post {n + 1}")
            url, params = (response.json().get("paging") or {}).get("next"), None
            done = reached or url is None or hwm is None
            save(complete=done, more=url is not None)
            self._check_usage(response, result)
            if done:
                break
        else:
            result.warnings.append(
                f"the Page feed: stopped after max_pages={self.cfg.max_pages}; the next pull goes on"
            )
        return self._young(watched)

    def _media(self, client: httpx.Client) -> dict[str, float]:
        params = {"fields": "id,timestamp,permalink,comments_count", "limit": 25}
        response = self._request(client, "GET", f"/{self.cfg.instagram_account_id}/media", what="the Instagram media",
                                 params=params)  # fmt: skip
        try:
            items = response.json().get("data") or []
        except (MalformedBodyError, AttributeError):
            items = []
        media = {str(m["id"]): graph_time(m.get("timestamp")) for m in items if isinstance(m, dict) and m.get("id")}
        return self._young({k: v.timestamp() for k, v in media.items() if v is not None})

    def _young(self, objects: dict[str, float]) -> dict[str, float]:
        limit = time.time() - self.cfg.comment_days * 86400
        return {k: v for k, v in objects.items() if v >= limit}

    def _comments(self, client: httpx.Client, result: PullResult, network: str, objects: dict[str, float],
                  state: dict[str, Any], key: str) -> None:  # fmt: skip
        """Comments of each watched object, newest first; ``state[key]`` holds per object the ids
        handed over and whether its last walk reached the end. A walk stops at the first page with
        nothing new only when the last walk was complete (else older comments may still be unread)."""
        kept: dict[str, Any] = {k: v for k, v in (state.get(key) or {}).items() if k in objects and isinstance(v, dict)}
        state[key] = kept
        fields = FB_COMMENT_FIELDS if network == "facebook" else f"{IG_FIELDS},replies{{{IG_FIELDS}}}"
        for object_id in objects:
            known = kept.get(object_id) or {}
            seen, was_complete = set(known.get("seen") or []), bool(known.get("complete"))
            params: dict[str, Any] | None = {"fields": fields, "limit": 100}
            if network == "facebook" and params is not None:
                params.update({"filter": "stream", "order": "reverse_chronological"})
            url: str | None = f"/{object_id}/comments"
            complete = False
            for page in range(1, self.cfg.max_pages + 1):
                what = f"the comments of {object_id}, page {page}"
                try:
                    response = self._request(client, "GET", url or "", what=what, params=params)
                except LookupError:
                    result.warnings.append(f"{object_id} is gone; its comments are no longer watched")
                    complete = True
                    break
                comments = self._data(response, result, what)
                if comments is None:
                    break
                fresh = 0
                for n, comment in enumerate(comments):
                    for one in [comment, *((comment.get("replies") or {}).get("data") or [])]:
                        if isinstance(one, dict) and one.get("id") and str(one["id"]) not in seen:
                            seen.add(str(one["id"]))
                            fresh += 1
                            self._item(result, network, "comment", one, object_id, f"{what}, comment {n + 1}")
                url, params = (response.json().get("paging") or {}).get("next"), None
                complete = url is None or (not fresh and was_complete and network == "facebook")
                kept[object_id] = {"seen": sorted(seen), "complete": complete or (was_complete and not fresh)}
                self._check_usage(response, result)
                if complete:
                    break
            kept[object_id] = {"seen": sorted(seen), "complete": complete}

    def _data(self, response: Response, result: PullResult, what: str) -> list[dict[str, Any]] | None:
        try:
            body = response.json()
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise MalformedBodyError("the answer has no 'data' list")
        except MalformedBodyError as exc:
            result.rejected.append(Rejected(payload=response.body, reason=str(exc), location=what, stage="fetch"))
            return None
        return [d for d in data if isinstance(d, dict) and d.get("id")]

    @staticmethod
    def _item(result: PullResult, network: str, kind: str, obj: dict[str, Any], root: str, location: str) -> None:
        payload = compact_json({"network": network, "kind": kind, "object": obj, "root": root})
        result.items.append(RawItem(payload=payload, location=location))

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_graph(item)

    # -- publish ----------------------------------------------------------------------------

    @staticmethod
    def _instagram(target: str) -> bool:
        """Facebook post and comment ids have an underscore; Instagram comment ids are digits."""
        return "_" not in target

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """Facebook: ``POST /{post-or-comment-id}/comments``; Instagram: ``POST /{comment-id}/replies``."""
        target = reply.in_reply_to or ""
        network = "instagram" if self._instagram(target) else "facebook"
        edge = "replies" if network == "instagram" else "comments"
        client = self._client()
        try:
            response = self._request(client, "POST", f"/{target}/{edge}", what="the reply", write=True,
                                     form={"message": reply.text})  # fmt: skip
            try:
                created = response.json()
            except MalformedBodyError as exc:
                raise ConnectorPermanentError(str(exc)) from exc
        except LookupError as exc:
            raise ConnectorPermanentError(f"the comment answered is gone: {exc}") from exc
        finally:
            if self.http is None:
                client.close()
        if not isinstance(created, dict) or not created.get("id"):
            raise ConnectorPermanentError("Graph answered the reply without an id")
        return PublishResult(platform=network, external_id=str(created["id"]), published_at=now(), raw=created)

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """The replies under the target: one by the Page (or IG account) with this text."""
        target = reply.in_reply_to or ""
        network = "instagram" if self._instagram(target) else "facebook"
        own = self.cfg.instagram_account_id if network == "instagram" else self.cfg.page_id
        edge, fields = ("replies", IG_FIELDS) if network == "instagram" else ("comments", FB_COMMENT_FIELDS)
        client = self._client()
        try:
            params = {
                "fields": fields,
                "limit": 50,
                **({"order": "reverse_chronological"} if edge == "comments" else {}),
            }
            body = self._request(client, "GET", f"/{target}/{edge}", what="the replies", params=params).json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()
        wanted = normalize_whitespace(reply.text)
        for comment in (body.get("data") if isinstance(body, dict) else None) or []:
            sender = (comment.get("from") or {}).get("id")
            text = normalize_whitespace(str(comment.get("message") or comment.get("text") or ""))
            if sender == own and text == wanted:
                return PublishResult(platform=network, external_id=str(comment["id"]), published_at=now(), raw=comment)
        return None


class _AllowanceUsedError(Exception):
    """Internal: the Graph allowance is nearly used up; end this pull."""
