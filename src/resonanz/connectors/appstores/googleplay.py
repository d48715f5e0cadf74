"""Google Play reviews through the Android Publisher API (``reviews.list`` / ``reviews.get`` /
``reviews.reply``), authenticated as a service account.

**Cursor.** ``reviews.list`` returns only reviews created or changed in the last seven days, in
pages linked by ``tokenPagination.nextPageToken``; it has no "since" parameter. A pull therefore
walks all pages (up to ``max_pages``) and hands over the reviews whose ``lastModified`` differs
from what the cursor remembers (``seen``: review id -> lastModified, kept for eight days). A new
review, and a review its author edited, pass; a review already handed over does not. A pull more
than seven days after the last complete one warns that Google no longer serves what lies between.

**Quota.** Google answers an exhausted quota with ``403`` and reason ``rateLimitExceeded`` /
``quotaExceeded`` (or ``429``): transient, retried after an hour (or ``Retry-After``).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from resonanz.clock import now
from resonanz.connectors.appstores.parse import PLAY, parse_play, play_comments, play_key, play_seconds
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
from resonanz.connectors.http_api import MalformedBodyError, Response, call, compact_json
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.schemas import MentionIn

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
QUOTA_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"})
QUOTA_RETRY_S = 3600.0
MAX_REPLY = 350  # Google Play's limit for a developer reply
KEEP_SEEN = timedelta(days=8)
GUIDANCE = {
    401: "Google refused the service account's token; check the key in service_account_env",
    403: "the service account may not read this app's reviews: in Play Console > Users and permissions, invite "
    "its e-mail address with 'Reply to reviews' (and view app information) for this app",
    404: "no app with this package_name in the Play Console account",
}


def google_error(response: Response) -> Exception | None:
    """A 403 that is Google's quota answer, as a transient error (None for any other 403)."""
    try:
        error = json.loads(response.body).get("error", {})
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
    if reasons & QUOTA_REASONS:
        return ConnectorTransientError(
            f"Google API quota used up ({', '.join(sorted(r for r in reasons if r))}); retrying in an hour",
            retry_after=QUOTA_RETRY_S,
        )
    return None


class GooglePlayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$", description="e.g. de.radwerk.app")
    service_account_env: str = Field(
        default="RESONANZ_GOOGLE_PLAY_SERVICE_ACCOUNT", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"
    )
    translation_language: str | None = Field(default=None, max_length=10, description="e.g. de: Google translates")
    max_results: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=20, ge=1, le=200)
    api_base: str = "https://androidpublisher.googleapis.com"


class GooglePlayConnector(Connector):
    """Reviews of one Android app; replies to them."""

    kind: ClassVar[str] = "googleplay"
    title: ClassVar[str] = "Google Play reviews"
    platform: ClassVar[str] = PLAY
    Config: ClassVar[type[BaseModel]] = GooglePlayConfig
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY})
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    def __init__(self, config: BaseModel, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._token: str | None = None

    @property
    def cfg(self) -> GooglePlayConfig:
        assert isinstance(self.config, GooglePlayConfig)
        return self.config

    def _base(self) -> str:
        return f"{self.cfg.api_base.rstrip('/')}/androidpublisher/v3/applications/{self.cfg.package_name}"

    def _call(self, client: httpx.Client, method: str, url: str, *, what: str, write: bool = False,
              **kwargs: Any) -> Any:  # fmt: skip
        headers = {"Authorization": f"Bearer {self._access_token(client)}", "Accept": "application/json",
                   "User-Agent": self.settings.user_agent}  # fmt: skip
        response = call(client, method, url, what=what, max_bytes=self.settings.http_max_bytes, guidance=GUIDANCE,
                        write=write, headers=headers, answer_statuses=frozenset({403}), **kwargs)  # fmt: skip
        if response.status == 403:
            quota = google_error(response)
            if quota is not None:
                raise quota
            raise ConnectorPermanentError(f"HTTP 403 from {what}: {GUIDANCE[403]}")
        return response

    def _access_token(self, client: httpx.Client) -> str:
        """Exchange a JWT signed with the service account's key for an access token (RFC 7523)."""
        if self._token:
            return self._token
        raw = read_secret(self.cfg.service_account_env, settings=self.settings)
        if raw is None:
            raise ConnectorPermanentError(
                f"no service account key: put the JSON key file's content into {self.cfg.service_account_env} "
                "(or that key in RESONANZ_SECRETS_FILE)"
            )
        try:
            account = json.loads(raw)
            email, key, token_uri = account["client_email"], account["private_key"], account["token_uri"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorPermanentError(
                f"{self.cfg.service_account_env} is not a Google service account JSON key ({exc})"
            ) from exc
        issued = int(time.time())
        claims = {"iss": email, "scope": SCOPE, "aud": token_uri, "iat": issued, "exp": issued + 3600}
        assertion = sign_jwt(claims, private_key_pem=key, algorithm="RS256", key_id=account.get("private_key_id"))
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        answer = call(client, "POST", token_uri, what="the Google access token", max_bytes=1_000_000, form=form,
                      guidance={400: "Google refused the service account key (revoked or wrong)"})  # fmt: skip
        try:
            self._token = str(answer.json()["access_token"])
        except (MalformedBodyError, KeyError, TypeError) as exc:
            raise ConnectorPermanentError(f"Google's token answer has no access_token: {exc}") from exc
        return self._token

    def _client(self) -> httpx.Client:
        return self.http if self.http is not None else httpx.Client(timeout=self.settings.http_timeout_s)

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        result = PullResult()
        stored = cursor.get("seen") if cursor.get("package") == self.cfg.package_name else None
        seen: dict[str, float] = {k: float(v) for k, v in (stored or {}).items() if isinstance(v, int | float)}
        last = cursor.get("last_complete_at")
        if isinstance(last, int | float) and time.time() - last > 7 * 86400:
            result.warnings.append("the last complete pull is over 7 days old: Google Play only serves the last week")
        client = self._client()
        complete = False
        try:
            page_token: str | None = None
            for page_no in range(1, self.cfg.max_pages + 1):
                params = {"maxResults": self.cfg.max_results, **({"token": page_token} if page_token else {})}
                if self.cfg.translation_language:
                    params["translationLanguage"] = self.cfg.translation_language
                response = self._call(client, "GET", self._base() + "/reviews", what="the reviews", params=params)
                try:
                    data = response.json()
                    reviews = data.get("reviews") or [] if isinstance(data, dict) else None
                    if not isinstance(reviews, list):
                        raise MalformedBodyError("the answer has no 'reviews' list")
                except MalformedBodyError as exc:
                    result.rejected.append(Rejected(payload=response.body, reason=str(exc), stage="fetch",
                                                    location=f"reviews, page {page_no}"))  # fmt: skip
                    break
                for n, review in enumerate(reviews):
                    self._offer(result, seen, review, f"reviews, page {page_no}, item {n + 1}")
                page_token = (data.get("tokenPagination") or {}).get("nextPageToken")
                if not page_token:
                    complete = True
                    break
            else:
                result.warnings.append(f"stopped after max_pages={self.cfg.max_pages}; the next pull reads again")
        finally:
            if self.http is None:
                client.close()
        floor = (now() - KEEP_SEEN).timestamp()
        result.cursor = {
            "package": self.cfg.package_name,
            "seen": {k: v for k, v in seen.items() if v >= floor},
            "last_complete_at": time.time() if complete else cursor.get("last_complete_at"),
        }
        return result

    def _offer(self, result: PullResult, seen: dict[str, float], review: Any, location: str) -> None:
        """Hand over ``review`` unless the cursor has it with the same lastModified."""
        if not isinstance(review, dict) or not review.get("reviewId"):
            result.rejected.append(Rejected(payload=compact_json(review), reason="a review without reviewId",
                                            location=location))  # fmt: skip
            return
        user, _developer = play_comments(review)
        modified = play_seconds((user or {}).get("lastModified"))
        review_id = str(review["reviewId"])
        if modified is not None and seen.get(review_id) == modified:
            return
        if modified is not None:
            seen[review_id] = modified
        payload = compact_json({"package": self.cfg.package_name, "review": review})
        result.items.append(RawItem(payload=payload, location=location))

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_play(item)

    # -- publish ----------------------------------------------------------------------------

    def _review_id(self, reply: OutgoingReply) -> str:
        package, _, review_id = (reply.in_reply_to or "").partition("/")
        if package != self.cfg.package_name or not review_id:
            raise ConnectorPermanentError(f"{reply.in_reply_to!r} is not a review of {self.cfg.package_name}")
        if len(reply.text) > MAX_REPLY:
            raise ConnectorPermanentError(f"Google Play replies are at most {MAX_REPLY} characters ({len(reply.text)})")
        return review_id

    def _result(self, review_id: str, text: str, edited: Any) -> PublishResult:
        seconds = play_seconds(edited)
        at = now() if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)
        return PublishResult(platform=PLAY, external_id=play_key(self.cfg.package_name, review_id) + "/reply",
                             published_at=at, raw={"replyText": text})  # fmt: skip

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """``reviews.reply``: sets (or replaces) the one developer answer of the review."""
        review_id = self._review_id(reply)
        client = self._client()
        try:
            url = f"{self._base()}/reviews/{review_id}:reply"
            response = self._call(
                client, "POST", url, what="the reply", write=True, json_body={"replyText": reply.text}
            )
            try:
                result = response.json().get("result") or {}
            except (MalformedBodyError, AttributeError) as exc:
                raise ConnectorPermanentError(f"Google's answer to the reply is not JSON: {exc}") from exc
            return self._result(review_id, str(result.get("replyText") or reply.text), result.get("lastEdited"))
        finally:
            if self.http is None:
                client.close()

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """``reviews.get``: the reply is out when the review's developer answer is this text."""
        review_id = self._review_id(reply)
        client = self._client()
        try:
            response = self._call(client, "GET", f"{self._base()}/reviews/{review_id}", what="the review answered")
            try:
                review = response.json()
            except MalformedBodyError as exc:
                raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()
        _user, developer = play_comments(review if isinstance(review, dict) else {})
        if developer and str(developer.get("text") or "").strip() == reply.text.strip():
            return self._result(review_id, reply.text, developer.get("lastModified"))
        return None
