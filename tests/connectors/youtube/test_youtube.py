"""YouTube comments: parse, pull through the real pull job (paging, no gaps or duplicates, edits),
quota and disabled comments, search, replies and the lookup."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from youtube_world import CHANNEL, VIDEO, FakeYouTube, payload

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, RawItem
from resonanz.connectors.http_api import compact_json
from resonanz.connectors.youtube.connector import YouTubeConfig, YouTubeConnector, seconds_to_pacific_midnight
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.models import Mention
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import IngestRun, RunStatus, Source, SourceHealth
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import SourceCreate


def add_source(db: Database, **config: Any) -> int:
    with transaction(db.sessions) as session:
        return do_create_source(session, data=SourceCreate(name="yt", kind="youtube", config=config)).id


def pull(db: Database, settings: Settings, youtube: FakeYouTube, source_id: int) -> IngestRun:
    with youtube.client() as client:
        return pull_source(db.sessions, source_id=source_id, settings=settings, http=client)


def mentions(db: Database) -> dict[str, Mention]:
    with db.sessions() as session:
        return {m.external_id: m for m in session.scalars(select(Mention))}


def test_parse_maps_top_level_comments_and_replies_into_one_thread() -> None:
    thread = payload("comment_thread.json")
    top = thread["snippet"]["topLevelComment"]
    info = {k: v for k, v in thread["snippet"].items() if k != "topLevelComment"}
    m = YouTubeConnector.parse(RawItem(payload=compact_json({"comment": top, "thread": info}), location="x"))
    assert (m.external_id, m.thread_external_id, m.parent_external_id) == (top["id"], top["id"], None)
    assert m.text.startswith("Mein *Radwerk* E-Bike") and "<b>Radwerk</b>" in (m.html or "")
    assert m.author is not None and (m.author.handle, m.author.name) == ("UCa1b2c3d4e5f6g7h8i9j0kL", "@radlerin_kiel")
    assert (
        m.metrics == {"likes": 4, "replies": 1} and m.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={top['id']}"
    )
    reply = thread["replies"]["comments"][0]
    r = YouTubeConnector.parse(RawItem(payload=compact_json({"comment": reply}), location="y"))
    assert (r.parent_external_id, r.thread_external_id) == (top["id"], top["id"])


def test_channel_threads_are_paged_without_gaps_or_duplicates_and_edits_are_revisions(
    db: Database, yt_settings: Settings, youtube: FakeYouTube
) -> None:
    base = now() - timedelta(days=1)
    for n in range(1, 8):
        youtube.add(CHANNEL, n, at=base + timedelta(minutes=n))
    source_id = add_source(db, channel_id=CHANNEL)
    first = pull(db, yt_settings, youtube, source_id)
    assert (first.status, first.new) == (RunStatus.OK, 6)  # the first page only: 3 threads with a reply each
    for n in range(8, 15):  # 7 new threads: three pages
        youtube.add(CHANNEL, n, at=base + timedelta(minutes=n))
    youtube.add(CHANNEL, 7, at=base + timedelta(minutes=7), text="Geht wieder!", edited=base + timedelta(hours=2))
    second = pull(db, yt_settings, youtube, source_id)
    assert (second.new, second.updated, second.duplicate) == (14, 1, 0)
    assert pull(db, yt_settings, youtube, source_id).new == 0
    stored = mentions(db)
    assert stored[f"Ugz{7:020d}AaABAg"].revision == 2 and stored[f"Ugz{7:020d}AaABAg"].text == "Geht wieder!"
    tokens = [r.url.params.get("pageToken") for r in youtube.requests if r.url.path.endswith("commentThreads")]
    assert tokens[:4] == [None, None, "3", "6"]


def test_quota_is_transient_until_pacific_midnight_and_disabled_comments_are_skipped(
    db: Database, yt_settings: Settings, youtube: FakeYouTube
) -> None:
    youtube.add(VIDEO, 1, at=now() - timedelta(hours=1))
    source_id = add_source(db, video_ids=["abcdefghijk", VIDEO])  # comments are off on the first video
    run = pull(db, yt_settings, youtube, source_id)
    assert run.new == 2 and any("abcdefghijk skipped: commentsDisabled" in w for w in run.warnings)
    youtube.scripted.append(httpx.Response(403, json=payload("error_403_quota.json")))
    run = pull(db, yt_settings, youtube, source_id)
    assert run.status == RunStatus.FAILED and "quota used up (quotaExceeded)" in (run.error or "")
    with db.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None and source.health == SourceHealth.FAILING
    youtube.scripted.append(httpx.Response(400, json=payload("error_400_key.json")))
    assert "API key not valid" in (pull(db, yt_settings, youtube, source_id).error or "")


def test_a_malformed_page_is_quarantined_and_search_runs_only_when_due(
    db: Database, yt_settings: Settings, youtube: FakeYouTube
) -> None:
    youtube.search_results = [VIDEO]
    youtube.add(VIDEO, 1, at=now() - timedelta(hours=1))
    source_id = add_source(db, search_queries=["radwerk ebike"])
    assert pull(db, yt_settings, youtube, source_id).new == 2
    assert pull(db, yt_settings, youtube, source_id).new == 0
    assert sum(r.url.path.endswith("/search") for r in youtube.requests) == 1  # 100 units: not every pull
    youtube.scripted.append(httpx.Response(200, text="<html>busy</html>"))
    assert pull(db, yt_settings, youtube, source_id).rejected == 1


def test_pacific_midnight() -> None:
    from datetime import UTC, datetime

    assert seconds_to_pacific_midnight(datetime(2026, 11, 27, 7, 0, tzinfo=UTC)) == 3605  # 23:00 PST
    assert seconds_to_pacific_midnight(datetime(2026, 7, 1, 7, 30, tzinfo=UTC)) == 84605  # 00:30 PDT: 23.5 h


def connector(settings: Settings, youtube: FakeYouTube, **config: Any) -> YouTubeConnector:
    cfg = YouTubeConfig(channel_id=CHANNEL, client_id="123.apps.googleusercontent.com", **config)
    return YouTubeConnector(cfg, settings=settings, http=youtube.client())


def reply(text: str = "Danke, wir melden uns per DM.") -> OutgoingReply:
    return OutgoingReply(idempotency_key="outbox:5", created_at=now(), text=text,
                         in_reply_to="UgzDE2tasfmrYLyNkGt4AaABAg.9xYzAbCdEfG9xYzAbCdEfG")  # fmt: skip


def test_a_reply_goes_to_the_top_level_comment_and_can_be_found(yt_settings: Settings, youtube: FakeYouTube) -> None:
    store = connector(yt_settings, youtube)
    assert store.find_published(reply()) is None
    result = store.publish(reply())
    assert youtube.inserted[0]["snippet"]["parentId"] == "UgzDE2tasfmrYLyNkGt4AaABAg"  # threads are flat
    found = store.find_published(reply())
    assert found is not None and found.external_id == result.external_id


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(500), PublishOutcomeUnknownError),
        (httpx.ReadTimeout("slow"), PublishOutcomeUnknownError),
        (httpx.Response(429, headers={"Retry-After": "10"}), ConnectorTransientError),
        (httpx.Response(404, json={"error": {"code": 404}}), ConnectorPermanentError),
    ],
)
def test_reply_errors(yt_settings: Settings, youtube: FakeYouTube, answer: Any, error: type[Exception]) -> None:
    youtube.scripted.append(answer)
    with pytest.raises(error) as caught:
        connector(yt_settings, youtube).publish(reply())
    if error is not PublishOutcomeUnknownError:
        assert not isinstance(caught.value, PublishOutcomeUnknownError)


def test_replies_need_oauth(yt_settings: Settings, youtube: FakeYouTube, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTHER_TOKEN_X", "1//revoked")
    cfg = YouTubeConfig(channel_id=CHANNEL)
    with pytest.raises(ConnectorPermanentError, match="replies need client_id"):
        YouTubeConnector(cfg, settings=yt_settings, http=youtube.client()).publish(reply())
    with pytest.raises(ConnectorPermanentError, match="refresh token"):
        connector(yt_settings, youtube, refresh_token_env="OTHER_TOKEN_X").publish(reply())
