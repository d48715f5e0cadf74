"""YouTube comments through the Data API v3.

**Streams.** ``commentThreads.list`` with ``allThreadsRelatedToChannelId`` (every comment thread on
the own channel's videos) and with ``videoId`` for each watched video; ``search.list`` (type video,
newest first) finds videos for ``search_queries`` and adds them to the watched ones. Search costs
100 quota units a call, so it runs at most every ``search_every_s``; the found video ids are kept
in the cursor.

**Cursor.** Threads come newest first (``order=time``) in pages linked by ``nextPageToken``; the
API has no "since". Per stream the cursor is a :class:`~resonanz.connectors.windows.Window` on the
threads' ``publishedAt`` with an hour of overlap, walked by
:func:`~resonanz.connectors.page_walk.walk_newest_first`: a pull reads pages until one reaches an
hour below the mark, handing over each comment that is new or edited (keyed by its id and times)
and skipping the rest; only a walk that reaches the mark moves it. The first pull of a stream takes
its first page only, and nothing older than that page (``floor``) is read later. A thread's
replies come with it (up to five, as the API embeds them).

**Quota and errors.** ``403`` with reason ``quotaExceeded`` / ``rateLimitExceeded`` is transient:
the daily quota resets at midnight Pacific time, which is when the source tries again.
``commentsDisabled`` and ``videoNotFound`` skip that video with a warning; a bad API key or OAuth
token is permanent.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.clock import ensure_utc, now
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
from resonanz.connectors.windows import Window
from resonanz.connectors.youtube.parse import PLATFORM, parse_comment, top_level_id
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.schemas import MentionIn

API = "https://www.googleapis.com/youtube/v3"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
QUOTA = frozenset({"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded"})
SKIP = frozenset({"commentsDisabled", "videoNotFound", "forbidden"})
OVERLAP_S = 3600.0
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
GUIDANCE = {
    400: "YouTube refused the request (an invalid API key or parameter); check api_key_env",
    401: "the OAuth token was refused; create a new refresh token (see DESCRIPTION.md)",
    403: "YouTube refused access (API not enabled for the key's project, or the channel is not yours)",
    404: "no such channel or video",
}


def seconds_to_pacific_midnight(at: datetime) -> float:
    """YouTube's daily quota resets at midnight Pacific time."""
    local = at.astimezone(ZoneInfo("America/Los_Angeles"))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
    return max(60.0, (midnight - local).total_seconds())


def reasons_of(response: Response) -> set[str]:
    try:
        error = json.loads(response.body).get("error", {})
        return {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)}
    except (ValueError, AttributeError):
        return set()


class YouTubeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_id: str | None = Field(default=None, pattern=r"^UC[A-Za-z0-9_-]{22}$", description="own channel (UC...)")
    video_ids: list[str] = Field(default_factory=list, description="videos to watch besides the channel's")
    search_queries: list[str] = Field(default_factory=list, description="find videos to watch by search")
    search_every_s: int = Field(default=21600, ge=900, description="how often a search is repeated (100 units)")
    max_search_videos: int = Field(default=10, ge=1, le=50, description="videos taken per search")
    api_key_env: str = Field(default="RESONANZ_YOUTUBE_API_KEY", pattern=_ENV)
    client_id: str | None = Field(default=None, description="OAuth client id (replies)")
    client_secret_env: str = Field(default="RESONANZ_YOUTUBE_CLIENT_SECRET", pattern=_ENV)
    refresh_token_env: str = Field(default="RESONANZ_YOUTUBE_REFRESH_TOKEN", pattern=_ENV)
    max_pages: int = Field(default=5, ge=1, le=100, description="pages per stream and pull")
    api_base: str = API
    token_url: str = TOKEN_URL

    @field_validator("video_ids", "search_queries", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("video_ids")
    @classmethod
    def _videos(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not (len(v) == 11 and all(c.isalnum() or c in "-_" for c in v))]
        if bad:
            raise ValueError(f"video ids are 11 characters like dQw4w9WgXcQ (got {bad})")
        return value


class YouTubeConnector(Connector):
    """Comments on the own channel, on chosen videos and on videos found by search; replies."""

    kind: ClassVar[str] = "youtube"
    title: ClassVar[str] = "YouTube comments"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = YouTubeConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY})
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> YouTubeConfig:
        assert isinstance(self.config, YouTubeConfig)
        return self.config

    def _client(self) -> httpx.Client:
        return self.http if self.http is not None else httpx.Client(timeout=self.settings.http_timeout_s)

    def _get(self, client: httpx.Client, path: str, params: dict[str, Any], what: str,
             headers: dict[str, str] | None = None) -> Response:  # fmt: skip
        response = call(client, "GET", self.cfg.api_base.rstrip("/") + path, what=what, guidance=GUIDANCE,
                        max_bytes=self.settings.http_max_bytes, params=params, answer_statuses=frozenset({403, 404}),
                        headers={"Accept": "application/json", "User-Agent": self.settings.user_agent,
                                 **(headers or {})})  # fmt: skip
        if response.status in (403, 404):
            reasons = reasons_of(response)
            if reasons & QUOTA:
                raise ConnectorTransientError(
                    f"YouTube API quota used up ({', '.join(sorted(reasons))}); trying again after it resets at "
                    "midnight Pacific time",
                    retry_after=seconds_to_pacific_midnight(now()),
                )
            if not reasons & SKIP:
                raise ConnectorPermanentError(f"HTTP {response.status} from {what}: {GUIDANCE[response.status]}")
        return response

    def _key(self) -> str:
        key = read_secret(self.cfg.api_key_env, settings=self.settings)
        if key is None:
            raise ConnectorPermanentError(
                f"no YouTube API key: set {self.cfg.api_key_env} (Google Cloud console > APIs & Services > Credentials)"
            )
        return key

    # -- pull -------------------------------------------------------------------------------

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        if not (self.cfg.channel_id or self.cfg.video_ids or self.cfg.search_queries):
            raise ConnectorPermanentError("give channel_id, video_ids or search_queries")
        key = self._key()
        result = PullResult()
        streams: dict[str, Any] = dict(cursor.get("streams") or {})
        searches: dict[str, Any] = dict(cursor.get("searches") or {})
        client = self._client()
        try:
            found = self._search(client, key, searches)
            targets: list[tuple[str, dict[str, str]]] = []
            if self.cfg.channel_id:
                targets.append(
                    (f"channel:{self.cfg.channel_id}", {"allThreadsRelatedToChannelId": self.cfg.channel_id})
                )
            for video in dict.fromkeys([*self.cfg.video_ids, *found]):
                targets.append((f"video:{video}", {"videoId": video}))
            for stream, selector in targets:
                streams[stream] = self._pull_stream(client, key, result, stream, selector, streams.get(stream) or {})
        finally:
            if self.http is None:
                client.close()
        result.cursor = {"streams": streams, "searches": searches}
        return result

    def _search(self, client: httpx.Client, key: str, searches: dict[str, Any]) -> list[str]:
        """Video ids for the search queries: asked again once ``search_every_s`` has passed."""
        videos: list[str] = []
        for query in self.cfg.search_queries:
            state = searches.get(query) or {}
            if time.time() - float(state.get("at") or 0) >= self.cfg.search_every_s:
                params = {"part": "id", "type": "video", "order": "date", "q": query,
                          "maxResults": self.cfg.max_search_videos, "key": key}  # fmt: skip
                data = self._get(client, "/search", params, f"the search {query!r}").json()
                ids = [i["id"]["videoId"] for i in data.get("items") or [] if isinstance(i.get("id"), dict)
                       and i["id"].get("videoId")]  # fmt: skip
                state = {"at": time.time(), "videos": ids}
                searches[query] = state
            videos.extend(state.get("videos") or [])
        return videos

    def _pull_stream(self, client: httpx.Client, key: str, result: PullResult, stream: str, selector: dict[str, str],
                     state: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        """One stream's threads, newest first, down to an hour below the mark.

        Every comment of a thread is an entry at the *thread's* time (that is what the API sorts
        and the mark measures), keyed by its id, ``publishedAt`` and ``updatedAt``: a new reply
        or an edit within the overlap is a new key and comes again; the rest is skipped."""
        window = Window.load(state, overlap_s=OVERLAP_S)

        def fetch(page_token: str | None, page: int) -> Page | None:
            params = {"part": "snippet,replies", "order": "time", "maxResults": 100, "textFormat": "html",
                      "key": key, **selector, **({"pageToken": page_token} if page_token else {})}  # fmt: skip
            what = f"the comment threads of {stream}, page {page}"
            response = self._get(client, "/commentThreads", params, what)
            if response.status in (403, 404):
                result.warnings.append(f"{stream} skipped: {', '.join(sorted(reasons_of(response)))}")
                return None
            try:
                data = response.json()
                threads = data.get("items") if isinstance(data, dict) else None
                if not isinstance(threads, list):
                    raise MalformedBodyError("the answer has no 'items' list")
            except MalformedBodyError as exc:
                result.rejected.append(Rejected(payload=response.body, reason=str(exc), location=what, stage="fetch"))
                return None  # this stream's position stays
            entries = []
            for n, thread in enumerate(threads):
                snippet = (thread.get("snippet") or {}) if isinstance(thread, dict) else {}
                top = snippet.get("topLevelComment") or {}
                at = _time((top.get("snippet") or {}).get("publishedAt"))
                info = {k: v for k, v in snippet.items() if k != "topLevelComment"}
                comments = [top, *((thread.get("replies") or {}).get("comments") or [])]
                for m, comment in enumerate(comments):
                    if not isinstance(comment, dict) or not comment.get("id"):
                        continue
                    stamp = comment.get("snippet") or {}
                    entry_key = f"{comment['id']}|{stamp.get('publishedAt')}|{stamp.get('updatedAt')}"
                    item = (comment, info if m == 0 else {}, f"{what}, thread {n + 1}")
                    entries.append(Entry(entry_key, at, item))
            return Page(entries, data.get("nextPageToken"), sent=len(threads))

        def emit(item: tuple[dict[str, Any], dict[str, Any], str], _page: int, _index: int) -> None:
            comment, thread, location = item
            payload = compact_json({"comment": comment, "thread": thread})
            result.items.append(RawItem(payload=payload, location=location))

        # no resume token: YouTube's page tokens are not promised to outlive a pull (a stale one is a
        # 400); an unfinished walk starts at the newest page again and the mark waits for it
        return walk_newest_first(window, fetch, emit, max_pages=self.cfg.max_pages).state

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_comment(item)

    # -- publish ----------------------------------------------------------------------------

    def _access_token(self, client: httpx.Client) -> str:
        secret = read_secret(self.cfg.client_secret_env, settings=self.settings)
        refresh = read_secret(self.cfg.refresh_token_env, settings=self.settings)
        if not (self.cfg.client_id and secret and refresh):
            raise ConnectorPermanentError(
                f"replies need client_id, {self.cfg.client_secret_env} and {self.cfg.refresh_token_env} (OAuth with "
                "the youtube.force-ssl scope, see DESCRIPTION.md)"
            )
        form = {"grant_type": "refresh_token", "client_id": self.cfg.client_id, "client_secret": secret,
                "refresh_token": refresh}  # fmt: skip
        refused = {400: "Google refused the refresh token (revoked or expired): create a new one"}
        answer = call(client, "POST", self.cfg.token_url, what="the OAuth token", max_bytes=1_000_000, form=form,
                      guidance=refused)  # fmt: skip
        try:
            return str(answer.json()["access_token"])
        except (MalformedBodyError, KeyError, TypeError) as exc:
            raise ConnectorPermanentError(f"Google's token answer has no access_token: {exc}") from exc

    def _result(self, comment: Any) -> PublishResult:
        if not isinstance(comment, dict) or not comment.get("id"):
            raise ConnectorPermanentError("YouTube answered without a comment id")
        snippet = comment.get("snippet") or {}
        at = _time(snippet.get("publishedAt"))
        published = datetime.fromtimestamp(at, tz=UTC) if at is not None else now()
        return PublishResult(platform=PLATFORM, external_id=str(comment["id"]), raw=comment, published_at=published)

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """``comments.insert`` with ``parentId`` = the thread's top-level comment (YouTube threads are flat)."""
        parent = top_level_id(reply.in_reply_to or "")
        client = self._client()
        try:
            token = self._access_token(client)
            response = call(client, "POST", self.cfg.api_base.rstrip("/") + "/comments", what="the reply", write=True,
                            max_bytes=self.settings.http_max_bytes, guidance={**GUIDANCE, 404: "the comment answered "
                            "is gone"}, params={"part": "snippet"}, json_body={"snippet": {"parentId": parent,
                            "textOriginal": reply.text}}, headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            try:
                return self._result(response.json())
            except MalformedBodyError as exc:
                raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """The thread's replies (``comments.list?parentId=``): one with this text, made since the reply was queued."""
        parent = top_level_id(reply.in_reply_to or "")
        client = self._client()
        try:
            params = {"part": "snippet", "parentId": parent, "maxResults": 100, "textFormat": "plainText",
                      "key": self._key()}  # fmt: skip
            data = self._get(client, "/comments", params, "the replies of the thread").json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()
        earliest = (reply.created_utc - timedelta(minutes=5)).timestamp()
        for comment in (data.get("items") if isinstance(data, dict) else None) or []:
            snippet = comment.get("snippet") or {} if isinstance(comment, dict) else {}
            text = str(snippet.get("textOriginal") or snippet.get("textDisplay") or "").strip()
            at = _time(snippet.get("publishedAt"))
            if text == reply.text.strip() and (at is None or at >= earliest):
                return self._result(comment)
        return None


def _time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00"))).timestamp()
    except ValueError:
        return None
