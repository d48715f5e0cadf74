"""pull_source: counts, cursor, health on transient and permanent errors, quarantine, replay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import PullResult, Rejected
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.models import Mention, QuarantineItem, QuarantineStatus
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import Source, SourceHealth
from resonanz.sources.pull import pull_source
from resonanz.sources.replay import do_replay
from resonanz.sources.schemas import SourceCreate
from tests.sources.fake_connector import FakeConnector, raw


def make_source(db: Database, interval_s: int = 600) -> int:
    with transaction(db.sessions) as s:
        return do_create_source(s, data=SourceCreate(name="f1", kind="fake", interval_s=interval_s)).id


def test_pull_stores_items_keeps_cursor_and_is_idempotent(db: Database, fake: type[FakeConnector]) -> None:
    sid = make_source(db)
    fake.script += [PullResult(items=[raw(1), raw(2)], cursor={"since": 2}), PullResult(items=[raw(1), raw(2)])]
    run = pull_source(db.sessions, source_id=sid, settings=db.settings)
    assert (run.status, run.new, run.duplicate, run.rejected) == ("ok", 2, 0, 0)
    again = pull_source(db.sessions, source_id=sid, settings=db.settings)
    assert (again.new, again.duplicate) == (0, 2)
    with db.sessions() as s:
        source = s.get(Source, sid)
        assert source is not None and source.health == SourceHealth.OK and source.last_success_at is not None
        assert source.next_pull_at is not None and source.next_pull_at > now() + timedelta(seconds=500)
        assert s.scalar(select(Mention).where(Mention.external_id == "1")).source_id == sid  # type: ignore[union-attr]


def test_transient_error_backs_off_with_retry_after(db: Database, fake: type[FakeConnector]) -> None:
    sid = make_source(db)
    fake.script.append(ConnectorTransientError("HTTP 429 Too Many Requests", retry_after=120))
    run = pull_source(db.sessions, source_id=sid, settings=db.settings)
    assert run.status == "failed" and "429" in (run.error or "")
    with db.sessions() as s:
        source = s.get(Source, sid)
        assert source is not None and source.health == SourceHealth.FAILING
        assert source.consecutive_failures == 1 and "429" in (source.last_error or "")
        assert source.next_pull_at is not None
        wait = (source.next_pull_at - now()).total_seconds()
        assert 100 < wait <= 121


def test_permanent_error_disables_source_with_reason(db: Database, fake: type[FakeConnector]) -> None:
    sid = make_source(db)
    fake.script.append(ConnectorPermanentError("HTTP 410 Gone: the feed was removed"))
    pull_source(db.sessions, source_id=sid, settings=db.settings)
    with db.sessions() as s:
        source = s.get(Source, sid)
        assert source is not None and source.health == SourceHealth.DISABLED
        assert source.next_pull_at is None and "410" in (source.last_error or "")


def test_bad_item_is_quarantined_rest_lands_then_replayed_after_fix(db: Database, fake: type[FakeConnector]) -> None:
    sid = make_source(db)
    bad = raw(3)
    bad = type(bad)(payload=b'{"id": 3, "body": "no text field"}', location="item 3")
    fake.script.append(PullResult(items=[raw(1), bad, raw(2)]))
    run = pull_source(db.sessions, source_id=sid, settings=db.settings)
    assert (run.status, run.new, run.rejected) == ("partial", 2, 1)
    with transaction(db.sessions) as s:
        (item,) = s.scalars(select(QuarantineItem)).all()
        assert item.location == "item 3" and "text" in item.reason and item.raw == bad.payload
        assert item.source_id == sid and item.stage == "parse"
        still = do_replay(s, items=[item], settings=db.settings)
        assert not still[0].ok and item.status == QuarantineStatus.PENDING and item.attempts == 1
        fake.strict = False  # "the fix": a parser that accepts the item
        fixed = do_replay(s, items=[item], settings=db.settings)
        assert fixed[0].ok and item.status == QuarantineStatus.REPLAYED and item.mention_id is not None
    with db.sessions() as s:
        assert s.scalar(select(Mention).where(Mention.external_id == "3")) is not None


def test_oversized_item_is_quarantined_and_replays_after_limit_raised(
    db: Database, fake: type[FakeConnector], settings: Settings
) -> None:
    sid = make_source(db)
    big = raw(9, text="x" * 5000)
    fake.script.append(PullResult(items=[raw(1), big]))
    small = settings.model_copy(update={"max_item_bytes": 1000})
    run = pull_source(db.sessions, source_id=sid, settings=small)
    assert (run.new, run.rejected) == (1, 1)
    with transaction(db.sessions) as s:
        (item,) = s.scalars(select(QuarantineItem)).all()
        assert "over the limit of 1,000" in item.reason
        assert do_replay(s, items=[item], settings=settings)[0].ok


def test_rejected_document_marks_source_failing_and_replays(db: Database, fake: type[FakeConnector]) -> None:
    sid = make_source(db)
    fake.script.append(
        PullResult(
            rejected=[
                Rejected(payload=b"<html>nope</html>", reason="not a feed: an HTML page", location="document",
                         stage="fetch", context={"level": "document"})
            ]
        )
    )  # fmt: skip
    run = pull_source(db.sessions, source_id=sid, settings=db.settings)
    assert run.rejected == 1
    with transaction(db.sessions) as s:
        source = s.get(Source, sid)
        assert source is not None and source.health == SourceHealth.FAILING
        assert "HTML" in (source.last_error or "")
        (item,) = s.scalars(select(QuarantineItem)).all()
        assert item.context["level"] == "document" and item.context["connector"] == "fake"
        # the fake's default split treats the document as one item, which fails to parse as JSON
        outcome = do_replay(s, items=[item], settings=db.settings)[0]
        assert not outcome.ok and "JSONDecodeError" in outcome.detail
