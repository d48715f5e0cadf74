"""Apple App Store reviews: pulled from the public customer-reviews RSS feed (JSON form, no
credentials), answered through the App Store Connect API (``customerReviewResponses``).

**Cursor.** The feed lists a country's 500 most recent reviews (10 pages of 50, newest first by
``updated``) and has no "since" parameter. Per country the cursor is a
:class:`~resonanz.connectors.windows.Window` on ``updated`` with a day of overlap (late-indexed
reviews), walked by :func:`~resonanz.connectors.page_walk.walk_newest_first`: a pull reads pages
until one reaches below the mark, handing over what is new or edited (a review is keyed by its id
and ``updated``, so an edit comes again as a revision) and skipping what it had. The first pull
takes page 1 only.

**Replies** need an App Store Connect API key (issuer id, key id, and the ``.p8`` private key in
a secret); requests carry an ES256 JWT valid for 20 minutes.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.clock import now
from resonanz.connectors.appstores.parse import APPLE, apple_time, label, parse_apple
from resonanz.connectors.appstores.signing import sign_jwt
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
from resonanz.connectors.http_api import MalformedBodyError, call, compact_json
from resonanz.connectors.page_walk import Entry, Page, walk_newest_first
from resonanz.connectors.windows import Window
from resonanz.errors import ConnectorPermanentError
from resonanz.mentions.schemas import MentionIn

OVERLAP_S = 86400.0
#: the feed's page size and its last page (500 reviews a storefront)
PAGE_SIZE = 50
MAX_FEED_PAGES = 10
GUIDANCE = {
    401: "App Store Connect refused the API key's token; check issuer_id, key_id and the .p8 key",
    403: "the API key's role may not answer reviews (it needs Admin, App Manager or Customer Support)",
    404: "no such app or review (check app_id; the review may have been removed)",
    409: "the review has a response already; edit it in App Store Connect",
}


class AppStoreConfig(BaseModel):
    # ids typed on the command line (`--set app_id=123`) arrive as JSON numbers
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    app_id: str = Field(pattern=r"^[0-9]{5,12}$", description="the numeric Apple ID of the app")
    countries: list[str] = Field(default_factory=lambda: ["us"], min_length=1, description="storefronts, e.g. de,at")
    max_pages: int = Field(default=10, ge=1, le=10, description="the feed has at most 10 pages of 50")
    issuer_id: str | None = Field(default=None, description="App Store Connect API issuer id (replies)")
    key_id: str | None = Field(default=None, pattern=r"^[A-Z0-9]{10}$", description="API key id (replies)")
    private_key_env: str = Field(default="RESONANZ_APPSTORE_PRIVATE_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    feed_base: str = "https://itunes.apple.com"
    api_base: str = "https://api.appstoreconnect.apple.com"

    @field_validator("countries", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("countries")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"countries are two-letter storefront codes like de, us (got {bad})")
        return [c.lower() for c in value]


class AppStoreConnector(Connector):
    """Reviews of one iOS app in chosen storefronts; replies through App Store Connect."""

    kind: ClassVar[str] = "appstore"
    title: ClassVar[str] = "Apple App Store reviews"
    platform: ClassVar[str] = APPLE
    Config: ClassVar[type[BaseModel]] = AppStoreConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY})
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> AppStoreConfig:
        assert isinstance(self.config, AppStoreConfig)
        return self.config

    def _client(self) -> httpx.Client:
        return self.http if self.http is not None else httpx.Client(timeout=self.settings.http_timeout_s)

    # -- pull -------------------------------------------------------------------------------

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        result = PullResult()
        known = cursor.get("countries") if cursor.get("app_id") == self.cfg.app_id else None
        states: dict[str, Any] = dict(known or {})
        client = self._client()
        try:
            for country in self.cfg.countries:
                states[country] = self._pull_country(client, result, country, states.get(country) or {})
        finally:
            if self.http is None:
                client.close()
        result.cursor = {"app_id": self.cfg.app_id, "countries": states}
        return result

    def _pull_country(self, client: httpx.Client, result: PullResult, country: str, state: dict[str, Any]) -> Any:
        """One storefront's feed, page by page from the newest, down to a day below the mark."""
        window = Window.load(state, overlap_s=OVERLAP_S)

        def fetch(token: str | None, _page_no: int) -> Page | None:
            page = int(token or 1)
            url = (f"{self.cfg.feed_base.rstrip('/')}/{country}/rss/customerreviews/page={page}/id={self.cfg.app_id}"
                   "/sortby=mostrecent/json")  # fmt: skip
            what = f"the {country} reviews feed, page {page}"
            response = call(client, "GET", url, what=what, max_bytes=self.settings.http_max_bytes, guidance=GUIDANCE,
                            headers={"User-Agent": self.settings.user_agent, "Accept": "application/json"})  # fmt: skip
            try:
                data = response.json()
                feed = data.get("feed") if isinstance(data, dict) else None
                if not isinstance(feed, dict):
                    raise MalformedBodyError("the answer has no 'feed' object")
            except MalformedBodyError as exc:
                result.rejected.append(Rejected(payload=response.body, reason=str(exc), location=what, stage="fetch"))
                return None  # the next pull reads this again
            entries = feed.get("entry") or []
            entries = [entries] if isinstance(entries, dict) else entries  # one review: an object, not a list
            rows = []
            for n, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, dict) or not label(entry, "im:rating"):
                    continue  # older feeds put the app itself first
                updated = apple_time(label(entry, "updated"))
                review_id = label(entry, "id")
                # an edit is a new `updated`: keyed with it, the edited review comes again (a revision)
                key = f"{review_id}@{updated.timestamp()}" if review_id and updated else ""
                rows.append(Entry(key, updated.timestamp() if updated else None, (entry, f"{what}, entry {n + 1}")))
            more = len(entries) >= PAGE_SIZE and page < MAX_FEED_PAGES
            return Page(rows, str(page + 1) if more else None, sent=len(entries))

        def emit(row: tuple[dict[str, Any], str], _page_no: int, _index: int) -> None:
            entry, location = row
            payload = compact_json({"app_id": self.cfg.app_id, "country": country, "entry": entry})
            result.items.append(RawItem(payload=payload, location=location))

        return walk_newest_first(window, fetch, emit, max_pages=self.cfg.max_pages, resume_key="page").state

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_apple(item)

    # -- publish ----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if not (self.cfg.issuer_id and self.cfg.key_id):
            raise ConnectorPermanentError("set issuer_id and key_id (App Store Connect > Users and Access > Keys)")
        key = read_secret(self.cfg.private_key_env, settings=self.settings)
        if key is None:
            raise ConnectorPermanentError(
                f"no App Store Connect private key: put the .p8 file into {self.cfg.private_key_env}"
            )
        issued = int(time.time())
        claims = {"iss": self.cfg.issuer_id, "iat": issued, "exp": issued + 1200, "aud": "appstoreconnect-v1"}
        token = sign_jwt(claims, private_key_pem=key, algorithm="ES256", key_id=self.cfg.key_id)
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": self.settings.user_agent,
        }

    def _review_id(self, reply: OutgoingReply) -> str:
        app_id, _, review_id = (reply.in_reply_to or "").partition("/")
        if app_id != self.cfg.app_id or not review_id.isdigit():
            raise ConnectorPermanentError(f"{reply.in_reply_to!r} is not a review of app {self.cfg.app_id}")
        return review_id

    def _result(self, review_id: str, data: Any) -> PublishResult:
        if not isinstance(data, dict) or not data.get("id"):
            raise ConnectorPermanentError("App Store Connect answered without a response id")
        attributes = data.get("attributes") or {}
        at = apple_time(str(attributes.get("lastModifiedDate") or "")) or now()
        return PublishResult(platform=APPLE, external_id=f"{self.cfg.app_id}/{review_id}/response/{data['id']}",
                             published_at=at, raw=data)  # fmt: skip

    def publish(self, reply: OutgoingReply) -> PublishResult:
        review_id = self._review_id(reply)
        review = {"data": {"type": "customerReviews", "id": review_id}}
        body = {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": reply.text},
                         "relationships": {"review": review}}}  # fmt: skip
        client = self._client()
        try:
            url = f"{self.cfg.api_base.rstrip('/')}/v1/customerReviewResponses"
            response = call(client, "POST", url, what="the review response", max_bytes=self.settings.http_max_bytes,
                            guidance=GUIDANCE, write=True, json_body=body, headers=self._headers())  # fmt: skip
            try:
                return self._result(review_id, response.json().get("data"))
            except (MalformedBodyError, AttributeError) as exc:
                raise ConnectorPermanentError(f"App Store Connect's answer is not JSON: {exc}") from exc
        finally:
            if self.http is None:
                client.close()

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """``GET /v1/customerReviews/{id}/response``: out when the review's response is this text."""
        review_id = self._review_id(reply)
        client = self._client()
        try:
            url = f"{self.cfg.api_base.rstrip('/')}/v1/customerReviews/{review_id}/response"
            response = call(client, "GET", url, what="the review's response", max_bytes=self.settings.http_max_bytes,
                            guidance=GUIDANCE, headers=self._headers(), answer_statuses=frozenset({404}))  # fmt: skip
            if response.status == 404:
                return None
            try:
                data = response.json().get("data")
            except (MalformedBodyError, AttributeError) as exc:
                raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()
        body = str(((data or {}).get("attributes") or {}).get("responseBody") or "")
        return self._result(review_id, data) if body.strip() == reply.text.strip() else None
