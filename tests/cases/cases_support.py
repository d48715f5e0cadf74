"""Factories for case tests: authors and analysed mentions inserted with the models (fast, and
independent of the ingest path), and an actor for a user id."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, TeamMember, User
from resonanz.cases.collab import audit_actor
from resonanz.mentions.models import Author, Mention

_seq = itertools.count(1)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_author(session: Session, *, handle: str | None = None, platform: str = "mastodon", **kw: Any) -> Author:
    n = next(_seq)
    author = Author(platform=platform, handle=handle or f"kunde{n}", first_seen_at=T0, last_seen_at=T0, **kw)
    session.add(author)
    session.flush()
    return author


def make_mention(
    session: Session,
    *,
    text: str = "Wo bleibt meine Bestellung?",
    author: Author | None = None,
    platform: str = "mastodon",
    minutes: int = 0,
    thread: str | None = None,
    parent: str | None = None,
    intent: str | None = "question",
    sentiment: str | None = "neutral",
    needs_response: bool | None = True,
    lang: str | None = "de",
    **kw: Any,
) -> Mention:
    n = next(_seq)
    author = author or make_author(session, platform=platform)
    stamp = T0 + timedelta(minutes=minutes)
    mention = Mention(
        platform=platform, external_id=kw.pop("external_id", f"x{n}"), published_at=stamp, fetched_at=stamp,
        updated_at=stamp, text=text, content_hash=f"h{n}", revision_hash=f"r{n}", author_id=author.id,
        thread_external_id=thread, parent_external_id=parent, intent=intent, sentiment=sentiment,
        needs_response=needs_response, lang=lang, **kw,
    )  # fmt: skip
    session.add(mention)
    session.flush()
    return mention


def make_team(session: Session, name: str, *members: User) -> Team:
    team = Team(name=name, kind="team")
    session.add(team)
    session.flush()
    for user in members:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
    session.flush()
    return team


def actor(user: User) -> Any:
    return audit_actor(user.id)
