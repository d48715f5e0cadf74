"""Map app-store reviews to mentions (pure; no I/O).

* **Google Play** (``kind googleplay``): one ``Review`` resource of the Android Publisher API
  (``reviewId``, ``authorName``, ``comments[]`` holding one ``userComment`` and, once answered, one
  ``developerComment``). The raw item is ``{"package": ..., "review": {...}}``. A review edited by
  its author comes back with a new ``lastModified`` and text and is stored as a new revision.
* **Apple App Store** (``kind appstore``): one ``entry`` of the public customer-reviews RSS feed
  in its JSON form (every value wrapped as ``{"label": ...}``). The raw item is
  ``{"app_id": ..., "country": ..., "entry": {...}}``.

A review is the root of its own thread; the developer's answer (Play) is kept in ``raw``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import normalize_whitespace

PLAY = "googleplay"
APPLE = "appstore"


def load(item: RawItem) -> dict[str, Any]:
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    if not isinstance(data, dict):
        raise ParseError("payload is not a JSON object", location=item.location)
    return data


def play_seconds(stamp: Any) -> float | None:
    """A ``Timestamp`` (``{"seconds": "1453978803", "nanos": 796000000}``) as Unix seconds."""
    if not isinstance(stamp, dict):
        return None
    try:
        return int(stamp.get("seconds")) + int(stamp.get("nanos") or 0) / 1e9  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def play_comments(review: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    user = developer = None
    for comment in review.get("comments") or []:
        if isinstance(comment, dict):
            user = comment.get("userComment") if isinstance(comment.get("userComment"), dict) else user
            developer = (
                comment.get("developerComment") if isinstance(comment.get("developerComment"), dict) else developer
            )
    return user, developer


def play_key(package: str, review_id: str) -> str:
    return f"{package}/{review_id}"


def parse_play(item: RawItem) -> MentionIn:
    data = load(item)
    package, review = str(data.get("package") or ""), data.get("review")
    if not package or not isinstance(review, dict) or not review.get("reviewId"):
        raise ParseError("payload has no package or review with a reviewId", location=item.location)
    user, developer = play_comments(review)
    if user is None:
        raise ParseError("the review has no userComment", location=item.location)
    seconds = play_seconds(user.get("lastModified"))
    if seconds is None:
        raise ParseError("the userComment has no lastModified time", location=item.location)
    text = normalize_whitespace(str(user.get("text") or ""))
    rating = user.get("starRating")
    if not text and not isinstance(rating, int):
        raise ParseError("the review has neither text nor a star rating", location=item.location)
    review_id = str(review["reviewId"])
    key = play_key(package, review_id)
    metrics = {"rating": rating} if isinstance(rating, int) else {}
    for name, field in (("thumbs_up", "thumbsUpCount"), ("thumbs_down", "thumbsDownCount")):
        if isinstance(user.get(field), int):
            metrics[name] = user[field]
    author = normalize_whitespace(str(review.get("authorName") or "")) or "A Google user"
    language = user.get("reviewerLanguage")
    return MentionIn(
        platform=PLAY,
        external_id=key,
        kind=MentionKind.REVIEW,
        url=f"https://play.google.com/store/apps/details?id={package}&reviewId={review_id}",
        author=AuthorIn(handle=f"googleplay:{author}"[:300], name=author[:300]),
        thread_external_id=key,
        published_at=datetime.fromtimestamp(seconds, tz=UTC),
        text=text,
        language_hint=str(language).replace("_", "-")[:20] if language else None,
        metrics=metrics,
        raw={"package": package, "review": review, "answered": developer is not None},
    )


def label(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name)
    if isinstance(value, dict):
        return str(value.get("label") or "")
    return ""


def apple_time(value: str) -> datetime | None:
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def apple_key(app_id: str, review_id: str) -> str:
    return f"{app_id}/{review_id}"


def parse_apple(item: RawItem) -> MentionIn:
    data = load(item)
    app_id, entry = str(data.get("app_id") or ""), data.get("entry")
    if not app_id or not isinstance(entry, dict):
        raise ParseError("payload has no app_id or entry", location=item.location)
    review_id = label(entry, "id")
    updated = apple_time(label(entry, "updated"))
    if not review_id or updated is None:
        raise ParseError("the entry has no id or no readable 'updated' time", location=item.location)
    text = normalize_whitespace(label(entry, "content"))
    try:
        rating = int(label(entry, "im:rating"))
    except ValueError as exc:
        raise ParseError(
            "the entry has no im:rating (the app's own entry, not a review)", location=item.location
        ) from exc
    found = entry.get("author")
    author: dict[str, Any] = found if isinstance(found, dict) else {}
    name = normalize_whitespace(label(author, "name")) or "App Store user"
    uri = label(author, "uri")
    link = entry.get("link")
    href = link.get("attributes", {}).get("href") if isinstance(link, dict) else None
    key = apple_key(app_id, review_id)
    return MentionIn(
        platform=APPLE,
        external_id=key,
        kind=MentionKind.REVIEW,
        url=str(href) if href else None,
        author=AuthorIn(handle=(uri or f"appstore:{name}")[:300], name=name[:300], url=uri or None),
        thread_external_id=key,
        published_at=updated,
        title=normalize_whitespace(label(entry, "title")) or None,
        text=text,
        language_hint=None,
        metrics={"rating": rating, "votes": int(label(entry, "im:voteCount") or 0)},
        raw={"app_id": app_id, "country": data.get("country"), "entry": entry, "version": label(entry, "im:version")},
    )
