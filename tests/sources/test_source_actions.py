"""Source actions: config validation, push-only kinds never scheduled, enable/disable."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from resonanz.errors import ConfigError, ConflictError
from resonanz.sources.actions import do_create_source, do_update_source
from resonanz.sources.schemas import SourceCreate, SourceUpdate


@pytest.mark.parametrize(("kind", "config"), [("webhook", {}), ("file", {})])
def test_push_only_kinds_are_never_scheduled(session: Session, kind: str, config: dict[str, object]) -> None:
    source = do_create_source(session, data=SourceCreate(name=f"p-{kind}", kind=kind, config=config))
    assert source.enabled and source.next_pull_at is None
    do_update_source(session, source=source, data=SourceUpdate(enabled=False))
    do_update_source(session, source=source, data=SourceUpdate(enabled=True))
    assert source.next_pull_at is None


def test_feed_source_is_scheduled_and_disabling_unschedules(session: Session) -> None:
    source = do_create_source(
        session, data=SourceCreate(name="blog", kind="feed", config={"url": "https://blog.example/feed/"})
    )
    assert source.next_pull_at is not None
    do_update_source(session, source=source, data=SourceUpdate(enabled=False))
    assert source.next_pull_at is None and not source.enabled


def test_bad_config_names_the_field(session: Session) -> None:
    with pytest.raises(ConfigError, match="url"):
        do_create_source(session, data=SourceCreate(name="b", kind="feed", config={"url": "ftp://x.example/"}))
    do_create_source(session, data=SourceCreate(name="ok", kind="feed", config={"url": "https://x.example/"}))
    with pytest.raises(ConflictError):
        do_create_source(session, data=SourceCreate(name="ok", kind="feed", config={"url": "https://x.example/"}))
